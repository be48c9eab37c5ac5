//! The workflows acmectl runs against a live platform, each one a library call that the
//! binary's verb parses arguments for and prints: the pure core decides (`acme_migrate`),
//! the adapters read and write (`acme_aws`, `acme_probe`), and these tie them together with
//! a clock.
//!
//! - [`migrate`]: moving each service's traffic from the old side, step by gated step, as a
//!   controller's reconcile loop; its status, pause, rollback, finalize and the
//!   decommission report.
//! - [`deploy`]: the stacks part of `acmectl deploy` (plan, guards, apply, aftercare), which
//!   `migrate finalize` deploys the edge stack through.
//! - [`clock`]: the time, real or virtual, so that no test sleeps through a bake.

pub mod clock;
pub mod deploy;
pub mod migrate;

pub use clock::Clock;
