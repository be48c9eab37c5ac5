//! The validated platform model. Every field here is resolved: defaults applied,
//! references checked, so synthesis can trust it.

use ipnet::Ipv4Net;
use std::collections::BTreeMap;

/// One platform: everything `acme.yaml` describes.
#[derive(Clone, Debug, PartialEq)]
pub struct Platform {
    /// Lowercase DNS label; prefixes every stack and named resource (`acme-network`).
    pub name: String,
    pub region: String,
    /// Apex domain the public hosts live under (`acme.example.com`).
    pub domain: String,
    pub dns: Dns,
    pub network: Network,
    pub cluster: Cluster,
    pub database: Option<Database>,
    pub services: Vec<Service>,
    pub edge: Edge,
    pub alerts: Alerts,
    pub ci: Ci,
    pub backup: Backup,
    pub legacy: Option<Legacy>,
    /// Patches to synthesized resources, in file order (`overrides[i]`).
    pub overrides: Vec<Override>,
    /// What `check` accepts and which user rules it adds.
    pub check: CheckPolicy,
    /// Where the account already has each routed service: not in acme.yaml, but read from
    /// the deployed edge stacks before synthesis, so that the load balancer a service is on
    /// stays its own (see acme-synth's `shards`). Empty for a platform not deployed yet.
    pub placement: Placement,
}

/// The load balancer (edge shard, 0 for the first) each deployed service is on, by service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    pub shards: BTreeMap<String, u16>,
}

/// One patch of one synthesized CloudFormation resource, applied after synthesis.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// Stack name as synthesis spells it (`data`); checked against the stacks by synthesis.
    pub stack: String,
    /// Logical id of the resource in that stack.
    pub resource: String,
    /// Steps below `Properties`: `Properties.A[0].B` is `[Key(A), Index(0), Key(B)]`.
    pub path: Vec<PathStep>,
    pub action: OverrideAction,
}

impl Override {
    /// The path as written back: `Properties.A[0].B`.
    pub fn path_text(&self) -> String {
        path_text(&self.path)
    }
}

/// `Properties.A[0].B` for `[Key(A), Index(0), Key(B)]`.
pub fn path_text(steps: &[PathStep]) -> String {
    let mut text = String::from("Properties");
    for step in steps {
        match step {
            PathStep::Key(k) => {
                text.push('.');
                text.push_str(k);
            }
            PathStep::Index(i) => text.push_str(&format!("[{i}]")),
        }
    }
    text
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub enum OverrideAction {
    /// Replace (or add) the property with this value.
    Set(serde_json::Value),
    /// Delete the property.
    Remove,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckPolicy {
    /// Findings accepted on purpose (`check.accept[i]`).
    pub accept: Vec<Accept>,
    /// Folders of CloudFormation Guard rule files, as written (relative to acme.yaml).
    pub rule_dirs: Vec<String>,
}

/// A finding accepted on purpose, with the reason the report shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Accept {
    pub rule: String,
    pub reason: String,
    /// Only findings in this stack.
    pub stack: Option<String>,
    /// Only findings on this logical id or Kubernetes `Kind/namespace/name`.
    pub resource: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dns {
    /// Create the public hosted zone, or reuse one the account already has.
    pub zone: ZoneSource,
    /// Name of a private hosted zone attached to the VPC, for internal names.
    pub private_zone: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ZoneSource {
    Create,
    Existing { id: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub cidr: Ipv4Net,
    /// Availability zones used, 2..=6 (default 3).
    pub zones: u8,
}

/// The three subnet tiers of every zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// The load balancer and the NAT gateways; routes to the internet gateway.
    Public,
    /// Nodes and pods (the VPC CNI gives every pod a VPC address); out through the zone's NAT.
    Private,
    /// The database; no route out of the VPC.
    Database,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Public, Tier::Private, Tier::Database];

    pub fn slug(self) -> &'static str {
        match self {
            Tier::Public => "public",
            Tier::Private => "private",
            Tier::Database => "database",
        }
    }

    /// Where the tier's block starts and how long its prefix is, in eighths of the VPC:
    /// private takes the first half, public and database one eighth each, and the last quarter
    /// stays free for a later tier (firewall or Transit Gateway subnets, a second pod range).
    fn block(self) -> (u64, u8) {
        match self {
            Tier::Private => (0, 1),
            Tier::Public => (4, 3),
            Tier::Database => (5, 3),
        }
    }

    /// Bits a zone's subnet adds to the VPC prefix: the tier's block, then one of the zone slots.
    fn zone_bits(self) -> u8 {
        self.block().1 + Network::ZONE_SLOTS.trailing_zeros() as u8
    }
}

/// The subnets of one availability zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZoneSubnets {
    /// 0-based; the zone is `Fn::Select [zone, Fn::GetAZs ""]`.
    pub zone: u8,
    pub public: Ipv4Net,
    pub private: Ipv4Net,
    pub database: Ipv4Net,
}

