//! The in-cluster half of the platform: every microservice's Kubernetes objects, hardened, with
//! network policies derived from acme.yaml. [`manifests`] is pure, like the stacks: the same
//! platform and [`Values`] give the same objects, byte for byte once rendered.
//!
//! Files (`out/kubernetes/`), applied in this order:
//!
//! - `platform.yaml`: what is shared. The `amazon-vpc-cni` ConfigMap that switches network
//!   policy enforcement on ([`platform`]), the deployer RBAC, and every namespace acmectl owns
//!   with its default deny and DNS allowance ([`namespace`], [`network_policy`]). The
//!   cluster-scoped RBAC and the ConfigMap in `kube-system` need a cluster admin
//!   (`cluster.admins`) once; the CI role applies the rest.
//! - `<service>.yaml`: the service's ServiceAccount and Deployment ([`workload`]), Service and
//!   TargetGroupBindings ([`service`]), HorizontalPodAutoscaler and PodDisruptionBudget
//!   ([`scaling`]) and its network policies ([`network_policy`]).
//!
//! Values that exist only once the stacks are deployed, or at deploy time (the image digest),
//! come from [`Values`]; `acmectl synth` shows them as `${stack.Output}` placeholders.
//!
//! Every object is a typed struct: k8s-openapi (API of Kubernetes 1.30, the oldest version
//! acme.yaml accepts, so no newer field can slip in) or the typed CRDs of [`crd`].
//! [`reach`] evaluates the network policies: who may reach whom, on which port.

pub mod crd;
pub mod namespace;
pub mod network_policy;
pub mod platform;
pub mod reach;
pub mod scaling;
pub mod service;
pub mod values;
pub mod workload;

pub use crd::{ApplicationNetworkPolicy, TargetGroupBinding};
pub use values::{ImageRef, Values};

use crate::StackName;
use crate::stacks::edge::Target;
use acme_spec::{Platform, Service};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service as KubeService, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;
use std::collections::BTreeMap;

/// Standard label: which workload an object belongs to; also the pod selector of a service.
pub const NAME_LABEL: &str = "app.kubernetes.io/name";
/// Standard label: the platform an object belongs to.
pub const PART_OF_LABEL: &str = "app.kubernetes.io/part-of";
/// Standard label: who manages the object. The deploy prunes only what carries it.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "acmectl";
/// Label Kubernetes puts on every namespace (its name); network policies select by it.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Annotation on every network policy that allows something: the acme.yaml fields it derives
/// from, as field paths (`services[0].talks_to[0]`), comma-separated. A policy is never
/// hand-written; this says which line of the file asked for it.
pub const DERIVED_FROM: &str = "acmectl/derived-from";

/// One Kubernetes object of the platform.
// A Deployment is much larger than a Namespace; objects are built once per run and held in a
// Vec, so boxing it would only add an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    ConfigMap(ConfigMap),
    ClusterRole(ClusterRole),
    ClusterRoleBinding(ClusterRoleBinding),
    Namespace(Namespace),
    NetworkPolicy(NetworkPolicy),
    ApplicationNetworkPolicy(ApplicationNetworkPolicy),
    ServiceAccount(ServiceAccount),
    Deployment(Deployment),
    Service(KubeService),
    TargetGroupBinding(TargetGroupBinding),
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
    PodDisruptionBudget(PodDisruptionBudget),
}

