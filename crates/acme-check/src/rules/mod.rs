//! The built-in rules, one module per area. To add a rule: write its `evaluate` function in
//! the area's module, add a [`Rule`] with the next free id to that module's `RULES`, and add
//! a test in `tests/rules.rs` that breaks it through acme.yaml or an override.

use crate::Rule;
use serde_json::Value;

pub mod alarms;
pub mod backup;
pub mod buckets;
pub mod cluster;
pub mod database;
pub mod edge;
pub mod iam;
pub mod keys;
pub mod kubernetes;
pub mod network;
pub mod registry;
pub mod trail;

/// Every built-in rule, in report order.
pub fn all() -> Vec<&'static Rule> {
    [
        keys::RULES,
        edge::RULES,
        database::RULES,
        cluster::RULES,
        iam::RULES,
        network::RULES,
        kubernetes::RULES,
        trail::RULES,
        registry::RULES,
        buckets::RULES,
        alarms::RULES,
        backup::RULES,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `{Ref: id}` or `{Fn::GetAtt: [id, ...]}`.
pub(crate) fn refers_to(v: &Value, id: &str) -> bool {
    referenced_id(v) == Some(id)
}

/// The logical id (or parameter) a `Ref` or `Fn::GetAtt` names.
pub(crate) fn referenced_id(v: &Value) -> Option<&str> {
    let map = v.as_object()?;
    if map.len() != 1 {
        return None;
    }
    if let Some(id) = map.get("Ref") {
        return id.as_str();
    }
    map.get("Fn::GetAtt")?.as_array()?.first()?.as_str()
}

/// `true` or `"true"`, as CloudFormation reads booleans.
pub(crate) fn is_true(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case("true"))
}

/// A list property's items (a single value counts as one item; absent as none).
pub(crate) fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Null) | None => vec![],
        Some(other) => vec![other],
    }
}

/// A number or numeric string.
pub(crate) fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A key reference that names a customer-managed key: present, and not an AWS-managed
/// `alias/aws/...` key.
pub(crate) fn customer_key(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty() && !s.contains("alias/aws/"),
        Some(_) => true,
    }
}

/// Literal text of a value, for messages.
pub(crate) fn show(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(Value::String(s)) => format!("`{s}`"),
        Some(other) => format!("`{other}`"),
    }
}
