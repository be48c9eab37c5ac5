//! `migrate start` and `migrate resume`: the reconcile loop of one service.

use super::observe::{Observation, observe, readings};
use super::{Error, Event, Migration, Outcome, control, lock, track};
use acme_aws::Stop;
use acme_migrate::gates::judge;
use acme_migrate::intent::{Intent, IntentState, Stage};
use acme_migrate::plan::{DNS_TTL_SECONDS, Knob, ServicePlan};
use acme_migrate::records::{dns_weights, intent_change};
use acme_migrate::{Action, Command, Input, decide, position};
use acme_synth::stacks::legacy;
use std::collections::BTreeMap;
use std::time::Duration;

/// Longest wait for Route 53 to have a change on all its servers (it takes seconds).
const SYNC_TIMEOUT: Duration = Duration::from_secs(600);

/// What the loop keeps between polls; all of it can be lost (a crash) without harm.
#[derive(Default)]
struct Memory {
    /// The weights this run last wrote, to tell a change by someone else.
    written: Option<BTreeMap<Knob, u8>>,
    /// The Route 53 change of the last step, and the TTL its records replaced.
    change: Option<String>,
    ttl: Option<u64>,
    /// When this run last renewed its locks.
    renewed: u64,
    /// Where the migration stood at the last poll.
    at: Option<(Stage, u8)>,
}

/// Run the migration of `plan` until it completes, rolls back, holds, or `stop` fires.
pub async fn run(
    m: &Migration<'_>,
    plan: &ServicePlan,
    command: Command,
    mut stop: Stop,
    on: &(dyn Fn(&Event) + Sync),
) -> Result<Outcome, Error> {
    if let Some(why) = &plan.nothing_to_migrate {
        return Err(Error::Refused(format!("{}: nothing to migrate: {why}", plan.service)));
    }
    if let Some(b) = plan.blockers.first() {
        return Err(Error::Refused(format!("{} cannot migrate: {}\nhelp: {}", plan.service, b.reason, b.fix)));
    }
    let hosts = plan.hosts();
    lock::take(m, &hosts).await?;
    on(&Event::Locked { hosts: hosts.iter().map(|h| (*h).to_owned()).collect() });
    let result = reconcile(m, plan, command, &mut stop, on).await;
    // Every way out lets go of the locks, Ctrl-C included: the weights hold, and the next run
    // starts from them without waiting for the lease to expire.
    let released = lock::release(m, &hosts).await;
    let outcome = result?;
    released?;
    Ok(outcome)
}

