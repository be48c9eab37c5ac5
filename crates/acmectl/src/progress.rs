//! Live progress of a deploy or destroy. On a terminal: one line per stack, redrawn in
//! place (status, the latest resource event, elapsed time), with lasting messages (name
//! servers, failures) printed above it. Elsewhere (CI logs, pipes): one plain log line per
//! event. Everything goes to stderr; stdout keeps the result.

use acme_aws::{Event, Outcome};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Shared by the deploy's tasks through the progress callback.
#[derive(Clone)]
pub struct Display {
    board: Arc<Mutex<Board>>,
}

struct Board {
    tty: bool,
    started: Instant,
    lines: Vec<Line>,
    /// Board lines on screen now (terminal only).
    drawn: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub stack_name: String,
    pub status: String,
    /// The latest resource event.
    pub event: String,
    pub since: Option<Instant>,
    /// Frozen elapsed time once the stack is done.
    pub took: Option<Duration>,
}

impl Display {
    pub fn new(tty: bool, stacks: &[String]) -> Display {
        let lines = stacks
            .iter()
            .map(|s| Line {
                stack_name: s.clone(),
                status: "pending".into(),
                event: String::new(),
                since: None,
                took: None,
            })
            .collect();
        Display { board: Arc::new(Mutex::new(Board { tty, started: Instant::now(), lines, drawn: 0 })) }
    }

    /// Take one event: update the stack's line and print what must stay.
    pub fn on(&self, event: &Event) {
        let Ok(mut b) = self.board.lock() else { return };
        let (stack, status, detail, note) = describe(event);
        let now = Instant::now();
        if let Some(line) = b.lines.iter_mut().find(|l| l.stack_name == stack) {
            if let Some(status) = &status {
                line.status.clone_from(status);
                let finished = matches!(
                    event,
                    Event::Deployed(_) | Event::Failed { .. } | Event::Skipped { .. } | Event::Deleted { .. }
                );
                if line.since.is_none() && !finished {
                    line.since = Some(now);
                }
                if finished {
                    line.took = line.since.map(|s| now - s);
                }
            }
            if let Some(detail) = &detail {
                line.event.clone_from(detail);
            }
        }
        if b.tty {
            if let Some(note) = note {
                b.note(&note);
            }
            b.draw();
        } else {
            let at = b.started.elapsed().as_secs_f64();
            let text = match (&note, &status, &detail) {
                (Some(note), _, _) => note.clone(),
                (None, _, Some(detail)) if !detail.is_empty() => format!("{stack}  {detail}"),
                (None, Some(status), _) => format!("{stack}  {status}"),
                _ => return,
            };
            let _ = writeln!(std::io::stderr(), "[{at:>7.1}s] {text}");
        }
    }

    /// Redraw (elapsed times move); nothing off a terminal.
    pub fn tick(&self) {
        if let Ok(mut b) = self.board.lock()
            && b.tty
        {
            b.draw();
        }
    }

    /// The stacks that have started and not finished, with their status.
    pub fn running(&self) -> Vec<(String, String)> {
        let Ok(b) = self.board.lock() else { return vec![] };
        b.lines
            .iter()
            .filter(|l| l.since.is_some() && l.took.is_none())
            .map(|l| (l.stack_name.clone(), l.status.clone()))
            .collect()
    }

    /// Redraw every second while `work` runs, on a terminal.
    pub fn ticking(&self) -> Ticker {
        let display = self.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                display.tick();
            }
        });
        Ticker(task)
    }
}

/// Stops the redraws when dropped.
pub struct Ticker(tokio::task::JoinHandle<()>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Board {
    fn draw(&mut self) {
        let now = Instant::now();
        let mut err = std::io::stderr().lock();
        let mut text = String::new();
        if self.drawn > 0 {
            text.push_str(&format!("\x1b[{}F", self.drawn));
        }
        for line in &self.lines {
            text.push_str("\x1b[2K");
            text.push_str(&render(line, now));
            text.push('\n');
        }
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
        self.drawn = self.lines.len();
    }

    /// Clear the board, print `note`, leave the board to be drawn below it.
    fn note(&mut self, note: &str) {
        let mut err = std::io::stderr().lock();
        if self.drawn > 0 {
            let _ = write!(err, "\x1b[{}F\x1b[J", self.drawn);
        }
        let _ = writeln!(err, "{note}");
        self.drawn = 0;
    }
}

/// One board line: `network        UPDATE_IN_PROGRESS        NatGatewayTwo CREATE_IN_PROGRESS   1m05s`.
pub fn render(line: &Line, now: Instant) -> String {
    let elapsed = line.took.or_else(|| line.since.map(|s| now - s));
    let clock = elapsed.map(|d| format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)).unwrap_or_default();
    let mut event: String = line.event.chars().take(60).collect();
    if line.event.chars().count() > 60 {
        event.push('…');
    }
    format!("  {:<22} {:<28} {:<61} {clock:>7}", line.stack_name, line.status, event)
}

