//! `migrate status`: every service's position, from one listing of the zone, one
//! `DescribeRules` per shared host and the alarms in batches of 100: under a second for 50
//! services. The gates of services in flight are measured too when asked (`--watch` shows
//! them live).

use super::observe::{knobs_of, readings};
use super::{Error, Migration};
use acme_migrate::gates::{AlarmReading, Verdict, judge};
use acme_migrate::intent::{Intent, IntentState, Stage};
use acme_migrate::plan::{Knob, ServicePlan};
use acme_migrate::position;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Where one service's migration stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceStatus {
    pub service: String,
    pub phase: Phase,
    /// Each knob's share on the new side: `www.acme.example.com dns` 100.
    pub weights: Vec<Weight>,
    pub stage: Option<Stage>,
    pub percent: Option<u8>,
    pub intent: Option<Intent>,
    /// Seconds left in the bake of the current step.
    pub bake_left: Option<u64>,
    /// Who holds a host of the service, and for how much longer.
    pub lock: Option<Holder>,
    /// The service's alarms as they stand.
    pub alarms: Vec<AlarmReading>,
    /// Every gate's latest reading, for a service in flight (when measured).
    pub gates: Option<Verdict>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Weight {
    pub host: String,
    /// `dns` or `rules`.
    pub knob: &'static str,
    pub percent: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub host: String,
    pub owner: String,
    pub run: String,
    pub expires_in: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "kebab-case")]
pub enum Phase {
    /// Nothing of the old side to move (a new host, no legacy).
    Nothing {
        why: String,
    },
    /// acme.yaml makes the migration impossible.
    Blocked {
        why: String,
    },
    NotStarted,
    Moving,
    Baking,
    Held {
        why: String,
    },
    RolledBack {
        why: String,
    },
    /// Baked at 100 percent: ready for finalize.
    Complete,
    /// The stack owns the service's records and rules.
    Finalized,
    /// Weights above 0 with no record of intent: someone moved them by hand.
    Unrecorded,
}

impl Phase {
    pub fn label(&self) -> &'static str {
        match self {
            Phase::Nothing { .. } => "nothing to migrate",
            Phase::Blocked { .. } => "blocked",
            Phase::NotStarted => "not started",
            Phase::Moving => "moving",
            Phase::Baking => "baking",
            Phase::Held { .. } => "held",
            Phase::RolledBack { .. } => "rolled back",
            Phase::Complete => "complete",
            Phase::Finalized => "finalized",
            Phase::Unrecorded => "moved without acmectl",
        }
    }
}

/// The status of every plan's service; `gates` measures the gates of those in flight.
pub async fn status(m: &Migration<'_>, plans: &[ServicePlan], gates: bool) -> Result<Vec<ServiceStatus>, Error> {
    let hosts: BTreeSet<&str> = plans.iter().flat_map(|p| p.hosts()).collect();
    let hosts: Vec<&str> = hosts.into_iter().collect();
    let listed: BTreeMap<String, _> = if hosts.is_empty() {
        BTreeMap::new()
    } else {
        m.migrator.hosts(&m.edge.zone_id, &hosts).await?.into_iter().map(|h| (h.host.clone(), h)).collect()
    };
    let names: Vec<String> = plans.iter().flat_map(|p| p.alarms.iter().cloned()).collect();
    let mut alarms: BTreeMap<String, AlarmReading> =
        m.migrator.alarms(&names).await?.into_iter().map(|a| (a.name.clone(), a)).collect();
    let now = m.clock.secs();
    let mut out = vec![];
    for plan in plans {
        let service_alarms: Vec<AlarmReading> = plan.alarms.iter().filter_map(|n| alarms.remove(n)).collect();
        let mut status = ServiceStatus {
            service: plan.service.clone(),
            phase: Phase::NotStarted,
            weights: vec![],
            stage: None,
            percent: None,
            intent: None,
            bake_left: None,
            lock: None,
            alarms: service_alarms,
            gates: None,
        };
        if let Some(why) = &plan.nothing_to_migrate {
            status.phase = Phase::Nothing { why: why.clone() };
            out.push(status);
            continue;
        }
        if m.edge.migrated(&plan.service) {
            status.phase = Phase::Finalized;
            out.push(status);
            continue;
        }
        if let Some(b) = plan.blockers.first() {
            status.phase = Phase::Blocked { why: format!("{} ({})", b.reason, b.fix) };
            out.push(status);
            continue;
        }
        let records =
            plan.hosts().iter().filter_map(|h| listed.get(*h).map(|r| ((*h).to_owned(), r.clone()))).collect();
        let obs = knobs_of(m, plan, records).await?;
        status.weights = obs
            .knobs
            .iter()
            .map(|(knob, percent)| Weight {
                host: knob.host().to_owned(),
                knob: if matches!(knob, Knob::Dns(_)) { "dns" } else { "rules" },
                percent: *percent,
            })
            .collect();
        let at = position(plan, &obs.knobs, obs.intent.as_ref());
        status.stage = at.map(|(s, _)| s);
        status.percent = at.map(|(_, p)| p);
        status.lock = obs.hosts.iter().find_map(|(host, r)| {
            r.lock().filter(|l| l.expires > now).map(|l| Holder {
                host: host.clone(),
                owner: l.owner,
                run: l.run,
                expires_in: l.expires - now,
            })
        });
        status.phase = match obs.intent.as_ref().map(|i| &i.state) {
            None if obs.knobs.values().all(|p| *p == 0) => Phase::NotStarted,
            None => Phase::Unrecorded,
            Some(IntentState::Moving { .. }) => Phase::Moving,
            Some(IntentState::Baking { began, ttl }) => {
                status.bake_left = Some((began + ttl + plan.bake_seconds).saturating_sub(now));
                Phase::Baking
            }
            Some(IntentState::Held { by, why }) => Phase::Held { why: format!("{why} ({by})") },
            Some(IntentState::RolledBack { by, why }) => Phase::RolledBack { why: format!("{why} ({by})") },
            Some(IntentState::Complete) => Phase::Complete,
        };
        let in_flight = matches!(status.phase, Phase::Moving | Phase::Baking | Phase::Held { .. });
        if gates
            && in_flight
            && let Some((stage, percent)) = at
        {
            let r = readings(m, plan, stage, None, false).await?;
            status.gates = Some(judge(plan, &r, percent));
        }
        status.intent = obs.intent;
        out.push(status);
    }
    Ok(out)
}
