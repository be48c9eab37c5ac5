//! `acmectl migrate`: parse the verb's arguments, call `acme_ops::migrate`, print.

use crate::cli::{
    Global, MigrateCommand, MigrateFinalizeArgs, MigratePauseArgs, MigratePlanArgs, MigrateReportArgs,
    MigrateRollbackArgs, MigrateRunArgs, MigrateStatusArgs, MigrateTarget, OutputFormat, ProbeArgs,
};
use crate::exit::{Code, Failure};
use crate::migrate_view as view;
use acme_aws::Stop;
use acme_aws::migration::Migrator;
use acme_migrate::plan::{ServicePlan, plan, plan_service};
use acme_ops::Clock;
use acme_ops::migrate::{self, Migration, Outcome, Phase, Settings};
use acme_probe::Trust;
use acme_spec::Platform;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Set to run a migration on a virtual clock that jumps over every wait: for acmectl's own
/// tests against the emulator, never for a real migration.
pub const VIRTUAL_CLOCK_ENV: &str = "ACMECTL_TEST_VIRTUAL_CLOCK";

pub fn run(global: &Global, command: &MigrateCommand) -> Result<Code, Failure> {
    match command {
        MigrateCommand::Plan(args) => plan_verb(global, args),
        MigrateCommand::Start(args) => run_verb(global, args, acme_migrate::Command::Start),
        MigrateCommand::Resume(args) => run_verb(global, args, acme_migrate::Command::Resume),
        MigrateCommand::Status(args) => status_verb(global, args),
        MigrateCommand::Pause(args) => pause_verb(global, args),
        MigrateCommand::Rollback(args) => rollback_verb(global, args),
        MigrateCommand::Finalize(args) => finalize_verb(global, args),
        MigrateCommand::DecommissionReport(args) => report_verb(global, args),
    }
}

fn plan_verb(global: &Global, args: &MigratePlanArgs) -> Result<Code, Failure> {
    let platform = super::load(&args.file, &[])?.platform;
    let plans = plan(&platform);
    view::print_plans(global.output, &platform, &plans);
    Ok(if plans.iter().all(|p| p.blockers.is_empty()) { Code::Ok } else { Code::Refused })
}

fn run_verb(global: &Global, args: &MigrateRunArgs, command: acme_migrate::Command) -> Result<Code, Failure> {
    let platform = super::load_placed(&args.target.file, &[], &args.target.aws)?.platform;
    let mut plan = service_plan(&platform, &args.service, &args.target.file)?;
    if let Some(steps) = &args.steps {
        plan.steps = steps_flag(steps)?;
    }
    if let Some(bake) = &args.bake {
        plan.bake_seconds = duration_flag("--bake", bake)?.as_secs();
    }
    let poll = duration_flag("--poll", &args.poll)?;
    if poll.is_zero() {
        return Err(input("--poll 0s: a poll interval of at least 1s, e.g. --poll 2s"));
    }
    let given = super::parameters(&args.target.parameters)?;
    let settings = settings(poll, &args.probes)?;
    if !args.yes && !super::interactive() {
        return Err(input_help(
            "no terminal to confirm the migration on; nothing was changed",
            "pass --yes to migrate without a confirmation, after reviewing `acmectl migrate plan`",
        ));
    }
    let text = global.output == OutputFormat::Text;
    super::runtime()?.block_on(async {
        let m = connect(&args.target, &platform, &given, settings).await?;
        if !args.yes {
            eprint!("{}", view::plan_text(&platform, std::slice::from_ref(&plan)));
            let verb = if command == acme_migrate::Command::Start { "Start moving" } else { "Resume" };
            let answer = super::ask(&format!("{verb} {} to the new side? [y/N]", plan.service))?;
            if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
                return Err(Failure::Refused(miette::miette!("not confirmed; nothing was changed")));
            }
        }
        let (handle, stop) = Stop::new();
        let interrupt = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                handle.stop();
            }
        });
        let progress = view::Progress::new(text && std::io::IsTerminal::is_terminal(&std::io::stderr()), &plan);
        let outcome = migrate::run(&m, &plan, command, stop, &|e| progress.on(e, &m.clock)).await;
        interrupt.abort();
        progress.done();
        let outcome = outcome.map_err(failure)?;
        view::print_outcome(global.output, &plan.service, &outcome);
        Ok(match outcome {
            Outcome::Complete => Code::Ok,
            Outcome::RolledBack { .. } => Code::RolledBack,
            Outcome::Held { .. } => Code::Held,
            Outcome::Interrupted { .. } => Code::Interrupted,
        })
    })
}

