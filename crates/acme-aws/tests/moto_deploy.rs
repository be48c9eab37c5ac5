//! The synthesized stacks of ACME's platform, deployed through `acme_aws::Deployer` to
//! moto's server (a local AWS emulator) and read back through the service APIs.
//!
//! moto 5.2.5 (installed and fixed up by `scripts/tools.sh`) builds VPC, EC2, ELBv2, RDS,
//! ECR, Route 53, IAM, KMS, Logs and S3 resources for real, but *silently skips* types it
//! does not know, and the stack still completes. For the stacks deployed here it skips:
//! - dns: `AWS::CertificateManager::Certificate` (the test requests certificates through
//!   ACM's API and passes their ARNs to edge, as acmectl's parameter values);
//! - edge: `AWS::ElasticLoadBalancingV2::ListenerCertificate`, `AWS::S3::BucketPolicy` and
//!   all of `AWS::WAFv2::*`.
//!
//! A completed stack proves nothing about those; their properties are held by the unit tests
//! of `acme-synth` and by cfn-lint and checkov. Every assertion below reads what moto built.
//! Some resources moto builds only in part, and the test does not read those parts: the
//! private hosted zone's VPC association, most load balancer attributes (idle timeout,
//! access logs), an alias record's target zone (`CanonicalHostedZoneID`), route tables'
//! subnet associations, and outputs of attributes it does not model (the zone's name
//! servers, the database's secret ARN). `scripts/tools.sh` fixes six moto bugs that would
//! otherwise break these stacks or hide what they built.
//!
//! Not deployed: cluster (EKS), services (pod identity), observability (alarms, CloudTrail)
//! and backup (AWS Backup), which moto does not build. Their outputs that deployed stacks
//! take are given as parameter values: a real security group stands in for the cluster's.

use acme_aws::config::{self, Options};
use acme_aws::{Backoff, Deployer, Error, Event, Outcome, Request};
use acme_synth::StackName;
use acme_synth::stacks::{edge, legacy, names};
use aws_credential_types::Credentials;
use aws_sdk_ec2::types::Filter;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::moto::MotoServer;

mod support;

/// The clients the test reads back with.
struct Aws {
    cfn: aws_sdk_cloudformation::Client,
    ec2: aws_sdk_ec2::Client,
    ecr: aws_sdk_ecr::Client,
    rds: aws_sdk_rds::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    route53: aws_sdk_route53::Client,
    acm: aws_sdk_acm::Client,
}

/// What the test deployed: clients to read it back with, the platform, the outputs of every
/// deployed stack (by short name) and the stand-ins given as parameter values.
struct Live {
    aws: Aws,
    platform: acme_spec::Platform,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    cluster_sg: String,
    certificates: BTreeMap<String, String>,
}

impl Live {
    fn out(&self, stack: &str, output: &str) -> String {
        let value = self.outputs.get(stack).and_then(|o| o.get(output));
        value.unwrap_or_else(|| panic!("acme-{stack} has no output {output}")).clone()
    }
}

fn only(stacks: &[StackName]) -> Option<BTreeSet<StackName>> {
    Some(stacks.iter().copied().collect())
}

fn split(list: &str) -> Vec<String> {
    list.split(',').map(str::to_owned).collect()
}

/// Run `test` against a fresh moto server; the server goes when the test ends or panics
/// (the guard lives outside the runtime, so unwinding always reaches it).
fn with_moto<F: Future<Output = ()>>(test: impl FnOnce(String) -> F) {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(test(moto.endpoint.clone()));
    drop(moto);
}

/// The SDK configuration acmectl would build with `--endpoint-url`, and fake credentials.
async fn sdk_config(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    let options = Options {
        region: Some(region.to_owned()),
        endpoint_url: Some(endpoint.to_owned()),
        credentials: Some(Credentials::new("AKIDMOTOTEST", "moto-test-secret", None, None, "moto test")),
        ..Default::default()
    };
    config::load(&options, region).await
}

fn quick_polls() -> Backoff {
    Backoff { first: Duration::from_millis(100), max: Duration::from_secs(1), timeout: Duration::from_secs(120) }
}

