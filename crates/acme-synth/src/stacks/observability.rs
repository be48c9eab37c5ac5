//! The `observability` stack: the CloudTrail trail and its buckets, the alert topic,
//! CloudWatch alarms and dashboard, and Container Insights on the cluster.
//!
//! Alarm ids and names derive from the target groups (see [`edge::targets`]); with at most
//! 100 routes there are at most 100 target groups, so the stack stays under 200 parameters
//! (one per target group ARN plus five) and 500 resources (two alarms per target group).

use crate::stacks::buckets::{deny_insecure_transport, lifecycle, private_bucket, sse_kms, sse_s3};
use crate::stacks::edge::{self, Target, stable_hash};
use crate::stacks::{names, shards};
use crate::{Stack, StackName};
use acme_cfn::resources::cloudtrail::Trail;
use acme_cfn::resources::cloudwatch::{Alarm, Dashboard, Dimension, Metric, MetricDataQuery, MetricStat};
use acme_cfn::resources::eks::{Addon, AddonPodIdentityAssociation};
use acme_cfn::resources::iam::{PolicyDocument, Principal, Role, Statement, aws_managed};
use acme_cfn::resources::logs::LogGroup;
use acme_cfn::resources::s3::{Bucket, BucketEncryption, BucketPolicy, LoggingConfiguration};
use acme_cfn::resources::sns::{Subscription, Topic, TopicPolicy};
use acme_cfn::{Expr, ExprList, ParameterType};
use acme_spec::{Database, Engine, Platform};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub const ALERT_TOPIC: &str = "AlertTopic";
pub const TRAIL: &str = "Trail";
pub const TRAIL_BUCKET: &str = "TrailBucket";
pub const TRAIL_BUCKET_POLICY: &str = "TrailBucketPolicy";
pub const TRAIL_ACCESS_LOG_BUCKET: &str = "TrailAccessLogBucket";
pub const DASHBOARD: &str = "Dashboard";
pub const CONTAINER_INSIGHTS_ROLE: &str = "ContainerInsightsRole";

/// Service account of the CloudWatch agent that the add-on installs (namespace
/// `amazon-cloudwatch`); its pod identity association names it.
const CLOUDWATCH_AGENT_SERVICE_ACCOUNT: &str = "cloudwatch-agent";

/// Log groups the add-on writes (`/aws/containerinsights/<cluster>/<kind>`), created here
/// first so they are KMS-encrypted and expire, rather than auto-created plain and kept forever.
const CONTAINER_INSIGHTS_LOG_GROUPS: [(&str, u32); 4] =
    [("application", 90), ("dataplane", 90), ("host", 90), ("performance", 30)];

/// Error-rate alarms ignore periods with fewer requests than this: one failed request
/// out of three is noise, not an outage.
const MIN_REQUESTS_FOR_ERROR_RATE: u32 = 20;

/// Fixed so the bucket policy can name the trail in `aws:SourceArn` before it exists.
/// The alarms every target group of a service has: what the migration's gates read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetAlarm {
    /// More than 5% of requests answered 5xx by the service.
    ErrorRate,
    /// p99 response time above the service's probe latency.
    Latency,
    /// A target failing its health checks.
    UnhealthyHosts,
}

impl TargetAlarm {
    pub const ALL: [TargetAlarm; 3] = [TargetAlarm::ErrorRate, TargetAlarm::Latency, TargetAlarm::UnhealthyHosts];
}

/// The load balancer's own 5xx rate (no healthy target, timeouts): what the front door of a
/// migration is judged by, while the load balancer still forwards to the old side.
/// One alarm a load balancer: `<platform>-alb-5xx-rate` for the first, `-alb-2-` on.
pub fn load_balancer_error_alarm(p: &Platform, shard: u16) -> String {
    format!("{}-{}-5xx-rate", p.name, alb_slug(shard))
}

/// `alb` for the first load balancer, `alb-2` for the second: in alarm names.
fn alb_slug(shard: u16) -> String {
    if shard == 0 { "alb".to_owned() } else { format!("alb-{}", shard + 1) }
}

/// `<platform>-<target slug>-5xx-rate` and the like: alarm names are the contract between
/// this stack, `status` and the migration's gates.
pub fn target_alarm(p: &Platform, target: &Target<'_>, alarm: TargetAlarm) -> String {
    let kind = match alarm {
        TargetAlarm::ErrorRate => "5xx-rate",
        TargetAlarm::Latency => "p99-latency",
        TargetAlarm::UnhealthyHosts => "unhealthy-hosts",
    };
    format!("{}-{}-{kind}", p.name, target.slug())
}

pub fn trail_name(p: &Platform) -> String {
    format!("{}-trail", p.name)
}

pub fn dashboard_name(p: &Platform) -> String {
    format!("{}-platform", p.name)
}

