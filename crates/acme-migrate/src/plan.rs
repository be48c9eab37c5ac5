//! Each service's migration as acme.yaml describes it: on which hosts its traffic moves and
//! how, the steps, the gates, and what stops it before it starts.

use crate::intent::Stage;
use acme_spec::{Baseline, Metric, Platform, Service};
use acme_synth::StackName;
use acme_synth::stacks::edge::{self, Target};
use acme_synth::stacks::legacy::{self, Mechanism as HostMechanism};
use acme_synth::stacks::observability::{TargetAlarm, target_alarm};
use acme_synth::stacks::shards::{self, ShardPlan};
use serde::Serialize;

/// TTL of the records the migration writes. Route 53 answers an alias to a load balancer
/// with 60 s too, so a change reaches every resolver that honours TTLs within a minute.
pub const DNS_TTL_SECONDS: u64 = 60;

/// The request header that makes the load balancer send a probe to the service's own
/// target group while its rule still splits traffic (the edge stack's probe rule).
pub use acme_synth::stacks::edge::PROBE_HEADER;
/// The old side's target group is judged healthy with this many healthy targets.
pub const OLD_SIDE_REQUIRED_HEALTHY: u32 = 1;

/// How a host's traffic moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// The service has the host to itself: weighted Route 53 records, the old side beside
    /// the load balancer.
    Dns,
    /// The host is shared by path: the load balancer's rule of each service forwards by
    /// weight to the service and to the old side. The host's DNS moves first, as a whole,
    /// while every path on it still goes to the old side (the front door).
    Path,
}

/// One host a service moves on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Track {
    pub host: String,
    pub mechanism: Mechanism,
    /// Type of the host's weighted records: the old side's, `CNAME` for a name, `A` for
    /// addresses.
    pub record_type: &'static str,
    /// What the old side's record answers.
    pub old_values: Vec<String>,
    /// Path: the service's rules on this host (edge stack).
    pub rules: Vec<RuleRef>,
    /// Path: the edge output with the ARN of the old side's target group.
    pub old_side_output: Option<String>,
    /// The path the probes request on this host.
    pub probe_path: String,
    /// The old side's request count for the host, when acme.yaml names it.
    pub old_requests: Option<MetricRef>,
}

/// A listener rule of the service and the target group it forwards to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// Logical id in the edge stack.
    pub rule: String,
    /// Edge output with the ARN of the service's target group the rule forwards to.
    pub target_group_output: String,
}

/// A CloudWatch metric by namespace, name and dimensions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetricRef {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
}

impl From<&Metric> for MetricRef {
    fn from(m: &Metric) -> Self {
        MetricRef {
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            dimensions: m.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }
}

/// A weight the migration moves.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "host", rename_all = "lowercase")]
pub enum Knob {
    /// The new side's share of a host's DNS answers.
    Dns(String),
    /// The new side's share of the service's rules on a shared host.
    Rules(String),
}

impl Knob {
    pub fn host(&self) -> &str {
        match self {
            Knob::Dns(h) | Knob::Rules(h) => h,
        }
    }
}

/// What stops a migration before it starts, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Blocker {
    pub reason: String,
    pub fix: String,
}

/// One service's migration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServicePlan {
    pub service: String,
    /// The hosts the old side serves that the service is routed on, sorted.
    pub tracks: Vec<Track>,
    pub steps: Vec<u8>,
    pub bake_seconds: u64,
    /// Status codes a probe may answer, and its slowest answer.
    pub probe_status: (u16, u16),
    pub probe_latency_ms: u64,
    /// Probes also open a WebSocket.
    pub websocket: bool,
    #[serde(skip)]
    pub baseline: Baseline,
    /// The service's alarms: 5xx rate, p99 latency, unhealthy hosts, per target group.
    pub alarms: Vec<String>,
    /// The load balancer's own alarm, which judges the front door.
    pub front_door_alarms: Vec<String>,
    /// Edge outputs with the ARNs of the service's target groups.
    pub target_groups: Vec<String>,
    /// The edge stack of the service's load balancer: its rules, target groups and alias.
    pub edge: StackName,
    /// Healthy targets a step needs: the service's `replicas.min`.
    pub required_healthy: u32,
    pub blockers: Vec<Blocker>,
    /// Why there is nothing to migrate, when there is not.
    pub nothing_to_migrate: Option<String>,
}

