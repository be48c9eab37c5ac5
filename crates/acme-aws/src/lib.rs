//! The AWS adapter of acmectl: the only library crate that talks to AWS.
//!
//! - [`config`]: the SDK configuration (credential chain, profile, region, endpoint
//!   override, retries) and the one TLS crypto backend, aws-lc-rs.
//! - [`Deployer::plan`]: what a deploy would change, stack by stack, through change sets
//!   ([`ChangePlan`]); [`guard`] finds the changes that would destroy data.
//! - [`Deployer::apply`]: runs a reviewed plan, each stack as soon as its upstream stacks
//!   are done, passing their outputs to its parameters (no `Export`/`Fn::ImportValue`).
//! - [`Deployer::deploy_stack`]: one stack through a change set ([`Deployer::prepare`], then
//!   [`Deployer::execute`]).
//!
//! Templates travel inline (`TemplateBody`), so each must fit in [`TEMPLATE_BODY_LIMIT`]
//! bytes; see [`template_body`].

mod changes;
pub mod config;
mod deploy;
mod error;
pub mod guard;
mod plan;
mod stack;
mod template;

pub use changes::{Cause, Change, IMMUTABLE, Judge, judge_replacements};
pub use deploy::{Report, Stop, StopHandle};
pub use error::Error;
pub use guard::{Allowances, Danger};
pub use plan::{ChangePlan, Request, StackAction, StackPlan};
pub use stack::{
    Backoff, ChangeSet, ChangeSetKind, Deployed, Deployer, Event, Outcome, Prepared, StackResource, StackState,
};
pub use template::{TEMPLATE_BODY_LIMIT, template_body};
