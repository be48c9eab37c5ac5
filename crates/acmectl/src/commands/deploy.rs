//! `acmectl deploy`: gate, plan, guard, confirm, run the change sets with live progress,
//! then the Kubernetes objects.

use crate::cli::{DeployArgs, Global, OutputFormat};
use crate::exit::{Code, Failure};
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
    if let Some(service) = &args.service {
        if !checked.platform.services.iter().any(|s| &s.name == service) {
            return Err(Failure::Input(miette::miette!(
                "--service {service}: no such service in {}",
                args.plan.file.display()
            )));
        }
        return Err(Failure::Input(miette::miette!(
            help = "deploy the stacks with acmectl deploy; apply the service's objects with kubectl meanwhile",
            "--service deploys a service's Kubernetes objects, and this build does not apply Kubernetes objects yet"
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

        let plan = deployer.plan(&artifacts, &request).await?;
        let dangers = plan.dangers(&allowances);
        if text {
            print!("{}", render::plan_text(&plan, &dangers));
            for unused in allowances.unused(&dangers) {
                eprintln!("note: --allow-replace {unused} matches no change of this plan");
            }
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
                println!("{:#}", json!({ "plan": render::plan_json(&plan, &account, &dangers), "executed": 0 }));
            }
            return kubernetes(&sdk, &platform, &images).await.map(|()| Code::Ok);
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
        let result = deployer.apply(&artifacts, &plan, &allowances, stop).await;
        drop(ticker);
        interrupt.abort();
        display.tick();
        let report = match result {
            Ok(report) => report,
            Err(e @ Error::Interrupted { .. }) => {
                for (stack, status) in display.running() {
                    eprintln!("still running in CloudFormation: {stack} ({status})");
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
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
                    "plan": render::plan_json(&plan, &account, &dangers),
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
        kubernetes(&sdk, &platform, &images).await.map(|()| Code::Ok)
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

/// The Kubernetes part (acme-kube): server-side apply of the services' objects, rollout and
/// target health waits. The seam acmectl calls; acme-kube is not part of this build yet, so
/// it resolves the given image tags (their digests are what it will apply) and says what it
/// did not do.
async fn kubernetes(
    sdk: &aws_config::SdkConfig,
    platform: &Platform,
    images: &BTreeMap<String, String>,
) -> Result<(), Failure> {
    for (service, tag) in images {
        match acme_aws::images::digest(sdk, platform, service, tag).await? {
            Some(digest) => eprintln!("image {service}:{tag} is {digest}"),
            None => {
                return Err(Failure::Input(miette::miette!(
                    help = "push the image first (CI does), or name a tag the repository has",
                    "--image {service}={tag}: the repository {} has no image tagged {tag}",
                    acme_synth::stacks::names::repository(platform, service)
                )));
            }
        }
    }
    eprintln!("note: the Kubernetes objects were not applied: this build has no Kubernetes client yet");
    Ok(())
}
