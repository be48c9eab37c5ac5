//! `acmectl migrate` as a user runs it, against moto's server on 127.0.0.1 (started per
//! test) and HTTPS servers on 127.0.0.1 that the probes are aimed at with `--probe-target`
//! and `--ca`. moto skips CloudWatch alarms in templates, so the tests make them through its
//! API under the observability stack's names; IP targets registered in a target group
//! stand in for pods (moto reports them healthy). Migrations that would wait through their
//! bakes run on the virtual clock (`ACMECTL_TEST_VIRTUAL_CLOCK`); the Ctrl-C test runs on
//! the real one.

mod common;

use acme_aws::migration::Migrator;
use acme_probe::testing::{Behaviour, Server, ServerCertificate};
use common::support::stand_ins;
use common::{Run, World, run};
use std::process::Command;
use std::time::{Duration, Instant};

const AUTH: &str = "auth.acme.example.com";
const CHAT: &str = "chat.acme.example.com";
const VIRTUAL_CLOCK: (&str, &str) = ("ACMECTL_TEST_VIRTUAL_CLOCK", "1");

impl World {
    fn zone(&self) -> String {
        self.outputs("acme-dns")["HostedZoneId"].clone()
    }

    /// The records of `host`: (set identifier, type, weight, values or alias target).
    fn records(&self, host: &str) -> Vec<(String, String, Option<i64>, String)> {
        let zone = self.zone();
        let records = self.runtime.block_on(Migrator::new(&self.sdk).host(&zone, host)).expect("records");
        let mut out: Vec<_> = records
            .records
            .iter()
            .map(|r| {
                let to = r.alias.as_ref().map_or_else(|| r.values.join(","), |a| format!("alias {}", a.dns_name));
                (r.set_identifier.clone().unwrap_or_default(), r.rtype.clone(), r.weight, to)
            })
            .collect();
        out.sort();
        out
    }

    /// The service's alarms (OK) and `n` healthy targets for its pods.
    fn stand_in_service(&self, service: &str) {
        let plan = {
            let p = acme_spec::fixture::acme();
            acme_migrate::plan::plan_service(&p, p.service(service).expect("service"))
        };
        let edge = self.outputs("acme-edge");
        self.runtime.block_on(async {
            stand_ins::alarms(&self.sdk, plan.alarms.iter().chain(&plan.front_door_alarms)).await;
            for output in &plan.target_groups {
                stand_ins::targets(&self.sdk, &edge[output], 2).await;
            }
        });
    }

    fn set_alarm(&self, name: &str, value: f64) {
        self.runtime.block_on(stand_ins::set_alarm(&self.sdk, name, value));
    }

    /// `acmectl migrate ARGS` with the probes of `host` aimed at `server`.
    fn migrate(&self, args: &[&str], probe: Option<(&str, &Server)>, env: &[(&str, &str)]) -> Run {
        let mut all = vec!["migrate".to_owned()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        if let Some((host, server)) = probe {
            let ca = self.dir.path().join(format!("{host}-ca.pem"));
            std::fs::write(&ca, server.ca_pem()).expect("ca file");
            all.extend([
                "--probe-target".to_owned(),
                format!("{host}={}", server.addr()),
                "--ca".to_owned(),
                ca.display().to_string(),
            ]);
        }
        all.extend(["--endpoint-url".to_owned(), self.moto.endpoint.clone()]);
        let mut vars = vec![("AWS_ACCESS_KEY_ID", "AKIDMOTOTEST"), ("AWS_SECRET_ACCESS_KEY", "secret")];
        vars.extend(env);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        run(self.dir.path(), &refs, &vars)
    }
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

fn phase(status: &serde_json::Value, service: &str) -> String {
    status["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service"] == service)
        .map(|s| s["phase"]["phase"].as_str().expect("phase").to_owned())
        .expect("the service")
}

fn server(host: &str, behaviour: Behaviour) -> (tokio::runtime::Runtime, Server) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().worker_threads(1).build().expect("runtime");
    let server = rt.block_on(Server::start(behaviour, ServerCertificate::Valid(host.into())));
    (rt, server)
}

