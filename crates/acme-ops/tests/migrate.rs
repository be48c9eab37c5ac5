//! Migrations run against moto in server mode on 127.0.0.1, with the probes aimed at HTTPS
//! servers the tests start, and a virtual clock: bakes and TTLs pass in the time the AWS
//! calls take.

mod common;

use acme_aws::Stop;
use acme_migrate::{Command, Stage};
use acme_ops::migrate::{Event, Outcome, run};
use acme_probe::testing::{Behaviour, Server, ServerCertificate};
use common::{Events, World};

const AUTH: &str = "auth.acme.example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_on_its_own_host_moves_through_every_step() {
    let world = World::new(acme_spec::fixture::acme()).await;
    world.alarms("auth").await;
    world.targets("AuthTargetGroupArn", 2).await;
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(AUTH.into())).await;
    let m = world.migration("run-a", &[(AUTH, server.addr())], server.ca_pem()).await;
    let events = Events::default();
    let started = world.clock.secs();
    let outcome = run(&m, &world.plan("auth"), Command::Start, Stop::never(), &|e| {
        if std::env::var_os("ACME_TEST_EVENTS").is_some() {
            eprintln!("{e:?}");
        }
        events.push(e)
    })
    .await;
    assert_eq!(outcome.expect("the migration runs"), Outcome::Complete, "{:#?}", events.all());
    assert_eq!(
        events.steps(),
        [1, 5, 25, 50, 100].map(|p| (Stage::Main, p)),
        "every step of the default schedule, in order"
    );
    // Each step waited the TTL and the bake before the next: five steps of 60 s + 300 s.
    assert!(world.clock.secs() - started >= 5 * 360, "{}s", world.clock.secs() - started);
    let mut weights = world.weights(AUTH).await;
    weights.sort();
    assert_eq!(
        weights,
        [("acmectl-new".into(), "CNAME".into(), Some(100)), ("acmectl-old".into(), "CNAME".into(), Some(0))]
    );
    // Every poll probed the new side through the host's name.
    let probes = server.requests();
    assert!(probes.len() >= 5, "{} probes", probes.len());
    assert!(probes.iter().all(|r| r.header("Host") == Some(AUTH) && r.line.starts_with("GET /healthz ")));
    assert!(events.all().iter().any(|e| matches!(e, Event::Completed)));
}

