//! The migration's adapter: it reads and writes what `acme_migrate` decides about, and
//! decides nothing itself. Route 53 records (weights, the record of intent, the lock),
//! listener rule weights, the service's alarms, target health and request metrics.
//!
//! Every write is one call: a Route 53 change batch (atomic: it applies whole or not at all)
//! or one `ModifyRule`. A batch Route 53 refuses because a record is not what it was (the
//! lock or the intent changed under the run) is [`Error::Conflict`], which the loop reads as
//! "someone else acts on this host now".

use crate::{Deployer, Error};
use acme_migrate::gates::{AlarmReading, AlarmState, TargetReading};
use acme_migrate::plan::MetricRef;
use acme_migrate::records::{Alias, Change, HostRecords, LoadBalancer, Record};
use acme_spec::{Platform, ZoneSource};
use acme_synth::StackName;
use acme_synth::stacks::{legacy, names};
use aws_config::SdkConfig;
use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple};
use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::{AliasTarget, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
use aws_smithy_types::DateTime;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Reads and writes the migration's state in AWS. Cheap to clone.
#[derive(Clone)]
pub struct Migrator {
    route53: aws_sdk_route53::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    deployer: Deployer,
}

/// What the deployed edge stacks (one a load balancer) say about where the migration's
/// records and rules are. Output, parameter and rule names are unique across the shards, so
/// those of all of them are read into one map each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeState {
    /// The public zone the hosts live in.
    pub zone_id: String,
    /// Each deployed shard's load balancer, by edge stack.
    pub load_balancers: BTreeMap<StackName, DeployedLoadBalancer>,
    /// The edge stacks' outputs (target group ARNs by output name).
    pub outputs: BTreeMap<String, String>,
    /// The edge stacks' parameters as deployed (the `Migrated<Service>` flags among them).
    pub parameters: BTreeMap<String, String>,
    /// Physical ids (ARNs) of the edge stacks' listener rules, by logical id.
    pub rules: BTreeMap<String, String>,
}

/// One shard's load balancer as its stack's outputs give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployedLoadBalancer {
    pub alias: LoadBalancer,
    /// `app/<name>/<id>`: the LoadBalancer dimension of the ALB's metrics.
    pub full_name: Option<String>,
}

impl EdgeState {
    /// Whether the edge stacks say `service` finished its migration.
    pub fn migrated(&self, service: &str) -> bool {
        self.parameters.get(&legacy::migrated_parameter(service)).is_some_and(|v| v == "true")
    }

    /// The load balancer of edge stack `stack`, or why it is missing.
    pub fn load_balancer(&self, stack: StackName) -> Result<&DeployedLoadBalancer, Error> {
        self.load_balancers.get(&stack).ok_or_else(|| {
            Error::Preflight(format!(
                "the {stack} stack is not deployed: the service's load balancer does not exist yet\n\
                 help: run acmectl deploy first"
            ))
        })
    }
}

/// A rule's forward, target group by target group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forward {
    /// (target group ARN, weight), as the rule holds them.
    pub groups: Vec<(String, i32)>,
}

impl Forward {
    /// The share of `group` in percent (0 when it is not forwarded to).
    pub fn share(&self, group: &str) -> u8 {
        let total: i64 = self.groups.iter().map(|(_, w)| i64::from((*w).max(0))).sum();
        let weight = self.groups.iter().find(|(g, _)| g == group).map_or(0, |(_, w)| i64::from((*w).max(0)));
        match (total, self.groups.len()) {
            (0, 1) if weight == 0 && self.groups[0].0 == group => 100,
            (0, _) => 0,
            _ => ((100 * weight + total / 2) / total).clamp(0, 100) as u8,
        }
    }
}

impl Migrator {
    pub fn new(sdk: &SdkConfig) -> Self {
        Migrator {
            route53: aws_sdk_route53::Client::new(sdk),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            deployer: Deployer::new(sdk),
        }
    }