pub fn build(p: &Platform) -> Stack {
    let mut stack = Stack::new(
        StackName::Observability,
        format!("{}: CloudTrail, alert topic, CloudWatch alarms and dashboard, Container Insights", p.name),
    );
    let logs_key = stack.import(StackName::Keys, "LogsKeyArn", ParameterType::String);
    let cluster_name = stack.import(StackName::Cluster, "ClusterName", ParameterType::String);
    let cluster_arn = stack.import(StackName::Cluster, "ClusterArn", ParameterType::String);
    let plan = shards::plan(p);
    let load_balancers: BTreeMap<u16, Expr> = plan
        .shards
        .iter()
        .map(|s| {
            let name = names::edge_output(s.index, "LoadBalancerFullName");
            (s.index, stack.import(s.stack, &name, ParameterType::String))
        })
        .collect();
    let targets = edge::targets(p);
    // (TargetGroup, LoadBalancer) dimensions of each target group: `targetgroup/<name>/<id>`
    // is the ARN's last `:` field; the load balancer is its shard's.
    let target_dimensions: Vec<(Expr, Expr)> = targets
        .iter()
        .map(|t| {
            let shard = plan.of_service(&t.service.name).unwrap_or(0);
            let arn = stack.import(StackName::Edge(shard), &t.output(), ParameterType::String);
            (Expr::select(5, ExprList::Split(":".into(), arn)), load_balancers[&shard].clone())
        })
        .collect();
    let database =
        p.database.as_ref().map(|db| (db, stack.import(StackName::Data, "DatabaseInstanceId", ParameterType::String)));
    let t = &mut stack.template;

    // Alert topic.
    let topic = Expr::r#ref(ALERT_TOPIC);
    t.add(
        ALERT_TOPIC,
        Topic {
            display_name: Some(format!("{} alerts", p.name)),
            kms_master_key_id: Some(logs_key.clone()),
            ..Default::default()
        },
    );
    t.add(
        "AlertTopicPolicy",
        TopicPolicy {
            topics: vec![topic.clone()],
            policy_document: PolicyDocument::new(vec![
                Statement::allow(&["sns:Publish"], vec![topic.clone()])
                    .sid("AllowCloudWatchAlarms")
                    .principal(Principal::service("cloudwatch.amazonaws.com"))
                    .condition(json!({
                        "StringEquals": { "aws:SourceAccount": Expr::pseudo("AccountId").to_value() },
                        "ArnLike": {
                            "aws:SourceArn": Expr::sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*").to_value()
                        }
                    })),
                Statement::deny(&["sns:Publish"], vec![topic.clone()])
                    .sid("DenyInsecureTransport")
                    .principal(Principal::anyone())
                    .condition(json!({ "Bool": { "aws:SecureTransport": "false" } })),
            ]),
        },
    );
    let emails: BTreeSet<&str> = p.alerts.email.iter().map(String::as_str).collect();
    for email in emails {
        // Keyed by the address, so reordering the list does not re-subscribe anyone.
        t.add(
            format!("AlertEmail{:016X}", stable_hash(&email.to_ascii_lowercase())),
            Subscription { topic_arn: topic.clone(), protocol: "email".into(), endpoint: email.into() },
        );
    }

    // CloudTrail. Server access logs of the trail bucket go to a bucket of their own;
    // S3 delivers those only to SSE-S3 buckets.
    t.add(
        TRAIL_ACCESS_LOG_BUCKET,
        log_bucket(sse_s3(), "expire-server-access-logs", 365, None),
    )
    .retain()
    .skip_checkov(
        "CKV_AWS_18",
        "This bucket receives the S3 server access logs of the CloudTrail bucket; logging its own accesses would need another log bucket for it, without end. Only the S3 logging service writes to it.",
    );
    t.add(
        "TrailAccessLogBucketPolicy",
        BucketPolicy {
            bucket: Expr::r#ref(TRAIL_ACCESS_LOG_BUCKET),
            policy_document: PolicyDocument::new(vec![
                deny_insecure_transport(TRAIL_ACCESS_LOG_BUCKET),
                Statement::allow(&["s3:PutObject"], vec![Expr::sub(format!("${{{TRAIL_ACCESS_LOG_BUCKET}.Arn}}/*"))])
                    .sid("AllowS3ServerAccessLogs")
                    .principal(Principal::service("logging.s3.amazonaws.com"))
                    .condition(json!({
                        "ArnLike": { "aws:SourceArn": Expr::att(TRAIL_BUCKET, "Arn").to_value() },
                        "StringEquals": { "aws:SourceAccount": Expr::pseudo("AccountId").to_value() }
                    })),
            ]),
        },
    );
    t.add(
        TRAIL_BUCKET,
        log_bucket(
            sse_kms(logs_key.clone()),
            "expire-trail-logs",
            365,
            Some(LoggingConfiguration {
                destination_bucket_name: Some(Expr::r#ref(TRAIL_ACCESS_LOG_BUCKET)),
                log_file_prefix: Some("trail-bucket/".into()),
            }),
        ),
    )
    .retain();
    let trail_arn = Expr::sub(format!(
        "arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{}",
        trail_name(p)
    ));
    t.add(
        TRAIL_BUCKET_POLICY,
        BucketPolicy {
            bucket: Expr::r#ref(TRAIL_BUCKET),
            policy_document: PolicyDocument::new(vec![
                deny_insecure_transport(TRAIL_BUCKET),
                Statement::allow(&["s3:GetBucketAcl"], vec![Expr::att(TRAIL_BUCKET, "Arn")])
                    .sid("AllowCloudTrailAclCheck")
                    .principal(Principal::service("cloudtrail.amazonaws.com"))
                    .condition(json!({ "StringEquals": { "aws:SourceArn": trail_arn.to_value() } })),
                Statement::allow(
                    &["s3:PutObject"],
                    vec![Expr::sub(format!("${{{TRAIL_BUCKET}.Arn}}/AWSLogs/${{AWS::AccountId}}/*"))],
                )
                .sid("AllowCloudTrailWrite")
                .principal(Principal::service("cloudtrail.amazonaws.com"))
                .condition(json!({
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": trail_arn.to_value()
                    }
                })),
            ]),
        },
    );
    t.add(
        TRAIL,
        Trail {
            trail_name: Some(trail_name(p)),
            s3_bucket_name: Expr::r#ref(TRAIL_BUCKET),
            s3_key_prefix: None,
            is_logging: true,
            is_multi_region_trail: true,
            include_global_service_events: true,
            enable_log_file_validation: true,
            kms_key_id: Some(logs_key.clone()),
            cloud_watch_logs_log_group_arn: None,
            cloud_watch_logs_role_arn: None,
        },
    )
    // CloudTrail checks its write access to the bucket when the trail is created.
    .depends_on(TRAIL_BUCKET_POLICY);

    // Alarms.
    for (&shard, load_balancer) in &load_balancers {
        let lb_dimension = || Dimension::new("LoadBalancer", load_balancer.clone());
        let id = |base: &str| names::edge_output(shard, base);
        t.add(
        id("LoadBalancer5xxRateAlarm"),
        Alarm {
            metrics: error_rate("HTTPCode_ELB_5XX_Count", vec![lb_dimension()]),
            evaluation_periods: 3,
            datapoints_to_alarm: Some(2),
            threshold: 5.0,
            comparison_operator: "GreaterThanThreshold".into(),
            // No requests means nothing failed.
            treat_missing_data: "notBreaching".into(),
            ..alarm(
                &topic,
                load_balancer_error_alarm(p, shard),
                "More than 5% of requests answered 5xx by the load balancer itself (no healthy target, timeouts, ...)",
            )
        },
    );
        t.add(
            id("LoadBalancerLatencyAlarm"),
            Alarm {
                namespace: Some("AWS/ApplicationELB".into()),
                metric_name: Some("TargetResponseTime".into()),
                dimensions: vec![lb_dimension()],
                extended_statistic: Some("p99".into()),
                period: Some(300),
                evaluation_periods: 3,
                datapoints_to_alarm: Some(3),
                threshold: 2.0,
                comparison_operator: "GreaterThanThreshold".into(),
                treat_missing_data: "notBreaching".into(),
                ..alarm(
                    &topic,
                    format!("{}-{}-p99-latency", p.name, alb_slug(shard)),
                    "p99 target response time above 2 s for 15 minutes",
                )
            },
        );
    }
    for (target, (dimension, load_balancer)) in targets.iter().zip(&target_dimensions) {
        let dimensions = || {
            vec![
                Dimension::new("TargetGroup", dimension.clone()),
                Dimension::new("LoadBalancer", load_balancer.clone()),
            ]
        };
        let id = target.logical_id();
        t.add(
            format!("{id}UnhealthyAlarm"),
            Alarm {
                namespace: Some("AWS/ApplicationELB".into()),
                metric_name: Some("UnHealthyHostCount".into()),
                dimensions: dimensions(),
                statistic: Some("Maximum".into()),
                period: Some(60),
                evaluation_periods: 5,
                datapoints_to_alarm: Some(3),
                threshold: 0.0,
                comparison_operator: "GreaterThanThreshold".into(),
                // A group without registered targets reports nothing; that is no failure.
                treat_missing_data: "notBreaching".into(),
                ..alarm(&topic, target_alarm(p, target, TargetAlarm::UnhealthyHosts), &unhealthy_description(target))
            },
        );
        t.add(
            format!("{id}LatencyAlarm"),
            Alarm {
                namespace: Some("AWS/ApplicationELB".into()),
                metric_name: Some("TargetResponseTime".into()),
                dimensions: dimensions(),
                extended_statistic: Some("p99".into()),
                period: Some(60),
                evaluation_periods: 3,
                datapoints_to_alarm: Some(2),
                // The migration's probe asks no more of one answer (services[].migration.probe).
                threshold: target.service.migration.probe.latency_ms as f64 / 1000.0,
                comparison_operator: "GreaterThanThreshold".into(),
                treat_missing_data: "notBreaching".into(),
                ..alarm(
                    &topic,
                    target_alarm(p, target, TargetAlarm::Latency),
                    &format!(
                        "p99 response time of {} above {} ms in 2 of 3 minutes",
                        target.slug(),
                        target.service.migration.probe.latency_ms
                    ),
                )
            },
        );
        t.add(
            format!("{id}5xxAlarm"),
            Alarm {
                metrics: error_rate("HTTPCode_Target_5XX_Count", dimensions()),
                evaluation_periods: 3,
                datapoints_to_alarm: Some(2),
                threshold: 5.0,
                comparison_operator: "GreaterThanThreshold".into(),
                treat_missing_data: "notBreaching".into(),
                ..alarm(
                    &topic,
                    target_alarm(p, target, TargetAlarm::ErrorRate),
                    &format!("More than 5% of requests to {} answered 5xx by the service", target.slug()),
                )
            },
        );
    }
    if let Some((db, instance)) = &database {
        database_alarms(t, p, &topic, db, instance);
    }

    t.add(
        DASHBOARD,
        Dashboard {
            dashboard_name: Some(dashboard_name(p)),
            dashboard_body: dashboard_body(
                &targets,
                &target_dimensions,
                &load_balancers,
                database.as_ref().map(|(_, id)| id),
                &cluster_name,
            ),
        },
    );

    // Container Insights: the CloudWatch agent and Fluent Bit, with their own role through
    // EKS Pod Identity (built into Auto Mode; CloudFormation passes the association with the add-on).
    let mut log_groups = vec![];
    for (kind, days) in CONTAINER_INSIGHTS_LOG_GROUPS {
        let id = format!("ContainerInsights{}LogGroup", acme_cfn::pascal(kind));
        t.add(
            id.clone(),
            LogGroup {
                log_group_name: Some(Expr::sub(format!("/aws/containerinsights/${{ClusterName}}/{kind}"))),
                retention_in_days: days,
                kms_key_id: logs_key.clone(),
            },
        );
        log_groups.push(id);
    }
    t.add(
        CONTAINER_INSIGHTS_ROLE,
        Role {
            description: Some(
                "CloudWatch agent of the amazon-cloudwatch-observability add-on, through EKS Pod Identity".into(),
            ),
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement {
                resource: None,
                ..Statement::allow(&["sts:AssumeRole", "sts:TagSession"], Vec::<Expr>::new())
                    .principal(Principal::service("pods.eks.amazonaws.com"))
                    .condition(json!({
                        "StringEquals": { "aws:SourceAccount": Expr::pseudo("AccountId").to_value() },
                        "ArnEquals": { "aws:SourceArn": cluster_arn.to_value() }
                    }))
            }])),
            managed_policy_arns: vec![aws_managed("CloudWatchAgentServerPolicy")],
            ..Default::default()
        },
    );
    let addon = t.add(
        "ContainerInsightsAddon",
        Addon {
            addon_name: "amazon-cloudwatch-observability".into(),
            cluster_name: cluster_name.clone(),
            addon_version: None,
            resolve_conflicts: Some("OVERWRITE".into()),
            configuration_values: None,
            pod_identity_associations: vec![AddonPodIdentityAssociation {
                role_arn: Expr::att(CONTAINER_INSIGHTS_ROLE, "Arn"),
                service_account: CLOUDWATCH_AGENT_SERVICE_ACCOUNT.into(),
            }],
        },
    );
    for id in log_groups {
        addon.depends_on(id);
    }

    t.output("AlertTopicArn", "SNS topic that every alarm notifies", topic);
    t.output("TrailArn", "ARN of the multi-region CloudTrail trail", Expr::att(TRAIL, "Arn"));
    t.output("TrailBucketName", "Bucket holding the CloudTrail log files", Expr::r#ref(TRAIL_BUCKET));
    t.output("DashboardName", "CloudWatch dashboard of the platform", Expr::r#ref(DASHBOARD));
    stack
}

fn unhealthy_description(target: &Target<'_>) -> String {
    format!("Targets of {} failing health checks on {}", target.slug(), target.service.health.path)
}

/// An alarm that notifies the topic on ALARM and on OK; the rest is filled in by the caller.
fn alarm(topic: &Expr, name: String, description: &str) -> Alarm {
    Alarm {
        alarm_name: Some(name),
        alarm_description: Some(description.to_owned()),
        actions_enabled: true,
        alarm_actions: vec![topic.clone()],
        ok_actions: vec![topic.clone()],
        ..Default::default()
    }
}

/// Percentage of `errors_metric` among all requests, per five minutes, for an ALB or one
/// of its target groups (`dimensions`). Periods without requests yield no data point.
fn error_rate(errors_metric: &str, dimensions: Vec<Dimension>) -> Vec<MetricDataQuery> {
    let metric = |id: &str, name: &str| MetricDataQuery {
        id: id.into(),
        expression: None,
        label: None,
        metric_stat: Some(MetricStat {
            metric: Metric {
                namespace: "AWS/ApplicationELB".into(),
                metric_name: name.into(),
                dimensions: dimensions.clone(),
            },
            period: 300,
            stat: "Sum".into(),
        }),
        return_data: false,
    };
    vec![
        metric("errors", errors_metric),
        metric("requests", "RequestCount"),
        MetricDataQuery {
            id: "rate".into(),
            expression: Some(format!(
                "IF(requests >= {MIN_REQUESTS_FOR_ERROR_RATE}, 100 * FILL(errors, 0) / requests, 0)"
            )),
            label: Some("5xx rate (%)".into()),
            metric_stat: None,
            return_data: true,
        },
    ]
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Memory of an RDS instance class in GiB, from its family and size; `None` when unknown.
/// Graviton and Intel classes of one family have the same memory per vCPU.
pub fn instance_memory_gib(class: &str) -> Option<f64> {
    let mut parts = class.strip_prefix("db.")?.split('.');
    let family = parts.next()?;
    let size = parts.next()?;
    if family.starts_with('t') {
        return match size {
            "micro" => Some(1.0),
            "small" => Some(2.0),
            "medium" => Some(4.0),
            "large" => Some(8.0),
            "xlarge" => Some(16.0),
            "2xlarge" => Some(32.0),
            _ => None,
        };
    }
    let per_vcpu = match family.chars().next()? {
        'r' | 'z' => 8.0,
        'x' => 16.0,
        'm' => 4.0,
        _ => return None,
    };
    let vcpus = match size {
        "large" => 2.0,
        "xlarge" => 4.0,
        _ => 4.0 * size.strip_suffix("xlarge")?.parse::<f64>().ok()?,
    };
    Some(per_vcpu * vcpus)
}

/// The engine's default `max_connections` for that much memory (RDS parameter group formulas).
fn default_max_connections(engine: Engine, memory_gib: f64) -> f64 {
    let bytes = memory_gib * GIB;
    match engine {
        Engine::Postgres => (bytes / 9_531_392.0).floor().min(5000.0),
        Engine::Mysql => (bytes / 12_582_880.0).floor(),
    }
}

fn database_alarms(t: &mut acme_cfn::Template, p: &Platform, topic: &Expr, db: &Database, instance: &Expr) {
    // Unknown classes are assumed small, which errs towards alerting early on connections.
    let memory_gib = instance_memory_gib(&db.class).unwrap_or(4.0);
    let rds = |metric: &str, statistic: &str| Alarm {
        namespace: Some("AWS/RDS".into()),
        metric_name: Some(metric.into()),
        dimensions: vec![Dimension::new("DBInstanceIdentifier", instance.clone())],
        statistic: Some(statistic.into()),
        period: Some(300),
        evaluation_periods: 3,
        datapoints_to_alarm: Some(3),
        ..Default::default()
    };
    let name = |what: &str| format!("{}-rds-{what}", p.name);
    t.add(
        "DatabaseCpuAlarm",
        Alarm {
            threshold: 80.0,
            comparison_operator: "GreaterThanThreshold".into(),
            // A gap (reboot, maintenance) says nothing about load: keep the last state.
            treat_missing_data: "missing".into(),
            ..merge(
                rds("CPUUtilization", "Average"),
                alarm(topic, name("cpu"), "Database CPU above 80% for 15 minutes"),
            )
        },
    );
    t.add(
        "DatabaseConnectionsAlarm",
        Alarm {
            threshold: (default_max_connections(db.engine, memory_gib) * 0.8).floor(),
            comparison_operator: "GreaterThanThreshold".into(),
            treat_missing_data: "missing".into(),
            ..merge(
                rds("DatabaseConnections", "Maximum"),
                alarm(
                    topic,
                    name("connections"),
                    "Database connections above 80% of the engine's default max_connections",
                ),
            )
        },
    );
    t.add(
        "DatabaseFreeStorageAlarm",
        Alarm {
            threshold: (f64::from(db.storage_gb) * GIB * 0.1).floor(),
            comparison_operator: "LessThanThreshold".into(),
            // An instance that stops reporting storage is down or stopped: alert.
            treat_missing_data: "breaching".into(),
            ..merge(
                rds("FreeStorageSpace", "Minimum"),
                alarm(topic, name("free-storage"), "Database free storage below 10% of the allocated storage"),
            )
        },
    );
    t.add(
        "DatabaseFreeableMemoryAlarm",
        Alarm {
            threshold: (memory_gib * GIB * 0.1).floor(),
            comparison_operator: "LessThanThreshold".into(),
            treat_missing_data: "breaching".into(),
            ..merge(
                rds("FreeableMemory", "Minimum"),
                alarm(topic, name("freeable-memory"), "Database freeable memory below 10% of the instance's memory"),
            )
        },
    );
}

/// `metric`'s metric fields with `actions`' names, description and actions.
fn merge(metric: Alarm, actions: Alarm) -> Alarm {
    Alarm {
        alarm_name: actions.alarm_name,
        alarm_description: actions.alarm_description,
        actions_enabled: actions.actions_enabled,
        alarm_actions: actions.alarm_actions,
        ok_actions: actions.ok_actions,
        ..metric
    }
}

/// A log bucket whose objects expire after `days`.
fn log_bucket(encryption: BucketEncryption, rule: &str, days: u32, logging: Option<LoggingConfiguration>) -> Bucket {
    private_bucket(encryption, lifecycle(rule, Some(days), 90), logging)
}

/// Builds a JSON document whose string values may be CloudFormation expressions: each
/// expression stands in the JSON as a placeholder until [`JsonWithExprs::into_expr`]
/// splits the text around them into an `Fn::Join`.
struct JsonWithExprs {
    exprs: Vec<Expr>,
}

impl JsonWithExprs {
    fn value(&mut self, expr: &Expr) -> Value {
        self.exprs.push(expr.clone());
        Value::String(format!("@@{}@@", self.exprs.len() - 1))
    }

    fn into_expr(self, document: &Value) -> Expr {
        let text = document.to_string();
        let mut parts = vec![];
        let mut rest = text.as_str();
        while let Some(start) = rest.find("@@") {
            let after = &rest[start + 2..];
            let Some(len) = after.find("@@") else { break };
            let Some(expr) = after[..len].parse::<usize>().ok().and_then(|i| self.exprs.get(i)) else { break };
            parts.push(Expr::Lit(rest[..start].to_owned()));
            parts.push(expr.clone());
            rest = &after[len + 2..];
        }
        parts.push(Expr::Lit(rest.to_owned()));
        parts.retain(|p| !matches!(p, Expr::Lit(s) if s.is_empty()));
        Expr::join("", parts)
    }
}

fn widget(x: u32, y: u32, title: &str, region: &Value, stat: &str, metrics: Vec<Value>) -> Value {
    json!({
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stat": stat,
            "period": 300,
            "metrics": metrics
        }
    })
}

/// The dashboard: load balancer, target groups, database and cluster, two widgets a row.
fn dashboard_body(
    targets: &[Target<'_>],
    target_dimensions: &[(Expr, Expr)],
    load_balancers: &BTreeMap<u16, Expr>,
    database: Option<&Expr>,
    cluster: &Expr,
) -> Expr {
    let mut doc = JsonWithExprs { exprs: vec![] };
    let region = doc.value(&Expr::pseudo("Region"));
    let lbs: Vec<(u16, Value)> = load_balancers.iter().map(|(&n, lb)| (n, doc.value(lb))).collect();
    let tgs: Vec<(String, Value, Value)> =
        targets.iter().zip(target_dimensions).map(|(t, (d, lb))| (t.slug(), doc.value(d), doc.value(lb))).collect();
    // One line a load balancer; the label names the shard when there is more than one.
    let alb = |name: &str, label: &str, stat: Option<&str>| -> Vec<Value> {
        lbs.iter()
            .map(|(n, lb)| {
                let label = if lbs.len() == 1 { label.to_owned() } else { format!("{label} ({})", alb_slug(*n)) };
                let mut extra = json!({ "label": label });
                if let Some(stat) = stat {
                    extra["stat"] = json!(stat);
                }
                json!(["AWS/ApplicationELB", name, "LoadBalancer", lb, extra])
            })
            .collect()
    };
    let per_target = |name: &str| -> Vec<Value> {
        tgs.iter()
            .map(|(slug, tg, lb)| json!(["AWS/ApplicationELB", name, "TargetGroup", tg, "LoadBalancer", lb, { "label": slug }]))
            .collect()
    };

    let mut widgets = vec![
        widget(
            0,
            0,
            "Load balancer requests and 5xx",
            &region,
            "Sum",
            [
                alb("RequestCount", "requests", None),
                alb("HTTPCode_ELB_5XX_Count", "5xx from the load balancer", None),
                alb("HTTPCode_Target_5XX_Count", "5xx from services", None),
            ]
            .concat(),
        ),
        widget(
            12,
            0,
            "Target response time",
            &region,
            "p99",
            [alb("TargetResponseTime", "p50", Some("p50")), alb("TargetResponseTime", "p99", Some("p99"))].concat(),
        ),
        widget(0, 6, "Requests by service", &region, "Sum", per_target("RequestCount")),
        widget(12, 6, "5xx by service", &region, "Sum", per_target("HTTPCode_Target_5XX_Count")),
        widget(0, 12, "Unhealthy targets by service", &region, "Maximum", per_target("UnHealthyHostCount")),
        widget(12, 12, "Healthy targets by service", &region, "Minimum", per_target("HealthyHostCount")),
    ];
    let cluster = doc.value(cluster);
    let insights = |name: &str| json!(["ContainerInsights", name, "ClusterName", cluster]);
    widgets.push(widget(
        0,
        18,
        "Cluster nodes",
        &region,
        "Average",
        vec![insights("node_cpu_utilization"), insights("node_memory_utilization")],
    ));
    widgets.push(widget(
        12,
        18,
        "Cluster capacity",
        &region,
        "Maximum",
        vec![insights("cluster_node_count"), insights("cluster_failed_node_count")],
    ));
    if let Some(instance) = database {
        let db = doc.value(instance);
        let rds = |name: &str| json!(["AWS/RDS", name, "DBInstanceIdentifier", db]);
        widgets.push(widget(
            0,
            24,
            "Database CPU and connections",
            &region,
            "Average",
            vec![rds("CPUUtilization"), rds("DatabaseConnections")],
        ));
        widgets.push(widget(
            12,
            24,
            "Database free storage and memory",
            &region,
            "Minimum",
            vec![rds("FreeStorageSpace"), rds("FreeableMemory")],
        ));
    }
    doc.into_expr(&json!({ "widgets": widgets }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stacks::testing::resource;
    use acme_cfn::Resource;
    use acme_spec::{Route, Service, fixture};

    fn prop<'a>(r: &'a Resource, path: &str) -> &'a Value {
        r.property(path).unwrap_or_else(|| panic!("no property {path}"))
    }

    fn alarms(stack: &Stack) -> Vec<(&String, &Resource)> {
        stack.template.resources_of_type("AWS::CloudWatch::Alarm").collect()
    }

    #[test]
    fn trail_is_multi_region_validated_and_encrypted() {
        let stack = build(&fixture::acme());
        let trail = resource(&stack, TRAIL);
        assert_eq!(prop(trail, "IsMultiRegionTrail"), true);
        assert_eq!(prop(trail, "EnableLogFileValidation"), true);
        assert_eq!(prop(trail, "IsLogging"), true);
        assert_eq!(prop(trail, "KMSKeyId"), &json!({ "Ref": "LogsKeyArn" }));
        assert!(trail.depends_on.contains(&TRAIL_BUCKET_POLICY.to_owned()));

        let bucket = resource(&stack, TRAIL_BUCKET);
        assert_eq!(bucket.deletion_policy, Some(acme_cfn::Policy::Retain));
        let sse = "BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault";
        assert_eq!(prop(bucket, &format!("{sse}.SSEAlgorithm")), "aws:kms");
        assert_eq!(prop(bucket, &format!("{sse}.KMSMasterKeyID")), &json!({ "Ref": "LogsKeyArn" }));
        assert_eq!(
            prop(bucket, "LoggingConfiguration.DestinationBucketName"),
            &json!({ "Ref": TRAIL_ACCESS_LOG_BUCKET })
        );

        let policy = resource(&stack, TRAIL_BUCKET_POLICY);
        let statements = prop(policy, "PolicyDocument.Statement").as_array().cloned().unwrap_or_default();
        let trail_arn =
            json!({ "Fn::Sub": "arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/acme-trail" });
        let cloudtrail: Vec<&Value> =
            statements.iter().filter(|s| s["Principal"]["Service"][0] == "cloudtrail.amazonaws.com").collect();
        assert_eq!(cloudtrail.len(), 2);
        assert!(cloudtrail.iter().all(|s| s["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn));
        assert!(
            statements
                .iter()
                .any(|s| s["Effect"] == "Deny" && s["Condition"]["Bool"]["aws:SecureTransport"] == "false")
        );
    }

    #[test]
    fn every_alarm_notifies_the_topic_on_alarm_and_ok() {
        let stack = build(&fixture::acme());
        let topic = json!({ "Ref": ALERT_TOPIC });
        let all = alarms(&stack);
        assert!(all.len() >= 14, "{} alarms", all.len());
        for (id, alarm) in all {
            assert!(prop(alarm, "AlarmActions").as_array().is_some_and(|a| a.contains(&topic)), "{id}");
            assert!(prop(alarm, "OKActions").as_array().is_some_and(|a| a.contains(&topic)), "{id}");
            assert!(alarm.property("TreatMissingData").is_some(), "{id}");
        }
    }

    #[test]
    fn every_routed_service_has_a_5xx_and_an_unhealthy_hosts_alarm() {
        let p = fixture::acme();
        let stack = build(&p);
        for target in edge::targets(&p) {
            let id = target.logical_id();
            let errors = resource(&stack, &format!("{id}5xxAlarm"));
            let metric = prop(errors, "Metrics.0.MetricStat.Metric");
            assert_eq!(metric["MetricName"], "HTTPCode_Target_5XX_Count");
            assert_eq!(
                metric["Dimensions"][0]["Value"],
                json!({ "Fn::Select": [5, { "Fn::Split": [":", { "Ref": format!("{id}Arn") }] }] })
            );
            assert_eq!(metric["Dimensions"][1]["Value"], json!({ "Ref": "LoadBalancerFullName" }));
            let unhealthy = resource(&stack, &format!("{id}UnhealthyAlarm"));
            assert_eq!(prop(unhealthy, "MetricName"), "UnHealthyHostCount");
        }
        let routed: BTreeSet<&str> =
            p.services.iter().filter(|s| !s.routes.is_empty()).map(|s| s.name.as_str()).collect();
        let alarmed: BTreeSet<&str> =
            edge::targets(&p).iter().map(|t| t.service.name.as_str()).collect::<Vec<_>>().into_iter().collect();
        assert_eq!(routed, alarmed);
    }

    #[test]
    fn load_balancer_error_rate_is_metric_math() {
        let stack = build(&fixture::acme());
        let alarm = resource(&stack, "LoadBalancer5xxRateAlarm");
        assert_eq!(prop(alarm, "Metrics.0.MetricStat.Metric.MetricName"), "HTTPCode_ELB_5XX_Count");
        assert_eq!(prop(alarm, "Metrics.1.MetricStat.Metric.MetricName"), "RequestCount");
        assert!(prop(alarm, "Metrics.2.Expression").as_str().is_some_and(|e| e.contains("errors, 0) / requests")));
        assert_eq!(prop(alarm, "Metrics.2.ReturnData"), true);
        let latency = resource(&stack, "LoadBalancerLatencyAlarm");
        assert_eq!(prop(latency, "ExtendedStatistic"), "p99");
    }

    #[test]
    fn topic_is_encrypted_with_one_subscription_per_address() {
        let mut p = fixture::acme();
        p.alerts.email =
            vec!["ops@acme.example.com".into(), "oncall@acme.example.com".into(), "ops@acme.example.com".into()];
        let stack = build(&p);
        assert_eq!(prop(resource(&stack, ALERT_TOPIC), "KmsMasterKeyId"), &json!({ "Ref": "LogsKeyArn" }));
        let mut endpoints: Vec<&str> = stack
            .template
            .resources_of_type("AWS::SNS::Subscription")
            .map(|(_, s)| {
                assert_eq!(prop(s, "Protocol"), "email");
                prop(s, "Endpoint").as_str().unwrap_or_default()
            })
            .collect();
        endpoints.sort_unstable();
        assert_eq!(endpoints, ["oncall@acme.example.com", "ops@acme.example.com"]);
        let policy = resource(&stack, "AlertTopicPolicy");
        assert_eq!(prop(policy, "PolicyDocument.Statement.0.Principal.Service.0"), "cloudwatch.amazonaws.com");
        assert_eq!(
            prop(policy, "PolicyDocument.Statement.0.Condition.StringEquals.aws:SourceAccount"),
            &json!({ "Ref": "AWS::AccountId" })
        );
    }

    #[test]
    fn database_alarms_only_with_a_database() {
        let p = fixture::acme();
        let stack = build(&p);
        let rds =
            |s: &Stack| alarms(s).iter().filter(|(_, a)| a.property("Namespace") == Some(&json!("AWS/RDS"))).count();
        assert_eq!(rds(&stack), 4);
        // db.r7g.large: 16 GiB; PostgreSQL's default max_connections is memory / 9531392.
        let connections = resource(&stack, "DatabaseConnectionsAlarm");
        assert_eq!(prop(connections, "Threshold").as_f64(), Some((1802.0_f64 * 0.8).floor()));

        let mut without = p.clone();
        without.database = None;
        let stack = build(&without);
        assert_eq!(rds(&stack), 0);
        assert!(!stack.template.parameters.contains_key("DatabaseInstanceId"));
        assert!(!dashboard_text(&stack).contains("AWS/RDS"));
    }

    #[test]
    fn instance_memory_of_common_classes() {
        assert_eq!(instance_memory_gib("db.r7g.large"), Some(16.0));
        assert_eq!(instance_memory_gib("db.m6i.2xlarge"), Some(32.0));
        assert_eq!(instance_memory_gib("db.t4g.micro"), Some(1.0));
        assert_eq!(instance_memory_gib("db.x2g.xlarge"), Some(64.0));
        assert_eq!(instance_memory_gib("db.r6g.metal"), None);
        assert_eq!(instance_memory_gib("r7g.large"), None);
    }

    /// The dashboard body with every expression replaced by a sample value.
    fn dashboard_text(stack: &Stack) -> String {
        let body = prop(resource(stack, DASHBOARD), "DashboardBody.Fn::Join.1");
        body.as_array()
            .into_iter()
            .flatten()
            .map(|part| part.as_str().map_or_else(|| "x".to_owned(), str::to_owned))
            .collect()
    }

    #[test]
    fn dashboard_is_valid_json_with_every_part() {
        let stack = build(&fixture::acme());
        let text = dashboard_text(&stack);
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let titles: Vec<&str> =
            doc["widgets"].as_array().into_iter().flatten().filter_map(|w| w["properties"]["title"].as_str()).collect();
        assert!(titles.iter().any(|t| t.contains("Load balancer")));
        assert!(titles.iter().any(|t| t.contains("by service")));
        assert!(titles.iter().any(|t| t.contains("Database")));
        assert!(titles.iter().any(|t| t.contains("Cluster")));
        assert_eq!(build(&fixture::acme()), stack, "deterministic");
    }

    #[test]
    fn container_insights_addon_uses_pod_identity() {
        let stack = build(&fixture::acme());
        let addon = resource(&stack, "ContainerInsightsAddon");
        assert_eq!(prop(addon, "AddonName"), "amazon-cloudwatch-observability");
        assert_eq!(prop(addon, "ClusterName"), &json!({ "Ref": "ClusterName" }));
        assert_eq!(prop(addon, "PodIdentityAssociations.0.ServiceAccount"), "cloudwatch-agent");
        assert_eq!(
            prop(addon, "PodIdentityAssociations.0.RoleArn"),
            &json!({ "Fn::GetAtt": [CONTAINER_INSIGHTS_ROLE, "Arn"] })
        );
        let role = resource(&stack, CONTAINER_INSIGHTS_ROLE);
        let trust = prop(role, "AssumeRolePolicyDocument.Statement.0");
        assert_eq!(trust["Principal"]["Service"][0], "pods.eks.amazonaws.com");
        assert_eq!(trust["Action"], json!(["sts:AssumeRole", "sts:TagSession"]));
        assert_eq!(trust["Condition"]["StringEquals"]["aws:SourceAccount"], json!({ "Ref": "AWS::AccountId" }));
        assert_eq!(
            prop(role, "ManagedPolicyArns.0"),
            &json!({ "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/CloudWatchAgentServerPolicy" })
        );
        for (_, group) in stack.template.resources_of_type("AWS::Logs::LogGroup") {
            assert_eq!(prop(group, "KmsKeyId"), &json!({ "Ref": "LogsKeyArn" }));
        }
    }

    #[test]
    fn outputs_of_the_contract() {
        let stack = build(&fixture::acme());
        for name in ["AlertTopicArn", "TrailArn", "TrailBucketName", "DashboardName"] {
            assert!(stack.template.outputs.contains_key(name), "{name}");
        }
    }

    #[test]
    fn the_largest_platform_fits_cloudformation_quotas() {
        let mut p = fixture::acme();
        let template = p.services[0].clone();
        p.services = (0..200)
            .map(|i| Service {
                name: format!("service-number-{i:03}"),
                routes: if i < 100 {
                    vec![Route {
                        host: format!("h{}.acme.example.com", i % 25),
                        path: Some(format!("/p{i}")),
                        port: 8080,
                    }]
                } else {
                    vec![]
                },
                ..template.clone()
            })
            .collect();
        let stack = build(&p);
        let t = &stack.template;
        assert!(t.resources.len() <= 500, "{} resources", t.resources.len());
        assert!(t.parameters.len() <= 200, "{} parameters", t.parameters.len());
        assert!(t.outputs.len() <= 200);
        assert!(
            alarms(&stack)
                .iter()
                .all(|(_, a)| a.property("AlarmName").and_then(Value::as_str).is_some_and(|n| n.len() <= 255))
        );
        let size = acme_cfn::yaml::to_string(&t.to_value()).len();
        assert!(size <= 1_000_000, "template of {size} bytes is over CloudFormation's 1 MB limit");
    }

    #[test]
    fn each_load_balancer_has_its_alarms_and_each_target_group_its_shards_dimension() {
        let p = crate::stacks::testing::with_own_hosts(26);
        let stack = build(&p);
        assert_eq!(prop(resource(&stack, "LoadBalancer5xxRateAlarm"), "AlarmName"), "acme-alb-5xx-rate");
        let second = resource(&stack, "Edge2LoadBalancer5xxRateAlarm");
        assert_eq!(prop(second, "AlarmName"), "acme-alb-2-5xx-rate");
        assert_eq!(load_balancer_error_alarm(&p, 1), "acme-alb-2-5xx-rate");
        assert!(stack.template.resources.contains_key("Edge2LoadBalancerLatencyAlarm"));
        let lb_of = |id: &str| prop(resource(&stack, id), "Dimensions.1.Value").clone();
        assert_eq!(lb_of("Extra25TargetGroupUnhealthyAlarm"), json!({ "Ref": "Edge2LoadBalancerFullName" }));
        assert_eq!(lb_of("Extra0TargetGroupUnhealthyAlarm"), json!({ "Ref": "LoadBalancerFullName" }));
        let imported: Vec<(&str, StackName)> = stack.inputs.iter().map(|i| (i.output.as_str(), i.from)).collect();
        assert!(imported.contains(&("Extra25TargetGroupArn", StackName::Edge(1))), "{imported:?}");
    }
}