impl Object {
    pub fn kind(&self) -> &'static str {
        use k8s_openapi::Resource;
        match self {
            Object::ConfigMap(_) => ConfigMap::KIND,
            Object::ClusterRole(_) => ClusterRole::KIND,
            Object::ClusterRoleBinding(_) => ClusterRoleBinding::KIND,
            Object::Namespace(_) => Namespace::KIND,
            Object::NetworkPolicy(_) => NetworkPolicy::KIND,
            Object::ApplicationNetworkPolicy(_) => ApplicationNetworkPolicy::KIND,
            Object::ServiceAccount(_) => ServiceAccount::KIND,
            Object::Deployment(_) => Deployment::KIND,
            Object::Service(_) => KubeService::KIND,
            Object::TargetGroupBinding(_) => TargetGroupBinding::KIND,
            Object::HorizontalPodAutoscaler(_) => HorizontalPodAutoscaler::KIND,
            Object::PodDisruptionBudget(_) => PodDisruptionBudget::KIND,
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Object::ConfigMap(o) => &o.metadata,
            Object::ClusterRole(o) => &o.metadata,
            Object::ClusterRoleBinding(o) => &o.metadata,
            Object::Namespace(o) => &o.metadata,
            Object::NetworkPolicy(o) => &o.metadata,
            Object::ApplicationNetworkPolicy(o) => &o.metadata,
            Object::ServiceAccount(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::TargetGroupBinding(o) => &o.metadata,
            Object::HorizontalPodAutoscaler(o) => &o.metadata,
            Object::PodDisruptionBudget(o) => &o.metadata,
        }
    }

    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// `Kind namespace/name` (or `Kind name` for cluster-scoped objects), for messages.
    pub fn id(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{} {ns}/{}", self.kind(), self.name()),
            None => format!("{} {}", self.kind(), self.name()),
        }
    }

    /// The object as JSON, `apiVersion` and `kind` first.
    pub fn to_value(&self) -> Value {
        let value = match self {
            Object::ConfigMap(o) => serde_json::to_value(o),
            Object::ClusterRole(o) => serde_json::to_value(o),
            Object::ClusterRoleBinding(o) => serde_json::to_value(o),
            Object::Namespace(o) => serde_json::to_value(o),
            Object::NetworkPolicy(o) => serde_json::to_value(o),
            Object::ApplicationNetworkPolicy(o) => serde_json::to_value(o),
            Object::ServiceAccount(o) => serde_json::to_value(o),
            Object::Deployment(o) => serde_json::to_value(o),
            Object::Service(o) => serde_json::to_value(o),
            Object::TargetGroupBinding(o) => serde_json::to_value(o),
            Object::HorizontalPodAutoscaler(o) => serde_json::to_value(o),
            Object::PodDisruptionBudget(o) => serde_json::to_value(o),
        };
        value.unwrap_or_else(|e| unreachable!("Kubernetes objects serialize: {e}"))
    }
}

/// Every Kubernetes object of the platform, grouped by the file it is written to.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifests {
    /// Shared objects: `platform.yaml`.
    pub platform: Vec<Object>,
    /// Each service's objects, in acme.yaml order: `<service>.yaml`.
    pub services: Vec<(String, Vec<Object>)>,
}

impl Manifests {
    /// Every object, platform first.
    pub fn objects(&self) -> impl Iterator<Item = &Object> {
        self.platform.iter().chain(self.services.iter().flat_map(|(_, objects)| objects))
    }

    /// The objects of one service.
    pub fn service(&self, name: &str) -> Option<&[Object]> {
        self.services.iter().find(|(s, _)| s == name).map(|(_, objects)| objects.as_slice())
    }

    /// Rendered files by path relative to the output folder: `kubernetes/<file>.yaml`, each a
    /// multi-document YAML stream in apply order.
    pub fn files(&self) -> BTreeMap<String, String> {
        let render = |objects: &[Object]| {
            let values: Vec<Value> = objects.iter().map(Object::to_value).collect();
            acme_cfn::yaml::to_documents(&values)
        };
        let mut files = BTreeMap::new();
        files.insert("kubernetes/platform.yaml".to_owned(), render(&self.platform));
        for (service, objects) in &self.services {
            files.insert(format!("kubernetes/{service}.yaml"), render(objects));
        }
        files
    }
}

/// The Kubernetes objects of the whole platform.
pub fn manifests(p: &Platform, values: &Values) -> Manifests {
    let mut shared = platform::objects(p);
    shared.extend(namespace::objects(p));
    let shards = crate::stacks::shards::plan(p);
    let mut targets: BTreeMap<&str, Vec<Target<'_>>> = BTreeMap::new();
    for t in crate::stacks::edge::targets(p) {
        targets.entry(t.service.name.as_str()).or_default().push(t);
    }
    let services = p
        .services
        .iter()
        .map(|s| {
            let mut objects = workload::objects(p, s, values);
            let edge = StackName::Edge(shards.of_service(&s.name).unwrap_or(0));
            objects.extend(service::objects(
                p,
                s,
                targets.get(s.name.as_str()).map_or(&[], Vec::as_slice),
                edge,
                values,
            ));
            objects.extend(scaling::objects(p, s));
            objects.extend(network_policy::service_policies(p, s, values));
            (s.name.clone(), objects)
        })
        .collect();
    Manifests { platform: shared, services }
}

