//! `acmectl plan`: the change sets a deploy would run, read and thrown away.

use crate::cli::{Global, OutputFormat, PlanArgs};
use crate::exit::{Code, Failure};
use crate::render;
use acme_aws::{Allowances, Deployer, Event};

pub fn run(global: &Global, args: &PlanArgs) -> Result<Code, Failure> {
    let checked = super::load(&args.file, &[])?;
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
        match global.output {
            OutputFormat::Json | OutputFormat::Sarif => println!("{:#}", render::plan_json(&plan, &account, &dangers)),
            OutputFormat::Text => print!("{}", render::plan_text(&plan, &dangers)),
        }
        discarded?;
        Ok(if plan.has_changes() { Code::Findings } else { Code::Ok })
    })
}