fn status_verb(global: &Global, args: &MigrateStatusArgs) -> Result<Code, Failure> {
    let platform = super::load_placed(&args.target.file, &[], &args.target.aws)?.platform;
    let plans = match &args.service {
        Some(s) => vec![service_plan(&platform, s, &args.target.file)?],
        None => plan(&platform),
    };
    let poll = duration_flag("--poll", &args.poll)?.max(Duration::from_secs(1));
    let given = super::parameters(&args.target.parameters)?;
    let settings = settings(poll, &args.probes)?;
    super::runtime()?.block_on(async {
        let mut m = connect(&args.target, &platform, &given, settings).await?;
        if !args.watch {
            let statuses = migrate::status(&m, &plans, false).await.map_err(failure)?;
            view::print_status(global.output, &statuses);
            return Ok(if statuses.iter().any(needs_attention) { Code::Findings } else { Code::Ok });
        }
        let tty = std::io::IsTerminal::is_terminal(&std::io::stdout()) && global.output == OutputFormat::Text;
        let mut screen = view::Screen::new(tty);
        let (handle, mut stop) = Stop::new();
        let interrupt = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                handle.stop();
            }
        });
        loop {
            // The edge is read again each time: a finalize flips its flags.
            m.edge = m.migrator.edge(&platform, &given).await?;
            let statuses = migrate::status(&m, &plans, true).await.map_err(failure)?;
            screen.show(global.output, &statuses);
            tokio::select! {
                () = m.clock.sleep(poll) => {}
                () = stop.wait() => {}
            }
            if stop.fired() {
                interrupt.abort();
                return Ok(Code::Interrupted);
            }
        }
    })
}

fn pause_verb(global: &Global, args: &MigratePauseArgs) -> Result<Code, Failure> {
    let platform = super::load_placed(&args.target.file, &[], &args.target.aws)?.platform;
    let plan = service_plan(&platform, &args.service, &args.target.file)?;
    let given = super::parameters(&args.target.parameters)?;
    super::runtime()?.block_on(async {
        let m = connect(&args.target, &platform, &given, settings(migrate::DEFAULT_POLL, &ProbeArgs::none())?).await?;
        migrate::control::pause(&m, &plan, &args.reason).await.map_err(failure)?;
        view::print_done(
            global.output,
            &plan.service,
            "paused",
            &format!(
                "{}'s weights hold; a running `migrate start` stops at its next poll. Go on: acmectl migrate resume {0}",
                plan.service
            ),
        );
        Ok(Code::Ok)
    })
}

fn rollback_verb(global: &Global, args: &MigrateRollbackArgs) -> Result<Code, Failure> {
    let platform = super::load_placed(&args.target.file, &[], &args.target.aws)?.platform;
    let plan = service_plan(&platform, &args.service, &args.target.file)?;
    let given = super::parameters(&args.target.parameters)?;
    super::runtime()?.block_on(async {
        let m = connect(&args.target, &platform, &given, settings(migrate::DEFAULT_POLL, &ProbeArgs::none())?).await?;
        if m.edge.migrated(&plan.service) {
            return Err(Failure::Refused(miette::miette!(
                help = "finalize hands a service to the edge stack for good: acmectl does not undo it; a fix goes \
                        forward, with acmectl deploy",
                "{} is finalized: there is no migration to roll back; nothing was changed",
                plan.service
            )));
        }
        migrate::control::rollback(&m, &plan, args.front_door).await.map_err(failure)?;
        let what = if args.front_door { "and the front door of its shared hosts " } else { "" };
        view::print_done(
            global.output,
            &plan.service,
            "rolled-back",
            &format!("{}'s new side {what}is at 0%: all its traffic is on the old side", plan.service),
        );
        Ok(Code::Ok)
    })
}