    /// The zone, load balancers, outputs, flags and rules of the deployed platform, from
    /// every edge stack of its shard plan. `given` are `--parameter` values standing in for
    /// outputs the account cannot give.
    pub async fn edge(&self, platform: &Platform, given: &BTreeMap<String, String>) -> Result<EdgeState, Error> {
        let shards = acme_synth::stacks::shards::plan(platform);
        // The shards are read side by side: one DescribeStacks and one ListStackResources each.
        let mut reads = tokio::task::JoinSet::new();
        for (i, shard) in shards.shards.iter().enumerate() {
            let (deployer, stack, index) = (self.deployer.clone(), shard.stack, shard.index);
            let stack_name = names::stack(&platform.name, stack);
            reads.spawn(async move {
                let Some(state) = deployer.describe(&stack_name).await? else { return Ok::<_, Error>((i, None)) };
                let resources = deployer.resources(&stack_name).await?;
                Ok((i, Some((index, stack, state, resources))))
            });
        }
        let mut deployed = vec![None; shards.shards.len()];
        while let Some(read) = reads.join_next().await {
            let (i, state) = read.map_err(|e| Error::Preflight(format!("reading the edge stacks failed: {e}")))??;
            deployed[i] = state;
        }
        let mut edge = EdgeState {
            zone_id: String::new(),
            load_balancers: BTreeMap::new(),
            outputs: BTreeMap::new(),
            parameters: BTreeMap::new(),
            rules: BTreeMap::new(),
        };
        if deployed.first().is_none_or(Option::is_none) {
            return Err(Error::Preflight(format!(
                "{} is not deployed: the new side has no load balancer to move traffic to yet\n\
                 help: run acmectl deploy first",
                names::stack(&platform.name, StackName::EDGE)
            )));
        }
        for (index, stack, state, resources) in deployed.into_iter().flatten() {
            edge.outputs.extend(state.outputs);
            edge.parameters.extend(state.parameters);
            edge.rules.extend(
                resources
                    .into_iter()
                    .filter(|r| r.resource_type == "AWS::ElasticLoadBalancingV2::ListenerRule")
                    .filter_map(|r| r.physical_id.map(|id| (r.logical_id, id))),
            );
            edge.outputs.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
            let output = |base: &str| {
                let name = names::edge_output(index, base);
                edge.outputs.get(&name).cloned().ok_or_else(|| {
                    Error::Preflight(format!("{} has no output {name}", names::stack(&platform.name, stack)))
                })
            };
            let alias = LoadBalancer {
                dns_name: output("LoadBalancerDnsName")?.trim_end_matches('.').to_ascii_lowercase(),
                canonical_zone_id: output("LoadBalancerCanonicalHostedZoneId")?,
            };
            let full_name = output("LoadBalancerFullName").ok();
            edge.load_balancers.insert(stack, DeployedLoadBalancer { alias, full_name });
        }
        let zone_id = match &platform.dns.zone {
            ZoneSource::Existing { id } => id.clone(),
            ZoneSource::Create => {
                let dns_name = names::stack(&platform.name, StackName::Dns);
                let dns = self.deployer.describe(&dns_name).await?;
                let zone = given
                    .get("HostedZoneId")
                    .cloned()
                    .or_else(|| dns.and_then(|d| d.outputs.get("HostedZoneId").cloned()));
                zone.ok_or_else(|| Error::Preflight(format!("{dns_name} gives no HostedZoneId: deploy it first")))?
            }
        };
        edge.zone_id = zone_id.trim_start_matches("/hostedzone/").to_owned();
        Ok(edge)
    }

    /// What the zone holds for `host`: its records, intent and lock.
    pub async fn host(&self, zone_id: &str, host: &str) -> Result<HostRecords, Error> {
        let (intent_name, lock_name) = (legacy::intent_record(host), legacy::lock_record(host));
        let (records, intent, lock) = tokio::try_join!(
            self.records_named(zone_id, host, None),
            self.records_named(zone_id, &intent_name, Some(RrType::Txt)),
            self.records_named(zone_id, &lock_name, Some(RrType::Txt)),
        )?;
        Ok(HostRecords {
            host: host.to_owned(),
            records,
            intent: intent.into_iter().next(),
            lock: lock.into_iter().next(),
        })
    }

    /// What the zone holds for each of `hosts`, from one listing of the zone (for status
    /// over many services).
    pub async fn hosts(&self, zone_id: &str, hosts: &[&str]) -> Result<Vec<HostRecords>, Error> {
        let all = self.list(zone_id, None, None, |_| true).await?;
        let named = |name: &str| -> Vec<Record> { all.iter().filter(|r| same_name(&r.name, name)).cloned().collect() };
        Ok(hosts
            .iter()
            .map(|host| HostRecords {
                host: (*host).to_owned(),
                records: named(host),
                intent: named(&legacy::intent_record(host)).into_iter().find(|r| r.rtype == "TXT"),
                lock: named(&legacy::lock_record(host)).into_iter().find(|r| r.rtype == "TXT"),
            })
            .collect())
    }

    async fn records_named(&self, zone_id: &str, name: &str, rtype: Option<RrType>) -> Result<Vec<Record>, Error> {
        self.list(zone_id, Some(name), rtype, |r| same_name(&r.name, name)).await
    }

