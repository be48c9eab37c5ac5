//! `acmectl plan`: the change sets a deploy would run, read and thrown away.

use crate::cli::{Global, OutputFormat, PlanArgs};
use crate::exit::{Code, Failure};
use crate::kubernetes;
use crate::render;
use acme_aws::{Allowances, Deployer, Event};
use std::collections::BTreeMap;

pub fn run(global: &Global, args: &PlanArgs) -> Result<Code, Failure> {
    let checked = super::load_placed(&args.file, &[], &args.aws)?;
    let (platform, artifacts) = (checked.platform, checked.artifacts);
    let request = super::request(&artifacts, args)?;
    super::runtime()?.block_on(async {
        let sdk = super::sdk(&args.aws, &platform).await;
        let account = acme_aws::preflight::preflight(&sdk, &platform).await?;
        if global.output == OutputFormat::Text {
            eprintln!("{}", render::account_line(&platform.name, &account));
        }
        let deployer = Deployer::new(&sdk).with_progress(|e| {
            if let Event::Waiting { stack_name, status } = e {
                eprintln!("{stack_name} is {status} (an earlier operation); waiting for it to finish");
            }
        });
        let plan = deployer.plan(&artifacts, &request).await?;
        let dangers = plan.dangers(&Allowances::default());
        // A plan never executes: its change sets (and the empty stacks of CREATE ones) go.
        let discarded = plan.discard(&deployer).await;
        // The cluster, as a server-side apply dry run with the values the account has now
        // (stacks this plan changes may change them).
        let kube = match kubernetes::connect(&args.kube, &sdk, &deployer, &platform).await? {
            Ok(cluster) => {
                let selection = kubernetes::select(
                    &deployer,
                    &sdk,
                    &cluster,
                    &platform,
                    &artifacts,
                    &kubernetes::Wanted { images: &BTreeMap::new(), given: &request.parameters, only: None },
                )
                .await?;
                Ok(cluster.plan(&platform.name, &selection.objects).await.map_err(kubernetes::kube)?)
            }
            Err(why) => Err(why),
        };
        let kube_changes = kube.as_ref().is_ok_and(acme_kube::Plan::has_changes);
        match global.output {
            OutputFormat::Json | OutputFormat::Sarif => {
                let mut v = render::plan_json(&plan, &account, &dangers);
                v["load_balancers"] = serde_json::to_value(&artifacts.shards).unwrap_or_default();
                v["kubernetes"] = match &kube {
                    Ok(k) => serde_json::to_value(k).unwrap_or_default(),
                    Err(why) => serde_json::json!({ "unavailable": why }),
                };
                v["changes"] = (plan.has_changes() || kube_changes).into();
                println!("{v:#}");
            }
            OutputFormat::Text => {
                print!("{}", render::plan_text(&plan, &dangers));
                print!("{}", render::shard_plan_text(&artifacts.shards));
                match &kube {
                    Ok(k) => print!("{}", render::kube_plan_text(k)),
                    Err(why) => println!("Kubernetes: not planned: {why}"),
                }
            }
        }
        discarded?;
        Ok(if plan.has_changes() || kube_changes { Code::Findings } else { Code::Ok })
    })
}
