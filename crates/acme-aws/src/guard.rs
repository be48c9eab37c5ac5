//! The data-loss guard (DESIGN.md decision 3): a deploy stops before it replaces or removes
//! a resource that holds data, naming it, unless the user allowed exactly that resource with
//! `--allow-replace <stack>/<LogicalId>`.
//!
//! Which resources hold data is decided in one place: the types in
//! [`acme_synth::stacks::STATEFUL_TYPES`] (held to `Retain`/`Snapshot` by acme-synth's contract
//! test), plus any resource that its template, deployed or new, gives a `DeletionPolicy` of
//! `Retain` or `Snapshot` (log groups with audit data, ...).

use crate::Change;
use acme_cfn::Template;
use acme_synth::stacks::STATEFUL_TYPES;
use acme_synth::{Plan, StackName};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

/// Resources the user allowed to be replaced or removed: `(stack name, logical id)`, stack
/// names as in the account (`acme-data`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowances(BTreeSet<(String, String)>);

impl Allowances {
    /// Parse `--allow-replace` values, `<stack>/<LogicalId>`, where `<stack>` is the short
    /// name (`data`) or the stack's name in the account (`acme-data`).
    pub fn parse<'a>(plan: &Plan, values: impl IntoIterator<Item = &'a str>) -> Result<Allowances, String> {
        let mut set = BTreeSet::new();
        for value in values {
            let Some((stack, logical_id)) = value.split_once('/').filter(|(s, l)| !s.is_empty() && !l.is_empty())
            else {
                return Err(format!("--allow-replace {value}: expected <stack>/<LogicalId>, e.g. data/Database"));
            };
            let found = plan.stacks.iter().find(|s| s.name.to_string() == stack || s.stack_name == stack);
            let Some(found) = found else {
                let names: Vec<String> = plan.stacks.iter().map(|s| s.name.to_string()).collect();
                return Err(format!(
                    "--allow-replace {value}: no stack {stack} in this platform; one of: {}",
                    names.join(", ")
                ));
            };
            set.insert((found.stack_name.clone(), logical_id.to_owned()));
        }
        Ok(Allowances(set))
    }

    pub fn allows(&self, stack_name: &str, logical_id: &str) -> bool {
        self.0.iter().any(|(s, l)| s == stack_name && l == logical_id)
    }

    /// Allowances that matched none of `dangers`: likely a typo, worth a word.
    pub fn unused(&self, dangers: &[Danger]) -> Vec<String> {
        self.0
            .iter()
            .filter(|(s, l)| !dangers.iter().any(|d| &d.stack_name == s && &d.change.logical_id == l))
            .map(|(s, l)| format!("{s}/{l}"))
            .collect()
    }

    pub fn insert(&mut self, stack_name: &str, logical_id: &str) {
        self.0.insert((stack_name.to_owned(), logical_id.to_owned()));
    }
}

/// A change that would replace or remove a resource holding data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Danger {
    pub stack: StackName,
    pub stack_name: String,
    pub change: Change,
    /// Whether `--allow-replace` names it.
    pub allowed: bool,
}

impl fmt::Display for Danger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.change.action == "Remove" { "remove" } else { "replace" };
        write!(f, "{}/{} ({}) would be {what}d", self.stack, self.change.logical_id, self.change.resource_type)?;
        if let Some(id) = &self.change.physical_id {
            write!(f, " [{id}]")?;
        }
        let props = self.change.replacing_properties();
        if !props.is_empty() {
            write!(f, ": {} changed", props.join(", "))?;
        }
        Ok(())
    }
}

/// Whether a resource holds data: a stateful type, or retained by either template.
fn holds_data(logical_id: &str, resource_type: &str, new: Option<&Template>, deployed: Option<&Value>) -> bool {
    let keeps = |policy: Option<&str>| matches!(policy, Some("Retain" | "Snapshot"));
    STATEFUL_TYPES.contains(&resource_type)
        || new
            .and_then(|t| t.resources.get(logical_id))
            .is_some_and(|r| r.deletion_policy.is_some_and(|p| p != acme_cfn::Policy::Delete))
        || deployed.is_some_and(|t| {
            keeps(t.pointer(&format!("/Resources/{logical_id}/DeletionPolicy")).and_then(Value::as_str))
                || keeps(t.pointer(&format!("/Resources/{logical_id}/UpdateReplacePolicy")).and_then(Value::as_str))
        })
}

