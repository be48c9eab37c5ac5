//! The escape hatch: `overrides:` in acme.yaml patch synthesized resources, the way CDK's
//! `addPropertyOverride` and Copilot's YAML patches do. They are applied after synthesis and
//! before `check`, so a patch that weakens a resource is judged like any other change.
//!
//! A patch that names a stack, resource or property that does not exist is an error at its
//! line of acme.yaml with the nearest names: a typo must never silently patch nothing.

use crate::{Artifacts, StackName};
use acme_spec::validate::{edit_distance, nearest, nearest_names};
use acme_spec::{Issue, Override, OverrideAction, PathStep, path_text};
use serde_json::Value;

/// How many names a "did you mean" lists when nothing is close.
const SUGGESTIONS: usize = 6;

impl Artifacts {
    /// Applies `overrides` in order (a later one may patch what an earlier one added). Each one
    /// that cannot apply is an [`Issue`] at `overrides[i]`'s field. On error the artifacts are
    /// partly patched and must not be used.
    pub fn apply_overrides(&mut self, overrides: &[Override]) -> Result<(), Vec<Issue>> {
        let mut issues = vec![];
        for (i, o) in overrides.iter().enumerate() {
            if let Err(issue) = self.apply(i, o) {
                issues.push(issue);
            }
        }
        if issues.is_empty() { Ok(()) } else { Err(issues) }
    }

    fn apply(&mut self, i: usize, o: &Override) -> Result<(), Issue> {
        let at = |field: &str| format!("overrides[{i}].{field}");
        let names: Vec<String> = self.stacks.iter().map(|s| s.name.to_string()).collect();
        let Some(stack) = self.stacks.iter_mut().find(|s| s.name.to_string() == o.stack) else {
            let help = match StackName::parse(&o.stack) {
                Some(StackName::Data | StackName::Backup) => {
                    format!("this platform has no {} stack (it has no database); stacks: {}", o.stack, names.join(", "))
                }
                Some(_) => format!(
                    "this platform has no {} stack (its routes fit fewer load balancers); stacks: {}",
                    o.stack,
                    names.join(", ")
                ),
                None => suggest(&o.stack, names.iter().map(String::as_str), "stacks"),
            };
            return Err(Issue { field: at("stack"), message: format!("there is no stack `{}`", o.stack), help });
        };
        let stack_name = stack.name;
        let ids: Vec<&str> = stack.template.resources.keys().map(String::as_str).collect();
        if !stack.template.resources.contains_key(&o.resource) {
            let help = suggest(&o.resource, ids.iter().copied(), &format!("resources of the {stack_name} stack"));
            return Err(Issue {
                field: at("resource"),
                message: format!("the {stack_name} stack has no resource `{}`", o.resource),
                help,
            });
        }
        let resource = stack.template.resources.get_mut(&o.resource).unwrap_or_else(|| unreachable!("checked above"));
        if !resource.properties.is_object() {
            resource.properties = Value::Object(serde_json::Map::new());
        }
        patch(&mut resource.properties, &o.path, &o.action).map_err(|(message, help)| Issue {
            field: at("path"),
            message: format!("{}/{}: {message}", stack_name, o.resource),
            help,
        })
    }
}

/// "did you mean `X`?" when one name is close, else the few nearest.
fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str> + Clone, what: &str) -> String {
    match nearest(word, candidates.clone()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("nearest {what}: {}", nearest_names(word, candidates, SUGGESTIONS).join(", ")),
    }
}

