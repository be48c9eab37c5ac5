//! What `acmectl migrate` prints. Progress goes to stderr: on a terminal, the poll line is
//! redrawn in place under the lasting lines (steps, syncs, verdicts); elsewhere each event
//! is one plain line. Results go to stdout, as text or JSON.

use crate::cli::OutputFormat;
use acme_migrate::gates::Verdict;
use acme_migrate::plan::{Mechanism, ServicePlan};
use acme_migrate::report::HostReport;
use acme_ops::Clock;
use acme_ops::migrate::{Event, Finalized, Outcome, ServiceStatus};
use acme_spec::Platform;
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Mutex;

/// `4m10s`, `45s`.
pub fn duration(secs: u64) -> String {
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// Each gate's latest value, on one line: `alarm acme-auth-5xx-rate OK, targets auth 2/2 ...`.
pub fn gates_line(verdict: &Verdict) -> String {
    let parts: Vec<String> = verdict
        .results
        .iter()
        .map(|r| {
            let mark = if r.passed { "" } else { " FAILED" };
            format!("{} {}: {}{mark}", r.gate.as_str(), r.subject, r.measured)
        })
        .collect();
    parts.join(" | ")
}

fn mechanism_text(platform: &Platform, plan: &ServicePlan) -> Vec<String> {
    plan.tracks
        .iter()
        .map(|t| match t.mechanism {
            Mechanism::Dns if t.record_type == "CNAME" => format!(
                "{}: dns, the service has the host to itself: weighted Route 53 records, the old side's CNAME beside a \
                 CNAME to the load balancer (a CNAME shares its name with no other type; finalize makes it an alias)",
                t.host
            ),
            Mechanism::Dns => format!(
                "{}: dns, the service has the host to itself: weighted Route 53 records, the old side's A records \
                 beside an alias to the load balancer",
                t.host
            ),
            Mechanism::Path => {
                let others: Vec<String> = platform
                    .services_on(&t.host)
                    .into_iter()
                    .filter(|s| s.name != plan.service)
                    .map(|s| s.name.clone())
                    .collect();
                format!(
                    "{}: path, shared with {}: the host's DNS moves to the load balancer first (front door, every \
                     path still to the old side), then the service's rule forwards by weight to it and to the old \
                     side's target group",
                    t.host,
                    others.join(", ")
                )
            }
        })
        .collect()
}

/// `migrate plan` as text.
pub fn plan_text(platform: &Platform, plans: &[ServicePlan]) -> String {
    let mut out = String::new();
    for plan in plans {
        let _ = writeln!(out, "{}", plan.service);
        if let Some(why) = &plan.nothing_to_migrate {
            let _ = writeln!(out, "  nothing to migrate: {why}");
            continue;
        }
        for line in mechanism_text(platform, plan) {
            let _ = writeln!(out, "  {line}");
        }
        let steps: Vec<String> = plan.steps.iter().map(u8::to_string).collect();
        let _ = writeln!(
            out,
            "  steps {}%, each judged for the TTL ({}s where DNS moves) plus a bake of {}",
            steps.join(", "),
            acme_migrate::plan::DNS_TTL_SECONDS,
            duration(plan.bake_seconds)
        );
        if plan.tracks.iter().any(|t| t.mechanism == Mechanism::Path) {
            let _ = writeln!(
                out,
                "  front door gates: alarms {}; the old side's target group healthy; the probes answered by the old side",
                plan.front_door_alarms.join(", ")
            );
        }
        let _ = writeln!(out, "  gates: alarms {}", plan.alarms.join(", "));
        let _ =
            writeln!(out, "         at least {} healthy target(s) in each of its target groups", plan.required_healthy);
        for t in &plan.tracks {
            let _ = writeln!(
                out,
                "         probe https://{}{}: status {}-{} within {}ms{}",
                t.host,
                t.probe_path,
                plan.probe_status.0,
                plan.probe_status.1,
                plan.probe_latency_ms,
                if plan.websocket { ", and a WebSocket upgrade" } else { "" }
            );
        }
        for b in &plan.blockers {
            let _ = writeln!(out, "  BLOCKED: {}\n    fix: {}", b.reason, b.fix);
        }
    }
    out
}

pub fn print_plans(format: OutputFormat, platform: &Platform, plans: &[ServicePlan]) {
    match format {
        OutputFormat::Text => print!("{}", plan_text(platform, plans)),
        _ => println!("{:#}", json!({ "services": plans })),
    }
}

/// Live progress of `migrate start`/`resume`.
pub struct Progress {
    tty: bool,
    service: String,
    /// Whether a redrawable line is on screen.
    drawn: Mutex<bool>,
    /// Off a terminal: the last poll printed (position, failed gates) and when.
    printed: Mutex<Option<(PollKey, u64)>>,
}

type PollKey = (acme_migrate::Stage, u8, Vec<String>);

/// Off a terminal, a poll is printed when the position or a gate's pass/fail changes, and
/// once a minute besides: a log that says everything without a line per poll.
const PLAIN_POLL_EVERY: u64 = 60;

impl Progress {
    pub fn new(tty: bool, plan: &ServicePlan) -> Progress {
        Progress { tty, service: plan.service.clone(), drawn: Mutex::new(false), printed: Mutex::new(None) }
    }

    fn worth_a_line(&self, stage: acme_migrate::Stage, percent: u8, verdict: &Verdict, now: u64) -> bool {
        let failed = verdict.results.iter().filter(|r| !r.passed).map(|r| r.subject.clone()).collect();
        let key = (stage, percent, failed);
        let mut printed = self.printed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = printed.as_ref().is_none_or(|(last, at)| *last != key || now >= at + PLAIN_POLL_EVERY);
        if due {
            *printed = Some((key, now));
        }
        due
    }

    pub fn on(&self, event: &Event, clock: &Clock) {
        let s = &self.service;
        let line = match event {
            Event::Locked { hosts } => {
                format!("{s}: holding {} (the lock is renewed with every write)", hosts.join(", "))
            }
            Event::Stepped { stage, percent, step, of } => {
                let step = step.map(|n| format!("step {n}/{of}: ")).unwrap_or_default();
                format!("{s} {stage}: {step}{percent}% to the new side, {}% to the old side", 100 - percent)
            }
            Event::InSync { stage, percent } => {
                format!("{s} {stage} {percent}%: Route 53 has it on all its servers (INSYNC)")
            }
            Event::Began { stage, percent, until } => format!(
                "{s} {stage} {percent}%: the step began; judged for {}",
                duration(until.saturating_sub(clock.secs()))
            ),
            Event::Polled { stage, percent, now, until, verdict } => {
                let left = until.map(|u| format!("{} left", duration(u.saturating_sub(*now)))).unwrap_or_default();
                let line = format!("{s} {stage} {percent}% {left} | {}", gates_line(verdict));
                if self.tty {
                    self.redraw(&line);
                } else if self.worth_a_line(*stage, *percent, verdict, *now) {
                    self.lasting(&line);
                }
                return;
            }
            Event::RolledBack { stage, why } => format!("{s} {stage}: ROLLED BACK, the new side is at 0%: {why}"),
            Event::Held { why } => format!("{s}: held, the weights stay: {why}"),
            Event::Completed => format!("{s}: 100% baked with every gate passing"),
        };
        self.lasting(&line);
    }

    fn lasting(&self, line: &str) {
        let mut drawn = self.drawn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        if *drawn {
            let _ = write!(err, "\r\x1b[2K");
            *drawn = false;
        }
        let _ = writeln!(err, "{line}");
    }

    fn redraw(&self, line: &str) {
        let mut drawn = self.drawn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        let width = 160;
        let shown: String = line.chars().take(width).collect();
        let _ = write!(err, "\r\x1b[2K{shown}");
        let _ = err.flush();
        *drawn = true;
    }

    /// Leave the terminal on a fresh line.
    pub fn done(&self) {
        let drawn = self.drawn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if *drawn {
            eprintln!();
        }
    }
}

pub fn print_outcome(format: OutputFormat, service: &str, outcome: &Outcome) {
    let (state, message, extra) = match outcome {
        Outcome::Complete => (
            "complete",
            format!(
                "{service} is on the new side at 100%, baked with every gate passing.\nNext: acmectl migrate finalize \
                 {service}"
            ),
            json!({}),
        ),
        Outcome::RolledBack { stage, why } => (
            "rolled-back",
            format!(
                "{service} rolled back at {stage}: the new side is at 0%.\nWhy: {why}\nAfter the fix: acmectl migrate \
                 start {service}"
            ),
            json!({ "stage": stage, "why": why }),
        ),
        Outcome::Held { why } => (
            "held",
            format!("{service} holds where it is: {why}\nGo on: acmectl migrate resume {service}"),
            json!({ "why": why }),
        ),
        Outcome::Interrupted { stage, percent } => (
            "interrupted",
            format!(
                "interrupted: {service} holds at {percent}% ({stage}).\nGo on: acmectl migrate resume {service}\nGo \
                 back: acmectl migrate rollback {service}"
            ),
            json!({ "stage": stage, "percent": percent }),
        ),
    };
    match format {
        OutputFormat::Text => println!("{message}"),
        _ => {
            let mut v = json!({ "service": service, "outcome": state });
            if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
                v.extend(extra.clone());
            }
            println!("{v:#}");
        }
    }
}