fn finalize_verb(global: &Global, args: &MigrateFinalizeArgs) -> Result<Code, Failure> {
    let checked = super::load_placed(&args.target.file, &[], &args.target.aws)?;
    if !checked.report.passed() {
        super::check::print(global.output, &checked, Path::new("out"));
        return Err(Failure::Gate(miette::miette!(
            help = "fix them in acme.yaml, or accept them in `check.accept` with a reason",
            "finalize refused: it deploys the edge stack, and findings of `acmectl check` stand; nothing was changed"
        )));
    }
    let (platform, artifacts) = (checked.platform, checked.artifacts);
    let plan = service_plan(&platform, &args.service, &args.target.file)?;
    let given = super::parameters(&args.target.parameters)?;
    if !args.yes && !super::interactive() {
        return Err(input_help(
            "no terminal to confirm the finalize on; nothing was changed",
            "pass --yes to finalize without a confirmation",
        ));
    }
    let text = global.output == OutputFormat::Text;
    super::runtime()?.block_on(async {
        let sdk = super::sdk(&args.target.aws, &platform).await;
        let m = migration(&sdk, &platform, &given, settings(migrate::DEFAULT_POLL, &ProbeArgs::none())?).await?;
        if !args.yes {
            let answer = super::ask(&format!(
                "Hand {}'s records and rules to the edge stack, and take the old side out of its path? [y/N]",
                plan.service
            ))?;
            if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
                return Err(Failure::Refused(miette::miette!("not confirmed; nothing was changed")));
            }
        }
        let edge = acme_synth::stacks::names::stack(&platform.name, acme_synth::StackName::EDGE);
        let display = crate::progress::Display::new(super::interactive() && text, &[edge]);
        let shown = display.clone();
        let deployer = acme_aws::Deployer::new(&sdk).with_progress(move |e| shown.on(e));
        let ticker = display.ticking();
        let note = |line: &str| {
            if text {
                eprintln!("{}: {line}", plan.service);
            }
        };
        let update = migrate::StackUpdate { sdk: &sdk, deployer: &deployer, artifacts: &artifacts, given: &given };
        let done = migrate::finalize(&m, &plan, &update, &note).await;
        drop(ticker);
        display.tick();
        let done = done.map_err(failure)?;
        view::print_finalized(global.output, &done);
        Ok(Code::Ok)
    })
}

fn report_verb(global: &Global, args: &MigrateReportArgs) -> Result<Code, Failure> {
    let platform = super::load_placed(&args.target.file, &[], &args.target.aws)?.platform;
    let window = duration_flag("--window", &args.window)?;
    if window < Duration::from_secs(3600) {
        return Err(input("--window: at least 1h, e.g. --window 24h or --window 7d"));
    }
    let given = super::parameters(&args.target.parameters)?;
    super::runtime()?.block_on(async {
        let m = connect(&args.target, &platform, &given, settings(migrate::DEFAULT_POLL, &ProbeArgs::none())?).await?;
        let reports = migrate::decommission_report(&m, window).await.map_err(failure)?;
        view::print_report(global.output, &reports);
        Ok(Code::Ok)
    })
}

fn needs_attention(s: &migrate::ServiceStatus) -> bool {
    matches!(s.phase, Phase::RolledBack { .. } | Phase::Held { .. } | Phase::Unrecorded)
}

/// The plan of `service`, or which services there are.
fn service_plan(platform: &Platform, service: &str, file: &Path) -> Result<ServicePlan, Failure> {
    match platform.service(service) {
        Some(s) => Ok(plan_service(platform, s)),
        None => {
            let names: Vec<&str> = platform.services.iter().map(|s| s.name.as_str()).collect();
            Err(input(&format!("no service {service} in {}; one of: {}", file.display(), names.join(", "))))
        }
    }
}