/// Walks `steps` below `properties` and sets or removes the last one.
fn patch(properties: &mut Value, steps: &[PathStep], action: &OverrideAction) -> Result<(), (String, String)> {
    let (last, parents) = steps.split_last().ok_or_else(|| ("the path is empty".to_owned(), String::new()))?;
    let mut current = properties;
    for (depth, step) in parents.iter().enumerate() {
        let here = path_text(&steps[..depth]);
        current = step_into(current, step, &here)?;
    }
    let here = path_text(parents);
    match (current, last, action) {
        (Value::Object(map), PathStep::Key(key), OverrideAction::Set(value)) => {
            if !map.contains_key(key) {
                // Adding a property is allowed, but not one that is a typo of an existing one:
                // the same name in other case, or one or two characters off.
                if let Some(close) = near_miss(key, map.keys().map(String::as_str)) {
                    return Err((
                        format!("`{here}` has no `{key}`"),
                        format!("did you mean `{close}`? (a new property may not be a near-miss of an existing one)"),
                    ));
                }
            }
            map.insert(key.clone(), value.clone());
            Ok(())
        }
        (Value::Object(map), PathStep::Key(key), OverrideAction::Remove) => match map.shift_remove(key) {
            Some(_) => Ok(()),
            None => Err(missing_key(&here, key, map)),
        },
        (Value::Array(items), PathStep::Index(i), OverrideAction::Set(value)) => {
            if *i < items.len() {
                items[*i] = value.clone();
                Ok(())
            } else if *i == items.len() {
                items.push(value.clone());
                Ok(())
            } else {
                Err(out_of_range(&here, *i, items.len(), true))
            }
        }
        (Value::Array(items), PathStep::Index(i), OverrideAction::Remove) => {
            if *i < items.len() {
                items.remove(*i);
                Ok(())
            } else {
                Err(out_of_range(&here, *i, items.len(), false))
            }
        }
        (other, step, _) => Err(wrong_shape(&here, other, step)),
    }
}

fn near_miss<'a>(key: &str, existing: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    existing
        .filter(|e| e.eq_ignore_ascii_case(key) || (key.len() >= 6 && edit_distance(key, e) <= 2))
        .min_by_key(|e| edit_distance(key, e))
}

fn step_into<'v>(current: &'v mut Value, step: &PathStep, here: &str) -> Result<&'v mut Value, (String, String)> {
    match (current, step) {
        (Value::Object(map), PathStep::Key(key)) => {
            if !map.contains_key(key) {
                return Err(missing_key(here, key, map));
            }
            Ok(map.get_mut(key).unwrap_or_else(|| unreachable!("checked above")))
        }
        (Value::Array(items), PathStep::Index(i)) => {
            let len = items.len();
            items.get_mut(*i).ok_or_else(|| out_of_range(here, *i, len, false))
        }
        (other, step) => Err(wrong_shape(here, other, step)),
    }
}

fn missing_key(here: &str, key: &str, map: &serde_json::Map<String, Value>) -> (String, String) {
    let help = if map.is_empty() {
        format!("`{here}` is empty")
    } else {
        suggest(key, map.keys().map(String::as_str), &format!("properties of `{here}`"))
    };
    (format!("`{here}` has no `{key}`"), help)
}

fn out_of_range(here: &str, i: usize, len: usize, may_append: bool) -> (String, String) {
    let append = if may_append { format!(", or [{len}] to append") } else { String::new() };
    let help = if len == 0 {
        format!("`{here}` is an empty list{}", if may_append { "; use [0] to add an item" } else { "" })
    } else {
        format!("use an index from [0] to [{}]{append}", len - 1)
    };
    (format!("`{here}` has {len} item{}, no [{i}]", if len == 1 { "" } else { "s" }), help)
}

fn wrong_shape(here: &str, value: &Value, step: &PathStep) -> (String, String) {
    let (is, help) = match value {
        Value::Array(items) => {
            ("a list", format!("index it: `{here}[0]` to `{here}[{}]`", items.len().saturating_sub(1)))
        }
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(SUGGESTIONS).collect();
            ("a mapping", format!("name one of its properties: {}", keys.join(", ")))
        }
        _ => ("a single value", format!("set `{here}` itself")),
    };
    let wanted = match step {
        PathStep::Key(k) => format!("`.{k}`"),
        PathStep::Index(i) => format!("`[{i}]`"),
    };
    (format!("`{here}` is {is}, so {wanted} does not apply"), help)
}

#[cfg(test)]
mod tests {
    use super::*;
    use acme_spec::fixture;
    use acme_spec::validate::parse_property_path;
    use serde_json::json;

    fn set(stack: &str, resource: &str, path: &str, value: Value) -> Override {
        Override {
            stack: stack.into(),
            resource: resource.into(),
            path: parse_property_path(path).expect("test path"),
            action: OverrideAction::Set(value),
        }
    }

    fn remove(stack: &str, resource: &str, path: &str) -> Override {
        Override { action: OverrideAction::Remove, ..set(stack, resource, path, Value::Null) }
    }