    /// The zone's records from `start` on (the whole zone without it), while `keep` holds
    /// for them in Route 53's order.
    async fn list(
        &self,
        zone_id: &str,
        start: Option<&str>,
        rtype: Option<RrType>,
        keep: impl Fn(&Record) -> bool,
    ) -> Result<Vec<Record>, Error> {
        let mut out = vec![];
        let (mut name, mut kind, mut id) = (start.map(str::to_owned), rtype.clone(), None::<String>);
        loop {
            let page = self
                .route53
                .list_resource_record_sets()
                .hosted_zone_id(zone_id)
                .set_start_record_name(name.clone())
                .set_start_record_type(kind.clone())
                .set_start_record_identifier(id.clone())
                .send()
                .await
                .map_err(|e| Error::aws(zone_id, "ListResourceRecordSets", e))?;
            let mut past = false;
            for set in page.resource_record_sets() {
                let record = from_sdk(set);
                if start.is_some() && !keep(&record) {
                    past = true;
                    break;
                }
                if rtype.as_ref().is_none_or(|t| *t == *set.r#type()) && keep(&record) {
                    out.push(record);
                }
            }
            if past || !page.is_truncated() {
                return Ok(out);
            }
            name = page.next_record_name().map(str::to_owned);
            kind = page.next_record_type().cloned();
            id = page.next_record_identifier().map(str::to_owned);
        }
    }

    /// Send one batch; its change id. A batch Route 53 refuses (a record that is not what
    /// it was) is [`Error::Conflict`].
    pub async fn change(&self, zone_id: &str, changes: &[Change], comment: &str) -> Result<String, Error> {
        let batch = ChangeBatch::builder()
            .comment(comment.chars().take(256).collect::<String>())
            .set_changes(Some(changes.iter().map(to_sdk_change).collect::<Result<Vec<_>, _>>()?))
            .build()
            .map_err(|e| Error::Unreadable {
                stack_name: zone_id.to_owned(),
                what: "a change batch",
                reason: e.to_string(),
            })?;
        match self.route53.change_resource_record_sets().hosted_zone_id(zone_id).change_batch(batch).send().await {
            Ok(out) => {
                Ok(out.change_info().map(|c| c.id().trim_start_matches("/change/").to_owned()).unwrap_or_default())
            }
            Err(e) if e.code() == Some("InvalidChangeBatch") => Err(Error::Conflict {
                subject: zone_id.to_owned(),
                message: e.message().unwrap_or_default().to_owned(),
            }),
            Err(e) => Err(Error::aws(zone_id, "ChangeResourceRecordSets", e)),
        }
    }

    /// Whether Route 53 has the change on all its servers. A change it no longer knows of
    /// is long in sync.
    pub async fn in_sync(&self, change_id: &str) -> Result<bool, Error> {
        match self.route53.get_change().id(change_id).send().await {
            Ok(out) => Ok(out.change_info().is_some_and(|c| c.status().as_str() == "INSYNC")),
            Err(e) if e.code() == Some("NoSuchChange") => Ok(true),
            Err(e) => Err(Error::aws(change_id, "GetChange", e)),
        }
    }

    /// The forwards of the rules `arns`, by ARN.
    pub async fn forwards(&self, arns: &[String]) -> Result<BTreeMap<String, Forward>, Error> {
        if arns.is_empty() {
            return Ok(BTreeMap::new());
        }
        let out = self
            .elb
            .describe_rules()
            .set_rule_arns(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| Error::aws(&arns[0], "DescribeRules", e))?;
        Ok(out
            .rules()
            .iter()
            .map(|rule| {
                let mut groups = vec![];
                for action in rule.actions().iter().filter(|a| a.r#type() == Some(&ActionTypeEnum::Forward)) {
                    match action.forward_config().map(|f| f.target_groups()).filter(|g| !g.is_empty()) {
                        Some(tuples) => {
                            groups.extend(tuples.iter().map(|t| {
                                (t.target_group_arn().unwrap_or_default().to_owned(), t.weight().unwrap_or(1))
                            }))
                        }
                        None => groups.extend(action.target_group_arn().map(|g| (g.to_owned(), 1))),
                    }
                }
                (rule.rule_arn().unwrap_or_default().to_owned(), Forward { groups })
            })
            .collect())
    }

