//! `migrate decommission-report`: host by host, the evidence of what the old side still
//! does, judged by `acme_migrate::report`.

use super::{Error, Migration};
use acme_aws::migration::target_group_metric;
use acme_migrate::plan::{Track, plan_service};
use acme_migrate::report::{HostEvidence, HostReport, judge};
use acme_synth::stacks::legacy;
use std::collections::BTreeMap;
use std::time::Duration;

/// The report over the last `window` of traffic.
pub async fn decommission_report(m: &Migration<'_>, window: Duration) -> Result<Vec<HostReport>, Error> {
    let old_hosts = legacy::old_hosts(m.platform);
    let mut tracks: BTreeMap<&str, Track> = BTreeMap::new();
    for host in &old_hosts {
        for service in &host.services {
            if let Some(t) = plan_service(m.platform, service).track(host.host) {
                tracks.entry(host.host).or_insert_with(|| t.clone());
            }
        }
    }
    let names: Vec<&str> = tracks.keys().copied().collect();
    let listed = if names.is_empty() { vec![] } else { m.migrator.hosts(&m.edge.zone_id, &names).await? };
    let to = m.clock.now();
    let from = to - window;
    let lb = m.edge.load_balancer_full_name.as_deref();
    let mut reports = vec![];
    for records in listed {
        let track = &tracks[records.host.as_str()];
        let host = old_hosts.iter().find(|h| h.host == records.host).expect("listed from old_hosts");
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
            *sum += m.migrator.sum(&target_group_metric("RequestCount", group, lb), from, to).await?.unwrap_or(0.0);
        }
        let evidence = HostEvidence {
            host: records.host.clone(),
            old_records: records.old_records(track),
            old_requests,
            services: host.services.iter().map(|s| (s.name.clone(), m.edge.migrated(&s.name))).collect(),
            window_hours: window.as_secs() / 3600,
        };
        reports.push(judge(evidence));
    }
    Ok(reports)
}
