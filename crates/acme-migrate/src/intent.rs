//! The record of intent and the lock, as the strings of TXT records in the platform's zone.
//!
//! The weights say where traffic is; the intent says what the migration meant to do with
//! them: the step it is in, since when, and whether a person paused it or a gate rolled it
//! back. Both are read back from Route 53 at every poll, so a run that crashed resumes from
//! what AWS holds, never from memory. A host's intent record holds one string per service on
//! it; the lock record, one string: who holds the host, until when.
//!
//! The strings are `key=value` words. Values are escaped (`%20` for a space) so that neither
//! a space nor a quote ever needs TXT quoting, and cut to fit TXT's 255 characters.

use serde::Serialize;
use std::fmt;

/// Longest TXT string.
pub const MAX_TXT: usize = 255;
const INTENT_TAG: &str = "acmectl/1";
const LOCK_TAG: &str = "acmectl-lock/1";

/// The two stages of a service's migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// The DNS of the hosts the service shares by path moves to the load balancer, which
    /// still sends every path on them to the old side.
    FrontDoor,
    /// The service's own traffic moves.
    Main,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::FrontDoor => "front-door",
            Stage::Main => "main",
        }
    }

    fn parse(s: &str) -> Option<Stage> {
        match s {
            "front-door" => Some(Stage::FrontDoor),
            "main" => Some(Stage::Main),
            _ => None,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a step stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum IntentState {
    /// The weights were written at `since`; the step begins once Route 53 has them in sync.
    Moving {
        /// The Route 53 change to wait for, when DNS moved.
        change: Option<String>,
    },
    /// The step began at `began` (weights live everywhere); it is judged until `began + ttl +
    /// bake`.
    Baking {
        began: u64,
        /// Seconds resolvers may still answer from the step before.
        ttl: u64,
    },
    /// A person paused the migration: the weights stay.
    Held { by: String, why: String },
    /// A gate failed, or a person rolled back: the new side's weight is 0.
    RolledBack { by: String, why: String },
    /// The last step baked and every gate passed: ready for `migrate finalize`.
    Complete,
}

impl IntentState {
    /// One word for people: `moving`, `baking`, `held`, `rolled-back`, `complete`.
    pub fn label(&self) -> &'static str {
        match self {
            IntentState::Moving { .. } => "moving",
            IntentState::Baking { .. } => "baking",
            IntentState::Held { .. } => "held",
            IntentState::RolledBack { .. } => "rolled-back",
            IntentState::Complete => "complete",
        }
    }
}

/// What the migration of one service intends, as its record of intent holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Intent {
    pub service: String,
    pub stage: Stage,
    /// The new side's share this step moves the stage's knobs to.
    pub percent: u8,
    /// When this state was written (seconds since the Unix epoch).
    pub since: u64,
    /// The run that wrote it.
    pub run: String,
    #[serde(flatten)]
    pub state: IntentState,
}

impl Intent {
    /// The TXT string, at most [`MAX_TXT`] characters (a long reason is cut).
    pub fn encode(&self) -> String {
        let mut words = vec![
            INTENT_TAG.to_owned(),
            word("service", &self.service),
            word("stage", self.stage.as_str()),
            word("percent", &self.percent.to_string()),
            word("since", &self.since.to_string()),
            word("run", &self.run),
        ];
        let (state, extra): (&str, Vec<(&str, String)>) = match &self.state {
            IntentState::Moving { change } => ("moving", change.iter().map(|c| ("change", c.clone())).collect()),
            IntentState::Baking { began, ttl } => {
                ("baking", vec![("began", began.to_string()), ("ttl", ttl.to_string())])
            }
            IntentState::Held { by, why } => ("held", vec![("by", by.clone()), ("why", why.clone())]),
            IntentState::RolledBack { by, why } => ("rolled-back", vec![("by", by.clone()), ("why", why.clone())]),
            IntentState::Complete => ("complete", vec![]),
        };
        words.push(word("state", state));
        words.extend(extra.iter().map(|(k, v)| word(k, v)));
        fit(words.join(" "))
    }

    /// Parses a TXT string; `None` for a string that is not an intent (another tool's, or
    /// a newer acmectl's).
    pub fn decode(text: &str) -> Option<Intent> {
        let fields = fields(text, INTENT_TAG)?;
        let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let number = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok());
        let state = match get("state")?.as_str() {
            "moving" => IntentState::Moving { change: get("change") },
            "baking" => IntentState::Baking { began: number("began")?, ttl: number("ttl")? },
            "held" => IntentState::Held { by: get("by").unwrap_or_default(), why: get("why").unwrap_or_default() },
            "rolled-back" => {
                IntentState::RolledBack { by: get("by").unwrap_or_default(), why: get("why").unwrap_or_default() }
            }
            "complete" => IntentState::Complete,
            _ => return None,
        };
        Some(Intent {
            service: get("service")?,
            stage: Stage::parse(&get("stage")?)?,
            percent: get("percent")?.parse().ok().filter(|p| *p <= 100)?,
            since: number("since")?,
            run: get("run").unwrap_or_default(),
            state,
        })
    }
}

/// Who holds a host's migration lock, and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lock {
    /// The person and machine: `alice@bastion-1` (the caller's session or user name, not its
    /// ARN: the record is public DNS).
    pub owner: String,
    /// The process on that machine, so the same machine can take back a lock of a run that
    /// was killed.
    pub pid: u32,
    pub run: String,
    /// Seconds since the Unix epoch after which anyone may take it.
    pub expires: u64,
}

