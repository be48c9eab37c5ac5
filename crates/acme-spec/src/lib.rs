//! `acme.yaml` → [`Platform`]: the validated model every later stage reads.
//!
//! [`load_str`] parses the file ([`input`]), checks and resolves it ([`validate`]) and
//! reports every problem with its file, line, column, field and fix ([`diagnostic`]).
//! The model is plain data with every default resolved, so synthesis never has to guess.

pub mod diagnostic;
pub mod fixture;
pub mod input;
mod locate;
pub mod model;
pub mod validate;

pub use diagnostic::{Issue, LoadError, Problem};
pub use model::*;

use locate::{Locations, Position};
use std::path::Path;
use std::sync::Arc;

/// Largest file accepted: acme.yaml for hundreds of services is well under 1 MiB.
const MAX_FILE_BYTES: usize = 4 << 20;

/// Reads, parses and validates a platform file.
pub fn load_file(path: &Path) -> Result<Platform, LoadError> {
    Source::read(path)?.load()
}

/// Parses and validates platform text; `file` names it in diagnostics.
pub fn load_str(file: &str, text: &str) -> Result<Platform, LoadError> {
    Source::new(file, text).load()
}

/// The text of `acme.yaml` as read. Kept after loading so that later stages (overrides
/// applied by synthesis, accepted findings judged by check) can place their problems at
/// a line and column of the same file.
#[derive(Debug)]
pub struct Source {
    /// The file's name as given, used in every diagnostic.
    pub file: String,
    pub text: Arc<str>,
    locations: std::sync::OnceLock<Locations>,
}

impl Source {
    pub fn new(file: &str, text: &str) -> Source {
        Source { file: file.to_owned(), text: Arc::from(text), locations: std::sync::OnceLock::new() }
    }

    /// Reads a platform file; text that is not UTF-8 is a problem placed where it stops being so.
    pub fn read(path: &Path) -> Result<Source, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
        let file = path.display().to_string();
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source::new(&file, &text)),
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let text = String::from_utf8_lossy(valid).into_owned();
                let issue = Issue {
                    field: String::new(),
                    message: "the file is not UTF-8 text".into(),
                    help: "save acme.yaml as UTF-8".into(),
                };
                let at = end_of(&text);
                Err(invalid(&file, Arc::from(text), vec![(at, issue)]))
            }
        }
    }

    /// Parses and validates the text.
    pub fn load(&self) -> Result<Platform, LoadError> {
        let (file, text) = (self.file.as_str(), &*self.text);
        if text.len() > MAX_FILE_BYTES {
            let issue = Issue {
                field: String::new(),
                message: format!("the file is {} bytes, more than the {MAX_FILE_BYTES} acmectl reads", text.len()),
                help: "acme.yaml describes a platform; data does not belong in it".into(),
            };
            return Err(invalid(
                file,
                Arc::from(""),
                vec![(Position { line: 1, column: 1, offset: 0, len: 0 }, issue)],
            ));
        }
        let parsed: Result<input::PlatformFile, _> = serde_saphyr::from_str(text);
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => return Err(invalid(file, Arc::clone(&self.text), vec![parse_issue(text, &e)])),
        };
        let mut validator = validate::Validator::default();
        match validator.platform(parsed) {
            Some(platform) if validator.issues.is_empty() => Ok(platform),
            _ => Err(self.invalid(validator.issues)),
        }
    }

    /// Problems found after loading (by synthesis or check), each placed at its field.
    pub fn invalid(&self, issues: Vec<Issue>) -> LoadError {
        let placed = issues.into_iter().map(|issue| (self.position_of(&issue.field), issue)).collect();
        invalid(&self.file, Arc::clone(&self.text), placed)
    }

    /// 1-based line and column of a field path (or of its nearest ancestor in the file).
    pub fn line_column(&self, field: &str) -> (usize, usize) {
        let at = self.position_of(field);
        (at.line, at.column)
    }

    fn position_of(&self, field: &str) -> Position {
        let locations = self.locations.get_or_init(|| Locations::index(&self.text));
        locations.find(field).unwrap_or_else(|| end_of(&self.text))
    }
}