#[test]
fn a_migration_runs_from_the_command_line_service_by_service_with_a_rollback_between() {
    let w = World::new();
    let stand_ins = w.deploy_all();
    // The deploy left every host of the old side where it was.
    assert_eq!(w.records(AUTH), [(String::new(), "CNAME".into(), None, "old-lb.acme-legacy.example.net".into())]);
    assert_eq!(w.records(CHAT).len(), 1);
    w.stand_in_service("auth");
    w.stand_in_service("chat");
    let (_rt, auth) = server(AUTH, Behaviour::Status(200));

    let plan = run(w.dir.path(), &["migrate", "plan"], &[]);
    plan.ok();
    assert!(plan.stdout.contains("auth.acme.example.com: dns, the service has the host to itself"), "{}", plan.stdout);
    assert!(plan.stdout.contains("www.acme.example.com: path, shared with api"), "{}", plan.stdout);

    let status = json(w.migrate(&["status", "--output", "json"], None, &[]).ok());
    assert_eq!(phase(&status, "auth"), "not-started");

    let start = ["start", "auth", "--yes", "--steps", "5,50,100", "--bake", "30s", "--poll", "2s"];
    let started = w.migrate(&start, Some((AUTH, &auth)), &[VIRTUAL_CLOCK]);
    started.ok();
    assert!(started.stdout.contains("auth is on the new side at 100%"), "{}", started.stdout);
    // Not a terminal: one plain line per event, in order.
    for line in [
        "auth: holding auth.acme.example.com",
        "auth main: step 1/3: 5% to the new side, 95% to the old side",
        "auth main 5%: Route 53 has it on all its servers (INSYNC)",
        "auth main: step 2/3: 50% to the new side",
        "auth main: step 3/3: 100% to the new side",
        "auth: 100% baked with every gate passing",
    ] {
        assert!(started.stderr.contains(line), "{line:?} in:\n{}", started.stderr);
    }
    assert!(started.stderr.contains("| alarm acme-auth-5xx-rate: OK"), "{}", started.stderr);
    assert!(started.stderr.contains("| probe auth.acme.example.com/healthz: status 200 in"), "{}", started.stderr);
    let status = json(w.migrate(&["status", "--output", "json"], None, &[]).ok());
    assert_eq!(phase(&status, "auth"), "complete");

    // chat's alarm fires in the middle of its first step: the weight goes back to 0 at the
    // next poll, the run says which gate failed with its value, and exits 6.
    let (_rt2, chat) = server(CHAT, Behaviour::WebSocket);
    let args = ["start", "chat", "--yes", "--steps", "5,50,100", "--poll", "2s"];
    let child = spawn_migrate(&w, &args, (CHAT, &chat), &[VIRTUAL_CLOCK]);
    wait_for("chat's first step was written", || new_weight(&w, CHAT) == Some(5));
    w.set_alarm("acme-chat-5xx-rate", 9.0);
    let out = child.wait_with_output().expect("start ends");
    let (stdout, stderr) = output(&out);
    assert_eq!(out.status.code(), Some(6), "{stdout}\n{stderr}");
    assert!(stdout.contains("chat rolled back"), "{stdout}");
    assert!(stdout.contains("alarm acme-chat-5xx-rate: ALARM at 9"), "{stdout}");
    assert!(stderr.contains("chat main: step 1/3: 5% to the new side") && !stderr.contains("step 2/3"), "{stderr}");
    assert_eq!(new_weight(&w, CHAT), Some(0), "the new side is back at 0");
    let status = w.migrate(&["status", "chat", "--output", "json"], None, &[]);
    assert_eq!(phase(&json(&status), "chat"), "rolled-back", "{}", status.stdout);

    // auth is handed to the stack; its name resolves to the load balancer alone.
    let mut finalize = vec!["finalize", "auth", "--yes"];
    finalize.extend(stand_ins.iter().map(String::as_str));
    let done = w.migrate(&finalize, None, &[]);
    done.ok();
    assert!(done.stdout.contains("auth is finalized"), "{}", done.stdout);
    let records = w.records(AUTH);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!((records[0].0.as_str(), records[0].1.as_str(), records[0].2), ("acme-edge", "A", Some(100)));
    assert!(records[0].3.starts_with("alias "), "{records:?}");

    let report = json(w.migrate(&["decommission-report", "--output", "json"], None, &[]).ok());
    let hosts = report["hosts"].as_array().expect("hosts");
    let host = |h: &str| hosts.iter().find(|r| r["host"] == h).unwrap_or_else(|| panic!("{h} in {report:#}"));
    assert_eq!(host(AUTH)["safe_to_switch_off"], true, "{report:#}");
    assert_eq!(host(CHAT)["safe_to_switch_off"], false, "{report:#}");
    assert!(host(CHAT)["reasons"][0].as_str().expect("reason").contains("not migrated yet: chat"));

    let rollback = w.migrate(&["rollback", "auth"], None, &[]);
    assert_eq!(rollback.code, Some(5), "a finalized service has no migration to roll back: {}", rollback.stderr);
}

