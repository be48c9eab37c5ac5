//! CloudFormation conditions: a template's `Conditions` section, and values that depend on
//! one (`Fn::If`, with `AWS::NoValue` to leave a property or list item out).
//!
//! A condition is evaluated once per deploy from the stack's parameters, so a template can
//! carry two shapes of a resource and let a parameter choose; acmectl uses it for state it
//! keeps in the stack itself (which hosts have finished their migration).

use crate::Expr;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

/// Most conditions `Fn::And` and `Fn::Or` take at once.
pub const MAX_OPERANDS: usize = 10;

/// One entry of the `Conditions` section. Operands of `And`, `Or` and `Not` name other
/// conditions of the same template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Equals(Expr, Expr),
    /// 2..=[`MAX_OPERANDS`] conditions, all true.
    And(Vec<String>),
    /// 2..=[`MAX_OPERANDS`] conditions, one true.
    Or(Vec<String>),
    Not(String),
}

impl Condition {
    pub fn to_value(&self) -> Value {
        let names = |names: &[String]| names.iter().map(|n| json!({ "Condition": n })).collect::<Vec<_>>();
        match self {
            Condition::Equals(a, b) => json!({ "Fn::Equals": [a.to_value(), b.to_value()] }),
            Condition::And(operands) => json!({ "Fn::And": names(operands) }),
            Condition::Or(operands) => json!({ "Fn::Or": names(operands) }),
            Condition::Not(operand) => json!({ "Fn::Not": [{ "Condition": operand }] }),
        }
    }
}

/// A property value that may depend on a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond<T> {
    Always(T),
    /// `then` when the condition holds, else `otherwise`.
    If {
        condition: String,
        then: T,
        otherwise: T,
    },
    /// `value` when the condition holds, else nothing (`AWS::NoValue`): the property, or the
    /// list item, is left out.
    When {
        condition: String,
        value: T,
    },
}

impl<T> From<T> for Cond<T> {
    fn from(value: T) -> Self {
        Cond::Always(value)
    }
}

impl<T> Cond<T> {
    /// The value when `condition` holds and when it does not, `None` meaning left out.
    pub fn resolve(&self, holds: impl Fn(&str) -> bool) -> Option<&T> {
        match self {
            Cond::Always(value) => Some(value),
            Cond::If { condition, then, otherwise } => Some(if holds(condition) { then } else { otherwise }),
            Cond::When { condition, value } => holds(condition).then_some(value),
        }
    }
}

impl<T: Serialize> Serialize for Cond<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let value = |v: &T| serde_json::to_value(v).map_err(serde::ser::Error::custom);
        match self {
            Cond::Always(v) => v.serialize(s),
            Cond::If { condition, then, otherwise } => {
                json!({ "Fn::If": [condition, value(then)?, value(otherwise)?] }).serialize(s)
            }
            Cond::When { condition, value: v } => {
                json!({ "Fn::If": [condition, value(v)?, { "Ref": "AWS::NoValue" }] }).serialize(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_render_as_cloudformation_writes_them() {
        assert_eq!(
            Condition::Equals(Expr::r#ref("Migrated"), "true".into()).to_value(),
            json!({ "Fn::Equals": [{ "Ref": "Migrated" }, "true"] })
        );
        assert_eq!(
            Condition::And(vec!["A".into(), "B".into()]).to_value(),
            json!({ "Fn::And": [{ "Condition": "A" }, { "Condition": "B" }] })
        );
        assert_eq!(Condition::Not("A".into()).to_value(), json!({ "Fn::Not": [{ "Condition": "A" }] }));
    }

    #[test]
    fn conditional_values_render_fn_if_and_no_value() {
        let always: Cond<u32> = 3.into();
        assert_eq!(serde_json::to_value(&always).ok(), Some(json!(3)));
        let either = Cond::If { condition: "C".into(), then: 1, otherwise: 2 };
        assert_eq!(serde_json::to_value(&either).ok(), Some(json!({ "Fn::If": ["C", 1, 2] })));
        let when = Cond::When { condition: "C".into(), value: "x" };
        assert_eq!(serde_json::to_value(&when).ok(), Some(json!({ "Fn::If": ["C", "x", { "Ref": "AWS::NoValue" }] })));
        assert_eq!(either.resolve(|c| c == "C"), Some(&1));
        assert_eq!(either.resolve(|_| false), Some(&2));
        assert_eq!(when.resolve(|_| false), None);
    }
}
