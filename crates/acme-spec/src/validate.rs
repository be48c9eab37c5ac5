//! The file's values checked and resolved: defaults applied, references followed, limits
//! enforced. Every problem is collected (not just the first) with its field path and a fix.

use crate::diagnostic::Issue;
use crate::input::*;
use crate::model::*;
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, BTreeSet};

mod legacy;
pub use legacy::{STEPS_FIX, StepsError, check_steps, parse_duration_ms, parse_status_range};

/// Kubernetes minor versions acmectl synthesizes for (EKS standard and extended support
/// as of this release, and the schemas kubernetes-validate checks against).
pub const CLUSTER_VERSIONS: std::ops::RangeInclusive<u32> = 30..=35;
pub const DEFAULT_CLUSTER_VERSION: &str = "1.34";

/// TLS 1.2 and 1.3 only, forward-secret ciphers, post-quantum key exchange where the client
/// offers it.
pub const DEFAULT_TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09";

/// Namespaces that belong to Kubernetes, EKS or its add-ons; acmectl owns the ones it creates
/// (default deny, deletion with the service), so it may not take these.
const RESERVED_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease", "amazon-cloudwatch", "acmectl-system"];

/// Service names acmectl uses for files of its own: `out/kubernetes/platform.yaml` holds the
/// platform-wide Kubernetes objects beside one file per service.
const RESERVED_SERVICE_NAMES: &[&str] = &["platform"];

/// Environment variables the pod gets from acmectl (`AWS_REGION`) or that would contradict it.
/// Pod Identity injects `AWS_CONTAINER_*` itself.
const RESERVED_AWS_ENV: &[&str] = &["AWS_REGION", "AWS_DEFAULT_REGION"];

#[derive(Default)]
pub struct Validator {
    pub issues: Vec<Issue>,
}

impl Validator {
    fn error(&mut self, field: impl Into<String>, message: impl Into<String>, help: impl Into<String>) {
        self.issues.push(Issue { field: field.into(), message: message.into(), help: help.into() });
    }

    /// An integer within `range`, or an error naming the range.
    fn int<T: TryFrom<i64> + Copy>(
        &mut self,
        field: &str,
        value: i64,
        range: std::ops::RangeInclusive<i64>,
        what: &str,
    ) -> Option<T> {
        if !range.contains(&value) {
            self.error(
                field,
                format!("{what} {value} is outside {}..={}", range.start(), range.end()),
                format!("use a value from {} to {}", range.start(), range.end()),
            );
            return None;
        }
        T::try_from(value).ok()
    }

    pub fn platform(&mut self, f: PlatformFile) -> Option<Platform> {
        self.dns_label("name", &f.name, 20, "the platform name");
        if !is_region(&f.region) {
            self.error(
                "region",
                format!("`{}` is not an AWS region name", f.region),
                "write a region code such as `us-east-1` or `eu-central-1`",
            );
        }
        let mut domain_ok = self.dns_name("domain", &f.domain);
        if domain_ok && !f.domain.contains('.') {
            self.error(
                "domain",
                format!("`{}` is a single label, not a domain", f.domain),
                "write the apex domain the hosts live under, e.g. `acme.example.com`",
            );
            domain_ok = false;
        }

        let dns = self.dns(f.dns.unwrap_or_default());
        let network = self.network(f.network.unwrap_or_default());
        let cluster = self.cluster(f.cluster.unwrap_or_default());
        let database = f.database.map(|d| self.database(d, &f.name));
        let services =
            self.services(f.services, domain_ok.then_some(f.domain.as_str()), database.is_some(), f.legacy.is_some());
        let edge = self.edge(f.edge.unwrap_or_default());
        let alerts = self.alerts(f.alerts.unwrap_or_default());
        let ci = self.ci(f.ci.unwrap_or_default(), cluster.public_access_cidrs.is_empty());
        let backup = self.backup(f.backup.unwrap_or_default());
        let vpc = network.as_ref().map(|n| n.cidr.trunc());
        let legacy = match (f.legacy, &services) {
            (Some(l), Some(services)) => Some(self.legacy(l, services, &f.domain, vpc)),
            _ => None,
        };
        let overrides = self.overrides(f.overrides);
        let check = self.check(f.check.unwrap_or_default());

        let platform = Platform {
            name: f.name,
            region: f.region,
            domain: f.domain,
            dns,
            network: network?,
            cluster,
            database: database.flatten(),
            services: services?,
            edge: edge?,
            alerts,
            ci,
            backup: backup?,
            legacy,
            overrides,
            check,
            placement: Placement::default(),
        };
        self.issues.is_empty().then_some(platform)
    }

