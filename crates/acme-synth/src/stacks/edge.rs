//! The `edge` stack: the internet-facing Application Load Balancer, its listeners,
//! one IP target group per routed service port, the listener rules, the optional WAF,
//! the access-log bucket and the DNS records that point at the load balancer.
//!
//! The records live here rather than in `dns` because the load balancer needs the dns
//! stack's certificates first. Pods join the target groups through `TargetGroupBinding`
//! (services stack); the target group ARNs are outputs for that and for the alarms.
//!
//! The load balancer is IPv4 only: the network model has no IPv6 CIDR, and a dualstack ALB
//! needs IPv6 on its subnets. Switching to `dualstack` means AAAA records and `::/0` rules.

use crate::stacks::buckets::{deny_insecure_transport, lifecycle, private_bucket, sse_s3};
use crate::stacks::legacy::{self, OldHost};
use crate::stacks::names;
use crate::stacks::shards::{self, Shard, ShardPlan};
use crate::{Stack, StackName};
use acme_cfn::resources::Tag;
use acme_cfn::resources::ec2::{EgressRule, IngressRule, SecurityGroup, SecurityGroupIngress};
use acme_cfn::resources::elbv2::{
    Action, Attribute, Certificate, FixedResponseConfig, Listener, ListenerCertificate, ListenerRule, LoadBalancer,
    Matcher, RedirectConfig, RuleCondition, TargetDescription, TargetGroup,
};
use acme_cfn::resources::iam::{PolicyDocument, Principal, Statement};
use acme_cfn::resources::logs::LogGroup;
use acme_cfn::resources::route53::{AliasTarget, RecordSet};
use acme_cfn::resources::s3::BucketPolicy;
use acme_cfn::resources::wafv2::{
    DefaultAction, Empty, FieldToMatch, LoggingConfiguration, ManagedRuleGroupStatement, OverrideAction,
    RateBasedStatement, Rule, RuleAction, SingleHeader, Statement as WafStatement, VisibilityConfig, WebAcl,
    WebAclAssociation,
};
use acme_cfn::{Cond, Condition, Expr, ParameterType, pascal};
use acme_spec::{Platform, Route, Service, ServicePort};
use std::collections::{BTreeMap, BTreeSet};

/// The default TLS policy (`edge.tls_policy`): TLS 1.3 plus TLS 1.2 with ECDHE and AES-GCM
/// only, with hybrid post-quantum key exchange offered to clients that support it. The
/// restricted (`Res`) family is the strictest that still serves every TLS 1.2 browser; AWS
/// recommends it and the console uses it by default.
pub const HTTPS_SSL_POLICY: &str = acme_spec::validate::DEFAULT_TLS_POLICY;

/// ALB idle timeout floor when any service holds WebSocket connections. The timeout is
/// an attribute of the whole load balancer, so one WebSocket service raises it for all.
pub const WEBSOCKET_IDLE_TIMEOUT_SECONDS: u32 = 3600;

/// The largest idle timeout an ALB accepts.
const MAX_IDLE_TIMEOUT_SECONDS: u32 = 4000;

/// Drain time of a target leaving its group: short for request/response services,
/// long for WebSocket services so open connections can finish.
pub const DEREGISTRATION_DELAY_SECONDS: u32 = 30;
pub const WEBSOCKET_DEREGISTRATION_DELAY_SECONDS: u32 = 300;

/// Health checks of the target groups: every 15 s, healthy after 2 in a row. The pods' rollout
/// waits that long for a new pod (`kubernetes::workload::MIN_READY_SECONDS`).
pub const HEALTH_CHECK_INTERVAL_SECONDS: u32 = 15;
pub const HEALTHY_THRESHOLD_COUNT: u32 = 2;

/// Requests one client IP may send in five minutes before the WAF blocks it (about 10/s).
pub const WAF_RATE_LIMIT_PER_5_MIN: u64 = 3000;

/// EKS Auto Mode registers pods into a target group (its `TargetGroupBinding`,
/// `eks.amazonaws.com/v1`) through the cluster role's AmazonEKSLoadBalancingPolicy, which
/// allows `RegisterTargets`/`DeregisterTargets` only on target groups tagged with the
/// cluster's name. Without the tag the binding never registers a pod: a silent outage.
pub const EKS_CLUSTER_NAME_TAG: &str = "eks:eks-cluster-name";

/// Key prefix of the access logs inside their bucket.
const ACCESS_LOG_PREFIX: &str = "alb";

/// Security-group rules this stack spends on service ports, on the ALB group and on the
/// cluster group (60 inbound rules per group by default, shared with EKS's own rules).
const MAX_PORT_RULES: usize = 20;

// Logical ids other code and tests refer to.
pub const LOAD_BALANCER: &str = "LoadBalancer";
pub const SECURITY_GROUP: &str = "LoadBalancerSecurityGroup";
pub const HTTPS_LISTENER: &str = "HttpsListener";
pub const HTTP_LISTENER: &str = "HttpListener";
pub const ACCESS_LOG_BUCKET: &str = "AccessLogBucket";
pub const ACCESS_LOG_BUCKET_POLICY: &str = "AccessLogBucketPolicy";
pub const WEB_ACL: &str = "WebAcl";
/// The first shard's output the other shards' load balancers join the WAF by.
pub const WEB_ACL_OUTPUT: &str = "WebAclArn";
pub const OLD_SIDE_SECURITY_GROUP: &str = "OldSideSecurityGroup";

/// A target group: one per service port that at least one route sends traffic to.
#[derive(Clone, Debug, PartialEq)]
pub struct Target<'a> {
    pub service: &'a Service,
    pub port: ServicePort,
}

impl Target<'_> {
    pub fn logical_id(&self) -> String {
        names::target_group(self.service, &self.port)
    }

    /// Name of the edge output carrying this target group's ARN.
    pub fn output(&self) -> String {
        names::target_group_output(self.service, &self.port)
    }

    /// `web`, or `web-admin` for a second port: for alarm and widget names.
    pub fn slug(&self) -> String {
        if self.port.port == self.service.main_port() {
            self.service.name.clone()
        } else {
            format!("{}-{}", self.service.name, self.port.name)
        }
    }
}

/// Every target group of the platform, in service order, then port order.
pub fn targets(p: &Platform) -> Vec<Target<'_>> {
    let mut out = vec![];
    for service in &p.services {
        let routed: BTreeSet<u16> = service.routes.iter().map(|r| r.port).collect();
        for port in &service.ports {
            if routed.contains(&port.port) {
                out.push(Target { service, port: port.clone() });
            }
        }
        // A route to a port the service does not declare is rejected by the spec
        // validator; should one get through, it still gets a target group of its own.
        for &port in &routed {
            if !service.ports.iter().any(|sp| sp.port == port) {
                out.push(Target { service, port: ServicePort { name: format!("port-{port}"), port } });
            }
        }
    }
    out
}

/// A listener rule: one route of one service and the rule's priority.
#[derive(Clone, Debug, PartialEq)]
pub struct ListenerRoute<'a> {
    pub service: &'a Service,
    pub route: &'a Route,
    pub priority: u32,
}

impl ListenerRoute<'_> {
    /// Derived from the route alone, so the rule keeps its identity when other routes
    /// come and go, or when the route moves to another service (a changed logical id
    /// would create the replacement while the old rule still holds the priority).
    pub fn logical_id(&self) -> String {
        format!("Rule{:016X}", stable_hash(&route_key(self.route)))
    }

    /// The `path-pattern` values: `/api` matches `/api` itself and everything below it.
    pub fn path_patterns(&self) -> Option<Vec<String>> {
        normalized_path(self.route.path.as_deref()).map(|p| vec![p.clone(), format!("{p}/*")])
    }
}

/// Priority ranges, evaluated lowest first. Index 0 holds host-only rules, index `d`
/// the rules whose path has `d` segments; the last range also takes anything deeper.
///
/// Why ranges: two rules of one host overlap only when one path is a prefix (by whole
/// segments) of the other, and then the deeper one must win. Deeper paths live in lower
/// ranges, and every host's catch-all rule is above all path rules, so the order holds
/// whatever the hashes are. Rules in the same range never overlap: different hosts, or
/// sibling paths of the same depth. Each range has at least 100 slots, the route quota.
/// Paths deeper than 12 segments share the last range, where their order is not
/// guaranteed.
const PRIORITY_RANGES: [(u32, u32); 13] = [
    (46_001, 50_000),
    (26_001, 46_000),
    (14_001, 26_000),
    (8_001, 14_000),
    (4_001, 8_000),
    (2_001, 4_000),
    (1_201, 2_000),
    (801, 1_200),
    (501, 800),
    (301, 500),
    (201, 300),
    (101, 200),
    (1, 100),
];

/// Listener rules with stable priorities, in service and route order.
///
/// A rule's priority is its home slot, a hash of host and path within its range, so it
/// does not depend on the rule's position, nor on which other routes exist. CloudFormation
/// changes priorities one rule at a time and two rules may never share one, so a reshuffle
/// would fail the update. On a collision the routes are probed in key order (the next free
/// slot in the range), which keeps the result a function of the set of routes alone; only
/// routes that collide can move each other. A repeated host and path keeps its first route.
pub fn listener_routes(p: &Platform) -> Vec<ListenerRoute<'_>> {
    rules(p).routes
}

/// The old side's catch-all rule of a host shared by path: while its services move, the
/// paths no service declares still reach the old side. Only for hosts whose old side the
/// load balancer can reach, and that no service routes as a whole.
#[derive(Clone, Debug, PartialEq)]
pub struct OldSideRule<'a> {
    pub host: &'a str,
    pub priority: u32,
}

impl OldSideRule<'_> {
    /// The id a route of the whole host would have: the host's catch-all, whoever serves it.
    pub fn logical_id(&self) -> String {
        format!("Rule{:016X}", stable_hash(&self.host.to_ascii_lowercase()))
    }
}

pub fn old_side_rules(p: &Platform) -> Vec<OldSideRule<'_>> {
    rules(p).old_side
}

