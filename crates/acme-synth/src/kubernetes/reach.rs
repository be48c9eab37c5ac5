//! Who may reach whom under a set of network policies: a small, pure evaluator of Kubernetes
//! `NetworkPolicy` semantics (and Auto Mode's `ApplicationNetworkPolicy`), so the policies can
//! be checked as behaviour rather than as text.
//!
//! The rules, as Kubernetes defines them: a pod is isolated for egress (ingress) when any policy
//! of its namespace selects it with that policy type; an isolated pod may send (accept) only
//! what some rule of a selecting policy allows; a connection needs both the sender's egress and
//! the receiver's ingress. Traffic from outside the cluster has no egress side, and an address
//! outside the cluster no ingress side.
//!
//! What the evaluator cannot know it answers conservatively, towards "allowed": a pod's address
//! is somewhere in the pod subnets, so an `ipBlock` overlapping them may match any pod; a DNS
//! name's addresses are unknown, so only `0.0.0.0/0` or the name itself matches it. Named ports
//! in a policy match nothing (acmectl writes numbers only).

use super::{Manifests, NAMESPACE_NAME_LABEL, Object};
use crate::stacks::services::buckets;
use acme_spec::{Platform, Tier};
use ipnet::Ipv4Net;
use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

/// One end of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The pods of a workload: their namespace and labels.
    Pods { namespace: String, labels: BTreeMap<String, String> },
    /// An address that is not a pod's.
    Address(Ipv4Addr),
    /// A DNS name outside the cluster.
    Domain(String),
}

/// A protocol and destination port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port {
    pub protocol: Protocol,
    pub number: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Port {
    pub fn tcp(number: u16) -> Port {
        Port { protocol: Protocol::Tcp, number }
    }
    pub fn udp(number: u16) -> Port {
        Port { protocol: Protocol::Udp, number }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocol = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        write!(f, "{}/{protocol}", self.number)
    }
}

static EVERY_POD: LabelSelector = LabelSelector { match_expressions: None, match_labels: None };

enum Peer<'a> {
    Selector { namespace: Option<&'a LabelSelector>, pods: Option<&'a LabelSelector> },
    Block(&'a IPBlock),
    Domains(&'a [String]),
}

struct Rule<'a> {
    /// `None`: every peer.
    peers: Option<Vec<Peer<'a>>>,
    /// `None`: every port.
    ports: Option<&'a [NetworkPolicyPort]>,
}

#[derive(Clone, Copy)]
enum Direction {
    Ingress,
    Egress,
}

struct Policy<'a> {
    namespace: &'a str,
    selector: &'a LabelSelector,
    /// `Some` when the policy isolates for ingress (egress), with its rules.
    ingress: Option<Vec<Rule<'a>>>,
    egress: Option<Vec<Rule<'a>>>,
}

/// The network policies of a set of objects, ready to answer [`Policies::allows`].
pub struct Policies<'a> {
    policies: Vec<Policy<'a>>,
    namespace_labels: BTreeMap<&'a str, BTreeMap<String, String>>,
    pod_cidrs: Vec<Ipv4Net>,
}

fn selector_peer(p: &NetworkPolicyPeer) -> Peer<'_> {
    match &p.ip_block {
        Some(block) => Peer::Block(block),
        None => Peer::Selector { namespace: p.namespace_selector.as_ref(), pods: p.pod_selector.as_ref() },
    }
}

/// A NetworkPolicy rule: its peers (`from` or `to`) and ports.
fn rule<'a>(peers: Option<&'a Vec<NetworkPolicyPeer>>, ports: Option<&'a [NetworkPolicyPort]>) -> Rule<'a> {
    Rule { peers: peers.map(|peers| peers.iter().map(selector_peer).collect()), ports }
}

