//! Migrations of the services that share www by path (web on `/`, api on `/api`), run against
//! moto in server mode on 127.0.0.1 with a virtual clock, the probes aimed at an HTTPS server
//! the test starts. A shared host moves its DNS to the load balancer first (the front door),
//! while every path still goes to the old side; then each service moves its own rule.

mod common;

use acme_aws::Stop;
use acme_migrate::{Command, Stage};
use acme_ops::migrate::{Event, Outcome, run};
use acme_probe::testing::{Behaviour, Server, ServerCertificate};
use common::{Events, World};

const WWW: &str = "www.acme.example.com";
const AUTH: &str = "auth.acme.example.com";
const API_GROUP: &str = "ApiTargetGroupArn";
const WEB_GROUP: &str = "WebTargetGroupArn";
const OLD_SIDE_GROUP: &str = "OldSideWwwAcmeExampleComTargetGroupArn";

/// The DNS weights of a host as the migration's weighted pair holds them, sorted.
fn pair(new: i64) -> Vec<(String, String, Option<i64>)> {
    vec![("acmectl-new".into(), "CNAME".into(), Some(new)), ("acmectl-old".into(), "CNAME".into(), Some(100 - new))]
}

/// A rule forwarding `new` percent to `group`, the rest to www's old side, sorted.
fn split(group: &str, new: i32) -> Vec<(String, i32)> {
    let mut forward = vec![(group.to_owned(), new), (OLD_SIDE_GROUP.to_owned(), 100 - new)];
    forward.sort();
    forward
}

async fn sorted_weights(world: &World, host: &str) -> Vec<(String, String, Option<i64>)> {
    let mut weights = world.weights(host).await;
    weights.sort();
    weights
}