/// A service's probe rule on a host it shares by path with the old side: requests that
/// carry the migration's probe header go to the service's own target group, whatever the
/// weights of its route, so that `acmectl migrate` can judge the new side alone.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeRule<'a> {
    pub service: &'a Service,
    pub host: &'a str,
    pub priority: u32,
}

/// Header of the migration's probes; its value is the service's name.
pub const PROBE_HEADER: &str = "X-Acmectl-Probe";

impl ProbeRule<'_> {
    pub fn logical_id(&self) -> String {
        format!("Probe{}{}Rule", pascal(&self.service.name), pascal(self.host))
    }

    fn key(service: &str, host: &str) -> String {
        format!("probe:{}:{service}", host.to_ascii_lowercase())
    }
}

pub fn probe_rules(p: &Platform) -> Vec<ProbeRule<'_>> {
    rules(p).probes
}

/// The rules of one listener before their priorities: the routes (the first of a repeated
/// host and path), the old side's catch-alls and the probe rules, of the hosts `on` takes.
struct RuleKeys<'a> {
    routes: Vec<(&'a Service, &'a Route, String)>,
    catch_alls: Vec<&'a str>,
    probes: Vec<(&'a Service, &'a str)>,
}

fn rule_keys<'a>(p: &'a Platform, on: &dyn Fn(&str) -> bool) -> RuleKeys<'a> {
    let mut seen = BTreeSet::new();
    let mut routes: Vec<(&Service, &Route, String)> = vec![];
    for service in &p.services {
        for route in service.routes.iter().filter(|r| on(&r.host)) {
            let key = route_key(route);
            if seen.insert(key.clone()) {
                routes.push((service, route, key));
            }
        }
    }
    let shared: Vec<OldHost<'_>> =
        legacy::old_hosts(p).into_iter().filter(|h| on(h.host) && h.has_old_side_target_group()).collect();
    let catch_alls: Vec<&str> =
        shared.iter().filter(|h| !seen.contains(&h.host.to_ascii_lowercase())).map(|h| h.host).collect();
    let probes: Vec<(&Service, &str)> =
        shared.iter().flat_map(|h| h.services.iter().map(move |s| (*s, h.host))).collect();
    RuleKeys { routes, catch_alls, probes }
}

/// The host of every listener rule of the platform, one entry a rule: what the shard plan
/// counts against the rules quota.
pub fn rule_hosts(p: &Platform) -> Vec<&str> {
    let keys = rule_keys(p, &|_| true);
    keys.routes
        .iter()
        .map(|(_, r, _)| r.host.as_str())
        .chain(keys.catch_alls.iter().copied())
        .chain(keys.probes.iter().map(|(_, h)| *h))
        .collect()
}

/// The rules of one listener with their priorities.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rules<'a> {
    pub routes: Vec<ListenerRoute<'a>>,
    pub old_side: Vec<OldSideRule<'a>>,
    pub probes: Vec<ProbeRule<'a>>,
}

/// The rules of one shard's listener. Priorities only need to differ within a listener, so
/// each shard's are a function of its own routes: at most 100, which every range holds.
pub fn shard_rules<'a>(p: &'a Platform, shard: &Shard) -> Rules<'a> {
    let hosts: BTreeSet<&str> = shard.hosts.iter().map(String::as_str).collect();
    prioritized(rule_keys(p, &|h| hosts.contains(h.to_ascii_lowercase().as_str())))
}

/// Every rule of every shard.
fn rules(p: &Platform) -> Rules<'_> {
    let mut all = Rules::default();
    for shard in &shards::plan(p).shards {
        let r = shard_rules(p, shard);
        all.routes.extend(r.routes);
        all.old_side.extend(r.old_side);
        all.probes.extend(r.probes);
    }
    all
}

/// Priorities for one listener's rules. Probe rules match only requests with the probe
/// header, so they sit in the first range, ahead of every route, without taking traffic
/// from any.
fn prioritized(keys: RuleKeys<'_>) -> Rules<'_> {
    let RuleKeys { routes, catch_alls, probes } = keys;
    // (key, depth) of every rule: the routes, the catch-alls (depth 0), the probes (first range).
    let first_range = PRIORITY_RANGES.len() - 1;
    let keys: Vec<(String, usize)> = routes
        .iter()
        .map(|(_, route, key)| (key.clone(), path_depth(route.path.as_deref())))
        .chain(catch_alls.iter().map(|h| (h.to_ascii_lowercase(), 0)))
        .chain(probes.iter().map(|(s, h)| (ProbeRule::key(&s.name, h), first_range)))
        .collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].0.cmp(&keys[b].0));
    let mut taken = BTreeSet::new();
    let mut priorities = vec![0; keys.len()];
    for i in order {
        let (key, depth) = &keys[i];
        let range = (*depth).min(PRIORITY_RANGES.len() - 1);
        let (lo, hi) = PRIORITY_RANGES[range];
        let size = u64::from(hi - lo + 1);
        let home = stable_hash(key) % size;
        let probe = (0..size).map(|step| lo + ((home + step) % size) as u32);
        // A full range cannot happen within the rules quota of one listener; fall back to
        // any free slot rather than fail, at the cost of the ordering guarantee.
        let slot = probe.chain(1..=50_000).find(|s| !taken.contains(s)).unwrap_or(50_000);
        taken.insert(slot);
        priorities[i] = slot;
    }
    let (route_slots, rest) = priorities.split_at(routes.len());
    let (catch_all_slots, probe_slots) = rest.split_at(catch_alls.len());
    let old_side =
        catch_alls.iter().zip(catch_all_slots).map(|(host, &priority)| OldSideRule { host, priority }).collect();
    let probes = probes
        .iter()
        .zip(probe_slots)
        .map(|(&(service, host), &priority)| ProbeRule { service, host, priority })
        .collect();
    let routes = routes
        .into_iter()
        .zip(route_slots)
        .map(|((service, route, _), &priority)| ListenerRoute { service, route, priority })
        .collect();
    Rules { routes, old_side, probes }
}

/// `host` or `host/path`, lowercased host: what identifies a route on the listener.
fn route_key(route: &Route) -> String {
    let host = route.host.to_ascii_lowercase();
    match normalized_path(route.path.as_deref()) {
        Some(path) => format!("{host}{path}"),
        None => host,
    }
}

/// `/api/` → `/api`; `/` and empty → `None` (the whole host).
fn normalized_path(path: Option<&str>) -> Option<String> {
    let segments: Vec<&str> = path?.split('/').filter(|s| !s.is_empty()).collect();
    (!segments.is_empty()).then(|| format!("/{}", segments.join("/")))
}

fn path_depth(path: Option<&str>) -> usize {
    path.map_or(0, |p| p.split('/').filter(|s| !s.is_empty()).count())
}

/// 64-bit FNV-1a: fixed across platforms, Rust versions and runs (unlike `DefaultHasher`).
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The deregistration delay of a service's target groups.
pub fn deregistration_delay(s: &Service) -> u32 {
    if s.websocket { WEBSOCKET_DEREGISTRATION_DELAY_SECONDS } else { DEREGISTRATION_DELAY_SECONDS }
}

/// The idle timeout of a load balancer: the configured one, raised when it carries a
/// WebSocket service.
pub fn idle_timeout_seconds(p: &Platform, websocket: bool) -> u32 {
    let configured = p.edge.idle_timeout_seconds.clamp(1, MAX_IDLE_TIMEOUT_SECONDS);
    if websocket { configured.max(WEBSOCKET_IDLE_TIMEOUT_SECONDS) } else { configured }
}

/// Inclusive port ranges covering `ports`: adjacent ports merged, then the closest
/// neighbours merged until at most `max` ranges remain.
fn port_ranges(ports: &BTreeSet<u16>, max: usize) -> Vec<(u16, u16)> {
    let mut ranges: Vec<(u16, u16)> = vec![];
    for &port in ports {
        match ranges.last_mut() {
            Some(last) if u32::from(last.1) + 1 == u32::from(port) => last.1 = port,
            _ => ranges.push((port, port)),
        }
    }
    while ranges.len() > max.max(1) {
        let closest = (1..ranges.len()).min_by_key(|&i| (ranges[i].0 - ranges[i - 1].1, i)).unwrap_or(1);
        ranges[closest - 1].1 = ranges[closest].1;
        ranges.remove(closest);
    }
    ranges
}

fn port_label(from: u16, to: u16) -> String {
    if from == to { format!("port {from}") } else { format!("ports {from}-{to}") }
}

/// Who may write ALB access logs into the bucket. Regions opened before August 2022 use
/// the regional Elastic Load Balancing account; later ones the log delivery service
/// principal (Elastic Load Balancing user guide, "Enable access logs").
fn elb_log_writer(region: &str) -> Principal {
    let account = match region {
        "us-east-1" => Some("127311923021"),
        "us-east-2" => Some("033677994240"),
        "us-west-1" => Some("027434742980"),
        "us-west-2" => Some("797873946194"),
        "af-south-1" => Some("098369216593"),
        "ca-central-1" => Some("985666609251"),
        "eu-central-1" => Some("054676820928"),
        "eu-west-1" => Some("156460612806"),
        "eu-west-2" => Some("652711504416"),
        "eu-south-1" => Some("635631232127"),
        "eu-west-3" => Some("009996457667"),
        "eu-north-1" => Some("897822967062"),
        "ap-east-1" => Some("754344448648"),
        "ap-northeast-1" => Some("582318560864"),
        "ap-northeast-2" => Some("600734575887"),
        "ap-northeast-3" => Some("383597477331"),
        "ap-southeast-1" => Some("114774131450"),
        "ap-southeast-2" => Some("783225319266"),
        "ap-south-1" => Some("718504428378"),
        "me-south-1" => Some("076674570225"),
        "sa-east-1" => Some("507241528517"),
        "us-gov-west-1" => Some("048591011584"),
        "us-gov-east-1" => Some("190560391635"),
        _ => None,
    };
    match account {
        Some(account) => Principal::aws(Expr::sub(format!("arn:${{AWS::Partition}}:iam::{account}:root"))),
        None => Principal::service("logdelivery.elasticloadbalancing.amazonaws.com"),
    }
}