/// Labels every object of the platform carries.
pub fn platform_labels(p: &Platform) -> BTreeMap<String, String> {
    BTreeMap::from([(MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned()), (PART_OF_LABEL.to_owned(), p.name.clone())])
}

/// Labels of a service's objects and pods.
pub fn service_labels(p: &Platform, s: &Service) -> BTreeMap<String, String> {
    let mut labels = platform_labels(p);
    labels.insert(NAME_LABEL.to_owned(), s.name.clone());
    labels
}

/// Selects the pods of one service. Only the name: a selector is immutable on a Deployment, so
/// it holds nothing that could change.
pub fn pod_selector(s: &Service) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([(NAME_LABEL.to_owned(), s.name.clone())])),
        ..LabelSelector::default()
    }
}

/// Metadata of an object of a service, in the service's namespace.
pub fn service_meta(p: &Platform, s: &Service, name: impl Into<String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(s.namespace.clone()),
        labels: Some(service_labels(p, s)),
        ..ObjectMeta::default()
    }
}

/// `CKV_K8S_<n>` skips as checkov reads them: `checkov.io/skip<i>: <check>=<reason>`.
pub fn checkov_skips(skips: &[(&str, &str)]) -> BTreeMap<String, String> {
    skips
        .iter()
        .enumerate()
        .map(|(i, (check, reason))| (format!("checkov.io/skip{}", i + 1), format!("{check}={reason}")))
        .collect()
}

/// An environment-variable-safe form of a DNS label: `user-api` → `USER_API`.
pub fn env_name(label: &str) -> String {
    label.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Manifests {
        manifests(&acme_spec::fixture::acme(), &Values::placeholders())
    }

    #[test]
    fn one_file_per_service_and_one_for_the_platform() {
        let files = fixture().files();
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "kubernetes/api.yaml",
                "kubernetes/auth.yaml",
                "kubernetes/chat.yaml",
                "kubernetes/platform.yaml",
                "kubernetes/web.yaml"
            ]
        );
        for (path, text) in &files {
            assert!(text.starts_with("---\napiVersion: "), "{path}");
        }
    }

    #[test]
    fn the_same_platform_renders_byte_identical_files() {
        assert_eq!(fixture().files(), fixture().files());
    }

    #[test]
    fn every_object_is_labelled_as_acmectl_s_and_named() {
        for o in fixture().objects() {
            let labels = o.metadata().labels.clone().unwrap_or_default();
            assert_eq!(labels.get(MANAGED_BY_LABEL).map(String::as_str), Some("acmectl"), "{}", o.id());
            assert_eq!(labels.get(PART_OF_LABEL).map(String::as_str), Some("acme"), "{}", o.id());
            assert!(!o.name().is_empty());
        }
    }

    #[test]
    fn a_service_file_holds_its_objects_in_apply_order() {
        let m = fixture();
        let kinds: Vec<String> =
            m.service("api").expect("api").iter().map(|o| format!("{} {}", o.kind(), o.name())).collect();
        assert_eq!(
            kinds,
            [
                "ServiceAccount api",
                "Deployment api",
                "Service api",
                "TargetGroupBinding api",
                "HorizontalPodAutoscaler api",
                "PodDisruptionBudget api",
                "NetworkPolicy api-from-alb",
                "NetworkPolicy api-from-web",
                "NetworkPolicy api-to-auth",
                "NetworkPolicy api-to-database",
                "NetworkPolicy api-to-pod-identity",
                "NetworkPolicy api-to-aws-endpoints",
                "ApplicationNetworkPolicy api-to-s3",
            ]
        );
        for o in m.service("api").expect("api") {
            assert_eq!(o.namespace(), Some("api"), "{}", o.id());
        }
    }

    #[test]
    fn env_names_from_labels() {
        assert_eq!(env_name("user-api"), "USER_API");
        assert_eq!(env_name("web"), "WEB");
    }
}
