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
//! - [`Deployer::teardown`] / [`Deployer::destroy`]: the platform's stacks deleted in
//!   reverse order, retained resources listed, deletion protection checked first.
//! - [`status`], [`preflight`], [`images`]: reading the platform's health, the account and
//!   Region before a change, image digests.
//!
//! Templates travel inline (`TemplateBody`) up to [`TEMPLATE_BODY_LIMIT`] bytes; larger ones
//! are staged in the keys stack's staging bucket under their content hash and passed as
//! `TemplateURL`; see [`template::body`].

mod changes;
pub mod config;
mod deploy;
mod destroy;
mod error;
pub mod guard;
pub mod images;
pub mod migration;
pub mod network;
mod placement;
mod plan;
pub mod preflight;
mod schedule;
mod stack;
pub mod status;
pub mod template;

pub use changes::{Cause, Change, IMMUTABLE, Judge, judge_replacements};
pub use deploy::Report;
pub use destroy::{Destroyed, Doomed, Kept, Protection, Teardown};
pub use error::Error;
pub use guard::{Allowances, Danger};
pub use placement::placement_of;
pub use plan::{ChangePlan, Request, StackAction, StackPlan};
pub use schedule::{Stop, StopHandle};
pub use stack::{
    Backoff, ChangeSet, ChangeSetKind, Deployed, Deployer, Event, Outcome, Prepared, StackResource, StackState,
};
pub use template::{Body, TEMPLATE_BODY_LIMIT, TemplateSource};
