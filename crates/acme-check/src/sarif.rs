//! SARIF 2.1.0, the format code-scanning UIs (GitHub, GitLab, Azure DevOps) read.
//!
//! Every rule evaluated is a `tool.driver.rules` entry with its requirement and help. A
//! finding caused by an acme.yaml field or override points at that line of acme.yaml;
//! otherwise at the resource's line in the synthesized template `out/cloudformation/<stack>.yaml`.
//! Accepted findings are results with an `inSource` suppression carrying the reason, so the
//! UI shows them as dismissed, not gone.

use crate::{Finding, Location, Report};
use acme_spec::Source;
use acme_synth::Artifacts;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders `report`. `out` is the output folder templates are written to (as `synth -o`).
pub fn render(report: &Report, source: &Source, artifacts: &Artifacts, out: &str) -> Value {
    let files = artifacts.files();
    let template_line = |stack: &str, resource: &str| -> Option<usize> {
        let text = files.get(&format!("cloudformation/{stack}.yaml"))?;
        let wanted = format!("  {resource}:");
        let mut in_resources = false;
        for (i, line) in text.lines().enumerate() {
            if !line.starts_with(' ') {
                in_resources = line == "Resources:";
            } else if in_resources && line == wanted {
                return Some(i + 1);
            }
        }
        None
    };
    let rule_index: BTreeMap<&str, usize> = report.rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let place = |field: &str| {
        let (line, column) = source.line_column(field);
        json!({
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&source.file) },
                "region": { "startLine": line, "startColumn": column }
            }
        })
    };
    let result = |f: &Finding| {
        let mut location = match (&f.fix.field, &f.location) {
            (Some(field), _) => place(field),
            (None, Location::Cloudformation { stack, resource }) => {
                let mut physical = json!({ "artifactLocation": { "uri": format!("{}/cloudformation/{stack}.yaml", out.trim_end_matches('/')) } });
                if let Some(line) = template_line(&stack.to_string(), resource) {
                    physical["region"] = json!({ "startLine": line });
                }
                json!({ "physicalLocation": physical })
            }
            (None, Location::Kubernetes { kind, namespace, name }) => {
                match object_line(&files, kind, namespace, name) {
                    Some((file, line)) => json!({ "physicalLocation": {
                        "artifactLocation": { "uri": format!("{}/{file}", out.trim_end_matches('/')) },
                        "region": { "startLine": line }
                    }}),
                    None => json!({}),
                }
            }
        };
        location["logicalLocations"] = json!([{ "fullyQualifiedName": f.location.to_string(), "kind": "resource" }]);
        let mut text = format!("{} ({}). Fix: {}", f.message, f.requirement, f.fix.text);
        if let Some(property) = &f.property {
            text = format!("{property}: {text}");
        }
        let mut r = json!({
            "ruleId": f.rule,
            "level": "error",
            "message": { "text": text },
            "locations": [location],
            "properties": { "requirement": f.requirement, "fix": f.fix.text },
        });
        if let Some(&i) = rule_index.get(f.rule.as_str()) {
            r["ruleIndex"] = json!(i);
        }
        r
    };
    let mut results: Vec<Value> = report.findings.iter().map(result).collect();
    for a in &report.accepted {
        let mut r = result(&a.finding);
        r["suppressions"] =
            json!([{ "kind": "inSource", "status": "accepted", "justification": a.reason, "location": place(&a.by) }]);
        results.push(r);
    }
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": format!("{} Enforces {}", r.title, r.requirement) },
                "help": { "text": r.help, "markdown": format!("**Requirement** {}\n\n{}", r.requirement, r.help) },
                "defaultConfiguration": { "level": "error" },
                "properties": { "requirement": r.requirement, "tags": ["security"] },
            })
        })
        .collect();
    let notifications: Vec<Value> = report
        .unused_accepts
        .iter()
        .map(|u| json!({ "level": "warning", "message": { "text": format!("{u} accepts no finding; remove it") }, "locations": [place(u)] }))
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "acmectl",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{ "executionSuccessful": true, "toolConfigurationNotifications": notifications }],
            "results": results,
        }]
    })
}

/// The Kubernetes manifest file and the line of the `kind:` of the object, if written.
fn object_line(files: &BTreeMap<String, String>, kind: &str, namespace: &str, name: &str) -> Option<(String, usize)> {
    for (path, text) in files.iter().filter(|(p, _)| p.starts_with("kubernetes/")) {
        let mut start = 0;
        let lines: Vec<&str> = text.lines().collect();
        for end in (0..=lines.len()).filter(|&i| i == lines.len() || lines[i] == "---") {
            let doc = &lines[start..end];
            let kind_line = doc.iter().position(|l| *l == format!("kind: {kind}"));
            let named = doc.contains(&format!("  name: {name}").as_str());
            let in_namespace = namespace.is_empty() || doc.contains(&format!("  namespace: {namespace}").as_str());
            if let (Some(k), true, true) = (kind_line, named, in_namespace) {
                return Some((path.clone(), start + k + 1));
            }
            start = end + 1;
        }
    }
    None
}

/// A file path as a relative URI reference (forward slashes, spaces escaped).
fn uri(path: &str) -> String {
    path.replace('\\', "/").replace(' ', "%20")
}
