//! Synthesis: [`synthesize`] turns a validated [`Platform`] into [`Artifacts`].
//!
//! Pure: no clock, no randomness, no I/O. The same platform always gives byte-identical
//! artifacts. One module per stack under [`stacks`]; [`Stack`] records which upstream
//! outputs each stack takes as parameters, and the [`Plan`] is derived from that.
//! [`kubernetes`] builds the in-cluster half: every service's Kubernetes objects;
//! [`pipelines`] the CI/CD pipelines that build, scan and deploy them.

mod artifacts;
pub mod kubernetes;
mod overrides;
pub mod pipelines;
mod plan;
mod stack;
pub mod stacks;

pub use artifacts::{Artifacts, Limits, synthesize};
pub use plan::{Plan, PlanInput, PlanStack};
pub use stack::{Input, Stack, StackName};
