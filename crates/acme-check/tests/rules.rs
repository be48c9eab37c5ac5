//! Every built-in rule: the bundled acme.yaml passes it, and breaking it through acme.yaml
//! or an override makes it fire on the right resource with the right requirement.

use acme_check::{Finding, Location, Report, check, rules};
use acme_spec::{Platform, Source, fixture};
use acme_synth::{StackName, synthesize};

const BUNDLED: &str = include_str!("../../../acme.yaml");

/// Loads `text`, synthesizes, applies overrides, checks with built-in rules only.
fn run(text: &str) -> Report {
    let source = Source::new("acme.yaml", text);
    let platform = source.load().unwrap_or_else(|e| panic!("{e:?}"));
    report(&platform)
}

fn report(platform: &Platform) -> Report {
    let mut artifacts = synthesize(platform);
    artifacts.apply_overrides(&platform.overrides).unwrap_or_else(|e| panic!("{e:?}"));
    check(platform, &artifacts, Default::default()).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The bundled file plus `extra` YAML appended (overrides, check).
fn with(extra: &str) -> Report {
    run(&format!("{BUNDLED}\n{extra}"))
}

/// The bundled file with `from` replaced by `to`.
fn replaced(from: &str, to: &str) -> Report {
    assert!(BUNDLED.contains(from), "acme.yaml has no `{from}`");
    run(&BUNDLED.replacen(from, to, 1))
}

fn override_of(stack: &str, resource: &str, path: &str, value: &str) -> String {
    format!("overrides:\n  - stack: {stack}\n    resource: {resource}\n    path: {path}\n    value: {value}\n")
}

fn removal(stack: &str, resource: &str, path: &str) -> String {
    format!("overrides:\n  - stack: {stack}\n    resource: {resource}\n    path: {path}\n    remove: true\n")
}

/// The findings of `rule`; asserts there is at least one and that each quotes the rule's requirement.
fn fired<'a>(report: &'a Report, rule: &str) -> Vec<&'a Finding> {
    let found: Vec<&Finding> = report.findings.iter().filter(|f| f.rule == rule).collect();
    assert!(!found.is_empty(), "{rule} did not fire; findings: {:#?}", report.findings);
    let requirement = rules::all().into_iter().find(|r| r.id == rule).map(|r| r.requirement.to_string());
    for f in &found {
        assert_eq!(Some(&f.requirement), requirement.as_ref(), "{rule} quotes its requirement");
    }
    found
}

/// Asserts `rule` fired on `stack`/`resource`, caused by `field` (acme.yaml field or override).
fn assert_fires(report: &Report, rule: &str, stack: StackName, resource: &str, field: Option<&str>) {
    let found = fired(report, rule);
    let at = Location::resource(stack, resource);
    let hit =
        found.iter().find(|f| f.location == at).unwrap_or_else(|| panic!("{rule} fired, but not on {at}: {found:#?}"));
    assert_eq!(hit.fix.field.as_deref(), field, "{rule} on {at} names its cause: {hit:#?}");
    assert!(!hit.fix.text.is_empty() && !hit.message.is_empty());
}

#[test]
fn the_bundled_platform_passes_every_rule() {
    let report = run(BUNDLED);
    assert!(report.passed(), "{:#?}", report.findings);
    assert!(report.rules.len() >= 25, "{} rules", report.rules.len());
}

#[path = "../../acme-synth/tests/common/mod.rs"]
mod common;

#[test]
fn every_variant_passes_and_the_relaxed_one_fires_exactly_its_relaxations() {
    for (name, platform) in common::variants() {
        let report = report(&platform);
        let mut fired: Vec<(&str, Option<&str>)> =
            report.findings.iter().map(|f| (f.rule.as_str(), f.fix.field.as_deref())).collect();
        fired.sort_unstable();
        if name == "relaxed" {
            assert_eq!(
                fired,
                [
                    ("ACME-DB-004", Some("database.backup_retention_days")),
                    ("ACME-DB-006", Some("database.multi_az")),
                    ("ACME-LB-003", Some("edge.waf"))
                ],
                "{:#?}",
                report.findings
            );
        } else {
            assert!(fired.is_empty(), "[{name}] {:#?}", report.findings);
        }
    }
}

const DATA: StackName = StackName::Data;
const O0: Option<&str> = Some("overrides[0]");