    fn dns(&mut self, d: DnsInput) -> Dns {
        let zone = match d.zone_id {
            Some(id) => {
                if !(id.starts_with('Z')
                    && id.len() <= 32
                    && id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
                {
                    self.error("dns.zone_id", format!("`{id}` is not a Route 53 hosted zone id"), "copy the id from `aws route53 list-hosted-zones` (e.g. `Z0123456789ABCDEFGHIJ`), without the `/hostedzone/` prefix");
                }
                ZoneSource::Existing { id }
            }
            None => ZoneSource::Create,
        };
        if let Some(private) = &d.private_zone {
            self.dns_name("dns.private_zone", private);
        }
        Dns { zone, private_zone: d.private_zone }
    }

    fn network(&mut self, n: NetworkInput) -> Option<Network> {
        let zones = match n.zones {
            None => 3,
            Some(z) => self.int::<u8>("network.zones", z, 2..=6, "zone count")?,
        };
        let text = n.cidr.as_deref().unwrap_or("10.0.0.0/16");
        let cidr: Ipv4Net = match text.parse() {
            Ok(c) => c,
            Err(_) => {
                self.error(
                    "network.cidr",
                    format!("`{text}` is not an IPv4 CIDR"),
                    "write the VPC range as address/prefix, e.g. `10.20.0.0/16`",
                );
                return None;
            }
        };
        if cidr.trunc() != cidr {
            self.error(
                "network.cidr",
                format!("`{cidr}` has host bits set"),
                format!("write the network address: `{}`", cidr.trunc()),
            );
        }
        if cidr.prefix_len() < Network::SHORTEST_PREFIX {
            self.error(
                "network.cidr",
                format!("a VPC may be at most a /16; `{cidr}` is larger"),
                "use a /16 or smaller range",
            );
        }
        if cidr.prefix_len() > Network::LONGEST_PREFIX {
            self.error(
                "network.cidr",
                format!(
                    "`{cidr}` is too small for {zones} zones: each zone's private subnet for nodes and pods needs at least a /{}",
                    Network::LONGEST_PRIVATE_PREFIX
                ),
                format!("use a /{} or larger range", Network::LONGEST_PREFIX),
            );
        }
        Some(Network { cidr, zones })
    }

    fn cluster(&mut self, c: ClusterInput) -> Cluster {
        let version = c.version.unwrap_or_else(|| DEFAULT_CLUSTER_VERSION.into());
        let minor = version.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok());
        if !minor.is_some_and(|m| CLUSTER_VERSIONS.contains(&m)) {
            self.error(
                "cluster.version",
                format!("Kubernetes version `{version}` is not one acmectl supports"),
                format!(
                    "use a quoted version from \"1.{}\" to \"1.{}\", e.g. \"{DEFAULT_CLUSTER_VERSION}\"",
                    CLUSTER_VERSIONS.start(),
                    CLUSTER_VERSIONS.end()
                ),
            );
        }
        let mut public_access_cidrs = vec![];
        for (i, text) in c.public_access_cidrs.iter().enumerate() {
            match text.parse::<Ipv4Net>() {
                Ok(net) => public_access_cidrs.push(net),
                Err(_) => self.error(
                    format!("cluster.public_access_cidrs[{i}]"),
                    format!("`{text}` is not an IPv4 CIDR"),
                    "write address/prefix, e.g. `203.0.113.0/24`",
                ),
            }
        }
        for (i, arn) in c.admins.iter().enumerate() {
            if !is_role_arn(arn) {
                self.error(
                    format!("cluster.admins[{i}]"),
                    format!("`{arn}` is not an IAM role ARN"),
                    "write `arn:aws:iam::<12-digit account>:role/<name>`",
                );
            }
        }
        Cluster { version, public_access_cidrs, admin_role_arns: c.admins }
    }

