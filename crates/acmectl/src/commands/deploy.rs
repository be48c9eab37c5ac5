//! `acmectl deploy`: gate, plan and guard (`acme_ops::deploy`), confirm, run the change sets
//! with live progress, then the Kubernetes objects.

use crate::cli::{DeployArgs, Global, OutputFormat};
use crate::exit::{Code, Failure};
use crate::kubernetes;
use crate::progress::Display;
use crate::render;
use acme_aws::{Allowances, Deployer, Error, Stop};
use acme_spec::Platform;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

pub fn run(global: &Global, args: &DeployArgs) -> Result<Code, Failure> {
    let checked = super::load(&args.plan.file, &args.rules)?;
    let request = super::request(&checked.artifacts, &args.plan)?;
    let images = images(&checked.platform, &args.images)?;
    if let Some(service) = &args.service
        && !checked.platform.services.iter().any(|s| &s.name == service)
    {
        return Err(Failure::Input(miette::miette!(
            "--service {service}: no such service in {}",
            args.plan.file.display()
        )));
    }
    let allowances = Allowances::parse(&checked.artifacts.plan, args.allow_replace.iter().map(String::as_str))
        .map_err(|e| Failure::Input(miette::miette!("{e}")))?;
    if !args.yes && !super::interactive() {
        return Err(Failure::Input(miette::miette!(
            help = "pass --yes to deploy without a confirmation (CI), after reviewing `acmectl plan`",
            "no terminal to confirm the deploy on; nothing was changed"
        )));
    }
    // The account's load balancers hold their services: synthesized again where they differ.
    let checked = super::place(checked, &args.plan.file, &args.rules, &args.plan.aws)?;
    // The gate: nothing changes while a finding stands that acme.yaml does not accept.
    if !checked.report.passed() {
        super::check::print(global.output, &checked, Path::new("out"));
        let n = checked.report.findings.len();
        return Err(Failure::Gate(miette::miette!(
            help = "fix them in acme.yaml, or accept them in `check.accept` with a reason",
            "deploy refused: {n} finding{} of `acmectl check` stand{}; nothing was changed",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        )));
    }
    let (platform, artifacts) = (checked.platform, checked.artifacts);

    let text = global.output == OutputFormat::Text;
    if args.service.is_some() {
        // A service's Kubernetes objects only (CI): the stacks are not touched.
        return super::runtime()?.block_on(async {
            let sdk = super::sdk(&args.plan.aws, &platform).await;
            let account = acme_aws::preflight::caller(&sdk).await?;
            if text {
                eprintln!("{}", render::account_line(&platform.name, &account));
            }
            kubernetes(args, &sdk, &platform, &artifacts, &images, &request.parameters).await.map(|()| Code::Ok)
        });
    }
    super::runtime()?.block_on(async {
        let sdk = super::sdk(&args.plan.aws, &platform).await;
        let account = acme_aws::preflight::preflight(&sdk, &platform).await?;
        if text {
            eprintln!("{}", render::account_line(&platform.name, &account));
        }
        let names: Vec<String> = artifacts
            .plan
            .stacks
            .iter()
            .filter(|s| request.only.as_ref().is_none_or(|o| o.contains(&s.name)))
            .map(|s| s.stack_name.clone())
            .collect();
        let display = Display::new(super::interactive() && text, &names);
        let shown = display.clone();
        let deployer = Deployer::new(&sdk).with_progress(move |e| shown.on(e));

        let migrator = acme_aws::migration::Migrator::new(&sdk);
        let planned =
            acme_ops::deploy::plan(&deployer, &migrator, &platform, &artifacts, &request, &allowances).await?;
        let (plan, dangers) = (&planned.plan, &planned.dangers);
        if text {
            print!("{}", render::plan_text(plan, dangers));
            for unused in allowances.unused(dangers) {
                eprintln!("note: --allow-replace {unused} matches no change of this plan");
            }
        }
        if let Some(rule) = planned.moving.first() {
            let _ = plan.discard(&deployer).await;
            let all: Vec<String> = planned.moving.iter().map(ToString::to_string).collect();
            return Err(Failure::Refused(miette::miette!(
                help = acme_ops::deploy::moving_help(rule),
                "deploy refused: it would move traffic of a running migration; nothing was changed:\n  {}",
                all.join("\n  ")
            )));
        }
        let blocked: Vec<_> = dangers.iter().filter(|d| !d.allowed).cloned().collect();
        if !blocked.is_empty() {
            let _ = plan.discard(&deployer).await;
            return Err(Error::Guarded { dangers: blocked }.into());
        }
        if !plan.has_changes() {
            if text {
                println!("No changes: no change set was executed.");
            } else {
                println!("{:#}", json!({ "plan": render::plan_json(plan, &account, dangers), "executed": 0 }));
            }
            return kubernetes(args, &sdk, &platform, &artifacts, &images, &request.parameters)
                .await
                .map(|()| Code::Ok);
        }
        if !args.yes {
            let answer = super::ask(&format!(
                "Deploy these changes to {} in account {} ({})? [y/N]",
                platform.name, account.account_id, account.region
            ))?;
            if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
                let _ = plan.discard(&deployer).await;
                return Err(Failure::Refused(miette::miette!("not confirmed; nothing was changed")));
            }
        }

        let (handle, stop) = Stop::new();
        let interrupt = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                handle.stop();
            }
        });
        let ticker = display.ticking();
        let result = acme_ops::deploy::apply(&sdk, &deployer, &platform, &artifacts, &planned, &allowances, stop).await;
        drop(ticker);
        interrupt.abort();
        display.tick();
        let (report, aftercare) = match result {
            Ok(done) => done,
            Err(e @ Error::Interrupted { .. }) => {
                for (stack, status) in display.running() {
                    eprintln!("still running in CloudFormation: {stack} ({status})");
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        if text {
            if aftercare.revoked > 0 {
                eprintln!("revoked {} rule(s) of the VPC's default security group", aftercare.revoked);
            }
            for host in &aftercare.old_side_records {
                eprintln!("{host}: no record yet; it resolves to the old side until its migration starts");
            }
        }
        if let Some(why) = &aftercare.default_group_kept {
            eprintln!("warning: the VPC's default security group keeps its rules: {why}");
        }
        match global.output {
            OutputFormat::Text => {
                println!(
                    "Deployed {}: {} change set{} executed, {} stack{} unchanged.",
                    platform.name,
                    report.executed(),
                    if report.executed() == 1 { "" } else { "s" },
                    report.stacks.len() - report.executed(),
                    if report.stacks.len() - report.executed() == 1 { "" } else { "s" },
                );
            }
            OutputFormat::Json | OutputFormat::Sarif => println!(
                "{:#}",
                json!({
                    "plan": render::plan_json(plan, &account, dangers),
                    "executed": report.executed(),
                    "stacks": report.stacks.iter().map(|d| json!({
                        "stack_name": d.stack_name,
                        "outcome": format!("{:?}", d.outcome).to_lowercase(),
                        "change_set": d.change_set,
                        "outputs": d.outputs,
                    })).collect::<Vec<_>>(),
                })
            ),
        }
        kubernetes(args, &sdk, &platform, &artifacts, &images, &request.parameters).await.map(|()| Code::Ok)
    })
}

