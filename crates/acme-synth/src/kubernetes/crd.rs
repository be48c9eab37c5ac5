//! Typed structs for the custom resources acmectl writes, which k8s-openapi does not carry.
//! Both belong to EKS Auto Mode's built-in controllers, so nothing has to be installed for
//! them to be reconciled:
//!
//! - [`TargetGroupBinding`] (`eks.amazonaws.com/v1`): Auto Mode's load balancing registers the
//!   pods behind a Service into a target group that CloudFormation owns (the edge stack). It is
//!   not the open-source controller's `elbv2.k8s.aws` kind, which nothing reconciles on Auto Mode.
//! - [`ApplicationNetworkPolicy`] (`networking.k8s.aws/v1alpha1`): Auto Mode's network policy
//!   with DNS-name peers, for egress to S3 by bucket name instead of to S3's whole address space.
//!
//! Field names are the CRDs' own (`targetGroupARN`, `domainNames`).

use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Serialize;
use serde::ser::SerializeStruct;

/// Serializes `apiVersion` and `kind` first, as k8s-openapi's own types do.
fn serialize_object<S: serde::Serializer, T: Serialize>(
    serializer: S,
    api_version: &str,
    kind: &'static str,
    metadata: &ObjectMeta,
    spec: &T,
) -> Result<S::Ok, S::Error> {
    let mut state = serializer.serialize_struct(kind, 4)?;
    state.serialize_field("apiVersion", api_version)?;
    state.serialize_field("kind", kind)?;
    state.serialize_field("metadata", metadata)?;
    state.serialize_field("spec", spec)?;
    state.end()
}

/// Binds a Service's pods to a target group created outside Kubernetes.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetGroupBinding {
    pub metadata: ObjectMeta,
    pub spec: TargetGroupBindingSpec,
}

impl TargetGroupBinding {
    pub const API_VERSION: &'static str = "eks.amazonaws.com/v1";
    pub const GROUP: &'static str = "eks.amazonaws.com";
    pub const KIND: &'static str = "TargetGroupBinding";
    pub const PLURAL: &'static str = "targetgroupbindings";
}

impl Serialize for TargetGroupBinding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_object(serializer, Self::API_VERSION, Self::KIND, &self.metadata, &self.spec)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupBindingSpec {
    pub service_ref: ServiceReference,
    #[serde(rename = "targetGroupARN")]
    pub target_group_arn: String,
    /// `ip`: pods are registered by their VPC address (the target groups are of type `ip`).
    pub target_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceReference {
    pub name: String,
    pub port: IntOrString,
}

/// A namespaced network policy whose egress peers may be DNS names. Auto Mode resolves the
/// allowed names through its node-local DNS proxy and admits exactly the addresses it returned,
/// for their TTL.
#[derive(Clone, Debug, PartialEq)]
pub struct ApplicationNetworkPolicy {
    pub metadata: ObjectMeta,
    pub spec: ApplicationNetworkPolicySpec,
}

impl ApplicationNetworkPolicy {
    pub const API_VERSION: &'static str = "networking.k8s.aws/v1alpha1";
    pub const GROUP: &'static str = "networking.k8s.aws";
    pub const KIND: &'static str = "ApplicationNetworkPolicy";
    pub const PLURAL: &'static str = "applicationnetworkpolicies";
}

impl Serialize for ApplicationNetworkPolicy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_object(serializer, Self::API_VERSION, Self::KIND, &self.metadata, &self.spec)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationNetworkPolicySpec {
    pub pod_selector: LabelSelector,
    pub policy_types: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<ApplicationNetworkPolicyEgressRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApplicationNetworkPolicyEgressRule {
    pub to: Vec<ApplicationNetworkPolicyPeer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<NetworkPolicyPort>,
}

/// One peer: DNS names (exact, or `*.` patterns) or an address block.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationNetworkPolicyPeer {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domain_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IPBlock>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn target_group_binding_serializes_with_the_crd_field_names() {
        let tgb = TargetGroupBinding {
            metadata: ObjectMeta { name: Some("web".into()), ..ObjectMeta::default() },
            spec: TargetGroupBindingSpec {
                service_ref: ServiceReference { name: "web".into(), port: IntOrString::Int(8080) },
                target_group_arn: "arn:x".into(),
                target_type: "ip".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&tgb).expect("serializes"),
            json!({
                "apiVersion": "eks.amazonaws.com/v1",
                "kind": "TargetGroupBinding",
                "metadata": { "name": "web" },
                "spec": { "serviceRef": { "name": "web", "port": 8080 }, "targetGroupARN": "arn:x", "targetType": "ip" }
            })
        );
    }

    #[test]
    fn application_network_policy_serializes_domain_names() {
        let anp = ApplicationNetworkPolicy {
            metadata: ObjectMeta { name: Some("p".into()), ..ObjectMeta::default() },
            spec: ApplicationNetworkPolicySpec {
                pod_selector: LabelSelector::default(),
                policy_types: vec!["Egress".into()],
                egress: vec![ApplicationNetworkPolicyEgressRule {
                    to: vec![ApplicationNetworkPolicyPeer {
                        domain_names: vec!["a.example.com".into()],
                        ip_block: None,
                    }],
                    ports: vec![],
                }],
            },
        };
        let v = serde_json::to_value(&anp).expect("serializes");
        assert_eq!(v["apiVersion"], "networking.k8s.aws/v1alpha1");
        assert_eq!(v["spec"]["egress"], json!([{ "to": [{ "domainNames": ["a.example.com"] }] }]));
        assert_eq!(v["spec"]["podSelector"], json!({}));
    }
}