/// `--steps 5,50,100`, held to the rules of acme.yaml's `migration.steps`.
fn steps_flag(text: &str) -> Result<Vec<u8>, Failure> {
    let mut steps = vec![];
    for part in text.split(',') {
        let Ok(n) = part.trim().parse::<i64>() else {
            return Err(input(&format!(
                "--steps {text}: `{}` is not a percentage; e.g. --steps 5,50,100",
                part.trim()
            )));
        };
        steps.push(n);
    }
    acme_spec::validate::check_steps(&steps).map_err(|e| {
        let at = e.step.map(|k| format!(" (step {})", k + 1)).unwrap_or_default();
        input_help(&format!("--steps {text}{at}: {}", e.message), acme_spec::validate::STEPS_FIX)
    })
}

fn duration_flag(flag: &str, text: &str) -> Result<Duration, Failure> {
    acme_spec::validate::parse_duration_ms(text)
        .map(Duration::from_millis)
        .ok_or_else(|| input(&format!("{flag} {text}: not a duration; write e.g. 500ms, 30s, 5m, 1h30m or 7d")))
}

impl ProbeArgs {
    fn none() -> ProbeArgs {
        ProbeArgs { probe_targets: vec![], ca: None }
    }
}

/// Who this run is, how it polls and where its probes go.
fn settings(poll: Duration, probes: &ProbeArgs) -> Result<Settings, Failure> {
    let mut probe_targets = BTreeMap::new();
    for value in &probes.probe_targets {
        let parsed = value.split_once('=').and_then(|(h, a)| Some((h, a.parse::<SocketAddr>().ok()?)));
        let Some((host, addr)) = parsed.filter(|(h, _)| !h.is_empty()) else {
            return Err(input(&format!(
                "--probe-target {value}: expected HOST=ADDRESS:PORT, e.g. auth.acme.example.com=127.0.0.1:8443"
            )));
        };
        probe_targets.insert(host.to_ascii_lowercase(), addr);
    }
    let trust = match &probes.ca {
        Some(file) => {
            let pem =
                std::fs::read(file).map_err(|e| input(&format!("--ca {}: cannot read it: {e}", file.display())))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(input(&format!("--ca {}: no PEM certificate in it", file.display())));
            }
            Trust::Pem(pem)
        }
        None => Trust::SystemRoots,
    };
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "someone".into());
    let machine = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let owner = if machine.is_empty() { user } else { format!("{user}@{machine}") };
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    Ok(Settings { poll, probe_targets, trust, owner, pid, run: format!("{:x}", nanos ^ u128::from(pid) << 64) })
}

/// The AWS side of a migration: the SDK, the adapter and the deployed edge.
async fn connect<'p>(
    target: &MigrateTarget,
    platform: &'p Platform,
    given: &BTreeMap<String, String>,
    settings: Settings,
) -> Result<Migration<'p>, Failure> {
    let sdk = super::sdk(&target.aws, platform).await;
    migration(&sdk, platform, given, settings).await
}

async fn migration<'p>(
    sdk: &aws_config::SdkConfig,
    platform: &'p Platform,
    given: &BTreeMap<String, String>,
    settings: Settings,
) -> Result<Migration<'p>, Failure> {
    let migrator = Migrator::new(sdk);
    let edge = migrator.edge(platform, given).await?;
    let clock = if std::env::var_os(VIRTUAL_CLOCK_ENV).is_some() {
        Clock::virtual_at(std::time::SystemTime::now())
    } else {
        Clock::System
    };
    Ok(Migration { platform, migrator, edge, clock, settings })
}

fn failure(e: migrate::Error) -> Failure {
    match e {
        migrate::Error::Aws(e) => e.into(),
        e @ migrate::Error::Locked { .. } => Failure::Locked(miette::miette!("{e}")),
        migrate::Error::Refused(why) => Failure::Refused(miette::miette!("{why}")),
    }
}

fn input(message: &str) -> Failure {
    Failure::Input(miette::miette!("{message}"))
}

fn input_help(message: &str, help: &str) -> Failure {
    Failure::Input(miette::miette!(help = help.to_owned(), "{message}"))
}