/// Runs `f` on the test's runtime from inside a synchronous event callback.
fn blocking<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// A platform deployed far enough to migrate web and api (and auth), with their alarms and
/// healthy targets in their groups.
async fn world() -> World {
    let world = World::new(acme_spec::fixture::acme()).await;
    for service in ["web", "api", "auth"] {
        world.alarms(service).await;
    }
    for group in [WEB_GROUP, API_GROUP, "AuthTargetGroupArn"] {
        world.targets(group, 2).await;
    }
    world
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_sharing_a_host_move_its_front_door_once_then_each_its_own_rule_then_finalize_hands_it_to_the_stack() {
    let world = world().await;
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(WWW.into())).await;
    let m = world.migration("run-api", &[(WWW, server.addr())], server.ca_pem()).await;
    let events = Events::default();
    // Every event with the virtual second it came at.
    let timeline = std::sync::Mutex::new(vec![]);
    // How many probes the front door had made when the first weight of api's own rule moved.
    let front_door_probes = std::sync::Mutex::new(None);
    let outcome = run(&m, &world.plan("api"), Command::Start, Stop::never(), &|e| {
        if matches!(e, Event::Stepped { stage: Stage::Main, percent: 1, .. }) {
            *front_door_probes.lock().expect("lock") = Some(server.requests().len());
        }
        timeline.lock().expect("lock").push((world.clock.secs(), e.clone()));
        events.push(e)
    })
    .await;
    assert_eq!(outcome.expect("the migration runs"), Outcome::Complete, "{:#?}", events.all());
    let schedule = [1, 5, 25, 50, 100];
    let every_step = [schedule.map(|p| (Stage::FrontDoor, p)), schedule.map(|p| (Stage::Main, p))].concat();
    assert_eq!(events.steps(), every_step, "the DNS of www goes over step by step first, then api's rule");
    // Every step is judged, the front door's last one too, before the next moves: a DNS step
    // bakes for the TTL and the bake, a rule step (which no resolver caches) for the bake
    // alone, from the moment its weight is written.
    let timeline = timeline.into_inner().expect("lock");
    let at = |wanted: &dyn Fn(&Event) -> bool| timeline.iter().find(|(_, e)| wanted(e)).map(|(t, e)| (*t, e.clone()));
    for (stage, percent) in every_step {
        let began = at(&|e| matches!(e, Event::Began { stage: s, percent: p, .. } if *s == stage && *p == percent));
        let Some((began_at, Event::Began { until, .. })) = began else { panic!("{stage} {percent}% never began") };
        let judged_for = if stage == Stage::FrontDoor { 60 + 300 } else { 300 };
        assert_eq!(until - began_at, judged_for, "{stage} {percent}%");
        if stage == Stage::Main {
            let stepped = at(&|e| matches!(e, Event::Stepped { stage: Stage::Main, percent: p, .. } if *p == percent));
            assert_eq!(stepped.map(|(t, _)| t), Some(began_at), "{stage} {percent}% began when written");
        }
    }
    assert_eq!(sorted_weights(&world, WWW).await, pair(100), "www resolves to the load balancer");
    assert_eq!(world.forward("api").await, split(API_GROUP, 100));
    assert_eq!(world.forward("web").await, split(WEB_GROUP, 0), "web's paths still go to the old side");

    // The front door's probes judge the old side through the load balancer, as any visitor
    // reaches it; api's own probes carry the header that sends them to api's group alone.
    let probes = server.requests();
    let front = front_door_probes.lock().expect("lock").expect("api's rule moved");
    assert!(front >= 5 && probes.len() >= front + 5, "{front} front door probes of {}", probes.len());
    assert!(probes.iter().all(|r| r.header("Host") == Some(WWW) && r.line.starts_with("GET /api/healthz ")));
    assert!(probes[..front].iter().all(|r| r.header("X-Acmectl-Probe").is_none()));
    assert!(probes[front..].iter().all(|r| r.header("X-Acmectl-Probe") == Some("api")));

    // web finds the front door at 100 and moves only its own rule.
    let m = world.migration("run-web", &[(WWW, server.addr())], server.ca_pem()).await;
    let events = Events::default();
    let outcome = run(&m, &world.plan("web"), Command::Start, Stop::never(), &|e| events.push(e)).await;
    assert_eq!(outcome.expect("the migration runs"), Outcome::Complete, "{:#?}", events.all());
    assert_eq!(events.steps(), schedule.map(|p| (Stage::Main, p)), "no front door stage the second time");
    assert_eq!(world.forward("web").await, split(WEB_GROUP, 100));
    assert_eq!(world.forward("api").await, split(API_GROUP, 100), "api's rule is where its run left it");
    // Still the migration's pair, not the stack's record (set id acme-edge): the stack takes
    // the host over only once finalize marks every service on it as migrated.
    assert_eq!(sorted_weights(&world, WWW).await, pair(100));
    let edge = acme_aws::migration::Migrator::new(&world.sdk)
        .edge(&world.platform, &world.given)
        .await
        .expect("the edge stack");
    assert!(!edge.migrated("web") && !edge.migrated("api"), "{:?}", edge.parameters);

    // finalize api: its rule forwards to it alone, www stays on the migration's pair while
    // web is not finalized.
    let resolves = |when: &str| {
        let weights = blocking(world.weights(WWW));
        assert!(weights.iter().any(|(_, _, w)| w.is_none_or(|w| w > 0)), "www resolves {when}: {weights:?}");
    };
    let done = world.finalize("api", &|m| resolves(m)).await;
    assert_eq!((done.final_hosts, done.deployed), (vec![], true));
    assert_eq!(done.waiting, [(WWW.to_owned(), vec!["web".to_owned()])]);
    assert_eq!(world.forward("api").await, [(API_GROUP.to_owned(), 1)], "api's rule: no old side left");
    assert_eq!(world.forward("web").await, split(WEB_GROUP, 100), "web's rule is the migration's still");
    assert_eq!(sorted_weights(&world, WWW).await, pair(100));

    // finalize web, the last on www: the host's record becomes the stack's weighted alias, and
    // the migration's pair goes; www resolves after every move.
    let messages = std::sync::Mutex::new(vec![]);
    let done = world
        .finalize("web", &|m| {
            resolves(m);
            messages.lock().expect("lock").push(m.to_owned())
        })
        .await;
    assert_eq!((done.final_hosts, done.waiting, done.deployed), (vec![WWW.to_owned()], vec![], true));
    let messages = messages.into_inner().expect("lock");
    assert!(messages.iter().any(|m| m.contains("aliases of the load balancer")), "{messages:?}");
    assert_eq!(world.forward("web").await, [(WEB_GROUP.to_owned(), 1)]);
    assert_eq!(sorted_weights(&world, WWW).await, [("acme-edge".to_owned(), "A".to_owned(), Some(100))]);
    let edge = acme_aws::migration::Migrator::new(&world.sdk)
        .edge(&world.platform, &world.given)
        .await
        .expect("the edge stack");
    assert!(edge.migrated("web") && edge.migrated("api"), "{:?}", edge.parameters);

    // A finalize that finished runs again as a no-op.
    let again = world.finalize("web", &|_| {}).await;
    assert!(!again.deployed, "{again:?}");
    assert_eq!(sorted_weights(&world, WWW).await, [("acme-edge".to_owned(), "A".to_owned(), Some(100))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_midway_puts_the_rule_back_at_zero_within_one_poll_and_leaves_the_front_door() {
    let world = world().await;
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(WWW.into())).await;
    let m = world.migration("run-api", &[(WWW, server.addr())], server.ca_pem()).await;
    let events = Events::default();
    let fired_at = std::sync::Mutex::new(None);
    let outcome = run(&m, &world.plan("api"), Command::Start, Stop::never(), &|e| {
        if matches!(e, Event::Began { stage: Stage::Main, percent: 25, .. }) && fired_at.lock().expect("lock").is_none()
        {
            blocking(world.set_alarm("acme-api-5xx-rate", 12.5));
            *fired_at.lock().expect("lock") = Some(world.clock.secs());
        }
        if matches!(e, Event::RolledBack { .. }) {
            let fired = fired_at.lock().expect("lock").expect("the alarm fired first");
            assert!(world.clock.secs() - fired <= 10, "rolled back {}s after the alarm", world.clock.secs() - fired);
            assert_eq!(blocking(world.forward("api")), split(API_GROUP, 0), "the rule is back when the run says so");
        }
        events.push(e)
    })
    .await
    .expect("the run ends");
    let Outcome::RolledBack { stage, why } = outcome else { panic!("{outcome:?}") };
    assert_eq!(stage, Stage::Main);
    assert!(why.starts_with("alarm acme-api-5xx-rate: ALARM at 12.5"), "{why}");
    assert_eq!(events.steps().last(), Some(&(Stage::Main, 25)), "nothing after the failure");
    assert_eq!(world.forward("api").await, split(API_GROUP, 0));
    // Only the failing stage goes back: the front door judged the old side through the load
    // balancer, and it still serves every path there.
    assert_eq!(sorted_weights(&world, WWW).await, pair(100));
    assert_eq!(world.forward("web").await, split(WEB_GROUP, 0));
    let intent = acme_aws::migration::Migrator::new(&world.sdk)
        .host(&world.zone().await, WWW)
        .await
        .expect("records")
        .intent_of("api")
        .expect("an intent");
    assert!(
        matches!(&intent.state, acme_migrate::IntentState::RolledBack { by, why } if by == "gate" && why.contains("acme-api-5xx-rate")),
        "{intent:?}"
    );
}

/// Every weight the migrations of auth (own host) and api (shared host) move, and web's rule
/// beside api's.
#[derive(Debug, PartialEq)]
struct Weights {
    auth_dns: Vec<(String, String, Option<i64>)>,
    www_dns: Vec<(String, String, Option<i64>)>,
    api_rule: Vec<(String, i32)>,
    web_rule: Vec<(String, i32)>,
}

async fn weights_now(world: &World) -> Weights {
    Weights {
        auth_dns: sorted_weights(world, AUTH).await,
        www_dns: sorted_weights(world, WWW).await,
        api_rule: world.forward("api").await,
        web_rule: world.forward("web").await,
    }
}

/// The logical id of the listener rule of `host` + `path` in `platform`'s edge stack.
fn rule_of(platform: &acme_spec::Platform, host: &str, path: &str) -> String {
    let routes = acme_synth::stacks::edge::listener_routes(platform);
    let route = routes.iter().find(|r| r.route.host == host && r.route.path.as_deref() == Some(path));
    route.map(|r| r.logical_id()).unwrap_or_else(|| panic!("no route {host}{path}"))
}

/// From inside a run: a deploy of the edge stack as it is deployed (`same`), then of
/// `changed`, which adds or removes `rule` and touches nothing else. Neither moves a weight.
fn deploy_mid_run(world: &World, same: &acme_spec::Platform, changed: &acme_spec::Platform, rule: &str) {
    let before = blocking(weights_now(world));
    let report = blocking(world.deploy_edge(same));
    // CloudFormation refuses a change set without changes, and the deploy runs none; moto
    // makes and runs an empty one. Either way it lists nothing to change.
    let edge = report.stack("acme-edge").expect("the edge stack deployed");
    assert_eq!(edge.changes, [], "nothing to change");
    assert_eq!(blocking(weights_now(world)), before, "after a deploy with nothing to change");

    let report = blocking(world.deploy_edge(changed));
    let edge = report.stack("acme-edge").expect("the edge stack deployed");
    assert!(edge.change_set.is_some(), "{report:?}");
    let changes: Vec<&str> = edge.changes.iter().map(|c| c.logical_id.as_str()).collect();
    assert_eq!(changes, [rule], "the change set touches the new route's rule alone");
    assert_eq!(blocking(weights_now(world)), before, "after a deploy that changes another service's route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_in_the_middle_of_a_migration_leaves_the_weights_where_they_are() {
    let world = world().await;
    // The change a deploy brings mid-migration: web gets a route of its own under /assets on
    // www, a new listener rule beside the migrating ones (and, on www, forwarding by weight
    // to the old side as web's other rule does).
    let mut with_assets = world.platform.clone();
    let web = with_assets.services.iter_mut().find(|s| s.name == "web").expect("web");
    web.routes.push(acme_spec::Route { host: WWW.into(), path: Some("/assets".into()), port: 8080 });
    let assets_rule = rule_of(&with_assets, WWW, "/assets");

    // auth moves by DNS: the deploy comes while its records stand at 25.
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(AUTH.into())).await;
    let m = world.migration("run-auth", &[(AUTH, server.addr())], server.ca_pem()).await;
    let deployed = std::sync::Mutex::new(false);
    let outcome = run(&m, &world.plan("auth"), Command::Start, Stop::never(), &|e| {
        if matches!(e, Event::Began { stage: Stage::Main, percent: 25, .. }) && !*deployed.lock().expect("lock") {
            assert_eq!(blocking(world.weights(AUTH)).len(), 2, "auth's weighted pair is there");
            deploy_mid_run(&world, &world.platform, &with_assets, &assets_rule);
            *deployed.lock().expect("lock") = true;
        }
    })
    .await;
    assert_eq!(outcome.expect("the migration runs"), Outcome::Complete);
    assert!(*deployed.lock().expect("lock"), "the deploy came mid-run");
    assert_eq!(sorted_weights(&world, AUTH).await, pair(100));

    // api moves by its rule: the deploy comes while it forwards 25 to api; this time the
    // route goes again.
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(WWW.into())).await;
    let m = world.migration("run-api", &[(WWW, server.addr())], server.ca_pem()).await;
    let deployed = std::sync::Mutex::new(false);
    let outcome = run(&m, &world.plan("api"), Command::Start, Stop::never(), &|e| {
        if matches!(e, Event::Began { stage: Stage::Main, percent: 25, .. }) && !*deployed.lock().expect("lock") {
            assert_eq!(blocking(world.forward("api")), split(API_GROUP, 25));
            deploy_mid_run(&world, &with_assets, &world.platform, &assets_rule);
            *deployed.lock().expect("lock") = true;
        }
    })
    .await;
    assert_eq!(outcome.expect("the migration runs"), Outcome::Complete);
    assert!(*deployed.lock().expect("lock"), "the deploy came mid-run");
    assert_eq!(world.forward("api").await, split(API_GROUP, 100));
    assert_eq!(sorted_weights(&world, WWW).await, pair(100));
}
