//! `legacy` and `services[].migration`: where the hosts are served today, and how each
//! service moves over. Every host of the platform gets its old side resolved here, so the
//! edge stack and the migration never fall back on defaults of their own.

use super::{Validator, nearest};
use crate::input::{LegacyHealthInput, LegacyHostInput, LegacyInput, MetricInput, MigrationInput};
use crate::model::{Baseline, Legacy, Metric, Migration, MigrationProbe, OldSide, OldTarget, PrivateOrigin, Service};
use ipnet::Ipv4Net;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// Addresses one record or one target group of the old side may list.
const MAX_ADDRESSES: usize = 16;
/// Steps a migration may take.
const MAX_STEPS: usize = 20;
/// Longest bake of one step.
const MAX_BAKE_SECONDS: u64 = 24 * 3600;

impl Validator {
    /// The old side of every host `services` route, from the defaults of `legacy` and its
    /// `hosts` entries.
    pub(super) fn legacy(
        &mut self,
        l: LegacyInput,
        services: &[Service],
        domain: &str,
        vpc: Option<Ipv4Net>,
    ) -> Legacy {
        let platform_hosts: BTreeSet<&str> =
            services.iter().flat_map(|s| s.routes.iter().map(|r| r.host.as_str())).collect();
        let default_public = self.old_target("legacy", l.target.as_deref(), &l.addresses);
        let default_private = self.private_origin(
            "legacy",
            &l.private_addresses,
            l.port,
            l.protocol.as_deref(),
            l.health.as_ref(),
            None,
            vpc,
        );

        let mut entries: BTreeMap<&str, (usize, &LegacyHostInput)> = BTreeMap::new();
        for (i, h) in l.hosts.iter().enumerate() {
            let at = format!("legacy.hosts[{i}]");
            if !platform_hosts.contains(h.host.as_str()) {
                let hint = nearest(&h.host, platform_hosts.iter().copied())
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                let all: Vec<&str> = platform_hosts.iter().copied().collect();
                self.error(
                    format!("{at}.host"),
                    format!("`{}` is not a host of this platform", h.host),
                    format!("{hint}name a `routes[].host`: {}", all.join(", ")),
                );
                continue;
            }
            if let Some((first, _)) = entries.get(h.host.as_str()) {
                self.error(
                    format!("{at}.host"),
                    format!("`{}` is already described at legacy.hosts[{first}]", h.host),
                    "describe each host once",
                );
                continue;
            }
            entries.insert(h.host.as_str(), (i, h));
            if h.new {
                let given = [
                    ("target", h.target.is_some()),
                    ("addresses", !h.addresses.is_empty()),
                    ("private_addresses", !h.private_addresses.is_empty()),
                    ("port", h.port.is_some()),
                    ("protocol", h.protocol.is_some()),
                    ("health", h.health.is_some()),
                    ("requests", h.requests.is_some()),
                ];
                for (field, _) in given.iter().filter(|(_, set)| *set) {
                    self.error(
                        format!("{at}.{field}"),
                        format!("`{}` is marked `new`: the old side never served it", h.host),
                        format!("remove `{field}`, or remove `new: true` if the old side serves the host"),
                    );
                }
            }
        }

        let mut hosts = BTreeMap::new();
        for host in platform_hosts {
            let entry = entries.get(host).copied();
            if entry.is_some_and(|(_, e)| e.new) {
                continue;
            }
            let (at, public) = match entry {
                Some((i, e)) if e.target.is_some() || !e.addresses.is_empty() => {
                    let at = format!("legacy.hosts[{i}]");
                    let public = self.old_target(&at, e.target.as_deref(), &e.addresses);
                    (at, public)
                }
                _ => ("legacy".to_owned(), default_public.clone()),
            };
            let Some(public) = public else {
                if l.target.is_none() && l.addresses.is_empty() {
                    self.error(
                        "legacy",
                        format!("nothing says where `{host}` is served today"),
                        format!(
                            "give `legacy.target` (or `addresses`), or list `{host}` under `legacy.hosts` with its \
                             `target`, or with `new: true` if the old side never served it"
                        ),
                    );
                }
                continue;
            };
            if let OldTarget::Name(name) = &public {
                let field = format!("{at}.target");
                if host == domain {
                    self.error(
                        &field,
                        format!("`{host}` is the zone apex, where DNS allows no CNAME to `{name}`"),
                        "give the old side's public IPv4 `addresses` for this host instead",
                    );
                } else if name == host {
                    self.error(
                        &field,
                        format!("`{host}` would point at itself"),
                        "name the old load balancer or server the host points at today",
                    );
                }
            }
            let private = match entry {
                Some((i, e))
                    if !e.private_addresses.is_empty()
                        || e.port.is_some()
                        || e.protocol.is_some()
                        || e.health.is_some() =>
                {
                    let addresses =
                        if e.private_addresses.is_empty() { &l.private_addresses } else { &e.private_addresses };
                    self.private_origin(
                        &format!("legacy.hosts[{i}]"),
                        addresses,
                        e.port.or(l.port),
                        e.protocol.as_deref().or(l.protocol.as_deref()),
                        e.health.as_ref().or(l.health.as_ref()),
                        Some(&format!("legacy.hosts[{i}]")),
                        vpc,
                    )
                }
                _ => default_private.clone(),
            };
            let requests = entry
                .and_then(|(i, e)| e.requests.as_ref().map(|m| self.metric(&format!("legacy.hosts[{i}].requests"), m)));
            hosts.insert(host.to_owned(), OldSide { public, private, requests: requests.flatten() });
        }
        Legacy { hosts }
    }