impl Lock {
    pub fn encode(&self) -> String {
        fit([
            LOCK_TAG.to_owned(),
            word("owner", &self.owner),
            word("pid", &self.pid.to_string()),
            word("run", &self.run),
            word("expires", &self.expires.to_string()),
        ]
        .join(" "))
    }

    pub fn decode(text: &str) -> Option<Lock> {
        let fields = fields(text, LOCK_TAG)?;
        let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        Some(Lock {
            owner: get("owner")?,
            pid: get("pid")?.parse().ok()?,
            run: get("run")?,
            expires: get("expires")?.parse().ok()?,
        })
    }

    /// Whether a run `run` of `owner`, process `pid`, may take the lock at `now`: it is its
    /// own, it expired, or its holder was on this machine and that process is gone
    /// (`alive`, asked only then).
    pub fn may_take(&self, owner: &str, run: &str, now: u64, alive: impl Fn(u32) -> bool) -> bool {
        self.run == run || now >= self.expires || (self.owner == owner && !alive(self.pid))
    }
}

fn word(key: &str, value: &str) -> String {
    format!("{key}={}", escape(value))
}

/// Cut to [`MAX_TXT`] at a character boundary, dropping a partial escape.
fn fit(mut text: String) -> String {
    if text.len() > MAX_TXT {
        let mut end = MAX_TXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        if let Some(i) = text.rfind('%').filter(|i| text.len() - i < 3) {
            text.truncate(i);
        }
    }
    text
}

fn fields(text: &str, tag: &str) -> Option<Vec<(String, String)>> {
    let mut words = text.split(' ');
    if words.next()? != tag {
        return None;
    }
    Some(words.filter_map(|w| w.split_once('=')).map(|(k, v)| (k.to_owned(), unescape(v))).collect())
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            ' ' | '%' | '"' | '\\' | '=' => out.push_str(&format!("%{:02X}", c as u32)),
            c if c.is_control() || !c.is_ascii() => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn unescape(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = value.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn intent(state: IntentState) -> Intent {
        Intent {
            service: "api".into(),
            stage: Stage::Main,
            percent: 25,
            since: 1_765_000_000,
            run: "7f3a".into(),
            state,
        }
    }

    #[test]
    fn an_intent_reads_back_as_written() {
        for state in [
            IntentState::Moving { change: Some("C0123".into()) },
            IntentState::Moving { change: None },
            IntentState::Baking { began: 1_765_000_060, ttl: 60 },
            IntentState::Held { by: "alice@bastion-1".into(), why: "waiting for the marketing launch".into() },
            IntentState::RolledBack {
                by: "gate".into(),
                why: "probe www.acme.example.com/api/healthz: status 500 not in 200-399".into(),
            },
            IntentState::Complete,
        ] {
            let written = intent(state);
            let text = written.encode();
            assert!(!text.contains('"') && !text.contains('\\') && text.len() <= MAX_TXT, "{text}");
            assert_eq!(Intent::decode(&text), Some(written), "{text}");
        }
    }

    #[test]
    fn the_string_is_plain_words() {
        let text = intent(IntentState::Baking { began: 1_765_000_060, ttl: 60 }).encode();
        assert_eq!(
            text,
            "acmectl/1 service=api stage=main percent=25 since=1765000000 run=7f3a state=baking began=1765000060 ttl=60"
        );
    }

    #[test]
    fn a_long_reason_is_cut_to_fit_a_txt_string() {
        let long = intent(IntentState::RolledBack { by: "gate".into(), why: "é ".repeat(200) });
        let text = long.encode();
        assert!(text.len() <= MAX_TXT, "{}", text.len());
        let back = Intent::decode(&text).expect("still an intent");
        assert!(matches!(back.state, IntentState::RolledBack { ref why, .. } if why.starts_with("é é")));
    }

    #[test]
    fn strings_that_are_not_ours_are_ignored() {
        for text in
            ["v=spf1 include:_spf.example.com ~all", "acmectl/2 service=api", "acmectl/1 service=api stage=up", ""]
        {
            assert_eq!(Intent::decode(text), None, "{text}");
        }
        assert_eq!(Lock::decode("acmectl/1 service=api"), None);
    }

    #[test]
    fn a_lock_is_taken_when_it_is_ours_expired_or_its_process_is_gone() {
        let lock = Lock { owner: "alice@bastion-1".into(), pid: 4242, run: "run1".into(), expires: 1000 };
        assert_eq!(Lock::decode(&lock.encode()), Some(lock.clone()));
        let alive = |_: u32| true;
        let dead = |_: u32| false;
        assert!(lock.may_take("bob@laptop", "run1", 10, alive), "its own run");
        assert!(!lock.may_take("bob@laptop", "run2", 999, dead), "someone else's, still valid");
        assert!(lock.may_take("bob@laptop", "run2", 1000, alive), "expired");
        assert!(lock.may_take("alice@bastion-1", "run2", 10, dead), "same machine, the holder was killed");
        assert!(!lock.may_take("alice@bastion-1", "run2", 10, alive), "same machine, the holder still runs");
    }

    proptest! {
        #[test]
        fn any_reason_survives_or_is_cut_never_garbled(why in "\\PC{0,300}") {
            let written = intent(IntentState::Held { by: "ops".into(), why: why.clone() });
            let text = written.encode();
            prop_assert!(text.len() <= MAX_TXT);
            let back = Intent::decode(&text).expect("an intent");
            let IntentState::Held { why: read, .. } = back.state else { panic!("held") };
            let kept = read.trim_end_matches(char::REPLACEMENT_CHARACTER);
            prop_assert!(why.starts_with(kept), "{:?} is not a prefix of {:?}", kept, why);
        }
    }
}
