//! The Kubernetes adapter of acmectl (kube-rs on rustls with aws-lc-rs, like the AWS SDK).
//!
//! - [`Cluster`]: a connection, to EKS with a token presigned through STS ([`token`]) from
//!   the cluster stack's outputs, or through a kubeconfig.
//! - [`Cluster::plan`] and [`Cluster::apply`]: server-side apply under the field manager
//!   `acmectl`, planned with a dry run and diffed field by field, with pruning of the objects
//!   acmectl owns and no longer synthesizes.
//! - [`Cluster::wait_for_rollouts`]: Deployment rollouts, with progress and a timeout.
//!
//! Objects are plain JSON (`apiVersion`, `kind`, `metadata`, ...), so this crate needs none
//! of the synthesizer's types.

pub mod apply;
mod cluster;
pub mod diff;
mod error;
pub mod object;
pub mod rollout;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;

pub use apply::{Action, Applied, Change, Plan, Prune};
pub use cluster::{Cluster, EksCluster, TOKEN_REFRESH_MARGIN};
pub use diff::FieldChange;
pub use error::Error;
pub use object::ObjectRef;
pub use rollout::{DeploymentRef, Phase, RolloutState, Wait};
