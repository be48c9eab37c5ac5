//! Where each field of the file is: a map from field paths (`services[2].routes[0].path`)
//! to source positions, built from the YAML parser's events.
//!
//! Validation works on plain typed values and reports paths; this index turns a path back
//! into line and column. A path that is not in the file (a missing field) resolves to its
//! nearest ancestor that is.

use serde_saphyr::granit_parser::{self, Event, Parser};
use std::collections::HashMap;

/// A position in the source: 1-based line and column, and the byte range of the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
    pub len: usize,
}

#[derive(Debug, Default)]
pub struct Locations {
    nodes: HashMap<String, Position>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

impl Locations {
    /// Indexes `text`. Unparseable text yields what was indexed before the error; the
    /// deserializer reports the error itself.
    pub fn index(text: &str) -> Locations {
        let mut nodes = HashMap::new();
        let mut stack: Vec<Frame> = vec![];
        let line_starts = line_starts(text);
        let position = |marker: &granit_parser::Marker, end: &granit_parser::Marker| {
            let offset = byte_offset(text, &line_starts, marker.line(), marker.col());
            let end_offset = byte_offset(text, &line_starts, end.line(), end.col());
            Position { line: marker.line(), column: marker.col() + 1, offset, len: end_offset.saturating_sub(offset) }
        };
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let here = position(&span.start, &span.end);
            match event {
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { key: key @ None, path }) = stack.last_mut() {
                        // A scalar in key position: remember it; the key's own position
                        // stands for the value until the value arrives.
                        let child = join_key(path, &value);
                        nodes.insert(child, here);
                        *key = Some(value.into_owned());
                        continue;
                    }
                    if let Some(path) = child_path(&mut stack) {
                        nodes.insert(path, here);
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let path = child_path(&mut stack).unwrap_or_default();
                    nodes.entry(path.clone()).or_insert(here);
                    stack.push(match event {
                        Event::MappingStart(..) => Frame::Map { path, key: None },
                        _ => Frame::Seq { path, next: 0 },
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    // The finished collection was the value of its parent's key.
                    if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                        *key = None;
                    }
                }
                Event::Alias(_) => {
                    let _ = child_path(&mut stack);
                }
                _ => {}
            }
        }
        Locations { nodes }
    }

    /// The position of `path` itself, if the file writes it.
    pub fn exact(&self, path: &str) -> Option<Position> {
        self.nodes.get(path).copied()
    }

    /// The position of `path`, or of its nearest ancestor in the file.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut p = path;
        loop {
            if let Some(pos) = self.nodes.get(p) {
                return Some(*pos);
            }
            match p.rfind(['.', '[']) {
                Some(cut) if cut > 0 => p = &p[..cut],
                _ => return self.nodes.get("").copied(),
            }
        }
    }
}

/// The path of the next value in the innermost collection, advancing it.
fn child_path(stack: &mut [Frame]) -> Option<String> {
    match stack.last_mut()? {
        Frame::Map { path, key } => {
            let child = join_key(path, key.as_deref()?);
            *key = None;
            Some(child)
        }
        Frame::Seq { path, next } => {
            let child = format!("{path}[{next}]");
            *next += 1;
            Some(child)
        }
    }
}

fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

/// Byte offset of a 1-based line and 0-based character column.
fn byte_offset(text: &str, line_starts: &[usize], line: usize, col: usize) -> usize {
    let Some(&start) = line_starts.get(line.saturating_sub(1)) else { return text.len() };
    text[start..].char_indices().nth(col).map_or(text.len(), |(i, _)| start + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: acme\nservices:\n  - name: web\n    routes:\n      - host: www.example.com\n        path: /x\n  - name: api\n    talks_to: [web, auth]\n";

    #[test]
    fn finds_nested_fields_by_path() {
        let l = Locations::index(TEXT);
        assert_eq!(l.find("name").map(|p| (p.line, p.column)), Some((1, 7)));
        assert_eq!(l.find("services[0].name").map(|p| (p.line, p.column)), Some((3, 11)));
        assert_eq!(l.find("services[0].routes[0].path").map(|p| (p.line, p.column)), Some((6, 15)));
        assert_eq!(l.find("services[1].talks_to[1]").map(|p| (p.line, p.column)), Some((8, 21)));
    }

    #[test]
    fn a_missing_field_resolves_to_its_parent() {
        let l = Locations::index(TEXT);
        assert_eq!(l.find("services[1].health.path").map(|p| p.line), Some(7));
        assert_eq!(l.find("database.engine").map(|p| p.line), Some(1));
    }

    #[test]
    fn offsets_cover_the_node_text() {
        let l = Locations::index(TEXT);
        let p = l.find("services[0].routes[0].host").expect("indexed");
        assert_eq!(&TEXT[p.offset..p.offset + p.len], "www.example.com");
    }

    #[test]
    fn survives_broken_yaml() {
        let l = Locations::index("a: [1, 2\nb: {");
        assert!(l.find("a[0]").is_some());
    }
}
