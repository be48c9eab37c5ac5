//! The report for people (text) and for machines (JSON).

use crate::{Finding, Report};
use acme_spec::Source;
use serde_json::json;
use std::fmt::Write;

/// Where a finding points in acme.yaml, as `file:line:column field`, when a field or an
/// override causes it.
fn cause(source: &Source, f: &Finding) -> Option<String> {
    let field = f.fix.field.as_deref()?;
    let (line, column) = source.line_column(field);
    Some(format!("{}:{line}:{column} {field}", source.file))
}

/// Text for a terminal: each finding with its requirement, what is wrong and the fix, then
/// the accepted ones with their reasons, then a summary line.
pub fn text(report: &Report, source: &Source) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let property = f.property.as_deref().map(|p| format!(" {p}")).unwrap_or_default();
        let _ = writeln!(out, "✗ {} {}{}", f.rule, f.location, property);
        let _ = writeln!(out, "    wrong:       {}", f.message);
        let _ = writeln!(out, "    requirement: {}", f.requirement);
        let at = cause(source, f).map(|at| format!(" ({at})")).unwrap_or_default();
        let _ = writeln!(out, "    fix:         {}{at}", f.fix.text);
    }
    for a in &report.accepted {
        let (line, _) = source.line_column(&a.by);
        let _ = writeln!(
            out,
            "~ {} {} accepted ({}:{line} {}): {}",
            a.finding.rule, a.finding.location, source.file, a.by, a.reason
        );
    }
    for u in &report.unused_accepts {
        let (line, _) = source.line_column(u);
        let _ = writeln!(out, "! {}:{line} {u} accepts nothing: no finding matches it; remove it", source.file);
    }
    let _ = writeln!(
        out,
        "check: {} finding{}, {} accepted, {} rules",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        report.accepted.len(),
        report.rules.len()
    );
    out
}

/// The report as JSON: findings (each with the acme.yaml place that causes it, if one does),
/// accepted findings with reasons, unused accepts and the rules evaluated.
pub fn json(report: &Report, source: &Source) -> serde_json::Value {
    let place = |field: &str| {
        let (line, column) = source.line_column(field);
        json!({ "file": source.file, "line": line, "column": column, "field": field })
    };
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut v = serde_json::to_value(f).unwrap_or_default();
            if let Some(field) = &f.fix.field {
                v["acme_yaml"] = place(field);
            }
            v
        })
        .collect();
    let accepted: Vec<serde_json::Value> = report
        .accepted
        .iter()
        .map(|a| json!({ "finding": a.finding, "reason": a.reason, "accepted_by": place(&a.by) }))
        .collect();
    let unused: Vec<serde_json::Value> = report.unused_accepts.iter().map(|u| place(u)).collect();
    json!({
        "passed": report.passed(),
        "findings": findings,
        "accepted": accepted,
        "unused_accepts": unused,
        "rules": report.rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fix, Location};
    use acme_synth::StackName;

    fn finding(field: Option<&str>) -> Finding {
        Finding {
            rule: "ACME-DB-006".into(),
            requirement: "Backups".into(),
            location: Location::resource(StackName::Data, "Database"),
            property: Some("Properties.MultiAZ".into()),
            message: "no standby".into(),
            fix: Fix { field: field.map(str::to_owned), text: "set it".into() },
            cause: None,
        }
    }

    #[test]
    fn the_fix_names_its_place_in_acme_yaml_when_it_has_one() {
        let source = Source::new("acme.yaml", "name: acme\ndatabase:\n  multi_az: false\n");
        let report = Report {
            findings: vec![finding(Some("database.multi_az")), finding(None)],
            accepted: vec![],
            unused_accepts: vec![],
            rules: vec![],
        };
        let fixes: Vec<String> =
            text(&report, &source).lines().filter(|l| l.contains("fix:")).map(str::to_owned).collect();
        assert_eq!(fixes, ["    fix:         set it (acme.yaml:3:13 database.multi_az)", "    fix:         set it"]);
    }
}
