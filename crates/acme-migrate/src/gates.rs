//! The gates of a step: what the adapter read (alarms, target health, live probes, request
//! counts), judged against the thresholds of acme.yaml. Every verdict carries the measured
//! value beside the threshold, so that a person reading why a migration rolled back sees the
//! number, not just "failed".

use crate::plan::ServicePlan;
use serde::Serialize;

/// Requests a step must have seen before its observed split counts: below that, a few
/// clients are noise.
pub const MIN_REQUESTS_FOR_SPLIT: f64 = 100.0;

/// How much worse than the old side's figures the new side may do at 100 percent: 25 %,
/// plus 0.1 percentage points on the error rate so that a baseline of 0 % is not a wall.
pub const BASELINE_MARGIN: f64 = 1.25;
pub const BASELINE_ERROR_SLACK: f64 = 0.001;

/// Days of certificate validity below which a probe warns (it still passes).
pub const CERTIFICATE_WARNING_DAYS: u64 = 14;

/// What one poll read.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Readings {
    pub alarms: Vec<AlarmReading>,
    pub targets: Vec<TargetReading>,
    pub probes: Vec<ProbeReading>,
    /// Requests since the step began, on each side, when known.
    pub traffic: Option<Traffic>,
    /// The new side's figures since the step began (for the comparison at 100 percent).
    pub figures: Option<Figures>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
    /// The alarm does not exist: the observability stack is not deployed, or was changed.
    Missing,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmReading {
    pub name: String,
    pub state: AlarmState,
    /// CloudWatch's reason, e.g. "Threshold Crossed: 1 datapoint [12.0] was greater than the
    /// threshold (5.0)".
    pub reason: String,
    pub threshold: Option<f64>,
    /// The last datapoint that moved the alarm, when its reason data gives one.
    pub value: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetReading {
    /// What the targets are: `api` or `old side of www.acme.example.com`.
    pub group: String,
    pub healthy: u32,
    /// Targets failing their health checks (not those registering or draining).
    pub unhealthy: u32,
    pub required: u32,
    /// Why the health could not be read.
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeReading {
    /// `www.acme.example.com/api/healthz`.
    pub target: String,
    /// Problems found, empty when the probe passed (acme-probe's judgement of status,
    /// certificate and WebSocket).
    pub problems: Vec<String>,
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// Days the certificate is still valid, when it is valid.
    pub certificate_days: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Traffic {
    pub new_requests: f64,
    /// `None` when the old side's request count is not known (no metric in acme.yaml).
    pub old_requests: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// 5xx answers per request.
    pub error_rate: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// Which gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    Alarm,
    Targets,
    Probe,
    Split,
    Baseline,
}

/// One gate's verdict.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GateResult {
    pub gate: Gate,
    /// What was judged: the alarm's name, the target group, the probed URL.
    pub subject: String,
    pub passed: bool,
    pub measured: String,
    pub threshold: String,
    /// A note that does not fail the gate (a certificate about to expire).
    pub warning: Option<String>,
}

impl GateResult {
    /// `probe www.acme.example.com/api/healthz: status 500 (threshold 200-399)`.
    pub fn summary(&self) -> String {
        format!("{} {}: {} (threshold {})", self.gate.as_str(), self.subject, self.measured, self.threshold)
    }
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Alarm => "alarm",
            Gate::Targets => "targets",
            Gate::Probe => "probe",
            Gate::Split => "split",
            Gate::Baseline => "baseline",
        }
    }
}

/// The gates of one poll, judged.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Verdict {
    pub results: Vec<GateResult>,
}

impl Verdict {
    pub fn failures(&self) -> Vec<&GateResult> {
        self.results.iter().filter(|r| !r.passed && !matches!(r.gate, Gate::Split | Gate::Baseline)).collect()
    }

    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }

    fn of(&self, gate: Gate) -> Option<&GateResult> {
        self.results.iter().find(|r| r.gate == gate)
    }

    /// The split gate's result, judged at the end of a bake.
    pub fn split(&self) -> Option<&GateResult> {
        self.of(Gate::Split)
    }

    /// The comparison with the old side's figures, judged at the end of the last bake.
    pub fn baseline(&self) -> Option<&GateResult> {
        self.of(Gate::Baseline)
    }
}

