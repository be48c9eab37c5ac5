//! The AWS verbs as a user runs them: `acmectl plan | deploy | destroy | status` against
//! moto's server on 127.0.0.1 (started per test), and faults injected by a proxy in front of
//! it (throttling, stack states moto never reaches).
//!
//! moto builds VPC, EC2, ELBv2, RDS, ECR, Route 53, IAM, KMS, Logs, SNS and S3 resources for
//! real and silently skips the types it does not know (EKS, alarms, CloudTrail, Backup, ACM,
//! WAF, bucket policies): the cluster, services, observability and backup stacks complete
//! there, and nothing here takes that as proof that their EKS, alarm or backup resources
//! exist. The outputs moto cannot give are passed as `--parameter` stand-ins: a real security
//! group for the cluster's, certificates requested through ACM's API, fixed ARNs.

mod common;

use common::support::proxy::{Proxy, Verdict};
use common::{FOUNDATION, STACKS, World, closed_port, run};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_first_deploy_creates_every_stack_and_a_second_executes_no_change_set() {
    let w = World::new();
    let plan = w.run(&["plan"]);
    assert_eq!(plan.code, Some(1), "changes: {}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: 11 to create, 0 to update"), "{}", plan.stdout);
    assert_eq!(w.change_sets(), 0, "a plan leaves no change set behind");
    assert_eq!(w.status("acme-keys"), None, "nor the empty stack of a CREATE change set");

    let first = w.run(&[&["deploy", "--yes"][..], &FOUNDATION].concat());
    first.ok();
    assert!(first.stdout.contains("4 change sets executed"), "{}", first.stdout);
    // The zone's name servers, as soon as it exists: ACM waits for the delegation.
    assert!(first.stderr.contains("Delegate acme.example.com"), "{}", first.stderr);
    assert!(first.stderr.contains("awsdns"), "{}", first.stderr);

    let stand_ins = w.stand_ins();
    let second = w.deploy(&stand_ins, &[]);
    second.ok();
    assert!(second.stdout.contains("7 change sets executed, 4 stacks unchanged"), "{}", second.stdout);
    for stack in STACKS {
        assert_eq!(w.status(&format!("acme-{stack}")).as_deref(), Some("CREATE_COMPLETE"), "{stack}");
    }
    // What moto really built, read through the service APIs.
    let vpc = w.outputs("acme-network")["VpcId"].clone();
    let default_group = w.outputs("acme-network")["DefaultSecurityGroupId"].clone();
    w.runtime.block_on(async {
        let vpcs = aws_sdk_ec2::Client::new(&w.sdk).describe_vpcs().vpc_ids(&vpc).send().await.expect("vpc");
        assert_eq!(vpcs.vpcs().len(), 1);
        // CloudFormation cannot empty the VPC's default security group; the deploy does.
        let groups = aws_sdk_ec2::Client::new(&w.sdk).describe_security_groups().group_ids(&default_group).send().await;
        let groups = groups.expect("default group");
        let group = &groups.security_groups()[0];
        assert!(group.ip_permissions().is_empty() && group.ip_permissions_egress().is_empty(), "{group:?}");
        let db = aws_sdk_rds::Client::new(&w.sdk).describe_db_instances().send().await.expect("db");
        assert_eq!(db.db_instances().len(), 1);
        let repos = aws_sdk_ecr::Client::new(&w.sdk).describe_repositories().send().await.expect("repos");
        assert_eq!(repos.repositories().len(), 4, "a repository per service");
        let lbs =
            aws_sdk_elasticloadbalancingv2::Client::new(&w.sdk).describe_load_balancers().send().await.expect("lb");
        assert_eq!(lbs.load_balancers().len(), 1);
    });

    let before = w.change_sets();
    let noop = w.deploy(&stand_ins, &[]);
    noop.ok();
    assert!(noop.stdout.contains("No changes: no change set was executed."), "{}", noop.stdout);
    assert_eq!(w.change_sets(), before);
    let mut plan_args = vec!["plan"];
    plan_args.extend(stand_ins.iter().map(String::as_str));
    let plan = w.run(&plan_args);
    assert_eq!(plan.code, Some(0), "no changes: {}{}", plan.stdout, plan.stderr);
}

