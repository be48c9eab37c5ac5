//! What AWS holds for a service's migration, and what its gates measure.

use super::{Error, Migration, records, track};
use acme_aws::migration::target_group_metric;
use acme_migrate::gates::{Figures, ProbeReading, Readings, TargetReading, Traffic};
use acme_migrate::intent::{Intent, Stage};
use acme_migrate::plan::{Knob, Mechanism, OLD_SIDE_REQUIRED_HEALTHY, PROBE_HEADER, ServicePlan, Track};
use acme_migrate::records::HostRecords;
use acme_probe::{Certificate, Connect, Probe};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The service's hosts, its knobs' shares and its intent, read now.
#[derive(Clone, Debug)]
pub struct Observation {
    pub hosts: BTreeMap<String, HostRecords>,
    pub knobs: BTreeMap<Knob, u8>,
    pub intent: Option<Intent>,
}

impl Observation {
    pub fn host(&self, host: &str) -> &HostRecords {
        records(&self.hosts, host)
    }
}

pub async fn observe(m: &Migration<'_>, plan: &ServicePlan) -> Result<Observation, Error> {
    let reads = plan.hosts().into_iter().map(|h| m.migrator.host(&m.edge.zone_id, h));
    let hosts: BTreeMap<String, HostRecords> =
        futures::future::try_join_all(reads).await?.into_iter().map(|h| (h.host.clone(), h)).collect();
    knobs_of(m, plan, hosts).await
}

/// The observation of `plan` from host records already read (status reads the zone once).
pub async fn knobs_of(
    m: &Migration<'_>,
    plan: &ServicePlan,
    hosts: BTreeMap<String, HostRecords>,
) -> Result<Observation, Error> {
    let final_set = m.final_set();
    let mut rule_arns = vec![];
    for t in plan.tracks.iter().filter(|t| t.mechanism == Mechanism::Path) {
        for r in &t.rules {
            rule_arns.push(m.rule(&r.rule)?.to_owned());
        }
    }
    let forwards = m.migrator.forwards(&rule_arns).await?;
    let mut knobs = BTreeMap::new();
    for (_, stage_knobs) in plan.stages() {
        for knob in stage_knobs {
            let share = match &knob {
                Knob::Dns(host) => records(&hosts, host).dns_share(&final_set),
                Knob::Rules(host) => {
                    let mut lowest = 100;
                    for r in &track(plan, host).rules {
                        let group = m.output(&r.target_group_output)?;
                        let forward = forwards.get(m.rule(&r.rule)?).cloned().unwrap_or_default();
                        lowest = lowest.min(forward.share(group));
                    }
                    lowest
                }
            };
            knobs.insert(knob, share);
        }
    }
    let intent = plan.primary_host().and_then(|h| hosts.get(h)).and_then(|h| h.intent_of(&plan.service));
    Ok(Observation { hosts, knobs, intent })
}

/// What the gates of `stage` at `percent` measure now. `window` (seconds since the epoch)
/// is the part of the step to count requests over, once its bake is done; `figures` asks for
/// the new side's error rate and p99 over it (the comparison at 100 percent).
pub async fn readings(
    m: &Migration<'_>,
    plan: &ServicePlan,
    stage: Stage,
    window: Option<(u64, u64)>,
    figures: bool,
) -> Result<Readings, Error> {
    let (alarm_names, groups, probes) = match stage {
        Stage::FrontDoor => {
            let shared: Vec<&Track> = plan.tracks.iter().filter(|t| t.mechanism == Mechanism::Path).collect();
            let mut groups = vec![];
            for t in &shared {
                if let Some(output) = &t.old_side_output {
                    let label = format!("old side of {}", t.host);
                    groups.push((m.output(output)?.to_owned(), label, OLD_SIDE_REQUIRED_HEALTHY));
                }
            }
            let probes = shared.iter().map(|t| probe(m, plan, t, None, false)).collect::<Vec<_>>();
            (plan.front_door_alarms.clone(), groups, probes)
        }
        Stage::Main => {
            let mut groups = vec![];
            for output in &plan.target_groups {
                let label = output.trim_end_matches("TargetGroupArn").to_owned();
                groups.push((m.output(output)?.to_owned(), label, plan.required_healthy));
            }
            let probes = plan
                .tracks
                .iter()
                .map(|t| {
                    let header = (t.mechanism == Mechanism::Path).then_some(plan.service.as_str());
                    probe(m, plan, t, header, plan.websocket)
                })
                .collect();
            (plan.alarms.clone(), groups, probes)
        }
    };
    let alarms = m.migrator.alarms(&alarm_names);
    let targets = futures::future::join_all(
        groups.iter().map(|(arn, label, required)| m.migrator.targets(arn, label, *required)),
    );
    let probes = futures::future::join_all(probes.iter().map(|p| async move { (p, acme_probe::probe(p).await) }));
    let (alarms, targets, probes) = tokio::join!(alarms, targets, probes);
    let mut readings = Readings {
        alarms: alarms?,
        targets: targets.into_iter().collect::<Vec<TargetReading>>(),
        probes: probes
            .into_iter()
            .map(|(p, outcome)| ProbeReading {
                target: format!("{}{}", p.host, p.path),
                problems: outcome.problems(p),
                status: outcome.status,
                latency_ms: u64::try_from(outcome.latency.as_millis()).unwrap_or(u64::MAX),
                certificate_days: match outcome.certificate {
                    Certificate::Valid { not_after } => {
                        Some(not_after.duration_since(m.clock.now()).map(|d| d.as_secs() / 86_400).unwrap_or(0))
                    }
                    _ => None,
                },
            })
            .collect(),
        traffic: None,
        figures: None,
    };
    if let Some((from, to)) = window {
        let (from, to) = (UNIX_EPOCH + Duration::from_secs(from), UNIX_EPOCH + Duration::from_secs(to));
        readings.traffic = traffic(m, plan, stage, from, to).await?;
        if figures {
            readings.figures = Some(new_side_figures(m, plan, from, to).await?);
        }
    }
    Ok(readings)
}

