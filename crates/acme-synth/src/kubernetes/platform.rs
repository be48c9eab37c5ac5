//! Cluster-wide objects, applied once by a cluster admin (`cluster.admins`), since the CI role
//! may not write them:
//!
//! - **`amazon-vpc-cni` ConfigMap** in `kube-system` with `enable-network-policy-controller:
//!   "true"`. EKS Auto Mode enforces NetworkPolicies only once this exists (AWS, "Use Network
//!   Policies with EKS Auto Mode"). Without it every policy acmectl writes is accepted and
//!   silently ignored. Auto Mode's default NodeClass keeps `networkPolicy: DefaultAllow`, so a
//!   pod no policy selects stays open: that is why every namespace acmectl owns gets a default
//!   deny of its own ([`super::namespace`]).
//! - **Deployer RBAC**: the CI role's access entry puts it in the Kubernetes group
//!   [`names::DEPLOYER_GROUP`] and gives it `AmazonEKSEditPolicy` on the service namespaces
//!   (cluster stack). Edit already covers Deployments, Services, ServiceAccounts, ConfigMaps,
//!   NetworkPolicies, HPAs and PDBs. What it lacks, and what this ClusterRole grants the group,
//!   is exactly: creating and patching Namespace objects, and writing Auto Mode's
//!   `TargetGroupBinding`s and `ApplicationNetworkPolicy`s. Nothing is deleted through it but
//!   those two kinds (a binding or policy of a removed route or bucket); namespaces are deleted
//!   by an admin, since that deletes everything in them.
//!
//!   It is bound cluster-wide so that adding a service in a new namespace needs no admin. The
//!   cost: the group could write those two kinds in any namespace. A binding only registers
//!   pods into target groups tagged with this cluster's name (the edge stack's), and the CI role
//!   can already change what runs in every service namespace.

use super::crd::{ApplicationNetworkPolicy, TargetGroupBinding};
use super::platform_labels;
use crate::stacks::names;
use acme_spec::Platform;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// The ConfigMap Auto Mode reads to switch its network policy controller on.
pub const VPC_CNI_CONFIG_MAP: &str = "amazon-vpc-cni";
pub const ENABLE_NETWORK_POLICY_KEY: &str = "enable-network-policy-controller";
/// Name of the ClusterRole and ClusterRoleBinding of the deployer group.
pub const DEPLOYER_ROLE: &str = "acmectl-deployer";

pub fn objects(p: &Platform) -> Vec<super::Object> {
    vec![
        super::Object::ConfigMap(network_policy_switch(p)),
        super::Object::ClusterRole(deployer_role(p)),
        super::Object::ClusterRoleBinding(deployer_binding(p)),
    ]
}

fn network_policy_switch(p: &Platform) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(VPC_CNI_CONFIG_MAP.into()),
            namespace: Some("kube-system".into()),
            labels: Some(platform_labels(p)),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(ENABLE_NETWORK_POLICY_KEY.to_owned(), "true".to_owned())])),
        ..ConfigMap::default()
    }
}

fn rule(group: &str, resource: &str, verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(vec![resource.to_owned()]),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

/// Verbs server-side apply and pruning need on an object kind.
const APPLY_AND_PRUNE: [&str; 7] = ["create", "delete", "get", "list", "patch", "update", "watch"];

fn cluster_scoped(p: &Platform, name: &str) -> ObjectMeta {
    ObjectMeta { name: Some(name.into()), labels: Some(platform_labels(p)), ..ObjectMeta::default() }
}

fn deployer_role(p: &Platform) -> ClusterRole {
    ClusterRole {
        metadata: cluster_scoped(p, DEPLOYER_ROLE),
        rules: Some(vec![
            // Server-side apply creates a namespace that is missing and patches one that is not.
            rule("", "namespaces", &["create", "get", "patch"]),
            rule(TargetGroupBinding::GROUP, TargetGroupBinding::PLURAL, &APPLY_AND_PRUNE),
            rule(ApplicationNetworkPolicy::GROUP, ApplicationNetworkPolicy::PLURAL, &APPLY_AND_PRUNE),
        ]),
        ..ClusterRole::default()
    }
}

fn deployer_binding(p: &Platform) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: cluster_scoped(p, DEPLOYER_ROLE),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "ClusterRole".into(),
            name: DEPLOYER_ROLE.into(),
        },
        subjects: Some(vec![Subject {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Group".into(),
            name: names::DEPLOYER_GROUP.into(),
            namespace: None,
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture() -> Vec<super::super::Object> {
        objects(&acme_spec::fixture::acme())
    }

    #[test]
    fn network_policy_enforcement_is_switched_on() {
        let v = fixture()[0].to_value();
        assert_eq!(v["kind"], "ConfigMap");
        assert_eq!(v["metadata"]["name"], "amazon-vpc-cni");
        assert_eq!(v["metadata"]["namespace"], "kube-system");
        assert_eq!(v["data"], json!({ "enable-network-policy-controller": "true" }));
    }

    #[test]
    fn deployers_get_exactly_what_edit_lacks() {
        let role = fixture()[1].to_value();
        assert_eq!(
            role["rules"],
            json!([
                { "apiGroups": [""], "resources": ["namespaces"], "verbs": ["create", "get", "patch"] },
                { "apiGroups": ["eks.amazonaws.com"], "resources": ["targetgroupbindings"], "verbs": APPLY_AND_PRUNE },
                { "apiGroups": ["networking.k8s.aws"], "resources": ["applicationnetworkpolicies"], "verbs": APPLY_AND_PRUNE },
            ])
        );
        assert!(!role.to_string().contains('*'), "no wildcards");
        let verbs: Vec<&str> = role["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["verbs"].as_array().into_iter().flatten().filter_map(|v| v.as_str()))
            .collect();
        for verb in ["escalate", "bind", "impersonate", "deletecollection"] {
            assert!(!verbs.contains(&verb), "{verb}");
        }
    }

    #[test]
    fn the_binding_names_the_group_of_the_ci_access_entry() {
        let binding = fixture()[2].to_value();
        assert_eq!(
            binding["roleRef"],
            json!({ "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "acmectl-deployer" })
        );
        assert_eq!(
            binding["subjects"],
            json!([{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": names::DEPLOYER_GROUP }])
        );
    }
}