#[test]
fn a_failed_deploy_names_the_stack_the_call_and_the_cause() {
    with_moto(|endpoint| async move {
        let sdk = sdk_config(&endpoint, "us-east-1").await;
        let deployer = Deployer::new(&sdk).with_backoff(quick_polls());
        let template = r#"{"Resources":{"Subnet":{"Type":"AWS::EC2::Subnet","Properties":{"CidrBlock":"10.0.0.0/24","VpcId":"vpc-404"}}}}"#;
        let err = deployer.deploy_stack("acme-broken", template, &BTreeMap::new()).await.expect_err("no such VPC");
        match &err {
            Error::Aws { stack_name, operation, code, message } => {
                assert_eq!((stack_name.as_str(), *operation), ("acme-broken", "ExecuteChangeSet"));
                assert_eq!(code.as_deref(), Some("InvalidVpcID.NotFound"));
                assert!(message.contains("VpcID vpc-404 does not exist"), "{message}");
            }
            other => panic!("expected an AWS error, got {other}"),
        }
    });
}

#[test]
fn synthesized_stacks_deploy_to_moto_and_read_back() {
    with_moto(|endpoint| async move { deploy_and_read_back(&endpoint).await });
}

async fn deploy_and_read_back(endpoint: &str) {
    // chat is new (the old side never served it): the stack points it at the load balancer,
    // while the migration owns the records of auth and www until they move.
    let mut platform = acme_spec::fixture::acme();
    platform.legacy.as_mut().map(|l| l.hosts.remove("chat.acme.example.com"));
    let artifacts = acme_synth::synthesize(&platform);
    let sdk = sdk_config(endpoint, &platform.region).await;
    let aws = Aws {
        cfn: aws_sdk_cloudformation::Client::new(&sdk),
        ec2: aws_sdk_ec2::Client::new(&sdk),
        ecr: aws_sdk_ecr::Client::new(&sdk),
        rds: aws_sdk_rds::Client::new(&sdk),
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&sdk),
        route53: aws_sdk_route53::Client::new(&sdk),
        acm: aws_sdk_acm::Client::new(&sdk),
    };
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let seen = Arc::clone(&events);
    let deployer = Deployer::new(&sdk)
        .with_backoff(quick_polls())
        .with_progress(move |e| seen.lock().expect("events").push(e.clone()));

    // Wave one: stacks that need nothing moto cannot build.
    let foundation = [StackName::Keys, StackName::Ci, StackName::Network, StackName::Dns];
    let report = deployer
        .deploy(&artifacts, &Request { only: only(&foundation), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.stacks.len(), 4);
    assert!(report.stacks.iter().all(|d| d.outcome == Outcome::Created), "{report:#?}");
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for d in &report.stacks {
        outputs.insert(d.stack_name.trim_start_matches("acme-").to_owned(), d.outputs.clone());
    }
    let vpc_id = outputs["network"]["VpcId"].clone();

    // Stand-ins for what moto cannot build: the EKS cluster's security group and node role,
    // and ACM certificates (moto skips AWS::CertificateManager::Certificate).
    let cluster_sg = aws
        .ec2
        .create_security_group()
        .group_name("acme-eks-cluster-stand-in")
        .description("stands in for the EKS cluster security group")
        .vpc_id(&vpc_id)
        .send()
        .await
        .expect("security group")
        .group_id()
        .expect("group id")
        .to_owned();
    let mut given = BTreeMap::from([
        ("ClusterSecurityGroupId".to_owned(), cluster_sg.clone()),
        ("NodeRoleArn".to_owned(), format!("arn:aws:iam::123456789012:role/{}", names::node_role(&platform))),
    ]);
    let mut certificates = BTreeMap::new();
    for host in platform.hosts() {
        let arn = aws.acm.request_certificate().domain_name(host).send().await.expect("certificate");
        let arn = arn.certificate_arn().expect("certificate arn").to_owned();
        given.insert(names::certificate_output(host), arn.clone());
        certificates.insert(host.to_owned(), arn);
    }

    // Without the cluster's security group, nothing of the next wave may start.
    let rest = [StackName::Registry, StackName::Data, StackName::EDGE];
    let mut missing = given.clone();
    missing.remove("ClusterSecurityGroupId");
    let err = deployer
        .deploy(&artifacts, &Request { only: only(&rest), parameters: missing, ..Default::default() })
        .await
        .expect_err("the cluster stack is not deployed and no value stands in");
    assert!(
        matches!(&err, Error::MissingInput { upstream, parameter, .. } if upstream == "acme-cluster" && parameter == "ClusterSecurityGroupId"),
        "{err}"
    );
    assert!(
        err.to_string().contains("help: deploy acme-cluster first, or give ClusterSecurityGroupId a value"),
        "{err}"
    );
    for stack in ["acme-registry", "acme-data", "acme-edge"] {
        let state = deployer.describe(stack).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(state, None, "{stack} was started although the deploy could not be complete");
    }

    // Wave two: their network, keys and dns inputs come from the stacks in the account.
    let report2 = deployer
        .deploy(&artifacts, &Request { only: only(&rest), parameters: given.clone(), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        report2.stacks.iter().map(|d| (d.stack_name.as_str(), d.outcome)).collect::<Vec<_>>(),
        [("acme-registry", Outcome::Created), ("acme-data", Outcome::Created), ("acme-edge", Outcome::Created)]
    );
    for d in &report2.stacks {
        outputs.insert(d.stack_name.trim_start_matches("acme-").to_owned(), d.outputs.clone());
    }
    let live = Live { aws, platform, outputs, cluster_sg, certificates };
    network_is_as_planned(&live).await;
    repositories_scan_and_are_immutable_and_encrypted(&live).await;
    database_is_private_encrypted_and_protected(&live).await;
    load_balancer_routes_as_planned(&live).await;
    hosted_zone_points_at_the_load_balancer(&live).await;

    // The same deploy again: CloudFormation finds nothing to change, so no change set runs
    // and none is left behind.
    let all = [foundation.as_slice(), rest.as_slice()].concat();
    let change_sets_before = change_set_count(&live.aws, &all).await;
    events.lock().expect("events").clear();
    let again = deployer
        .deploy(&artifacts, &Request { only: only(&all), parameters: given, ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.stacks.len(), all.len());
    for d in &again.stacks {
        assert_eq!((d.outcome, &d.change_set), (Outcome::Unchanged, &None), "{}", d.stack_name);
        let first = report.stack(&d.stack_name).or_else(|| report2.stack(&d.stack_name)).expect("deployed before");
        assert_eq!(d.outputs, first.outputs, "{} reports the same outputs", d.stack_name);
    }
    assert_eq!(change_set_count(&live.aws, &all).await, change_sets_before, "a no-op change set was left behind");
    let events = events.lock().expect("events");
    assert!(!events.iter().any(|e| matches!(e, Event::ChangeSet { .. })), "a change set ran: {events:#?}");
    assert_eq!(events.iter().filter(|e| matches!(e, Event::Unchanged { .. })).count(), all.len());
}

async fn change_set_count(aws: &Aws, stacks: &[StackName]) -> usize {
    let mut n = 0;
    for stack in stacks {
        let out = aws.cfn.list_change_sets().stack_name(format!("acme-{stack}")).send().await.expect("change sets");
        n += out.summaries().len();
    }
    n
}

async fn network_is_as_planned(live: &Live) {
    let (aws, platform) = (&live.aws, &live.platform);
    let vpc_id = &live.out("network", "VpcId");
    let out = |output: &str| live.out("network", output);
    let vpcs = aws.ec2.describe_vpcs().vpc_ids(vpc_id).send().await.expect("vpc");
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some(platform.network.cidr.to_string().as_str()));
    assert_eq!(out("VpcCidr"), platform.network.cidr.to_string());

    let in_vpc = Filter::builder().name("vpc-id").values(vpc_id).build();
    let subnets = aws.ec2.describe_subnets().filters(in_vpc.clone()).send().await.expect("subnets");
    let by_cidr: BTreeMap<&str, (&str, &str)> = subnets
        .subnets()
        .iter()
        .map(|s| {
            (
                s.cidr_block().unwrap_or_default(),
                (s.subnet_id().unwrap_or_default(), s.availability_zone().unwrap_or_default()),
            )
        })
        .collect();
    let plan = platform.network.subnets();
    assert_eq!(plan.len(), usize::from(platform.network.zones));
    assert_eq!(by_cidr.len(), plan.len() * 3, "three subnets per zone and no others: {by_cidr:?}");
    let (public, private, database) =
        (split(&out("PublicSubnetIds")), split(&out("PrivateSubnetIds")), split(&out("DatabaseSubnetIds")));
    let mut zones = BTreeSet::new();
    for (i, zone) in plan.iter().enumerate() {
        let tier = |cidr: ipnet::Ipv4Net| {
            *by_cidr.get(cidr.to_string().as_str()).unwrap_or_else(|| panic!("no subnet {cidr}"))
        };
        let (pub_id, az) = tier(zone.public);
        let (priv_id, priv_az) = tier(zone.private);
        let (db_id, db_az) = tier(zone.database);
        assert_eq!((priv_az, db_az), (az, az), "zone {i}: the three tiers share one availability zone");
        assert!(zones.insert(az), "zone {i} reuses availability zone {az}");
        assert_eq!(
            (public[i].as_str(), private[i].as_str(), database[i].as_str()),
            (pub_id, priv_id, db_id),
            "zone {i} outputs"
        );
    }

    // One NAT gateway per zone, each in that zone's public subnet.
    let nats = aws.ec2.describe_nat_gateways().filter(in_vpc.clone()).send().await.expect("nat gateways");
    let nat_subnets: BTreeSet<&str> = nats.nat_gateways().iter().filter_map(|n| n.subnet_id()).collect();
    assert_eq!(nat_subnets, public.iter().map(String::as_str).collect());
    let nat_ids: BTreeSet<&str> = nats.nat_gateways().iter().filter_map(|n| n.nat_gateway_id()).collect();

    // Default routes: one table to the internet gateway, one per zone to that zone's NAT.
    // moto keeps route tables' subnet associations made by CloudFormation out of
    // DescribeRouteTables, so which subnet uses which table cannot be read back here.
    let igws = aws
        .ec2
        .describe_internet_gateways()
        .filters(Filter::builder().name("attachment.vpc-id").values(vpc_id).build())
        .send()
        .await
        .expect("internet gateways");
    assert_eq!(igws.internet_gateways().len(), 1);
    let igw = igws.internet_gateways()[0].internet_gateway_id().expect("igw id");
    let tables = aws.ec2.describe_route_tables().filters(in_vpc).send().await.expect("route tables");
    let default_routes: Vec<(Option<&str>, Option<&str>)> = tables
        .route_tables()
        .iter()
        .flat_map(|t| t.routes())
        .filter(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .map(|r| (r.gateway_id(), r.nat_gateway_id()))
        .collect();
    assert_eq!(default_routes.iter().filter(|(g, _)| *g == Some(igw)).count(), 1, "{default_routes:?}");
    let via_nat: BTreeSet<&str> = default_routes.iter().filter_map(|(_, n)| *n).collect();
    assert_eq!(via_nat, nat_ids, "each zone's private table routes through its own NAT");
    assert_eq!(default_routes.len(), 1 + plan.len(), "the database tier has no route out: {default_routes:?}");
}

async fn repositories_scan_and_are_immutable_and_encrypted(live: &Live) {
    let (aws, platform) = (&live.aws, &live.platform);
    let data_key = live.out("keys", "DataKeyArn");
    let out = |output: &str| live.out("registry", output);
    let names: Vec<String> = platform.services.iter().map(|s| names::repository(platform, &s.name)).collect();
    let repos =
        aws.ecr.describe_repositories().set_repository_names(Some(names.clone())).send().await.expect("repositories");
    assert_eq!(repos.repositories().len(), names.len());
    for (service, repo) in platform.services.iter().zip(repos.repositories()) {
        let name = repo.repository_name().unwrap_or_default();
        assert_eq!(name, names::repository(platform, &service.name));
        assert_eq!(repo.repository_uri().map(str::to_owned), Some(out(&names::repository_output(&service.name))));
        assert_eq!(repo.image_tag_mutability(), Some(&aws_sdk_ecr::types::ImageTagMutability::Immutable), "{name}");
        let scan = repo.image_scanning_configuration().map(|c| c.scan_on_push());
        assert_eq!(scan, Some(true), "{name} scans on push");
        let encryption = repo.encryption_configuration().expect("encryption");
        assert_eq!(encryption.encryption_type(), &aws_sdk_ecr::types::EncryptionType::Kms, "{name}");
        assert_eq!(encryption.kms_key(), Some(data_key.as_str()), "{name} uses the keys stack's data key");
    }
}

async fn database_is_private_encrypted_and_protected(live: &Live) {
    let (aws, platform, cluster_sg) = (&live.aws, &live.platform, live.cluster_sg.as_str());
    let data_key = live.out("keys", "DataKeyArn");
    let database_subnets = live.out("network", "DatabaseSubnetIds");
    let out = |output: &str| live.out("data", output);
    let db = platform.database.as_ref().expect("the fixture has a database");
    let found =
        aws.rds.describe_db_instances().db_instance_identifier(out("DatabaseInstanceId")).send().await.expect("db");
    let instance = &found.db_instances()[0];
    assert_eq!(instance.engine(), Some("postgres"));
    assert_eq!(instance.engine_version(), Some(db.version.as_str()));
    assert_eq!(instance.db_instance_class(), Some(db.class.as_str()));
    assert_eq!(instance.multi_az(), Some(db.multi_az));
    assert_eq!(instance.publicly_accessible(), Some(false));
    assert_eq!(instance.storage_encrypted(), Some(true));
    assert_eq!(instance.kms_key_id(), Some(data_key.as_str()));
    assert_eq!(instance.deletion_protection(), Some(true));
    assert_eq!(instance.backup_retention_period(), Some(i32::from(db.backup_retention_days)));
    let subnets: BTreeSet<&str> = instance
        .db_subnet_group()
        .map(|g| g.subnets().iter().filter_map(|s| s.subnet_identifier()).collect())
        .unwrap_or_default();
    assert_eq!(subnets, database_subnets.split(',').collect(), "the database lives in the isolated tier");

    // Its security group: the database port from the cluster only.
    let groups: Vec<&str> = instance.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).collect();
    let db_sg = out("DatabaseSecurityGroupId");
    assert_eq!(groups, [db_sg.as_str()]);
    let sg = aws.ec2.describe_security_groups().group_ids(&db_sg).send().await.expect("db security group");
    let ingress = sg.security_groups()[0].ip_permissions();
    assert_eq!(ingress.len(), 1, "{ingress:?}");
    let port = i32::from(db.engine.port());
    assert_eq!((ingress[0].from_port(), ingress[0].to_port()), (Some(port), Some(port)));
    let sources: Vec<&str> = ingress[0].user_id_group_pairs().iter().filter_map(|p| p.group_id()).collect();
    assert_eq!(sources, [cluster_sg]);
    assert!(ingress[0].ip_ranges().is_empty(), "no CIDR reaches the database");
}

async fn load_balancer_routes_as_planned(live: &Live) {
    let (aws, platform, cluster_sg, certificates) =
        (&live.aws, &live.platform, live.cluster_sg.as_str(), &live.certificates);
    let vpc_id = live.out("network", "VpcId");
    let public_subnets = live.out("network", "PublicSubnetIds");
    let out = |output: &str| live.out("edge", output);
    use aws_sdk_elasticloadbalancingv2::types::{
        ActionTypeEnum, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum,
    };
    let lbs = aws.elb.describe_load_balancers().send().await.expect("load balancers");
    assert_eq!(lbs.load_balancers().len(), 1);
    let lb = &lbs.load_balancers()[0];
    assert_eq!(lb.scheme(), Some(&LoadBalancerSchemeEnum::InternetFacing));
    assert_eq!(lb.r#type(), Some(&LoadBalancerTypeEnum::Application));
    assert_eq!(lb.vpc_id(), Some(vpc_id.as_str()));
    let subnets: BTreeSet<&str> = lb.availability_zones().iter().filter_map(|z| z.subnet_id()).collect();
    assert_eq!(subnets, public_subnets.split(',').collect(), "the ALB sits in the public subnets");
    let lb_arn = lb.load_balancer_arn().expect("lb arn");

    let listeners = aws.elb.describe_listeners().load_balancer_arn(lb_arn).send().await.expect("listeners");
    assert_eq!(listeners.listeners().len(), 2);
    let listener = |port: i32| listeners.listeners().iter().find(|l| l.port() == Some(port)).expect("listener");
    let https = listener(443);
    assert_eq!(https.protocol(), Some(&ProtocolEnum::Https));
    assert_eq!(https.ssl_policy(), Some(edge::HTTPS_SSL_POLICY));
    let default_certificate = certificates.get(platform.hosts()[0]).map(String::as_str);
    assert_eq!(https.certificates().first().and_then(|c| c.certificate_arn()), default_certificate);
    let http = listener(80);
    assert_eq!(http.protocol(), Some(&ProtocolEnum::Http));
    let redirect = http.default_actions().first().and_then(|a| a.redirect_config()).expect("HTTP redirects");
    assert_eq!((redirect.protocol(), redirect.port()), (Some("HTTPS"), Some("443")));
    assert_eq!(redirect.status_code().map(|c| c.as_str()), Some("HTTP_301"));

    // One IP target group per routed service port, as the edge stack's outputs name them,
    // and one for www's old side.
    let targets = edge::targets(platform);
    let groups = aws.elb.describe_target_groups().load_balancer_arn(lb_arn).send().await.expect("target groups");
    assert_eq!(groups.target_groups().len(), targets.len() + 1);
    let old_side = out(&legacy::old_side_target_group_output("www.acme.example.com"));
    let health = aws.elb.describe_target_health().target_group_arn(&old_side).send().await.expect("old side targets");
    let mut old_targets: Vec<(&str, Option<i32>)> = health
        .target_health_descriptions()
        .iter()
        .filter_map(|d| d.target())
        .map(|t| (t.id().unwrap_or_default(), t.port()))
        .collect();
    old_targets.sort_unstable();
    assert_eq!(old_targets, [("10.50.0.10", Some(443)), ("10.50.0.11", Some(443))]);
    let mut target_arn = BTreeMap::new();
    for target in &targets {
        let arn = out(&target.output());
        let group = groups.target_groups().iter().find(|g| g.target_group_arn() == Some(arn.as_str())).expect("group");
        assert_eq!(group.target_type().map(|t| t.as_str()), Some("ip"), "{}", target.slug());
        assert_eq!(group.port(), Some(i32::from(target.port.port)));
        assert_eq!(group.protocol(), Some(&ProtocolEnum::Http));
        assert_eq!(group.vpc_id(), Some(vpc_id.as_str()));
        assert_eq!(group.health_check_path(), Some(target.service.health.path.as_str()));
        target_arn.insert((target.service.name.clone(), target.port.port), arn);
    }

    // The HTTPS listener's rules: the planned priorities, hosts and paths, each forwarding
    // to its service's group.
    let rules = aws.elb.describe_rules().listener_arn(https.listener_arn().expect("arn")).send().await.expect("rules");
    let rules: Vec<_> = rules.rules().iter().filter(|r| r.is_default() != Some(true)).collect();
    let routes = edge::listener_routes(platform);
    let probes = edge::probe_rules(platform);
    assert_eq!(rules.len(), routes.len() + probes.len(), "a rule per route, and a probe rule per service on www");
    for route in &routes {
        let priority = route.priority.to_string();
        let rule = rules.iter().find(|r| r.priority() == Some(priority.as_str())).expect("a rule per route");
        let values = |field: &str| -> Vec<String> {
            rule.conditions()
                .iter()
                .filter(|c| c.field() == Some(field))
                .flat_map(|c| {
                    let config = match field {
                        "host-header" => c.host_header_config().map(|h| h.values().to_vec()),
                        _ => c.path_pattern_config().map(|p| p.values().to_vec()),
                    };
                    config.filter(|v| !v.is_empty()).unwrap_or_else(|| c.values().to_vec())
                })
                .collect()
        };
        assert_eq!(values("host-header"), std::slice::from_ref(&route.route.host), "rule {priority}");
        assert_eq!(values("path-pattern"), route.path_patterns().unwrap_or_default(), "rule {priority}");
        let action = rule.actions().first().expect("action");
        assert_eq!(action.r#type(), Some(&ActionTypeEnum::Forward));
        let service_group = target_arn.get(&(route.service.name.clone(), route.route.port)).cloned();
        let weights: Vec<(Option<String>, Option<i32>)> = action
            .forward_config()
            .map(|f| f.target_groups().iter().map(|t| (t.target_group_arn().map(str::to_owned), t.weight())).collect())
            .unwrap_or_default();
        if route.route.host == "www.acme.example.com" {
            // Resting on the old side until the service is migrated.
            assert_eq!(weights, [(service_group, Some(0)), (Some(old_side.clone()), Some(100))], "rule {priority}");
        } else {
            let forwarded =
                action.target_group_arn().map(str::to_owned).or_else(|| weights.first().and_then(|w| w.0.clone()));
            assert_eq!(forwarded, service_group, "rule {priority}");
        }
    }

    // The ALB's group may reach the pods: an ingress rule on the cluster's group.
    let lb_sg = lb.security_groups().first().expect("ALB security group");
    let cluster = aws.ec2.describe_security_groups().group_ids(cluster_sg).send().await.expect("cluster group");
    let from_alb: Vec<(Option<i32>, Option<i32>)> = cluster.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| p.user_id_group_pairs().iter().any(|g| g.group_id() == Some(lb_sg.as_str())))
        .map(|p| (p.from_port(), p.to_port()))
        .collect();
    assert_eq!(from_alb, [(Some(8080), Some(8080))], "every fixture service listens on 8080");
}

async fn hosted_zone_points_at_the_load_balancer(live: &Live) {
    let (aws, platform) = (&live.aws, &live.platform);
    let zone_id = &live.out("dns", "HostedZoneId");
    let zone = aws.route53.get_hosted_zone().id(zone_id).send().await.expect("hosted zone");
    let zone = zone.hosted_zone().expect("zone");
    assert_eq!(zone.name().trim_end_matches('.'), platform.domain);
    assert_eq!(zone.config().map(|c| c.private_zone()), Some(false));

    let lbs = aws.elb.describe_load_balancers().send().await.expect("load balancers");
    let lb_dns = lbs.load_balancers()[0].dns_name().expect("dns name").to_ascii_lowercase();
    let records = aws.route53.list_resource_record_sets().hosted_zone_id(zone_id).send().await.expect("records");
    // The hosts the old side serves have no record of the stack's: their migration owns them.
    for host in ["auth.acme.example.com", "www.acme.example.com"] {
        assert!(
            !records.resource_record_sets().iter().any(|r| r.name().trim_end_matches('.') == host),
            "{host} has a record"
        );
    }
    {
        let host = "chat.acme.example.com";
        let record = records
            .resource_record_sets()
            .iter()
            .find(|r| r.name().trim_end_matches('.') == host && r.r#type().as_str() == "A")
            .unwrap_or_else(|| panic!("no A record for {host}"));
        // moto does not resolve the ALB's CanonicalHostedZoneID, so only the name is read.
        let alias = record.alias_target().expect("alias");
        assert_eq!(alias.dns_name().trim_end_matches('.').to_ascii_lowercase(), lb_dns, "{host}");
        assert!(alias.evaluate_target_health());
        assert!(record.set_identifier().is_none(), "a new host's record is a plain alias");
    }
}