fn waf_visibility(metric: String) -> VisibilityConfig {
    VisibilityConfig { sampled_requests_enabled: true, cloud_watch_metrics_enabled: true, metric_name: metric }
}

fn managed_rule(p: &Platform, name: &str, group: &str, priority: u32) -> Rule {
    Rule {
        name: name.into(),
        priority,
        statement: WafStatement {
            managed_rule_group_statement: Some(ManagedRuleGroupStatement {
                vendor_name: "AWS".into(),
                name: group.into(),
                version: None,
                excluded_rules: vec![],
            }),
            ..Default::default()
        },
        action: None,
        override_action: Some(OverrideAction { none: Some(Empty {}), count: None }),
        visibility_config: waf_visibility(format!("{}-{name}", p.name)),
    }
}

/// The migrated flag of every migrating service on `old_hosts` (a kept parameter) and the
/// conditions built on them; returns each old host's "migrated" condition by host.
fn migration_conditions(stack: &mut Stack, p: &Platform, old_hosts: &[OldHost<'_>]) -> BTreeMap<String, String> {
    // The shard's: a migrating service is routed on an old host, all of whose services share
    // the host's load balancer.
    let on_these_hosts = |s: &Service| old_hosts.iter().any(|h| h.services.iter().any(|o| o.name == s.name));
    for service in legacy::migrating_services(p).into_iter().filter(|s| on_these_hosts(s)) {
        let flag = stack.kept_parameter(
            &legacy::migrated_parameter(&service.name),
            format!(
                "Whether {} has finished its migration from the old side: set by acmectl migrate finalize, kept as \
                 deployed by acmectl deploy.",
                service.name
            ),
            "false",
            &["false", "true"],
        );
        stack.template.add_condition(legacy::service_migrated(&service.name), Condition::Equals(flag, "true".into()));
    }
    let mut migrated = BTreeMap::new();
    for h in old_hosts {
        let services: Vec<String> = h.services.iter().map(|s| legacy::service_migrated(&s.name)).collect();
        let all = stack.template.all_of(&legacy::host_migrated(h.host), &services);
        if h.has_old_side_target_group() {
            stack.template.add_condition(legacy::host_on_old_side(h.host), Condition::Not(all.clone()));
        }
        migrated.insert(h.host.to_owned(), all);
    }
    migrated
}

/// The target group of a shared host's old side: its private addresses as IP targets
/// outside the VPC, for as long as a service on the host still sends traffic there.
fn old_side_target_group(t: &mut acme_cfn::Template, host: &OldHost<'_>, vpc: &Expr) {
    let Some(origin) = &host.side.private else { return };
    let id = legacy::old_side_target_group(host.host);
    let on_old_side = legacy::host_on_old_side(host.host);
    t.add(
        id.clone(),
        TargetGroup {
            name: None,
            target_type: "ip".into(),
            protocol: origin.protocol.clone(),
            protocol_version: Some("HTTP1".into()),
            port: origin.port,
            vpc_id: vpc.clone(),
            health_check_enabled: true,
            health_check_protocol: origin.protocol.clone(),
            health_check_path: origin.health_path.clone(),
            health_check_port: Some("traffic-port".into()),
            health_check_interval_seconds: HEALTH_CHECK_INTERVAL_SECONDS,
            health_check_timeout_seconds: 5,
            healthy_threshold_count: HEALTHY_THRESHOLD_COUNT,
            unhealthy_threshold_count: 3,
            matcher: Matcher { http_code: origin.health_codes.clone() },
            target_group_attributes: vec![Attribute::new(
                "deregistration_delay.timeout_seconds",
                DEREGISTRATION_DELAY_SECONDS.to_string(),
            )],
            targets: origin
                .addresses
                .iter()
                .map(|a| TargetDescription {
                    id: a.to_string(),
                    port: origin.port,
                    availability_zone: Some("all".into()),
                })
                .collect(),
            tags: vec![],
        },
    )
    .condition(on_old_side.clone());
    t.conditional_output(
        legacy::old_side_target_group_output(host.host),
        format!("ARN of the target group of {}'s old side", host.host),
        Expr::r#ref(id),
        &on_old_side,
    );
}

/// The load balancer's way to the old side's private addresses: a security group of its
/// own, attached to the load balancer for as long as a host forwards there. Returns the
/// group's entry for the load balancer's list.
fn old_side_security_group(
    t: &mut acme_cfn::Template,
    p: &Platform,
    old_hosts: &[OldHost<'_>],
    vpc: &Expr,
) -> Option<Cond<Expr>> {
    let mut addresses: BTreeSet<(std::net::Ipv4Addr, u16)> = BTreeSet::new();
    let mut hosts = vec![];
    for h in old_hosts.iter().filter(|h| h.has_old_side_target_group()) {
        let Some(origin) = &h.side.private else { continue };
        addresses.extend(origin.addresses.iter().map(|a| (*a, origin.port)));
        hosts.push(legacy::host_on_old_side(h.host));
    }
    if hosts.is_empty() {
        return None;
    }
    let condition = t.any_of("SomeHostOnOldSide", &hosts);
    t.add(
        OLD_SIDE_SECURITY_GROUP,
        SecurityGroup {
            group_description: format!(
                "{} ALB: to the private addresses of the old side while hosts move over",
                p.name
            ),
            vpc_id: vpc.clone(),
            security_group_ingress: vec![],
            security_group_egress: addresses
                .into_iter()
                .map(|(address, port)| {
                    EgressRule {
                        description: format!("To the old side at {address}:{port}"),
                        ip_protocol: "tcp".into(),
                        from_port: Some(port),
                        to_port: Some(port),
                        cidr_ip: Some(format!("{address}/32").into()),
                        ..Default::default()
                    }
                    .into()
                })
                .collect(),
        },
    )
    .condition(condition.clone());
    Some(Cond::When { condition, value: Expr::att(OLD_SIDE_SECURITY_GROUP, "GroupId") })
}

/// The first shard's share of the edge ([`Shared`]), with the outputs the other shards
/// import it by.
fn shared(stack: &mut Stack, p: &Platform, vpc: &Expr) -> Shared {
    let cluster_sg = stack.import(StackName::Cluster, "ClusterSecurityGroupId", ParameterType::SecurityGroupId);
    let logs_key = p.edge.waf.then(|| stack.import(StackName::Keys, "LogsKeyArn", ParameterType::String));
    let targets = targets(p);
    // Health checks of a second port's group go to the main port, which must be open too.
    let ports: BTreeSet<u16> = targets.iter().flat_map(|t| [t.port.port, t.service.main_port()]).collect();
    let ranges = port_ranges(&ports, MAX_PORT_RULES);

    // Security groups. The cluster group belongs to EKS (cluster stack), so the ALB's way
    // in is a standalone ingress rule on it; the ALB group's own rules can stay inline.
    let mut egress: Vec<Cond<EgressRule>> = ranges
        .iter()
        .map(|&(from, to)| {
            EgressRule {
                description: format!("To pods on service {}", port_label(from, to)),
                ip_protocol: "tcp".into(),
                from_port: Some(from),
                to_port: Some(to),
                destination_security_group_id: Some(cluster_sg.clone()),
                ..Default::default()
            }
            .into()
        })
        .collect();
    if egress.is_empty() {
        // No routed service yet: a rule that matches nothing replaces the default allow-all.
        egress.push(
            EgressRule {
                description: "No egress until a service is routed".into(),
                ip_protocol: "icmp".into(),
                from_port: Some(252),
                to_port: Some(86),
                cidr_ip: Some("255.255.255.255/32".into()),
                ..Default::default()
            }
            .into(),
        );
    }
    let ingress = [(443, "HTTPS from anywhere"), (80, "HTTP from anywhere, only redirected to HTTPS")]
        .into_iter()
        .map(|(port, description)| IngressRule {
            description: description.into(),
            ip_protocol: "tcp".into(),
            from_port: port,
            to_port: port,
            cidr_ip: Some("0.0.0.0/0".into()),
            source_security_group_id: None,
        })
        .collect();
    let t = &mut stack.template;
    t.add(
        SECURITY_GROUP,
        SecurityGroup {
            group_description: format!("{} internet-facing ALB: 80 and 443 from anywhere, service ports to pods", p.name),
            vpc_id: vpc.clone(),
            security_group_ingress: ingress,
            security_group_egress: egress,
        },
    )
    .skip_checkov(
        "CKV_AWS_260",
        "Public load balancer: port 80 is open only so browsers reach the listener that answers every request with a 301 redirect to HTTPS; no content is served over HTTP.",
    );
    for &(from, to) in &ranges {
        let id = if from == to {
            format!("ClusterIngressFromAlb{from}")
        } else {
            format!("ClusterIngressFromAlb{from}To{to}")
        };
        t.add(
            id,
            SecurityGroupIngress {
                group_id: cluster_sg.clone(),
                description: format!("From the {} ALB to pods on {}", p.name, port_label(from, to)),
                ip_protocol: "tcp".into(),
                from_port: from,
                to_port: to,
                cidr_ip: None,
                source_security_group_id: Some(Expr::att(SECURITY_GROUP, "GroupId")),
            },
        );
    }

    // Access logs. ELB delivers them only to SSE-S3 buckets, so no KMS here.
    t.add(
        ACCESS_LOG_BUCKET,
        private_bucket(sse_s3(), lifecycle("expire-access-logs", Some(90), 30), None),
    )
    .retain()
    .skip_checkov(
        "CKV_AWS_18",
        "This bucket is itself the access-log destination of the load balancer; logging its own accesses would need another log bucket for it, without end. Writes come only from Elastic Load Balancing log delivery.",
    );
    t.add(
        ACCESS_LOG_BUCKET_POLICY,
        BucketPolicy {
            bucket: Expr::r#ref(ACCESS_LOG_BUCKET),
            policy_document: PolicyDocument::new(vec![
                deny_insecure_transport(ACCESS_LOG_BUCKET),
                Statement::allow(
                    &["s3:PutObject"],
                    vec![Expr::sub(format!(
                        "${{{ACCESS_LOG_BUCKET}.Arn}}/{ACCESS_LOG_PREFIX}/AWSLogs/${{AWS::AccountId}}/*"
                    ))],
                )
                .sid("AllowLoadBalancerAccessLogs")
                .principal(elb_log_writer(&p.region)),
            ]),
        },
    );

    if let Some(logs_key) = logs_key {
        let rate_limit = Rule {
            name: "RateLimitPerIp".into(),
            priority: 1,
            statement: WafStatement {
                rate_based_statement: Some(RateBasedStatement {
                    limit: WAF_RATE_LIMIT_PER_5_MIN,
                    aggregate_key_type: "IP".into(),
                    evaluation_window_sec: Some(300),
                }),
                ..Default::default()
            },
            action: Some(RuleAction { block: Some(Empty {}), ..Default::default() }),
            override_action: None,
            visibility_config: waf_visibility(format!("{}-RateLimitPerIp", p.name)),
        };
        t.add(
            WEB_ACL,
            WebAcl {
                name: None,
                description: Some(format!("{} public load balancer", p.name)),
                scope: "REGIONAL".into(),
                default_action: DefaultAction { allow: Some(Empty {}), block: None },
                visibility_config: waf_visibility(format!("{}-edge", p.name)),
                rules: vec![
                    managed_rule(p, "AmazonIpReputationList", "AWSManagedRulesAmazonIpReputationList", 0),
                    rate_limit,
                    // Includes Log4JRCE (CVE-2021-44228), left in force.
                    managed_rule(p, "KnownBadInputs", "AWSManagedRulesKnownBadInputsRuleSet", 2),
                    managed_rule(p, "CommonRuleSet", "AWSManagedRulesCommonRuleSet", 3),
                ],
            },
        );
        t.add(
            "WafLogGroup",
            LogGroup {
                // WAF only logs to groups whose name starts with `aws-waf-logs-`.
                log_group_name: Some(format!("aws-waf-logs-{}-edge", p.name).into()),
                retention_in_days: 365,
                kms_key_id: logs_key,
            },
        )
        .retain();
        t.add(
            "WafLogging",
            LoggingConfiguration {
                resource_arn: Expr::att(WEB_ACL, "Arn"),
                // WAF wants the group ARN without the `:*` that `Fn::GetAtt ... Arn` appends.
                log_destination_configs: vec![Expr::sub(
                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${WafLogGroup}",
                )],
                // Credentials stay out of the logs.
                redacted_fields: ["authorization", "cookie"]
                    .into_iter()
                    .map(|h| FieldToMatch { single_header: Some(SingleHeader { name: h.into() }) })
                    .collect(),
            },
        );
    }

    t.output(
        "LoadBalancerSecurityGroupId",
        "Security group of the load balancers",
        Expr::att(SECURITY_GROUP, "GroupId"),
    );
    t.output("AccessLogBucketName", "Bucket holding the load balancers' access logs", Expr::r#ref(ACCESS_LOG_BUCKET));
    if p.edge.waf {
        t.output(
            WEB_ACL_OUTPUT,
            "ARN of the WAF web ACL every load balancer is associated with",
            Expr::att(WEB_ACL, "Arn"),
        );
    }
    Shared {
        security_group: Expr::att(SECURITY_GROUP, "GroupId"),
        access_log_bucket: Expr::r#ref(ACCESS_LOG_BUCKET),
        web_acl: p.edge.waf.then(|| Expr::att(WEB_ACL, "Arn")),
    }
}

/// The first shard's edge stack: the whole edge of a platform that fits one load balancer.
pub fn build(p: &Platform) -> Stack {
    let plan = shards::plan(p);
    build_shard(p, &plan.shards[0])
}

/// One edge stack per shard of `plan`, in shard order.
pub fn build_all(p: &Platform, plan: &ShardPlan) -> Vec<Stack> {
    plan.shards.iter().map(|shard| build_shard(p, shard)).collect()
}

/// What the shards share, made by the first shard: the security group (one set of rules on
/// the cluster's group, whatever the number of load balancers), the access-log bucket and
/// the WAF web ACL. Returns the security group and the bucket, and the WAF ACL if any.
struct Shared {
    security_group: Expr,
    access_log_bucket: Expr,
    web_acl: Option<Expr>,
}

/// The edge stack of one shard: its load balancer, listeners, target groups, rules and the
/// records of its hosts. Shard 0 also holds what the shards share ([`Shared`]); the others
/// import it from there.
pub fn build_shard(p: &Platform, shard: &Shard) -> Stack {
    let index = shard.index;
    let name = StackName::Edge(index);
    let mut stack = Stack::new(
        name,
        if index == 0 {
            format!("{}: internet-facing Application Load Balancer, target groups, WAF and DNS records", p.name)
        } else {
            format!(
                "{}: internet-facing Application Load Balancer {} of the edge, its target groups and DNS records",
                p.name,
                index + 1
            )
        },
    );
    let vpc = stack.import(StackName::Network, "VpcId", ParameterType::VpcId);
    let public_subnets = stack.import_list(StackName::Network, "PublicSubnetIds", ParameterType::SubnetIds);
    let zone = stack.import(StackName::Dns, "HostedZoneId", ParameterType::String);
    let hosts: Vec<&str> = shard.hosts.iter().map(String::as_str).collect();
    let certificates: Vec<Expr> = hosts
        .iter()
        .map(|h| stack.import(StackName::Dns, &names::certificate_output(h), ParameterType::String))
        .collect();
    let in_shard = |service: &Service| shard.services.contains(&service.name);
    let targets: Vec<Target<'_>> = targets(p).into_iter().filter(|t| in_shard(t.service)).collect();
    let Rules { routes, old_side: old_side_rules, probes: probe_rules } = shard_rules(p, shard);
    let old_hosts: Vec<OldHost<'_>> = legacy::old_hosts(p)
        .into_iter()
        .filter(|h| shard.hosts.iter().any(|s| s.eq_ignore_ascii_case(h.host)))
        .collect();
    let host_migrated = migration_conditions(&mut stack, p, &old_hosts);
    let shared = if index == 0 {
        shared(&mut stack, p, &vpc)
    } else {
        let first = StackName::EDGE;
        Shared {
            security_group: stack.import(first, "LoadBalancerSecurityGroupId", ParameterType::SecurityGroupId),
            access_log_bucket: stack.import(first, "AccessLogBucketName", ParameterType::String),
            web_acl: p.edge.waf.then(|| stack.import(first, WEB_ACL_OUTPUT, ParameterType::String)),
        }
    };
    let output = |base: &str| names::edge_output(index, base);

    let old_side_group = old_side_security_group(&mut stack.template, p, &old_hosts, &vpc);
    let websocket = targets.iter().any(|t| t.service.websocket);
    let t = &mut stack.template;
    let load_balancer = t.add(
        LOAD_BALANCER,
        LoadBalancer {
            name: None,
            load_balancer_type: "application".into(),
            scheme: "internet-facing".into(),
            ip_address_type: "ipv4".into(),
            subnets: public_subnets,
            security_groups: [shared.security_group.clone().into()].into_iter().chain(old_side_group).collect(),
            load_balancer_attributes: vec![
                Attribute::new("idle_timeout.timeout_seconds", idle_timeout_seconds(p, websocket).to_string()),
                Attribute::new("routing.http.drop_invalid_header_fields.enabled", "true"),
                // `defensive` blocks the requests that enable desync (request smuggling)
                // yet lets merely unusual clients through; `strictest` would also reject
                // those, which a migration from a legacy front end cannot afford.
                Attribute::new("routing.http.desync_mitigation_mode", "defensive"),
                Attribute::new("deletion_protection.enabled", "true"),
                Attribute::new("access_logs.s3.enabled", "true"),
                Attribute::new("access_logs.s3.bucket", shared.access_log_bucket.clone()),
                Attribute::new("access_logs.s3.prefix", ACCESS_LOG_PREFIX),
            ],
        },
    );
    if index == 0 {
        // ELB checks that it may write to the bucket when access logs are switched on.
        load_balancer.depends_on(ACCESS_LOG_BUCKET_POLICY);
    }

    t.add(
        HTTP_LISTENER,
        Listener {
            load_balancer_arn: Expr::r#ref(LOAD_BALANCER),
            port: 80,
            protocol: "HTTP".into(),
            ssl_policy: None,
            certificates: vec![],
            default_actions: vec![Action::redirect(RedirectConfig {
                protocol: Some("HTTPS".into()),
                port: Some("443".into()),
                host: Some("#{host}".into()),
                path: Some("/#{path}".into()),
                query: Some("#{query}".into()),
                status_code: "HTTP_301".into(),
            })],
        },
    );

    if let Some((default_certificate, more)) = certificates.split_first() {
        t.add(
            HTTPS_LISTENER,
            Listener {
                load_balancer_arn: Expr::r#ref(LOAD_BALANCER),
                port: 443,
                protocol: "HTTPS".into(),
                ssl_policy: Some(p.edge.tls_policy.clone()),
                certificates: vec![Certificate { certificate_arn: default_certificate.clone() }],
                default_actions: vec![Action::fixed_response(FixedResponseConfig {
                    status_code: "404".into(),
                    content_type: Some("text/plain".into()),
                    message_body: Some("Not Found".into()),
                })],
            },
        );
        for (host, certificate) in hosts.iter().skip(1).zip(more) {
            t.add(
                format!("Certificate{}", pascal(host)),
                ListenerCertificate {
                    listener_arn: Expr::r#ref(HTTPS_LISTENER),
                    certificates: vec![Certificate { certificate_arn: certificate.clone() }],
                },
            );
        }
    }

    for target in &targets {
        let service = target.service;
        let mut attributes =
            vec![Attribute::new("deregistration_delay.timeout_seconds", deregistration_delay(service).to_string())];
        if service.websocket {
            // Clients that reconnect (or fall back to long polling) return to the pod
            // that holds their session state.
            attributes.push(Attribute::new("stickiness.enabled", "true"));
            attributes.push(Attribute::new("stickiness.type", "lb_cookie"));
            attributes.push(Attribute::new("stickiness.lb_cookie.duration_seconds", "86400"));
        } else {
            // Spreads requests of uneven cost better than round robin; pointless for
            // long-lived sticky WebSocket connections.
            attributes.push(Attribute::new("load_balancing.algorithm.type", "least_outstanding_requests"));
        }
        // A pod is ready or not as a whole: every port's group checks the main port.
        let health_check_port = if target.port.port == service.main_port() {
            "traffic-port".to_owned()
        } else {
            service.main_port().to_string()
        };
        let id = target.logical_id();
        t.add(
            id.clone(),
            TargetGroup {
                name: None,
                target_type: "ip".into(),
                protocol: "HTTP".into(),
                protocol_version: Some("HTTP1".into()),
                port: target.port.port,
                vpc_id: vpc.clone(),
                health_check_enabled: true,
                health_check_protocol: "HTTP".into(),
                health_check_path: service.health.path.clone(),
                health_check_port: Some(health_check_port),
                health_check_interval_seconds: HEALTH_CHECK_INTERVAL_SECONDS,
                health_check_timeout_seconds: 5,
                healthy_threshold_count: HEALTHY_THRESHOLD_COUNT,
                unhealthy_threshold_count: 3,
                matcher: Matcher { http_code: "200-399".into() },
                target_group_attributes: attributes,
                targets: vec![],
                tags: vec![Tag::new(EKS_CLUSTER_NAME_TAG, names::cluster(p))],
            },
        );
        t.output(
            target.output(),
            format!("ARN of the target group of service {} port {}", service.name, target.port.port),
            Expr::r#ref(id),
        );
    }

    for host in old_hosts.iter().filter(|h| h.has_old_side_target_group()) {
        old_side_target_group(t, host, &vpc);
    }
    for route in &routes {
        let Some(target) =
            targets.iter().find(|t| t.service.name == route.service.name && t.port.port == route.route.port)
        else {
            continue;
        };
        let mut conditions = vec![RuleCondition::host_header(vec![route.route.host.to_ascii_lowercase()])];
        if let Some(patterns) = route.path_patterns() {
            conditions.push(RuleCondition::path_pattern(patterns));
        }
        let to_service = vec![Action::forward(Expr::r#ref(target.logical_id()))];
        let shares_old_side = old_hosts.iter().any(|h| h.host == route.route.host && h.has_old_side_target_group());
        let actions = if shares_old_side {
            // Resting state: everything to the old side until the service is migrated; the
            // migration moves the weights in between (see stacks::legacy).
            let old_side = Expr::r#ref(legacy::old_side_target_group(&route.route.host));
            Cond::If {
                condition: legacy::service_migrated(&route.service.name),
                then: to_service,
                otherwise: vec![Action::weighted_forward(vec![
                    (Expr::r#ref(target.logical_id()), 0),
                    (old_side, legacy::FINAL_WEIGHT),
                ])],
            }
        } else {
            to_service.into()
        };
        t.add(
            route.logical_id(),
            ListenerRule { listener_arn: Expr::r#ref(HTTPS_LISTENER), priority: route.priority, conditions, actions },
        );
    }
    for probe in &probe_rules {
        let Some(target) =
            targets.iter().find(|t| t.service.name == probe.service.name && t.port.port == t.service.main_port())
        else {
            continue;
        };
        let on_old_side = t.add_condition(
            legacy::service_on_old_side(&probe.service.name),
            Condition::Not(legacy::service_migrated(&probe.service.name)),
        );
        t.add(
            probe.logical_id(),
            ListenerRule {
                listener_arn: Expr::r#ref(HTTPS_LISTENER),
                priority: probe.priority,
                conditions: vec![
                    RuleCondition::host_header(vec![probe.host.to_ascii_lowercase()]),
                    RuleCondition::http_header(PROBE_HEADER, vec![probe.service.name.clone()]),
                ],
                actions: vec![Action::forward(Expr::r#ref(target.logical_id()))].into(),
            },
        )
        .condition(on_old_side);
    }
    for rule in &old_side_rules {
        t.add(
            rule.logical_id(),
            ListenerRule {
                listener_arn: Expr::r#ref(HTTPS_LISTENER),
                priority: rule.priority,
                conditions: vec![RuleCondition::host_header(vec![rule.host.to_ascii_lowercase()])],
                actions: vec![Action::forward(Expr::r#ref(legacy::old_side_target_group(rule.host)))].into(),
            },
        )
        .condition(legacy::host_on_old_side(rule.host));
    }

    if let Some(web_acl) = &shared.web_acl {
        t.add(
            "WebAclAssociation",
            WebAclAssociation { resource_arn: Expr::r#ref(LOAD_BALANCER), web_acl_arn: web_acl.clone() },
        );
    }

    for host in &hosts {
        let alias = Some(AliasTarget {
            dns_name: Expr::att(LOAD_BALANCER, "DNSName"),
            hosted_zone_id: Expr::att(LOAD_BALANCER, "CanonicalHostedZoneID"),
            // Lets Route 53 steer away from the ALB when it has no healthy target, once
            // weighted records put another target beside it.
            evaluate_target_health: true,
        });
        // A host the old side serves: the migration owns its records until every service on
        // it is migrated; then this weighted record takes over (see stacks::legacy).
        let migrated = host_migrated.get(*host);
        let record = RecordSet {
            hosted_zone_id: zone.clone(),
            name: (*host).to_owned(),
            record_type: "A".into(),
            alias_target: alias,
            ttl: None,
            resource_records: vec![],
            set_identifier: migrated.map(|_| legacy::final_set(p)),
            weight: migrated.map(|_| legacy::FINAL_WEIGHT),
        };
        match migrated {
            Some(condition) => {
                t.add(format!("Record{}Migrated", pascal(host)), record).condition(condition.clone());
            }
            None => {
                t.add(format!("Record{}", pascal(host)), record);
            }
        }
    }

    t.output(output("LoadBalancerArn"), "ARN of the public Application Load Balancer", Expr::r#ref(LOAD_BALANCER));
    t.output(output("LoadBalancerDnsName"), "DNS name of the load balancer", Expr::att(LOAD_BALANCER, "DNSName"));
    t.output(
        output("LoadBalancerFullName"),
        "app/<name>/<id>: the LoadBalancer dimension of its CloudWatch metrics",
        Expr::att(LOAD_BALANCER, "LoadBalancerFullName"),
    );
    t.output(
        output("LoadBalancerCanonicalHostedZoneId"),
        "Route 53 zone of the load balancer's DNS name, for alias records",
        Expr::att(LOAD_BALANCER, "CanonicalHostedZoneID"),
    );
    stack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::resource;
    use acme_cfn::Resource;
    use acme_spec::fixture;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn route(host: &str, path: Option<&str>, port: u16) -> Route {
        Route { host: host.into(), path: path.map(Into::into), port }
    }

    use crate::stacks::testing::service_like as service;

    fn prop<'a>(r: &'a Resource, path: &str) -> &'a Value {
        r.property(path).unwrap_or_else(|| panic!("no property {path}"))
    }

    /// Route key → priority.
    fn priorities(p: &Platform) -> BTreeMap<String, u32> {
        listener_routes(p).iter().map(|r| (route_key(r.route), r.priority)).collect()
    }

    /// The target groups pods register in (not the old side's).
    fn target_groups(stack: &Stack) -> Vec<(&String, &Resource)> {
        stack
            .template
            .resources_of_type("AWS::ElasticLoadBalancingV2::TargetGroup")
            .filter(|(id, _)| !id.starts_with("OldSide"))
            .collect()
    }

    /// The fixture as a new platform, with nothing on an old side.
    fn without_legacy() -> Platform {
        Platform { legacy: None, ..fixture::acme() }
    }

    #[test]
    fn https_listener_allows_only_tls_1_2_and_1_3() {
        let stack = build(&fixture::acme());
        let https = resource(&stack, HTTPS_LISTENER);
        assert_eq!(prop(https, "Protocol"), "HTTPS");
        assert_eq!(prop(https, "Port"), 443);
        let policy = prop(https, "SslPolicy").as_str().unwrap_or_default();
        assert!(policy.starts_with("ELBSecurityPolicy-TLS13-1-2-Res"), "{policy}");
        assert_eq!(prop(https, "DefaultActions.0.Type"), "fixed-response");
        assert_eq!(prop(https, "DefaultActions.0.FixedResponseConfig.StatusCode"), "404");
        // Default certificate: the first host's; the others are listener certificates.
        assert_eq!(prop(https, "Certificates.0.CertificateArn"), &json!({ "Ref": "CertificateAuthAcmeExampleComArn" }));
        let extra: Vec<&Value> = stack
            .template
            .resources_of_type("AWS::ElasticLoadBalancingV2::ListenerCertificate")
            .map(|(_, r)| prop(r, "Certificates.0.CertificateArn"))
            .collect();
        assert_eq!(
            extra,
            [
                &json!({ "Ref": "CertificateChatAcmeExampleComArn" }),
                &json!({ "Ref": "CertificateWwwAcmeExampleComArn" })
            ]
        );
    }

    #[test]
    fn http_listener_only_redirects_to_https() {
        let stack = build(&fixture::acme());
        let http = resource(&stack, HTTP_LISTENER);
        assert_eq!(prop(http, "Protocol"), "HTTP");
        let actions = prop(http, "DefaultActions").as_array().cloned().unwrap_or_default();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0]["Type"], "redirect");
        assert_eq!(actions[0]["RedirectConfig"]["Protocol"], "HTTPS");
        assert_eq!(actions[0]["RedirectConfig"]["Port"], "443");
        assert_eq!(actions[0]["RedirectConfig"]["StatusCode"], "HTTP_301");
        for (id, rule) in stack.template.resources_of_type("AWS::ElasticLoadBalancingV2::ListenerRule") {
            assert_eq!(prop(rule, "ListenerArn"), &json!({ "Ref": HTTPS_LISTENER }), "{id} hangs off HTTP");
        }
    }

    #[test]
    fn one_target_group_per_routed_service_port_with_its_health_path() {
        let mut p = fixture::acme();
        let mut admin = service(
            &p,
            "admin",
            vec![route("admin.acme.example.com", None, 8080), route("admin.acme.example.com", Some("/metrics"), 9090)],
        );
        admin.ports.push(ServicePort { name: "metrics".into(), port: 9090 });
        admin.health.path = "/ready".into();
        p.services.push(admin);
        p.services.push(service(&p, "worker", vec![]));
        let stack = build(&p);

        let tgs = target_groups(&stack);
        let ids: Vec<&str> = tgs.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "WebTargetGroup",
                "ApiTargetGroup",
                "AuthTargetGroup",
                "ChatTargetGroup",
                "AdminTargetGroup",
                "AdminMetricsTargetGroup"
            ]
        );
        for (_, tg) in &tgs {
            assert_eq!(prop(tg, "TargetType"), "ip");
            assert_eq!(prop(tg, "Protocol"), "HTTP");
            assert_eq!(prop(tg, "Matcher.HttpCode"), "200-399");
            assert!(tg.property("Name").is_none(), "a fixed name would block replacement");
        }
        assert_eq!(prop(resource(&stack, "WebTargetGroup"), "HealthCheckPath"), "/healthz");
        let metrics = resource(&stack, "AdminMetricsTargetGroup");
        assert_eq!(prop(metrics, "Port"), 9090);
        assert_eq!(prop(metrics, "HealthCheckPath"), "/ready");
        assert_eq!(prop(metrics, "HealthCheckPort"), "8080");
        for id in ids {
            let output = &stack.template.outputs[&format!("{id}Arn")];
            assert_eq!(output.value, Expr::r#ref(id));
        }
    }

    fn attribute<'a>(r: &'a Resource, list: &str, key: &str) -> Option<&'a str> {
        r.property(list)?.as_array()?.iter().find(|a| a["Key"] == key)?["Value"].as_str()
    }

    #[test]
    fn target_groups_carry_the_cluster_tag_auto_mode_needs_to_register_pods() {
        let p = fixture::acme();
        let stack = build(&p);
        for (id, tg) in target_groups(&stack) {
            let tags = prop(tg, "Tags");
            assert_eq!(tags, &json!([{ "Key": "eks:eks-cluster-name", "Value": names::cluster(&p) }]), "{id}");
        }
    }

    #[test]
    fn websocket_target_groups_are_sticky_and_drain_long() {
        let stack = build(&fixture::acme());
        let chat = resource(&stack, "ChatTargetGroup");
        let attrs = "TargetGroupAttributes";
        assert_eq!(attribute(chat, attrs, "stickiness.enabled"), Some("true"));
        assert_eq!(attribute(chat, attrs, "stickiness.type"), Some("lb_cookie"));
        assert_eq!(attribute(chat, attrs, "deregistration_delay.timeout_seconds"), Some("300"));
        let web = resource(&stack, "WebTargetGroup");
        assert_eq!(attribute(web, attrs, "stickiness.enabled"), None);
        assert_eq!(attribute(web, attrs, "deregistration_delay.timeout_seconds"), Some("30"));
        assert_eq!(attribute(web, attrs, "load_balancing.algorithm.type"), Some("least_outstanding_requests"));
    }

    #[test]
    fn idle_timeout_is_raised_for_websocket_services_only() {
        let attrs = "LoadBalancerAttributes";
        let timeout = |p: &Platform| {
            let stack = build(p);
            attribute(resource(&stack, LOAD_BALANCER), attrs, "idle_timeout.timeout_seconds").map(str::to_owned)
        };
        let mut p = fixture::acme();
        assert_eq!(timeout(&p).as_deref(), Some("3600"));
        p.edge.idle_timeout_seconds = 3900;
        assert_eq!(timeout(&p).as_deref(), Some("3900"));
        p.edge.idle_timeout_seconds = 60;
        p.services.retain(|s| !s.websocket);
        assert_eq!(timeout(&p).as_deref(), Some("60"));
    }

    #[test]
    fn load_balancer_hardening_attributes() {
        let stack = build(&fixture::acme());
        let lb = resource(&stack, LOAD_BALANCER);
        let attrs = "LoadBalancerAttributes";
        assert_eq!(prop(lb, "Scheme"), "internet-facing");
        assert_eq!(prop(lb, "Subnets"), &json!({ "Ref": "PublicSubnetIds" }));
        assert_eq!(attribute(lb, attrs, "routing.http.drop_invalid_header_fields.enabled"), Some("true"));
        assert!(matches!(attribute(lb, attrs, "routing.http.desync_mitigation_mode"), Some("defensive" | "strictest")));
        assert_eq!(attribute(lb, attrs, "deletion_protection.enabled"), Some("true"));
        assert_eq!(attribute(lb, attrs, "access_logs.s3.enabled"), Some("true"));
        assert!(lb.depends_on.contains(&ACCESS_LOG_BUCKET_POLICY.to_owned()));
    }

    #[test]
    fn path_patterns_match_the_prefix_and_below() {
        let p = fixture::acme();
        let api = listener_routes(&p).into_iter().find(|r| r.service.name == "api").map(|r| r.path_patterns());
        assert_eq!(api, Some(Some(vec!["/api".to_owned(), "/api/*".to_owned()])));
        assert_eq!(normalized_path(Some("/api/v2/")), Some("/api/v2".to_owned()));
        assert_eq!(normalized_path(Some("/")), None);
    }

    /// A platform with `n` routes: hosts `h0..`, each with a catch-all and paths of depth 1-3.
    fn many_routes(n: usize) -> Platform {
        let mut p = fixture::acme();
        let template = p.services[0].clone();
        p.services = (0..n)
            .map(|i| {
                let host = format!("h{}.acme.example.com", i % 25);
                let path = match i / 25 {
                    0 => None,
                    1 => Some(format!("/api{i}")),
                    2 => Some(format!("/api{}/v{i}", i - 25)),
                    _ => Some(format!("/api{}/v{}/x{i}", i - 75, i - 50)),
                };
                Service { name: format!("svc{i}"), routes: vec![Route { host, path, port: 8080 }], ..template.clone() }
            })
            .collect();
        p
    }

    #[test]
    fn rule_priorities_stay_put_when_services_come_and_go() {
        for base in [fixture::acme(), many_routes(99)] {
            let before = priorities(&base);

            let mut added = base.clone();
            added.services.push(service(&base, "search", vec![route("www.acme.example.com", Some("/search"), 8080)]));
            added.services.insert(0, service(&base, "docs", vec![route("docs.acme.example.com", None, 8080)]));
            let after = priorities(&added);
            assert_eq!(after.len(), before.len() + 2);
            for (key, priority) in &before {
                assert_eq!(after.get(key), Some(priority), "{key} moved when services were added");
            }

            for removed in 0..base.services.len() {
                let mut fewer = base.clone();
                fewer.services.remove(removed);
                for (key, priority) in priorities(&fewer) {
                    assert_eq!(before.get(&key), Some(&priority), "{key} moved when a service was removed");
                }
            }

            let mut reordered = base.clone();
            reordered.services.reverse();
            assert_eq!(priorities(&reordered), before, "priorities depend on list order");
        }
    }

    #[test]
    fn path_rules_precede_their_hosts_catch_all_and_deeper_paths_precede_shallower() {
        for p in [fixture::acme(), many_routes(100)] {
            let routes = listener_routes(&p);
            let unique: BTreeSet<u32> = routes.iter().map(|r| r.priority).collect();
            assert_eq!(unique.len(), routes.len(), "priorities are unique");
            assert!(unique.iter().all(|&p| (1..=50_000).contains(&p)));
            for a in &routes {
                for b in &routes {
                    let (pa, pb) = (normalized_path(a.route.path.as_deref()), normalized_path(b.route.path.as_deref()));
                    let b_covers_a = a.route.host == b.route.host
                        && match (&pa, &pb) {
                            (Some(_), None) => true,
                            (Some(pa), Some(pb)) => pa.starts_with(&format!("{pb}/")),
                            _ => false,
                        };
                    if b_covers_a {
                        assert!(a.priority < b.priority, "{:?} must be evaluated before {:?}", a.route, b.route);
                    }
                }
            }
        }
        let p = fixture::acme();
        let www = |path: Option<&str>| {
            listener_routes(&p)
                .iter()
                .find(|r| r.route.host == "www.acme.example.com" && r.route.path.as_deref() == path)
                .map(|r| r.priority)
        };
        assert!(www(Some("/api")) < www(None));
    }

    #[test]
    fn rules_forward_to_their_services_target_group() {
        let stack = build(&without_legacy());
        let rules: Vec<&Resource> =
            stack.template.resources_of_type("AWS::ElasticLoadBalancingV2::ListenerRule").map(|(_, r)| r).collect();
        assert_eq!(rules.len(), 4);
        let api = rules
            .iter()
            .find(|r| r.property("Actions.0.TargetGroupArn") == Some(&json!({ "Ref": "ApiTargetGroup" })))
            .unwrap_or_else(|| panic!("no rule for api"));
        assert_eq!(prop(api, "Conditions.0.HostHeaderConfig.Values.0"), "www.acme.example.com");
        assert_eq!(prop(api, "Conditions.1.PathPatternConfig.Values"), &json!(["/api", "/api/*"]));
    }

    #[test]
    fn only_80_and_443_are_open_to_the_world() {
        let mut p = without_legacy();
        let mut admin = service(&p, "admin", vec![route("admin.acme.example.com", None, 9000)]);
        admin.ports[0].port = 9000;
        p.services.push(admin);
        // Only the second port is routed; its health checks still reach the main port.
        let mut metrics = service(&p, "metrics", vec![route("metrics.acme.example.com", None, 9100)]);
        metrics.ports[0].port = 7000;
        metrics.ports.push(ServicePort { name: "prom".into(), port: 9100 });
        p.services.push(metrics);
        let stack = build(&p);
        let sg = resource(&stack, SECURITY_GROUP);
        let ingress = prop(sg, "SecurityGroupIngress").as_array().cloned().unwrap_or_default();
        let open: BTreeSet<(u64, u64)> = ingress
            .iter()
            .filter(|r| r["CidrIp"] == "0.0.0.0/0")
            .map(|r| (r["FromPort"].as_u64().unwrap_or(0), r["ToPort"].as_u64().unwrap_or(0)))
            .collect();
        assert_eq!(open, BTreeSet::from([(80, 80), (443, 443)]));
        assert_eq!(ingress.len(), 2);
        for rule in prop(sg, "SecurityGroupEgress").as_array().cloned().unwrap_or_default() {
            assert_eq!(rule["DestinationSecurityGroupId"], json!({ "Ref": "ClusterSecurityGroupId" }));
            assert!(rule.get("CidrIp").is_none());
        }
        let cluster_ingress: Vec<(u64, &Value)> = stack
            .template
            .resources_of_type("AWS::EC2::SecurityGroupIngress")
            .map(|(_, r)| (prop(r, "FromPort").as_u64().unwrap_or(0), prop(r, "SourceSecurityGroupId")))
            .collect();
        let from_alb = json!({ "Fn::GetAtt": [SECURITY_GROUP, "GroupId"] });
        assert_eq!(cluster_ingress, [(7000, &from_alb), (8080, &from_alb), (9000, &from_alb), (9100, &from_alb)]);
    }

    #[test]
    fn port_ranges_merge_neighbours_within_the_budget() {
        let ports: BTreeSet<u16> = [8080, 8081, 8082, 9000].into();
        assert_eq!(port_ranges(&ports, 20), [(8080, 8082), (9000, 9000)]);
        let spread: BTreeSet<u16> = (0..30).map(|i| 3000 + i * 100).collect();
        let ranges = port_ranges(&spread, 20);
        assert_eq!(ranges.len(), 20);
        assert!(spread.iter().all(|&port| ranges.iter().any(|&(lo, hi)| lo <= port && port <= hi)));
        assert!(port_ranges(&BTreeSet::new(), 20).is_empty());
    }

    #[test]
    fn access_logs_go_to_a_private_bucket_the_regions_elb_may_write() {
        let stack = build(&fixture::acme());
        let bucket = resource(&stack, ACCESS_LOG_BUCKET);
        assert_eq!(bucket.deletion_policy, Some(acme_cfn::Policy::Retain));
        assert_eq!(
            prop(
                bucket,
                "BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault.SSEAlgorithm"
            ),
            "AES256"
        );
        assert_eq!(prop(bucket, "PublicAccessBlockConfiguration.RestrictPublicBuckets"), true);
        assert_eq!(prop(bucket, "VersioningConfiguration.Status"), "Enabled");
        let policy = resource(&stack, ACCESS_LOG_BUCKET_POLICY);
        assert_eq!(prop(policy, "PolicyDocument.Statement.0.Condition.Bool.aws:SecureTransport"), "false");
        assert_eq!(
            prop(policy, "PolicyDocument.Statement.1.Principal.AWS.0"),
            &json!({ "Fn::Sub": "arn:${AWS::Partition}:iam::127311923021:root" })
        );
        assert_eq!(
            prop(policy, "PolicyDocument.Statement.1.Resource.0"),
            &json!({ "Fn::Sub": "${AccessLogBucket.Arn}/alb/AWSLogs/${AWS::AccountId}/*" })
        );

        let mut newer = fixture::acme();
        newer.region = "ap-southeast-5".into();
        let stack = build(&newer);
        let policy = resource(&stack, ACCESS_LOG_BUCKET_POLICY);
        assert_eq!(
            prop(policy, "PolicyDocument.Statement.1.Principal.Service.0"),
            "logdelivery.elasticloadbalancing.amazonaws.com"
        );
    }

    #[test]
    fn waf_is_associated_when_enabled_and_absent_when_disabled() {
        let stack = build(&fixture::acme());
        let acl = resource(&stack, WEB_ACL);
        assert_eq!(prop(acl, "Scope"), "REGIONAL");
        let groups: Vec<&str> = prop(acl, "Rules")
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.pointer("/Statement/ManagedRuleGroupStatement/Name").and_then(Value::as_str))
            .collect();
        for group in [
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAmazonIpReputationList",
        ] {
            assert!(groups.contains(&group), "{group}");
        }
        assert!(
            prop(acl, "Rules")
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r.pointer("/Statement/RateBasedStatement").is_some())
        );
        let association = resource(&stack, "WebAclAssociation");
        assert_eq!(prop(association, "ResourceArn"), &json!({ "Ref": LOAD_BALANCER }));
        let log_group = resource(&stack, "WafLogGroup");
        assert!(prop(log_group, "LogGroupName").as_str().is_some_and(|n| n.starts_with("aws-waf-logs-")));
        assert_eq!(prop(log_group, "KmsKeyId"), &json!({ "Ref": "LogsKeyArn" }));

        let mut p = fixture::acme();
        p.edge.waf = false;
        let stack = build(&p);
        assert!(stack.template.resources.values().all(|r| !r.resource_type.starts_with("AWS::WAFv2::")));
        assert!(!stack.template.parameters.contains_key("LogsKeyArn"));
    }

    #[test]
    fn a_new_platform_points_every_host_at_the_load_balancer() {
        let p = without_legacy();
        let stack = build(&p);
        let records: Vec<&str> = stack
            .template
            .resources_of_type("AWS::Route53::RecordSet")
            .map(|(id, r)| {
                assert_eq!(prop(r, "Type"), "A");
                assert_eq!(prop(r, "AliasTarget.DNSName"), &json!({ "Fn::GetAtt": [LOAD_BALANCER, "DNSName"] }));
                assert!(r.property("SetIdentifier").is_none() && r.condition.is_none(), "{id}");
                prop(r, "Name").as_str().unwrap_or_default()
            })
            .collect();
        assert_eq!(records, p.hosts());
        assert!(stack.template.conditions.is_empty() && stack.kept.is_empty());
    }

    #[test]
    fn a_host_the_old_side_serves_gets_the_stacks_record_only_once_every_service_on_it_is_migrated() {
        let p = fixture::acme();
        let stack = build(&p);
        let records: BTreeMap<&str, &Resource> = stack
            .template
            .resources_of_type("AWS::Route53::RecordSet")
            .map(|(_, r)| (prop(r, "Name").as_str().unwrap_or_default(), r))
            .collect();
        assert_eq!(records.keys().copied().collect::<Vec<_>>(), p.hosts());
        for (host, record) in &records {
            // A weighted member beside the migration's own records, so the handover has no gap.
            assert_eq!(prop(record, "SetIdentifier"), "acme-edge", "{host}");
            assert_eq!(prop(record, "Weight"), 100, "{host}");
            assert_eq!(prop(record, "AliasTarget.EvaluateTargetHealth"), true, "{host}");
        }
        assert_eq!(records["auth.acme.example.com"].condition.as_deref(), Some("ServiceAuthMigrated"));
        assert_eq!(records["www.acme.example.com"].condition.as_deref(), Some("HostWwwAcmeExampleComMigrated"));
        assert_eq!(
            stack.template.conditions["HostWwwAcmeExampleComMigrated"],
            Condition::And(vec!["ServiceWebMigrated".into(), "ServiceApiMigrated".into()])
        );
        assert_eq!(
            stack.template.conditions["ServiceWebMigrated"],
            Condition::Equals(Expr::r#ref("MigratedWeb"), "true".into())
        );
    }

    #[test]
    fn every_migrating_service_has_a_flag_the_stack_keeps() {
        let stack = build(&fixture::acme());
        assert_eq!(stack.kept, ["MigratedWeb", "MigratedApi", "MigratedAuth", "MigratedChat"]);
        for name in &stack.kept {
            let parameter = &stack.template.parameters[name];
            assert_eq!(parameter.default.as_deref(), Some("false"), "{name}");
            assert_eq!(parameter.allowed_values, ["false", "true"], "{name}");
            assert!(!stack.inputs.iter().any(|i| &i.parameter == name), "{name} is no upstream output");
        }
        let mut p = fixture::acme();
        p.legacy.as_mut().map(|l| l.hosts.remove("chat.acme.example.com"));
        assert!(!build(&p).kept.contains(&"MigratedChat".to_owned()), "chat is new: nothing to migrate");
    }

    /// The actions of the rule of `service`.
    fn rule_actions<'a>(stack: &'a Stack, p: &Platform, service: &str) -> &'a Value {
        let route = listener_routes(p).into_iter().find(|r| r.service.name == service).expect("a route");
        prop(resource(stack, &route.logical_id()), "Actions")
    }

    #[test]
    fn a_shared_host_forwards_to_the_old_side_until_each_service_is_migrated() {
        let p = fixture::acme();
        let stack = build(&p);
        assert_eq!(
            rule_actions(&stack, &p, "api"),
            &json!({ "Fn::If": [
                "ServiceApiMigrated",
                [{ "Type": "forward", "TargetGroupArn": { "Ref": "ApiTargetGroup" } }],
                [{ "Type": "forward", "ForwardConfig": { "TargetGroups": [
                    { "TargetGroupArn": { "Ref": "ApiTargetGroup" }, "Weight": 0 },
                    { "TargetGroupArn": { "Ref": "OldSideWwwAcmeExampleComTargetGroup" }, "Weight": 100 },
                ] } }],
            ] })
        );
        // Hosts of their own move by DNS: their rules always forward to the service.
        assert_eq!(
            rule_actions(&stack, &p, "auth"),
            &json!([{ "Type": "forward", "TargetGroupArn": { "Ref": "AuthTargetGroup" } }])
        );
    }

    #[test]
    fn the_old_sides_target_group_holds_its_private_addresses_outside_the_vpc() {
        let stack = build(&fixture::acme());
        let id = "OldSideWwwAcmeExampleComTargetGroup";
        let tg = resource(&stack, id);
        assert_eq!(tg.condition.as_deref(), Some("HostWwwAcmeExampleComOnOldSide"));
        assert_eq!(
            stack.template.conditions["HostWwwAcmeExampleComOnOldSide"],
            Condition::Not("HostWwwAcmeExampleComMigrated".into())
        );
        assert_eq!(
            (prop(tg, "TargetType"), prop(tg, "Protocol"), prop(tg, "Port")),
            (&json!("ip"), &json!("HTTPS"), &json!(443))
        );
        assert_eq!(
            prop(tg, "Targets"),
            &json!([
                { "Id": "10.50.0.10", "Port": 443, "AvailabilityZone": "all" },
                { "Id": "10.50.0.11", "Port": 443, "AvailabilityZone": "all" },
            ])
        );
        assert_eq!(prop(tg, "Matcher.HttpCode"), "200-499");
        assert!(tg.property("Tags").is_none(), "pods never register here");
        let output = &stack.template.outputs["OldSideWwwAcmeExampleComTargetGroupArn"];
        assert_eq!(
            (output.value.clone(), output.condition.as_deref()),
            (Expr::r#ref(id), Some("HostWwwAcmeExampleComOnOldSide"))
        );
    }

    #[test]
    fn the_load_balancer_reaches_the_old_side_only_while_a_host_forwards_there() {
        let stack = build(&fixture::acme());
        let group = resource(&stack, OLD_SIDE_SECURITY_GROUP);
        assert_eq!(group.condition.as_deref(), Some("HostWwwAcmeExampleComOnOldSide"));
        let egress = prop(group, "SecurityGroupEgress");
        assert_eq!(
            egress,
            &json!([
                { "Description": "To the old side at 10.50.0.10:443", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.50.0.10/32" },
                { "Description": "To the old side at 10.50.0.11:443", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.50.0.11/32" },
            ])
        );
        assert_eq!(
            prop(resource(&stack, LOAD_BALANCER), "SecurityGroups"),
            &json!([
                { "Fn::GetAtt": [SECURITY_GROUP, "GroupId"] },
                { "Fn::If": ["HostWwwAcmeExampleComOnOldSide", { "Fn::GetAtt": [OLD_SIDE_SECURITY_GROUP, "GroupId"] }, { "Ref": "AWS::NoValue" }] },
            ])
        );
        assert!(build(&without_legacy()).template.resources.get(OLD_SIDE_SECURITY_GROUP).is_none());
    }

    #[test]
    fn a_shared_host_no_service_routes_whole_keeps_a_catch_all_to_the_old_side() {
        let mut p = fixture::acme();
        p.services[0].routes[0].path = Some("/app".into());
        let stack = build(&p);
        let catch_all = old_side_rules(&p);
        assert_eq!(catch_all.len(), 1);
        let rule = resource(&stack, &catch_all[0].logical_id());
        assert_eq!(rule.condition.as_deref(), Some("HostWwwAcmeExampleComOnOldSide"));
        assert_eq!(
            prop(rule, "Conditions"),
            &json!([{ "Field": "host-header", "HostHeaderConfig": { "Values": ["www.acme.example.com"] } }])
        );
        assert_eq!(prop(rule, "Actions.0.TargetGroupArn"), &json!({ "Ref": "OldSideWwwAcmeExampleComTargetGroup" }));
        // Below every path rule of the host, like a route of the whole host.
        assert!(catch_all[0].priority > 46_000, "{}", catch_all[0].priority);
        assert!(old_side_rules(&fixture::acme()).is_empty(), "web routes www whole: it is the catch-all");
    }

    #[test]
    fn probes_reach_a_service_on_a_shared_host_alone_while_it_moves() {
        let p = fixture::acme();
        let stack = build(&p);
        let probes = probe_rules(&p);
        let names: Vec<(&str, &str)> = probes.iter().map(|r| (r.service.name.as_str(), r.host)).collect();
        assert_eq!(names, [("web", "www.acme.example.com"), ("api", "www.acme.example.com")]);
        let api = resource(&stack, &probes[1].logical_id());
        assert_eq!(api.condition.as_deref(), Some("ServiceApiOnOldSide"));
        assert_eq!(
            prop(api, "Conditions"),
            &json!([
                { "Field": "host-header", "HostHeaderConfig": { "Values": ["www.acme.example.com"] } },
                { "Field": "http-header", "HttpHeaderConfig": { "HttpHeaderName": "X-Acmectl-Probe", "Values": ["api"] } },
            ])
        );
        assert_eq!(prop(api, "Actions.0.TargetGroupArn"), &json!({ "Ref": "ApiTargetGroup" }));
        // Ahead of every route; they match only requests with the header.
        let first = listener_routes(&p).iter().map(|r| r.priority).min().unwrap_or(0);
        assert!(probes.iter().all(|r| r.priority <= 100 && r.priority < first), "{probes:?}");
        assert!(probe_rules(&without_legacy()).is_empty());
    }

    #[test]
    fn a_shared_host_the_load_balancer_cannot_reach_on_the_old_side_keeps_plain_rules() {
        let mut p = fixture::acme();
        if let Some(side) = p.legacy.as_mut().and_then(|l| l.hosts.get_mut("www.acme.example.com")) {
            side.private = None;
        }
        let stack = build(&p);
        assert!(stack.template.resources.keys().all(|id| !id.starts_with("OldSide")));
        assert_eq!(
            rule_actions(&stack, &p, "api"),
            &json!([{ "Type": "forward", "TargetGroupArn": { "Ref": "ApiTargetGroup" } }])
        );
    }

    #[test]
    fn route_priorities_do_not_move_when_the_platform_gets_an_old_side() {
        let mut p = fixture::acme();
        p.services[0].routes[0].path = Some("/app".into());
        assert_eq!(priorities(&p), priorities(&Platform { legacy: None, ..p.clone() }));
    }

    #[test]
    fn outputs_of_the_contract() {
        let stack = build(&fixture::acme());
        for name in [
            "LoadBalancerArn",
            "LoadBalancerDnsName",
            "LoadBalancerFullName",
            "LoadBalancerCanonicalHostedZoneId",
            "LoadBalancerSecurityGroupId",
            "AccessLogBucketName",
        ] {
            assert!(stack.template.outputs.contains_key(name), "{name}");
        }
    }

    #[test]
    fn the_largest_platform_fits_cloudformation_quotas() {
        let mut p = many_routes(100);
        let template = p.services[0].clone();
        p.services.extend((100..200).map(|i| Service { name: format!("svc{i}"), routes: vec![], ..template.clone() }));
        let stack = build(&p);
        assert!(stack.template.resources.len() <= 500, "{} resources", stack.template.resources.len());
        assert!(stack.template.parameters.len() <= 200);
        assert!(stack.template.outputs.len() <= 200);
    }

    /// The fixture with 26 more services on hosts of their own: two load balancers.
    fn two_shards() -> (Platform, ShardPlan) {
        let p = crate::stacks::testing::with_own_hosts(26);
        let plan = shards::plan(&p);
        assert_eq!(plan.shards.len(), 2);
        (p, plan)
    }

    #[test]
    fn a_second_shard_takes_the_first_shards_security_group_log_bucket_and_waf() {
        let (p, plan) = two_shards();
        let stacks = build_all(&p, &plan);
        let (first, second) = (&stacks[0], &stacks[1]);
        assert_eq!(second.name, StackName::Edge(1));
        for id in [SECURITY_GROUP, ACCESS_LOG_BUCKET, ACCESS_LOG_BUCKET_POLICY, WEB_ACL, "WafLogGroup"] {
            assert!(first.template.resources.contains_key(id), "the first shard holds {id}");
            assert!(!second.template.resources.contains_key(id), "the second shard has its own {id}");
        }
        let imported: Vec<(&str, StackName)> = second.inputs.iter().map(|i| (i.output.as_str(), i.from)).collect();
        for output in ["LoadBalancerSecurityGroupId", "AccessLogBucketName", WEB_ACL_OUTPUT] {
            assert!(imported.contains(&(output, StackName::EDGE)), "{output}: {imported:?}");
            assert!(first.template.outputs.contains_key(output));
        }
        let lb = resource(second, LOAD_BALANCER);
        assert_eq!(prop(lb, "SecurityGroups.0"), &json!({ "Ref": "LoadBalancerSecurityGroupId" }));
        let association = resource(second, "WebAclAssociation");
        assert_eq!(prop(association, "WebACLArn"), &json!({ "Ref": WEB_ACL_OUTPUT }));
        // Its own outputs carry the shard's number; its hosts' records and certificates are its own.
        assert!(second.template.outputs.contains_key("Edge2LoadBalancerArn"));
        assert!(second.template.outputs.contains_key("Edge2LoadBalancerFullName"));
        let shard_hosts = &plan.shards[1].hosts;
        let records: Vec<&str> = second
            .template
            .resources_of_type("AWS::Route53::RecordSet")
            .map(|(_, r)| prop(r, "Name").as_str().unwrap_or_default())
            .collect();
        assert_eq!(records, shard_hosts.iter().map(String::as_str).collect::<Vec<_>>());
        let first_records = first.template.resources_of_type("AWS::Route53::RecordSet").count();
        assert_eq!(first_records + records.len(), p.hosts().len(), "every host has one record, on its shard");
        let certificate = prop(resource(second, HTTPS_LISTENER), "Certificates.0.CertificateArn");
        assert_eq!(certificate, &json!({ "Ref": names::certificate_output(&shard_hosts[0]) }));
        // Target groups follow their services.
        for (id, _) in target_groups(second) {
            let service = plan.shards[1].services.iter().any(|s| {
                id == &names::target_group(p.service(s).expect("service"), &p.service(s).expect("service").ports[0])
            });
            assert!(service, "{id} is not of a service on the second shard");
        }
    }

    #[test]
    fn each_shards_rule_priorities_are_its_own_and_a_single_shard_keeps_todays() {
        let (p, plan) = two_shards();
        // The first shard's rules are those of a platform without the second shard's hosts.
        let only_first = Platform {
            services: p.services.iter().filter(|s| plan.of_service(&s.name) != Some(1)).cloned().collect(),
            ..p.clone()
        };
        let first: BTreeMap<String, u32> =
            shard_rules(&p, &plan.shards[0]).routes.iter().map(|r| (route_key(r.route), r.priority)).collect();
        assert_eq!(first, priorities(&only_first));
        let second = shard_rules(&p, &plan.shards[1]);
        assert_eq!(second.routes.len(), plan.shards[1].hosts.len());
        let all = listener_routes(&p);
        assert_eq!(all.len(), first.len() + second.routes.len());
    }
}
