//! A platform deployed to moto (started per test on 127.0.0.1) far enough to migrate: the
//! keys, network, dns and edge stacks, with stand-ins for what moto cannot build (the EKS
//! cluster's security group, ACM certificates) and for what its CloudFormation skips: the
//! service's CloudWatch alarms are created through CloudWatch's API under the names the
//! observability stack gives them, and pods are stood in for by IP targets registered in
//! the service's target group (moto reports registered targets healthy).
#![allow(dead_code)]

#[path = "../../../acme-aws/tests/support/mod.rs"]
pub mod support;

use acme_aws::migration::Migrator;
use acme_aws::{Backoff, Deployer, Request};
use acme_migrate::plan::{ServicePlan, plan_service};
use acme_ops::Clock;
use acme_ops::migrate::{Event, Finalized, Migration, Settings, StackUpdate};
use acme_probe::Trust;
use acme_spec::Platform;
use acme_synth::StackName;
use acme_synth::stacks::names;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use support::moto::MotoServer;

pub struct World {
    pub moto: MotoServer,
    pub sdk: aws_config::SdkConfig,
    pub platform: Platform,
    /// `--parameter` stand-ins.
    pub given: BTreeMap<String, String>,
    pub clock: Clock,
}

pub fn quick_polls() -> Backoff {
    Backoff { first: Duration::from_millis(50), max: Duration::from_millis(500), timeout: Duration::from_secs(120) }
}

impl World {
    pub async fn new(platform: Platform) -> World {
        let moto = MotoServer::start();
        let sdk = moto.sdk().await;
        let mut world =
            World { moto, sdk, platform, given: BTreeMap::new(), clock: Clock::virtual_at(SystemTime::now()) };
        world.deploy_foundation().await;
        world
    }

    pub fn deployer(&self) -> Deployer {
        Deployer::new(&self.sdk).with_backoff(quick_polls())
    }