impl<'a> Policies<'a> {
    /// Reads every NetworkPolicy, ApplicationNetworkPolicy and Namespace of `objects`. Pods have
    /// their addresses in `pod_cidrs`.
    pub fn new(objects: impl IntoIterator<Item = &'a Object>, pod_cidrs: Vec<Ipv4Net>) -> Policies<'a> {
        let mut policies = vec![];
        let mut namespace_labels = BTreeMap::new();
        for object in objects {
            match object {
                Object::Namespace(ns) => {
                    let name = ns.metadata.name.as_deref().unwrap_or_default();
                    let mut labels = ns.metadata.labels.clone().unwrap_or_default();
                    labels.insert(NAMESPACE_NAME_LABEL.to_owned(), name.to_owned());
                    namespace_labels.insert(name, labels);
                }
                Object::NetworkPolicy(np) => {
                    let Some(spec) = &np.spec else { continue };
                    let types = spec.policy_types.clone().unwrap_or_else(|| {
                        let mut t = vec!["Ingress".to_owned()];
                        if spec.egress.is_some() {
                            t.push("Egress".to_owned());
                        }
                        t
                    });
                    let has = |t: &str| types.iter().any(|x| x == t);
                    let ingress = has("Ingress").then(|| {
                        spec.ingress.iter().flatten().map(|r| rule(r.from.as_ref(), r.ports.as_deref())).collect()
                    });
                    let egress = has("Egress").then(|| {
                        spec.egress.iter().flatten().map(|r| rule(r.to.as_ref(), r.ports.as_deref())).collect()
                    });
                    policies.push(Policy {
                        namespace: np.metadata.namespace.as_deref().unwrap_or("default"),
                        // Left out, it selects every pod of the namespace.
                        selector: spec.pod_selector.as_ref().unwrap_or(&EVERY_POD),
                        ingress,
                        egress,
                    });
                }
                Object::ApplicationNetworkPolicy(anp) => {
                    let spec = &anp.spec;
                    let has = |t: &str| spec.policy_types.iter().any(|x| x == t);
                    let egress = has("Egress").then(|| {
                        spec.egress
                            .iter()
                            .map(|r| Rule {
                                peers: Some(
                                    r.to.iter()
                                        .flat_map(|peer| {
                                            let domains = (!peer.domain_names.is_empty())
                                                .then_some(Peer::Domains(&peer.domain_names));
                                            domains.into_iter().chain(peer.ip_block.as_ref().map(Peer::Block))
                                        })
                                        .collect(),
                                ),
                                ports: (!r.ports.is_empty()).then_some(r.ports.as_slice()),
                            })
                            .collect()
                    });
                    policies.push(Policy {
                        namespace: anp.metadata.namespace.as_deref().unwrap_or("default"),
                        selector: &spec.pod_selector,
                        ingress: has("Ingress").then(Vec::new),
                        egress,
                    });
                }
                _ => {}
            }
        }
        Policies { policies, namespace_labels, pod_cidrs }
    }

    /// Whether `from` may open a connection to `to` on `port`.
    pub fn allows(&self, from: &Endpoint, to: &Endpoint, port: Port) -> bool {
        self.sends(from, to, port) && self.accepts(from, to, port)
    }

    /// The egress side: may `from` send to `to`?
    fn sends(&self, from: &Endpoint, to: &Endpoint, port: Port) -> bool {
        self.permits(from, to, port, Direction::Egress)
    }

    /// The ingress side: does `to` accept from `from`?
    fn accepts(&self, from: &Endpoint, to: &Endpoint, port: Port) -> bool {
        self.permits(to, from, port, Direction::Ingress)
    }

    /// Whether the policies selecting `subject` let it exchange with `peer` in `direction`.
    fn permits(&self, subject: &Endpoint, peer: &Endpoint, port: Port, direction: Direction) -> bool {
        let Endpoint::Pods { namespace, labels } = subject else { return true };
        let mut selecting = self
            .policies
            .iter()
            .filter(|p| p.namespace == namespace && selects(p.selector, labels))
            .filter_map(|p| {
                let rules = match direction {
                    Direction::Ingress => p.ingress.as_ref(),
                    Direction::Egress => p.egress.as_ref(),
                };
                rules.map(|rules| (p.namespace, rules))
            })
            .peekable();
        if selecting.peek().is_none() {
            return true;
        }
        selecting.any(|(ns, rules)| rules.iter().any(|r| self.rule_matches(r, ns, peer, port)))
    }

    fn rule_matches(&self, rule: &Rule<'_>, policy_namespace: &str, peer: &Endpoint, port: Port) -> bool {
        let port_ok = match rule.ports {
            None => true,
            Some(ports) => ports.iter().any(|p| port_matches(p, port)),
        };
        let peer_ok = match &rule.peers {
            None => true,
            Some(peers) => peers.iter().any(|p| self.peer_matches(p, policy_namespace, peer)),
        };
        port_ok && peer_ok
    }

    fn peer_matches(&self, peer: &Peer<'_>, policy_namespace: &str, endpoint: &Endpoint) -> bool {
        match (peer, endpoint) {
            (Peer::Selector { namespace, pods }, Endpoint::Pods { namespace: ns, labels }) => {
                let ns_ok = match namespace {
                    None => ns == policy_namespace,
                    Some(sel) => self.namespace_labels.get(ns.as_str()).is_some_and(|l| selects(sel, l)),
                };
                ns_ok && pods.is_none_or(|sel| selects(sel, labels))
            }
            (Peer::Selector { .. }, _) => false,
            (Peer::Block(block), Endpoint::Address(address)) => {
                let (cidr, except) = parse_block(block);
                cidr.is_some_and(|c| c.contains(address)) && !except.iter().any(|e| e.contains(address))
            }
            (Peer::Block(block), Endpoint::Pods { .. }) => {
                let (cidr, except) = parse_block(block);
                cidr.is_some_and(|c| {
                    self.pod_cidrs.iter().any(|pods| overlaps(&c, pods) && !except.iter().any(|e| e.contains(pods)))
                })
            }
            (Peer::Block(block), Endpoint::Domain(_)) => parse_block(block).0.is_some_and(|c| c.prefix_len() == 0),
            (Peer::Domains(names), Endpoint::Domain(domain)) => names.iter().any(|n| domain_matches(n, domain)),
            (Peer::Domains(_), _) => false,
        }
    }
}

fn parse_block(block: &IPBlock) -> (Option<Ipv4Net>, Vec<Ipv4Net>) {
    let cidr = block.cidr.parse::<Ipv4Net>().ok().map(|c| c.trunc());
    let except = block.except.iter().flatten().filter_map(|e| e.parse::<Ipv4Net>().ok()).collect();
    (cidr, except)
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

fn domain_matches(pattern: &str, domain: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => domain.strip_suffix(suffix).is_some_and(|head| head.ends_with('.') && head.len() > 1),
        None => pattern.eq_ignore_ascii_case(domain),
    }
}

fn port_matches(rule: &NetworkPolicyPort, port: Port) -> bool {
    let protocol = match rule.protocol.as_deref().unwrap_or("TCP") {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        _ => return false,
    };
    if protocol != port.protocol {
        return false;
    }
    match &rule.port {
        None => true,
        Some(IntOrString::Int(start)) => {
            let end = rule.end_port.unwrap_or(*start);
            (*start..=end).contains(&i32::from(port.number))
        }
        Some(IntOrString::String(_)) => false,
    }
}

/// Whether a label selector selects `labels` (an empty selector selects everything).
pub fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let by_label = selector.match_labels.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    let by_expression = selector.match_expressions.iter().flatten().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    by_label && by_expression
}