/// The 1-based line on which `text` writes `field` (a path such as `services[2].talks_to[0]`),
/// or `None` when it does not write it. Later stages use it to trace what they derive (a
/// network policy rule, say) back to the line of acme.yaml that asked for it.
pub fn field_line(text: &str, field: &str) -> Option<usize> {
    Locations::index(text).exact(field).map(|p| p.line)
}

/// JSON Schema of acme.yaml, for editors (`acmectl schema`).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(input::PlatformFile)).unwrap_or_default()
}

/// Problems share `text` with the [`Source`] they come from rather than copy the file.
fn invalid(file: &str, text: Arc<str>, issues: Vec<(Position, Issue)>) -> LoadError {
    let problems = issues.into_iter().map(|(at, issue)| Problem::new(file, &text, at, issue)).collect();
    LoadError::Invalid { file: file.to_owned(), problems }
}

fn end_of(text: &str) -> Position {
    let line = text.lines().count().max(1);
    Position { line, column: 1, offset: text.len(), len: 0 }
}

/// A syntax or shape error from the YAML deserializer, placed where it points.
fn parse_issue(text: &str, e: &serde_saphyr::Error) -> (Position, Issue) {
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or("invalid YAML");
    // The position is shown separately; drop the deserializer's own copy of it.
    let mut message = first.find(" at line ").map_or(first, |i| &first[..i]).to_owned();
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        message = format!("duplicate key `{}`", key.split(',').next().unwrap_or(key));
    }
    let reported = e.location().filter(|l| l.line() > 0).map(|l| (l.line() as usize, l.column().max(1) as usize));
    let (line, column) = match reported {
        _ if message.contains("found a tab") => first_tab_indent(text).or(reported),
        // serde reports a missing field where the mapping ends; point at where it starts.
        Some((line, column)) if message.starts_with("missing field") => Some(mapping_start(text, line, column)),
        other => other,
    }
    .unwrap_or((text.lines().count().max(1), 1));
    let help = if message.contains("unknown field") {
        "remove or rename the field; `acmectl schema` lists every field"
    } else if message.starts_with("missing field") {
        "add the field; `acmectl schema` describes it"
    } else if message.contains("unknown variant") {
        "use one of the listed values"
    } else if message.starts_with("duplicate key") {
        "keep one of the two: YAML does not allow a key twice in one mapping"
    } else if message.contains("found a tab") {
        "indent with spaces: YAML does not allow tabs for indentation"
    } else {
        "fix the YAML at this place; `acmectl schema` describes every field"
    };
    (position_at(text, line, column), Issue { field: String::new(), message, help: help.to_owned() })
}

/// The position of 1-based `line` and `column`, spanning the token there.
fn position_at(text: &str, line: usize, column: usize) -> Position {
    let line_start: usize = text.split_inclusive('\n').take(line - 1).map(str::len).sum();
    let line_text = text[line_start.min(text.len())..].lines().next().unwrap_or("");
    let in_line = line_text.char_indices().nth(column - 1).map_or(line_text.len(), |(i, _)| i);
    let len = line_text[in_line..].find([',', '}', ']']).unwrap_or(line_text.len() - in_line);
    Position { line, column, offset: (line_start + in_line).min(text.len()), len }
}

fn first_tab_indent(text: &str) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, l)| {
        let indent = &l[..l.len() - l.trim_start().len()];
        indent.find('\t').map(|col| (i + 1, col + 1))
    })
}

/// The first line of the block mapping whose keys start at `column` and which contains
/// `line`: walk up while lines stay at that indentation and are not a sequence item's `- `.
fn mapping_start(text: &str, line: usize, column: usize) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let indent = column - 1;
    let mut start = line.min(lines.len());
    while start > 1 {
        let current = lines[start - 1];
        let spaces = current.len() - current.trim_start_matches(' ').len();
        if spaces + 2 == indent && current[spaces..].starts_with("- ") {
            return (start, column);
        }
        let above = lines[start - 2];
        let above_spaces = above.len() - above.trim_start_matches(' ').len();
        let blank = above.trim().is_empty() || above.trim_start().starts_with('#');
        if !blank && above_spaces < indent && !(above_spaces + 2 == indent && above[above_spaces..].starts_with("- ")) {
            return (start, column);
        }
        start -= 1;
    }
    (start.max(1), column)
}
