//! How the platform is doing, read from AWS: every stack's state and drift, the platform's
//! alarms in ALARM, and the health of every service's targets. Each part degrades on its own:
//! an account or emulator that cannot answer one question says so in that part, and the rest
//! is still reported.

use crate::{Deployer, Error};
use acme_spec::Platform;
use acme_synth::stacks::names;
use acme_synth::{Artifacts, StackName};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{StackDriftDetectionStatus, StackResourceDriftStatus};
use aws_smithy_types::error::display::DisplayErrorContext;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub stacks: Vec<StackHealth>,
    /// The platform's alarms (named `<platform>-…`) in ALARM; `Err` when they cannot be read.
    pub alarms: Result<Vec<Alarm>, String>,
    pub targets: Vec<Targets>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StackHealth {
    pub stack: StackName,
    pub stack_name: String,
    /// `None`: not deployed.
    pub status: Option<String>,
    pub reason: Option<String>,
    pub drift: Drift,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Drift {
    InSync,
    /// The resources that differ from the template: `LogicalId (Type): MODIFIED`.
    Drifted(Vec<String>),
    /// Drift detection is not available here, or failed: why.
    Unknown(String),
    NotChecked,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alarm {
    pub name: String,
    pub reason: String,
    pub since: Option<String>,
}

/// The targets of one service port's target group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    pub service: String,
    pub port: u16,
    pub target_group_arn: Option<String>,
    pub healthy: usize,
    /// Targets not healthy: `id:port state (reason)`.
    pub unhealthy: Vec<String>,
    /// Why the health could not be read, if it could not.
    pub error: Option<String>,
}

impl Status {
    /// Whether anything needs a look: a stack not in a stable, complete state, drift, an
    /// alarm, or an unhealthy target.
    pub fn needs_attention(&self) -> bool {
        let stable = |s: &str| s.ends_with("_COMPLETE") && !s.contains("ROLLBACK") && s != "DELETE_COMPLETE";
        self.stacks
            .iter()
            .any(|s| s.status.as_deref().is_some_and(|st| !stable(st)) || matches!(s.drift, Drift::Drifted(_)))
            || self.alarms.as_ref().is_ok_and(|a| !a.is_empty())
            || self.targets.iter().any(|t| !t.unhealthy.is_empty())
    }
}

/// Read the status. `drift` runs drift detection on every deployed stack (tens of seconds
/// on AWS), `timeout` bounding each detection.
pub async fn status(
    deployer: &Deployer,
    sdk: &SdkConfig,
    platform: &Platform,
    artifacts: &Artifacts,
    drift: bool,
    timeout: Duration,
) -> Result<Status, Error> {
    let mut stacks = vec![];
    let mut edge_outputs = BTreeMap::new();
    for s in &artifacts.plan.stacks {
        let state = deployer.describe(&s.stack_name).await?;
        // The target health below needs the edge stack's outputs: kept from this read, not read again.
        if s.name.edge_shard().is_some() {
            edge_outputs.extend(state.as_ref().map(|e| e.outputs.clone()).unwrap_or_default());
        }
        stacks.push(StackHealth {
            stack: s.name,
            stack_name: s.stack_name.clone(),
            status: state.as_ref().map(|st| st.status.clone()),
            reason: state.as_ref().and_then(|st| st.reason.clone()),
            drift: Drift::NotChecked,
        });
    }
    if drift {
        let mut checks = tokio::task::JoinSet::new();
        for (i, s) in stacks.iter().enumerate() {
            if s.status.as_deref().is_some_and(|st| st.ends_with("_COMPLETE") && st != "DELETE_COMPLETE") {
                let (deployer, name) = (deployer.clone(), s.stack_name.clone());
                checks.spawn(async move { (i, detect_drift(&deployer, &name, timeout).await) });
            }
        }
        while let Some(joined) = checks.join_next().await {
            let (i, drift) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            stacks[i].drift = drift;
        }
    }
    let alarms = alarms(sdk, &artifacts.plan.platform).await;
    let targets = targets(sdk, platform, &edge_outputs, None).await;
    Ok(Status { stacks, alarms, targets })
}

/// The health of the targets of every routed service port (of `only`, if given), from the
/// target groups the edge stack's `outputs` name.
pub async fn targets(
    sdk: &SdkConfig,
    platform: &Platform,
    outputs: &BTreeMap<String, String>,
    only: Option<&[String]>,
) -> Vec<Targets> {
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(sdk);
    let mut targets = vec![];
    for service in platform.services.iter().filter(|s| only.is_none_or(|o| o.contains(&s.name))) {
        for port in &service.ports {
            if !service.routes.iter().any(|r| r.port == port.port) {
                continue;
            }
            let arn = outputs.get(&names::target_group_output(service, port)).cloned();
            let mut t = Targets {
                service: service.name.clone(),
                port: port.port,
                target_group_arn: arn.clone(),
                healthy: 0,
                unhealthy: vec![],
                error: None,
            };
            match arn {
                None => t.error = Some("no target group yet (the edge stack is not deployed)".into()),
                Some(arn) => match elb.describe_target_health().target_group_arn(&arn).send().await {
                    Ok(out) => {
                        for d in out.target_health_descriptions() {
                            let health = d.target_health();
                            let state = health.and_then(|h| h.state()).map(|s| s.as_str()).unwrap_or("unknown");
                            if state == "healthy" {
                                t.healthy += 1;
                                continue;
                            }
                            let target = d.target().map(|x| {
                                format!(
                                    "{}:{}",
                                    x.id().unwrap_or("?"),
                                    x.port().map(|p| p.to_string()).unwrap_or_default()
                                )
                            });
                            let reason = health.and_then(|h| h.description().or(h.reason().map(|r| r.as_str())));
                            t.unhealthy.push(format!(
                                "{} {state}{}",
                                target.unwrap_or_default(),
                                reason.map(|r| format!(" ({r})")).unwrap_or_default()
                            ));
                        }
                    }
                    Err(e) => t.error = Some(DisplayErrorContext(&e).to_string()),
                },
            }
            targets.push(t);
        }
    }
    targets
}

/// Wait until every target group of `services` has a healthy target and none that is not
/// (yet) healthy: the pods behind the load balancer answer its health checks.
pub async fn wait_healthy(
    sdk: &SdkConfig,
    platform: &Platform,
    outputs: &BTreeMap<String, String>,
    services: &[String],
    timeout: Duration,
    on_progress: &mut (dyn FnMut(&[Targets]) + Send),
) -> Result<Vec<Targets>, Error> {
    let started = tokio::time::Instant::now();
    loop {
        let now = targets(sdk, platform, outputs, Some(services)).await;
        on_progress(&now);
        let healthy = |t: &Targets| t.error.is_none() && t.healthy > 0 && t.unhealthy.is_empty();
        if now.iter().all(healthy) {
            return Ok(now);
        }
        if started.elapsed() >= timeout {
            let waiting: Vec<String> = now
                .iter()
                .filter(|t| !healthy(t))
                .map(|t| {
                    let what = t.error.clone().unwrap_or_else(|| {
                        if t.unhealthy.is_empty() { "no target registered".into() } else { t.unhealthy.join("; ") }
                    });
                    format!("{}:{} ({what})", t.service, t.port)
                })
                .collect();
            return Err(Error::NotHealthy(format!(
                "targets not healthy after {timeout:?}: {}\nhelp: the pods run but the load balancer's health \
                 checks fail or reach no pod: check the service's health path and its TargetGroupBinding",
                waiting.join(", ")
            )));
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// The platform's alarms in ALARM, oldest first.
async fn alarms(sdk: &SdkConfig, platform: &str) -> Result<Vec<Alarm>, String> {
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let mut found = vec![];
    let mut token = None;
    loop {
        let out = cw
            .describe_alarms()
            .alarm_name_prefix(format!("{platform}-"))
            .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(&e).to_string())?;
        for a in out.metric_alarms() {
            found.push(Alarm {
                name: a.alarm_name().unwrap_or_default().to_owned(),
                reason: a.state_reason().unwrap_or_default().to_owned(),
                since: a.state_updated_timestamp().map(|t| t.to_string()),
            });
        }
        for a in out.composite_alarms() {
            found.push(Alarm {
                name: a.alarm_name().unwrap_or_default().to_owned(),
                reason: a.state_reason().unwrap_or_default().to_owned(),
                since: a.state_updated_timestamp().map(|t| t.to_string()),
            });
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    found.sort_by(|a, b| a.since.cmp(&b.since));
    Ok(found)
}

/// `DetectStackDrift` and its outcome. Anything the account cannot do becomes
/// [`Drift::Unknown`] with the reason.
async fn detect_drift(deployer: &Deployer, stack_name: &str, timeout: Duration) -> Drift {
    let cfn = &deployer.cfn;
    let id = match cfn.detect_stack_drift().stack_name(stack_name).send().await {
        Ok(out) => out.stack_drift_detection_id().unwrap_or_default().to_owned(),
        Err(e) => return Drift::Unknown(format!("drift detection is not available: {}", DisplayErrorContext(&e))),
    };
    let mut wait = crate::stack::Wait::new(crate::Backoff { timeout, ..deployer.backoff });
    loop {
        let out = match cfn.describe_stack_drift_detection_status().stack_drift_detection_id(&id).send().await {
            Ok(out) => out,
            Err(e) => return Drift::Unknown(DisplayErrorContext(&e).to_string()),
        };
        match out.detection_status() {
            Some(StackDriftDetectionStatus::DetectionComplete) => break,
            Some(StackDriftDetectionStatus::DetectionFailed) => {
                // Partial results still count: some resource types do not support detection.
                if out.stack_drift_status().map(|s| s.as_str()) != Some("DRIFTED") {
                    return Drift::Unknown(out.detection_status_reason().unwrap_or("detection failed").to_owned());
                }
                break;
            }
            _ => {
                if wait.pause().await.is_err() {
                    return Drift::Unknown(format!("detection did not finish within {timeout:?}"));
                }
            }
        }
    }
    let drifted = cfn
        .describe_stack_resource_drifts()
        .stack_name(stack_name)
        .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
        .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
        .send()
        .await;
    match drifted {
        Ok(out) if out.stack_resource_drifts().is_empty() => Drift::InSync,
        Ok(out) => Drift::Drifted(
            out.stack_resource_drifts()
                .iter()
                .map(|d| {
                    format!(
                        "{} ({}): {}",
                        d.logical_resource_id().unwrap_or("?"),
                        d.resource_type().unwrap_or("?"),
                        d.stack_resource_drift_status().map(|s| s.as_str()).unwrap_or("?")
                    )
                })
                .collect(),
        ),
        Err(e) => Drift::Unknown(DisplayErrorContext(&e).to_string()),
    }
}