/// Mark the changes to resources that hold data (see the module doc).
pub fn mark(changes: &mut [Change], new: Option<&Template>, deployed: Option<&Value>) {
    for c in changes {
        c.holds_data = holds_data(&c.logical_id, &c.resource_type, new, deployed);
    }
}

/// The changes of one stack that may destroy data, each marked allowed or not.
pub fn dangers(stack: StackName, stack_name: &str, changes: &[Change], allowances: &Allowances) -> Vec<Danger> {
    changes
        .iter()
        .filter(|c| c.holds_data && c.may_destroy())
        .map(|c| Danger {
            stack,
            stack_name: stack_name.to_owned(),
            change: c.clone(),
            allowed: allowances.allows(stack_name, &c.logical_id),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: &str, logical_id: &str, resource_type: &str, replacement: Option<&str>) -> Change {
        Change {
            action: action.into(),
            logical_id: logical_id.into(),
            resource_type: resource_type.into(),
            physical_id: None,
            replacement: replacement.map(Into::into),
            causes: vec![],
            holds_data: false,
        }
    }

    #[test]
    fn stateful_types_and_retained_resources_hold_data() {
        let artifacts = acme_synth::synthesize(&acme_spec::fixture::acme());
        let data = artifacts.stack(StackName::Data).expect("data stack");
        let mut changes = vec![
            change("Modify", "Database", "AWS::RDS::DBInstance", Some("True")),
            change("Modify", "DatabaseParameterGroup", "AWS::RDS::DBParameterGroup", Some("True")),
            change("Remove", "PostgresqlLogGroup", "AWS::Logs::LogGroup", None),
            change("Remove", "OldAuditGroup", "AWS::Logs::LogGroup", None),
        ];
        let deployed = serde_json::json!({"Resources": {"OldAuditGroup": {"DeletionPolicy": "Retain"}}});
        mark(&mut changes, Some(&data.template), Some(&deployed));
        let marked: Vec<bool> = changes.iter().map(|c| c.holds_data).collect();
        assert_eq!(marked, [true, false, true, true]);

        let mut allow = Allowances::default();
        allow.insert("acme-data", "Database");
        let found = dangers(StackName::Data, "acme-data", &changes, &allow);
        let summary: Vec<(&str, bool)> = found.iter().map(|d| (d.change.logical_id.as_str(), d.allowed)).collect();
        assert_eq!(summary, [("Database", true), ("PostgresqlLogGroup", false), ("OldAuditGroup", false)]);
        assert_eq!(found[1].to_string(), "data/PostgresqlLogGroup (AWS::Logs::LogGroup) would be removed");
    }

    #[test]
    fn every_retained_resource_of_every_stack_is_guarded() {
        let artifacts = acme_synth::synthesize(&acme_spec::fixture::acme());
        for s in &artifacts.stacks {
            for (id, r) in &s.template.resources {
                let retained = r.deletion_policy.is_some_and(|p| p != acme_cfn::Policy::Delete);
                if retained {
                    assert!(holds_data(id, r.resource_type, Some(&s.template), None), "{}/{id}", s.name);
                }
            }
        }
    }

    #[test]
    fn allowances_name_a_stack_of_the_plan_and_a_logical_id() {
        let artifacts = acme_synth::synthesize(&acme_spec::fixture::acme());
        let allow = Allowances::parse(&artifacts.plan, ["data/Database", "acme-keys/DataKey"]).expect("valid");
        assert!(allow.allows("acme-data", "Database"));
        assert!(allow.allows("acme-keys", "DataKey"));
        assert!(!allow.allows("acme-data", "DataKey"));
        let err = Allowances::parse(&artifacts.plan, ["database/Database"]).expect_err("no such stack");
        assert!(err.contains("no stack database") && err.contains("data"), "{err}");
        let err = Allowances::parse(&artifacts.plan, ["Database"]).expect_err("no stack");
        assert!(err.contains("expected <stack>/<LogicalId>"), "{err}");
    }
}