impl ZoneSubnets {
    pub fn cidr(&self, tier: Tier) -> Ipv4Net {
        match tier {
            Tier::Public => self.public,
            Tier::Private => self.private,
            Tier::Database => self.database,
        }
    }
}

impl Network {
    /// The VPC is cut into this many zone slots, whatever `zones` is, so a zone's subnets keep
    /// their addresses when zones are added or removed (CloudFormation cannot replace a subnet
    /// with an overlapping one in place). A power of two, at least the 6 zones allowed.
    pub const ZONE_SLOTS: u8 = 8;

    /// Smallest private subnet: 256 addresses per zone for nodes and pods. With the VPC CNI
    /// every pod takes a VPC address, in /28 prefixes per node, so anything smaller fills after
    /// a few nodes.
    pub const LONGEST_PRIVATE_PREFIX: u8 = 24;

    /// Largest VPC AWS allows.
    pub const SHORTEST_PREFIX: u8 = 16;

    /// Longest VPC prefix (the smallest VPC) whose private subnets reach
    /// [`Self::LONGEST_PRIVATE_PREFIX`]: a /20, for every zone count, since zones always get
    /// one of [`Self::ZONE_SLOTS`] slots.
    pub const LONGEST_PREFIX: u8 = 20;

    /// Subnet CIDRs of every zone, computed here rather than with `Fn::Cidr` so every stage
    /// (network stack, network policies, diagrams) sees the same numbers. For a /16 VPC:
    /// private /20s from the start of the VPC, public /22s from the middle, database /22s after
    /// them, the last /18 free. Expects a validated network (prefix within
    /// [`Self::SHORTEST_PREFIX`]..=[`Self::LONGEST_PREFIX`]).
    pub fn subnets(&self) -> Vec<ZoneSubnets> {
        let vpc = self.cidr.trunc();
        let base = u64::from(u32::from(vpc.network()));
        let size = |prefix: u8| 1u64 << (32 - u32::from(prefix));
        let subnet = |tier: Tier, zone: u8| -> Ipv4Net {
            let (eighth, _) = tier.block();
            let prefix = (vpc.prefix_len() + tier.zone_bits()).min(32);
            let start = base + eighth * size(vpc.prefix_len()) / 8 + u64::from(zone) * size(prefix);
            // Saturates rather than wraps; a validated network never gets near either bound.
            let address = std::net::Ipv4Addr::from(u32::try_from(start).unwrap_or(u32::MAX));
            Ipv4Net::new(address, prefix).unwrap_or_else(|_| unreachable!("prefix {prefix} is at most 32"))
        };
        (0..self.zones.min(Self::ZONE_SLOTS))
            .map(|zone| ZoneSubnets {
                zone,
                public: subnet(Tier::Public, zone),
                private: subnet(Tier::Private, zone),
                database: subnet(Tier::Database, zone),
            })
            .collect()
    }