#[test]
fn bad_migration_input_is_refused_with_its_place_and_nothing_changes() {
    let w = World::new();
    w.deploy_all();
    let before = w.records(AUTH);
    for (args, message) in [
        (&["start", "auth", "--yes", "--steps", "5,3,100"][..], "--steps 5,3,100 (step 2): 3 does not rise"),
        (&["start", "auth", "--yes", "--steps", "5,50"][..], "the last step is not 100"),
        (&["start", "auth", "--yes", "--bake", "soon"][..], "--bake soon: not a duration"),
        (&["start", "auth", "--yes", "--poll", "0s"][..], "--poll 0s"),
        (&["start", "auth", "--yes", "--probe-target", "auth"][..], "expected HOST=ADDRESS:PORT"),
        (&["start", "auth", "--yes", "--ca", "missing.pem"][..], "--ca missing.pem: cannot read it"),
        (&["start", "billing", "--yes"][..], "no service billing in acme.yaml; one of: web, api, auth, chat"),
    ] {
        let out = w.migrate(args, None, &[]);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {message:?} in {}", out.stderr);
    }
    // A bad migration setting in acme.yaml: the file, line and field, and the fix.
    w.edit(
        "      - host: auth.acme.example.com\n    uses: [database]",
        "      - host: auth.acme.example.com\n    uses: [database]\n    migration: { bake: five minutes }",
    );
    let out = w.migrate(&["start", "auth", "--yes"], None, &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("services[2].migration.bake"), "{}", out.stderr);
    assert!(out.stderr.contains("acme.yaml:"), "{}", out.stderr);
    // And the same for the old side's description.
    w.edit("migration: { bake: five minutes }", "migration: { bake: 5m }");
    w.edit(
        "      private_addresses: [10.50.0.10, 10.50.0.11]",
        "      private_addresses: [10.50.0.10, not-an-address]",
    );
    let out = w.migrate(&["start", "api", "--yes"], None, &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("legacy.hosts[0].private_addresses[1]"), "{}", out.stderr);
    assert_eq!(w.records(AUTH), before, "nothing changed in Route 53");
}

#[test]
fn ctrl_c_holds_the_weights_and_says_how_to_go_on() {
    let w = World::new();
    w.deploy_all();
    w.stand_in_service("auth");
    let (_rt, auth) = server(AUTH, Behaviour::Status(200));
    let child = spawn_migrate(
        &w,
        &["start", "auth", "--yes", "--steps", "5,100", "--bake", "10m", "--poll", "1s"],
        (AUTH, &auth),
        &[],
    );
    let at_five =
        |w: &World| w.records(AUTH).iter().any(|(set, _, weight, _)| set == "acmectl-new" && *weight == Some(5));
    wait_for("the first step was written", || at_five(&w));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("acmectl ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("interrupted: auth holds at 5% (main)"), "{stdout}");
    assert!(stdout.contains("acmectl migrate resume auth") && stdout.contains("acmectl migrate rollback auth"));
    assert!(at_five(&w), "the weights hold");
    let zone = w.zone();
    let records = w.runtime.block_on(Migrator::new(&w.sdk).host(&zone, AUTH)).expect("records");
    assert_eq!(records.lock(), None, "the lock was given back");
}

/// `acmectl migrate ARGS` started in the background, the probes of `host` aimed at `server`,
/// its stdout and stderr piped.
fn spawn_migrate(
    w: &World,
    args: &[&str],
    (host, server): (&str, &Server),
    env: &[(&str, &str)],
) -> std::process::Child {
    let ca = w.dir.path().join(format!("{host}-ca.pem"));
    std::fs::write(&ca, server.ca_pem()).expect("ca");
    let (target, ca) = (format!("{host}={}", server.addr()), ca.display().to_string());
    let mut all = vec!["migrate"];
    all.extend(args);
    all.extend(["--probe-target", &target, "--ca", &ca, "--endpoint-url", &w.moto.endpoint]);
    common::spawn(w.dir.path(), &all, env)
}

/// The weight of `host`'s record to the new side, if it has one.
fn new_weight(w: &World, host: &str) -> Option<i64> {
    w.records(host).into_iter().find(|(set, ..)| set == "acmectl-new").and_then(|r| r.2)
}

/// Waits up to a minute for `done`.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(done(), "{what}");
}

