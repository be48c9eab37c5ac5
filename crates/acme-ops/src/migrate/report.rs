//! `migrate decommission-report`: host by host, the evidence of what the old side still
//! does, judged by `acme_migrate::report`.

use super::{Error, Migration};
use acme_aws::migration::target_group_metric;
use acme_migrate::plan::{Track, plan};
use acme_migrate::records::HostRecords;
use acme_migrate::report::{HostEvidence, HostReport, judge};
use acme_synth::stacks::legacy;
use std::collections::BTreeMap;
use std::time::Duration;

/// The report over the last `window` of traffic.
pub async fn decommission_report(m: &Migration<'_>, window: Duration) -> Result<Vec<HostReport>, Error> {
    // Each host of the old side with the track of its first service: what its records are
    // judged by.
    let plans = plan(m.platform);
    let hosts: Vec<(legacy::OldHost<'_>, Track, Option<&str>)> = legacy::old_hosts(m.platform)
        .into_iter()
        .filter_map(|host| {
            let (track, plan) = host.services.iter().find_map(|s| {
                let plan = plans.iter().find(|p| p.service == s.name)?;
                Some((plan.track(host.host)?.clone(), plan))
            })?;
            let lb = m.load_balancer(plan).ok().and_then(|lb| lb.full_name.as_deref());
            Some((host, track, lb))
        })
        .collect();
    let names: Vec<&str> = hosts.iter().map(|(h, ..)| h.host).collect();
    let mut listed: BTreeMap<String, HostRecords> = if names.is_empty() {
        BTreeMap::new()
    } else {
        m.migrator.hosts(&m.edge.zone_id, &names).await?.into_iter().map(|r| (r.host.clone(), r)).collect()
    };
    let to = m.clock.now();
    let from = to - window;
    let mut reports = vec![];
    for (host, track, lb) in &hosts {
        let records = listed.remove(host.host).unwrap_or_default();
        // The old side's requests: its own metric, and what the load balancer still
        // forwarded to it. Unknown unless its own metric is given: the load balancer sees
        // only what reaches it.
        let mut old_requests = match &track.old_requests {
            Some(metric) => Some(m.migrator.sum(metric, from, to).await?.unwrap_or(0.0)),
            None => None,
        };
        if let Some(group) = m.edge.outputs.get(&legacy::old_side_target_group_output(host.host))
            && let Some(sum) = old_requests.as_mut()
        {
            *sum += m.migrator.sum(&target_group_metric("RequestCount", group, *lb), from, to).await?.unwrap_or(0.0);
        }
        let evidence = HostEvidence {
            host: host.host.to_owned(),
            old_records: records.old_records(track),
            old_requests,
            services: host.services.iter().map(|s| (s.name.clone(), m.edge.migrated(&s.name))).collect(),
            window_hours: window.as_secs() / 3600,
        };
        reports.push(judge(evidence));
    }
    Ok(reports)
}