    /// The cluster's Service range, chosen as EKS itself chooses when none is given, but set
    /// explicitly so the cluster DNS address is known before the cluster exists (the network
    /// policies allow DNS to exactly that address): `172.20.0.0/16`, or `10.100.0.0/16` when
    /// the VPC overlaps it. A VPC is at most a /16, so it never overlaps both.
    pub fn service_cidr(&self) -> Ipv4Net {
        let preferred = Ipv4Net::new(std::net::Ipv4Addr::new(172, 20, 0, 0), 16)
            .unwrap_or_else(|_| unreachable!("literal prefix 16"));
        let fallback = Ipv4Net::new(std::net::Ipv4Addr::new(10, 100, 0, 0), 16)
            .unwrap_or_else(|_| unreachable!("literal prefix 16"));
        let vpc = self.cidr.trunc();
        if vpc.contains(&preferred.network()) || preferred.contains(&vpc.network()) { fallback } else { preferred }
    }

    /// Address of the cluster DNS Service (`kube-dns`): the tenth of the Service range, as EKS
    /// assigns it. On Auto Mode the resolver runs on each node, not as pods, so pods reach DNS
    /// only through this address.
    pub fn cluster_dns_ip(&self) -> std::net::Ipv4Addr {
        let base = u32::from(self.service_cidr().network());
        std::net::Ipv4Addr::from(base + 10)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Kubernetes minor version, e.g. "1.34".
    pub version: String,
    /// CIDRs allowed to reach a public API endpoint; empty means private only.
    pub public_access_cidrs: Vec<Ipv4Net>,
    /// IAM role ARNs granted cluster-admin through access entries.
    pub admin_role_arns: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mysql,
}

impl Engine {
    pub fn port(self) -> u16 {
        match self {
            Engine::Postgres => 5432,
            Engine::Mysql => 3306,
        }
    }

