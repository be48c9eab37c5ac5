//! The migration from the old infrastructure, as pure functions: no clock, no network, no
//! randomness. A Kubernetes controller's reconcile loop, taken apart:
//!
//! - [`plan`]: per service, from acme.yaml alone, how its traffic moves (weighted DNS
//!   records for a host of its own, weighted target groups for a host shared by path), the
//!   steps, the gates, and what makes a migration impossible as configured.
//! - [`intent`]: the record of intent and the lock, as TXT record strings: what a run is
//!   doing, since when, and who holds the service's hosts.
//! - [`decide`]: from what AWS reports (weights, intent, the gates' readings, the time), the
//!   next action. Every step, gate and crash case is a unit test of this one function.
//! - [`gates`]: readings judged against their thresholds, with the measured value beside
//!   the threshold for the person who reads why a step failed.
//! - [`report`]: what is safe to switch off on the old side.
//!
//! The adapter that reads and writes AWS is `acme_aws::migration`; the loop that runs it, with
//! the clock and the probes, is `acme_ops::migrate`.

pub mod decide;
pub mod gates;
pub mod intent;
pub mod plan;
pub mod records;
pub mod report;

pub use decide::{Action, Command, Input, decide, position};
pub use gates::{Gate, GateResult, Readings, Verdict};
pub use intent::{Intent, IntentState, Lock, Stage};
pub use plan::{Blocker, Knob, Mechanism, ServicePlan, Track, plan, plan_service};