pub fn print_done(format: OutputFormat, service: &str, state: &str, message: &str) {
    match format {
        OutputFormat::Text => println!("{message}"),
        _ => println!("{:#}", json!({ "service": service, "outcome": state, "message": message })),
    }
}

pub fn print_finalized(format: OutputFormat, done: &Finalized) {
    match format {
        OutputFormat::Text => {
            println!("{} is finalized: the edge stack owns its records and rules.", done.service);
            for host in &done.final_hosts {
                println!("  {host}: the stack's record answers; the old side is out of its path");
            }
            for (host, others) in &done.waiting {
                println!("  {host}: stays on the migration's records until {} move too", others.join(", "));
            }
            println!("Then: acmectl migrate decommission-report");
        }
        _ => println!(
            "{:#}",
            json!({
                "service": done.service,
                "outcome": "finalized",
                "final_hosts": done.final_hosts,
                "waiting": done.waiting.iter().map(|(h, s)| json!({ "host": h, "services": s })).collect::<Vec<_>>(),
                "deployed": done.deployed,
            })
        ),
    }
}

/// `migrate status` as text: one block per service.
pub fn status_text(statuses: &[ServiceStatus]) -> String {
    let mut out = String::new();
    for s in statuses {
        let at = match (s.stage, s.percent) {
            (Some(stage), Some(p)) => format!(" at {p}% of {stage}"),
            _ => String::new(),
        };
        let left = s.bake_left.map(|l| format!(", {} left in the bake", duration(l))).unwrap_or_default();
        let why = match &s.phase {
            acme_ops::migrate::Phase::Nothing { why }
            | acme_ops::migrate::Phase::Blocked { why }
            | acme_ops::migrate::Phase::Held { why }
            | acme_ops::migrate::Phase::RolledBack { why } => format!(": {why}"),
            _ => String::new(),
        };
        let _ = writeln!(out, "{}: {}{at}{left}{why}", s.service, s.phase.label());
        if !s.weights.is_empty() {
            let weights: Vec<String> =
                s.weights.iter().map(|w| format!("{} {} {}%", w.host, w.knob, w.percent)).collect();
            let _ = writeln!(out, "  new side: {}", weights.join(", "));
        }
        if let Some(lock) = &s.lock {
            let _ = writeln!(out, "  held by {} (run {}) for {} more", lock.owner, lock.run, duration(lock.expires_in));
        }
        let alarming: Vec<&str> = s
            .alarms
            .iter()
            .filter(|a| a.state == acme_migrate::gates::AlarmState::Alarm)
            .map(|a| a.name.as_str())
            .collect();
        if !s.alarms.is_empty() {
            let state = if alarming.is_empty() { "none".to_owned() } else { alarming.join(", ") };
            let _ = writeln!(out, "  alarms in ALARM: {state} (of {})", s.alarms.len());
        }
        if let Some(gates) = &s.gates {
            let _ = writeln!(out, "  gates: {}", gates_line(gates));
        }
    }
    out
}

