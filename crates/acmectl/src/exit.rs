//! Exit codes are part of the interface: scripts branch on them.

use crate::cli::OutputFormat;
use serde_json::json;
use std::process::ExitCode;

pub const HELP: &str = "\
Exit codes:
  0    success; plan: no changes
  1    findings (check; the gate of synth and deploy) or changes (plan); status:
       something needs attention
  2    invalid input: acme.yaml or arguments (also: no terminal to confirm on and no --yes)
  3    local failure: reading or writing files
  4    AWS or Kubernetes failure (credentials, endpoint, a stack that failed or is stuck)
  5    refused: the deploy would destroy data (see --allow-replace) or move a running
       migration's traffic, deletion protection is on (destroy), the confirmation was
       declined, or a migration cannot run as asked (migrate plan says why)
  6    migrate: a gate failed and the new side's weight is back at 0 (the message names
       the gate, its measured value and threshold)
  7    migrate: the weights hold where they are (paused, or for a person to decide)
  8    migrate: another run holds the service's hosts (the message names it)
  130  interrupted (Ctrl-C); running stacks go on in CloudFormation, run again to carry on;
       a migration's weights hold: `migrate resume` or `migrate rollback`";

pub const MIGRATE_HELP: &str = "\
Exit codes:
  0    done: complete (ready for finalize), finalized, rolled back by `rollback`
  1    status: a service needs attention (rolled back, held, moved without acmectl)
  2    invalid input: acme.yaml's legacy or migration settings, or arguments
  4    AWS failure
  5    refused, nothing changed: the service cannot migrate as configured, is not ready
       to finalize, or the confirmation was declined
  6    a gate failed: the new side's weight is back at 0 (the message says which gate,
       with its measured value and threshold)
  7    held: paused (the weights stay), or the new side was not ready to start
  8    locked: another run migrates a host of the service (the message names it)
  130  Ctrl-C: the weights hold; `migrate resume` goes on, `migrate rollback` goes back";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Ok = 0,
    /// `check` found something or the gate stopped `synth`/`deploy`; `plan` has changes;
    /// `status` has something that needs attention.
    Findings = 1,
    /// `migrate plan`: a service cannot migrate as configured.
    Refused = 5,
    /// `migrate`: a gate failed; the new side's weight is back at 0.
    RolledBack = 6,
    /// `migrate`: the weights hold (paused, or waiting for a person).
    Held = 7,
    /// `migrate`: Ctrl-C; the weights hold.
    Interrupted = 130,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// Why a command failed, and so which exit code it ends with.
pub enum Failure {
    /// acme.yaml or arguments are wrong; the report points at the input.
    Input(miette::Report),
    /// The local file system refused.
    Local(miette::Report),
    /// AWS (or Kubernetes) failed or refused; the message carries the whole cause chain.
    Aws(miette::Report),
    /// acmectl refused to go on: data would be destroyed, protection is on, or the user said no.
    Refused(miette::Report),
    /// Ctrl-C.
    Interrupted(miette::Report),
    /// The check gate stopped a deploy: findings stand (exit 1, like `check`).
    Gate(miette::Report),
    /// Another run holds a host of the service being migrated.
    Locked(miette::Report),
}

impl Failure {
    /// Prints the failure (for people on stderr; for machines as JSON on stdout) and
    /// returns its exit code.
    pub fn report(self, format: OutputFormat) -> ExitCode {
        let (report, code, kind) = match self {
            Failure::Input(r) => (r, 2, "invalid_input"),
            Failure::Local(r) => (r, 3, "local"),
            Failure::Aws(r) => (r, 4, "aws"),
            Failure::Refused(r) => (r, 5, "refused"),
            Failure::Interrupted(r) => (r, 130, "interrupted"),
            Failure::Gate(r) => (r, 1, "findings"),
            Failure::Locked(r) => (r, 8, "locked"),
        };
        match format {
            // Input problems point into acme.yaml (miette draws the span); the others are
            // messages with their causes and a help line, printed as they are, unwrapped.
            OutputFormat::Text if code == 2 || code == 3 => eprintln!("{report:?}"),
            OutputFormat::Text => eprintln!("error: {report}"),
            OutputFormat::Json | OutputFormat::Sarif => println!("{:#}", failure_json(&report, kind)),
        }
        ExitCode::from(code)
    }
}

/// An error of the AWS adapter, with the exit code its kind calls for.
impl From<acme_aws::Error> for Failure {
    fn from(e: acme_aws::Error) -> Failure {
        use acme_aws::Error as E;
        let refused = matches!(e, E::Guarded { .. } | E::Protected { .. });
        let input = matches!(
            e,
            E::UnknownStack(_)
                | E::UnusedParameter(_)
                | E::MissingParameter { .. }
                | E::TemplateTooLarge { .. }
                | E::Preflight(_)
        );
        let interrupted = matches!(e, E::Interrupted { .. });
        let report = miette::Report::msg(e.to_string());
        if refused {
            Failure::Refused(report)
        } else if input {
            Failure::Input(report)
        } else if interrupted {
            Failure::Interrupted(report)
        } else {
            Failure::Aws(report)
        }
    }
}

fn failure_json(report: &miette::Report, kind: &str) -> serde_json::Value {
    let problems: Vec<serde_json::Value> = report
        .downcast_ref::<acme_spec::LoadError>()
        .map(|e| e.problems())
        .unwrap_or_default()
        .iter()
        .map(|p| {
            json!({
                "file": p.file,
                "line": p.line,
                "column": p.column,
                "field": p.field,
                "message": p.message,
                "help": p.help,
            })
        })
        .collect();
    json!({ "error": { "kind": kind, "message": report.to_string(), "problems": problems } })
}
