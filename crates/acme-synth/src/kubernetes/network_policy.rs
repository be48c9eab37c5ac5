//! Network policies, derived from acme.yaml and never written by hand. Every policy that allows
//! something names the fields it derives from in its [`DERIVED_FROM`] annotation.
//!
//! Per namespace acmectl owns:
//! - `default-deny`: every pod, no ingress, no egress. Auto Mode's default is to allow all, so
//!   without this a pod no other policy selects would be open.
//! - `allow-dns`: UDP and TCP 53 to the cluster DNS address (the tenth of the Service range the
//!   cluster stack fixes, `Network::cluster_dns_ip`) and to the private subnets. On Auto Mode the
//!   resolver runs on every node, not as `k8s-app=kube-dns` pods in `kube-system`, so the usual
//!   "allow to the kube-dns pods" matches nothing (aws/containers-roadmap#2552); pods send DNS to
//!   the kube-dns Service address, which the node answers. The private subnets (where the nodes
//!   are) cover the node address the query is answered from. Derived from the services that live
//!   in the namespace.
//!
//! Per service, each in its own policy:
//! - `<svc>-from-alb`: ingress from the public subnets (where the ALB's nodes are) to the routed
//!   ports and the main port (the ALB health-checks every target group there). From `routes`.
//! - `<svc>-from-<caller>` and `<caller>-to-<svc>`: the caller's pods to the callee's pods on the
//!   callee's main port, as ingress on one side and egress on the other; both are needed. From
//!   the caller's `talks_to` entry. The callee's other ports stay closed to callers.
//! - `<svc>-to-database`: TCP to the engine's port in the database subnets. From `uses: database`.
//! - `<svc>-to-pod-identity`: TCP 80 to the EKS Pod Identity agent on the node,
//!   [`POD_IDENTITY_AGENT`]; without it a service with a role gets no AWS credentials. From the
//!   `uses` that give it its role.
//! - `<svc>-to-aws-endpoints`: TCP 443 to the private subnets, where the VPC's interface
//!   endpoints are, for Secrets Manager (the database secret). From `uses: database`. This also
//!   reaches the other interface endpoints (their IAM policies still decide) and, on 443, pods,
//!   whose own ingress policies refuse it.
//! - `<svc>-to-s3` (an Auto Mode `ApplicationNetworkPolicy`): TCP 443 to each owned bucket's
//!   virtual-hosted name, `<bucket>.s3.<region>.amazonaws.com`. S3 is reached through the VPC's
//!   gateway endpoint at S3's public addresses, which are too many and change too often to list;
//!   the DNS-based rule admits only the addresses S3's DNS returns for that name. The AWS SDKs
//!   use that name by default. From `uses: { bucket }`.
//!
//! Nothing else: no egress to the internet, no ingress from other namespaces, nodes or the VPC.
//! The node itself may always reach its pods (kubelet probes): network policies do not govern
//! it.

use super::crd::{ApplicationNetworkPolicyEgressRule, ApplicationNetworkPolicyPeer, ApplicationNetworkPolicySpec};
use super::{
    ApplicationNetworkPolicy, DERIVED_FROM, NAMESPACE_NAME_LABEL, Object, Values, platform_labels, pod_selector,
    service_labels,
};
use crate::StackName;
use crate::stacks::names;
use crate::stacks::services::{buckets, has_role, uses_database};
use acme_spec::{Platform, Service, Tier, Use};
use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Where the EKS Pod Identity agent on every node serves credentials to pods.
pub const POD_IDENTITY_AGENT: Ipv4Addr = Ipv4Addr::new(169, 254, 170, 23);
pub const POD_IDENTITY_AGENT_PORT: u16 = 80;
pub const DNS_PORT: u16 = 53;
pub const HTTPS_PORT: u16 = 443;

pub const DEFAULT_DENY: &str = "default-deny";
pub const ALLOW_DNS: &str = "allow-dns";

fn port(protocol: &str, number: u16) -> NetworkPolicyPort {
    NetworkPolicyPort {
        protocol: Some(protocol.into()),
        port: Some(IntOrString::Int(i32::from(number))),
        end_port: None,
    }
}