#[test]
fn key_001_customer_managed_keys() {
    let r = with(&removal("observability", "AlertTopic", "Properties.KmsMasterKeyId"));
    assert_fires(&r, "ACME-KEY-001", StackName::Observability, "AlertTopic", O0);
    let r = with(&override_of(
        "services",
        "ApiUploadsBucket",
        "Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault",
        "{ SSEAlgorithm: AES256 }",
    ));
    assert_fires(&r, "ACME-KEY-001", StackName::Services, "ApiUploadsBucket", O0);
    let r = with(&override_of("data", "Database", "Properties.MasterUserSecret", "{}"));
    assert_fires(&r, "ACME-KEY-001", DATA, "Database", O0);
}

#[test]
fn key_002_rotation() {
    let r = with(&override_of("keys", "DataKey", "Properties.EnableKeyRotation", "false"));
    assert_fires(&r, "ACME-KEY-002", StackName::Keys, "DataKey", O0);
}

#[test]
fn lb_001_modern_tls_policy() {
    let r = replaced("  waf: true", "  waf: true\n  tls_policy: ELBSecurityPolicy-2016-08");
    assert_fires(&r, "ACME-LB-001", StackName::EDGE, "HttpsListener", Some("edge.tls_policy"));
    let r = with(&override_of("edge", "HttpsListener", "Properties.SslPolicy", "ELBSecurityPolicy-TLS-1-1-2017-01"));
    assert_fires(&r, "ACME-LB-001", StackName::EDGE, "HttpsListener", O0);
    assert!(replaced("  waf: true", "  waf: true\n  tls_policy: ELBSecurityPolicy-TLS13-1-3-2021-06").passed());
}

#[test]
fn lb_002_http_only_redirects() {
    let r = with(&override_of(
        "edge",
        "HttpListener",
        "Properties.DefaultActions",
        "[{ Type: fixed-response, FixedResponseConfig: { StatusCode: \"200\" } }]",
    ));
    assert_fires(&r, "ACME-LB-002", StackName::EDGE, "HttpListener", O0);
}

#[test]
fn lb_003_waf() {
    let r = replaced("  waf: true", "  waf: false");
    assert_fires(&r, "ACME-LB-003", StackName::EDGE, "LoadBalancer", Some("edge.waf"));
}

#[test]
fn db_001_not_public() {
    let r = with(&override_of("data", "Database", "Properties.PubliclyAccessible", "true"));
    assert_fires(&r, "ACME-DB-001", DATA, "Database", O0);
}

#[test]
fn db_002_encrypted() {
    let r = with(&override_of("data", "Database", "Properties.StorageEncrypted", "false"));
    assert_fires(&r, "ACME-DB-002", DATA, "Database", O0);
    let r = with(&override_of("data", "Database", "Properties.KmsKeyId", "alias/aws/rds"));
    assert_fires(&r, "ACME-DB-002", DATA, "Database", O0);
}

#[test]
fn db_003_tls_enforced() {
    let r = with(&override_of("data", "DatabaseParameterGroup", "Properties.Parameters", "{ log_connections: \"1\" }"));
    assert_fires(&r, "ACME-DB-003", DATA, "DatabaseParameterGroup", O0);
}

#[test]
fn db_004_backup_retention() {
    let r = replaced("backup_retention_days: 14", "backup_retention_days: 3");
    assert_fires(&r, "ACME-DB-004", DATA, "Database", Some("database.backup_retention_days"));
    let r = with(&override_of("data", "Database", "Properties.BackupRetentionPeriod", "1"));
    assert_fires(&r, "ACME-DB-004", DATA, "Database", O0);
}

#[test]
fn db_005_deletion_protection() {
    let r = replaced("backup_retention_days: 14", "backup_retention_days: 14\n  deletion_protection: false");
    assert_fires(&r, "ACME-DB-005", DATA, "Database", Some("database.deletion_protection"));
}

#[test]
fn db_006_multi_az() {
    let r = replaced("backup_retention_days: 14", "backup_retention_days: 14\n  multi_az: false");
    assert_fires(&r, "ACME-DB-006", DATA, "Database", Some("database.multi_az"));
    let r = with(&override_of("data", "Database", "Properties.MultiAZ", "false"));
    assert_fires(&r, "ACME-DB-006", DATA, "Database", O0);
}

#[test]
fn db_007_managed_master_secret() {
    let r = with(&override_of("data", "Database", "Properties.MasterUserPassword", "hunter2hunter2"));
    assert_fires(&r, "ACME-DB-007", DATA, "Database", O0);
}

#[test]
fn db_008_minor_upgrades() {
    let r = with(&override_of("data", "Database", "Properties.AutoMinorVersionUpgrade", "false"));
    assert_fires(&r, "ACME-DB-008", DATA, "Database", O0);
}