/// Judge `readings` for `plan` at a step of `percent` on the new side.
pub fn judge(plan: &ServicePlan, readings: &Readings, percent: u8) -> Verdict {
    let mut results = vec![];
    for a in &readings.alarms {
        let (passed, measured) = match a.state {
            AlarmState::Ok => (true, "OK".to_owned()),
            AlarmState::InsufficientData => (true, "INSUFFICIENT_DATA (no traffic to judge yet)".to_owned()),
            AlarmState::Alarm => (
                false,
                match a.value {
                    Some(v) => format!("ALARM at {}: {}", number(v), a.reason),
                    None => format!("ALARM: {}", a.reason),
                },
            ),
            AlarmState::Missing => (false, "the alarm does not exist (deploy the observability stack)".to_owned()),
        };
        let threshold =
            a.threshold.map_or_else(|| "not in ALARM".to_owned(), |t| format!("not in ALARM, {}", number(t)));
        results.push(GateResult {
            gate: Gate::Alarm,
            subject: a.name.clone(),
            passed,
            measured,
            threshold,
            warning: None,
        });
    }
    for t in &readings.targets {
        let (passed, measured) = match &t.error {
            Some(e) => (false, format!("cannot read the targets: {e}")),
            None => (
                t.healthy >= t.required,
                format!(
                    "{} healthy{}",
                    t.healthy,
                    if t.unhealthy > 0 { format!(", {} unhealthy", t.unhealthy) } else { String::new() }
                ),
            ),
        };
        results.push(GateResult {
            gate: Gate::Targets,
            subject: t.group.clone(),
            passed,
            measured,
            threshold: format!("at least {} healthy", t.required),
            warning: None,
        });
    }
    for p in &readings.probes {
        let slow = p.latency_ms > plan.probe_latency_ms;
        let mut problems = p.problems.clone();
        if slow && p.status.is_some() {
            problems.push(format!("answered in {} ms", p.latency_ms));
        }
        let measured = if problems.is_empty() {
            let status = p.status.map_or("-".into(), |s| s.to_string());
            // Passing means the upgrade was tried and succeeded (a failed one is a problem).
            let upgraded = if plan.websocket { ", WebSocket upgraded" } else { "" };
            format!("status {status} in {} ms{upgraded}", p.latency_ms)
        } else {
            problems.join("; ")
        };
        let warning = p
            .certificate_days
            .filter(|d| *d < CERTIFICATE_WARNING_DAYS)
            .map(|d| format!("the certificate expires in {d} days"));
        results.push(GateResult {
            gate: Gate::Probe,
            subject: p.target.clone(),
            passed: problems.is_empty(),
            measured,
            threshold: format!(
                "status {}-{}, within {} ms, a valid certificate{}",
                plan.probe_status.0,
                plan.probe_status.1,
                plan.probe_latency_ms,
                if plan.websocket { ", a WebSocket upgrade" } else { "" }
            ),
            warning,
        });
    }
    if let Some(split) = split(readings.traffic.as_ref(), percent) {
        results.push(split);
    }
    if percent == 100
        && let Some(b) = baseline(plan, readings.figures.as_ref())
    {
        results.push(b);
    }
    Verdict { results }
}

/// The observed share of the new side against the intended one. Clients that cache DNS past
/// its TTL keep going where they went: the share stays low (or, after a rollback, high).
fn split(traffic: Option<&Traffic>, percent: u8) -> Option<GateResult> {
    let traffic = traffic?;
    let old = traffic.old_requests?;
    let total = traffic.new_requests + old;
    let intended = f64::from(percent);
    let threshold =
        format!("{:.0}% to {:.0}% of at least {MIN_REQUESTS_FOR_SPLIT:.0} requests", low(intended), high(intended));
    if total < MIN_REQUESTS_FOR_SPLIT {
        return Some(GateResult {
            gate: Gate::Split,
            subject: "new side's share".into(),
            passed: true,
            measured: format!("{total:.0} requests, too few to judge"),
            threshold,
            warning: Some("too little traffic to see the split".into()),
        });
    }
    let observed = 100.0 * traffic.new_requests / total;
    Some(GateResult {
        gate: Gate::Split,
        subject: "new side's share".into(),
        passed: (low(intended)..=high(intended)).contains(&observed),
        measured: format!("{observed:.1}% of {total:.0} requests"),
        threshold,
        warning: None,
    })
}