fn tcp(ports: impl IntoIterator<Item = u16>) -> Vec<NetworkPolicyPort> {
    ports.into_iter().map(|n| port("TCP", n)).collect()
}

fn cidr_peer(cidr: impl ToString) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        ip_block: Some(IPBlock { cidr: cidr.to_string(), except: None }),
        ..NetworkPolicyPeer::default()
    }
}

fn subnet_peers(p: &Platform, tier: Tier) -> Vec<NetworkPolicyPeer> {
    p.network.subnets().iter().map(|z| cidr_peer(z.cidr(tier))).collect()
}

/// The pods of a service, wherever its namespace.
fn pods_of(s: &Service) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([(NAMESPACE_NAME_LABEL.to_owned(), s.namespace.clone())])),
            ..LabelSelector::default()
        }),
        pod_selector: Some(pod_selector(s)),
        ip_block: None,
    }
}

fn meta(name: String, namespace: &str, labels: BTreeMap<String, String>, derived_from: &[String]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(namespace.to_owned()),
        labels: Some(labels),
        annotations: (!derived_from.is_empty())
            .then(|| BTreeMap::from([(DERIVED_FROM.to_owned(), derived_from.join(","))])),
        ..ObjectMeta::default()
    }
}

enum Rule {
    Ingress(NetworkPolicyIngressRule),
    Egress(NetworkPolicyEgressRule),
}

/// One policy selecting a service's pods with one rule.
fn service_policy(p: &Platform, s: &Service, name: String, rule: Rule, derived_from: &[String]) -> Object {
    let (types, ingress, egress) = match rule {
        Rule::Ingress(r) => ("Ingress", Some(vec![r]), None),
        Rule::Egress(r) => ("Egress", None, Some(vec![r])),
    };
    Object::NetworkPolicy(NetworkPolicy {
        metadata: meta(name, &s.namespace, service_labels(p, s), derived_from),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(pod_selector(s)),
            policy_types: Some(vec![types.into()]),
            ingress,
            egress,
        }),
    })
}

/// Field paths of a service's `uses` entries that match `pick`.
fn uses_paths(index: usize, s: &Service, pick: impl Fn(&Use) -> bool) -> Vec<String> {
    s.uses.iter().enumerate().filter(|(_, u)| pick(u)).map(|(k, _)| format!("services[{index}].uses[{k}]")).collect()
}

/// The namespace's default deny and its DNS allowance.
pub fn namespace_policies(p: &Platform, namespace: &str) -> Vec<Object> {
    let everyone = LabelSelector::default();
    let deny = NetworkPolicy {
        metadata: meta(DEFAULT_DENY.into(), namespace, platform_labels(p), &[]),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(everyone.clone()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: None,
            egress: None,
        }),
    };
    let residents: Vec<String> = p
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.namespace == namespace)
        .map(|(i, _)| format!("services[{i}]"))
        .collect();
    let mut to = vec![cidr_peer(format!("{}/32", p.network.cluster_dns_ip()))];
    to.extend(subnet_peers(p, Tier::Private));
    let dns = NetworkPolicy {
        metadata: meta(ALLOW_DNS.into(), namespace, platform_labels(p), &residents),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(everyone),
            policy_types: Some(vec!["Egress".into()]),
            ingress: None,
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(to),
                ports: Some(vec![port("UDP", DNS_PORT), port("TCP", DNS_PORT)]),
            }]),
        }),
    };
    vec![Object::NetworkPolicy(deny), Object::NetworkPolicy(dns)]
}