#[test]
fn eks_001_endpoint() {
    let r = replaced("  admins:", "  public_access_cidrs: [0.0.0.0/0]\n  admins:");
    assert_fires(&r, "ACME-EKS-001", StackName::Cluster, "Cluster", Some("cluster.public_access_cidrs"));
    assert!(replaced("  admins:", "  public_access_cidrs: [203.0.113.0/24]\n  admins:").passed());
    let r = with(&override_of("cluster", "Cluster", "Properties.ResourcesVpcConfig.EndpointPublicAccess", "true"));
    assert_fires(&r, "ACME-EKS-001", StackName::Cluster, "Cluster", O0);
}

#[test]
fn eks_002_secrets_encrypted() {
    let r = with(&removal("cluster", "Cluster", "Properties.EncryptionConfig"));
    assert_fires(&r, "ACME-EKS-002", StackName::Cluster, "Cluster", O0);
}

#[test]
fn eks_003_all_log_types() {
    let r =
        with(&override_of("cluster", "Cluster", "Properties.Logging.ClusterLogging.EnabledTypes", "[{ Type: api }]"));
    assert_fires(&r, "ACME-EKS-003", StackName::Cluster, "Cluster", O0);
    assert!(r.findings.iter().any(|f| f.message.contains("audit")), "names the missing types");
}

#[test]
fn eks_004_nodes_updated_automatically() {
    let r = with(&override_of("cluster", "Cluster", "Properties.ComputeConfig.Enabled", "false"));
    assert_fires(&r, "ACME-EKS-004", StackName::Cluster, "Cluster", O0);
}

#[test]
fn iam_001_no_star_on_star() {
    let r = with(&override_of(
        "ci",
        "CiRole",
        "Properties.Policies[0].PolicyDocument.Statement[0]",
        "{ Effect: Allow, Action: \"*\", Resource: \"*\" }",
    ));
    assert_fires(&r, "ACME-IAM-001", StackName::Ci, "CiRole", O0);
}

#[test]
fn iam_002_no_admin_policy() {
    let r = with(&override_of(
        "services",
        "ApiRole",
        "Properties.ManagedPolicyArns",
        "[\"arn:aws:iam::aws:policy/AdministratorAccess\"]",
    ));
    assert_fires(&r, "ACME-IAM-002", StackName::Services, "ApiRole", O0);
}

#[test]
fn iam_003_service_roles_reach_only_their_uses() {
    // auth reaching api's bucket
    let r = with(&override_of(
        "services",
        "AuthRole",
        "Properties.Policies[0].PolicyDocument.Statement[0].Resource[0]",
        "{ \"Fn::GetAtt\": [ApiUploadsBucket, Arn] }",
    ));
    assert_fires(&r, "ACME-IAM-003", StackName::Services, "AuthRole", O0);
    let r = with(&override_of(
        "services",
        "ApiRole",
        "Properties.Policies[0].PolicyDocument.Statement[2].Resource",
        "[\"arn:aws:s3:::*\"]",
    ));
    assert_fires(&r, "ACME-IAM-003", StackName::Services, "ApiRole", O0);
}

#[test]
fn iam_004_exact_trust() {
    let r = with(&override_of(
        "ci",
        "CiRole",
        "Properties.AssumeRolePolicyDocument.Statement[0].Principal",
        "{ AWS: \"arn:aws:iam::111122223333:root\" }",
    ));
    assert_fires(&r, "ACME-IAM-004", StackName::Ci, "CiRole", O0);
    let r = with(&override_of(
        "services",
        "ApiRole",
        "Properties.AssumeRolePolicyDocument.Statement[0].Principal",
        "\"*\"",
    ));
    assert_fires(&r, "ACME-IAM-004", StackName::Services, "ApiRole", O0);
}

#[test]
fn net_001_nothing_open_to_the_world_but_the_alb_on_80_and_443() {
    let r = with(&override_of(
        "network",
        "EndpointSecurityGroup",
        "Properties.SecurityGroupIngress[0].CidrIp",
        "0.0.0.0/0",
    ));
    assert_fires(&r, "ACME-NET-001", StackName::Network, "EndpointSecurityGroup", O0);
    let r = with(&override_of(
        "edge",
        "LoadBalancerSecurityGroup",
        "Properties.SecurityGroupIngress[2]",
        "{ IpProtocol: tcp, FromPort: 8080, ToPort: 8080, CidrIpv6: \"::/0\" }",
    ));
    assert_fires(&r, "ACME-NET-001", StackName::EDGE, "LoadBalancerSecurityGroup", O0);
    let r = with(&removal("data", "DatabaseSecurityGroup", "Properties.SecurityGroupEgress"));
    assert_fires(&r, "ACME-NET-001", DATA, "DatabaseSecurityGroup", O0);
}

