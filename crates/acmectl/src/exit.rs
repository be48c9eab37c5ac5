//! Exit codes are part of the interface: scripts branch on them.

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
    pub fn report(self) -> ExitCode {
        let (report, code) = match self {
            Failure::Input(r) => (r, 2),
            Failure::Local(r) => (r, 3),
        };
        eprintln!("{report:?}");
        ExitCode::from(code)
    }
}
