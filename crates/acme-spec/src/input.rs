//! The file format of `acme.yaml`, as written by people.
//!
//! These types only say what may appear where; [`crate::validate`] checks the values, applies
//! the defaults and produces the resolved [`crate::Platform`]. Doc comments here become the
//! JSON Schema descriptions (`acmectl schema`), so they are written for the user.
//! Numbers that people get wrong (ports) are read wide and range-checked by the validator,
//! so the error can name the field and the allowed range instead of a serde type error.

use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// One platform: everything acmectl synthesizes, checks, deploys and operates.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformFile {
    /// Lowercase DNS label (1–20 characters) naming the platform; prefixes every stack
    /// (`acme-network`) and named resource.
    pub name: String,
    /// AWS region the platform runs in, e.g. `us-east-1`.
    pub region: String,
    /// Apex domain every public host lives under, e.g. `acme.example.com`.
    pub domain: String,
    /// Public and private DNS zones.
    #[serde(default)]
    pub dns: Option<DnsInput>,
    /// The VPC.
    #[serde(default)]
    pub network: Option<NetworkInput>,
    /// The EKS cluster (Auto Mode).
    #[serde(default)]
    pub cluster: Option<ClusterInput>,
    /// The RDS database. Leave out for a platform without one.
    #[serde(default)]
    pub database: Option<DatabaseInput>,
    /// The microservices, each with its own namespace, image repository, IAM role and target group.
    pub services: Vec<ServiceInput>,
    /// The internet-facing Application Load Balancer.
    #[serde(default)]
    pub edge: Option<EdgeInput>,
    /// Who is told when an alarm fires.
    #[serde(default)]
    pub alerts: Option<AlertsInput>,
    /// The CI/CD system that builds images and deploys.
    #[serde(default)]
    pub ci: Option<CiInput>,
    /// AWS Backup of the database, beyond RDS's own point-in-time recovery.
    #[serde(default)]
    pub backup: Option<BackupInput>,
    /// The infrastructure that serves the hosts today; the migration moves traffic off it.
    #[serde(default)]
    pub legacy: Option<LegacyInput>,
    /// Patches to synthesized CloudFormation resources, applied in order after synthesis and
    /// before `check`: the escape hatch for what acme.yaml has no field for. `check` still
    /// judges the patched templates; a finding an override causes points at it.
    #[serde(default)]
    pub overrides: Vec<OverrideInput>,
    /// `acmectl check`: findings accepted on purpose, and your own CloudFormation Guard rules.
    #[serde(default)]
    pub check: Option<CheckInput>,
}

/// One patch: set (`value`) or delete (`remove: true`) one property of one synthesized resource.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideInput {
    /// Stack of the resource: `keys`, `network`, `dns`, `ci`, `cluster`, `registry`, `data`,
    /// `edge`, `services`, `observability` or `backup`.
    pub stack: String,
    /// Logical id of the resource, as in `out/cloudformation/<stack>.yaml`, e.g. `Database`.
    pub resource: String,
    /// Property to patch, from `Properties`: `Properties.MultiAZ`,
    /// `Properties.SecurityGroupIngress[0].CidrIp` (list items by index, `[0]` or `.0`).
    /// Every step but the last must exist; the last may add a new property.
    pub path: String,
    /// The new value, any YAML (a scalar, a list or a mapping); replaces what is there.
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    /// Delete the property instead of setting it.
    #[serde(default)]
    pub remove: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInput {
    /// Findings you accept, each with the reason. `synth` and `deploy` refuse to go on while
    /// any other finding stands; the report lists accepted ones with their reasons.
    #[serde(default)]
    pub accept: Vec<AcceptInput>,
    /// Folders of AWS CloudFormation Guard rule files (`*.guard`), relative to acme.yaml,
    /// evaluated over every template by `check`, `synth` and `deploy`.
    #[serde(default)]
    pub rules: Vec<String>,
}

