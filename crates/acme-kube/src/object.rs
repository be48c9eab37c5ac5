//! Objects as acmectl applies them: any JSON object with `apiVersion`, `kind` and
//! `metadata.name`, so the adapter needs none of the synthesizer's types.

use crate::Error;
use kube::core::GroupVersionKind;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Label naming the tool that manages an object. acmectl prunes only what carries it.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`] on acmectl's objects; also its field manager.
pub const MANAGED_BY: &str = "acmectl";
/// Label naming the platform (acme.yaml `name`) an object belongs to, so that two platforms
/// in one cluster never prune each other's objects.
pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";

/// Which object: enough to address it in the API and to name it in messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// Reads the reference of `object`, the `index`-th object given (for messages).
    pub fn of(object: &Value, index: usize) -> Result<Self, Error> {
        let invalid = |message: &str| Error::InvalidObject { index, message: message.to_owned() };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        if !object.is_object() {
            return Err(invalid("not a JSON object"));
        }
        let api_version = text(object.get("apiVersion")).ok_or_else(|| invalid("no apiVersion"))?;
        let kind = text(object.get("kind")).ok_or_else(|| invalid("no kind"))?;
        let metadata = object.get("metadata");
        let name = text(metadata.and_then(|m| m.get("name"))).ok_or_else(|| invalid("no metadata.name"))?;
        let namespace = text(metadata.and_then(|m| m.get("namespace")));
        Ok(ObjectRef { api_version, kind, namespace, name })
    }

    /// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
    pub fn group_version(&self) -> (&str, &str) {
        self.api_version.split_once('/').unwrap_or(("", &self.api_version))
    }

    pub fn gvk(&self) -> GroupVersionKind {
        let (group, version) = self.group_version();
        GroupVersionKind::gvk(group, version, &self.kind)
    }
}

/// `Deployment api/web`, or `Namespace api` for a cluster-scoped object.
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Kinds in the order they are applied; kinds not listed come last. What others refer to
/// comes first: namespaces hold everything, CRDs define kinds, RBAC and ServiceAccounts are
/// what pods run as. Network policies come before the workloads, so that no pod of a new
/// service ever runs without its policies. TargetGroupBindings come after the Services they
/// bind. Deletions run in the reverse order.
pub const APPLY_ORDER: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "NetworkPolicy",
    "ApplicationNetworkPolicy",
    "Service",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
];

/// Position of `kind` in [`APPLY_ORDER`].
pub fn apply_rank(kind: &str) -> usize {
    APPLY_ORDER.iter().position(|k| *k == kind).unwrap_or(APPLY_ORDER.len())
}

/// Every kind acmectl creates, as (`apiVersion`, `kind`): where pruning looks for objects it
/// no longer synthesizes. A kind that stops being synthesized stays here, or its last objects
/// would never be pruned.
pub const MANAGED_KINDS: &[(&str, &str)] = &[
    ("v1", "Namespace"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("v1", "ConfigMap"),
    ("v1", "ServiceAccount"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.aws/v1alpha1", "ApplicationNetworkPolicy"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("eks.amazonaws.com/v1", "TargetGroupBinding"),
];

/// What to do when the cluster does not serve a kind. The kinds acmectl knows to come from
/// an add-on or a cluster feature get the exact way out.
pub(crate) fn missing_kind_help(api_version: &str, kind: &str) -> String {
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    match group {
        "eks.amazonaws.com" => format!(
            "{kind} in {group} is served by EKS Auto Mode's load balancing; enable Auto Mode \
             (computeConfig, kubernetesNetworkConfig.elasticLoadBalancing and storageConfig.blockStorage, all three) on the cluster"
        ),
        "elbv2.k8s.aws" => format!("{kind} in {group} comes with the AWS Load Balancer Controller; install it first"),
        "networking.k8s.aws" => format!(
            "{kind} in {group} comes with the VPC CNI's network policy support (EKS Auto Mode, or the \
             vpc-cni add-on with enableNetworkPolicy); enable it on the cluster"
        ),
        _ => format!(
            "install the CustomResourceDefinition of {kind}, or use a cluster version that serves {api_version}"
        ),
    }
}

/// Puts acmectl's ownership labels on `object`, so pruning can find it later. A label that is
/// already there must already say the same.
pub(crate) fn label(object: &mut Value, id: &ObjectRef, platform: &str) -> Result<(), Error> {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        unreachable!("ObjectRef::of checked metadata.name");
    };
    let labels = metadata.entry("labels").or_insert_with(|| Value::Object(Default::default()));
    let Some(labels) = labels.as_object_mut() else {
        return Err(Error::InvalidObject { index: 0, message: format!("{id}: metadata.labels is not a map") });
    };
    for (label, expected) in [(MANAGED_BY_LABEL, MANAGED_BY), (PART_OF_LABEL, platform)] {
        match labels.get(label) {
            None => {
                labels.insert(label.to_owned(), Value::String(expected.to_owned()));
            }
            Some(Value::String(found)) if found == expected => {}
            Some(found) => {
                let found = found.as_str().map_or_else(|| found.to_string(), str::to_owned);
                return Err(Error::Ownership { object: id.to_string(), label, found, expected: expected.to_owned() });
            }
        }
    }
    Ok(())
}

/// The label selector of the objects acmectl owns for `platform`.
pub fn owned_selector(platform: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY},{PART_OF_LABEL}={platform}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_references_and_rejects_incomplete_objects() {
        let deployment =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}});
        let id = ObjectRef::of(&deployment, 0).unwrap();
        assert_eq!(id.to_string(), "Deployment shop/web");
        assert_eq!(id.group_version(), ("apps", "v1"));
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        let id = ObjectRef::of(&namespace, 0).unwrap();
        assert_eq!((id.to_string(), id.group_version()), ("Namespace shop".into(), ("", "v1")));

        let err = ObjectRef::of(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}), 3).unwrap_err();
        assert_eq!(err.to_string(), "object #3 cannot be applied: no metadata.name");
        assert!(ObjectRef::of(&json!({"kind": "ConfigMap"}), 0).is_err());
        assert!(ObjectRef::of(&json!([]), 0).is_err());
    }

    #[test]
    fn namespaces_and_policies_come_before_workloads_and_unknown_kinds_last() {
        assert!(apply_rank("Namespace") < apply_rank("ServiceAccount"));
        assert!(apply_rank("NetworkPolicy") < apply_rank("Deployment"));
        assert!(apply_rank("Service") < apply_rank("TargetGroupBinding"));
        assert_eq!(apply_rank("TargetGroupBinding"), APPLY_ORDER.len());
    }

    #[test]
    fn labels_are_added_or_must_agree() {
        let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        let id = ObjectRef::of(&object, 0).unwrap();
        label(&mut object, &id, "acme").unwrap();
        assert_eq!(object["metadata"]["labels"][MANAGED_BY_LABEL], "acmectl");
        assert_eq!(object["metadata"]["labels"][PART_OF_LABEL], "acme");
        label(&mut object, &id, "acme").unwrap();

        let err = label(&mut object, &id, "other").unwrap_err();
        assert!(matches!(err, Error::Ownership { label: PART_OF_LABEL, .. }), "{err}");
    }

    #[test]
    fn auto_mode_kinds_say_how_to_get_them() {
        assert!(missing_kind_help("eks.amazonaws.com/v1", "TargetGroupBinding").contains("Auto Mode"));
        assert!(missing_kind_help("example.com/v1", "Widget").contains("CustomResourceDefinition"));
    }
}
