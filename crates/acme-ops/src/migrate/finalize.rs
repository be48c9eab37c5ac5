//! `migrate finalize`: once a service baked at 100 percent, the stack takes its records and
//! rules back, and the migration's own go. In three moves, each leaving the names resolving
//! to the new side:
//!
//! 1. a CNAME pair (an old side given by name) becomes an alias pair at the same weights,
//!    in one batch, so that the stack's A record can sit beside it;
//! 2. the edge stack is deployed with `Migrated<Service>=true`: the service's rules forward
//!    to it alone, its probe rules go, and a host whose services are all migrated gets the
//!    stack's weighted alias (beside the migration's, both to the load balancer);
//! 3. the migration's records of those hosts go, and the service's intent with them.
//!
//! A crash between two moves is finished by running finalize again: each move looks at what
//! is there before it writes.

use super::observe::observe;
use super::{Error, Migration, lock, track};
use acme_aws::{Deployer, Request};
use acme_migrate::intent::IntentState;
use acme_migrate::plan::{Mechanism, ServicePlan};
use acme_migrate::records::{intent_change, retire, to_alias};
use acme_synth::Artifacts;
use acme_synth::stacks::legacy;
use std::collections::{BTreeMap, BTreeSet};

/// What finalize did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
    pub service: String,
    /// Hosts whose records are the stack's now.
    pub final_hosts: Vec<String>,
    /// Shared hosts that stay on the migration's records, with the services still to move.
    pub waiting: Vec<(String, Vec<String>)>,
    /// Whether the edge stack was updated (false when a finished finalize ran again).
    pub deployed: bool,
}

/// What finalize deploys the edge stack with.
pub struct StackUpdate<'a> {
    pub sdk: &'a aws_config::SdkConfig,
    /// Shows the update's progress.
    pub deployer: &'a Deployer,
    /// The platform's artifacts, as `deploy` synthesizes them.
    pub artifacts: &'a Artifacts,
    /// `--parameter` values.
    pub given: &'a BTreeMap<String, String>,
}

/// Finalize `plan`'s service.
pub async fn finalize(
    m: &Migration<'_>,
    plan: &ServicePlan,
    update: &StackUpdate<'_>,
    on: &(dyn Fn(&str) + Sync),
) -> Result<Finalized, Error> {
    let service = plan.service.as_str();
    if let Some(why) = &plan.nothing_to_migrate {
        return Err(Error::Refused(format!("{service}: nothing to finalize: {why}")));
    }
    let already = m.edge.migrated(service);
    if !already {
        ready(m, plan).await?;
    }
    let hosts = plan.hosts();
    lock::take(m, &hosts).await?;
    let result = finish(m, plan, update, already, on).await;
    let released = lock::release(m, &hosts).await;
    let done = result?;
    released?;
    Ok(done)
}

/// Refuse unless the last step baked with every gate passing.
async fn ready(m: &Migration<'_>, plan: &ServicePlan) -> Result<(), Error> {
    let obs = observe(m, plan).await?;
    let all_in = obs.knobs.values().all(|share| *share == 100);
    match &obs.intent {
        Some(intent) if intent.state == IntentState::Complete && all_in => Ok(()),
        Some(intent) => Err(Error::Refused(format!(
            "{} is at {}% of {} ({}): finalize runs once the last step baked with every gate passing\n\
             help: acmectl migrate resume {0}",
            plan.service,
            intent.percent,
            intent.stage,
            intent.state.label()
        ))),
        None => Err(Error::Refused(format!(
            "{} has not been migrated: there is nothing to finalize\nhelp: acmectl migrate start {0}",
            plan.service
        ))),
    }
}

async fn finish(
    m: &Migration<'_>,
    plan: &ServicePlan,
    update: &StackUpdate<'_>,
    already: bool,
    on: &(dyn Fn(&str) + Sync),
) -> Result<Finalized, Error> {
    let service = plan.service.as_str();
    // The hosts whose every service is migrated once this one is.
    let mut final_hosts = vec![];
    let mut waiting = vec![];
    for track in &plan.tracks {
        let others: Vec<String> = m
            .platform
            .services_on(&track.host)
            .into_iter()
            .map(|s| s.name.clone())
            .filter(|s| s != service && !m.edge.migrated(s))
            .collect();
        if others.is_empty() {
            final_hosts.push(track.host.clone())
        } else {
            waiting.push((track.host.clone(), others))
        }
    }

    // 1. CNAME pairs become alias pairs.
    let obs = observe(m, plan).await?;
    let mut changes = vec![];
    let load_balancer = &m.load_balancer(plan)?.alias;
    for host in &final_hosts {
        changes.extend(to_alias(obs.host(host), track(plan, host), load_balancer));
    }
    if !changes.is_empty() {
        changes.extend(lock::renewal(m, &obs.hosts));
        m.migrator
            .change(&m.edge.zone_id, &changes, &format!("acmectl migrate finalize {service}: alias records"))
            .await?;
        on("the new side's records are aliases of the load balancer now");
    }

    // 2. The stack takes over.
    let deployed = !already;
    if deployed {
        on(&format!("deploying the {} stack with {}=true", plan.edge, legacy::migrated_parameter(service)));
        // Only what the edge stack takes: a stand-in meant for another stack is no error here.
        let takes =
            |name: &str| update.artifacts.stack(plan.edge).is_some_and(|s| s.template.parameters.contains_key(name));
        let mut parameters: BTreeMap<String, String> =
            update.given.iter().filter(|(k, _)| takes(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        parameters.insert(legacy::migrated_parameter(service), "true".into());
        let request = Request { only: Some(BTreeSet::from([plan.edge])), parameters, role_arn: None };
        crate::deploy::deploy(update.sdk, update.deployer, m.platform, update.artifacts, &request).await?;
    }

    // 3. The migration's records go where the stack's answer.
    let final_set = m.final_set();
    let obs = observe(m, plan).await?;
    let mut changes = vec![];
    for host in &final_hosts {
        let records = obs.host(host);
        if !records.is_final(&final_set) {
            return Err(Error::Refused(format!(
                "the edge stack has no record of {host} (set identifier {final_set}) after its update: the \
                 migration's records stay\nhelp: check the edge stack's events, then run finalize again"
            )));
        }
        changes.extend(retire(records));
    }
    if let Some(primary) = plan.primary_host() {
        changes.extend(intent_change(obs.host(primary), &legacy::intent_record(primary), service, None));
    }
    if !changes.is_empty() {
        changes.extend(lock::renewal(m, &obs.hosts));
        m.migrator.change(&m.edge.zone_id, &changes, &format!("acmectl migrate finalize {service}")).await?;
    }
    for host in &final_hosts {
        on(&format!("{host}: the edge stack's record answers; the migration's records are gone"));
    }
    for (host, others) in &waiting {
        let path = plan.tracks.iter().any(|t| t.host == *host && t.mechanism == Mechanism::Path);
        let how = if path { "its rule forwards to the new side alone" } else { "its records stay weighted" };
        on(&format!("{host}: {how}; the host's DNS becomes the stack's once {} move too", others.join(", ")));
    }
    Ok(Finalized { service: service.to_owned(), final_hosts, waiting, deployed })
}
