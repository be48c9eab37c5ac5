//! `acmectl migrate`: each service's traffic moved from the old side, step by gated step.
//!
//! The loop ([`run`]) is a controller's reconcile loop. At every poll it reads what AWS
//! holds ([`observe`]): the host's records, the rules' weights, the record of intent and the
//! locks; it measures the gates (alarms, target health, live probes, request counts), lets
//! `acme_migrate::decide` pick the next action, and carries it out with one write. Nothing is
//! kept in memory that AWS does not also hold, so a run killed at any point resumes from
//! where AWS says the migration is.
//!
//! - [`lock`]: a service's hosts are held by one run at a time, through TXT records in the
//!   zone that every write renews in the same atomic batch.
//! - [`control`]: pause and rollback, from any terminal, while a run is going or not.
//! - [`status`]: every service's position, weights, lock and gates.
//! - [`finalize`]: once a service baked at 100 percent, the stack takes over its records
//!   and rules, and the migration's own records go.
//! - [`report`]: what is safe to switch off on the old side.

pub mod control;
pub mod finalize;
pub mod lock;
pub mod observe;
pub mod report;
pub mod run;
pub mod status;

pub use finalize::{Finalized, StackUpdate, finalize};
pub use report::decommission_report;
pub use run::run;
pub use status::{Phase, ServiceStatus, status};

use crate::clock::Clock;
use acme_aws::migration::{DeployedLoadBalancer, EdgeState, Migrator};
use acme_migrate::gates::Verdict;
use acme_migrate::intent::{Lock, Stage};
use acme_migrate::plan::{ServicePlan, Track};
use acme_migrate::records::HostRecords;
use acme_probe::Trust;
use acme_spec::Platform;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

/// The default poll interval: how long a failed gate may go unseen.
pub const DEFAULT_POLL: Duration = Duration::from_secs(10);

/// How a run measures and who it is.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Time between two polls.
    pub poll: Duration,
    /// `--probe-target HOST=ADDRESS:PORT`: probes of HOST go there instead of to the load
    /// balancer, still naming HOST (SNI and Host header).
    pub probe_targets: BTreeMap<String, SocketAddr>,
    /// `--ca FILE`: the roots probes trust.
    pub trust: Trust,
    /// Who the run is, as its lock says: `alice@bastion-1`.
    pub owner: String,
    pub pid: u32,
    /// This run's id (random), in its lock and intents.
    pub run: String,
}

/// Everything a migration verb works with: the platform, AWS as the stacks left it, the
/// clock and the settings.
pub struct Migration<'a> {
    pub platform: &'a Platform,
    pub migrator: Migrator,
    pub edge: EdgeState,
    pub clock: Clock,
    pub settings: Settings,
}

impl Migration<'_> {
    /// Seconds a lock lasts without renewal: six polls, at least a minute.
    pub fn lease(&self) -> u64 {
        (6 * self.settings.poll.as_secs()).max(60)
    }

    /// The set identifier of the stack's own record of a migrated host.
    pub fn final_set(&self) -> String {
        acme_synth::stacks::legacy::final_set(self.platform)
    }

    /// The load balancer the service's hosts are on (its edge shard's).
    pub fn load_balancer(&self, plan: &ServicePlan) -> Result<&DeployedLoadBalancer, Error> {
        Ok(self.edge.load_balancer(plan.edge)?)
    }

    /// An edge output the migration needs, or why it is missing.
    pub fn output(&self, name: &str) -> Result<&str, Error> {
        self.edge.outputs.get(name).map(String::as_str).ok_or_else(|| {
            Error::Refused(format!("the edge stack has no output {name}: deploy the platform (acmectl deploy) first"))
        })
    }

    /// The ARN of an edge listener rule, or why it is missing.
    pub fn rule(&self, logical_id: &str) -> Result<&str, Error> {
        self.edge.rules.get(logical_id).map(String::as_str).ok_or_else(|| {
            Error::Refused(format!(
                "the edge stack has no rule {logical_id}: deploy the platform (acmectl deploy) first"
            ))
        })
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The last step baked with every gate passing: ready for `migrate finalize`.
    Complete,
    /// A gate failed (or the new side was not ready): traffic is on the old side.
    RolledBack { stage: Stage, why: String },
    /// The weights hold where they are: paused, or for a person to decide.
    Held { why: String },
    /// Ctrl-C: the weights hold.
    Interrupted { stage: Stage, percent: u8 },
}

/// What a run reports as it goes, for live progress.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Locked {
        hosts: Vec<String>,
    },
    /// The weights of a step were written.
    Stepped {
        stage: Stage,
        percent: u8,
        step: Option<usize>,
        of: usize,
    },
    /// Route 53 has them on all its servers.
    InSync {
        stage: Stage,
        percent: u8,
    },
    /// The step began; it is judged until `until`.
    Began {
        stage: Stage,
        percent: u8,
        until: u64,
    },
    /// One poll's gates.
    Polled {
        stage: Stage,
        percent: u8,
        now: u64,
        until: Option<u64>,
        verdict: Verdict,
    },
    RolledBack {
        stage: Stage,
        why: String,
    },
    Held {
        why: String,
    },
    Completed,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Aws(#[from] acme_aws::Error),
    /// Another run holds a host of the service.
    #[error(
        "{host} is being migrated by {} (run {}, process {}); its lock expires in {}s\n\
         help: wait for that run, or stop it (Ctrl-C holds the weights and frees the lock); a lock of a run that \
         was killed on this machine is taken back at once",
        lock.owner, lock.run, lock.pid, lock.expires.saturating_sub(*now)
    )]
    Locked { host: String, lock: Lock, now: u64 },
    /// Nothing was changed, for this reason.
    #[error("{0}")]
    Refused(String),
}

/// The track of `host` in `plan`.
pub(crate) fn track<'p>(plan: &'p ServicePlan, host: &str) -> &'p Track {
    plan.track(host).unwrap_or_else(|| unreachable!("{host} is a host of {}'s plan", plan.service))
}

/// The records of `host` in an observation.
pub(crate) fn records<'o>(hosts: &'o BTreeMap<String, HostRecords>, host: &str) -> &'o HostRecords {
    hosts.get(host).unwrap_or_else(|| unreachable!("{host} was observed"))
}
