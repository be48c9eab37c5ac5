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
#[cfg(feature = "guard")]
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
    // Every gated verb (check, synth, deploy) comes through here, usually without a rule
    // file; the templates are serialized only for the Guard engine.
    if files.is_empty() {
        return Ok(crate::Extra::default());
    }
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
        let output = run_guard(&format!("cloudformation/{stack}.yaml"), template, file)?;
        if output.trim().is_empty() {
            continue; // a file with no rules
        }
        // The verbose record tree: its summary form loses everything past 8 KiB (cfn-guard
        // 3.2.1 reads only the unflushed part of its BufWriter), so it is not used.
        let record: Value = serde_json::from_str(&output).map_err(|e| format!("unexpected Guard output: {e}"))?;
        for rule in record.get("children").and_then(Value::as_array).into_iter().flatten() {
            let Some(check) = rule.pointer("/container/RuleCheck") else { continue };
            let name = check.get("name").and_then(Value::as_str).unwrap_or("unnamed").to_owned();
            names.insert(name.clone());
            if check.get("status").and_then(Value::as_str) != Some("FAIL") {
                continue;
            }
            let mut failed = vec![];
            failed_clauses(rule, &mut failed);
            let (mut custom, mut errors, mut paths) = (vec![], vec![], vec![]);
            for clause in failed {
                collect(clause, "custom_message", &mut custom);
                collect(clause, "message", &mut errors);
                collect(clause, "reason", &mut errors);
                collect(clause, "path", &mut paths);
            }
            let mut resources: Vec<(String, Option<String>)> = vec![];
            for path in paths {
                if let Some(at) = resource_of(&path)
                    && !resources.iter().any(|(id, _)| *id == at.0)
                {
                    resources.push(at);
                }
            }
            if resources.is_empty() {
                resources.push((String::new(), None));
            }
            let first = |texts: &[String]| texts.iter().map(|m| m.trim()).find(|m| !m.is_empty()).map(str::to_owned);
            let message =
                first(&custom).or_else(|| first(&errors)).unwrap_or_else(|| format!("rule {name} is not satisfied"));
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

/// The engine's verbose record of `file` over one template, as JSON text.
#[cfg(feature = "guard")]
fn run_guard(data_name: &str, template: &str, file: &RuleFile) -> Result<String, String> {
    let run = catch_unwind(AssertUnwindSafe(|| {
        cfn_guard::run_checks(
            cfn_guard::ValidateInput { content: template, file_name: data_name },
            cfn_guard::ValidateInput { content: &file.text, file_name: &file.path },
            true,
        )
    }));
    match run {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(e)) => Err(clean(&e.to_string())),
        Err(_) => Err("the Guard engine failed on this file (it panicked); simplify the rule that changed last".into()),
    }
}

#[cfg(not(feature = "guard"))]
fn run_guard(_: &str, _: &str, _: &RuleFile) -> Result<String, String> {
    Err("this acmectl was built without Guard support (cargo feature `guard`)".into())
}

/// The clause checks that failed under a rule, leaving out its `when` conditions and the
/// query filters (`[ Type == ... ]`, which "fail" on every resource they filter out).
fn failed_clauses<'a>(node: &'a Value, out: &mut Vec<&'a Value>) {
    let container = node.get("container");
    if container.is_some_and(|c| c.get("RuleCondition").is_some() || c.get("Filter").is_some()) {
        return;
    }
    if let Some(clause) = container.and_then(|c| c.get("ClauseValueCheck")).filter(|c| c.is_object()) {
        let mut statuses = vec![];
        collect(clause, "status", &mut statuses);
        if statuses.iter().any(|s| s == "FAIL") {
            out.push(clause);
        }
    }
    for child in node.get("children").and_then(Value::as_array).into_iter().flatten() {
        failed_clauses(child, out);
    }
}

/// Every string under `key`, anywhere in `v`.
fn collect(v: &Value, key: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                if k == key
                    && let Some(s) = inner.as_str()
                {
                    out.push(s.to_owned());
                    continue;
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

#[cfg_attr(not(feature = "guard"), allow(dead_code))]
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