    fn patched(overrides: &[Override]) -> Result<Artifacts, Vec<Issue>> {
        let mut a = crate::synthesize(&fixture::acme());
        a.apply_overrides(overrides).map(|()| a)
    }

    fn database(a: &Artifacts) -> &acme_cfn::Resource {
        &a.stack(StackName::Data).expect("data stack").template.resources["Database"]
    }

    #[test]
    fn sets_replaces_adds_and_removes_properties() {
        let a = patched(&[
            set("data", "Database", "Properties.MultiAZ", json!(false)),
            set("data", "Database", "Properties.EnableCloudwatchLogsExports[1]", json!("upgrade-2")),
            set("data", "Database", "Properties.EnableCloudwatchLogsExports[3]", json!("appended")),
            set("data", "Database", "Properties.Tags", json!([{ "Key": "team", "Value": "db" }])),
            remove("data", "Database", "Properties.PerformanceInsightsRetentionPeriod"),
        ])
        .expect("all apply");
        let db = database(&a);
        assert_eq!(db.property("MultiAZ"), Some(&json!(false)));
        assert_eq!(
            db.property("EnableCloudwatchLogsExports"),
            Some(&json!(["postgresql", "upgrade-2", "iam-db-auth-error", "appended"]))
        );
        assert_eq!(db.property("Tags.0.Key"), Some(&json!("team")));
        assert_eq!(db.property("PerformanceInsightsRetentionPeriod"), None);
        // A new property close to, but not a typo of, an existing one is added.
        let a = patched(&[set("data", "Database", "Properties.MasterUserPassword", json!("x"))]).expect("applies");
        assert_eq!(database(&a).property("MasterUserPassword"), Some(&json!("x")));
        // Removal keeps the order of the other properties (the rendered template stays stable).
        let keys: Vec<&String> = db.properties.as_object().expect("object").keys().collect();
        assert_eq!(
            keys.iter().position(|k| *k == "EnablePerformanceInsights").map(|i| keys[i + 1].as_str()),
            Some("PerformanceInsightsKMSKeyId")
        );
    }

    #[test]
    fn unknown_stack_resource_and_property_name_the_nearest() {
        let issues = patched(&[
            set("dta", "Database", "Properties.MultiAZ", json!(false)),
            set("data", "Databse", "Properties.MultiAZ", json!(false)),
            set("data", "Database", "Properties.MultiAz", json!(false)),
            remove("data", "Database", "Properties.Nothing"),
            set("data", "Database", "Properties.VPCSecurityGroups[5]", json!("sg-1")),
            set("data", "Database", "Properties.MultiAZ.Inner", json!(1)),
        ])
        .expect_err("every override is wrong");
        let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "overrides[0].stack",
                "overrides[1].resource",
                "overrides[2].path",
                "overrides[3].path",
                "overrides[4].path",
                "overrides[5].path"
            ]
        );
        assert!(issues[0].help.contains("`data`"), "{:?}", issues[0]);
        assert!(issues[1].help.contains("`Database`"), "{:?}", issues[1]);
        assert!(issues[2].help.contains("`MultiAZ`"), "{:?}", issues[2]);
        assert!(
            issues[3].message.contains("no `Nothing`") && issues[3].help.contains("nearest properties"),
            "{:?}",
            issues[3]
        );
        assert!(
            issues[4].message.contains("1 item, no [5]") && issues[4].help.contains("[1] to append"),
            "{:?}",
            issues[4]
        );
        assert!(issues[5].message.contains("a single value"), "{:?}", issues[5]);
    }

    #[test]
    fn a_stack_the_platform_does_not_have_says_why() {
        let mut p = fixture::acme();
        p.database = None;
        let mut a = crate::synthesize(&p);
        let issues = a
            .apply_overrides(&[set("data", "Database", "Properties.MultiAZ", json!(false))])
            .expect_err("no data stack");
        assert!(issues[0].help.contains("no database"), "{:?}", issues[0]);
    }

    #[test]
    fn later_overrides_see_earlier_ones() {
        let a = patched(&[
            set("data", "Database", "Properties.Tags", json!([])),
            set("data", "Database", "Properties.Tags[0]", json!({ "Key": "a", "Value": "b" })),
        ])
        .expect("second patches what the first added");
        assert_eq!(database(&a).property("Tags.0.Value"), Some(&json!("b")));
    }
}
