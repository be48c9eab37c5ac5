//! Errors a person can act on: each names the file, line and column, the field, what is
//! wrong and how to fix it. Rendered by miette with the offending line underlined.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// One problem with one field, before it is placed in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Field path, `services[2].routes[0].path`; empty for the whole file.
    pub field: String,
    pub message: String,
    pub help: String,
}

/// A problem placed in the file.
#[derive(Clone, Debug, Diagnostic)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
    #[help]
    pub help: Option<String>,
    #[source_code]
    source_code: NamedSource<Arc<str>>,
    #[label("{}", if field.is_empty() { "here" } else { field.as_str() })]
    span: SourceSpan,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Problem {
    pub fn new(file: &str, text: &Arc<str>, at: crate::locate::Position, issue: Issue) -> Problem {
        Problem {
            file: file.to_owned(),
            line: at.line,
            column: at.column,
            field: issue.field,
            message: issue.message,
            help: (!issue.help.is_empty()).then_some(issue.help),
            source_code: NamedSource::new(file, Arc::clone(text)),
            span: SourceSpan::new(at.offset.into(), at.len),
        }
    }
}

/// Why `acme.yaml` could not be loaded.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(help("pass the platform file with -f/--file; it defaults to ./acme.yaml"))]
    Read { path: PathBuf, source: std::io::Error },

    #[error("{file} is not valid: {} problem{}", problems.len(), if problems.len() == 1 { "" } else { "s" })]
    Invalid {
        file: String,
        #[related]
        problems: Vec<Problem>,
    },
}

impl LoadError {
    /// The placed problems; empty for a read error.
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Read { .. } => &[],
            LoadError::Invalid { problems, .. } => problems,
        }
    }
}