/// Runs `f` on the test's runtime from inside a synchronous event callback.
fn blocking<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_midway_puts_the_weight_back_at_zero_within_one_poll() {
    let world = World::new(acme_spec::fixture::acme()).await;
    world.alarms("auth").await;
    world.targets("AuthTargetGroupArn", 2).await;
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(AUTH.into())).await;
    let m = world.migration("run-a", &[(AUTH, server.addr())], server.ca_pem()).await;
    let events = Events::default();
    let fired_at = std::sync::Mutex::new(None);
    let outcome = run(&m, &world.plan("auth"), Command::Start, Stop::never(), &|e| {
        if matches!(e, Event::Began { percent: 25, .. }) && fired_at.lock().expect("lock").is_none() {
            blocking(world.set_alarm("acme-auth-5xx-rate", 12.5));
            *fired_at.lock().expect("lock") = Some(world.clock.secs());
        }
        if matches!(e, Event::RolledBack { .. }) {
            let fired = fired_at.lock().expect("lock").expect("the alarm fired first");
            assert!(world.clock.secs() - fired <= 10, "rolled back {}s after the alarm", world.clock.secs() - fired);
        }
        events.push(e)
    })
    .await
    .expect("the run ends");
    let Outcome::RolledBack { stage, why } = outcome else { panic!("{outcome:?}") };
    assert_eq!(stage, Stage::Main);
    assert_eq!(
        why,
        "alarm acme-auth-5xx-rate: ALARM at 12.5: Threshold Crossed: 1 datapoint [12.5] was greater than the threshold \
         (5.0). (threshold not in ALARM, 5)"
    );
    assert_eq!(events.steps(), [(Stage::Main, 1), (Stage::Main, 5), (Stage::Main, 25)], "nothing after the failure");
    let mut weights = world.weights(AUTH).await;
    weights.sort();
    assert_eq!(
        weights,
        [("acmectl-new".into(), "CNAME".into(), Some(0)), ("acmectl-old".into(), "CNAME".into(), Some(100))]
    );
    // The record of intent says why, for status and for the next start.
    let intent = acme_aws::migration::Migrator::new(&world.sdk)
        .host(&world.zone().await, AUTH)
        .await
        .expect("records")
        .intent_of("auth")
        .expect("an intent");
    assert!(
        matches!(&intent.state, acme_migrate::IntentState::RolledBack { by, why } if by == "gate" && why.contains("acme-auth-5xx-rate")),
        "{intent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_step_resumes_at_that_step() {
    let world = World::new(acme_spec::fixture::acme()).await;
    world.alarms("auth").await;
    world.targets("AuthTargetGroupArn", 2).await;
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(AUTH.into())).await;
    let mut killed = world.migration("run-killed", &[(AUTH, server.addr())], server.ca_pem()).await;
    // A process of this machine that no longer runs: its lock may be taken back at once.
    killed.settings.pid = 4_194_304;
    let (kill, killed_at) = tokio::sync::oneshot::channel::<()>();
    let kill = std::sync::Mutex::new(Some(kill));
    let plan = world.plan("auth");
    let on = |e: &Event| {
        if matches!(e, Event::Began { percent: 25, .. })
            && let Some(kill) = kill.lock().expect("lock").take()
        {
            let _ = kill.send(());
        }
    };
    let first = run(&killed, &plan, Command::Start, Stop::never(), &on);
    // Dropping the run mid-bake is a kill -9: nothing of it runs any more, not even cleanup.
    tokio::select! {
        outcome = first => panic!("the run ended by itself: {outcome:?}"),
        _ = killed_at => {}
    }
    let m = world.migration("run-resumed", &[(AUTH, server.addr())], server.ca_pem()).await;
    let events = Events::default();
    let outcome = run(&m, &plan, Command::Resume, Stop::never(), &|e| events.push(e)).await;
    assert_eq!(outcome.expect("resumed"), Outcome::Complete);
    assert_eq!(events.steps(), [(Stage::Main, 50), (Stage::Main, 100)], "resumed at 25, neither back nor ahead");
    let first_poll = events.all().into_iter().find_map(|e| match e {
        Event::Polled { stage, percent, until, .. } => Some((stage, percent, until.is_some())),
        _ => None,
    });
    assert_eq!(first_poll, Some((Stage::Main, 25, true)), "it went on baking the step the killed run began");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_the_same_service_is_refused() {
    let world = World::new(acme_spec::fixture::acme()).await;
    world.alarms("auth").await;
    world.targets("AuthTargetGroupArn", 2).await;
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(AUTH.into())).await;
    let first = world.migration("run-first", &[(AUTH, server.addr())], server.ca_pem()).await;
    let mut second = world.migration("run-second", &[(AUTH, server.addr())], server.ca_pem()).await;
    second.settings.owner = "bob@laptop".into();
    let plan = world.plan("auth");
    let locked = tokio::sync::Notify::new();
    let on = |e: &Event| {
        if matches!(e, Event::Began { percent: 5, .. }) {
            locked.notify_one();
        }
    };
    let (a, b) = tokio::join!(run(&first, &plan, Command::Start, Stop::never(), &on), async {
        locked.notified().await;
        let weights = world.weights(AUTH).await;
        let refused = run(&second, &plan, Command::Start, Stop::never(), &|_| {}).await;
        (weights, refused)
    });
    assert_eq!(a.expect("the first run goes on"), Outcome::Complete);
    let (weights_before, refused) = b;
    let err = refused.expect_err("refused");
    assert!(matches!(err, acme_ops::migrate::Error::Locked { ref host, .. } if host == AUTH), "{err}");
    let message = err.to_string();
    assert!(message.starts_with("auth.acme.example.com is being migrated by tester@ci (run run-first"), "{message}");
    assert!(message.contains("its lock expires in"), "{message}");
    assert!(weights_before.iter().any(|(set, _, w)| set == "acmectl-new" && *w == Some(5)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_probes_that_fail_stop_the_migration() {
    let world = World::new(acme_spec::fixture::acme()).await;
    for service in ["auth", "chat"] {
        world.alarms(service).await;
    }
    world.targets("AuthTargetGroupArn", 2).await;
    world.targets("ChatTargetGroupArn", 2).await;
    let plan = world.plan("auth");

    // An expired certificate: the pre-flight refuses, nothing moves.
    let expired = Server::start(Behaviour::Status(200), ServerCertificate::Expired(AUTH.into())).await;
    let m = world.migration("run-expired", &[(AUTH, expired.addr())], expired.ca_pem()).await;
    let outcome = run(&m, &plan, Command::Start, Stop::never(), &|_| {}).await.expect("ends");
    assert!(
        matches!(&outcome, Outcome::RolledBack { why, .. } if why.starts_with("the new side is not ready") && why.contains("certificate of auth.acme.example.com expired on")),
        "{outcome:?}"
    );
    assert_eq!(world.weights(AUTH).await, [], "nothing was written");

    // A slow answer, then a 500, each midway.
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid(AUTH.into())).await;
    for (behaviour, expected) in [
        (Behaviour::Slow(std::time::Duration::from_millis(1500)), "answered in 15"),
        (Behaviour::Status(500), "auth.acme.example.com answered 500, outside 200..=399"),
    ] {
        server.set(Behaviour::Status(200));
        let m = world.migration("run-probe", &[(AUTH, server.addr())], server.ca_pem()).await;
        let outcome = run(&m, &plan, Command::Start, Stop::never(), &|e| {
            if matches!(e, Event::Began { percent: 5, .. }) {
                server.set(behaviour.clone());
            }
        })
        .await
        .expect("ends");
        assert!(matches!(&outcome, Outcome::RolledBack { why, .. } if why.contains(expected)), "{outcome:?}");
        assert!(world.weights(AUTH).await.iter().any(|(set, _, w)| set == "acmectl-new" && *w == Some(0)));
    }

    // A WebSocket service whose upgrade is refused.
    let chat = "chat.acme.example.com";
    let refusing = Server::start(Behaviour::Status(200), ServerCertificate::Valid(chat.into())).await;
    let m = world.migration("run-ws", &[(chat, refusing.addr())], refusing.ca_pem()).await;
    let outcome = run(&m, &world.plan("chat"), Command::Start, Stop::never(), &|_| {}).await.expect("ends");
    assert!(
        matches!(&outcome, Outcome::RolledBack { why, .. } if why.contains("the WebSocket upgrade failed")),
        "{outcome:?}"
    );
    // And one that upgrades moves on.
    let upgrading = Server::start(Behaviour::WebSocket, ServerCertificate::Valid(chat.into())).await;
    let m = world.migration("run-ws-ok", &[(chat, upgrading.addr())], upgrading.ca_pem()).await;
    let outcome = run(&m, &world.plan("chat"), Command::Start, Stop::never(), &|_| {}).await.expect("ends");
    assert_eq!(outcome, Outcome::Complete);
    assert!(upgrading.requests().iter().any(|r| r.header("Upgrade") == Some("websocket")));
}