    fn database(&mut self, d: DatabaseInput, platform: &str) -> Option<Database> {
        let engine = match d.engine.unwrap_or(EngineInput::Postgres) {
            EngineInput::Postgres => Engine::Postgres,
            EngineInput::Mysql => Engine::Mysql,
        };
        let version = d.version.unwrap_or_else(|| match engine {
            Engine::Postgres => "17".into(),
            Engine::Mysql => "8.4".into(),
        });
        let major_ok = match engine {
            Engine::Postgres => {
                version.split('.').next().and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| (13..=18).contains(&m))
            }
            Engine::Mysql => {
                version == "8.0" || version == "8.4" || version.starts_with("8.0.") || version.starts_with("8.4.")
            }
        };
        if !major_ok || !version.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            let help = match engine {
                Engine::Postgres => "use a quoted PostgreSQL major version from \"13\" to \"18\", e.g. \"17\"",
                Engine::Mysql => "use a quoted MySQL version \"8.0\" or \"8.4\"",
            };
            self.error("database.version", format!("`{version}` is not a supported {} version", engine.label()), help);
        }
        let class = d.class.unwrap_or_else(|| "db.r7g.large".into());
        let parts: Vec<&str> = class.split('.').collect();
        if parts.len() != 3
            || parts[0] != "db"
            || parts[1..]
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            self.error(
                "database.class",
                format!("`{class}` is not an RDS instance class"),
                "write a class such as `db.r7g.large` or `db.t4g.medium`",
            );
        }
        let storage_gb = match d.storage_gb {
            None => 100,
            Some(v) => self.int("database.storage_gb", v, 20..=65536, "storage")?,
        };
        let max_storage_gb = match d.max_storage_gb {
            None => (storage_gb * 5).min(65536),
            Some(v) => self.int("database.max_storage_gb", v, i64::from(storage_gb)..=65536, "storage ceiling")?,
        };
        let db_name = d.name.unwrap_or_else(|| platform.replace('-', "_"));
        let name_ok = db_name.len() <= 63
            && db_name.starts_with(|c: char| c.is_ascii_alphabetic())
            && db_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            self.error(
                "database.name",
                format!("`{db_name}` is not a valid database name"),
                "start with a letter and use only letters, digits and `_`, at most 63 characters",
            );
        }
        let backup_retention_days = match d.backup_retention_days {
            None => 14,
            Some(v) => self.int("database.backup_retention_days", v, 1..=35, "retention")?,
        };
        Some(Database {
            engine,
            version,
            class,
            storage_gb,
            max_storage_gb,
            db_name,
            multi_az: d.multi_az.unwrap_or(true),
            backup_retention_days,
            deletion_protection: d.deletion_protection.unwrap_or(true),
        })
    }

    fn services(
        &mut self,
        inputs: Vec<ServiceInput>,
        domain: Option<&str>,
        has_database: bool,
        has_legacy: bool,
    ) -> Option<Vec<Service>> {
        let names: BTreeMap<&str, usize> = inputs.iter().enumerate().rev().map(|(i, s)| (s.name.as_str(), i)).collect();
        let mut services = vec![];
        let mut claimed: BTreeMap<String, String> = BTreeMap::new();
        for (i, s) in inputs.iter().enumerate() {
            let at = format!("services[{i}]");
            if self.dns_label(&format!("{at}.name"), &s.name, 30, "a service name") {
                if RESERVED_SERVICE_NAMES.contains(&s.name.as_str()) {
                    self.error(
                        format!("{at}.name"),
                        format!("`{}` names acmectl's own output (out/kubernetes/{}.yaml)", s.name, s.name),
                        "pick another service name",
                    );
                } else if let Some(&first) = names.get(s.name.as_str()).filter(|&&first| first != i) {
                    self.error(
                        format!("{at}.name"),
                        format!("service `{}` is already declared at services[{first}]", s.name),
                        "give every service a unique name",
                    );
                }
            }
            let namespace = s.namespace.clone().unwrap_or_else(|| s.name.clone());
            if self.dns_label(&format!("{at}.namespace"), &namespace, 63, "a namespace")
                && RESERVED_NAMESPACES.contains(&namespace.as_str())
            {
                self.error(
                    format!("{at}.namespace"),
                    format!("namespace `{namespace}` belongs to Kubernetes or EKS"),
                    "pick a namespace of your own, or leave it out to use the service name",
                );
            }

            let ports = self.ports(&at, s);
            let routes = self.routes(&at, s, domain, &ports, &mut claimed);
            self.health(&at, &s.health);
            self.talks_to(&at, s, &names);
            let uses = self.uses(&at, &s.uses, has_database);
            let replicas = self.replicas(&at, s.replicas.as_ref());
            let resources = self.resources(&at, s.resources.as_ref());
            for key in s.env.keys() {
                if !is_env_name(key) {
                    self.error(
                        format!("{at}.env.{key}"),
                        format!("`{key}` is not a valid environment variable name"),
                        "use letters, digits and `_`, not starting with a digit",
                    );
                } else if key.starts_with("ACME_") || key.starts_with("DATABASE_") {
                    self.error(
                        format!("{at}.env.{key}"),
                        format!("`{key}` is set by acmectl itself"),
                        "rename the variable; names starting with ACME_ or DATABASE_ are reserved",
                    );
                } else if RESERVED_AWS_ENV.contains(&key.as_str()) || key.starts_with("AWS_CONTAINER_") {
                    self.error(
                        format!("{at}.env.{key}"),
                        format!("`{key}` is set for the pod by acmectl or by EKS Pod Identity"),
                        "remove it: AWS_REGION is the platform's region, and Pod Identity sets AWS_CONTAINER_* itself",
                    );
                }
            }
            let source = self.source(&at, &s.name, s.source.as_ref());
            let migration = self.migration(&at, s.migration.as_ref(), has_legacy, !s.routes.is_empty());
            services.push(Service {
                name: s.name.clone(),
                namespace,
                ports,
                health: Health { path: s.health.path.clone() },
                routes,
                websocket: s.websocket,
                talks_to: s.talks_to.clone(),
                uses,
                replicas: replicas?,
                resources: resources?,
                env: s.env.clone(),
                source,
                migration,
            });
        }
        self.distinct_ids(&inputs);
        Some(services)
    }

    /// CloudFormation logical ids and output names are built from service names, bucket names
    /// and hosts with their punctuation dropped, so names that differ only in punctuation
    /// (`a-b` and `ab`, `a-b.x.com` and `a.b.x.com`) would collide.
    fn distinct_ids(&mut self, inputs: &[ServiceInput]) {
        // (kind, name, field) of every name that becomes part of an id.
        let mut names: Vec<(&str, String, String)> = vec![];
        for (i, s) in inputs.iter().enumerate() {
            names.push(("service", s.name.clone(), format!("services[{i}].name")));
            for (j, u) in s.uses.iter().enumerate() {
                if let UseInput::Bucket(bucket) = u {
                    names.push(("bucket", format!("{}/{bucket}", s.name), format!("services[{i}].uses[{j}].bucket")));
                }
            }
            for (j, r) in s.routes.iter().enumerate() {
                names.push(("host", r.host.clone(), format!("services[{i}].routes[{j}].host")));
            }
        }
        let mut seen: BTreeMap<(&str, String), (&str, &str)> = BTreeMap::new();
        for (kind, name, field) in &names {
            match seen.get(&(*kind, squash(name))) {
                Some((other, first)) if other != name => self.error(
                    field.as_str(),
                    format!("{kind} `{name}` differs from `{other}` ({first}) only in punctuation"),
                    "acmectl names AWS resources after it without punctuation: rename one of them",
                ),
                Some(_) => {}
                None => {
                    seen.insert((*kind, squash(name)), (name, field));
                }
            }
        }
    }

    fn ports(&mut self, at: &str, s: &ServiceInput) -> Vec<ServicePort> {
        let mut ports = vec![];
        if let Some(port) = self.int::<u16>(&format!("{at}.port"), s.port, 1..=65535, "port") {
            ports.push(ServicePort { name: "http".into(), port });
        }
        for (name, &number) in &s.ports {
            let field = format!("{at}.ports.{name}");
            let name_ok = name.len() <= 15
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && !name.ends_with('-')
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !name.contains("--");
            if !name_ok {
                self.error(
                    &field,
                    format!("`{name}` is not a valid port name"),
                    "use at most 15 lowercase letters, digits and single `-`, starting with a letter",
                );
            } else if name == "http" {
                self.error(
                    &field,
                    "`http` is the name of the main `port`",
                    "name the extra port after what it serves, e.g. `admin`",
                );
            }
            let Some(port) = self.int::<u16>(&field, number, 1..=65535, "port") else { continue };
            if ports.iter().any(|p| p.port == port) {
                self.error(&field, format!("port {port} is declared twice"), "give every port its own number");
            }
            ports.push(ServicePort { name: name.clone(), port });
        }
        ports
    }

    fn routes(
        &mut self,
        at: &str,
        s: &ServiceInput,
        domain: Option<&str>,
        ports: &[ServicePort],
        claimed: &mut BTreeMap<String, String>,
    ) -> Vec<Route> {
        let mut routes = vec![];
        for (j, r) in s.routes.iter().enumerate() {
            let rat = format!("{at}.routes[{j}]");
            let host = r.host.clone();
            let host_ok = self.dns_name(&format!("{rat}.host"), &host);
            if let Some(domain) = domain.filter(|d| host_ok && host != *d && !host.ends_with(&format!(".{d}"))) {
                self.error(
                    format!("{rat}.host"),
                    format!("host `{host}` is not under the domain `{domain}`"),
                    format!(
                        "use `{domain}` or a name ending in `.{domain}`: its certificate is validated in that zone"
                    ),
                );
            }
            let path = r.path.as_deref().and_then(|p| self.route_path(&format!("{rat}.path"), p));
            let port = match r.port {
                None => s.port.clamp(0, 65535) as u16,
                Some(p) => match self.int::<u16>(&format!("{rat}.port"), p, 1..=65535, "port") {
                    Some(p) => p,
                    None => continue,
                },
            };
            if r.port.is_some() && !ports.iter().any(|sp| sp.port == port) {
                let known: Vec<String> = ports.iter().map(|p| format!("{} ({})", p.port, p.name)).collect();
                self.error(
                    format!("{rat}.port"),
                    format!("service `{}` has no port {port}", s.name),
                    format!("route to one of its ports: {}, or declare {port} under `ports`", known.join(", ")),
                );
            }
            let key = match &path {
                Some(p) => format!("{host}{p}"),
                None => host.clone(),
            };
            if let Some(first) = claimed.get(&key) {
                let field = if path.is_some() { format!("{rat}.path") } else { format!("{rat}.host") };
                self.error(
                    field,
                    format!("`{key}` is already routed by {first}"),
                    "give each host and path to exactly one service",
                );
            } else {
                claimed.insert(key, rat.clone());
            }
            routes.push(Route { host, path, port });
        }
        routes
    }

    /// A path prefix, normalized: `/api/` → `/api`; `/` → the whole host.
    fn route_path(&mut self, field: &str, path: &str) -> Option<String> {
        if !path.starts_with('/') {
            self.error(
                field,
                format!("path `{path}` does not start with `/`"),
                format!("write `/{}`", path.trim_start_matches('/')),
            );
            return None;
        }
        if path.contains(['*', '?']) {
            self.error(
                field,
                format!("path `{path}` has a wildcard"),
                "write a plain prefix such as `/api`: it already matches everything below it",
            );
            return None;
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || "_-.$/~\"'@:+".contains(c);
        if let Some(bad) = path.chars().find(|&c| !allowed(c)) {
            self.error(
                field,
                format!("path `{path}` has the character `{bad}`, which load balancer rules cannot match"),
                "use letters, digits and _-.$/~'@:+ only",
            );
            return None;
        }
        if path.len() > 120 {
            self.error(
                field,
                format!("path is {} characters long", path.len()),
                "keep a path within 120 characters (the load balancer matches patterns of up to 128)",
            );
            return None;
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        (!segments.is_empty()).then(|| format!("/{}", segments.join("/")))
    }

    fn health(&mut self, at: &str, h: &HealthInput) {
        if !h.path.starts_with('/') || h.path.contains(char::is_whitespace) || h.path.len() > 1024 {
            self.error(
                format!("{at}.health.path"),
                format!("`{}` is not an HTTP path", h.path),
                "write the path the service answers 2xx on when ready, starting with `/`, e.g. `/healthz`",
            );
        }
    }

    fn talks_to(&mut self, at: &str, s: &ServiceInput, names: &BTreeMap<&str, usize>) {
        let mut seen = BTreeSet::new();
        for (j, callee) in s.talks_to.iter().enumerate() {
            let field = format!("{at}.talks_to[{j}]");
            if callee == &s.name {
                self.error(
                    field,
                    format!("service `{callee}` lists itself"),
                    "remove it: talks_to names other services, and the replicas of one service do not call each other",
                );
            } else if !names.contains_key(callee.as_str()) {
                let hint =
                    nearest(callee, names.keys().copied()).map(|n| format!("did you mean `{n}`? ")).unwrap_or_default();
                let all: Vec<&str> = names.keys().copied().collect();
                self.error(
                    field,
                    format!("`{callee}` is not a service of this platform"),
                    format!("{hint}name one of: {}", all.join(", ")),
                );
            } else if !seen.insert(callee) {
                self.error(field, format!("`{callee}` is listed twice"), "list each callee once");
            }
        }
    }

    fn uses(&mut self, at: &str, uses: &[UseInput], has_database: bool) -> Vec<Use> {
        let mut out: Vec<Use> = vec![];
        for (j, u) in uses.iter().enumerate() {
            let field = format!("{at}.uses[{j}]");
            let resolved = match u {
                UseInput::Database => {
                    if !has_database {
                        self.error(
                            &field,
                            "the service uses the database, but the platform has none",
                            "add a `database` section, or remove `database` from `uses`",
                        );
                    }
                    Use::Database
                }
                UseInput::Bucket(name) => {
                    self.dns_label(&format!("{field}.bucket"), name, 20, "a bucket name");
                    Use::Bucket(name.clone())
                }
                UseInput::Unknown(other) => {
                    self.error(
                        &field,
                        format!("`{other}` is not something a service can use"),
                        "write `database` or `{ bucket: NAME }`",
                    );
                    continue;
                }
            };
            if out.contains(&resolved) {
                self.error(&field, "listed twice", "list each resource once");
            } else {
                out.push(resolved);
            }
        }
        out
    }

    fn replicas(&mut self, at: &str, r: Option<&ReplicasInput>) -> Option<Replicas> {
        let min = match r.and_then(|r| r.min) {
            None => 2,
            Some(v) => self.int(&format!("{at}.replicas.min"), v, 1..=1000, "replica count")?,
        };
        let max = match r.and_then(|r| r.max) {
            None => min.max(6),
            Some(v) => self.int(&format!("{at}.replicas.max"), v, 1..=1000, "replica count")?,
        };
        if min > max {
            self.error(
                format!("{at}.replicas.min"),
                format!("min {min} is above max {max}"),
                format!("raise `max` to at least {min}, or lower `min`"),
            );
            return None;
        }
        Some(Replicas { min, max })
    }

    fn resources(&mut self, at: &str, r: Option<&ResourcesInput>) -> Option<Resources> {
        let field = |name: &str| format!("{at}.resources.{name}");
        let cpu_request = r.and_then(|r| r.cpu.clone()).unwrap_or_else(|| "250m".into());
        let memory_request = r.and_then(|r| r.memory.clone()).unwrap_or_else(|| "256Mi".into());
        let cpu = self.quantity(&field("cpu"), &cpu_request, parse_cpu, "a CPU quantity such as `250m` or `1`");
        let memory = self.quantity(
            &field("memory"),
            &memory_request,
            parse_memory,
            "a memory quantity such as `256Mi` or `1Gi`",
        );
        let cpu_limit = match r.and_then(|r| r.cpu_limit.clone()) {
            Some(text) => {
                self.quantity(&field("cpu_limit"), &text, parse_cpu, "a CPU quantity such as `1`").map(|m| (text, m))
            }
            // The default limit is 4 × the request; above u64::MAX / 4 millicores that does not
            // fit, and user input must get an error, not an overflow.
            None => match cpu.map(|m| m.checked_mul(4)) {
                Some(Some(limit)) => Some((format_millicores(limit), limit)),
                Some(None) => {
                    self.error(
                        field("cpu"),
                        format!("CPU request {cpu_request} is too large"),
                        "request less CPU, or set `cpu_limit`",
                    );
                    None
                }
                None => None,
            },
        };
        let memory_limit = match r.and_then(|r| r.memory_limit.clone()) {
            Some(text) => self
                .quantity(&field("memory_limit"), &text, parse_memory, "a memory quantity such as `512Mi`")
                .map(|b| (text, b)),
            None => memory.map(|b| (memory_request.clone(), b)),
        };
        let (cpu, memory, (cpu_limit, cpu_limit_m), (memory_limit, memory_limit_b)) =
            (cpu?, memory?, cpu_limit?, memory_limit?);
        if cpu_limit_m < cpu {
            self.error(
                field("cpu_limit"),
                format!("CPU limit {cpu_limit} is below the request {cpu_request}"),
                format!("set `cpu_limit` to at least {cpu_request}"),
            );
        }
        if memory_limit_b < memory {
            self.error(
                field("memory_limit"),
                format!("memory limit {memory_limit} is below the request {memory_request}"),
                format!("set `memory_limit` to at least {memory_request}"),
            );
        }
        Some(Resources { cpu_request, cpu_limit, memory_request, memory_limit })
    }

    fn quantity(&mut self, field: &str, text: &str, parse: fn(&str) -> Option<u64>, what: &str) -> Option<u64> {
        match parse(text) {
            Some(v) if v > 0 => Some(v),
            _ => {
                self.error(field, format!("`{text}` is not a positive Kubernetes quantity"), format!("write {what}"));
                None
            }
        }
    }

    fn edge(&mut self, e: EdgeInput) -> Option<Edge> {
        let idle_timeout_seconds = match e.idle_timeout_seconds {
            None => 60,
            Some(v) => self.int("edge.idle_timeout_seconds", v, 1..=4000, "idle timeout")?,
        };
        let tls_policy = e.tls_policy.unwrap_or_else(|| DEFAULT_TLS_POLICY.into());
        let ok = tls_policy
            .strip_prefix("ELBSecurityPolicy-")
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !ok {
            self.error(
                "edge.tls_policy",
                format!("`{tls_policy}` is not an Application Load Balancer security policy"),
                format!("name a policy from `aws elbv2 describe-ssl-policies`, e.g. `{DEFAULT_TLS_POLICY}`"),
            );
        }
        Some(Edge { waf: e.waf.unwrap_or(true), idle_timeout_seconds, tls_policy })
    }

    /// Shape only: whether the stack, resource and path exist is known after synthesis.
    fn overrides(&mut self, inputs: Vec<OverrideInput>) -> Vec<Override> {
        let mut overrides = vec![];
        for (i, o) in inputs.into_iter().enumerate() {
            let at = format!("overrides[{i}]");
            let path = match parse_property_path(&o.path) {
                Ok(path) => Some(path),
                Err(message) => {
                    self.error(
                        format!("{at}.path"),
                        message,
                        "write `Properties.Name`, `Properties.List[0].Name`, ...",
                    );
                    None
                }
            };
            let action = match (o.value, o.remove) {
                (Some(_), true) => {
                    self.error(
                        &at,
                        "an override either sets `value` or has `remove: true`, not both",
                        "keep one of the two",
                    );
                    None
                }
                (Some(value), false) => Some(OverrideAction::Set(value)),
                (None, true) => Some(OverrideAction::Remove),
                (None, false) => {
                    self.error(
                        &at,
                        "the override neither sets `value` nor has `remove: true`",
                        "add `value: ...` or `remove: true`",
                    );
                    None
                }
            };
            if let (Some(path), Some(action)) = (path, action) {
                overrides.push(Override { stack: o.stack, resource: o.resource, path, action });
            }
        }
        overrides
    }

    /// Shape only: whether a rule id exists is known to `check`.
    fn check(&mut self, c: CheckInput) -> CheckPolicy {
        let mut accept = vec![];
        for (i, a) in c.accept.into_iter().enumerate() {
            let at = format!("check.accept[{i}]");
            if a.rule.trim().is_empty() {
                self.error(
                    format!("{at}.rule"),
                    "the rule id is empty",
                    "write the id `check` reports, e.g. `ACME-DB-003`",
                );
            }
            if a.reason.trim().len() < 10 {
                self.error(
                    format!("{at}.reason"),
                    "an accepted finding needs a written reason",
                    "say in a sentence why the finding is acceptable: the report shows it to every reviewer",
                );
            }
            accept.push(Accept {
                rule: a.rule,
                reason: a.reason.trim().to_owned(),
                stack: a.stack,
                resource: a.resource,
            });
        }
        for (i, dir) in c.rules.iter().enumerate() {
            if dir.trim().is_empty() {
                self.error(
                    format!("check.rules[{i}]"),
                    "the folder is empty",
                    "name a folder of `.guard` files, relative to acme.yaml",
                );
            }
        }
        CheckPolicy { accept, rule_dirs: c.rules }
    }

    fn alerts(&mut self, a: AlertsInput) -> Alerts {
        for (i, address) in a.email.iter().enumerate() {
            let ok = address.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && !user.contains(char::is_whitespace) && host.contains('.') && is_dns_name(host)
            });
            if !ok {
                self.error(
                    format!("alerts.email[{i}]"),
                    format!("`{address}` is not an email address"),
                    "write an address such as `ops@acme.example.com`",
                );
            }
        }
        Alerts { email: a.email }
    }

    /// Where a service's code lives; paths are checked to be plain relative paths, because
    /// the pipelines put them into path filters, Groovy strings and shell commands.
    fn source(&mut self, at: &str, name: &str, s: Option<&SourceInput>) -> Source {
        let default = SourceInput::default();
        let s = s.unwrap_or(&default);
        let path = s.path.clone().unwrap_or_else(|| format!("services/{name}"));
        let path_ok = self.repository_path(&format!("{at}.source.path"), &path);
        let path = if path_ok { path.trim_end_matches('/').to_owned() } else { path };
        let dockerfile = s.dockerfile.clone().unwrap_or_else(|| format!("{path}/Dockerfile"));
        self.repository_path(&format!("{at}.source.dockerfile"), &dockerfile);
        if let Some(test) = &s.test {
            let field = format!("{at}.source.test");
            if test.trim().is_empty() || test.chars().any(char::is_control) {
                self.error(
                    field,
                    "the test command must be one line of shell",
                    "write one command, e.g. `make test`; chain more with `&&`, or leave `test` out",
                );
            } else if test.contains("${{") {
                self.error(
                    field,
                    "`${{` starts a GitHub Actions expression, which GitHub would evaluate before the shell runs",
                    "write shell only; pass values through environment variables",
                );
            }
        }
        Source { path, dockerfile, test: s.test.clone() }
    }

    /// A path relative to the repository root: no glob, no `..`, nothing a shell or a Groovy
    /// string would read differently. Reports and returns false otherwise.
    fn repository_path(&mut self, field: &str, path: &str) -> bool {
        let plain = path.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
        let parts_ok =
            path.trim_end_matches('/').split('/').all(|part| !part.is_empty() && part != "." && part != "..");
        if !plain || !parts_ok || path.starts_with('/') || path.starts_with('-') {
            self.error(
                field,
                format!("`{path}` is not a plain path inside the repository"),
                "write a path relative to the repository root with letters, digits, `.`, `_`, `-` and `/`, e.g. `services/web` (no `..`, no wildcards)",
            );
            return false;
        }
        true
    }

    fn ci(&mut self, c: CiInput, private_cluster: bool) -> Ci {
        let provider = match c.provider.as_deref() {
            None | Some("jenkins") => CiProvider::Jenkins,
            Some("github") => CiProvider::Github,
            Some(other) => {
                let suggestion = nearest(&other.to_ascii_lowercase(), ["jenkins", "github"])
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                self.error(
                    "ci.provider",
                    format!("`{other}` is not a CI provider acmectl writes pipelines for"),
                    format!("{suggestion}use `jenkins` or `github`"),
                );
                CiProvider::Jenkins
            }
        };
        let fail_on = match c.fail_on.as_deref() {
            None => Severity::High,
            Some(text) => match Severity::ALL.into_iter().find(|s| s.ecr_name().eq_ignore_ascii_case(text)) {
                Some(severity) => severity,
                None => {
                    let names: Vec<String> = Severity::ALL.iter().map(|s| s.ecr_name().to_ascii_lowercase()).collect();
                    let suggestion = nearest(&text.to_ascii_lowercase(), names.iter().map(String::as_str))
                        .map(|n| format!("did you mean `{n}`? "))
                        .unwrap_or_default();
                    self.error(
                        "ci.fail_on",
                        format!("`{text}` is not a severity of ECR scan findings"),
                        format!("{suggestion}use one of {}", names.join(", ")),
                    );
                    Severity::High
                }
            },
        };
        let account_id = c.account_id.map(|a| a.0);
        if let Some(id) = &account_id
            && !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        {
            self.error(
                "ci.account_id",
                format!("`{id}` is not an AWS account id"),
                "write the 12 digits `aws sts get-caller-identity` shows as Account, quoted: \"111122223333\"",
            );
        }
        let platform_file = c.platform_file.unwrap_or_else(|| "acme.yaml".into());
        self.repository_path("ci.platform_file", &platform_file);
        for (i, label) in c.runner.iter().enumerate() {
            let ok = !label.is_empty() && label.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch));
            if !ok {
                self.error(
                    format!("ci.runner[{i}]"),
                    format!("`{label}` is not a runner label"),
                    "use letters, digits, `.`, `_` and `-`, e.g. `self-hosted` or `acme-deploy`",
                );
            }
        }
        if provider == CiProvider::Github && private_cluster && c.runner.is_empty() {
            self.error(
                "ci",
                "GitHub's hosted runners cannot reach the cluster: its API endpoint is private (no `cluster.public_access_cidrs`)",
                "add `runner: [self-hosted, <label>]` naming self-hosted runners inside the VPC, or open the endpoint to your runners' addresses with `cluster.public_access_cidrs`",
            );
        }
        if let Some(repo) = &c.repository {
            let ok = repo.split_once('/').is_some_and(|(owner, name)| {
                let part = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                part(owner) && part(name)
            });
            if !ok {
                self.error(
                    "ci.repository",
                    format!("`{repo}` is not `owner/name`"),
                    "write the repository as GitHub shows it, e.g. `acme/platform`",
                );
            }
        } else if provider == CiProvider::Github {
            self.error(
                "ci",
                "GitHub CI needs `repository`",
                "add `repository: owner/name`: the deploy role trusts only that repository",
            );
        }
        let branch = c.branch.unwrap_or_else(|| "main".into());
        let bad = branch.is_empty()
            || branch.starts_with(['/', '-', '.'])
            || branch.ends_with(['/', '.'])
            || branch.contains("..")
            || branch.contains("@{")
            || branch.chars().any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\\"".contains(c));
        if bad {
            self.error(
                "ci.branch",
                format!("`{branch}` is not a valid branch name"),
                "write a branch name such as `main` or `release/prod`",
            );
        }
        if let Some(arn) = &c.github_oidc_provider_arn {
            let ok = arn.starts_with("arn:aws")
                && arn.contains(":iam::")
                && arn.ends_with(":oidc-provider/token.actions.githubusercontent.com");
            if !ok {
                self.error("ci.github_oidc_provider_arn", format!("`{arn}` is not the ARN of a GitHub Actions OIDC provider"), "copy it from `aws iam list-open-id-connect-providers`: `arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com`");
            }
            if provider != CiProvider::Github {
                self.error(
                    "ci.github_oidc_provider_arn",
                    "only GitHub CI uses an OIDC provider",
                    "remove the field, or set `provider: github`",
                );
            }
        }
        for (i, arn) in c.agent_roles.iter().enumerate() {
            if !is_role_arn(arn) {
                self.error(
                    format!("ci.agent_roles[{i}]"),
                    format!("`{arn}` is not an IAM role ARN"),
                    "write `arn:aws:iam::<12-digit account>:role/<name>`",
                );
            }
        }
        match provider {
            CiProvider::Jenkins if c.agent_roles.is_empty() => self.error(
                "ci",
                "Jenkins CI needs `agent_roles`",
                "list the IAM roles the Jenkins agents run as: the deploy role trusts only them",
            ),
            CiProvider::Github if !c.agent_roles.is_empty() => self.error(
                "ci.agent_roles",
                "only Jenkins agents assume the role by IAM role",
                "remove `agent_roles`: GitHub Actions assumes the role through OIDC",
            ),
            _ => {}
        }
        Ci {
            provider,
            repository: c.repository,
            branch,
            github_oidc_provider_arn: c.github_oidc_provider_arn,
            jenkins_agent_role_arns: c.agent_roles,
            fail_on,
            approval: c.approval.unwrap_or(false),
            account_id,
            platform_file,
            runner: c.runner,
        }
    }

    fn backup(&mut self, b: BackupInput) -> Option<Backup> {
        let schedule = b.schedule.unwrap_or_else(|| "cron(0 5 * * ? *)".into());
        let fields =
            schedule.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')).map(|s| s.split_whitespace().count());
        if fields != Some(6) {
            self.error("backup.schedule", format!("`{schedule}` is not an AWS cron expression"), "write six fields in `cron(...)`, minutes hours day-of-month month day-of-week year, e.g. `cron(0 5 * * ? *)`");
        }
        let retention_days = match b.retention_days {
            None => 35,
            Some(v) => self.int("backup.retention_days", v, 1..=36500, "retention")?,
        };
        let copy_to = b.copy_to.map(|c| {
            if !is_region(&c.region) {
                self.error(
                    "backup.copy_to.region",
                    format!("`{}` is not an AWS region name", c.region),
                    "write a region code such as `us-west-2`",
                );
            }
            let ok = c.vault_arn.starts_with("arn:aws")
                && c.vault_arn.contains(":backup:")
                && c.vault_arn.contains(":backup-vault:");
            if !ok {
                self.error(
                    "backup.copy_to.vault_arn",
                    format!("`{}` is not a backup vault ARN", c.vault_arn),
                    "write `arn:aws:backup:<region>:<account>:backup-vault:<name>`",
                );
            } else if !c.vault_arn.contains(&format!(":backup:{}:", c.region)) {
                self.error(
                    "backup.copy_to.vault_arn",
                    format!("the vault is not in {}", c.region),
                    "make `region` the region of the vault ARN",
                );
            }
            BackupCopy { region: c.region, vault_arn: c.vault_arn }
        });
        let vault_lock = match b.vault_lock {
            None => None,
            Some(l) => {
                let min = self.int::<u32>(
                    "backup.vault_lock.min_retention_days",
                    l.min_retention_days,
                    1..=36500,
                    "retention",
                );
                let max = self.int::<u32>(
                    "backup.vault_lock.max_retention_days",
                    l.max_retention_days,
                    1..=36500,
                    "retention",
                );
                let changeable = match l.changeable_for_days {
                    None => Some(None),
                    Some(d) => {
                        self.int::<u32>("backup.vault_lock.changeable_for_days", d, 3..=36500, "grace period").map(Some)
                    }
                };
                let (min, max, changeable_for_days) = (min?, max?, changeable?);
                if min > max {
                    self.error(
                        "backup.vault_lock.min_retention_days",
                        format!("min {min} is above max {max}"),
                        "make `min_retention_days` at most `max_retention_days`",
                    );
                } else if !(min..=max).contains(&retention_days) {
                    self.error(
                        "backup.retention_days",
                        format!("{retention_days} days is outside the vault lock's {min}..={max}"),
                        "the lock would reject every backup: keep `retention_days` within the lock's range",
                    );
                }
                Some(VaultLock { min_retention_days: min, max_retention_days: max, changeable_for_days })
            }
        };
        Some(Backup { schedule, retention_days, copy_to, vault_lock })
    }

    /// Lowercase letters, digits and `-`, starting with a letter, at most `max` long.
    fn dns_label(&mut self, field: &str, value: &str, max: usize, what: &str) -> bool {
        let ok = !value.is_empty()
            && value.len() <= max
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && !value.ends_with('-')
            && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            self.error(
                field,
                format!("`{value}` is not valid as {what}"),
                format!(
                    "use 1 to {max} lowercase letters, digits and `-`, starting with a letter and not ending with `-`"
                ),
            );
        }
        ok
    }

    fn dns_name(&mut self, field: &str, value: &str) -> bool {
        let ok = is_dns_name(value);
        if !ok {
            let help = if value.chars().any(|c| c.is_ascii_uppercase()) {
                format!("write it in lowercase: `{}`", value.to_ascii_lowercase())
            } else {
                "write a DNS name: labels of letters, digits and `-` separated by dots, e.g. `www.acme.example.com`"
                    .to_owned()
            };
            self.error(field, format!("`{value}` is not a valid DNS name"), help);
        }
        ok
    }
}