#[test]
fn trail_001_multi_region_validated_encrypted() {
    let r = with(&override_of("observability", "Trail", "Properties.IsMultiRegionTrail", "false"));
    assert_fires(&r, "ACME-TRAIL-001", StackName::Observability, "Trail", O0);
    let r = with(&removal("observability", "Trail", "Properties.KMSKeyId"));
    assert_fires(&r, "ACME-TRAIL-001", StackName::Observability, "Trail", O0);
}

#[test]
fn ecr_001_scan_on_push() {
    let r =
        with(&override_of("registry", "ApiRepository", "Properties.ImageScanningConfiguration.ScanOnPush", "false"));
    assert_fires(&r, "ACME-ECR-001", StackName::Registry, "ApiRepository", O0);
}

#[test]
fn ecr_002_immutable_tags() {
    let r = with(&override_of("registry", "WebRepository", "Properties.ImageTagMutability", "MUTABLE"));
    assert_fires(&r, "ACME-ECR-002", StackName::Registry, "WebRepository", O0);
}

#[test]
fn s3_001_public_access_blocked() {
    let r = with(&override_of(
        "services",
        "ApiUploadsBucket",
        "Properties.PublicAccessBlockConfiguration.BlockPublicPolicy",
        "false",
    ));
    assert_fires(&r, "ACME-S3-001", StackName::Services, "ApiUploadsBucket", O0);
}

#[test]
fn s3_002_tls_only() {
    let r = with(&override_of("services", "ApiUploadsBucketPolicy", "Properties.PolicyDocument.Statement", "[]"));
    assert_fires(&r, "ACME-S3-002", StackName::Services, "ApiUploadsBucketPolicy", O0);
}

#[test]
fn s3_003_encrypted() {
    let r = with(&removal("services", "ApiUploadsBucket", "Properties.BucketEncryption"));
    assert_fires(&r, "ACME-S3-003", StackName::Services, "ApiUploadsBucket", O0);
}

#[test]
fn s3_004_log_buckets_versioned() {
    let r = with(&override_of("edge", "AccessLogBucket", "Properties.VersioningConfiguration.Status", "Suspended"));
    assert_fires(&r, "ACME-S3-004", StackName::EDGE, "AccessLogBucket", O0);
    let r = with(&removal("observability", "TrailBucket", "Properties.VersioningConfiguration"));
    assert_fires(&r, "ACME-S3-004", StackName::Observability, "TrailBucket", O0);
}

#[test]
fn alarm_001_every_alarm_notifies() {
    let r = with(&override_of("observability", "DatabaseCpuAlarm", "Properties.AlarmActions", "[]"));
    assert_fires(&r, "ACME-ALARM-001", StackName::Observability, "DatabaseCpuAlarm", O0);
}

#[test]
fn alarm_002_topic_has_a_subscriber() {
    let r = replaced("  email: [ops@acme.example.com]", "  email: []");
    assert_fires(&r, "ACME-ALARM-002", StackName::Observability, "AlertTopic", Some("alerts.email"));
}

#[test]
fn backup_001_plan_covers_the_database() {
    let r = with(&override_of("backup", "BackupSelection", "Properties.BackupSelection.Resources", "[]"));
    assert_fires(&r, "ACME-BACKUP-001", StackName::Backup, "BackupSelection", O0);
    let r = with(&override_of("backup", "BackupPlan", "Properties.BackupPlan.BackupPlanRule", "[]"));
    assert_fires(&r, "ACME-BACKUP-001", StackName::Backup, "BackupPlan", O0);
}

#[test]
fn every_builtin_rule_has_a_test_here() {
    let source = include_str!("rules.rs");
    for rule in rules::all() {
        let id = rule.id.to_ascii_lowercase().trim_start_matches("acme-").replace('-', "_");
        assert!(source.contains(&format!("fn {id}_")), "no test `{id}_...` for {}", rule.id);
    }
}

#[test]
fn rule_ids_are_unique_and_well_formed() {
    let mut ids: Vec<&str> = rules::all().iter().map(|r| r.id).collect();
    for id in &ids {
        let parts: Vec<&str> = id.split('-').collect();
        assert!(
            parts.len() == 3
                && parts[0] == "ACME"
                && parts[2].len() == 3
                && parts[2].bytes().all(|b| b.is_ascii_digit()),
            "{id}"
        );
    }
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate rule ids");
}