/// A finding accepted on purpose.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    /// Rule id, e.g. `ACME-DB-003`, or a Guard rule as `GUARD-<file stem>-<rule name>`.
    pub rule: String,
    /// Why this is acceptable, for the reviewer who reads the report. Required.
    pub reason: String,
    /// Only findings in this stack (default: every stack).
    #[serde(default)]
    pub stack: Option<String>,
    /// Only findings on this resource: a logical id (`Database`) or a Kubernetes object
    /// as `Kind/namespace/name` (default: every resource).
    #[serde(default)]
    pub resource: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsInput {
    /// Id of an existing public hosted zone for `domain` (`Z0123456789ABC`). Leave out to
    /// create the zone.
    #[serde(default)]
    pub zone_id: Option<String>,
    /// Name of a private hosted zone attached to the VPC, for internal names.
    #[serde(default)]
    pub private_zone: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkInput {
    /// IPv4 CIDR of the VPC (default `10.0.0.0/16`); must leave room for three subnets per zone.
    #[serde(default)]
    pub cidr: Option<String>,
    /// Availability zones to spread over, 2 to 6 (default 3).
    #[serde(default)]
    pub zones: Option<i64>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterInput {
    /// Kubernetes minor version, quoted: `"1.34"` (default).
    #[serde(default)]
    pub version: Option<String>,
    /// CIDRs allowed to reach a public API endpoint. Empty (default): the endpoint is private.
    #[serde(default)]
    pub public_access_cidrs: Vec<String>,
    /// IAM role ARNs granted cluster admin through EKS access entries.
    #[serde(default)]
    pub admins: Vec<String>,
}

/// Database engines RDS runs for the platform.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EngineInput {
    Postgres,
    Mysql,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseInput {
    /// `postgres` (default) or `mysql`.
    #[serde(default)]
    pub engine: Option<EngineInput>,
    /// Engine major version, quoted: `"17"` for PostgreSQL (default), `"8.4"` for MySQL (default).
    #[serde(default)]
    pub version: Option<String>,
    /// Instance class (default `db.r7g.large`).
    #[serde(default)]
    pub class: Option<String>,
    /// Allocated storage in GiB, 20 to 65536 (default 100).
    #[serde(default)]
    pub storage_gb: Option<i64>,
    /// Ceiling for storage autoscaling in GiB (default 5 × `storage_gb`, at most 65536).
    #[serde(default)]
    pub max_storage_gb: Option<i64>,
    /// Name of the database created in the instance (default: the platform name).
    #[serde(default)]
    pub name: Option<String>,
    /// A standby in a second zone (default true). `false` is a relaxation that `check` reports.
    #[serde(default)]
    pub multi_az: Option<bool>,
    /// Days of automated backups, the point-in-time recovery window, 1 to 35 (default 14).
    /// Fewer than 7 is a relaxation that `check` reports.
    #[serde(default)]
    pub backup_retention_days: Option<i64>,
    /// Refuse to delete the instance (default true).
    #[serde(default)]
    pub deletion_protection: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// DNS label (1–30 characters); names the namespace, image repository, IAM role and target group.
    pub name: String,
    /// Kubernetes namespace (default: the service name). Services may share one.
    #[serde(default)]
    pub namespace: Option<String>,
    /// The container port the service listens on (its `http` port).
    pub port: i64,
    /// More named container ports, `name: port`, e.g. `admin: 9090`.
    #[serde(default)]
    pub ports: BTreeMap<String, i64>,
    /// How the load balancer and Kubernetes tell the service is healthy.
    pub health: HealthInput,
    /// Public host (and path) rules that send traffic to this service.
    #[serde(default)]
    pub routes: Vec<RouteInput>,
    /// The service holds WebSocket connections: longer idle timeout, stickiness, longer drain.
    #[serde(default)]
    pub websocket: bool,
    /// Services this one calls, by name. Network policies allow exactly these calls.
    #[serde(default)]
    pub talks_to: Vec<String>,
    /// AWS resources the service uses: `database` (its RDS-managed secret) or
    /// `{ bucket: NAME }` (a bucket the service owns). Its IAM role grants exactly these.
    #[serde(default)]
    pub uses: Vec<UseInput>,
    /// Pod count range for the autoscaler.
    #[serde(default)]
    pub replicas: Option<ReplicasInput>,
    /// CPU and memory per pod.
    #[serde(default)]
    pub resources: Option<ResourcesInput>,
    /// Environment variables of the container. Never secrets: the database credentials come
    /// from the RDS-managed secret.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Where the service's code lives in the repository, for its CI/CD pipeline.
    #[serde(default)]
    pub source: Option<SourceInput>,
    /// How `acmectl migrate` moves it from the old side (`legacy`): steps, bake time,
    /// probe and the old side's figures.
    #[serde(default)]
    pub migration: Option<MigrationInput>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    /// Folder of the service's code, relative to the repository root (default
    /// `services/<name>`). A commit that changes a file below it runs the service's pipeline;
    /// it is also the image's build context. Letters, digits and `.`, `_`, `-`, `/`.
    #[serde(default)]
    pub path: Option<String>,
    /// The image's Dockerfile, relative to the repository root (default `<path>/Dockerfile`).
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// One shell command, run in `path`, that tests the service, e.g. `make test`. Leave out
    /// when the Dockerfile runs the tests (a build stage that fails when a test fails).
    #[serde(default)]
    pub test: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthInput {
    /// HTTP path that answers 2xx when the service is ready, e.g. `/healthz`.
    pub path: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// Public host name under `domain`, e.g. `www.acme.example.com`.
    pub host: String,
    /// Path prefix, e.g. `/api` (matches `/api` and everything below). Leave out for the whole host.
    #[serde(default)]
    pub path: Option<String>,
    /// Container port the route sends traffic to (default: the service's `port`).
    #[serde(default)]
    pub port: Option<i64>,
}

/// An AWS resource a service uses: `database`, or `{ bucket: NAME }`.
#[derive(Debug)]
pub enum UseInput {
    Database,
    Bucket(String),
    /// Anything else, kept so the validator can point at it.
    Unknown(String),
}

impl<'de> Deserialize<'de> for UseInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UseInput;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`database` or `{ bucket: NAME }`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<UseInput, E> {
                Ok(if v == "database" { UseInput::Database } else { UseInput::Unknown(v.to_owned()) })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<UseInput, A::Error> {
                let mut bucket = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "bucket" {
                        return Err(serde::de::Error::unknown_field(&key, &["bucket"]));
                    }
                    if bucket.is_some() {
                        return Err(serde::de::Error::duplicate_field("bucket"));
                    }
                    bucket = Some(map.next_value::<String>()?);
                }
                bucket.map(UseInput::Bucket).ok_or_else(|| serde::de::Error::missing_field("bucket"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl JsonSchema for UseInput {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Use".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`database` (read its RDS-managed secret) or `{ bucket: NAME }` (a bucket the service owns).",
            "oneOf": [
                { "const": "database" },
                {
                    "type": "object",
                    "properties": { "bucket": { "type": "string", "description": "Bucket name, a DNS label." } },
                    "required": ["bucket"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicasInput {
    /// Fewest pods the autoscaler keeps (default 2).
    #[serde(default)]
    pub min: Option<i64>,
    /// Most pods the autoscaler may run (default 6).
    #[serde(default)]
    pub max: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcesInput {
    /// CPU request, a Kubernetes quantity: `250m` (default), `1`.
    #[serde(default)]
    pub cpu: Option<String>,
    /// Memory request: `256Mi` (default), `1Gi`.
    #[serde(default)]
    pub memory: Option<String>,
    /// CPU limit (default: 4 × the request).
    #[serde(default)]
    pub cpu_limit: Option<String>,
    /// Memory limit (default: the request, so a pod is never killed for memory it was promised).
    #[serde(default)]
    pub memory_limit: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeInput {
    /// Attach an AWS WAF web ACL with AWS managed rules and a per-IP rate limit (default true).
    #[serde(default)]
    pub waf: Option<bool>,
    /// Load balancer idle timeout in seconds, 1 to 4000 (default 60); raised to 3600 when a
    /// service uses WebSockets.
    #[serde(default)]
    pub idle_timeout_seconds: Option<i64>,
    /// TLS policy of the HTTPS listener (default `ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09`:
    /// TLS 1.2 and 1.3, forward-secret ciphers). A policy that allows TLS 1.0 or 1.1, for old
    /// clients, is a relaxation that `check` reports.
    #[serde(default)]
    pub tls_policy: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsInput {
    /// Email addresses subscribed to the alert topic.
    #[serde(default)]
    pub email: Vec<String>,
}

/// CI/CD systems acmectl writes pipelines and a role for.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CiProviderInput {
    Jenkins,
    Github,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiInput {
    /// `jenkins` (default) or `github`.
    // Read as text so that an unknown name is reported with its field; the schema lists the names.
    #[serde(default)]
    #[schemars(with = "Option<CiProviderInput>")]
    pub provider: Option<String>,
    /// Source repository, `owner/name`. Required for `github`: the role trusts only it.
    #[serde(default)]
    pub repository: Option<String>,
    /// Branch that deploys to production (default `main`).
    #[serde(default)]
    pub branch: Option<String>,
    /// GitHub: ARN of the account's existing OIDC provider for
    /// `token.actions.githubusercontent.com`. An account holds one per URL; leave out to create it.
    #[serde(default)]
    pub github_oidc_provider_arn: Option<String>,
    /// Jenkins: ARNs of the IAM roles the agents run as (EC2 instance role or EKS pod identity
    /// role). The deploy role trusts exactly these.
    #[serde(default)]
    pub agent_roles: Vec<String>,
    /// A pipeline stops before deploying an image whose ECR scan (on push) found a
    /// vulnerability of this severity or above: `informational`, `low`, `medium`, `high` (default) or `critical`
    /// (ECR's names, any case).
    #[serde(default)]
    #[schemars(with = "Option<SeverityInput>")]
    pub fail_on: Option<String>,
    /// Ask a person before a service deploys to production (default false: every commit on
    /// `branch` deploys). GitHub: the environment named after the platform, with required
    /// reviewers; Jenkins: an `input` step. The platform itself always deploys after approval.
    #[serde(default)]
    pub approval: Option<bool>,
    /// The 12-digit AWS account the platform runs in; the pipelines name the CI role by it.
    /// Leave out to have GitHub workflows read the repository variable `AWS_ACCOUNT_ID` and
    /// Jenkins the environment variable `AWS_ACCOUNT_ID`.
    #[serde(default)]
    pub account_id: Option<AccountIdInput>,
    /// Path of this file in the repository (default `acme.yaml`): the platform pipeline runs
    /// on changes to it, and every pipeline hands it to acmectl.
    #[serde(default)]
    pub platform_file: Option<String>,
    /// Labels of the machines that run the jobs which reach AWS and the cluster. GitHub: the
    /// `runs-on` labels of self-hosted runners, e.g. `[self-hosted, acme]`; needed when the
    /// cluster's API endpoint is private, which GitHub's hosted runners cannot reach. Jenkins:
    /// the agents' labels (default: any agent).
    #[serde(default)]
    pub runner: Vec<String>,
}

/// Severities of ECR image scan findings, lowest first.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum SeverityInput {
    #[serde(rename = "informational", alias = "INFORMATIONAL")]
    Informational,
    #[serde(rename = "low", alias = "LOW")]
    Low,
    #[serde(rename = "medium", alias = "MEDIUM")]
    Medium,
    #[serde(rename = "high", alias = "HIGH")]
    High,
    #[serde(rename = "critical", alias = "CRITICAL")]
    Critical,
}

/// An AWS account id: 12 digits, quoted or not.
#[derive(Debug, JsonSchema)]
pub struct AccountIdInput(pub String);

impl<'de> Deserialize<'de> for AccountIdInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = AccountIdInput;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a 12-digit AWS account id")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AccountIdInput, E> {
                Ok(AccountIdInput(v.to_owned()))
            }
            // Unquoted, YAML reads a number, and an id with a leading zero loses it (or turns
            // octal or float): such a value fails validation, whose help says to quote it.
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AccountIdInput, E> {
                Ok(AccountIdInput(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AccountIdInput, E> {
                Ok(AccountIdInput(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<AccountIdInput, E> {
                Ok(AccountIdInput(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupInput {
    /// AWS Backup schedule, a cron expression in UTC (default `cron(0 5 * * ? *)`, daily 05:00).
    #[serde(default)]
    pub schedule: Option<String>,
    /// Days each daily backup is kept (default 35).
    #[serde(default)]
    pub retention_days: Option<i64>,
    /// Copy every backup to a vault in another region.
    #[serde(default)]
    pub copy_to: Option<BackupCopyInput>,
    /// AWS Backup Vault Lock: nobody can delete backups early.
    #[serde(default)]
    pub vault_lock: Option<VaultLockInput>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupCopyInput {
    /// Region of the destination vault.
    pub region: String,
    /// ARN of the destination vault.
    pub vault_arn: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultLockInput {
    /// Shortest retention a backup in the vault may have (at least 1).
    pub min_retention_days: i64,
    /// Longest retention a backup in the vault may have.
    pub max_retention_days: i64,
    /// Days (at least 3) before the lock becomes immutable (compliance mode). Leave out for
    /// governance mode, which privileged users can still change.
    #[serde(default)]
    pub changeable_for_days: Option<i64>,
}

/// Where the hosts are served today. `acmectl migrate` moves each service over in gated
/// steps; until a host is migrated, `deploy` leaves its traffic there.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegacyInput {
    /// DNS name that serves every host today (a CNAME target), e.g.
    /// `old-lb.acme-legacy.example.net`. Hosts listed under `hosts` may say otherwise.
    #[serde(default)]
    pub target: Option<String>,
    /// Public IPv4 addresses that serve every host today (A records), instead of `target`.
    /// Needed for a host at the zone apex, where a CNAME is not allowed.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Private IPv4 addresses of the old side that the VPC can reach (peering, Transit
    /// Gateway, VPN or Direct Connect). The load balancer forwards to them while services
    /// that share a host by path move one at a time.
    #[serde(default)]
    pub private_addresses: Vec<String>,
    /// Port the old side serves on at `private_addresses` (default 443).
    #[serde(default)]
    pub port: Option<i64>,
    /// `HTTPS` (default) or `HTTP`: how the load balancer speaks to `private_addresses`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// How the load balancer checks that the old side answers at `private_addresses`.
    #[serde(default)]
    pub health: Option<LegacyHealthInput>,
    /// Hosts that differ from the defaults above, or that the old side never served.
    #[serde(default)]
    pub hosts: Vec<LegacyHostInput>,
}

/// One host's old side, where it differs from the defaults of `legacy`. (The fields repeat
/// those of [`LegacyInput`]: serde cannot flatten a shared struct into types that reject
/// unknown fields.)
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegacyHostInput {
    /// A public host of the platform (a `routes[].host`).
    pub host: String,
    /// The old side never served this host: `deploy` points it at the new load balancer at
    /// once, and there is nothing to migrate.
    #[serde(default)]
    pub new: bool,
    /// DNS name that serves the host today, instead of `legacy.target`.
    #[serde(default)]
    pub target: Option<String>,
    /// Public IPv4 addresses that serve the host today, instead of `legacy.target`.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Private IPv4 addresses of the host's old side, instead of `legacy.private_addresses`.
    #[serde(default)]
    pub private_addresses: Vec<String>,
    /// Port at `private_addresses`, instead of `legacy.port`.
    #[serde(default)]
    pub port: Option<i64>,
    /// `HTTPS` or `HTTP` at `private_addresses`, instead of `legacy.protocol`.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Health check of `private_addresses`, instead of `legacy.health`.
    #[serde(default)]
    pub health: Option<LegacyHealthInput>,
    /// The old side's request count for this host in CloudWatch. The migration compares it
    /// with the new side's to see the split clients really follow (DNS caches), and the
    /// decommission report shows what the old side still serves.
    #[serde(default)]
    pub requests: Option<MetricInput>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegacyHealthInput {
    /// Path the load balancer requests (default `/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Status codes that count as healthy: `200`, `200-399` (default `200-499`: any answer
    /// but a server error shows the old side is up).
    #[serde(default)]
    pub codes: Option<String>,
}

/// A CloudWatch metric, as `aws cloudwatch get-metric-statistics` names it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricInput {
    /// e.g. `AWS/ELB` or `AWS/ApplicationELB`.
    pub namespace: String,
    /// e.g. `RequestCount`.
    pub metric: String,
    /// e.g. `{ LoadBalancerName: old-lb }`.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
}

/// How `acmectl migrate` moves the service from the old side.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationInput {
    /// Percent of the service's traffic on the new side at each step, rising to 100
    /// (default `[1, 5, 25, 50, 100]`).
    #[serde(default)]
    pub steps: Option<Vec<i64>>,
    /// How long each step is watched once its weights are live and the DNS TTL has passed,
    /// before the next step: `30s`, `5m`, `1h` (default `5m`).
    #[serde(default)]
    pub bake: Option<String>,
    /// The request acmectl sends itself to the new side at every poll.
    #[serde(default)]
    pub probe: Option<ProbeInput>,
    /// The old side's last known figures for this service; at 100 percent the new side must
    /// do as well before the migration counts as done.
    #[serde(default)]
    pub baseline: Option<BaselineInput>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeInput {
    /// Path requested on each of the service's hosts (default: the route's path followed by
    /// `health.path`, e.g. `/api/healthz`).
    #[serde(default)]
    pub path: Option<String>,
    /// Status codes that pass: `200` or `200-399` (default `200-399`).
    #[serde(default)]
    pub status: Option<String>,
    /// Slowest answer that passes: `500ms`, `2s` (default `1s`).
    #[serde(default)]
    pub latency: Option<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineInput {
    /// Share of requests the old side answers with a server error, e.g. `0.4%`.
    #[serde(default)]
    pub error_rate: Option<String>,
    /// The old side's 99th percentile response time, e.g. `350ms`.
    #[serde(default)]
    pub p99: Option<String>,
}