/// The pods of every Deployment among `objects`, by Deployment name.
pub fn workloads<'a>(objects: impl IntoIterator<Item = &'a Object>) -> Vec<(String, Endpoint)> {
    objects
        .into_iter()
        .filter_map(|o| match o {
            Object::Deployment(d) => {
                let labels = d.spec.as_ref()?.template.metadata.as_ref()?.labels.clone().unwrap_or_default();
                let namespace = d.metadata.namespace.clone().unwrap_or_else(|| "default".into());
                Some((d.metadata.name.clone().unwrap_or_default(), Endpoint::Pods { namespace, labels }))
            }
            _ => None,
        })
        .collect()
}

/// Who may reach what, for a whole platform: sources (the internet through the ALB, each
/// service) against destinations (each service port, the database, DNS, the Pod Identity
/// agent, the AWS interface endpoints, each owned bucket, the internet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    pub sources: Vec<String>,
    pub destinations: Vec<String>,
    /// `allowed[source][destination]`; `None` where neither end is a pod, so no network
    /// policy governs it (security groups do).
    pub allowed: Vec<Vec<Option<bool>>>,
}

impl Matrix {
    pub fn new(p: &Platform, manifests: &Manifests, values: &super::Values) -> Matrix {
        let layout = p.network.subnets();
        let pod_cidrs: Vec<Ipv4Net> = layout.iter().map(|z| z.cidr(Tier::Private)).collect();
        let policies = Policies::new(manifests.objects(), pod_cidrs);
        // A representative address of a subnet tier: its tenth host.
        let address_in = |tier: Tier| -> Ipv4Addr {
            layout.first().map_or(Ipv4Addr::UNSPECIFIED, |z| Ipv4Addr::from(u32::from(z.cidr(tier).network()) + 10))
        };

        let pods = workloads(manifests.objects());
        let pods_of = |name: &str| pods.iter().find(|(n, _)| n == name).map(|(_, e)| e.clone());
        let mut sources = vec![("internet (ALB)".to_owned(), Endpoint::Address(address_in(Tier::Public)))];
        for s in &p.services {
            if let Some(e) = pods_of(&s.name) {
                sources.push((s.name.clone(), e));
            }
        }

        let mut destinations: Vec<(String, Endpoint, Port)> = vec![];
        for s in &p.services {
            let Some(e) = pods_of(&s.name) else { continue };
            for port in &s.ports {
                let label = if port.name == "http" { s.name.clone() } else { format!("{}.{}", s.name, port.name) };
                destinations.push((label, e.clone(), Port::tcp(port.port)));
            }
        }
        if let Some(db) = &p.database {
            destinations.push((
                "database".into(),
                Endpoint::Address(address_in(Tier::Database)),
                Port::tcp(db.engine.port()),
            ));
        }
        let dns = Endpoint::Address(p.network.cluster_dns_ip());
        destinations.push(("dns".into(), dns.clone(), Port::udp(super::network_policy::DNS_PORT)));
        destinations.push(("dns".into(), dns, Port::tcp(super::network_policy::DNS_PORT)));
        destinations.push((
            "pod-identity".into(),
            Endpoint::Address(super::network_policy::POD_IDENTITY_AGENT),
            Port::tcp(super::network_policy::POD_IDENTITY_AGENT_PORT),
        ));
        destinations.push(("aws-endpoints".into(), Endpoint::Address(address_in(Tier::Private)), Port::tcp(443)));
        for s in &p.services {
            for bucket in buckets(s) {
                let host = super::network_policy::bucket_host(p, s, bucket, values);
                destinations.push((format!("s3 {}/{bucket}", s.name), Endpoint::Domain(host), Port::tcp(443)));
            }
        }
        // A documentation address (TEST-NET-3) stands for the internet.
        destinations.push(("internet".into(), Endpoint::Address(Ipv4Addr::new(203, 0, 113, 10)), Port::tcp(443)));

        let allowed = sources
            .iter()
            .map(|(_, from)| {
                destinations
                    .iter()
                    .map(|(_, to, port)| {
                        let governed = matches!(from, Endpoint::Pods { .. }) || matches!(to, Endpoint::Pods { .. });
                        governed.then(|| policies.allows(from, to, *port))
                    })
                    .collect()
            })
            .collect();
        Matrix {
            sources: sources.into_iter().map(|(label, _)| label).collect(),
            destinations: destinations.into_iter().map(|(label, _, port)| format!("{label} {port}")).collect(),
            allowed,
        }
    }