/// `Properties.A[0].B` (or `Properties.A.0.B`) → `[Key(A), Index(0), Key(B)]`.
pub fn parse_property_path(text: &str) -> Result<Vec<PathStep>, String> {
    let Some(rest) = text.strip_prefix("Properties") else {
        return Err(format!("`{text}` does not start with `Properties`: overrides patch resource properties"));
    };
    let mut steps = vec![];
    let mut chars = rest.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                if key.is_empty() {
                    return Err(format!("`{text}` has an empty step"));
                }
                // `.0` is an index, as in `Resource::property`; property names never start with a digit.
                match key.parse::<usize>() {
                    Ok(i) => steps.push(PathStep::Index(i)),
                    Err(_) if key.chars().all(|c| c.is_ascii_alphanumeric() || "_-:".contains(c)) => {
                        steps.push(PathStep::Key(key))
                    }
                    Err(_) => return Err(format!("`{key}` in `{text}` is not a property name")),
                }
            }
            '[' => {
                let mut digits = String::new();
                for (_, c) in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    digits.push(c);
                }
                match digits.parse::<usize>() {
                    Ok(i) => steps.push(PathStep::Index(i)),
                    Err(_) => return Err(format!("`[{digits}]` in `{text}` is not a list index")),
                }
            }
            other => return Err(format!("unexpected `{other}` in `{text}`")),
        }
    }
    if steps.is_empty() {
        return Err("the path names no property: patching all of `Properties` at once is not supported".into());
    }
    Ok(steps)
}