async fn reconcile(
    m: &Migration<'_>,
    plan: &ServicePlan,
    command: Command,
    stop: &mut Stop,
    on: &(dyn Fn(&Event) + Sync),
) -> Result<Outcome, Error> {
    let mut memory = Memory { renewed: m.clock.secs(), ..Memory::default() };
    loop {
        if stop.fired() {
            let (stage, percent) = memory.at.unwrap_or((Stage::Main, 0));
            return Ok(Outcome::Interrupted { stage, percent });
        }
        let obs = observe(m, plan).await?;
        if let Some((host, lock)) = lock::holds(m, &obs.hosts) {
            return Err(Error::Locked { host, lock, now: m.clock.secs() });
        }
        if memory.written.is_some()
            && let Some(intent) = obs.intent.as_ref().filter(|i| i.run != m.settings.run)
        {
            match &intent.state {
                IntentState::Held { by, why } => {
                    let why = format!("paused by {by}: {why}");
                    on(&Event::Held { why: why.clone() });
                    return Ok(Outcome::Held { why });
                }
                IntentState::RolledBack { by, why } => {
                    let why = format!("rolled back by {by}: {why}");
                    on(&Event::RolledBack { stage: intent.stage, why: why.clone() });
                    return Ok(Outcome::RolledBack { stage: intent.stage, why });
                }
                _ => {}
            }
        }
        let Some((stage, percent)) = position(plan, &obs.knobs, obs.intent.as_ref()) else {
            return Err(Error::Refused(format!("{} has nothing to migrate", plan.service)));
        };
        memory.at = Some((stage, percent));
        let now = m.clock.secs();
        let baking =
            obs.intent.as_ref().filter(|i| i.stage == stage && i.percent == percent).and_then(|i| match i.state {
                IntentState::Baking { began, ttl } => Some((began, began + ttl + plan.bake_seconds)),
                _ => None,
            });
        // Request counts only once the bake is done: that is when the split is judged.
        let window = baking.filter(|(_, until)| now >= *until).map(|(began, _)| (began, now));
        let readings = readings(m, plan, stage, window, stage == Stage::Main && percent == 100).await?;
        let verdict = judge(plan, &readings, percent);
        on(&Event::Polled { stage, percent, now, until: baking.map(|(_, u)| u), verdict: verdict.clone() });
        let action = decide(&Input {
            plan,
            knobs: &obs.knobs,
            intent: obs.intent.as_ref(),
            now,
            verdict: &verdict,
            written: memory.written.as_ref(),
            command,
        });
        match action {
            Action::Step { stage, percent, step: n, of } => {
                match step(m, plan, &obs, stage, percent).await {
                    Ok((change, ttl)) => {
                        memory.change = change;
                        memory.ttl = Some(ttl);
                        memory.renewed = m.clock.secs();
                    }
                    // Someone else wrote on the host: the next poll sees who and what.
                    Err(Error::Aws(acme_aws::Error::Conflict { .. })) => {
                        m.clock.sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                memory.written = Some(plan.knobs(stage).into_iter().map(|k| (k, percent)).collect());
                on(&Event::Stepped { stage, percent, step: n, of });
            }
            Action::AwaitSync { stage, percent, change } => {
                // Rules take effect at the load balancer at once: only DNS weights have name
                // servers to reach.
                if plan.knobs(stage).iter().any(|k| matches!(k, Knob::Dns(_))) {
                    let since = obs.intent.as_ref().map_or(now, |i| i.since);
                    await_sync(m, change.or(memory.change.take()), since, stop).await?;
                }
                on(&Event::InSync { stage, percent });
                let ttl = memory.ttl.take().unwrap_or_else(|| plan.ttl(stage));
                begin(m, plan, stage, percent, ttl, on, &mut memory).await?;
            }
            Action::Begin { stage, percent } => {
                begin(m, plan, stage, percent, plan.ttl(stage), on, &mut memory).await?;
            }
            Action::Bake { until, .. } => {
                if m.clock.secs() >= memory.renewed + m.lease() / 3 {
                    renew(m, plan).await?;
                    memory.renewed = m.clock.secs();
                }
                let wait = Duration::from_secs(until.saturating_sub(now).max(1)).min(m.settings.poll);
                tokio::select! {
                    () = m.clock.sleep(wait) => {}
                    () = stop.wait() => {}
                }
            }
            Action::RollBack { stage, why } => {
                control::roll_back(m, plan, stage, "gate", &why, true).await?;
                on(&Event::RolledBack { stage, why: why.clone() });
                return Ok(Outcome::RolledBack { stage, why });
            }
            Action::Hold { why, pause } => {
                if pause {
                    write_intent(m, plan, stage, percent, IntentState::Held { by: "acmectl".into(), why: why.clone() })
                        .await?;
                }
                on(&Event::Held { why: why.clone() });
                return Ok(Outcome::Held { why });
            }
            Action::Complete => {
                write_intent(m, plan, Stage::Main, 100, IntentState::Complete).await?;
                on(&Event::Completed);
                return Ok(Outcome::Complete);
            }
            Action::Done => return Ok(Outcome::Complete),
            Action::Refuse { why } if percent == 0 && !verdict.passed() => {
                // The pre-flight: nothing moved, the traffic is on the old side.
                on(&Event::RolledBack { stage, why: why.clone() });
                return Ok(Outcome::RolledBack { stage, why });
            }
            Action::Refuse { why } => return Err(Error::Refused(why)),
        }
    }
}

/// Move the knobs of `stage` to `percent`: the DNS weights, the intent and the lock renewal
/// in one Route 53 batch, then the rules. Returns the Route 53 change and the TTL resolvers
/// may still hold the previous answer for (a plain record turned weighted may have had a
/// long one).
async fn step(
    m: &Migration<'_>,
    plan: &ServicePlan,
    obs: &Observation,
    stage: Stage,
    percent: u8,
) -> Result<(Option<String>, u64), Error> {
    let knobs = plan.knobs(stage);
    let mut changes = vec![];
    let mut ttl = plan.ttl(stage);
    for knob in &knobs {
        if let Knob::Dns(host) = knob {
            let records = obs.host(host);
            ttl = ttl.max(records.records.iter().filter_map(|r| r.ttl).map(|t| t.max(0) as u64).max().unwrap_or(0));
            changes.extend(
                dns_weights(records, track(plan, host), &m.load_balancer(plan)?.alias, percent)
                    .map_err(Error::Refused)?,
            );
        }
    }
    let intent = intent(m, plan, stage, percent, IntentState::Moving { change: None });
    changes.extend(intent_of(plan, obs, Some(&intent)));
    changes.extend(lock::renewal(m, &obs.hosts));
    let comment = format!("acmectl migrate {}: {stage} to {percent}%", plan.service);
    let dns = knobs.iter().any(|k| matches!(k, Knob::Dns(_)));
    let change = m.migrator.change(&m.edge.zone_id, &changes, &comment).await?;
    let rules: Vec<&str> =
        knobs.iter().filter_map(|k| if let Knob::Rules(h) = k { Some(h.as_str()) } else { None }).collect();
    if !rules.is_empty() {
        control::set_rules(m, plan, &rules, percent).await?;
        // A rollback from another terminal between the intent and the rules: keep its 0.
        let after = observe(m, plan).await?;
        if after.intent.as_ref().is_some_and(|i| matches!(i.state, IntentState::RolledBack { .. })) {
            control::set_rules(m, plan, &rules, 0).await?;
        }
    }
    Ok((dns.then_some(change), if dns { ttl.max(DNS_TTL_SECONDS) } else { ttl }))
}

/// Wait until Route 53 has `change` everywhere; with no change to ask about (a resumed run),
/// until the time Route 53 takes to propagate has passed since the weights were written.
async fn await_sync(m: &Migration<'_>, change: Option<String>, since: u64, stop: &mut Stop) -> Result<(), Error> {
    let started = m.clock.secs();
    loop {
        let synced = match &change {
            Some(id) => m.migrator.in_sync(id).await?,
            None => m.clock.secs() >= since + DNS_TTL_SECONDS,
        };
        if synced || stop.fired() {
            return Ok(());
        }
        if m.clock.secs() >= started + SYNC_TIMEOUT.as_secs() {
            return Err(Error::Refused(format!(
                "Route 53 has not had change {} in sync for {}s: check the zone, then resume",
                change.unwrap_or_default(),
                SYNC_TIMEOUT.as_secs()
            )));
        }
        tokio::select! {
            () = m.clock.sleep(Duration::from_secs(1)) => {}
            () = stop.wait() => {}
        }
    }
}

/// The step at the current weights begins now.
async fn begin(
    m: &Migration<'_>,
    plan: &ServicePlan,
    stage: Stage,
    percent: u8,
    ttl: u64,
    on: &(dyn Fn(&Event) + Sync),
    memory: &mut Memory,
) -> Result<(), Error> {
    let began = m.clock.secs();
    write_intent(m, plan, stage, percent, IntentState::Baking { began, ttl }).await?;
    memory.renewed = began;
    memory.written = Some(plan.knobs(stage).into_iter().map(|k| (k, percent)).collect());
    on(&Event::Began { stage, percent, until: began + ttl + plan.bake_seconds });
    Ok(())
}

fn intent(m: &Migration<'_>, plan: &ServicePlan, stage: Stage, percent: u8, state: IntentState) -> Intent {
    Intent { service: plan.service.clone(), stage, percent, since: m.clock.secs(), run: m.settings.run.clone(), state }
}

/// The change of the service's intent on its primary host.
fn intent_of(plan: &ServicePlan, obs: &Observation, intent: Option<&Intent>) -> Vec<acme_migrate::records::Change> {
    let Some(primary) = plan.primary_host() else { return vec![] };
    intent_change(obs.host(primary), &legacy::intent_record(primary), &plan.service, intent)
}

/// Write the intent (and renew the locks) on a fresh read of the hosts.
async fn write_intent(
    m: &Migration<'_>,
    plan: &ServicePlan,
    stage: Stage,
    percent: u8,
    state: IntentState,
) -> Result<(), Error> {
    let obs = observe(m, plan).await?;
    let intent = intent(m, plan, stage, percent, state);
    let mut changes = intent_of(plan, &obs, Some(&intent));
    changes.extend(lock::renewal(m, &obs.hosts));
    m.migrator
        .change(&m.edge.zone_id, &changes, &format!("acmectl migrate {}: {stage} {percent}%", plan.service))
        .await?;
    Ok(())
}

async fn renew(m: &Migration<'_>, plan: &ServicePlan) -> Result<(), Error> {
    let obs = observe(m, plan).await?;
    let changes = lock::renewal(m, &obs.hosts);
    m.migrator.change(&m.edge.zone_id, &changes, &format!("acmectl migrate {}: renews its lock", plan.service)).await?;
    Ok(())
}
