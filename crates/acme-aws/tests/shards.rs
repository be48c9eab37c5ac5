//! A platform past one load balancer's 26 hosts, deployed to moto's server on 127.0.0.1: two
//! edge stacks, one ALB each, every host's record on its own shard's load balancer. Read
//! back, the account's placement is the shard plan's; a service added at the top of the
//! file then moves no other service, and both edge stacks change by additions only; destroy
//! finds both.
//!
//! As in `moto_deploy.rs`, moto skips ACM certificates (requested through ACM's API here and
//! passed as the dns stack's outputs) and WAFv2 (the web ACL's ARN is a stand-in), and the
//! cluster's security group is a stand-in.

mod support;

use acme_aws::migration::Migrator;
use acme_aws::{Backoff, Deployer, Request};
use acme_spec::{Platform, Route, Service};
use acme_synth::StackName;
use acme_synth::stacks::names;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use support::moto::MotoServer;

/// The bundled platform without an old side, with `extra` more services on hosts of their own.
fn platform_with_hosts(extra: usize) -> Platform {
    let mut p = Platform { legacy: None, ..acme_spec::fixture::acme() };
    for i in 0..extra {
        p.services.push(own_host(&p, &format!("extra{i}")));
    }
    p
}

/// A copy of `api` named `name`, routed alone on `<name>.acme.example.com`.
fn own_host(p: &Platform, name: &str) -> Service {
    let mut s = p.service("api").expect("api").clone();
    s.name = name.to_owned();
    s.namespace = name.to_owned();
    s.uses.clear();
    s.talks_to.clear();
    s.routes = vec![Route { host: format!("{name}.acme.example.com"), path: None, port: s.main_port() }];
    s
}

/// The hosts of `p` whose certificate `given` has no stand-in for yet.
fn without_certificate(p: &Platform, given: &BTreeMap<String, String>) -> Vec<String> {
    p.hosts().into_iter().filter(|h| !given.contains_key(&names::certificate_output(h))).map(str::to_owned).collect()
}