fn output(out: &std::process::Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn pause_stops_a_running_start_which_resume_carries_on_while_status_watches() {
    let w = World::new();
    w.deploy_all();
    w.stand_in_service("auth");
    let (_rt, auth) = server(AUTH, Behaviour::Status(200));
    let mut watch = spawn_migrate(&w, &["status", "auth", "--watch", "--poll", "1s"], (AUTH, &auth), &[]);
    let watched = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let (mut stdout, watched) = (watch.stdout.take().expect("stdout"), watched.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = std::io::Read::read(&mut stdout, &mut buf) {
                watched.lock().expect("lock").push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    wait_for("the watch shows its first block", || watched.lock().expect("lock").contains("--\n"));
    let start = spawn_migrate(
        &w,
        &["start", "auth", "--yes", "--steps", "5,50,100", "--bake", "10m", "--poll", "1s"],
        (AUTH, &auth),
        &[],
    );
    wait_for("the first step was written", || new_weight(&w, AUTH) == Some(5));

    let paused = w.migrate(&["pause", "auth", "--reason", "a look at the logs"], None, &[]);
    paused.ok();
    assert!(paused.stdout.contains("auth's weights hold"), "{}", paused.stdout);
    // The running start sees the pause at its next poll, and ends with the code for held.
    let out = start.wait_with_output().expect("start ends");
    let (stdout, stderr) = output(&out);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    assert!(stdout.contains("a look at the logs"), "{stdout}\n{stderr}");
    assert_eq!(new_weight(&w, AUTH), Some(5), "the weights hold where the pause found them");
    let status = w.migrate(&["status", "--output", "json"], None, &[]);
    assert_eq!(status.code, Some(1), "a held service needs attention: {}", status.stderr);
    assert_eq!(phase(&json(&status), "auth"), "held");

    // The watch printed a block per change, plain (no terminal): the step, then the hold.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(Command::new("kill").args(["-INT", &watch.id().to_string()]).status().expect("kill").success());
    let out = watch.wait_with_output().expect("watch ends");
    reader.join().expect("reader");
    let watched = watched.lock().expect("lock").clone();
    assert_eq!(out.status.code(), Some(130), "{watched}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(!watched.contains('\x1b'), "no terminal codes off a terminal: {watched:?}");
    let blocks: Vec<&str> = watched.split("--\n").filter(|b| !b.trim().is_empty()).collect();
    assert!(blocks[0].starts_with("auth: not started at 0% of main"), "{watched}");
    let held = blocks.iter().find(|b| b.starts_with("auth: held at 5% of main")).unwrap_or_else(|| panic!("{watched}"));
    assert!(held.contains("a look at the logs") && held.contains("dns 5%"), "{watched}");
    assert!(blocks.windows(2).all(|b| b[0] != b[1]), "a block only when something changed: {watched}");

    // resume carries on from 5%, never from the start, to 100%.
    let resumed = w.migrate(
        &["resume", "auth", "--yes", "--steps", "5,50,100", "--bake", "30s", "--poll", "2s"],
        Some((AUTH, &auth)),
        &[VIRTUAL_CLOCK],
    );
    resumed.ok();
    assert!(resumed.stdout.contains("auth is on the new side at 100%"), "{}", resumed.stdout);
    assert!(!resumed.stderr.contains("step 1/3"), "{}", resumed.stderr);
    assert!(resumed.stderr.contains("auth main: step 2/3: 50% to the new side"), "{}", resumed.stderr);
    assert_eq!(new_weight(&w, AUTH), Some(100));
}
