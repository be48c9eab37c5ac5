//! Typed CloudFormation.
//!
//! [`Template`] holds resources whose properties are typed structs (one module per AWS
//! service under [`resources`], names spelled as in the CloudFormation specification).
//! Values that CloudFormation may compute are [`Expr`]s. Output is deterministic:
//! insertion order everywhere, rendered by [`yaml::to_string`].

mod condition;
mod expr;
pub mod resources;
mod template;
pub mod yaml;

pub use condition::{Cond, Condition, MAX_OPERANDS};
pub use expr::{Expr, ExprList};
pub use template::{
    Output, Parameter, ParameterType, Policy, Resource, ResourceProperties, Template, TooLargeInline, pascal, quotas,
};