    /// The public side: a DNS name or addresses, not both. `None` when neither is given.
    fn old_target(&mut self, at: &str, target: Option<&str>, addresses: &[String]) -> Option<OldTarget> {
        match (target, addresses.is_empty()) {
            (Some(_), false) => {
                self.error(
                    format!("{at}.addresses"),
                    "both `target` and `addresses` are given",
                    "give the DNS name the host points at today (`target`) or its addresses, not both",
                );
                None
            }
            (Some(name), true) => {
                self.dns_name(&format!("{at}.target"), name).then(|| OldTarget::Name(name.to_owned()))
            }
            (None, false) => {
                let parsed = self.addresses(&format!("{at}.addresses"), addresses, Reach::Public, None)?;
                Some(OldTarget::Addresses(parsed))
            }
            (None, true) => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn private_origin(
        &mut self,
        at: &str,
        addresses: &[String],
        port: Option<i64>,
        protocol: Option<&str>,
        health: Option<&LegacyHealthInput>,
        addresses_at: Option<&str>,
        vpc: Option<Ipv4Net>,
    ) -> Option<PrivateOrigin> {
        let field = format!("{}.private_addresses", addresses_at.unwrap_or(at));
        if addresses.is_empty() {
            for (given, name) in
                [(port.is_some(), "port"), (protocol.is_some(), "protocol"), (health.is_some(), "health")]
            {
                if given {
                    self.error(
                        format!("{at}.{name}"),
                        format!("`{name}` describes `private_addresses`, and there are none"),
                        "add the old side's `private_addresses` the VPC can reach, or remove it",
                    );
                }
            }
            return None;
        }
        let addresses = self.addresses(&field, addresses, Reach::Private, vpc);
        let port = match port {
            None => Some(443),
            Some(p) => self.int::<u16>(&format!("{at}.port"), p, 1..=65535, "port"),
        };
        let protocol = match protocol.map(str::to_ascii_uppercase).as_deref() {
            None | Some("HTTPS") => Some("HTTPS".to_owned()),
            Some("HTTP") => Some("HTTP".to_owned()),
            Some(_) => {
                self.error(
                    format!("{at}.protocol"),
                    format!("`{}` is not HTTP or HTTPS", protocol.unwrap_or_default()),
                    "write `HTTPS` (the old side's TLS port) or `HTTP`",
                );
                None
            }
        };
        let health_path = health.and_then(|h| h.path.clone()).unwrap_or_else(|| "/".into());
        if !health_path.starts_with('/') || health_path.contains(char::is_whitespace) || health_path.len() > 1024 {
            self.error(
                format!("{at}.health.path"),
                format!("`{health_path}` is not an HTTP path"),
                "write a path starting with `/`, e.g. `/`",
            );
        }
        let health_codes = health.and_then(|h| h.codes.clone()).unwrap_or_else(|| "200-499".into());
        if !is_matcher(&health_codes) {
            self.error(
                format!("{at}.health.codes"),
                format!("`{health_codes}` is not a list or range of status codes from 200 to 499"),
                "write `200`, `200,302` or `200-499`",
            );
        }
        Some(PrivateOrigin { addresses: addresses?, port: port?, protocol: protocol?, health_path, health_codes })
    }

    fn addresses(
        &mut self,
        field: &str,
        texts: &[String],
        reach: Reach,
        vpc: Option<Ipv4Net>,
    ) -> Option<Vec<Ipv4Addr>> {
        if texts.len() > MAX_ADDRESSES {
            self.error(
                field,
                format!("{} addresses, more than the {MAX_ADDRESSES} acmectl takes", texts.len()),
                "list the old side's load balancer or front servers only",
            );
            return None;
        }
        let mut out = vec![];
        let mut ok = true;
        for (k, text) in texts.iter().enumerate() {
            let at = format!("{field}[{k}]");
            let Ok(address) = text.parse::<Ipv4Addr>() else {
                let help = if text.contains(':') {
                    "the new load balancer is IPv4 only: give IPv4 addresses".to_owned()
                } else {
                    "write an IPv4 address such as `10.50.0.10`".to_owned()
                };
                self.error(at, format!("`{text}` is not an IPv4 address"), help);
                ok = false;
                continue;
            };
            let private = is_target_range(address);
            match reach {
                Reach::Public if private || !is_public(address) => {
                    self.error(
                        at,
                        format!("`{address}` is not a public address: the internet cannot reach it"),
                        "list public addresses here; addresses the VPC reaches go under `private_addresses`",
                    );
                    ok = false;
                }
                Reach::Private if !private => {
                    self.error(
                        at,
                        format!("`{address}` is not in a private range a load balancer can target"),
                        "use an address in 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10, reached \
                         through peering, a Transit Gateway, a VPN or Direct Connect",
                    );
                    ok = false;
                }
                Reach::Private if vpc.is_some_and(|v| v.contains(&address)) => {
                    self.error(
                        at,
                        format!(
                            "`{address}` is inside the new VPC ({})",
                            vpc.map(|v| v.to_string()).unwrap_or_default()
                        ),
                        "the old side lives outside the new VPC: give its own address, or change `network.cidr`",
                    );
                    ok = false;
                }
                _ if out.contains(&address) => {
                    self.error(at, format!("`{address}` is listed twice"), "list each address once");
                    ok = false;
                }
                _ => out.push(address),
            }
        }
        ok.then_some(out)
    }

    fn metric(&mut self, at: &str, m: &MetricInput) -> Option<Metric> {
        let mut ok = true;
        for (field, value) in [("namespace", &m.namespace), ("metric", &m.metric)] {
            if value.is_empty() || value.len() > 255 || value.chars().any(char::is_control) {
                self.error(
                    format!("{at}.{field}"),
                    format!("`{value}` is not a CloudWatch {field} name"),
                    "write it as `aws cloudwatch list-metrics` shows it, e.g. `AWS/ELB` and `RequestCount`",
                );
                ok = false;
            }
        }
        if m.dimensions.len() > 30 {
            self.error(format!("{at}.dimensions"), "more than 30 dimensions", "CloudWatch takes at most 30");
            ok = false;
        }
        ok.then(|| Metric { namespace: m.namespace.clone(), name: m.metric.clone(), dimensions: m.dimensions.clone() })
    }

    /// One service's migration settings, defaults applied.
    pub(super) fn migration(
        &mut self,
        at: &str,
        m: Option<&MigrationInput>,
        has_legacy: bool,
        routed: bool,
    ) -> Migration {
        let mut migration = Migration::default();
        let Some(m) = m else { return migration };
        let at = format!("{at}.migration");
        if !has_legacy {
            self.error(
                &at,
                "there is no `legacy` section: nothing to migrate from",
                "describe where the hosts are served today under `legacy`, or remove `migration`",
            );
        } else if !routed {
            self.error(
                &at,
                "the service has no `routes`: no public traffic to move",
                "remove `migration`; a service without routes moves with the services that call it",
            );
        }
        if let Some(steps) = m.steps.as_ref().and_then(|steps| self.steps(&format!("{at}.steps"), steps)) {
            migration.steps = steps;
        }
        if let Some(bake) = &m.bake {
            match parse_duration_ms(bake) {
                Some(ms) if ms % 1000 == 0 && ms / 1000 <= MAX_BAKE_SECONDS => migration.bake_seconds = ms / 1000,
                _ => self.error(
                    format!("{at}.bake"),
                    format!("`{bake}` is not a bake time"),
                    "write whole seconds up to a day: `30s`, `5m`, `1h30m`",
                ),
            }
        }
        if let Some(probe) = &m.probe {
            migration.probe = self.probe(&format!("{at}.probe"), probe);
        }
        if let Some(b) = &m.baseline {
            migration.baseline = Baseline {
                error_rate: b.error_rate.as_deref().and_then(|text| {
                    let rate = parse_percent(text);
                    if rate.is_none() {
                        self.error(
                            format!("{at}.baseline.error_rate"),
                            format!("`{text}` is not a percentage"),
                            "write the share of requests the old side answers 5xx, e.g. `0.4%`",
                        );
                    }
                    rate
                }),
                p99_ms: b.p99.as_deref().and_then(|text| {
                    let ms = parse_duration_ms(text).filter(|ms| (1..=600_000).contains(ms));
                    if ms.is_none() {
                        self.error(
                            format!("{at}.baseline.p99"),
                            format!("`{text}` is not a response time"),
                            "write the old side's 99th percentile, e.g. `350ms` or `1.2s` as `1200ms`",
                        );
                    }
                    ms
                }),
            };
        }
        migration
    }

    fn steps(&mut self, field: &str, steps: &[i64]) -> Option<Vec<u8>> {
        match check_steps(steps) {
            Ok(steps) => Some(steps),
            Err(e) => {
                let at = e.step.map_or_else(|| field.to_owned(), |k| format!("{field}[{k}]"));
                self.error(at, e.message, STEPS_FIX);
                None
            }
        }
    }

    fn probe(&mut self, at: &str, p: &crate::input::ProbeInput) -> MigrationProbe {
        let mut probe = MigrationProbe::default();
        if let Some(path) = &p.path {
            if !path.starts_with('/') || path.contains(char::is_whitespace) || path.len() > 1024 {
                self.error(
                    format!("{at}.path"),
                    format!("`{path}` is not an HTTP path"),
                    "write a path starting with `/`, e.g. `/api/healthz`",
                );
            } else {
                probe.path = Some(path.clone());
            }
        }
        if let Some(status) = &p.status {
            match parse_status_range(status) {
                Some(range) => probe.status = range,
                None => self.error(
                    format!("{at}.status"),
                    format!("`{status}` is not a status code or range"),
                    "write `200` or `200-399`, codes from 100 to 599",
                ),
            }
        }
        if let Some(latency) = &p.latency {
            match parse_duration_ms(latency).filter(|ms| (1..=60_000).contains(ms)) {
                Some(ms) => probe.latency_ms = ms,
                None => self.error(
                    format!("{at}.latency"),
                    format!("`{latency}` is not a latency from 1ms to 60s"),
                    "write `500ms` or `2s`",
                ),
            }
        }
        probe
    }
}

#[derive(Clone, Copy)]
enum Reach {
    Public,
    Private,
}

/// Ranges an Application Load Balancer accepts as IP targets outside the VPC (RFC 1918 and
/// RFC 6598).
fn is_target_range(a: Ipv4Addr) -> bool {
    a.is_private() || (a.octets()[0] == 100 && (64..128).contains(&a.octets()[1]))
}

fn is_public(a: Ipv4Addr) -> bool {
    !(a.is_loopback() || a.is_link_local() || a.is_multicast() || a.is_broadcast() || a.is_unspecified())
        && a.octets()[0] != 0
        && a.octets()[0] < 240
}

/// Target group matcher codes: `200`, `200,302`, `200-499`, every code in 200..=499.
fn is_matcher(text: &str) -> bool {
    let code = |c: &str| c.len() == 3 && c.parse::<u16>().is_ok_and(|n| (200..=499).contains(&n));
    match text.split_once('-') {
        Some((lo, hi)) => code(lo) && code(hi) && lo <= hi,
        None => !text.is_empty() && text.split(',').all(code),
    }
}

/// `200` or `200-399`, codes 100..=599.
pub fn parse_status_range(text: &str) -> Option<(u16, u16)> {
    let code = |c: &str| c.trim().parse::<u16>().ok().filter(|n| (100..=599).contains(n));
    match text.split_once('-') {
        Some((lo, hi)) => Some((code(lo)?, code(hi)?)).filter(|(lo, hi)| lo <= hi),
        None => code(text).map(|c| (c, c)),
    }
}

/// How to write a step schedule.
pub const STEPS_FIX: &str = "list rising percentages that end at 100, e.g. `[1, 5, 25, 50, 100]`";

/// A step schedule that cannot be run, and the step at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepsError {
    pub step: Option<usize>,
    pub message: String,
}

/// A migration's step schedule (acme.yaml's `steps`, `--steps`): 1 to 20 rising
/// percentages from 1 to 100, the last one 100.
pub fn check_steps(steps: &[i64]) -> Result<Vec<u8>, StepsError> {
    let whole = |message: String| StepsError { step: None, message };
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(whole(format!("{} steps; a migration takes 1 to {MAX_STEPS}", steps.len())));
    }
    let mut out: Vec<u8> = vec![];
    for (k, &step) in steps.iter().enumerate() {
        let at = |message: String| StepsError { step: Some(k), message };
        let Some(percent) = u8::try_from(step).ok().filter(|p| (1..=100).contains(p)) else {
            return Err(at(format!("percentage {step} is outside 1..=100")));
        };
        if out.last().is_some_and(|&last| last >= percent) {
            return Err(at(format!("{percent} does not rise above the step before it")));
        }
        out.push(percent);
    }
    if out.last() != Some(&100) {
        return Err(whole("the last step is not 100: the migration would never finish".into()));
    }
    Ok(out)
}