    async fn deploy_foundation(&mut self) {
        let artifacts = acme_synth::synthesize(&self.platform);
        let only = |s: &[StackName]| Some(s.iter().copied().collect::<BTreeSet<_>>());
        let deployer = self.deployer();
        deployer
            .deploy(
                &artifacts,
                &Request { only: only(&[StackName::Keys, StackName::Network, StackName::Dns]), ..Default::default() },
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let vpc = deployer.describe("acme-network").await.expect("network").expect("deployed").outputs["VpcId"].clone();
        let sg = aws_sdk_ec2::Client::new(&self.sdk)
            .create_security_group()
            .group_name("acme-eks-cluster-stand-in")
            .description("stands in for the EKS cluster security group")
            .vpc_id(&vpc)
            .send()
            .await
            .expect("security group");
        self.given.insert("ClusterSecurityGroupId".into(), sg.group_id().expect("id").to_owned());
        let acm = aws_sdk_acm::Client::new(&self.sdk);
        for host in self.platform.hosts() {
            let arn = acm.request_certificate().domain_name(host).send().await.expect("certificate");
            self.given.insert(names::certificate_output(host), arn.certificate_arn().expect("arn").to_owned());
        }
        self.deploy_edge(&self.platform.clone()).await;
    }

    /// Deploy the edge stack of `platform` (a deploy in the middle of a migration, say).
    pub async fn deploy_edge(&self, platform: &Platform) -> acme_aws::Report {
        let artifacts = acme_synth::synthesize(platform);
        let request = Request {
            only: Some(BTreeSet::from([StackName::EDGE])),
            parameters: self.given.clone(),
            ..Default::default()
        };
        self.deployer().deploy(&artifacts, &request).await.unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn plan(&self, service: &str) -> ServicePlan {
        plan_service(&self.platform, self.platform.service(service).expect("service"))
    }

    /// A migration context as `run` would have it; `probes` aims the probes of a host at a
    /// local server.
    pub async fn migration(&self, run: &str, probes: &[(&str, SocketAddr)], ca: Vec<u8>) -> Migration<'_> {
        let migrator = Migrator::new(&self.sdk);
        let edge = migrator.edge(&self.platform, &self.given).await.unwrap_or_else(|e| panic!("{e}"));
        Migration {
            platform: &self.platform,
            migrator,
            edge,
            clock: self.clock.clone(),
            settings: Settings {
                poll: Duration::from_secs(10),
                probe_targets: probes.iter().map(|(h, a)| ((*h).to_owned(), *a)).collect(),
                trust: Trust::Pem(ca),
                owner: "tester@ci".into(),
                pid: std::process::id(),
                run: run.into(),
            },
        }
    }

    /// `migrate finalize` of `service`, the edge stack deployed with the test's stand-ins; every
    /// message finalize shows goes to `on`.
    pub async fn finalize(&self, service: &str, on: &(dyn Fn(&str) + Sync)) -> Finalized {
        let m = self.migration(&format!("finalize-{service}"), &[], vec![]).await;
        let artifacts = acme_synth::synthesize(&self.platform);
        let deployer = self.deployer();
        let update = StackUpdate { sdk: &self.sdk, deployer: &deployer, artifacts: &artifacts, given: &self.given };
        acme_ops::migrate::finalize(&m, &self.plan(service), &update, on).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// The alarms of `service` (and the load balancer's), as the observability stack names
    /// them.
    pub async fn alarms(&self, service: &str) {
        let plan = self.plan(service);
        support::stand_ins::alarms(&self.sdk, plan.alarms.iter().chain(&plan.front_door_alarms)).await;
    }

    pub async fn set_alarm(&self, name: &str, value: f64) {
        support::stand_ins::set_alarm(&self.sdk, name, value).await;
    }

    /// Pods stood in for: `n` IP targets in the target group of `output`.
    pub async fn targets(&self, output: &str, n: u8) {
        let edge = self.deployer().describe("acme-edge").await.expect("edge").expect("deployed");
        support::stand_ins::targets(&self.sdk, &edge.outputs[output], n).await;
    }

    /// The weights of `host`'s records: (set identifier, type, weight).
    pub async fn weights(&self, host: &str) -> Vec<(String, String, Option<i64>)> {
        let zone = self.zone().await;
        let records = Migrator::new(&self.sdk).host(&zone, host).await.expect("records");
        records
            .records
            .iter()
            .map(|r| (r.set_identifier.clone().unwrap_or_default(), r.rtype.clone(), r.weight))
            .collect()
    }

    /// What `service`'s listener rule on its shared host forwards to, read with DescribeRules
    /// (not through the adapter under test): (the edge output naming the target group,
    /// weight), sorted.
    pub async fn forward(&self, service: &str) -> Vec<(String, i32)> {
        let plan = self.plan(service);
        let [rule] = plan.tracks.iter().flat_map(|t| &t.rules).collect::<Vec<_>>()[..] else {
            panic!("{service} has one rule on a shared host: {:?}", plan.tracks)
        };
        let deployer = self.deployer();
        let resources = deployer.resources("acme-edge").await.expect("edge resources");
        let arn = resources
            .iter()
            .find(|r| r.logical_id == rule.rule)
            .and_then(|r| r.physical_id.clone())
            .unwrap_or_else(|| panic!("the edge stack has no rule {}", rule.rule));
        let outputs = deployer.describe("acme-edge").await.expect("edge").expect("deployed").outputs;
        let output_of = |group: &str| {
            outputs.iter().find(|(_, v)| v.as_str() == group).map_or_else(|| group.to_owned(), |(k, _)| k.clone())
        };
        let described = aws_sdk_elasticloadbalancingv2::Client::new(&self.sdk)
            .describe_rules()
            .rule_arns(arn)
            .send()
            .await
            .expect("describe rules");
        let mut forward = vec![];
        for action in described.rules().iter().flat_map(|r| r.actions()) {
            match action.forward_config().map(|f| f.target_groups()).filter(|g| !g.is_empty()) {
                Some(groups) => forward.extend(
                    groups
                        .iter()
                        .map(|g| (output_of(g.target_group_arn().unwrap_or_default()), g.weight().unwrap_or(1))),
                ),
                None => forward.extend(action.target_group_arn().map(|g| (output_of(g), 1))),
            }
        }
        forward.sort();
        forward
    }

    pub async fn zone(&self) -> String {
        self.deployer().describe("acme-dns").await.expect("dns").expect("deployed").outputs["HostedZoneId"].clone()
    }
}

/// Every event of a run, kept for assertions.
#[derive(Clone, Default)]
pub struct Events(pub Arc<Mutex<Vec<Event>>>);

impl Events {
    pub fn push(&self, e: &Event) {
        self.0.lock().expect("events").push(e.clone());
    }

    pub fn all(&self) -> Vec<Event> {
        self.0.lock().expect("events").clone()
    }

    /// The percentages the run stepped to, per stage, in order.
    pub fn steps(&self) -> Vec<(acme_migrate::Stage, u8)> {
        self.all()
            .iter()
            .filter_map(|e| match e {
                Event::Stepped { stage, percent, .. } => Some((*stage, *percent)),
                _ => None,
            })
            .collect()
    }
}