    /// The engine's name as people write it.
    pub fn label(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::Mysql => "MySQL",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Database {
    pub engine: Engine,
    /// Engine major (or major.minor) version, e.g. "17" or "8.4".
    pub version: String,
    /// Instance class, e.g. "db.r7g.large".
    pub class: String,
    pub storage_gb: u32,
    /// Storage autoscaling ceiling.
    pub max_storage_gb: u32,
    /// Name of the database created inside the instance.
    pub db_name: String,
    pub multi_az: bool,
    /// Automated backup retention (point-in-time recovery window), 1..=35.
    pub backup_retention_days: u8,
    pub deletion_protection: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// DNS label; names the namespace, image repository, role and target group.
    pub name: String,
    /// Kubernetes namespace (defaults to the service name).
    pub namespace: String,
    /// Named container ports; the first is the main port, named `http`.
    pub ports: Vec<ServicePort>,
    pub health: Health,
    pub routes: Vec<Route>,
    /// Long-lived connections: longer ALB idle timeout, stickiness, longer drain.
    pub websocket: bool,
    /// Services this one calls (by name); drives network policies.
    pub talks_to: Vec<String>,
    /// AWS resources this service may use; drives its IAM role.
    pub uses: Vec<Use>,
    pub replicas: Replicas,
    pub resources: Resources,
    pub env: BTreeMap<String, String>,
    /// Where its code lives in the repository; drives its CI/CD pipeline.
    pub source: Source,
    /// How `acmectl migrate` moves it from the old side.
    pub migration: Migration,
}

/// A service's code in the repository, as its pipeline builds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Folder relative to the repository root, without a trailing `/` (`services/web`).
    pub path: String,
    /// Dockerfile relative to the repository root (`services/web/Dockerfile`).
    pub dockerfile: String,
    /// One shell command run in `path` that tests the service; `None` when the Dockerfile does.
    pub test: Option<String>,
}

impl Service {
    pub fn main_port(&self) -> u16 {
        self.ports[0].port
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServicePort {
    pub name: String,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    /// HTTP path answering 200 when the service is ready.
    pub path: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub host: String,
    /// Path prefix, e.g. "/api"; `None` routes the whole host.
    pub path: Option<String>,
    /// Service port the route sends traffic to.
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Use {
    /// Read the database's RDS-managed master secret.
    Database,
    /// Read and write objects in a service-owned S3 bucket of this name.
    Bucket(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Replicas {
    pub min: u32,
    pub max: u32,
}

/// Kubernetes quantities as written ("250m", "512Mi"), already validated.
#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    pub cpu_request: String,
    pub cpu_limit: String,
    pub memory_request: String,
    pub memory_limit: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Attach an AWS WAFv2 web ACL with AWS managed rule groups.
    pub waf: bool,
    /// ALB idle timeout; raised automatically for WebSocket services.
    pub idle_timeout_seconds: u32,
    /// TLS policy of the HTTPS listener (`ELBSecurityPolicy-...`).
    pub tls_policy: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alerts {
    pub email: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiProvider {
    Jenkins,
    Github,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ci {
    pub provider: CiProvider,
    /// `owner/name` of the source repository (GitHub OIDC trust is scoped to it).
    pub repository: Option<String>,
    /// Branch that deploys to production.
    pub branch: String,
    /// GitHub: ARN of the account's existing OIDC provider for
    /// `token.actions.githubusercontent.com`. An account holds one provider per URL, so a
    /// second platform in the account reuses the first one's; `None` creates it in the ci stack.
    pub github_oidc_provider_arn: Option<String>,
    /// Jenkins: ARNs of the roles the agents run as (EC2 instance role or EKS pod identity
    /// role). The CI role trusts exactly these; with none, nobody can assume it.
    pub jenkins_agent_role_arns: Vec<String>,
    /// Pipelines stop on an image whose scan found a vulnerability this severe or worse.
    pub fail_on: Severity,
    /// A person approves each service deploy to production.
    pub approval: bool,
    /// The platform's AWS account; `None`: the pipelines read `AWS_ACCOUNT_ID` at run time.
    pub account_id: Option<String>,
    /// Path of acme.yaml in the repository (`acme.yaml`).
    pub platform_file: String,
    /// Labels of the runners (GitHub) or agents (Jenkins) of the jobs that reach AWS; empty:
    /// GitHub's hosted runners, any Jenkins agent.
    pub runner: Vec<String>,
}

/// Severity of an ECR image scan finding, lowest first (so `>=` means "at least as severe").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Informational, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    /// The name ECR reports counts under (`findingSeverityCounts`).
    pub fn ecr_name(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// This severity and every worse one, worst first.
    pub fn and_worse(self) -> Vec<Severity> {
        Severity::ALL.into_iter().rev().filter(|s| *s >= self).collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Backup {
    /// AWS Backup schedule (cron, UTC).
    pub schedule: String,
    pub retention_days: u32,
    /// Copy each recovery point to a vault in another region.
    pub copy_to: Option<BackupCopy>,
    pub vault_lock: Option<VaultLock>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BackupCopy {
    pub region: String,
    /// ARN of the destination vault in that region.
    pub vault_arn: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VaultLock {
    pub min_retention_days: u32,
    pub max_retention_days: u32,
    /// Days until the lock becomes immutable (compliance mode); `None` keeps governance mode.
    pub changeable_for_days: Option<u32>,
}

/// Where the platform's hosts are served today (`legacy`), host by host.
#[derive(Clone, Debug, PartialEq)]
pub struct Legacy {
    /// Every public host the old side serves; hosts marked `new` are not here.
    pub hosts: BTreeMap<String, OldSide>,
}

/// The old side of one host.
#[derive(Clone, Debug, PartialEq)]
pub struct OldSide {
    /// What the host's DNS answers today.
    pub public: OldTarget,
    /// Where the load balancer can reach the old side from the VPC, if it can.
    pub private: Option<PrivateOrigin>,
    /// The old side's request count for the host in CloudWatch.
    pub requests: Option<Metric>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OldTarget {
    /// A DNS name: the host is a CNAME to it.
    Name(String),
    /// Public addresses: the host has A records.
    Addresses(Vec<std::net::Ipv4Addr>),
}

impl OldTarget {
    /// The DNS record type that serves the host today, and that its migration's weighted
    /// records share.
    pub fn record_type(&self) -> &'static str {
        match self {
            OldTarget::Name(_) => "CNAME",
            OldTarget::Addresses(_) => "A",
        }
    }

    /// The record's values as Route 53 writes them.
    pub fn values(&self) -> Vec<String> {
        match self {
            OldTarget::Name(name) => vec![name.clone()],
            OldTarget::Addresses(addresses) => addresses.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The old side's servers as load balancer targets: IP addresses outside the VPC.
#[derive(Clone, Debug, PartialEq)]
pub struct PrivateOrigin {
    pub addresses: Vec<std::net::Ipv4Addr>,
    pub port: u16,
    /// `HTTPS` or `HTTP`, as target groups spell it.
    pub protocol: String,
    pub health_path: String,
    /// Matcher codes of the health check, as target groups write them (`200-499`).
    pub health_codes: String,
}

/// A CloudWatch metric, by namespace, name and dimensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub namespace: String,
    pub name: String,
    pub dimensions: BTreeMap<String, String>,
}

/// How a service moves from the old side (`services[].migration`), defaults resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Migration {
    /// Percent on the new side at each step, strictly rising, ending at 100.
    pub steps: Vec<u8>,
    /// Seconds each step is watched after its weights are live and the DNS TTL has passed.
    pub bake_seconds: u64,
    pub probe: MigrationProbe,
    pub baseline: Baseline,
}

impl Migration {
    pub const DEFAULT_STEPS: [u8; 5] = [1, 5, 25, 50, 100];
    pub const DEFAULT_BAKE_SECONDS: u64 = 300;
}

impl Default for Migration {
    fn default() -> Self {
        Migration {
            steps: Self::DEFAULT_STEPS.to_vec(),
            bake_seconds: Self::DEFAULT_BAKE_SECONDS,
            probe: MigrationProbe::default(),
            baseline: Baseline::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MigrationProbe {
    /// The path requested; `None`: each route's path followed by the health path.
    pub path: Option<String>,
    /// Lowest and highest status code that pass.
    pub status: (u16, u16),
    /// Slowest answer that passes, in milliseconds.
    pub latency_ms: u64,
}

impl Default for MigrationProbe {
    fn default() -> Self {
        MigrationProbe { path: None, status: (200, 399), latency_ms: 1000 }
    }
}

/// The old side's last known figures for a service.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Baseline {
    /// Share of requests answered with a server error, 0.0..=1.0.
    pub error_rate: Option<f64>,
    /// 99th percentile response time in milliseconds.
    pub p99_ms: Option<u64>,
}

impl Platform {
    /// Every distinct public host, sorted: one certificate and one record each.
    pub fn hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> =
            self.services.iter().flat_map(|s| s.routes.iter().map(|r| r.host.as_str())).collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The services routed on `host`, in file order.
    pub fn services_on(&self, host: &str) -> Vec<&Service> {
        self.services.iter().filter(|s| s.routes.iter().any(|r| r.host == host)).collect()
    }

    /// The old side of `host`: `None` for a platform without `legacy` and for a host the
    /// old side never served.
    pub fn old_side(&self, host: &str) -> Option<&OldSide> {
        self.legacy.as_ref().and_then(|l| l.hosts.get(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(cidr: &str, zones: u8) -> Network {
        Network { cidr: cidr.parse().expect("test CIDR"), zones }
    }

    fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
        a.contains(&b.network()) || b.contains(&a.network())
    }

    #[test]
    fn fixture_layout_is_the_documented_split() {
        let layout = network("10.20.0.0/16", 3).subnets();
        let cidrs: Vec<[String; 3]> =
            layout.iter().map(|z| [z.public.to_string(), z.private.to_string(), z.database.to_string()]).collect();
        assert_eq!(
            cidrs,
            [
                ["10.20.128.0/22", "10.20.0.0/20", "10.20.160.0/22"],
                ["10.20.132.0/22", "10.20.16.0/20", "10.20.164.0/22"],
                ["10.20.136.0/22", "10.20.32.0/20", "10.20.168.0/22"],
            ]
        );
        assert_eq!(layout.iter().map(|z| z.zone).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn subnets_sit_inside_the_vpc_and_never_overlap() {
        for cidr in ["10.20.0.0/16", "10.0.0.0/17", "172.31.16.0/20", "192.168.0.0/18", "10.20.5.7/16"] {
            for zones in 1..=Network::ZONE_SLOTS {
                let n = network(cidr, zones);
                let vpc = n.cidr.trunc();
                let all: Vec<Ipv4Net> = n.subnets().iter().flat_map(|z| Tier::ALL.map(|t| z.cidr(t))).collect();
                assert_eq!(all.len(), 3 * usize::from(zones));
                for (i, a) in all.iter().enumerate() {
                    assert!(vpc.contains(a), "{cidr}/{zones} zones: {a} outside the VPC");
                    assert_eq!(*a, a.trunc(), "{a} is not aligned");
                    for b in &all[i + 1..] {
                        assert!(!overlaps(a, b), "{cidr}/{zones} zones: {a} overlaps {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn private_subnets_are_the_largest() {
        for z in network("10.20.0.0/16", 6).subnets() {
            assert_eq!(z.private.prefix_len(), 20);
            assert_eq!(z.public.prefix_len(), 22);
            assert_eq!(z.database.prefix_len(), 22);
        }
    }

    #[test]
    fn a_zone_keeps_its_subnets_when_zones_are_added() {
        let two = network("10.20.0.0/16", 2).subnets();
        let six = network("10.20.0.0/16", 6).subnets();
        assert_eq!(two[..], six[..2]);
    }

    #[test]
    fn service_range_avoids_the_vpc_and_dns_is_its_tenth_address() {
        let n = network("10.20.0.0/16", 3);
        assert_eq!(n.service_cidr().to_string(), "172.20.0.0/16");
        assert_eq!(n.cluster_dns_ip().to_string(), "172.20.0.10");
        for cidr in ["172.20.0.0/16", "172.20.64.0/18", "172.20.255.0/20"] {
            let n = network(cidr, 3);
            assert_eq!(n.service_cidr().to_string(), "10.100.0.0/16", "{cidr}");
            assert_eq!(n.cluster_dns_ip().to_string(), "10.100.0.10");
            assert!(!overlaps(&n.service_cidr(), &n.cidr.trunc()));
        }
        // Next to 172.20/16 but not in it: the usual range stays.
        assert_eq!(network("172.21.0.0/16", 3).service_cidr().to_string(), "172.20.0.0/16");
    }

    #[test]
    fn the_longest_prefix_keeps_every_subnet_usable() {
        let smallest = network(&format!("10.20.0.0/{}", Network::LONGEST_PREFIX), 6).subnets();
        for z in &smallest {
            assert_eq!(z.private.prefix_len(), Network::LONGEST_PRIVATE_PREFIX);
            // AWS's smallest subnet is a /28.
            assert!(z.public.prefix_len() <= 28 && z.database.prefix_len() <= 28);
        }
        // One bit less and the private subnets fall below the floor.
        let too_small = network("10.20.0.0/21", 6).subnets();
        assert!(too_small[0].private.prefix_len() > Network::LONGEST_PRIVATE_PREFIX);
    }
}