/// The policies that select one service's pods, in a fixed order.
pub fn service_policies(p: &Platform, s: &Service, values: &Values) -> Vec<Object> {
    let index = p.services.iter().position(|x| x.name == s.name).unwrap_or_default();
    let mut out = vec![];

    if !s.routes.is_empty() {
        let mut ports: Vec<u16> = s.routes.iter().map(|r| r.port).collect();
        ports.push(s.main_port());
        ports.sort_unstable();
        ports.dedup();
        let from: Vec<String> = (0..s.routes.len()).map(|j| format!("services[{index}].routes[{j}]")).collect();
        let rule = NetworkPolicyIngressRule { from: Some(subnet_peers(p, Tier::Public)), ports: Some(tcp(ports)) };
        out.push(service_policy(p, s, format!("{}-from-alb", s.name), Rule::Ingress(rule), &from));
    }

    for (ci, caller) in p.services.iter().enumerate() {
        for (k, _) in caller.talks_to.iter().enumerate().filter(|(_, callee)| **callee == s.name) {
            let rule =
                NetworkPolicyIngressRule { from: Some(vec![pods_of(caller)]), ports: Some(tcp([s.main_port()])) };
            let from = [format!("services[{ci}].talks_to[{k}]")];
            out.push(service_policy(p, s, format!("{}-from-{}", s.name, caller.name), Rule::Ingress(rule), &from));
        }
    }

    for (k, callee) in s.talks_to.iter().enumerate() {
        let Some(callee) = p.service(callee) else { continue };
        let rule = NetworkPolicyEgressRule { to: Some(vec![pods_of(callee)]), ports: Some(tcp([callee.main_port()])) };
        let from = [format!("services[{index}].talks_to[{k}]")];
        out.push(service_policy(p, s, format!("{}-to-{}", s.name, callee.name), Rule::Egress(rule), &from));
    }

    let database_uses = uses_paths(index, s, |u| *u == Use::Database);
    if let (true, Some(db)) = (uses_database(p, s), &p.database) {
        let rule =
            NetworkPolicyEgressRule { to: Some(subnet_peers(p, Tier::Database)), ports: Some(tcp([db.engine.port()])) };
        out.push(service_policy(p, s, format!("{}-to-database", s.name), Rule::Egress(rule), &database_uses));
    }

    if has_role(p, s) {
        let role_uses = uses_paths(index, s, |u| match u {
            Use::Bucket(_) => true,
            Use::Database => uses_database(p, s),
        });
        let rule = NetworkPolicyEgressRule {
            to: Some(vec![cidr_peer(format!("{POD_IDENTITY_AGENT}/32"))]),
            ports: Some(tcp([POD_IDENTITY_AGENT_PORT])),
        };
        out.push(service_policy(p, s, format!("{}-to-pod-identity", s.name), Rule::Egress(rule), &role_uses));
    }

    if uses_database(p, s) {
        let rule = NetworkPolicyEgressRule { to: Some(subnet_peers(p, Tier::Private)), ports: Some(tcp([HTTPS_PORT])) };
        out.push(service_policy(p, s, format!("{}-to-aws-endpoints", s.name), Rule::Egress(rule), &database_uses));
    }

    let owned = buckets(s);
    if !owned.is_empty() {
        let domain_names = owned.iter().map(|b| bucket_host(p, s, b, values)).collect();
        let bucket_uses = uses_paths(index, s, |u| matches!(u, Use::Bucket(_)));
        out.push(Object::ApplicationNetworkPolicy(ApplicationNetworkPolicy {
            metadata: meta(format!("{}-to-s3", s.name), &s.namespace, service_labels(p, s), &bucket_uses),
            spec: ApplicationNetworkPolicySpec {
                pod_selector: pod_selector(s),
                policy_types: vec!["Egress".into()],
                egress: vec![ApplicationNetworkPolicyEgressRule {
                    to: vec![ApplicationNetworkPolicyPeer { domain_names, ip_block: None }],
                    ports: tcp([HTTPS_PORT]),
                }],
            },
        }));
    }
    out
}

