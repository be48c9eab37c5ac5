//! Migration speed: `cargo bench -p acme-ops --bench migrate` (moto's server on 127.0.0.1,
//! installed by scripts/tools.sh, started by the benchmark).
//!
//! - `decide_rollback`: the decision once a gate's reading failed (pure).
//! - `poll_auth`: one poll of a service in flight against the emulator: its records, rules,
//!   intent and lock, alarms, targets and a live probe of a local HTTPS server. A failed gate
//!   is seen at the next poll, so the rollback lands within one poll interval plus this.
//! - `rollback_auth`: the rollback itself, one Route 53 batch.
//!
//! - `status_fifty`: `migrate status` of a platform of 50 services (24 on hosts of their own,
//!   26 by path on www): the edge stack read back, then the whole zone in one listing and
//!   every service's rules. Its edge template goes through S3.

#[path = "../tests/common/mod.rs"]
mod common;

use acme_migrate::gates::{AlarmReading, AlarmState, Readings, judge};
use acme_migrate::intent::{Intent, IntentState, Stage};
use acme_migrate::plan::{Knob, ServicePlan};
use acme_migrate::records::dns_weights;
use acme_migrate::{Action, Command, Input, decide};
use acme_ops::migrate::{Migration, control, observe};
use acme_probe::testing::{Behaviour, Server, ServerCertificate};
use common::World;
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn main() {
    divan::main();
}

const AUTH: &str = "auth.acme.example.com";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime"))
}

#[divan::bench]
fn decide_rollback(bencher: divan::Bencher) {
    let platform = acme_spec::fixture::acme();
    let plan = acme_migrate::plan_service(&platform, platform.service("auth").expect("auth"));
    let knobs = BTreeMap::from([(Knob::Dns(AUTH.into()), 25)]);
    let intent = Intent {
        service: "auth".into(),
        stage: Stage::Main,
        percent: 25,
        since: 1_000,
        run: "bench".into(),
        state: IntentState::Baking { began: 1_000, ttl: 60 },
    };
    let failing = Readings {
        alarms: vec![AlarmReading {
            name: "acme-auth-5xx-rate".into(),
            state: AlarmState::Alarm,
            reason: "Threshold Crossed".into(),
            threshold: Some(5.0),
            value: Some(12.5),
        }],
        ..Readings::default()
    };
    bencher.bench_local(|| {
        let verdict = judge(&plan, divan::black_box(&failing), 25);
        let action = decide(&Input {
            plan: &plan,
            knobs: &knobs,
            intent: Some(&intent),
            now: 1_100,
            verdict: &verdict,
            written: Some(&knobs),
            command: Command::Start,
        });
        assert!(matches!(action, Action::RollBack { .. }));
        action
    });
}

/// The bundled platform in moto, auth's pods and alarms stood in for, its weights at 25.
struct Auth {
    world: &'static World,
    server: Server,
    plan: ServicePlan,
}

fn auth() -> &'static Auth {
    static AUTH_WORLD: OnceLock<Auth> = OnceLock::new();
    AUTH_WORLD.get_or_init(|| {
        runtime().block_on(async {
            let world: &'static World = Box::leak(Box::new(World::new(acme_spec::fixture::acme()).await));
            world.alarms("auth").await;
            world.targets("AuthTargetGroupArn", 2).await;
            let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(AUTH.into())).await;
            let plan = world.plan("auth");
            let m = world.migration("bench", &[(AUTH, server.addr())], server.ca_pem()).await;
            weights_at(&m, &plan, 25).await;
            Auth { world, server, plan }
        })
    })
}

/// auth's DNS at `percent` on the new side, as a step of `migrate start` writes it.
async fn weights_at(m: &Migration<'_>, plan: &ServicePlan, percent: u8) {
    let obs = observe::observe(m, plan).await.expect("observe");
    let track = plan.track(AUTH).expect("auth's track");
    let lb = &m.load_balancer(plan).expect("auth's load balancer").alias;
    let changes = dns_weights(obs.host(AUTH), track, lb, percent).expect("weights");
    if !changes.is_empty() {
        m.migrator.change(&m.edge.zone_id, &changes, "bench").await.expect("change");
    }
}

async fn migration(a: &Auth) -> Migration<'static> {
    a.world.migration("bench", &[(AUTH, a.server.addr())], a.server.ca_pem()).await
}

#[divan::bench(sample_count = 20)]
fn poll_auth(bencher: divan::Bencher) {
    let a = auth();
    let m = runtime().block_on(migration(a));
    bencher.bench_local(|| {
        runtime().block_on(async {
            let obs = observe::observe(&m, &a.plan).await.expect("observe");
            let readings = observe::readings(&m, &a.plan, Stage::Main, None, false).await.expect("readings");
            (obs.knobs.len(), judge(&a.plan, &readings, 25).passed())
        })
    });
}

#[divan::bench(sample_count = 20)]
fn rollback_auth(bencher: divan::Bencher) {
    let a = auth();
    let m = runtime().block_on(migration(a));
    bencher.bench_local(|| {
        runtime().block_on(async {
            weights_at(&m, &a.plan, 25).await;
            control::roll_back(&m, &a.plan, Stage::Main, "bench", "a gate failed", false).await.expect("rollback")
        })
    });
}

/// 50 services: the bundled four, 22 more on hosts of their own and 24 more by path on www,
/// all served by the old side today.
fn fifty_services() -> acme_spec::Platform {
    let mut p = acme_spec::fixture::acme();
    let template = p.service("auth").expect("auth").clone();
    for i in 0..46 {
        let mut s = template.clone();
        s.name = format!("svc{i}");
        s.namespace = s.name.clone();
        s.uses.clear();
        s.talks_to.clear();
        let (host, path) = if i < 22 {
            (format!("svc{i}.acme.example.com"), None)
        } else {
            ("www.acme.example.com".to_owned(), Some(format!("/svc{i}")))
        };
        s.routes = vec![acme_spec::Route { host, path, port: s.routes[0].port }];
        p.services.push(s);
    }
    p
}

#[divan::bench(sample_count = 20)]
fn status_fifty(bencher: divan::Bencher) {
    let (world, plans) = runtime().block_on(async {
        let world = World::new(fifty_services()).await;
        let plans = acme_migrate::plan::plan(&world.platform);
        (world, plans)
    });
    assert_eq!(plans.len(), 50);
    let mut m = runtime().block_on(world.migration("bench", &[], vec![]));
    bencher.bench_local(|| {
        runtime().block_on(async {
            m.edge = m.migrator.edge(&world.platform, &world.given).await.expect("edge");
            let statuses = acme_ops::migrate::status(&m, &plans, false).await.expect("status");
            assert_eq!(statuses.len(), 50);
            statuses
        })
    });
}
