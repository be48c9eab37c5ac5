//! The stacks part of `acmectl deploy`, shared with `migrate finalize`: plan, guard, apply,
//! then what CloudFormation cannot do. The binary adds the confirmation, the rendering and
//! the Kubernetes objects around it.
//!
//! Two guards keep a deploy from moving traffic while a migration runs:
//! - a listener rule whose weights a migration moved (its service's share is above 0 and the
//!   service is not finalized by this deploy) is not changed by CloudFormation, which would
//!   put the template's resting weights back;
//! - a host of the old side that has no record yet (a new zone) gets its plain record to
//!   the old side after the stacks, so that it resolves as before until its migration starts.

use acme_aws::migration::Migrator;
use acme_aws::{Allowances, ChangePlan, Danger, Deployer, Error, Report, Request, Stop};
use acme_migrate::plan::Mechanism;
use acme_migrate::records::{Change, old_side_record};
use acme_spec::Platform;
use acme_synth::stacks::{legacy, names};
use acme_synth::{Artifacts, StackName};
use std::collections::{BTreeMap, BTreeSet};

/// A plan with what stands in its way.
pub struct Planned {
    pub plan: ChangePlan,
    /// Data that would be destroyed (see `--allow-replace`).
    pub dangers: Vec<Danger>,
    /// Rules the plan would change under a running migration.
    pub moving: Vec<MovingRule>,
    /// The request's `--parameter` values, which stand in for outputs after the stacks too.
    given: BTreeMap<String, String>,
}

impl Planned {
    /// What refuses the plan: unallowed dangers and rules under a migration.
    pub fn blocked(&self) -> bool {
        self.dangers.iter().any(|d| !d.allowed) || !self.moving.is_empty()
    }
}

/// A listener rule whose weights a migration holds, which the plan would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovingRule {
    pub service: String,
    pub host: String,
    pub rule: String,
    /// The service's share on the rule now.
    pub share: u8,
}

impl std::fmt::Display for MovingRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "edge/{} would be updated while {} is migrating on {} ({}% on the new side): CloudFormation \
             would put its weights back to the old side",
            self.rule, self.service, self.host, self.share
        )
    }
}

/// Plan `request` and find what stands in its way.
pub async fn plan(
    deployer: &Deployer,
    migrator: &Migrator,
    platform: &Platform,
    artifacts: &Artifacts,
    request: &Request,
    allowances: &Allowances,
) -> Result<Planned, Error> {
    let plan = deployer.plan(artifacts, request).await?;
    let dangers = plan.dangers(allowances);
    let moving = moving_rules(migrator, platform, &plan, &request.parameters).await?;
    Ok(Planned { plan, dangers, moving, given: request.parameters.clone() })
}

/// The rules of services mid-migration that the edge stack's change set would touch.
async fn moving_rules(
    migrator: &Migrator,
    platform: &Platform,
    plan: &ChangePlan,
    given: &BTreeMap<String, String>,
) -> Result<Vec<MovingRule>, Error> {
    // The listener rules each edge stack's change set would change or remove.
    let mut touched: BTreeMap<StackName, Vec<&str>> = BTreeMap::new();
    for stack in acme_synth::stacks::shards::plan(platform).stacks() {
        let Some(edge_plan) = plan.stack(&names::stack(&platform.name, stack)) else { continue };
        let rules: Vec<&str> = edge_plan
            .changes
            .iter()
            .filter(|c| c.resource_type == "AWS::ElasticLoadBalancingV2::ListenerRule" && c.action != "Add")
            .map(|c| c.logical_id.as_str())
            .collect();
        if !rules.is_empty() {
            touched.insert(stack, rules);
        }
    }
    if touched.is_empty() {
        return Ok(vec![]);
    }
    let edge = migrator.edge(platform, given).await?;
    // (service, host, rule, ARN, the service's target group) for every touched rule of a
    // service not finalized, read back in one DescribeRules.
    let mut watched = vec![];
    let migrating: BTreeSet<&str> = legacy::migrating_services(platform).iter().map(|s| s.name.as_str()).collect();
    for service_plan in acme_migrate::plan::plan(platform) {
        let Some(rules) = touched.get(&service_plan.edge) else { continue };
        let Some(edge_plan) = plan.stack(&names::stack(&platform.name, service_plan.edge)) else { continue };
        let service = &service_plan.service;
        let finalized_now = edge_plan.value(&legacy::migrated_parameter(service)) == Some("true");
        if finalized_now || edge.migrated(service) || !migrating.contains(service.as_str()) {
            continue;
        }
        for track in service_plan.tracks.iter().filter(|t| t.mechanism == Mechanism::Path) {
            for r in track.rules.iter().filter(|r| rules.contains(&r.rule.as_str())) {
                if let (Some(arn), Some(group)) = (edge.rules.get(&r.rule), edge.outputs.get(&r.target_group_output)) {
                    watched.push((service.clone(), track.host.clone(), r.rule.clone(), arn.clone(), group.clone()));
                }
            }
        }
    }
    let arns: Vec<String> = watched.iter().map(|w| w.3.clone()).collect();
    let forwards = migrator.forwards(&arns).await?;
    let moving = watched
        .into_iter()
        .filter_map(|(service, host, rule, arn, group)| {
            let share = forwards.get(&arn).map_or(0, |f| f.share(&group));
            (share > 0).then_some(MovingRule { service, host, rule, share })
        })
        .collect();
    Ok(moving)
}