    /// Forward `percent` of the rule's requests to `service_group`, the rest to `old_group`.
    pub async fn set_forward(
        &self,
        rule_arn: &str,
        service_group: &str,
        old_group: &str,
        percent: u8,
    ) -> Result<(), Error> {
        let p = i32::from(percent.min(100));
        let forward = ForwardActionConfig::builder()
            .target_groups(TargetGroupTuple::builder().target_group_arn(service_group).weight(p).build())
            .target_groups(TargetGroupTuple::builder().target_group_arn(old_group).weight(100 - p).build())
            .build();
        let action = Action::builder().r#type(ActionTypeEnum::Forward).forward_config(forward).build();
        self.elb
            .modify_rule()
            .rule_arn(rule_arn)
            .actions(action)
            .send()
            .await
            .map_err(|e| Error::aws(rule_arn, "ModifyRule", e))?;
        Ok(())
    }

    /// The alarms `names`, each as it stands; a name CloudWatch does not know reads
    /// [`AlarmState::Missing`].
    pub async fn alarms(&self, names: &[String]) -> Result<Vec<AlarmReading>, Error> {
        let mut found = BTreeMap::new();
        for chunk in names.chunks(100) {
            let out = self
                .cloudwatch
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| Error::aws("CloudWatch", "DescribeAlarms", e))?;
            for a in out.metric_alarms() {
                let state = match a.state_value().map(|s| s.as_str()) {
                    Some("ALARM") => AlarmState::Alarm,
                    Some("OK") => AlarmState::Ok,
                    _ => AlarmState::InsufficientData,
                };
                let value = a.state_reason_data().and_then(last_datapoint);
                let reading = AlarmReading {
                    name: a.alarm_name().unwrap_or_default().to_owned(),
                    state,
                    reason: a.state_reason().unwrap_or_default().to_owned(),
                    threshold: a.threshold(),
                    value,
                };
                found.insert(reading.name.clone(), reading);
            }
        }
        Ok(names
            .iter()
            .map(|n| {
                found.remove(n).unwrap_or(AlarmReading {
                    name: n.clone(),
                    state: AlarmState::Missing,
                    reason: String::new(),
                    threshold: None,
                    value: None,
                })
            })
            .collect())
    }

    /// The health of a target group's targets; a read that fails is in the reading.
    pub async fn targets(&self, group_arn: &str, label: &str, required: u32) -> TargetReading {
        let mut reading = TargetReading { group: label.to_owned(), healthy: 0, unhealthy: 0, required, error: None };
        match self.elb.describe_target_health().target_group_arn(group_arn).send().await {
            Ok(out) => {
                for d in out.target_health_descriptions() {
                    match d.target_health().and_then(|h| h.state()).map(|s| s.as_str()) {
                        Some("healthy") => reading.healthy += 1,
                        Some("unhealthy") => reading.unhealthy += 1,
                        _ => {}
                    }
                }
            }
            Err(e) => reading.error = Some(aws_smithy_types::error::display::DisplayErrorContext(&e).to_string()),
        }
        reading
    }

    /// The sum of `metric` between `from` and `to`; `None` when CloudWatch has no data.
    pub async fn sum(&self, metric: &MetricRef, from: SystemTime, to: SystemTime) -> Result<Option<f64>, Error> {
        let points = self.statistics(metric, from, to, Stat::Sum).await?;
        Ok((!points.is_empty()).then(|| points.iter().sum()))
    }

    /// The worst minute's 99th percentile of `metric` between `from` and `to`.
    pub async fn p99(&self, metric: &MetricRef, from: SystemTime, to: SystemTime) -> Result<Option<f64>, Error> {
        let points = self.statistics(metric, from, to, Stat::P99).await?;
        Ok(points.into_iter().reduce(f64::max))
    }

    async fn statistics(
        &self,
        metric: &MetricRef,
        from: SystemTime,
        to: SystemTime,
        stat: Stat,
    ) -> Result<Vec<f64>, Error> {
        let to = to.max(from + Duration::from_secs(60));
        let mut request = self
            .cloudwatch
            .get_metric_statistics()
            .namespace(&metric.namespace)
            .metric_name(&metric.name)
            .start_time(DateTime::from(from))
            .end_time(DateTime::from(to))
            .period(60);
        for (name, value) in &metric.dimensions {
            request =
                request.dimensions(aws_sdk_cloudwatch::types::Dimension::builder().name(name).value(value).build());
        }
        request = match stat {
            Stat::Sum => request.statistics(aws_sdk_cloudwatch::types::Statistic::Sum),
            Stat::P99 => request.extended_statistics("p99"),
        };
        let out = request.send().await.map_err(|e| Error::aws(&metric.name, "GetMetricStatistics", e))?;
        Ok(out
            .datapoints()
            .iter()
            .filter_map(|d| match stat {
                Stat::Sum => d.sum(),
                Stat::P99 => d.extended_statistics().and_then(|e| e.get("p99")).copied(),
            })
            .collect())
    }
}

