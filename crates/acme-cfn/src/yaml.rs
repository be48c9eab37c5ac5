//! A small deterministic YAML writer for JSON-shaped values.
//!
//! Block style throughout; a string is written plain only when YAML 1.1 and 1.2 both read
//! it back as the same string, otherwise double-quoted with JSON escapes (valid YAML). A
//! multi-line value (a script in a CI workflow) is a literal block (`|`) when YAML reads that
//! back unchanged, so it stays readable.

use serde_json::Value;
use std::fmt::Write;

pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

/// Several documents in one stream, each opened by `---`: the multi-document YAML that
/// `kubectl apply -f`, server-side apply clients and the Kubernetes validators read.
pub fn to_documents<'a>(values: impl IntoIterator<Item = &'a Value>) -> String {
    let mut out = String::new();
    for value in values {
        out.push_str("---\n");
        out.push_str(&to_string(value));
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (k, v) in map {
        indent(out, level);
        out.push_str(&string_text(k));
        out.push(':');
        write_nested(out, v, level);
    }
}

fn write_seq(out: &mut String, seq: &[Value], level: usize) {
    for v in seq {
        indent(out, level);
        out.push('-');
        match v {
            Value::Object(m) if !m.is_empty() => {
                // First entry shares the dash line; the rest align under it.
                let mut first = true;
                for (k, inner) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    out.push_str(&string_text(k));
                    out.push(':');
                    write_nested(out, inner, level + 2);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_seq(out, a, level + 2);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, level + 2);
            }
        }
    }
}

fn write_nested(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, level + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, level + 2);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, level + 2);
        }
    }
}

/// A scalar after its key or dash, and the line end; a literal block's lines at `indent`.
fn write_scalar(out: &mut String, v: &Value, indent_to: usize) {
    if let Value::String(s) = v
        && let Some(header) = literal_header(s)
    {
        out.push_str(header);
        out.push('\n');
        for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
            if !line.is_empty() {
                indent(out, indent_to);
                out.push_str(line);
            }
            out.push('\n');
        }
        return;
    }
    out.push_str(&scalar_text(v));
    out.push('\n');
}

/// `|` (one final newline) or `|-` (none) when `s` spans lines and a literal block gives it
/// back unchanged: no control character but tab, no more than one final newline, and a first
/// line of content that does not start with a space (which would need an indentation
/// indicator) nor is followed only by empty lines.
fn literal_header(s: &str) -> Option<&'static str> {
    let body = s.strip_suffix('\n').unwrap_or(s);
    if !body.contains('\n') || body.ends_with('\n') || s.starts_with('\n') {
        return None;
    }
    if s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}') {
        return None;
    }
    if body.starts_with([' ', '\t']) {
        return None;
    }
    Some(if s.ends_with('\n') { "|" } else { "|-" })
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

fn string_text(s: &str) -> String {
    if is_plain_safe(s) {
        return s.to_owned();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(q, "\\u{:04x}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn is_plain_safe(s: &str) -> bool {
    const RESERVED: &[&str] = &["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "<<", "="];
    let Some(first) = s.chars().next() else { return false };
    if RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r)) || looks_numeric(s) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`. ".contains(first) || s.ends_with([' ', ':']) {
        return false;
    }
    s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@()*+=,$<>^?!%&~ ".contains(c))
        && !s.contains(": ")
        && !s.contains(" #")
}

/// Anything a YAML 1.1 or 1.2 reader could take for a number, date or time.
fn looks_numeric(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    body.starts_with(|c: char| c.is_ascii_digit())
        || body.starts_with(".inf")
        || body.starts_with(".nan")
        || body.eq_ignore_ascii_case(".inf")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quotes_what_yaml_would_reinterpret() {
        for s in ["true", "No", "1.34", "010", "", " lead", "a: b", "*", "-x", "2010-09-09", "x #y", "{a}"] {
            assert!(to_string(&json!(s)).starts_with('"'), "{s:?} must be quoted");
        }
        for s in ["acme-network", "AWS::EC2::VPC", "arn:aws:iam::aws:policy/Foo", "/api/*", "cron(0 5 * * ? *)"] {
            assert_eq!(to_string(&json!(s)), format!("{s}\n"), "{s:?} stays plain");
        }
    }

    #[test]
    fn nests_maps_and_sequences() {
        let v = json!({"A": {"B": [1, {"C": "d", "E": ["f"]}], "G": {}}, "H": []});
        assert_eq!(to_string(&v), "A:\n  B:\n    - 1\n    - C: d\n      E:\n        - f\n  G: {}\nH: []\n");
    }

    #[test]
    fn documents_are_each_opened_by_a_marker() {
        let docs = [json!({"kind": "A"}), json!({"kind": "B", "x": [1]})];
        assert_eq!(to_documents(&docs), "---\nkind: A\n---\nkind: B\nx:\n  - 1\n");
        assert_eq!(to_documents(&[]), "");
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_when_that_reads_back_the_same() {
        let v = json!({"run": "set -e\necho \"$X\" # no: quoting\n\nexit 0\n", "steps": ["a\nb"]});
        assert_eq!(
            to_string(&v),
            "run: |\n  set -e\n  echo \"$X\" # no: quoting\n\n  exit 0\nsteps:\n  - |-\n    a\n    b\n"
        );
        // Leading space, several final newlines, a leading newline, a carriage return: quoted.
        for s in [" a\nb", "a\nb\n\n", "\na\nb", "a\r\nb"] {
            assert!(to_string(&json!({"k": s})).starts_with("k: \""), "{s:?} must be quoted");
        }
    }

    #[test]
    fn a_yaml_reader_gives_back_every_string() {
        let strings = [
            "set -euo pipefail\nx=\"$(a --q 'b[?c==`d`]')\"\n",
            "key: value\n  indented # not a comment\n\ttab\n",
            "no final newline\nsecond",
            "- dash\n? question\n| pipe\n",
            "ünïcødé\n\n\nafter empty lines\n",
        ];
        for s in strings {
            for v in [json!({"k": s}), json!({"k": [s, {"n": s}]})] {
                let text = to_string(&v);
                let back: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(back, v, "{text}");
            }
        }
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(to_string(&json!("a\"b\\c\nd\u{1}")), "\"a\\\"b\\\\c\\nd\\u0001\"\n");
    }
}