/// A name as it appears in logical ids: letters and digits only, lowercased.
fn squash(name: &str) -> String {
    name.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

pub fn is_dns_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        && !value.rsplit('.').next().is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
}

fn is_region(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
}

fn is_role_arn(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].strip_prefix("role/").is_some_and(|name| !name.is_empty())
}

fn is_env_name(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// CPU in millicores: `250m`, `1`, `0.5`.
pub fn parse_cpu(text: &str) -> Option<u64> {
    if let Some(m) = text.strip_suffix('m') {
        return m.parse().ok();
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) || whole.is_empty() {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = if frac.is_empty() { 0 } else { format!("{frac:0<3}").parse().ok()? };
    whole.checked_mul(1000)?.checked_add(frac)
}

/// Memory in bytes: `256Mi`, `1Gi`, `500M`, `1048576`.
pub fn parse_memory(text: &str) -> Option<u64> {
    const UNITS: [(&str, u64); 8] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
    ];
    let (number, factor) =
        UNITS.iter().find_map(|(suffix, factor)| text.strip_suffix(suffix).map(|n| (n, *factor))).unwrap_or((text, 1));
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse::<u64>().ok()?.checked_mul(factor)
}

fn format_millicores(m: u64) -> String {
    if m.is_multiple_of(1000) { (m / 1000).to_string() } else { format!("{m}m") }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= c.len().max(word.len()).div_ceil(3))
        .min()
        .map(|(_, c)| c)
}