pub fn print_status(format: OutputFormat, statuses: &[ServiceStatus]) {
    match format {
        OutputFormat::Text => print!("{}", status_text(statuses)),
        _ => println!("{:#}", json!({ "services": statuses })),
    }
}

/// `status --watch`: redrawn in place on a terminal, a block per change elsewhere.
pub struct Screen {
    tty: bool,
    last: String,
}

impl Screen {
    pub fn new(tty: bool) -> Screen {
        Screen { tty, last: String::new() }
    }

    pub fn show(&mut self, format: OutputFormat, statuses: &[ServiceStatus]) {
        let text = match format {
            OutputFormat::Text => status_text(statuses),
            _ => format!("{}\n", json!({ "services": statuses })),
        };
        if text == self.last {
            return;
        }
        if self.tty {
            print!("\x1b[H\x1b[2J{text}");
        } else {
            print!("{text}");
            if format == OutputFormat::Text {
                println!("--");
            }
        }
        let _ = std::io::stdout().flush();
        self.last = text;
    }
}

pub fn print_report(format: OutputFormat, reports: &[HostReport]) {
    match format {
        OutputFormat::Text => {
            for r in reports {
                let e = &r.evidence;
                let verdict = if r.safe_to_switch_off { "safe to switch off" } else { "NOT safe to switch off" };
                println!("{}: {verdict}", e.host);
                let services: Vec<String> = e
                    .services
                    .iter()
                    .map(|(s, m)| format!("{s} ({})", if *m { "on the new side" } else { "not migrated" }))
                    .collect();
                println!("  services: {}", services.join(", "));
                let records = if e.old_records.is_empty() { "none".to_owned() } else { e.old_records.join("; ") };
                println!("  records that still answer with the old side: {records}");
                match e.old_requests {
                    Some(n) => println!("  requests the old side served in the last {}h: {n:.0}", e.window_hours),
                    None => println!("  requests the old side served: not measured"),
                }
                for reason in &r.reasons {
                    println!("  - {reason}");
                }
            }
        }
        _ => println!("{:#}", json!({ "hosts": reports })),
    }
}
