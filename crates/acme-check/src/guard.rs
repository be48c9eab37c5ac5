//! Users' own rules in AWS CloudFormation Guard, evaluated in process with the `cfn-guard`
//! crate (the engine of the `cfn-guard` CLI) over every synthesized template.
//!
//! Each rule that a template does not satisfy becomes a [`Finding`] like a built-in one: its
//! id is `GUARD-<file stem>-<rule name>`, its requirement names the rule file, its location
//! is the resource the failing clause looked at. A rule file that does not parse is a
//! [`GuardError`] naming the file; the engine never brings the process down (panics are caught).

use crate::{Finding, Fix, Location, RuleInfo};
use acme_synth::{Artifacts, StackName};
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// One `.guard` file: its path as shown to the user, and its text.
#[derive(Clone, Debug)]
pub struct RuleFile {
    pub path: String,
    pub text: String,
}

/// A rule file the engine rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardError {
    pub file: String,
    pub message: String,
}

impl std::fmt::Display for GuardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Evaluates every rule file over every template. Files that do not parse are all reported.
pub fn evaluate(files: &[RuleFile], artifacts: &Artifacts) -> Result<crate::Extra, Vec<GuardError>> {
    let templates: Vec<(StackName, String)> = artifacts
        .stacks
        .iter()
        .map(|s| (s.name, serde_json::to_string(&s.template.to_value()).unwrap_or_default()))
        .collect();
    let mut extra = crate::Extra::default();
    let mut errors = vec![];
    for file in files {
        match evaluate_file(file, &templates) {
            Ok((findings, rules)) => {
                extra.findings.extend(findings);
                extra.rules.extend(rules);
            }
            Err(message) => errors.push(GuardError { file: file.path.clone(), message }),
        }
    }
    if errors.is_empty() { Ok(extra) } else { Err(errors) }
}

/// `GUARD-<file stem>-<rule name>`.
pub fn rule_id(file: &str, rule: &str) -> String {
    let stem = std::path::Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    format!("GUARD-{stem}-{rule}")
}

fn evaluate_file(file: &RuleFile, templates: &[(StackName, String)]) -> Result<(Vec<Finding>, Vec<RuleInfo>), String> {
    let mut findings = vec![];
    let mut names = BTreeSet::new();
    let requirement = format!("your Guard rule file {}", file.path);
    for (stack, template) in templates {
        let data_name = format!("cloudformation/{stack}.yaml");
        let run = catch_unwind(AssertUnwindSafe(|| {
            cfn_guard::run_checks(
                cfn_guard::ValidateInput { content: template, file_name: &data_name },
                cfn_guard::ValidateInput { content: &file.text, file_name: &file.path },
                false,
            )
        }));
        let output = match run {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => return Err(clean(&e.to_string())),
            Err(_) => {
                return Err(
                    "the Guard engine failed on this file (it panicked); simplify the rule that changed last".into()
                );
            }
        };
        if output.trim().is_empty() {
            continue; // a file with no rules
        }
        let report: Value = serde_json::from_str(&output).map_err(|e| format!("unexpected Guard output: {e}"))?;
        for key in ["compliant", "not_applicable"] {
            for name in report.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                names.insert(name.to_owned());
            }
        }
        for failed in report.get("not_compliant").and_then(Value::as_array).into_iter().flatten() {
            let rule = failed.get("Rule").unwrap_or(failed);
            let name = rule.get("name").and_then(Value::as_str).unwrap_or("unnamed").to_owned();
            names.insert(name.clone());
            let mut messages = vec![];
            collect(rule, "custom_message", &mut messages);
            let custom = messages.iter().map(|m| m.trim()).find(|m| !m.is_empty()).map(str::to_owned);
            let mut errors = vec![];
            collect(rule, "error_message", &mut errors);
            let mut paths = vec![];
            collect(rule, "path", &mut paths);
            let mut resources: Vec<(String, Option<String>)> = vec![];
            for path in paths {
                if let Some(at) = resource_of(&path) {
                    if !resources.iter().any(|(id, _)| *id == at.0) {
                        resources.push(at);
                    }
                }
            }
            if resources.is_empty() {
                resources.push((String::new(), None));
            }
            let message = custom
                .clone()
                .or_else(|| errors.first().map(|e| e.trim().to_owned()))
                .unwrap_or_else(|| format!("rule {name} is not satisfied"));
            for (resource, property) in resources {
                findings.push(Finding {
                    rule: rule_id(&file.path, &name),
                    requirement: requirement.clone(),
                    location: Location::Cloudformation { stack: *stack, resource },
                    property,
                    message: message.clone(),
                    fix: Fix {
                        field: None,
                        text: "change the acme.yaml field or override that shapes this resource, or accept the finding in `check.accept` with a reason".into(),
                    },
                    cause: None,
                });
            }
        }
    }
    let rules = names
        .into_iter()
        .map(|name| RuleInfo {
            id: rule_id(&file.path, &name),
            requirement: requirement.clone(),
            title: format!("Guard rule {name}"),
            help: format!("Rule `{name}` of {}, evaluated over every synthesized template.", file.path),
        })
        .collect();
    Ok((findings, rules))
}

/// Every string under `key`, anywhere in `v`.
fn collect(v: &Value, key: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                if k == key {
                    if let Some(s) = inner.as_str() {
                        out.push(s.to_owned());
                        continue;
                    }
                }
                collect(inner, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, key, out)),
        _ => {}
    }
}

/// `/Resources/Database/Properties/MultiAZ` → (`Database`, `Properties.MultiAZ`).
fn resource_of(path: &str) -> Option<(String, Option<String>)> {
    let rest = path.strip_prefix("/Resources/")?;
    let mut parts = rest.split('/');
    let id = parts.next().filter(|s| !s.is_empty())?.to_owned();
    let mut property = String::new();
    for part in parts {
        if part.parse::<usize>().is_ok() {
            property.push_str(&format!("[{part}]"));
        } else {
            if !property.is_empty() {
                property.push('.');
            }
            property.push_str(part);
        }
    }
    Some((id, (!property.is_empty()).then_some(property)))
}

/// The engine wraps its parse errors in several layers of "Parser Error when parsing `...`";
/// keep the innermost sentence, which names the line and column.
fn clean(message: &str) -> String {
    let inner = message.rsplit("Parsing Error ").next().unwrap_or(message);
    let inner = inner.trim_end_matches(['`', '\n', ' ']);
    inner.split(", fragment").next().unwrap_or(inner).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_resource_and_property() {
        assert_eq!(
            resource_of("/Resources/Database/Properties/MultiAZ"),
            Some(("Database".into(), Some("Properties.MultiAZ".into())))
        );
        assert_eq!(
            resource_of("/Resources/Sg/Properties/SecurityGroupIngress/0/CidrIp"),
            Some(("Sg".into(), Some("Properties.SecurityGroupIngress[0].CidrIp".into())))
        );
        assert_eq!(resource_of("/Resources/Trail"), Some(("Trail".into(), None)));
        assert_eq!(resource_of("/Parameters/X"), None);
    }

    #[test]
    fn parse_errors_keep_the_line_and_column() {
        let raw = "Parser Error when parsing `Parser Error when parsing `Parsing Error Error parsing file bad.guard at line 2 at column 23, when handling expecting either a property access, fragment  \n``";
        assert_eq!(
            clean(raw),
            "Error parsing file bad.guard at line 2 at column 23, when handling expecting either a property access"
        );
    }
}
