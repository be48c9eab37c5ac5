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

#[derive(Clone, Debug, PartialEq)]
pub struct Legacy {
    /// DNS name that serves the hosts today.
    pub target: String,
}

impl Platform {
    /// Every distinct public host, sorted: one certificate and one record each.
    pub fn hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = self
            .services
            .iter()
            .flat_map(|s| s.routes.iter().map(|r| r.host.as_str()))
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}
