//! The AWS adapter of acmectl: the only library crate that talks to AWS.
//!
//! - [`config`]: the SDK configuration (credential chain, profile, region, endpoint
//!   override, retries) and the one TLS crypto backend, aws-lc-rs.
//! - [`Deployer`]: one stack through a CloudFormation change set
//!   ([`Deployer::deploy_stack`], or [`Deployer::prepare`] then [`Deployer::execute`]),
//!   and a whole [`acme_synth::Plan`] wave by wave ([`Deployer::deploy`]), passing upstream
//!   outputs to downstream parameters (no `Export`/`Fn::ImportValue`).
//!
//! Templates travel inline (`TemplateBody`), so each must fit in [`TEMPLATE_BODY_LIMIT`]
//! bytes; see [`template_body`].

pub mod config;
mod error;
mod plan;
mod stack;
mod template;

pub use error::Error;
pub use plan::{Report, Request};
pub use stack::{Backoff, Change, ChangeSet, ChangeSetKind, Deployed, Deployer, Event, Outcome, Prepared, StackState};
pub use template::{TEMPLATE_BODY_LIMIT, template_body};