#[derive(Clone, Copy)]
enum Stat {
    Sum,
    P99,
}

/// The ALB metric of one target group: the dimensions CloudWatch files it under.
pub fn target_group_metric(name: &str, group_arn: &str, load_balancer_full_name: Option<&str>) -> MetricRef {
    let group = group_arn.rsplit(':').next().unwrap_or(group_arn).to_owned();
    let mut dimensions = vec![("TargetGroup".to_owned(), group)];
    if let Some(lb) = load_balancer_full_name {
        dimensions.push(("LoadBalancer".to_owned(), lb.to_owned()));
    }
    MetricRef { namespace: "AWS/ApplicationELB".into(), name: name.into(), dimensions }
}

/// The last datapoint an alarm's state change names (`StateReasonData.recentDatapoints`).
fn last_datapoint(data: &str) -> Option<f64> {
    let value: serde_json::Value = serde_json::from_str(data).ok()?;
    value.get("recentDatapoints")?.as_array()?.last()?.as_f64()
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.').eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn from_sdk(set: &ResourceRecordSet) -> Record {
    Record {
        name: set.name().to_owned(),
        rtype: set.r#type().as_str().to_owned(),
        set_identifier: set.set_identifier().map(str::to_owned),
        weight: set.weight(),
        ttl: set.ttl(),
        values: set.resource_records().iter().map(|r| r.value().to_owned()).collect(),
        alias: set.alias_target().map(|a| Alias {
            dns_name: a.dns_name().to_owned(),
            hosted_zone_id: a.hosted_zone_id().to_owned(),
            evaluate_target_health: a.evaluate_target_health(),
        }),
    }
}

fn to_sdk_change(change: &Change) -> Result<aws_sdk_route53::types::Change, Error> {
    let (action, record) = match change {
        Change::Create(r) => (ChangeAction::Create, r),
        Change::Delete(r) => (ChangeAction::Delete, r),
        Change::Upsert(r) => (ChangeAction::Upsert, r),
    };
    let invalid = |e: aws_sdk_route53::error::BuildError| Error::Unreadable {
        stack_name: record.name.clone(),
        what: "a record set",
        reason: e.to_string(),
    };
    let mut set = ResourceRecordSet::builder()
        .name(&record.name)
        .r#type(RrType::from(record.rtype.as_str()))
        .set_set_identifier(record.set_identifier.clone())
        .set_weight(record.weight)
        .set_ttl(record.ttl);
    for value in &record.values {
        set = set.resource_records(ResourceRecord::builder().value(value).build().map_err(invalid)?);
    }
    if let Some(a) = &record.alias {
        set = set.alias_target(
            AliasTarget::builder()
                .dns_name(&a.dns_name)
                .hosted_zone_id(&a.hosted_zone_id)
                .evaluate_target_health(a.evaluate_target_health)
                .build()
                .map_err(invalid)?,
        );
    }
    aws_sdk_route53::types::Change::builder()
        .action(action)
        .resource_record_set(set.build().map_err(invalid)?)
        .build()
        .map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_share_is_its_weight_over_the_total() {
        let f = Forward { groups: vec![("svc".into(), 25), ("old".into(), 75)] };
        assert_eq!((f.share("svc"), f.share("old"), f.share("other")), (25, 75, 0));
        let plain = Forward { groups: vec![("svc".into(), 1)] };
        assert_eq!(plain.share("svc"), 100);
        assert_eq!(Forward::default().share("svc"), 0);
    }

    #[test]
    fn an_alarms_last_datapoint_comes_from_its_reason_data() {
        assert_eq!(last_datapoint(r#"{"version":"1.0","recentDatapoints":[3.0,12.5],"threshold":5.0}"#), Some(12.5));
        assert_eq!(last_datapoint("not json"), None);
    }

    #[test]
    fn a_target_groups_metric_is_filed_under_its_arn_suffix() {
        let m = target_group_metric(
            "RequestCount",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/acme-Api-1/6d0ecf831eec9f09",
            Some("app/acme-edge/50dc6c495c0c9188"),
        );
        assert_eq!(
            m.dimensions,
            [
                ("TargetGroup".to_owned(), "targetgroup/acme-Api-1/6d0ecf831eec9f09".to_owned()),
                ("LoadBalancer".to_owned(), "app/acme-edge/50dc6c495c0c9188".to_owned()),
            ]
        );
    }
}