/// `500ms`, `30s`, `5m`, `1h30m`, `7d` → milliseconds.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (factor, unit_len) = if rest.starts_with("ms") {
            (1, 2)
        } else if rest.starts_with('s') {
            (1000, 1)
        } else if rest.starts_with('m') {
            (60_000, 1)
        } else if rest.starts_with('h') {
            (3_600_000, 1)
        } else if rest.starts_with('d') {
            (86_400_000, 1)
        } else {
            return None;
        };
        rest = &rest[unit_len..];
        total = total.checked_add(number.checked_mul(factor)?)?;
    }
    Some(total)
}

/// `0.4%` → 0.004; 0% to 100%.
fn parse_percent(text: &str) -> Option<f64> {
    let number: f64 = text.trim().strip_suffix('%')?.trim().parse().ok()?;
    (number.is_finite() && (0.0..=100.0).contains(&number)).then_some(number / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_milliseconds() {
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("30s"), Some(30_000));
        assert_eq!(parse_duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(parse_duration_ms("0s"), Some(0));
        assert_eq!(parse_duration_ms("7d"), Some(604_800_000));
        for bad in ["", "5", "m", "5 minutes", "-1s", "1.5s", "5w"] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn status_ranges_and_matchers() {
        assert_eq!(parse_status_range("200"), Some((200, 200)));
        assert_eq!(parse_status_range("200-399"), Some((200, 399)));
        assert_eq!(parse_status_range("399-200"), None);
        assert_eq!(parse_status_range("700"), None);
        assert!(is_matcher("200-499") && is_matcher("200,302") && is_matcher("204"));
        assert!(!is_matcher("500") && !is_matcher("200-600") && !is_matcher("") && !is_matcher("2xx"));
    }

    #[test]
    fn percentages_and_ranges_of_addresses() {
        assert_eq!(parse_percent("0.4%"), Some(0.004));
        assert_eq!(parse_percent("0.4"), None);
        assert_eq!(parse_percent("101%"), None);
        assert!(is_target_range(Ipv4Addr::new(10, 50, 0, 10)) && is_target_range(Ipv4Addr::new(100, 64, 0, 1)));
        assert!(!is_target_range(Ipv4Addr::new(100, 128, 0, 1)) && !is_target_range(Ipv4Addr::new(203, 0, 113, 5)));
        assert!(is_public(Ipv4Addr::new(203, 0, 113, 5)) && !is_public(Ipv4Addr::new(127, 0, 0, 1)));
    }
}