    /// Whether `source` may reach `destination` (labels as shown); `None` for an unknown label
    /// or a cell no network policy governs.
    pub fn get(&self, source: &str, destination: &str) -> Option<bool> {
        let s = self.sources.iter().position(|x| x == source)?;
        let d = self.destinations.iter().position(|x| x == destination)?;
        self.allowed[s][d]
    }
}

/// One line per destination, one column per source: `x` allowed, `.` denied, blank where no
/// network policy applies.
impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.destinations.iter().map(String::len).max().unwrap_or(0).max("to \\ from".len());
        let mut header = format!("{:first$}", "to \\ from");
        for s in &self.sources {
            header.push_str(&format!("  {s}"));
        }
        writeln!(f, "{}", header.trim_end())?;
        for (d, destination) in self.destinations.iter().enumerate() {
            let mut line = format!("{destination:first$}");
            for (s, source) in self.sources.iter().enumerate() {
                let mark = match self.allowed[s][d] {
                    Some(true) => "x",
                    Some(false) => ".",
                    None => "",
                };
                line.push_str(&format!("  {mark:^width$}", width = source.len()));
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::{Values, manifests};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn selectors_follow_kubernetes() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        assert!(selects(&LabelSelector::default(), &l));
        let by = |k: &str, op: &str, v: &[&str]| LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: k.into(),
                operator: op.into(),
                values: Some(v.iter().map(|s| (*s).to_owned()).collect()),
            }]),
            ..LabelSelector::default()
        };
        assert!(selects(&by("app", "In", &["web", "api"]), &l));
        assert!(!selects(&by("app", "NotIn", &["web"]), &l));
        assert!(selects(&by("zone", "DoesNotExist", &[]), &l));
        assert!(!selects(&by("zone", "Exists", &[]), &l));
        let exact = LabelSelector { match_labels: Some(labels(&[("app", "api")])), ..LabelSelector::default() };
        assert!(!selects(&exact, &l));
    }

    #[test]
    fn domain_patterns() {
        assert!(domain_matches("b.s3.us-east-1.amazonaws.com", "B.s3.us-east-1.amazonaws.com"));
        assert!(domain_matches("*.amazonaws.com", "s3.amazonaws.com"));
        assert!(!domain_matches("*.amazonaws.com", "amazonaws.com"));
        assert!(!domain_matches("*.amazonaws.com", "evilamazonaws.com"));
    }

    #[test]
    fn without_policies_everything_is_allowed_and_default_deny_stops_it() {
        let p = acme_spec::fixture::acme();
        let m = manifests(&p, &Values::placeholders());
        let web = workloads(m.objects()).remove(0).1;
        let anywhere = Endpoint::Address(Ipv4Addr::new(203, 0, 113, 1));
        let none = Policies::new(std::iter::empty(), vec![]);
        assert!(none.allows(&web, &anywhere, Port::tcp(443)));
        let all = Policies::new(m.objects(), vec!["10.20.0.0/16".parse().expect("cidr")]);
        assert!(!all.allows(&web, &anywhere, Port::tcp(443)));
    }

    #[test]
    fn ip_blocks_over_the_pod_subnets_may_match_any_pod() {
        let p = acme_spec::fixture::acme();
        let m = manifests(&p, &Values::placeholders());
        let pods = workloads(m.objects());
        let (api, auth) = (&pods[1].1, &pods[2].1);
        let policies = Policies::new(m.objects(), vec!["10.20.0.0/20".parse().expect("cidr")]);
        // api's egress to the private subnets on 443 (for the interface endpoints) could reach
        // auth's pods; auth's ingress refuses it.
        assert!(policies.sends(api, auth, Port::tcp(443)));
        assert!(!policies.accepts(api, auth, Port::tcp(443)));
        assert!(!policies.allows(api, auth, Port::tcp(443)));
        assert!(policies.allows(api, auth, Port::tcp(8080)));
    }

    #[test]
    fn udp_and_tcp_are_told_apart() {
        let rule = NetworkPolicyPort { protocol: Some("UDP".into()), port: Some(IntOrString::Int(53)), end_port: None };
        assert!(port_matches(&rule, Port::udp(53)));
        assert!(!port_matches(&rule, Port::tcp(53)));
        let range = NetworkPolicyPort { protocol: None, port: Some(IntOrString::Int(8000)), end_port: Some(8100) };
        assert!(port_matches(&range, Port::tcp(8080)));
        assert!(!port_matches(&range, Port::tcp(8101)));
    }
}
