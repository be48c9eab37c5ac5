//! `acmectl status`: stacks, drift, alarms, target health.

use crate::cli::{Global, OutputFormat, StatusArgs};
use crate::exit::{Code, Failure};
use crate::render;
use acme_aws::Deployer;
use std::time::Duration;

/// How long one stack's drift detection may take.
const DRIFT_TIMEOUT: Duration = Duration::from_secs(300);

pub fn run(global: &Global, args: &StatusArgs) -> Result<Code, Failure> {
    let checked = super::load(&args.file, &[])?;
    let (platform, artifacts) = (checked.platform, checked.artifacts);
    super::runtime()?.block_on(async {
        let sdk = super::sdk(&args.aws, &platform).await;
        let account = acme_aws::preflight::caller(&sdk).await?;
        let deployer = Deployer::new(&sdk);
        let status =
            acme_aws::status::status(&deployer, &sdk, &platform, &artifacts, !args.no_drift, DRIFT_TIMEOUT).await?;
        match global.output {
            OutputFormat::Json | OutputFormat::Sarif => {
                let mut v = render::status_json(&status);
                v["platform"] = platform.name.clone().into();
                v["account"] = account.account_id.clone().into();
                v["region"] = account.region.clone().into();
                println!("{v:#}");
            }
            OutputFormat::Text => {
                println!("{}", render::account_line(&platform.name, &account));
                print!("{}", render::status_text(&status));
                // Deployment rollout state comes with acme-kube.
            }
        }
        Ok(if status.needs_attention() { Code::Findings } else { Code::Ok })
    })
}