impl ServicePlan {
    /// The knobs of each stage, in order: the front door of the shared hosts first (when
    /// there are any), then the service itself.
    pub fn stages(&self) -> Vec<(Stage, Vec<Knob>)> {
        let front: Vec<Knob> =
            self.tracks.iter().filter(|t| t.mechanism == Mechanism::Path).map(|t| Knob::Dns(t.host.clone())).collect();
        let main: Vec<Knob> = self
            .tracks
            .iter()
            .map(|t| match t.mechanism {
                Mechanism::Dns => Knob::Dns(t.host.clone()),
                Mechanism::Path => Knob::Rules(t.host.clone()),
            })
            .collect();
        let mut stages = vec![];
        if !front.is_empty() {
            stages.push((Stage::FrontDoor, front));
        }
        if !main.is_empty() {
            stages.push((Stage::Main, main));
        }
        stages
    }

    /// The knobs of `stage`.
    pub fn knobs(&self, stage: Stage) -> Vec<Knob> {
        self.stages().into_iter().find(|(s, _)| *s == stage).map(|(_, k)| k).unwrap_or_default()
    }

    /// The hosts, sorted: the order their locks are taken in.
    pub fn hosts(&self) -> Vec<&str> {
        self.tracks.iter().map(|t| t.host.as_str()).collect()
    }

    /// Where the service's record of intent lives: its first host.
    pub fn primary_host(&self) -> Option<&str> {
        self.tracks.first().map(|t| t.host.as_str())
    }

    /// Seconds a step of `stage` waits for resolvers to let go of the previous answer.
    pub fn ttl(&self, stage: Stage) -> u64 {
        if self.knobs(stage).iter().any(|k| matches!(k, Knob::Dns(_))) { DNS_TTL_SECONDS } else { 0 }
    }

    pub fn track(&self, host: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.host == host)
    }

    /// Whether `migrate start` can run (nothing blocks it and there is something to move).
    pub fn startable(&self) -> bool {
        self.blockers.is_empty() && self.nothing_to_migrate.is_none()
    }
}

/// Every service's migration, in file order.
pub fn plan(p: &Platform) -> Vec<ServicePlan> {
    let edge = Edge::new(p);
    p.services.iter().map(|s| edge.plan_service(p, s)).collect()
}

/// One service's migration.
pub fn plan_service(p: &Platform, service: &Service) -> ServicePlan {
    Edge::new(p).plan_service(p, service)
}

/// What every service's plan reads of the edge, worked out once for all of them.
struct Edge<'a> {
    old_hosts: Vec<legacy::OldHost<'a>>,
    targets: Vec<Target<'a>>,
    shards: ShardPlan,
    /// Each shard's listener rules.
    rules: Vec<edge::Rules<'a>>,
}

impl<'a> Edge<'a> {
    fn new(p: &'a Platform) -> Self {
        let shards = shards::plan(p);
        let rules = shards.shards.iter().map(|s| edge::shard_rules(p, s)).collect();
        Edge { old_hosts: legacy::old_hosts(p), targets: edge::targets(p), shards, rules }
    }