#[test]
fn a_changed_acme_yaml_gives_the_expected_plan() {
    let w = World::new();
    let stand_ins = w.deploy_all();
    w.edit("class: db.r7g.large", "class: db.r7g.xlarge");
    w.edit(
        "  # Live chat over WebSockets",
        "  - name: search\n    port: 8080\n    health: { path: /healthz }\n\n  # Live chat over WebSockets",
    );
    let mut args = vec!["plan", "--output", "json"];
    args.extend(stand_ins.iter().map(String::as_str));
    let plan = w.run(&args);
    assert_eq!(plan.code, Some(1), "{}{}", plan.stdout, plan.stderr);
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).expect("JSON plan");
    let stack = |name: &str| {
        v["stacks"].as_array().expect("stacks").iter().find(|s| s["stack"] == name).cloned().expect("stack in plan")
    };
    let data = stack("data");
    assert_eq!(data["action"], "update");
    let changes = data["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{data:#}");
    assert_eq!(
        (&changes[0]["logical_id"], &changes[0]["verb"], &changes[0]["replacement"]),
        (&"Database".into(), &"modify".into(), &"False".into())
    );
    assert_eq!(changes[0]["causes"][0]["property"], "DBInstanceClass");
    let registry = stack("registry");
    let added: Vec<&str> = registry["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] == "Add")
        .filter_map(|c| c["logical_id"].as_str())
        .collect();
    assert_eq!(added, ["SearchRepository"], "{registry:#}");
    for unchanged in ["keys", "network", "dns"] {
        assert_eq!(stack(unchanged)["action"], "unchanged", "{unchanged}");
    }
    assert!(v["dangers"].as_array().expect("dangers").is_empty(), "no data at risk: {:#}", v["dangers"]);
    assert_eq!(w.change_sets(), 0, "the plan's change sets are gone");
}

#[test]
fn replacing_the_database_is_refused_and_allowed_with_the_flag() {
    let w = World::new();
    let stand_ins = w.deploy_all();
    w.edit("  name: acme\n  backup_retention_days", "  name: acme2\n  backup_retention_days");

    let mut args = vec!["plan"];
    args.extend(stand_ins.iter().map(String::as_str));
    let plan = w.run(&args);
    assert_eq!(plan.code, Some(1));
    assert!(
        plan.stdout.contains("replace  Database (AWS::RDS::DBInstance): DBName requires replacement"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("← holds data"), "{}", plan.stdout);

    let refused = w.deploy(&stand_ins, &[]);
    assert_eq!(refused.code, Some(5), "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("data/Database (AWS::RDS::DBInstance) would be replaced"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-replace data/Database"), "{}", refused.stderr);
    assert_eq!(w.change_sets(), 0, "nothing left behind");
    let name = w.runtime.block_on(async {
        let db = aws_sdk_rds::Client::new(&w.sdk).describe_db_instances().send().await.expect("db");
        db.db_instances()[0].db_name().map(str::to_owned)
    });
    assert_eq!(name.as_deref(), Some("acme"), "the database was not touched");

    let typo = w.deploy(&stand_ins, &["--allow-replace", "database/Database"]);
    assert_eq!(typo.code, Some(2), "{}", typo.stderr);

    // Only the data stack: after the replacement moto cannot compute the new instance's
    // outputs, which the observability and backup stacks read.
    let data_only: Vec<String> =
        stand_ins.chunks(2).filter(|p| p[1].starts_with("ClusterSecurityGroupId=")).flat_map(|p| p.to_vec()).collect();
    let allowed = w.deploy(&data_only, &["--allow-replace", "data/Database", "--stack", "data"]);
    allowed.ok();
    assert_eq!(w.status("acme-data").as_deref(), Some("UPDATE_COMPLETE"));
    assert!(allowed.stdout.contains("(allowed by --allow-replace)"), "{}", allowed.stdout);
    assert!(allowed.stdout.contains("change set"), "{}", allowed.stdout);
}