/// An event as (stack, new status, resource detail, lasting note).
fn describe(event: &Event) -> (String, Option<String>, Option<String>, Option<String>) {
    match event {
        Event::Waiting { stack_name, status } => (
            stack_name.clone(),
            Some(format!("waiting: {status}")),
            None,
            Some(format!("{stack_name} is {status} (an earlier operation); waiting for it to finish")),
        ),
        Event::Staged { stack_name, location, bytes, uploaded } => (
            stack_name.clone(),
            Some("template staged".into()),
            Some(format!("{} KB {}", bytes.div_ceil(1024), if *uploaded { "uploaded" } else { "already staged" })),
            Some(format!(
                "{stack_name}: its template ({} KB, over the inline limit) {} {location}",
                bytes.div_ceil(1024),
                if *uploaded { "went to" } else { "was already at" }
            )),
        ),
        Event::Planning { stack_name } => (stack_name.clone(), Some("creating change set".into()), None, None),
        Event::ChangeSet { stack_name, changes, .. } => (
            stack_name.clone(),
            Some(format!("executing {} change{}", changes.len(), if changes.len() == 1 { "" } else { "s" })),
            None,
            None,
        ),
        Event::Replanned { stack_name, parameters, changes } => (
            stack_name.clone(),
            None,
            None,
            Some(format!(
                "{stack_name}: its inputs changed since the plan ({}), so its change set was made again: {}",
                parameters.join(", "),
                if changes.is_empty() {
                    "no changes".to_owned()
                } else {
                    changes.iter().map(|c| format!("\n    {c}")).collect::<String>()
                }
            )),
        ),
        Event::Unchanged { stack_name } => (stack_name.clone(), Some("unchanged".into()), None, None),
        Event::Status { stack_name, status } => (stack_name.clone(), Some(status.clone()), None, None),
        Event::Resource { stack_name, logical_id, status, reason, .. } => (
            stack_name.clone(),
            None,
            Some(format!("{logical_id} {status}{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())),
            None,
        ),
        Event::NameServers { stack_name, domain, name_servers, .. } => (
            stack_name.clone(),
            None,
            None,
            Some(format!(
                "The hosted zone {domain} exists. Delegate {domain} to it now: set these NS records at the \
                 registrar or in the parent zone. ACM issues the certificates (and this deploy goes on) only \
                 once the delegation resolves:\n{}",
                name_servers.iter().map(|n| format!("    {n}\n")).collect::<String>().trim_end()
            )),
        ),
        Event::Recreating { stack_name, status } => (
            stack_name.clone(),
            Some("deleting the failed stack".into()),
            None,
            Some(format!(
                "{stack_name} is {status}: its first creation failed and rolled back. Deleting it to create it \
                 again (resources it retained stay in the account)."
            )),
        ),
        Event::Deployed(d) => {
            let status = match d.outcome {
                Outcome::Created => "created",
                Outcome::Updated => "updated",
                Outcome::Recreated => "recreated",
                Outcome::Unchanged => "unchanged",
            };
            (d.stack_name.clone(), Some(status.into()), Some(String::new()), None)
        }
        Event::Failed { stack_name, reason } => {
            (stack_name.clone(), Some("FAILED".into()), None, Some(format!("{stack_name} failed: {reason}")))
        }
        Event::Skipped { stack_name, reason } => {
            (stack_name.clone(), Some(format!("not started: {reason}")), None, None)
        }
        Event::Deleting { stack_name } => (stack_name.clone(), Some("deleting".into()), None, None),
        Event::Deleted { stack_name } => (stack_name.clone(), Some("deleted".into()), Some(String::new()), None),
        _ => (String::new(), None, None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_shows_status_event_and_elapsed_time() {
        let start = Instant::now();
        let line = Line {
            stack_name: "acme-network".into(),
            status: "UPDATE_IN_PROGRESS".into(),
            event: "NatGatewayTwo CREATE_IN_PROGRESS".into(),
            since: Some(start),
            took: None,
        };
        let text = render(&line, start + Duration::from_secs(65));
        assert!(text.starts_with("  acme-network"), "{text}");
        assert!(text.contains("UPDATE_IN_PROGRESS") && text.contains("NatGatewayTwo CREATE_IN_PROGRESS"), "{text}");
        assert!(text.ends_with("1m05s"), "{text}");
        let long = Line { event: "x".repeat(100), ..line };
        assert!(render(&long, start).contains(&format!("{}…", "x".repeat(60))));
    }

    #[test]
    fn name_servers_are_a_lasting_note_that_says_what_to_do() {
        let (stack, _, _, note) = describe(&Event::NameServers {
            stack_name: "acme-dns".into(),
            zone_id: "Z1".into(),
            domain: "acme.example.com".into(),
            name_servers: vec!["ns-1.awsdns-01.org".into(), "ns-2.awsdns-02.com".into()],
        });
        assert_eq!(stack, "acme-dns");
        let note = note.expect("a note");
        assert!(note.contains("Delegate acme.example.com") && note.contains("    ns-2.awsdns-02.com"), "{note}");
    }

    #[test]
    fn finished_stacks_freeze_their_clock_and_leave_the_running_list() {
        let display = Display::new(false, &["acme-keys".into(), "acme-network".into()]);
        display.on(&Event::Status { stack_name: "acme-keys".into(), status: "CREATE_IN_PROGRESS".into() });
        display.on(&Event::Status { stack_name: "acme-network".into(), status: "CREATE_IN_PROGRESS".into() });
        display.on(&Event::Failed { stack_name: "acme-network".into(), reason: "boom".into() });
        assert_eq!(display.running(), [("acme-keys".to_owned(), "CREATE_IN_PROGRESS".to_owned())]);
    }
}