    fn plan_service(&self, p: &Platform, service: &Service) -> ServicePlan {
        let shard = self.shards.of_service(&service.name).unwrap_or(0);
        let old_hosts = &self.old_hosts;
        let mut tracks = vec![];
        let mut blockers = vec![];
        for host in old_hosts {
            if !host.services.iter().any(|s| s.name == service.name) {
                continue;
            }
            let first_route = service.routes.iter().find(|r| r.host == host.host);
            let probe_path = service.migration.probe.path.clone().unwrap_or_else(|| {
                let prefix = first_route.and_then(|r| r.path.as_deref()).unwrap_or("");
                format!("{prefix}{}", service.health.path)
            });
            let (mechanism, rules, old_side_output) = match host.mechanism() {
                HostMechanism::Dns => (Mechanism::Dns, vec![], None),
                HostMechanism::Path { reachable } => {
                    if !reachable {
                        let others: Vec<&str> =
                            host.services.iter().filter(|s| s.name != service.name).map(|s| s.name.as_str()).collect();
                        blockers.push(Blocker {
                        reason: format!(
                            "{} is shared with {} by path, so {} moves on the load balancer, which cannot reach the \
                             old side there",
                            host.host,
                            others.join(", "),
                            service.name
                        ),
                        fix: format!(
                            "give the old side's private addresses for {} under legacy (private_addresses), \
                             reachable from the VPC through peering, a Transit Gateway, a VPN or Direct Connect",
                            host.host
                        ),
                    });
                    }
                    let targets = &self.targets;
                    let listener = self.shards.shards.iter().position(|s| s.index == shard).map(|i| &self.rules[i]);
                    let rules = listener
                        .map_or(&[][..], |l| l.routes.as_slice())
                        .iter()
                        .filter(|r| r.service.name == service.name && r.route.host == host.host)
                        .filter_map(|r| {
                            let target = targets
                                .iter()
                                .find(|t| t.service.name == service.name && t.port.port == r.route.port)?;
                            Some(RuleRef { rule: r.logical_id(), target_group_output: target.output() })
                        })
                        .collect();
                    (Mechanism::Path, rules, Some(legacy::old_side_target_group_output(host.host)))
                }
            };
            tracks.push(Track {
                host: host.host.to_owned(),
                mechanism,
                record_type: host.side.public.record_type(),
                old_values: host.side.public.values(),
                rules,
                old_side_output,
                probe_path,
                old_requests: host.side.requests.as_ref().map(MetricRef::from),
            });
        }
        let nothing_to_migrate = if service.routes.is_empty() {
            Some("no public route: its traffic comes from the services that call it".to_owned())
        } else if tracks.is_empty() {
            Some(if p.legacy.is_none() {
                "the platform has no old side (no `legacy` in acme.yaml)".to_owned()
            } else {
                "its hosts are new: deploy points them at the load balancer".to_owned()
            })
        } else {
            None
        };
        let targets: Vec<&Target<'_>> = self.targets.iter().filter(|t| t.service.name == service.name).collect();
        let alarms = targets.iter().flat_map(|t| TargetAlarm::ALL.map(|a| target_alarm(p, t, a))).collect();
        let target_groups = targets.iter().map(|t| t.output()).collect();
        let m = &service.migration;
        ServicePlan {
            service: service.name.clone(),
            tracks,
            steps: m.steps.clone(),
            bake_seconds: m.bake_seconds,
            probe_status: m.probe.status,
            probe_latency_ms: m.probe.latency_ms,
            websocket: service.websocket,
            baseline: m.baseline.clone(),
            alarms,
            front_door_alarms: vec![acme_synth::stacks::observability::load_balancer_error_alarm(p, shard)],
            target_groups,
            edge: StackName::Edge(shard),
            required_healthy: service.replicas.min,
            blockers,
            nothing_to_migrate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_spec::fixture;

    fn by_name(p: &Platform, name: &str) -> ServicePlan {
        plan_service(p, p.service(name).expect("service"))
    }

    #[test]
    fn a_service_on_its_own_host_moves_by_dns_and_one_sharing_a_host_by_path() {
        let p = fixture::acme();
        let auth = by_name(&p, "auth");
        assert_eq!(auth.tracks.len(), 1);
        assert_eq!((auth.tracks[0].mechanism, auth.tracks[0].record_type), (Mechanism::Dns, "CNAME"));
        assert_eq!(auth.tracks[0].old_values, ["old-lb.acme-legacy.example.net"]);
        assert_eq!(auth.stages(), [(Stage::Main, vec![Knob::Dns("auth.acme.example.com".into())])]);
        assert_eq!(auth.ttl(Stage::Main), DNS_TTL_SECONDS);

        let api = by_name(&p, "api");
        let www = "www.acme.example.com".to_owned();
        assert_eq!(api.tracks[0].mechanism, Mechanism::Path);
        assert_eq!(api.tracks[0].rules.len(), 1);
        assert_eq!(api.tracks[0].rules[0].target_group_output, "ApiTargetGroupArn");
        assert_eq!(api.tracks[0].old_side_output.as_deref(), Some("OldSideWwwAcmeExampleComTargetGroupArn"));
        assert_eq!(api.tracks[0].probe_path, "/api/healthz");
        assert_eq!(
            api.stages(),
            [(Stage::FrontDoor, vec![Knob::Dns(www.clone())]), (Stage::Main, vec![Knob::Rules(www)])]
        );
        // Rules take effect at the load balancer at once: no DNS TTL to wait for.
        assert_eq!(api.ttl(Stage::Main), 0);
        assert!(api.startable(), "{:?}", api.blockers);
    }

    #[test]
    fn gates_name_the_services_alarms_and_target_groups() {
        let chat = by_name(&fixture::acme(), "chat");
        assert_eq!(chat.alarms, ["acme-chat-5xx-rate", "acme-chat-p99-latency", "acme-chat-unhealthy-hosts"]);
        assert_eq!(chat.target_groups, ["ChatTargetGroupArn"]);
        assert!(chat.websocket);
        assert_eq!(
            (chat.steps.as_slice(), chat.bake_seconds, chat.required_healthy),
            (&[1, 5, 25, 50, 100][..], 300, 2)
        );
    }

    #[test]
    fn a_path_migration_the_load_balancer_cannot_forward_is_blocked_with_the_fix() {
        let mut p = fixture::acme();
        if let Some(www) = p.legacy.as_mut().and_then(|l| l.hosts.get_mut("www.acme.example.com")) {
            www.private = None;
        }
        let api = by_name(&p, "api");
        assert!(!api.startable());
        assert_eq!(api.blockers.len(), 1);
        assert!(api.blockers[0].reason.contains("shared with web by path"), "{:?}", api.blockers);
        assert!(api.blockers[0].fix.contains("private_addresses"));
        assert!(by_name(&p, "auth").startable(), "auth moves by DNS, which needs no private route");
    }

    #[test]
    fn services_with_nothing_to_move_say_why() {
        let mut p = fixture::acme();
        p.services[3].routes.clear();
        assert!(by_name(&p, "chat").nothing_to_migrate.as_deref().is_some_and(|n| n.contains("no public route")));
        p.legacy.as_mut().map(|l| l.hosts.remove("auth.acme.example.com"));
        assert!(by_name(&p, "auth").nothing_to_migrate.as_deref().is_some_and(|n| n.contains("hosts are new")));
        p.legacy = None;
        assert!(by_name(&p, "web").nothing_to_migrate.as_deref().is_some_and(|n| n.contains("no old side")));
    }

    #[test]
    fn the_probe_path_follows_the_route_unless_acme_yaml_names_one() {
        let mut p = fixture::acme();
        assert_eq!(by_name(&p, "web").tracks[0].probe_path, "/healthz");
        p.services[1].migration.probe.path = Some("/api/status".into());
        assert_eq!(by_name(&p, "api").tracks[0].probe_path, "/api/status");
    }

    #[test]
    fn a_service_on_the_second_load_balancer_is_migrated_there() {
        let mut p = fixture::acme();
        let template = p.service("auth").expect("auth").clone();
        for i in 0..26 {
            let mut s = template.clone();
            s.name = format!("extra{i}");
            s.namespace = s.name.clone();
            s.routes[0].host = format!("extra{i}.acme.example.com");
            p.services.push(s);
        }
        // One of them moves from the old side, which the second load balancer carries.
        let host = "extra25.acme.example.com".to_owned();
        let side = p.legacy.as_ref().and_then(|l| l.hosts.get("auth.acme.example.com")).cloned().expect("auth's side");
        p.legacy.as_mut().expect("legacy").hosts.insert(host.clone(), side);
        let plan = by_name(&p, "extra25");
        assert_eq!(plan.edge, StackName::Edge(1));
        assert_eq!(plan.front_door_alarms, ["acme-alb-2-5xx-rate"]);
        assert_eq!(plan.hosts(), [host.as_str()]);
        assert_eq!(by_name(&p, "auth").edge, StackName::EDGE);
    }
}
