//! The namespaces acmectl owns: one per service, or one per `namespace` the file names for
//! several services. Each gets:
//!
//! - **Pod Security Admission `restricted`**, enforced at the cluster's version (so a cluster
//!   upgrade cannot tighten or loosen it unannounced), and audited and warned at `latest` (so
//!   what a newer version would refuse shows up before the upgrade). The pods acmectl writes
//!   meet it; anything else started there is refused at admission.
//! - **Default deny**, ingress and egress, and DNS for every pod ([`super::network_policy`]).

use super::network_policy;
use super::{Object, platform_labels};
use crate::stacks::cluster::service_namespaces;
use acme_spec::Platform;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub const POD_SECURITY_LEVEL: &str = "restricted";

/// Each namespace followed by its own policies, in name order.
pub fn objects(p: &Platform) -> Vec<Object> {
    let mut out = vec![];
    for ns in service_namespaces(p) {
        out.push(Object::Namespace(namespace(p, &ns)));
        out.extend(network_policy::namespace_policies(p, &ns));
    }
    out
}

fn namespace(p: &Platform, name: &str) -> Namespace {
    let mut labels = platform_labels(p);
    let enforce_version = format!("v{}", p.cluster.version);
    for (key, value) in [
        ("pod-security.kubernetes.io/enforce", POD_SECURITY_LEVEL),
        ("pod-security.kubernetes.io/enforce-version", enforce_version.as_str()),
        ("pod-security.kubernetes.io/audit", POD_SECURITY_LEVEL),
        ("pod-security.kubernetes.io/audit-version", "latest"),
        ("pod-security.kubernetes.io/warn", POD_SECURITY_LEVEL),
        ("pod-security.kubernetes.io/warn-version", "latest"),
    ] {
        labels.insert(key.to_owned(), value.to_owned());
    }
    Namespace {
        metadata: ObjectMeta { name: Some(name.to_owned()), labels: Some(labels), ..ObjectMeta::default() },
        ..Namespace::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespaces(p: &Platform) -> Vec<Namespace> {
        objects(p)
            .into_iter()
            .filter_map(|o| match o {
                Object::Namespace(n) => Some(n),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_namespace_per_service_or_shared_grouping() {
        let mut p = acme_spec::fixture::acme();
        let names = |p: &Platform| namespaces(p).iter().filter_map(|n| n.metadata.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&p), ["api", "auth", "chat", "web"]);
        p.services[1].namespace = "backend".into();
        p.services[2].namespace = "backend".into();
        assert_eq!(names(&p), ["backend", "chat", "web"]);
    }

    #[test]
    fn pod_security_restricted_is_enforced_at_the_cluster_version() {
        let mut p = acme_spec::fixture::acme();
        p.cluster.version = "1.31".into();
        for ns in namespaces(&p) {
            let labels = ns.metadata.labels.expect("labels");
            assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
            assert_eq!(labels["pod-security.kubernetes.io/enforce-version"], "v1.31");
            assert_eq!(labels["pod-security.kubernetes.io/audit"], "restricted");
            assert_eq!(labels["pod-security.kubernetes.io/warn"], "restricted");
        }
    }

    #[test]
    fn every_namespace_is_followed_by_its_default_deny_and_dns() {
        let objects = objects(&acme_spec::fixture::acme());
        let ids: Vec<String> = objects.iter().map(Object::id).collect();
        assert_eq!(&ids[..3], ["Namespace api", "NetworkPolicy api/default-deny", "NetworkPolicy api/allow-dns"]);
        assert_eq!(ids.len(), 12);
    }
}