/// A probe of `track`'s host: to the address `--probe-target` gives, else to the load
/// balancer, naming the host.
fn probe(m: &Migration<'_>, plan: &ServicePlan, track: &Track, header: Option<&str>, websocket: bool) -> Probe {
    let connect = match m.settings.probe_targets.get(&track.host) {
        Some(addr) => Connect::Address(*addr),
        // Without its load balancer (caught before any probe), the host's own name.
        None => Connect::Name {
            host: m.load_balancer(plan).map_or_else(|_| track.host.clone(), |lb| lb.alias.dns_name.clone()),
            port: 443,
        },
    };
    let mut p = Probe::new(track.host.clone(), connect);
    p.path = track.probe_path.clone();
    p.expect_status = plan.probe_status.0..=plan.probe_status.1;
    // Slower than the threshold fails the gate; the timeout only bounds a server that hangs.
    p.timeout = Duration::from_millis((2 * plan.probe_latency_ms).max(3_000));
    p.websocket = websocket;
    p.headers = header.map(|service| vec![(PROBE_HEADER.to_owned(), service.to_owned())]).unwrap_or_default();
    p.trust = m.settings.trust.clone();
    p
}

/// Requests on each side over the window. The new side is the service's target groups (the
/// old side's, at the front door); the old side is its own metric when acme.yaml names one.
/// Rules split by request exactly, so path tracks have no cache to measure.
async fn traffic(
    m: &Migration<'_>,
    plan: &ServicePlan,
    stage: Stage,
    from: SystemTime,
    to: SystemTime,
) -> Result<Option<Traffic>, Error> {
    let lb = m.load_balancer(plan)?.full_name.as_deref();
    let (new_groups, tracks): (Vec<String>, Vec<&Track>) = match stage {
        Stage::FrontDoor => {
            let shared: Vec<&Track> = plan.tracks.iter().filter(|t| t.mechanism == Mechanism::Path).collect();
            let mut groups = vec![];
            for t in &shared {
                if let Some(o) = &t.old_side_output {
                    groups.push(m.output(o)?.to_owned());
                }
            }
            (groups, shared)
        }
        Stage::Main => {
            let mut groups = vec![];
            for o in &plan.target_groups {
                groups.push(m.output(o)?.to_owned());
            }
            (groups, plan.tracks.iter().filter(|t| t.mechanism == Mechanism::Dns).collect())
        }
    };
    if tracks.is_empty() {
        return Ok(None);
    }
    let mut new_requests = 0.0;
    for group in &new_groups {
        new_requests += m.migrator.sum(&target_group_metric("RequestCount", group, lb), from, to).await?.unwrap_or(0.0);
    }
    let mut old_requests = Some(0.0);
    for t in &tracks {
        old_requests = match (&t.old_requests, old_requests) {
            (Some(metric), Some(sum)) => Some(sum + m.migrator.sum(metric, from, to).await?.unwrap_or(0.0)),
            _ => None,
        };
    }
    Ok(Some(Traffic { new_requests, old_requests }))
}

/// The service's error rate and p99 over the window, across its target groups.
async fn new_side_figures(
    m: &Migration<'_>,
    plan: &ServicePlan,
    from: SystemTime,
    to: SystemTime,
) -> Result<Figures, Error> {
    let lb = m.load_balancer(plan)?.full_name.as_deref();
    let (mut requests, mut errors, mut p99) = (0.0, 0.0, None::<f64>);
    for output in &plan.target_groups {
        let group = m.output(output)?;
        requests += m.migrator.sum(&target_group_metric("RequestCount", group, lb), from, to).await?.unwrap_or(0.0);
        errors += m
            .migrator
            .sum(&target_group_metric("HTTPCode_Target_5XX_Count", group, lb), from, to)
            .await?
            .unwrap_or(0.0);
        if let Some(seconds) = m.migrator.p99(&target_group_metric("TargetResponseTime", group, lb), from, to).await? {
            p99 = Some(p99.map_or(seconds, |p: f64| p.max(seconds)));
        }
    }
    Ok(Figures { error_rate: (requests > 0.0).then(|| errors / requests), p99_ms: p99.map(|s| s * 1000.0) })
}