/// Up to `n` candidates ordered by edit distance to `word` (ties by name): what a "did you
/// mean" lists when no single candidate is close.
pub fn nearest_names<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<&'a str> {
    let lower = word.to_ascii_lowercase();
    let mut ranked: Vec<(usize, &str)> =
        candidates.into_iter().map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c)).collect();
    ranked.sort_unstable();
    ranked.into_iter().take(n).map(|(_, c)| c).collect()
}

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(cur) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_quantities_in_millicores() {
        assert_eq!(parse_cpu("250m"), Some(250));
        assert_eq!(parse_cpu("1"), Some(1000));
        assert_eq!(parse_cpu("0.5"), Some(500));
        assert_eq!(parse_cpu("1.25"), Some(1250));
        for bad in ["", "m", "1.2345", "-1", "1Gi", "x"] {
            assert_eq!(parse_cpu(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memory_quantities_in_bytes() {
        assert_eq!(parse_memory("256Mi"), Some(256 << 20));
        assert_eq!(parse_memory("1Gi"), Some(1 << 30));
        assert_eq!(parse_memory("500M"), Some(500_000_000));
        assert_eq!(parse_memory("1024"), Some(1024));
        for bad in ["", "Mi", "1.5Gi", "-1Mi", "1GB", "99999999999999999999Ti"] {
            assert_eq!(parse_memory(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn dns_names() {
        for ok in ["acme.example.com", "a.b", "x-1.example.org", "localhost"] {
            assert!(is_dns_name(ok), "{ok}");
        }
        for bad in ["", "Acme.com", "a..b", "-a.com", "a-.com", "a_b.com", "1.2.3.4", &"a".repeat(64)] {
            assert!(!is_dns_name(bad), "{bad}");
        }
    }

    #[test]
    fn regions_and_role_arns() {
        assert!(is_region("us-east-1") && is_region("us-gov-west-1") && is_region("ap-southeast-5"));
        assert!(!is_region("moon") && !is_region("US-EAST-1") && !is_region("us-east"));
        assert!(is_role_arn("arn:aws:iam::111122223333:role/admin"));
        assert!(is_role_arn("arn:aws-us-gov:iam::111122223333:role/path/admin"));
        assert!(!is_role_arn("arn:aws:iam::111122223333:user/admin"));
        assert!(!is_role_arn("arn:aws:iam::1111:role/admin"));
    }

    #[test]
    fn property_paths_with_indexes() {
        let k = |s: &str| PathStep::Key(s.into());
        assert_eq!(parse_property_path("Properties.MultiAZ"), Ok(vec![k("MultiAZ")]));
        let indexed = vec![k("SecurityGroupIngress"), PathStep::Index(1), k("CidrIp")];
        assert_eq!(parse_property_path("Properties.SecurityGroupIngress[1].CidrIp").as_ref(), Ok(&indexed));
        assert_eq!(parse_property_path("Properties.SecurityGroupIngress.1.CidrIp"), Ok(indexed));
        for bad in [
            "MultiAZ",
            "Properties",
            "Properties.",
            "Properties..A",
            "Properties.A[x]",
            "Properties.A b",
            "Properties/A",
        ] {
            assert!(parse_property_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn typos_find_their_nearest_name() {
        let names = ["web", "api", "auth", "chat"];
        assert_eq!(nearest("apy", names), Some("api"));
        assert_eq!(nearest("chta", names), Some("chat"));
        assert_eq!(nearest("billing", names), None);
    }
}