/// What a deploy did besides the change sets.
#[derive(Debug, Default)]
pub struct Aftercare {
    /// Rules revoked from the VPC's default security group.
    pub revoked: usize,
    /// Why the default security group keeps its rules (the role may lack the EC2 rights).
    pub default_group_kept: Option<String>,
    /// Hosts of the old side given their plain record to the old side.
    pub old_side_records: Vec<String>,
}

/// Run a reviewed plan, then what CloudFormation cannot do.
pub async fn apply(
    sdk: &aws_config::SdkConfig,
    deployer: &Deployer,
    platform: &Platform,
    artifacts: &Artifacts,
    planned: &Planned,
    allowances: &Allowances,
    stop: Stop,
) -> Result<(Report, Aftercare), Error> {
    let report = deployer.apply(artifacts, &planned.plan, allowances, stop).await?;
    let mut aftercare = Aftercare::default();
    let network = names::stack(&platform.name, StackName::Network);
    if let Some(group) = report.stack(&network).and_then(|d| d.outputs.get("DefaultSecurityGroupId")) {
        // The stacks are deployed either way: a refusal here is a warning, and the next
        // deploy with the rights does it.
        match acme_aws::network::restrict_default_security_group(sdk, group).await {
            Ok(revoked) => aftercare.revoked = revoked,
            Err(e) => aftercare.default_group_kept = Some(e.to_string()),
        }
    }
    aftercare.old_side_records = old_side_records(&Migrator::new(sdk), platform, &planned.given).await?;
    Ok((report, aftercare))
}

/// Plan and apply with no confirmation, refusing what stands in the way: what `deploy --yes`
/// does, and `migrate finalize`'s stack update.
pub async fn deploy(
    sdk: &aws_config::SdkConfig,
    deployer: &Deployer,
    platform: &Platform,
    artifacts: &Artifacts,
    request: &Request,
) -> Result<(Report, Aftercare), Error> {
    let allowances = Allowances::default();
    let migrator = Migrator::new(sdk);
    let planned = plan(deployer, &migrator, platform, artifacts, request, &allowances).await?;
    if planned.blocked() {
        let _ = planned.plan.discard(deployer).await;
        if let Some(rule) = planned.moving.first() {
            return Err(Error::Preflight(format!("{rule}\nhelp: {}", moving_help(rule))));
        }
        return Err(Error::Guarded { dangers: planned.dangers });
    }
    apply(sdk, deployer, platform, artifacts, &planned, &allowances, Stop::never()).await
}

/// How to get past a rule under a migration.
pub fn moving_help(rule: &MovingRule) -> String {
    format!(
        "let the migration of {0} finish (acmectl migrate finalize {0}) or roll it back (acmectl migrate rollback \
         {0}), then deploy again",
        rule.service
    )
}

/// Give each host of the old side that the zone has no record of its plain record to the
/// old side. A host with a record (the old side's own, a migration's pair, or the stack's
/// final one) is left alone.
async fn old_side_records(
    migrator: &Migrator,
    platform: &Platform,
    given: &BTreeMap<String, String>,
) -> Result<Vec<String>, Error> {
    let mut tracks = BTreeMap::new();
    for service_plan in acme_migrate::plan::plan(platform) {
        for track in service_plan.tracks {
            tracks.entry(track.host.clone()).or_insert(track);
        }
    }
    if tracks.is_empty() {
        return Ok(vec![]);
    }
    let edge = match migrator.edge(platform, given).await {
        Ok(edge) => edge,
        // A deploy of some stacks only (--stack): the edge is not there yet, nor its records.
        Err(Error::Preflight(_)) => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let hosts: Vec<&str> = tracks.keys().map(String::as_str).collect();
    let mut changes = vec![];
    let mut created = vec![];
    for records in migrator.hosts(&edge.zone_id, &hosts).await? {
        if records.records.is_empty() {
            changes.push(Change::Create(old_side_record(&tracks[&records.host])));
            created.push(records.host.clone());
        }
    }
    if !changes.is_empty() {
        migrator.change(&edge.zone_id, &changes, "acmectl deploy: the old side's records of its hosts").await?;
    }
    Ok(created)
}
