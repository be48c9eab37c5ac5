//! `acmectl status`: stacks, drift, alarms, target health, rollouts.

use crate::cli::{Global, OutputFormat, StatusArgs};
use crate::exit::{Code, Failure};
use crate::kubernetes;
use crate::render;
use acme_aws::Deployer;
use std::time::Duration;

/// How long one stack's drift detection may take.
const DRIFT_TIMEOUT: Duration = Duration::from_secs(300);

pub fn run(global: &Global, args: &StatusArgs) -> Result<Code, Failure> {
    let checked = super::load_placed(&args.file, &[], &args.aws)?;
    let (platform, artifacts) = (checked.platform, checked.artifacts);
    super::runtime()?.block_on(async {
        let sdk = super::sdk(&args.aws, &platform).await;
        let account = acme_aws::preflight::caller(&sdk).await?;
        let deployer = Deployer::new(&sdk);
        let status =
            acme_aws::status::status(&deployer, &sdk, &platform, &artifacts, !args.no_drift, DRIFT_TIMEOUT).await?;
        // Deployment rollouts, when the cluster can be reached.
        let rollouts: Rollouts = match kubernetes::connect(&args.kube, &sdk, &deployer, &platform).await? {
            Ok(cluster) => {
                let mut states = vec![];
                for service in &platform.services {
                    let d = acme_kube::DeploymentRef::new(&service.namespace, &service.name);
                    match cluster.rollout(&d).await {
                        Ok(state) => states.push((service.name.clone(), state)),
                        Err(e) => return finish(global, &platform, &account, &status, Err(e.to_string())),
                    }
                }
                Ok(states)
            }
            Err(why) => Err(why),
        };
        finish(global, &platform, &account, &status, rollouts)
    })
}

type Rollouts = Result<Vec<(String, Option<acme_kube::RolloutState>)>, String>;

fn finish(
    global: &Global,
    platform: &acme_spec::Platform,
    account: &acme_aws::preflight::Account,
    status: &acme_aws::status::Status,
    rollouts: Rollouts,
) -> Result<Code, Failure> {
    let rolling_badly = rollouts.as_ref().is_ok_and(|r| {
        r.iter().any(|(_, s)| s.as_ref().is_some_and(|s| !matches!(s.phase, acme_kube::Phase::Complete)))
    });
    {
        match global.output {
            OutputFormat::Json | OutputFormat::Sarif => {
                let mut v = render::status_json(status);
                v["platform"] = platform.name.clone().into();
                v["account"] = account.account_id.clone().into();
                v["region"] = account.region.clone().into();
                v["rollouts"] = match &rollouts {
                    Ok(r) => serde_json::json!(
                        r.iter()
                            .map(|(service, state)| serde_json::json!({
                                "service": service,
                                "state": state.as_ref().map(|s| serde_json::to_value(s).unwrap_or_default()),
                            }))
                            .collect::<Vec<_>>()
                    ),
                    Err(why) => serde_json::json!({ "unavailable": why }),
                };
                v["attention"] = (status.needs_attention() || rolling_badly).into();
                println!("{v:#}");
            }
            OutputFormat::Text => {
                println!("{}", render::account_line(&platform.name, account));
                print!("{}", render::status_text(status));
                println!("Rollouts:");
                match &rollouts {
                    Ok(r) => {
                        for (service, state) in r {
                            match state {
                                Some(state) => println!("  {service}: {state}"),
                                None => println!("  {service}: no Deployment"),
                            }
                        }
                    }
                    Err(why) => println!("  unknown: {why}"),
                }
            }
        }
        Ok(if status.needs_attention() || rolling_badly { Code::Findings } else { Code::Ok })
    }
}
