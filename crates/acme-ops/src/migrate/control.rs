//! `migrate pause` and `migrate rollback`, from any terminal. Neither waits for a lock: a
//! pause is a note the running loop reads at its next poll, and a rollback is the brake,
//! one Route 53 batch (and one `ModifyRule` per rule) that puts the new side's share at 0
//! at once; the running loop's next write then fails on the changed intent, and it stops.

use super::observe::observe;
use super::{Error, Migration, lock, track};
use acme_migrate::intent::{Intent, IntentState, Stage};
use acme_migrate::plan::{Knob, ServicePlan};
use acme_migrate::records::{dns_weights, intent_change};
use acme_synth::stacks::legacy;

/// Put the new side's share of `stage` (and, with `front_door`, of the front door too) at 0
/// and record why. `own_lock`: the caller holds the hosts' locks and renews them.
pub async fn roll_back(
    m: &Migration<'_>,
    plan: &ServicePlan,
    stage: Stage,
    by: &str,
    why: &str,
    own_lock: bool,
) -> Result<(), Error> {
    let stages: Vec<Stage> = match stage {
        Stage::Main => vec![Stage::Main],
        Stage::FrontDoor => vec![Stage::FrontDoor, Stage::Main],
    };
    roll_back_stages(m, plan, &stages, by, why, own_lock).await
}

/// `migrate rollback SERVICE [--front-door]`.
pub async fn rollback(m: &Migration<'_>, plan: &ServicePlan, front_door: bool) -> Result<(), Error> {
    let stages = if front_door { vec![Stage::Main, Stage::FrontDoor] } else { vec![Stage::Main] };
    roll_back_stages(m, plan, &stages, &m.settings.owner, "rolled back by hand", false).await
}

async fn roll_back_stages(
    m: &Migration<'_>,
    plan: &ServicePlan,
    stages: &[Stage],
    by: &str,
    why: &str,
    own_lock: bool,
) -> Result<(), Error> {
    // The rules first: each is one call, and takes effect at the load balancer at once.
    let rule_hosts: Vec<String> = stages
        .iter()
        .flat_map(|s| plan.knobs(*s))
        .filter_map(|k| if let Knob::Rules(h) = k { Some(h) } else { None })
        .collect();
    let hosts: Vec<&str> = rule_hosts.iter().map(String::as_str).collect();
    set_rules(m, plan, &hosts, 0).await?;
    let obs = observe(m, plan).await?;
    let mut changes = vec![];
    for knob in stages.iter().flat_map(|s| plan.knobs(*s)) {
        if let Knob::Dns(host) = &knob {
            changes.extend(
                dns_weights(obs.host(host), track(plan, host), &m.load_balancer(plan)?.alias, 0)
                    .map_err(Error::Refused)?,
            );
        }
    }
    let stage = stages.iter().copied().min().unwrap_or(Stage::Main);
    let state = IntentState::RolledBack { by: by.to_owned(), why: why.to_owned() };
    changes.extend(note(m, plan, &obs, stage, state));
    if own_lock {
        changes.extend(lock::renewal(m, &obs.hosts));
    }
    m.migrator.change(&m.edge.zone_id, &changes, &format!("acmectl migrate {}: rolled back", plan.service)).await?;
    Ok(())
}

/// `migrate pause SERVICE`: the weights stay; the running loop stops at its next poll.
pub async fn pause(m: &Migration<'_>, plan: &ServicePlan, why: &str) -> Result<(), Error> {
    let obs = observe(m, plan).await?;
    let Some(current) = &obs.intent else {
        return Err(Error::Refused(format!("{} has not started: there is nothing to pause", plan.service)));
    };
    if matches!(current.state, IntentState::Complete | IntentState::RolledBack { .. }) {
        return Err(Error::Refused(format!("{} is not moving: there is nothing to pause", plan.service)));
    }
    let state = IntentState::Held { by: m.settings.owner.clone(), why: why.to_owned() };
    let changes = note(m, plan, &obs, current.stage, state);
    m.migrator.change(&m.edge.zone_id, &changes, &format!("acmectl migrate {}: paused", plan.service)).await?;
    Ok(())
}

/// The intent `state` at the stage's current share, on the primary host.
fn note(
    m: &Migration<'_>,
    plan: &ServicePlan,
    obs: &super::observe::Observation,
    stage: Stage,
    state: IntentState,
) -> Vec<acme_migrate::records::Change> {
    let Some(primary) = plan.primary_host() else { return vec![] };
    let percent = plan.knobs(stage).iter().map(|k| obs.knobs.get(k).copied().unwrap_or(0)).min().unwrap_or(0);
    let intent = Intent {
        service: plan.service.clone(),
        stage,
        percent: if matches!(state, IntentState::RolledBack { .. }) { 0 } else { percent },
        since: m.clock.secs(),
        run: m.settings.run.clone(),
        state,
    };
    intent_change(obs.host(primary), &legacy::intent_record(primary), &plan.service, Some(&intent))
}

/// Forward `percent` of the service's rules on `hosts` to the service, the rest to the old
/// side.
pub async fn set_rules(m: &Migration<'_>, plan: &ServicePlan, hosts: &[&str], percent: u8) -> Result<(), Error> {
    for host in hosts {
        let t = track(plan, host);
        let old = m.output(t.old_side_output.as_deref().unwrap_or_default())?.to_owned();
        for r in &t.rules {
            let group = m.output(&r.target_group_output)?.to_owned();
            m.migrator.set_forward(m.rule(&r.rule)?, &group, &old, percent).await?;
        }
    }
    Ok(())
}