#[test]
fn a_platform_of_two_load_balancers_deploys_and_keeps_its_placement() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let platform = platform_with_hosts(26);
        let artifacts = acme_synth::synthesize(&platform);
        assert_eq!(artifacts.shards.shards.len(), 2, "29 hosts need two load balancers");
        let sdk = moto.sdk().await;
        let deployer = Deployer::new(&sdk).with_backoff(Backoff {
            first: Duration::from_millis(50),
            max: Duration::from_millis(500),
            timeout: Duration::from_secs(120),
        });
        let request = |stacks: &[StackName], given: &BTreeMap<String, String>| Request {
            only: Some(stacks.iter().copied().collect::<BTreeSet<_>>()),
            parameters: given.clone(),
            ..Default::default()
        };
        let foundation = [StackName::Keys, StackName::Ci, StackName::Network, StackName::Dns];
        let report = deployer.deploy(&artifacts, &request(&foundation, &BTreeMap::new())).await.expect("foundation");
        let vpc = report.stack("acme-network").expect("network").outputs["VpcId"].clone();

        // Stand-ins for what moto cannot build: the cluster's security group, the certificates.
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        let acm = aws_sdk_acm::Client::new(&sdk);
        let group = ec2
            .create_security_group()
            .group_name("acme-eks-cluster-stand-in")
            .description("stands in for the EKS cluster security group")
            .vpc_id(&vpc)
            .send()
            .await
            .expect("security group");
        // moto skips WAFv2, so the first shard has no web ACL for the second to join: a stand-in.
        let mut given = BTreeMap::from([
            ("ClusterSecurityGroupId".to_owned(), group.group_id().expect("id").to_owned()),
            ("WebAclArn".to_owned(), "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/acme/stand-in".to_owned()),
        ]);
        for host in without_certificate(&platform, &given) {
            let arn = acm.request_certificate().domain_name(&host).send().await.expect("certificate");
            given.insert(names::certificate_output(&host), arn.certificate_arn().expect("arn").to_owned());
        }
        let edges = [StackName::EDGE, StackName::Edge(1)];
        deployer.deploy(&artifacts, &request(&edges, &given)).await.unwrap_or_else(|e| panic!("{e}"));

        // Two load balancers, and each host's record is an alias of its own shard's.
        let edge_state = Migrator::new(&sdk).edge(&platform, &given).await.expect("edge state");
        assert_eq!(edge_state.load_balancers.keys().copied().collect::<Vec<_>>(), edges);
        let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
        let balancers = elb.describe_load_balancers().send().await.expect("load balancers");
        assert_eq!(balancers.load_balancers().len(), 2);
        let route53 = aws_sdk_route53::Client::new(&sdk);
        let zone = edge_state.zone_id.clone();
        let records = route53.list_resource_record_sets().hosted_zone_id(&zone).send().await.expect("records");
        for shard in &artifacts.shards.shards {
            let lb = &edge_state.load_balancers[&shard.stack].alias.dns_name;
            for host in &shard.hosts {
                let record = records
                    .resource_record_sets()
                    .iter()
                    .find(|r| r.name().trim_end_matches('.') == host && r.r#type().as_str() == "A")
                    .unwrap_or_else(|| panic!("no A record of {host}"));
                let target = record.alias_target().map(|a| a.dns_name().trim_end_matches('.').to_ascii_lowercase());
                assert_eq!(target.as_deref(), Some(lb.as_str()), "{host} points at its shard's load balancer");
            }
        }

        // The account's placement is the plan's.
        let placement = deployer.placement(&platform).await.expect("placement");
        for s in &platform.services {
            assert_eq!(placement.shards.get(&s.name).copied(), artifacts.shards.of_service(&s.name), "{}", s.name);
        }

        // A service at the top of the file: where a new platform would take the first shard's
        // last place and push extra22 to the second, the account's placement holds everyone.
        let mut grown = platform.clone();
        grown.services.insert(0, own_host(&platform, "newcomer"));
        let fresh = acme_synth::synthesize(&grown).shards;
        assert!(platform.services.iter().any(|s| fresh.of_service(&s.name) != artifacts.shards.of_service(&s.name)));
        grown.placement = deployer.placement(&grown).await.expect("placement");
        let grown_artifacts = acme_synth::synthesize(&grown);
        for s in &platform.services {
            assert_eq!(
                grown_artifacts.shards.of_service(&s.name),
                artifacts.shards.of_service(&s.name),
                "{} moved",
                s.name
            );
        }
        assert_eq!(grown_artifacts.shards.of_service("newcomer"), Some(1));
        for host in without_certificate(&grown, &given) {
            let arn = acm.request_certificate().domain_name(&host).send().await.expect("certificate");
            given.insert(names::certificate_output(&host), arn.certificate_arn().expect("arn").to_owned());
        }
        let plan = deployer.plan(&grown_artifacts, &request(&edges, &given)).await.unwrap_or_else(|e| panic!("{e}"));
        let changes: Vec<String> = plan
            .stacks
            .iter()
            .flat_map(|s| {
                s.changes
                    .iter()
                    .map(move |c| format!("{} {} {} {}", s.stack_name, c.action, c.resource_type, c.logical_id))
            })
            .collect();
        let newcomer = |kind: &str, id: &str| changes.contains(&format!("acme-edge-2 Add {kind} {id}"));
        assert!(newcomer("AWS::ElasticLoadBalancingV2::TargetGroup", "NewcomerTargetGroup"), "{changes:#?}");
        assert!(newcomer("AWS::Route53::RecordSet", "RecordNewcomerAcmeExampleCom"), "{changes:#?}");
        assert!(changes.iter().all(|c| c.split(' ').nth(1) == Some("Add")), "only additions: {changes:#?}");
        let _ = plan.discard(&deployer).await;

        // destroy finds both load balancers' stacks, the second before the first it reads.
        let teardown = deployer.teardown(&artifacts, &sdk).await.expect("teardown");
        let order: Vec<&str> = teardown.stacks.iter().map(|d| d.stack_name.as_str()).collect();
        let position =
            |name: &str| order.iter().position(|n| *n == name).unwrap_or_else(|| panic!("{name}: {order:?}"));
        assert!(position("acme-edge-2") < position("acme-edge"), "{order:?}");
        let first = teardown.stacks.iter().find(|d| d.stack_name == "acme-edge").expect("edge");
        assert!(first.read_by.contains(&StackName::Edge(1)), "{:?}", first.read_by);
    });
    drop(moto);
}