#[test]
fn destroy_removes_what_is_not_retained_and_lists_what_is() {
    let w = World::new();
    w.deploy_all();
    let vpc = w.outputs("acme-network")["VpcId"].clone();
    let zone = w.outputs("acme-dns")["HostedZoneId"].clone();

    let protected = w.run(&["destroy", "--yes"]);
    assert_eq!(protected.code, Some(5), "{}{}", protected.stdout, protected.stderr);
    assert!(protected.stderr.contains("aws rds modify-db-instance"), "{}", protected.stderr);
    assert!(protected.stderr.contains("--no-deletion-protection"), "{}", protected.stderr);
    assert_eq!(w.status("acme-data").as_deref(), Some("CREATE_COMPLETE"), "nothing was deleted");

    let no_tty = w.run(&["destroy"]);
    assert_eq!(no_tty.code, Some(2), "{}", no_tty.stderr);
    assert!(no_tty.stderr.contains("--yes"), "{}", no_tty.stderr);

    let id = w.outputs("acme-data")["DatabaseInstanceId"].clone();
    w.runtime.block_on(async {
        // The stand-in for the cluster's security group was made outside CloudFormation and
        // would keep the VPC (on AWS, too: the destroy would then report the VPC's dependency).
        let ec2 = aws_sdk_ec2::Client::new(&w.sdk);
        let groups = ec2.describe_security_groups().group_names("acme-eks-cluster-stand-in").send().await.expect("sg");
        for g in groups.security_groups() {
            ec2.delete_security_group().group_id(g.group_id().unwrap_or_default()).send().await.expect("delete sg");
        }
        let rds = aws_sdk_rds::Client::new(&w.sdk);
        rds.modify_db_instance().db_instance_identifier(id).deletion_protection(false).send().await.expect("modify");
    });
    // moto's CloudFormation leaves the network's route tables behind (AWS deletes them), so
    // the network stack fails to go: reported, and the other stacks' kept resources listed.
    let first = w.run(&["destroy", "--yes"]);
    assert_eq!(first.code, Some(4), "{}{}", first.stdout, first.stderr);
    assert!(first.stderr.contains("acme-network: DeleteStack failed: DependencyViolation"), "{}", first.stderr);
    assert!(first.stdout.contains("Stopped destroying acme: 9 stacks deleted."), "{}", first.stdout);
    w.runtime.block_on(async {
        let ec2 = aws_sdk_ec2::Client::new(&w.sdk);
        let in_vpc = aws_sdk_ec2::types::Filter::builder().name("vpc-id").values(&vpc).build();
        let tables = ec2.describe_route_tables().filters(in_vpc).send().await.expect("route tables");
        for t in tables.route_tables() {
            if t.associations().iter().any(|a| a.main() == Some(true)) {
                continue;
            }
            for a in t.associations() {
                let id = a.route_table_association_id().unwrap_or_default();
                ec2.disassociate_route_table().association_id(id).send().await.expect("disassociate");
            }
            ec2.delete_route_table()
                .route_table_id(t.route_table_id().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    });
    // The same destroy again carries on with what is left; this time the staging bucket the
    // keys stack retains goes too, as asked.
    let staging = "acme-acmectl-staging-123456789012-us-east-1";
    let s3 = acme_aws::config::s3_client(&w.sdk);
    assert!(w.runtime.block_on(s3.head_bucket().bucket(staging).send()).is_ok(), "the keys stack made it");
    let second = w.run(&["destroy", "--yes", "--remove-staging-bucket"]);
    second.ok();
    assert!(second.stdout.contains("The staging bucket went too"), "{}", second.stdout);
    assert!(second.stdout.contains(&format!("The staging bucket {staging} goes too, emptied")), "{}", second.stdout);
    let kept = second.stdout.lines().filter(|l| l.contains("AWS::S3::Bucket") && l.contains(staging)).count();
    assert_eq!(kept, 0, "not listed as kept: {}", second.stdout);
    assert!(w.runtime.block_on(s3.head_bucket().bucket(staging).send()).is_err(), "the staging bucket is gone");
    for stack in STACKS {
        assert_eq!(w.status(&format!("acme-{stack}")), None, "{stack} is gone");
    }
    let out = format!("{}{}", first.stdout, second.stdout);
    for kept in
        ["AWS::KMS::Key", "AWS::ECR::Repository", "AWS::Route53::HostedZone", "AWS::S3::Bucket", "AWS::Logs::LogGroup"]
    {
        assert!(out.contains(kept), "{kept} listed as kept:\n{out}");
    }
    assert!(out.contains("acme-data/Database") && out.contains("deleted after a final snapshot"), "{out}");
    assert!(out.contains(&zone), "the zone's id is listed:\n{out}");
    w.runtime.block_on(async {
        // What is not retained is gone (moto drops a stack whose deletion failed, so the
        // network's own resources are not a fair test here).
        let lbs = aws_sdk_elasticloadbalancingv2::Client::new(&w.sdk).describe_load_balancers().send().await;
        assert_eq!(lbs.expect("load balancers").load_balancers().len(), 0, "the ALB is deleted");
        let dbs = aws_sdk_rds::Client::new(&w.sdk).describe_db_instances().send().await.expect("db");
        assert_eq!(dbs.db_instances().len(), 0, "the database instance is deleted (after its snapshot on AWS)");
        let repos = aws_sdk_ecr::Client::new(&w.sdk).describe_repositories().send().await.expect("repos");
        assert_eq!(repos.repositories().len(), 4, "repositories are retained");
        let zones = aws_sdk_route53::Client::new(&w.sdk).get_hosted_zone().id(&zone).send().await;
        assert!(zones.is_ok(), "the hosted zone is retained");
    });
    let again = w.run(&["destroy", "--yes"]);
    again.ok();
    assert!(again.stdout.contains("Nothing to destroy"), "{}", again.stdout);
}

#[test]
fn a_failing_stack_is_reported_and_leaves_the_others_intact() {
    let w = World::new();
    w.run(&[&["deploy", "--yes"][..], &FOUNDATION].concat()).ok();
    let mut stand_ins = w.stand_ins();
    // A VPC that does not exist: every stack that places something in it fails.
    stand_ins.extend(["--parameter".to_owned(), "VpcId=vpc-404".to_owned()]);
    let failed = w.deploy(&stand_ins, &[]);
    assert_eq!(failed.code, Some(4), "{}{}", failed.stdout, failed.stderr);
    let err = &failed.stderr;
    assert!(err.contains("error: 1 stack failed"), "{err}");
    // moto checks the VPC of a load balancer (not of a security group): the edge stack fails.
    assert!(
        err.contains("- acme-edge: ExecuteChangeSet failed: ValidationError: The VPC ID 'vpc-404' is not found"),
        "the stack and its cause: {err}"
    );
    assert!(err.contains("not started, as they depend on a failed stack: acme-observability"), "{err}");
    assert!(err.contains("fix the cause and deploy again to carry on"), "{err}");
    assert_eq!(w.status("acme-registry").as_deref(), Some("CREATE_COMPLETE"), "the independent stack deployed");
    // (dns takes VpcId too, for its private zone: updated, as asked.)
    for stack in ["keys", "network", "ci"] {
        assert_eq!(w.status(&format!("acme-{stack}")).as_deref(), Some("CREATE_COMPLETE"), "{stack} untouched");
    }
}

#[test]
fn a_stack_left_in_rollback_complete_is_deleted_and_created_again() {
    let w = World::new();
    w.run(&["deploy", "--yes", "--stack", "ci"]).ok();
    // AWS leaves a stack whose creation failed in ROLLBACK_COMPLETE; moto never does, so the
    // proxy says it until the stack is deleted.
    let mut deleted = false;
    let proxy = Proxy::start(w.moto.port(), move |r| {
        if r.action == "DeleteStack" {
            deleted = true;
        }
        if r.action == "DescribeStacks" && r.body.contains("acme-ci") && !deleted {
            return Verdict::Rewrite(Box::new(|b| {
                b.replace("<StackStatus>CREATE_COMPLETE<", "<StackStatus>ROLLBACK_COMPLETE<")
            }));
        }
        Verdict::Pass
    });
    let plan = w.run_at(&proxy.endpoint, &["plan", "--stack", "ci"]);
    assert_eq!(plan.code, Some(1), "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("recreate"), "{}", plan.stdout);
    let run = w.run_at(&proxy.endpoint, &["deploy", "--yes", "--stack", "ci"]);
    run.ok();
    assert!(run.stderr.contains("acme-ci is ROLLBACK_COMPLETE: its first creation failed"), "{}", run.stderr);
    assert_eq!(proxy.count("DeleteStack", false), 1);
    assert_eq!(w.status("acme-ci").as_deref(), Some("CREATE_COMPLETE"));
}

#[test]
fn a_stack_whose_change_set_just_started_executing_is_waited_for_not_deleted() {
    let w = World::new();
    w.run(&["deploy", "--yes", "--stack", "ci"]).ok();
    // Right after ExecuteChangeSet a new stack still shows REVIEW_IN_PROGRESS for a moment,
    // as one made by a plan and never executed does; its change set says which. The proxy
    // plays that moment until acmectl asks for the change sets.
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = asked.clone();
    let proxy = Proxy::start(w.moto.port(), move |r| match r.action.as_str() {
        "ListChangeSets" => {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
            Verdict::Rewrite(Box::new(|_| {
                "<ListChangeSetsResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
                 <ListChangeSetsResult><Summaries><member><StackName>acme-ci</StackName>\
                 <ChangeSetName>acmectl-deploy</ChangeSetName><Status>CREATE_COMPLETE</Status>\
                 <ExecutionStatus>EXECUTE_IN_PROGRESS</ExecutionStatus></member></Summaries>\
                 </ListChangeSetsResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
                 </ListChangeSetsResponse>"
                    .to_owned()
            }))
        }
        "DescribeStacks" if r.body.contains("acme-ci") && !seen.load(std::sync::atomic::Ordering::SeqCst) => {
            Verdict::Rewrite(Box::new(|b| {
                b.replace("<StackStatus>CREATE_COMPLETE<", "<StackStatus>REVIEW_IN_PROGRESS<")
            }))
        }
        _ => Verdict::Pass,
    });
    let run = w.run_at(&proxy.endpoint, &["deploy", "--yes", "--stack", "ci"]);
    run.ok();
    assert!(asked.load(std::sync::atomic::Ordering::SeqCst), "the change sets were looked at");
    assert_eq!(proxy.count("DeleteStack", false), 0, "{}", run.stderr);
    assert!(run.stdout.contains("No changes: no change set was executed."), "{}", run.stdout);
    assert_eq!(w.status("acme-ci").as_deref(), Some("CREATE_COMPLETE"));
}

#[test]
fn update_rollback_failed_names_the_exact_way_out() {
    let w = World::new();
    w.run(&["deploy", "--yes", "--stack", "ci"]).ok();
    let proxy = Proxy::start(w.moto.port(), |r| match r.action.as_str() {
        "DescribeStacks" if r.body.contains("acme-ci") => Verdict::Rewrite(Box::new(|b| {
            b.replace("<StackStatus>CREATE_COMPLETE<", "<StackStatus>UPDATE_ROLLBACK_FAILED<")
        })),
        "DescribeStackResources" => Verdict::Rewrite(Box::new(|b| {
            b.replacen(
                "<ResourceStatus>CREATE_COMPLETE</ResourceStatus>",
                "<ResourceStatus>UPDATE_FAILED</ResourceStatus><ResourceStatusReason>Role is in use</ResourceStatusReason>",
                1,
            )
        })),
        _ => Verdict::Pass,
    });
    let run = w.run_at(&proxy.endpoint, &["deploy", "--yes", "--stack", "ci"]);
    assert_eq!(run.code, Some(4), "{}{}", run.stdout, run.stderr);
    let err = &run.stderr;
    assert!(err.contains("acme-ci is in UPDATE_ROLLBACK_FAILED"), "{err}");
    assert!(
        err.contains("aws cloudformation continue-update-rollback --stack-name acme-ci --region us-east-1"),
        "{err}"
    );
    assert!(err.contains("would not roll back: ") && err.contains("Role is in use"), "{err}");
    assert!(err.contains("--resources-to-skip "), "{err}");
    assert_eq!(proxy.count("CreateChangeSet", false), 0, "nothing was attempted");
}

#[test]
fn a_stack_in_a_state_acmectl_does_not_expect_is_left_alone() {
    let w = World::new();
    w.run(&["deploy", "--yes", "--stack", "ci"]).ok();
    let proxy = Proxy::start(w.moto.port(), |r| {
        if r.action == "DescribeStacks" && r.body.contains("acme-ci") {
            return Verdict::Rewrite(Box::new(|b| {
                b.replace("<StackStatus>CREATE_COMPLETE<", "<StackStatus>IMPORT_ROLLBACK_FAILED<")
            }));
        }
        Verdict::Pass
    });
    let run = w.run_at(&proxy.endpoint, &["plan", "--stack", "ci"]);
    assert_eq!(run.code, Some(4), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("acme-ci is in IMPORT_ROLLBACK_FAILED, a state acmectl does not expect"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn throttling_during_a_deploy_is_ridden_out() {
    let w = World::new();
    let mut left = 4;
    let proxy = Proxy::start(w.moto.port(), move |r| {
        if matches!(r.action.as_str(), "CreateChangeSet" | "DescribeStacks") && left > 0 {
            left -= 1;
            return Verdict::Error(400, "Throttling", "Rate exceeded");
        }
        Verdict::Pass
    });
    let run = w.run_at(&proxy.endpoint, &["deploy", "--yes", "--stack", "keys"]);
    run.ok();
    assert_eq!(proxy.seen().iter().filter(|(_, injected)| *injected).count(), 4);
    assert_eq!(w.status("acme-keys").as_deref(), Some("CREATE_COMPLETE"));
}

#[test]
fn no_credentials_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../acme.yaml").display().to_string();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let run = run(dir.path(), &["plan", "-f", &bundled, "--endpoint-url", &endpoint], &[]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(run.stderr.contains("no AWS credentials"), "{}", run.stderr);
    assert!(run.stderr.contains("help: acmectl uses the AWS CLI's credential chain"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error_with_its_cause() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../acme.yaml").display().to_string();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let creds = [("AWS_ACCESS_KEY_ID", "AKIDTEST"), ("AWS_SECRET_ACCESS_KEY", "secret")];
    let run = run(dir.path(), &["deploy", "--yes", "-f", &bundled, "--endpoint-url", &endpoint], &creds);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(run.stderr.contains("GetCallerIdentity failed: dispatch failure"), "{}", run.stderr);
    assert!(run.stderr.to_ascii_lowercase().contains("connection refused"), "the cause: {}", run.stderr);
    assert!(run.took < Duration::from_secs(20), "fails fast: {:?}", run.took);
}

#[test]
fn a_region_with_fewer_zones_than_acme_yaml_asks_is_refused_before_any_change() {
    let w = World::new();
    w.edit("region: us-east-1", "region: us-west-1");
    let run = w.run(&["deploy", "--yes"]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("us-west-1 offers 2 availability zones"), "{}", run.stderr);
    assert!(run.stderr.contains("network.zones asks for 3"), "{}", run.stderr);
    let any = w.runtime.block_on(async {
        let sdk = w.sdk.to_builder().region(aws_config::Region::new("us-west-1")).build();
        aws_sdk_cloudformation::Client::new(&sdk).list_stacks().send().await.expect("stacks").stack_summaries().len()
    });
    assert_eq!(any, 0, "no stack was started");
}

#[test]
fn deploy_without_a_terminal_needs_yes_and_asks_nothing_of_aws() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../acme.yaml").display().to_string();
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let run = run(dir.path(), &["deploy", "-f", &bundled, "--endpoint-url", &endpoint], &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("no terminal to confirm the deploy on; nothing was changed"), "{}", run.stderr);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
}

/// An alarm `name` on `metric` (namespace, name), put in ALARM for `reason`.
async fn alarm(cw: &aws_sdk_cloudwatch::Client, name: &str, metric: (&str, &str), reason: &str) {
    cw.put_metric_alarm()
        .alarm_name(name)
        .metric_name(metric.1)
        .namespace(metric.0)
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect("alarm");
    cw.set_alarm_state()
        .alarm_name(name)
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason(reason)
        .send()
        .await
        .expect("alarm state");
}

#[test]
fn status_reports_stacks_alarms_and_targets_and_degrades_where_moto_cannot_answer() {
    let w = World::new();
    w.deploy_all();
    let target_group = w.outputs("acme-edge")["WebTargetGroupArn"].clone();
    w.runtime.block_on(async {
        let cw = aws_sdk_cloudwatch::Client::new(&w.sdk);
        alarm(
            &cw,
            "acme-web-5xx-rate",
            ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
            "5xx above 1 for 1 minute",
        )
        .await;
        alarm(&cw, "other-platform-alarm", ("y", "x"), "not ours").await;
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&w.sdk);
        elb.register_targets()
            .target_group_arn(&target_group)
            .targets(
                aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                    .id("10.20.16.10")
                    .port(8080)
                    .build(),
            )
            .send()
            .await
            .expect("register");
    });
    let run = w.run(&["status", "--output", "json"]);
    assert_eq!(run.code, Some(1), "an alarm needs attention: {}{}", run.stdout, run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(v["stacks"].as_array().expect("stacks").len(), 11);
    for s in v["stacks"].as_array().expect("stacks") {
        assert_eq!(s["status"], "CREATE_COMPLETE", "{s}");
        // moto has no DetectStackDrift: said, not hidden.
        assert_eq!(s["drift"]["status"], "UNKNOWN", "{s}");
        assert!(s["drift"]["reason"].as_str().is_some_and(|r| r.contains("not available")), "{s}");
    }
    let alarms = v["alarms"].as_array().expect("alarms");
    assert_eq!(alarms.len(), 1, "only the platform's: {alarms:?}");
    assert_eq!(alarms[0]["name"], "acme-web-5xx-rate");
    let web = v["targets"].as_array().expect("targets").iter().find(|t| t["service"] == "web").cloned().expect("web");
    assert_eq!(web["target_group_arn"], target_group.as_str());
    let seen = web["healthy"].as_u64().unwrap_or(0) + web["unhealthy"].as_array().map_or(0, |u| u.len() as u64);
    assert_eq!(seen, 1, "the registered target is reported: {web}");

    let text = w.run(&["status", "--no-drift"]);
    assert_eq!(text.code, Some(1));
    assert!(text.stdout.contains("acme-web-5xx-rate") && text.stdout.contains("5xx above 1"), "{}", text.stdout);
}

#[test]
fn interrupting_a_deploy_starts_no_further_stack_and_the_next_deploy_carries_on() {
    let w = World::new();
    // The proxy makes the keys stack's change set slow to create, so the deploy is still at
    // its first stacks when Ctrl-C comes.
    let proxy = Proxy::start(w.moto.port(), |r| {
        if r.action == "ExecuteChangeSet" && r.body.contains("acme-network") {
            return Verdict::Slow(Duration::from_secs(3));
        }
        Verdict::Pass
    });
    let mut args: Vec<String> =
        [&["deploy", "--yes"][..], &FOUNDATION].concat().iter().map(|s| (*s).to_owned()).collect();
    args.extend(["--endpoint-url".to_owned(), proxy.endpoint.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = common::spawn(w.dir.path(), &args, &[]);
    // Wait until the network stack's execution is on its way, then Ctrl-C.
    let started = Instant::now();
    while proxy.count("ExecuteChangeSet", false) < 2 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("acmectl ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: no further stack was started"), "{stderr}");
    assert!(stderr.contains("run the same deploy again"), "{stderr}");
    drop(proxy);
    let again = w.run(&[&["deploy", "--yes"][..], &FOUNDATION].concat());
    again.ok();
    for stack in ["keys", "network", "dns", "ci"] {
        assert_eq!(w.status(&format!("acme-{stack}")).as_deref(), Some("CREATE_COMPLETE"), "{stack}");
    }
}

/// Push an image for `service` tagged `tag` to its repository in moto; its digest, which
/// differs for every service and tag (moto computes it from the layers' digests only).
fn push(w: &World, service: &str, tag: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    (service, tag).hash(&mut hasher);
    let layer = format!("sha256:{:064x}", hasher.finish());
    w.runtime.block_on(async {
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:{service}{tag}"}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":1,"digest":"{layer}"}}]}}"#
        );
        let out = aws_sdk_ecr::Client::new(&w.sdk)
            .put_image()
            .repository_name(format!("acme/{service}"))
            .image_manifest(manifest)
            .image_tag(tag)
            .send()
            .await
            .expect("put image");
        out.image().and_then(|i| i.image_id()).and_then(|i| i.image_digest()).expect("digest").to_owned()
    })
}

/// The image of `service`'s Deployment on the fake API server.
fn running_image(server: &acme_kube::testing::FakeApiServer, service: &str) -> String {
    let deployment = server.get("apps/v1", "Deployment", Some(service), service).expect("Deployment applied");
    deployment["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn kubernetes_objects_are_applied_rolled_out_and_their_targets_awaited() {
    use acme_kube::testing::FakeApiServer;
    let w = World::new();
    let stand_ins = w.deploy_all();
    let services = ["web", "api", "auth", "chat"];
    let digests: BTreeMap<&str, String> = services.iter().map(|s| (*s, push(&w, s, "1.0.0"))).collect();
    let server = std::sync::Arc::new(w.runtime.block_on(FakeApiServer::start()));
    let kubeconfig = w.dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).expect("kubeconfig");
    let groups: Vec<String> = {
        let edge = w.outputs("acme-edge");
        services.iter().map(|s| edge[&format!("{}TargetGroupArn", acme_cfn::pascal(s))].clone()).collect()
    };

    // The test plays the controllers: Deployments roll out, then the TargetGroupBinding
    // controller registers their pods, which moto reports healthy.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let controller = {
        let (server, done, handle, sdk) = (server.clone(), done.clone(), w.runtime.handle().clone(), w.sdk.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut registered = std::collections::BTreeSet::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                for o in server.objects().iter().filter(|o| o["kind"] == "Deployment") {
                    let (ns, name) = (
                        o["metadata"]["namespace"].as_str().unwrap_or(""),
                        o["metadata"]["name"].as_str().unwrap_or(""),
                    );
                    let observed = o["status"]["observedGeneration"].as_i64();
                    if observed != o["metadata"]["generation"].as_i64() {
                        server.roll_out(ns, name);
                    }
                    let i = services.iter().position(|s| *s == name);
                    if let Some(i) = i.filter(|i| registered.insert(*i)) {
                        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
                        let target = aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                            .id(format!("10.20.16.{}", 10 + i))
                            .port(8080)
                            .build();
                        handle
                            .block_on(elb.register_targets().target_group_arn(&groups[i]).targets(target).send())
                            .expect("register");
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    let kubeconfig = kubeconfig.display().to_string();
    let mut images = vec![];
    for s in services {
        images.extend(["--image".to_owned(), format!("{s}=1.0.0")]);
    }
    let all: Vec<String> = stand_ins.iter().chain(images.iter()).cloned().collect();
    let run = w.deploy(&all, &["--kubeconfig", &kubeconfig]);
    run.ok();
    assert!(run.stdout.contains("No changes: no change set was executed."), "{}", run.stdout);
    assert!(run.stderr.contains("Kubernetes: applied, rolled out, targets healthy"), "{}", run.stderr);
    let image = running_image(&server, "api");
    assert!(image.ends_with(&format!("acme/api@{}", digests["api"])), "pinned by digest: {image}");
    let applied_by_acmectl = server.requests().iter().any(|r| r.uri.contains("fieldManager=acmectl"));
    assert!(applied_by_acmectl, "server-side apply under the field manager acmectl");

    // CI's deploy of one service: a new tag, only that service's objects, no stack touched.
    let new = push(&w, "api", "1.0.1");
    assert_ne!(new, digests["api"], "a new image, not the same one tagged again");
    let before = w.change_sets();
    // (moto cannot give the database's secret ARN: the stand-in goes along, as for the stacks.)
    let secret = stand_ins.iter().find(|p| p.starts_with("DatabaseSecretArn=")).expect("stand-in").clone();
    let ci = w.run(&[
        "deploy",
        "--yes",
        "--service",
        "api",
        "--image",
        "api=1.0.1",
        "--kubeconfig",
        &kubeconfig,
        "--parameter",
        &secret,
    ]);
    ci.ok();
    assert_eq!(w.change_sets(), before);
    assert!(!ci.stdout.contains("Plan:"), "no stack planned: {}", ci.stdout);
    let image = running_image(&server, "api");
    assert!(image.ends_with(&new), "the new digest: {image}");
    let image = running_image(&server, "web");
    assert!(image.ends_with(&digests["web"]), "web keeps its image: {image}");

    assert!(ci.stderr.contains("modify   Deployment api/api: spec.template.spec.containers"), "{}", ci.stderr);
    assert!(!ci.stderr.contains("delete "), "other services' objects are not orphans: {}", ci.stderr);

    // An object the cluster refuses fails the dry run, before anything is applied: the
    // Deployment, applied before the autoscaler, keeps its image.
    let newer = push(&w, "api", "1.0.2");
    server.forbid("patch", "HorizontalPodAutoscaler");
    let refused = w.run(&[
        "deploy",
        "--yes",
        "--service",
        "api",
        "--image",
        "api=1.0.2",
        "--kubeconfig",
        &kubeconfig,
        "--parameter",
        &secret,
    ]);
    assert_eq!(refused.code, Some(4), "{}", refused.stderr);
    assert!(refused.stderr.contains("HorizontalPodAutoscaler api/api"), "{}", refused.stderr);
    let image = running_image(&server, "api");
    assert!(image.ends_with(&new) && !image.ends_with(&newer), "unchanged: {image}");

    // A tag the repository lacks is bad input, caught before anything is applied.
    let missing = w.run(&[
        "deploy",
        "--yes",
        "--service",
        "api",
        "--image",
        "api=9.9.9",
        "--kubeconfig",
        &kubeconfig,
        "--parameter",
        &secret,
    ]);
    assert_eq!(missing.code, Some(2), "{}", missing.stderr);
    assert!(missing.stderr.contains("has no image tagged 9.9.9"), "{}", missing.stderr);

    let status = w.run(&["status", "--no-drift", "--kubeconfig", &kubeconfig]);
    assert_eq!(status.code, Some(0), "all well: {}{}", status.stdout, status.stderr);
    assert!(status.stdout.contains("Rollouts:") && status.stdout.contains("api: "), "{}", status.stdout);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    controller.join().expect("controller");
}

#[test]
fn change_sets_run_with_the_cfn_role_and_the_ci_stack_is_left_out() {
    let w = World::new();
    w.run(&["deploy", "--yes", "--stack", "keys", "--stack", "ci"]).ok();
    let proxy = Proxy::start(w.moto.port(), |_| Verdict::Pass);
    let role = "arn:aws:iam::123456789012:role/acme-cfn-exec";
    let run = w.run_at(&proxy.endpoint, &["plan", "--stack", "keys", "--stack", "network", "--cfn-role-arn", role]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let creates: Vec<String> =
        proxy.seen().into_iter().filter(|(s, _)| s.action == "CreateChangeSet").map(|(s, _)| s.body).collect();
    assert_eq!(creates.len(), 2, "keys (unchanged, but asked) and network");
    let encoded = role.replace(':', "%3A").replace('/', "%2F");
    for body in &creates {
        assert!(body.contains(&format!("RoleARN={encoded}")), "every change set names the role");
    }
    let ci_only = w.run_at(&proxy.endpoint, &["plan", "--cfn-role-arn", role]);
    assert!(ci_only.stderr.contains("the ci stack is left out"), "{}", ci_only.stderr);
    assert!(!ci_only.stdout.contains("ci (acme-ci"), "{}", ci_only.stdout);
    assert!(
        !proxy.seen().iter().any(|(s, _)| s.action == "CreateChangeSet" && s.body.contains("StackName=acme-ci")),
        "no change set on the ci stack"
    );
}