/// `--image NAME=TAG` values by service; every name must be a service of the platform.
fn images(platform: &Platform, values: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let mut images = BTreeMap::new();
    for value in values {
        let Some((service, tag)) = value.split_once('=').filter(|(s, t)| !s.is_empty() && !t.is_empty()) else {
            return Err(Failure::Input(miette::miette!("--image {value}: expected NAME=TAG, e.g. api=1.4.2")));
        };
        if !platform.services.iter().any(|s| s.name == service) {
            let names: Vec<&str> = platform.services.iter().map(|s| s.name.as_str()).collect();
            return Err(Failure::Input(miette::miette!(
                "--image {value}: no service {service}; one of: {}",
                names.join(", ")
            )));
        }
        images.insert(service.to_owned(), tag.to_owned());
    }
    Ok(images)
}

/// How long targets may take to become healthy after their rollout.
const TARGETS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// The Kubernetes part: the objects with real values, a server-side apply dry run shown,
/// then applied (field manager `acmectl`), rollouts and target health awaited. A full deploy
/// prunes the objects acmectl owns and no longer synthesizes; `--service` touches only its
/// service's objects.
async fn kubernetes(
    args: &DeployArgs,
    sdk: &aws_config::SdkConfig,
    platform: &Platform,
    artifacts: &acme_synth::Artifacts,
    images: &BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
) -> Result<(), Failure> {
    let deployer = Deployer::new(sdk);
    let only = args.service.as_deref();
    let cluster = match kubernetes::connect(&args.plan.kube, sdk, &deployer, platform).await? {
        Ok(cluster) => cluster,
        Err(why) if only.is_none() => {
            eprintln!("note: the Kubernetes objects were not applied: {why}");
            return Ok(());
        }
        Err(why) => return Err(Failure::Aws(miette::miette!("cannot reach the cluster: {why}"))),
    };
    let selection =
        kubernetes::select(&deployer, sdk, &cluster, platform, artifacts, &kubernetes::Wanted { images, given, only })
            .await?;
    for service in &selection.without_image {
        if only.is_some() {
            return Err(Failure::Input(miette::miette!(
                "--service {service}: nothing runs yet and no image was given; pass --image {service}=TAG"
            )));
        }
        eprintln!(
            "note: {service} has no image yet (none running, no --image {service}=TAG): its objects were not applied"
        );
    }
    eprintln!("Kubernetes: {} objects for {}", selection.objects.len(), cluster.description());
    // The server checks every object (schema, admission, RBAC) in a dry run before any is
    // applied, so an object it refuses leaves the cluster as it was, not half-updated.
    let mut dry_run = cluster.plan(&platform.name, &selection.objects).await.map_err(kubernetes::kube)?;
    let prune = if only.is_some() {
        // One service's objects are not the whole platform: the others are not orphans.
        dry_run.changes.retain(|c| c.action != acme_kube::Action::Delete);
        dry_run.prune_unchecked.clear();
        acme_kube::Prune::Keep
    } else {
        acme_kube::Prune::Delete
    };
    eprint!("{}", render::kube_plan_text(&dry_run));
    let mut shown = |c: &acme_kube::Change| match &c.action {
        acme_kube::Action::Unchanged => {}
        acme_kube::Action::Update { fields } => {
            let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
            eprintln!("  updated {}: {}", c.object, paths.join(", "));
        }
        acme_kube::Action::Create => eprintln!("  created {}", c.object),
        acme_kube::Action::Delete => eprintln!("  deleted {} (no longer in acme.yaml)", c.object),
    };
    if dry_run.has_changes() {
        cluster.apply(&platform.name, &selection.objects, prune, &mut shown).await.map_err(kubernetes::kube)?;
    }
    let mut progress = |state: &acme_kube::RolloutState| eprintln!("  rollout {state}");
    cluster
        .wait_for_rollouts(&selection.deployments, acme_kube::Wait::default(), &mut progress)
        .await
        .map_err(kubernetes::kube)?;
    let routed: Vec<String> = selection
        .services
        .iter()
        .filter(|s| platform.services.iter().any(|p| &p.name == *s && !p.routes.is_empty()))
        .cloned()
        .collect();
    if !routed.is_empty() {
        // Routed services take their target groups from their edge stacks, so `select` has read those.
        let outputs: BTreeMap<String, String> = selection
            .outputs
            .iter()
            .filter(|(stack, _)| stack.edge_shard().is_some())
            .flat_map(|(_, o)| o.clone())
            .collect();
        let mut last = String::new();
        let mut report = |targets: &[acme_aws::status::Targets]| {
            let line: Vec<String> =
                targets.iter().map(|t| format!("{}:{} {} healthy", t.service, t.port, t.healthy)).collect();
            let line = line.join(", ");
            if line != last {
                eprintln!("  targets: {line}");
                last = line;
            }
        };
        acme_aws::status::wait_healthy(sdk, platform, &outputs, &routed, TARGETS_TIMEOUT, &mut report).await?;
    }
    eprintln!("Kubernetes: applied, rolled out, targets healthy");
    Ok(())
}
