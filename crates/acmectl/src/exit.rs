//! Exit codes are part of the interface: scripts branch on them.

use crate::cli::OutputFormat;
use serde_json::json;
use std::process::ExitCode;

pub const HELP: &str = "\
Exit codes:
  0  success
  1  findings or changes (check, plan)
  2  invalid input: acme.yaml or arguments
  3  local failure: reading or writing files
  4  AWS or Kubernetes failure";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Ok = 0,
    /// `check` found something, or the gate stopped `synth`.
    Findings = 1,
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
}

impl Failure {
    /// Prints the failure (for people on stderr; for machines as JSON on stdout) and
    /// returns its exit code.
    pub fn report(self, format: OutputFormat) -> ExitCode {
        let (report, code, kind) = match self {
            Failure::Input(r) => (r, 2, "invalid_input"),
            Failure::Local(r) => (r, 3, "local"),
        };
        match format {
            OutputFormat::Text => eprintln!("{report:?}"),
            OutputFormat::Json | OutputFormat::Sarif => println!("{:#}", failure_json(&report, kind)),
        }
        ExitCode::from(code)
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