/// Half the intended share at least: fewer means most clients still answer from a cache.
fn low(intended: f64) -> f64 {
    intended / 2.0
}

/// Half again above, plus 5 points: DNS weights are a probability per resolver, not per request.
fn high(intended: f64) -> f64 {
    (intended * 1.5 + 5.0).min(100.0)
}

fn baseline(plan: &ServicePlan, figures: Option<&Figures>) -> Option<GateResult> {
    let b = &plan.baseline;
    if b.error_rate.is_none() && b.p99_ms.is_none() {
        return None;
    }
    let figures = figures.cloned().unwrap_or_default();
    let mut measured = vec![];
    let mut thresholds = vec![];
    let mut passed = true;
    if let Some(old) = b.error_rate {
        let limit = old * BASELINE_MARGIN + BASELINE_ERROR_SLACK;
        thresholds.push(format!("error rate at most {:.2}% (old side {:.2}%)", 100.0 * limit, 100.0 * old));
        match figures.error_rate {
            Some(rate) => {
                measured.push(format!("error rate {:.2}%", 100.0 * rate));
                passed &= rate <= limit;
            }
            None => measured.push("error rate not measured".into()),
        }
    }
    if let Some(old) = b.p99_ms {
        let limit = old as f64 * BASELINE_MARGIN;
        thresholds.push(format!("p99 at most {limit:.0} ms (old side {old} ms)"));
        match figures.p99_ms {
            Some(p99) => {
                measured.push(format!("p99 {p99:.0} ms"));
                passed &= p99 <= limit;
            }
            None => measured.push("p99 not measured".into()),
        }
    }
    Some(GateResult {
        gate: Gate::Baseline,
        subject: "the old side's figures".into(),
        passed,
        measured: measured.join(", "),
        threshold: thresholds.join(", "),
        warning: None,
    })
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.3}").trim_end_matches('0').to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan_service;
    use acme_spec::fixture;

    fn api() -> ServicePlan {
        let p = fixture::acme();
        plan_service(&p, p.service("api").expect("api"))
    }

    fn probe(problems: &[&str], latency_ms: u64) -> ProbeReading {
        ProbeReading {
            target: "www.acme.example.com/api/healthz".into(),
            problems: problems.iter().map(|p| (*p).to_owned()).collect(),
            status: Some(200),
            latency_ms,
            certificate_days: Some(80),
        }
    }

    #[test]
    fn an_alarm_in_alarm_fails_with_its_value_and_threshold() {
        let readings = Readings {
            alarms: vec![
                AlarmReading {
                    name: "acme-api-5xx-rate".into(),
                    state: AlarmState::Alarm,
                    reason: "Threshold Crossed".into(),
                    threshold: Some(5.0),
                    value: Some(12.5),
                },
                AlarmReading {
                    name: "acme-api-p99-latency".into(),
                    state: AlarmState::InsufficientData,
                    reason: String::new(),
                    threshold: Some(1.0),
                    value: None,
                },
            ],
            ..Default::default()
        };
        let v = judge(&api(), &readings, 5);
        let failures = v.failures();
        assert_eq!(failures.len(), 1);
        assert_eq!(
            failures[0].summary(),
            "alarm acme-api-5xx-rate: ALARM at 12.5: Threshold Crossed (threshold not in ALARM, 5)"
        );
        let missing = Readings {
            alarms: vec![AlarmReading {
                name: "acme-api-5xx-rate".into(),
                state: AlarmState::Missing,
                reason: String::new(),
                threshold: None,
                value: None,
            }],
            ..Default::default()
        };
        assert!(!judge(&api(), &missing, 5).passed(), "an alarm that does not exist cannot vouch for anything");
    }

    #[test]
    fn too_few_healthy_targets_fail() {
        let readings = Readings {
            targets: vec![TargetReading { group: "api".into(), healthy: 1, unhealthy: 1, required: 2, error: None }],
            ..Default::default()
        };
        let v = judge(&api(), &readings, 25);
        assert_eq!(v.failures()[0].summary(), "targets api: 1 healthy, 1 unhealthy (threshold at least 2 healthy)");
    }

    #[test]
    fn a_probe_fails_on_its_problems_or_when_slow_and_warns_of_an_expiring_certificate() {
        let plan = api();
        let slow = judge(&plan, &Readings { probes: vec![probe(&[], 1500)], ..Default::default() }, 5);
        assert_eq!(slow.failures()[0].measured, "answered in 1500 ms");
        let error = judge(
            &plan,
            &Readings { probes: vec![probe(&["status 500 is not 200-399"], 20)], ..Default::default() },
            5,
        );
        assert!(error.failures()[0].measured.contains("status 500"));
        let mut expiring = probe(&[], 20);
        expiring.certificate_days = Some(3);
        let v = judge(&plan, &Readings { probes: vec![expiring], ..Default::default() }, 5);
        assert!(v.passed());
        assert_eq!(v.results[0].warning.as_deref(), Some("the certificate expires in 3 days"));
        assert_eq!(v.results[0].measured, "status 200 in 20 ms");
    }

    #[test]
    fn a_websocket_service_says_its_probe_upgraded() {
        let p = fixture::acme();
        let chat = plan_service(&p, p.service("chat").expect("chat"));
        let v = judge(&chat, &Readings { probes: vec![probe(&[], 20)], ..Default::default() }, 5);
        assert_eq!(v.results[0].measured, "status 200 in 20 ms, WebSocket upgraded");
        assert!(v.results[0].threshold.ends_with(", a WebSocket upgrade"), "{}", v.results[0].threshold);
        let refused =
            Readings { probes: vec![probe(&["the WebSocket upgrade was refused: 400"], 20)], ..Default::default() };
        assert_eq!(judge(&chat, &refused, 5).failures()[0].measured, "the WebSocket upgrade was refused: 400");
    }

    #[test]
    fn the_split_is_judged_only_with_both_sides_counted_and_enough_requests() {
        let plan = api();
        let at = |new: f64, old: Option<f64>, percent: u8| {
            judge(
                &plan,
                &Readings { traffic: Some(Traffic { new_requests: new, old_requests: old }), ..Default::default() },
                percent,
            )
        };
        assert!(at(250.0, Some(750.0), 25).split().is_some_and(|s| s.passed));
        let cached = at(30.0, Some(970.0), 25);
        let split = cached.split().expect("judged");
        assert!(!split.passed && split.measured == "3.0% of 1000 requests", "{split:?}");
        assert!(cached.passed(), "a split off target holds the step; it is no failure of the new side");
        assert!(at(5.0, Some(20.0), 25).split().is_some_and(|s| s.passed && s.warning.is_some()), "too few to judge");
        assert!(at(5000.0, None, 25).split().is_none(), "the old side's count is unknown");
    }

    #[test]
    fn at_one_hundred_percent_the_new_side_is_held_to_the_old_sides_figures() {
        let mut plan = api();
        plan.baseline = acme_spec::Baseline { error_rate: Some(0.004), p99_ms: Some(350) };
        let figures = |error_rate, p99| Readings {
            figures: Some(Figures { error_rate: Some(error_rate), p99_ms: Some(p99) }),
            ..Default::default()
        };
        let good = judge(&plan, &figures(0.005, 400.0), 100);
        assert!(good.baseline().is_some_and(|b| b.passed), "{good:?}");
        let slow = judge(&plan, &figures(0.001, 500.0), 100);
        let b = slow.baseline().expect("judged");
        assert!(!b.passed);
        assert_eq!(b.measured, "error rate 0.10%, p99 500 ms");
        assert_eq!(b.threshold, "error rate at most 0.60% (old side 0.40%), p99 at most 438 ms (old side 350 ms)");
        assert!(judge(&plan, &figures(0.5, 5000.0), 50).baseline().is_none(), "only at 100 percent");
    }
}