/// The virtual-hosted S3 name of an owned bucket: `<bucket>.s3.<region>.amazonaws.com`.
pub fn bucket_host(p: &Platform, s: &Service, bucket: &str, values: &Values) -> String {
    let name = values.output(StackName::Services, &names::bucket_output(&s.name, bucket));
    let suffix = if p.region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("{name}.s3.{}.{suffix}", p.region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn acme() -> Platform {
        acme_spec::fixture::acme()
    }

    fn policies(p: &Platform, name: &str) -> BTreeMap<String, Value> {
        let s = p.service(name).expect("service");
        service_policies(p, s, &Values::placeholders()).iter().map(|o| (o.name().to_owned(), o.to_value())).collect()
    }

    #[test]
    fn namespaces_deny_everything_then_allow_dns_to_the_cluster_resolver() {
        let p = acme();
        let objects = namespace_policies(&p, "api");
        let deny = objects[0].to_value();
        assert_eq!(deny["metadata"]["name"], "default-deny");
        assert_eq!(deny["spec"], json!({ "podSelector": {}, "policyTypes": ["Ingress", "Egress"] }));
        assert!(deny["metadata"].get("annotations").is_none(), "deny allows nothing, so derives from nothing");
        let dns = objects[1].to_value();
        assert_eq!(
            dns["spec"],
            json!({
                "egress": [{
                    "ports": [{ "port": 53, "protocol": "UDP" }, { "port": 53, "protocol": "TCP" }],
                    "to": [
                        { "ipBlock": { "cidr": "172.20.0.10/32" } },
                        { "ipBlock": { "cidr": "10.20.0.0/20" } },
                        { "ipBlock": { "cidr": "10.20.16.0/20" } },
                        { "ipBlock": { "cidr": "10.20.32.0/20" } }
                    ]
                }],
                "podSelector": {},
                "policyTypes": ["Egress"]
            })
        );
        assert_eq!(dns["metadata"]["annotations"][DERIVED_FROM], "services[1]");
    }

    #[test]
    fn the_alb_reaches_routed_ports_from_the_public_subnets_only() {
        let p = acme();
        let web = &policies(&p, "web")["web-from-alb"];
        assert_eq!(web["spec"]["podSelector"], json!({ "matchLabels": { "app.kubernetes.io/name": "web" } }));
        assert_eq!(web["spec"]["policyTypes"], json!(["Ingress"]));
        assert_eq!(
            web["spec"]["ingress"],
            json!([{
                "from": [
                    { "ipBlock": { "cidr": "10.20.128.0/22" } },
                    { "ipBlock": { "cidr": "10.20.132.0/22" } },
                    { "ipBlock": { "cidr": "10.20.136.0/22" } }
                ],
                "ports": [{ "port": 8080, "protocol": "TCP" }]
            }])
        );
        assert_eq!(web["metadata"]["annotations"][DERIVED_FROM], "services[0].routes[0]");
    }

    #[test]
    fn a_second_routed_port_and_its_health_check_port_are_both_open_to_the_alb() {
        let mut p = acme();
        p.services[0].ports.push(acme_spec::ServicePort { name: "admin".into(), port: 9090 });
        p.services[0].routes = vec![acme_spec::Route { host: "admin.acme.example.com".into(), path: None, port: 9090 }];
        let web = &policies(&p, "web")["web-from-alb"];
        assert_eq!(
            web["spec"]["ingress"][0]["ports"],
            json!([{ "port": 8080, "protocol": "TCP" }, { "port": 9090, "protocol": "TCP" }])
        );
    }

    #[test]
    fn talks_to_opens_both_ends_on_the_callee_main_port() {
        let p = acme();
        let egress = &policies(&p, "web")["web-to-api"];
        assert_eq!(
            egress["spec"],
            json!({
                "egress": [{
                    "ports": [{ "port": 8080, "protocol": "TCP" }],
                    "to": [{
                        "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "api" } },
                        "podSelector": { "matchLabels": { "app.kubernetes.io/name": "api" } }
                    }]
                }],
                "podSelector": { "matchLabels": { "app.kubernetes.io/name": "web" } },
                "policyTypes": ["Egress"]
            })
        );
        let ingress = &policies(&p, "api")["api-from-web"];
        assert_eq!(
            ingress["spec"]["ingress"],
            json!([{
                "from": [{
                    "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "web" } },
                    "podSelector": { "matchLabels": { "app.kubernetes.io/name": "web" } }
                }],
                "ports": [{ "port": 8080, "protocol": "TCP" }]
            }])
        );
        assert_eq!(egress["metadata"]["annotations"][DERIVED_FROM], "services[0].talks_to[0]");
        assert_eq!(ingress["metadata"]["annotations"][DERIVED_FROM], "services[0].talks_to[0]");
        // auth is called by api and chat.
        let auth = policies(&p, "auth");
        assert!(auth.contains_key("auth-from-api") && auth.contains_key("auth-from-chat"));
    }

    #[test]
    fn database_users_reach_the_database_subnets_on_the_engine_port_only() {
        let mut p = acme();
        if let Some(db) = &mut p.database {
            db.engine = acme_spec::Engine::Mysql;
        }
        let auth = policies(&p, "auth");
        let db = &auth["auth-to-database"];
        assert_eq!(db["spec"]["egress"][0]["ports"], json!([{ "port": 3306, "protocol": "TCP" }]));
        let cidrs: Vec<&str> = db["spec"]["egress"][0]["to"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["ipBlock"]["cidr"].as_str())
            .collect();
        assert_eq!(cidrs, ["10.20.160.0/22", "10.20.164.0/22", "10.20.168.0/22"]);
        assert_eq!(db["metadata"]["annotations"][DERIVED_FROM], "services[2].uses[0]");
        assert!(!policies(&p, "web").contains_key("web-to-database"));
    }

    #[test]
    fn services_with_a_role_reach_the_pod_identity_agent_and_the_endpoints_they_need() {
        let p = acme();
        let api = policies(&p, "api");
        assert_eq!(
            api["api-to-pod-identity"]["spec"]["egress"],
            json!([{ "ports": [{ "port": 80, "protocol": "TCP" }], "to": [{ "ipBlock": { "cidr": "169.254.170.23/32" } }] }])
        );
        assert_eq!(
            api["api-to-pod-identity"]["metadata"]["annotations"][DERIVED_FROM],
            "services[1].uses[0],services[1].uses[1]"
        );
        assert_eq!(
            api["api-to-aws-endpoints"]["spec"]["egress"][0]["ports"],
            json!([{ "port": 443, "protocol": "TCP" }])
        );
        // web has no role: no credentials, no AWS endpoints.
        let web = policies(&p, "web");
        assert!(!web.keys().any(|k| k.contains("pod-identity") || k.contains("aws") || k.contains("s3")), "{web:?}");
    }

    #[test]
    fn bucket_owners_reach_their_buckets_by_name() {
        let p = acme();
        let s3 = &policies(&p, "api")["api-to-s3"];
        assert_eq!(s3["apiVersion"], "networking.k8s.aws/v1alpha1");
        assert_eq!(s3["kind"], "ApplicationNetworkPolicy");
        assert_eq!(
            s3["spec"]["egress"],
            json!([{
                "ports": [{ "port": 443, "protocol": "TCP" }],
                "to": [{ "domainNames": ["${services.ApiUploadsBucketName}.s3.us-east-1.amazonaws.com"] }]
            }])
        );
        assert_eq!(s3["metadata"]["annotations"][DERIVED_FROM], "services[1].uses[1]");
        // A bucket-only service reads no secret: pod identity, S3, and no interface endpoints.
        let mut p = acme();
        p.services[0].uses = vec![Use::Bucket("assets".into())];
        let web = policies(&p, "web");
        assert!(web.contains_key("web-to-pod-identity") && web.contains_key("web-to-s3"));
        assert!(!web.contains_key("web-to-aws-endpoints"));
    }

    #[test]
    fn policies_live_in_the_service_namespace_and_select_only_its_pods() {
        let mut p = acme();
        p.services[1].namespace = "backend".into();
        for (name, v) in policies(&p, "api") {
            assert_eq!(v["metadata"]["namespace"], "backend", "{name}");
            assert_eq!(
                v["spec"]["podSelector"],
                json!({ "matchLabels": { "app.kubernetes.io/name": "api" } }),
                "{name}"
            );
        }
        // Callers select api in its namespace.
        let web = &policies(&p, "web")["web-to-api"];
        assert_eq!(
            web["spec"]["egress"][0]["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "backend"
        );
    }
}