#[test]
fn fixture_passes_too() {
    assert!(report(&fixture::acme()).passed());
}

// Kubernetes objects: acme.yaml has no field that weakens them and overrides patch only
// CloudFormation, so these tests break the synthesized objects themselves.

use acme_synth::kubernetes::Object;

/// Check of the bundled platform after `change` to its synthesized Kubernetes objects.
fn with_objects(change: impl FnOnce(&mut Vec<Object>)) -> Report {
    let platform = fixture::acme();
    let mut artifacts = synthesize(&platform);
    let mut objects: Vec<Object> = artifacts.kubernetes.platform.drain(..).collect();
    for (_, service_objects) in &mut artifacts.kubernetes.services {
        objects.append(service_objects);
    }
    change(&mut objects);
    artifacts.kubernetes.platform = objects;
    check(&platform, &artifacts, Default::default()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn assert_fires_on_object(report: &Report, rule: &str, key: &str) {
    let found = fired(report, rule);
    assert!(found.iter().any(|f| f.location.resource_key() == key), "{rule} fired, but not on {key}: {found:#?}");
}

fn is(o: &Object, kind: &str, namespace: &str, name: &str) -> bool {
    o.kind() == kind && o.namespace() == Some(namespace) && o.name() == name
}

#[test]
fn k8s_001_default_deny_in_every_namespace() {
    let r = with_objects(|objects| objects.retain(|o| !is(o, "NetworkPolicy", "api", "default-deny")));
    assert_fires_on_object(&r, "ACME-K8S-001", "Namespace//api");
}

#[test]
fn k8s_002_allow_rules_trace_to_acme_yaml() {
    let r = with_objects(|objects| {
        for o in objects.iter_mut() {
            if let Object::NetworkPolicy(p) = o
                && p.metadata.namespace.as_deref() == Some("auth")
                && p.metadata.name.as_deref() == Some("auth-from-alb")
            {
                p.metadata.annotations = None;
            }
        }
    });
    assert_fires_on_object(&r, "ACME-K8S-002", "NetworkPolicy/auth/auth-from-alb");
}

#[test]
fn pod_001_pods_hardened() {
    let r = with_objects(|objects| {
        for o in objects.iter_mut() {
            if let Object::Deployment(d) = o
                && d.metadata.name.as_deref() == Some("chat")
            {
                let pod = d.spec.as_mut().and_then(|s| s.template.spec.as_mut()).expect("pod spec");
                if let Some(sc) = pod.containers[0].security_context.as_mut() {
                    sc.read_only_root_filesystem = Some(false);
                }
            }
        }
    });
    assert_fires_on_object(&r, "ACME-POD-001", "Deployment/chat/chat");
}

#[test]
fn pod_002_zone_spread_and_disruption_budget() {
    let r =
        with_objects(|objects| objects.retain(|o| o.kind() != "PodDisruptionBudget" || o.namespace() != Some("web")));
    assert_fires_on_object(&r, "ACME-POD-002", "Deployment/web/web");
}

#[test]
fn the_synthesized_kubernetes_objects_are_checked() {
    let platform = fixture::acme();
    let artifacts = synthesize(&platform);
    let ctx = acme_check::Context::new(&platform, &artifacts);
    for kind in ["Deployment", "NetworkPolicy", "PodDisruptionBudget"] {
        assert!(ctx.objects(kind).next().is_some(), "no {kind} reaches the rules");
    }
}

#[test]
fn sarif_points_kubernetes_findings_at_the_manifest_line() {
    let platform = fixture::acme();
    let artifacts = synthesize(&platform);
    let report = with_objects(|objects| {
        for o in objects.iter_mut() {
            if let Object::Deployment(d) = o
                && d.metadata.name.as_deref() == Some("web")
            {
                let pod = d.spec.as_mut().and_then(|s| s.template.spec.as_mut()).expect("pod spec");
                pod.containers[0].liveness_probe = None;
            }
        }
    });
    let source = Source::new("acme.yaml", BUNDLED);
    let log = acme_check::sarif::render(&report, &source, &artifacts, "out");
    let result = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "ACME-POD-001")
        .expect("pod finding");
    let at = &result["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "out/kubernetes/web.yaml");
    let text = &artifacts.files()["kubernetes/web.yaml"];
    let line = at["region"]["startLine"].as_u64().expect("line") as usize;
    assert_eq!(text.lines().nth(line - 1), Some("kind: Deployment"));
}
