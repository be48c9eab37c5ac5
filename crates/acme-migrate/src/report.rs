//! The decommission report: host by host, what still points at the old side, what it still
//! serves, which services are fully on the new side, and what is safe to switch off. Built
//! from what the adapter read; evidence a person signs off on.

use serde::Serialize;

/// What the adapter read of one host the old side served.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostEvidence {
    pub host: String,
    /// Records that still answer with the old side: `CNAME old-lb.acme-legacy.example.net
    /// (weight 0)`.
    pub old_records: Vec<String>,
    /// Requests the old side still served over the window, when its metric is known: the
    /// host's metric from acme.yaml, and the load balancer's old-side target group.
    pub old_requests: Option<f64>,
    /// The services on the host, each with whether it is migrated (its stack flag).
    pub services: Vec<(String, bool)>,
    /// Hours the request counts cover.
    pub window_hours: u64,
}

/// The verdict for one host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostReport {
    #[serde(flatten)]
    pub evidence: HostEvidence,
    pub safe_to_switch_off: bool,
    /// Why it is, or what is left before it is.
    pub reasons: Vec<String>,
}

/// A host is safe to switch off on the old side when every service on it is migrated, no
/// record points there, and the old side served nothing over the window (or its traffic is
/// not measured, which the report says).
pub fn judge(evidence: HostEvidence) -> HostReport {
    let mut reasons = vec![];
    let pending: Vec<&str> = evidence.services.iter().filter(|(_, m)| !m).map(|(s, _)| s.as_str()).collect();
    if !pending.is_empty() {
        reasons.push(format!("not migrated yet: {}", pending.join(", ")));
    }
    if !evidence.old_records.is_empty() {
        reasons.push(format!("records still answer with the old side: {}", evidence.old_records.join("; ")));
    }
    let quiet = match evidence.old_requests {
        Some(n) if n > 0.0 => {
            reasons.push(format!("the old side served {n:.0} requests in the last {} hours", evidence.window_hours));
            false
        }
        Some(_) => true,
        None => {
            reasons.push("the old side's traffic is not measured: give legacy.hosts[].requests to see it".into());
            true
        }
    };
    let safe = pending.is_empty() && evidence.old_records.is_empty() && quiet;
    if safe {
        reasons.insert(0, "every service is on the new side and no record points at the old side".into());
    }
    HostReport { evidence, safe_to_switch_off: safe, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence() -> HostEvidence {
        HostEvidence {
            host: "auth.acme.example.com".into(),
            old_records: vec![],
            old_requests: Some(0.0),
            services: vec![("auth".into(), true)],
            window_hours: 24,
        }
    }

    #[test]
    fn a_host_fully_moved_and_quiet_is_safe_to_switch_off() {
        let r = judge(evidence());
        assert!(r.safe_to_switch_off);
        assert_eq!(r.reasons, ["every service is on the new side and no record points at the old side"]);
    }

    #[test]
    fn anything_left_on_the_old_side_is_named() {
        let mut e = evidence();
        e.services.push(("web".into(), false));
        e.old_records.push("CNAME old-lb.acme-legacy.example.net (weight 0)".into());
        e.old_requests = Some(42.0);
        let r = judge(e);
        assert!(!r.safe_to_switch_off);
        assert_eq!(
            r.reasons,
            [
                "not migrated yet: web",
                "records still answer with the old side: CNAME old-lb.acme-legacy.example.net (weight 0)",
                "the old side served 42 requests in the last 24 hours",
            ]
        );
    }

    #[test]
    fn unmeasured_traffic_is_said_not_hidden() {
        let mut e = evidence();
        e.old_requests = None;
        let r = judge(e);
        assert!(r.safe_to_switch_off);
        assert!(r.reasons[1].contains("not measured"));
    }
}
