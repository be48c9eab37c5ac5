//! One module per verb: read arguments, call the library, render the result.

pub mod check;
pub mod deploy;
pub mod destroy;
pub mod diagram;
pub mod migrate;
pub mod plan;
pub mod schema;
pub mod status;
pub mod synth;

use crate::cli::{AwsArgs, PlanArgs};
use crate::exit::Failure;
use acme_aws::Request;
use acme_spec::Platform;
use acme_synth::{Artifacts, StackName};
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The platform of `file` as `synth` makes it (overrides applied) and its check report; a
/// platform CloudFormation cannot hold is bad input.
pub fn load(file: &Path, rules: &[PathBuf]) -> Result<check::Checked, Failure> {
    deployable(file, check::evaluate(file, rules)?)
}

/// [`load`] for a verb that talks to AWS: the platform as the account has it sharded. Each
/// service stays on the load balancer its edge stack is deployed in (`Platform::placement`);
/// a new platform, or one whose services are where a new one would put them, is synthesized
/// once.
pub fn load_placed(file: &Path, rules: &[PathBuf], aws: &AwsArgs) -> Result<check::Checked, Failure> {
    place(load(file, rules)?, file, rules, aws)
}

/// `checked` (of `file` and `rules`) synthesized again with the account's placement, when
/// that shards it otherwise: see [`load_placed`].
pub fn place(
    checked: check::Checked,
    file: &Path,
    rules: &[PathBuf],
    aws: &AwsArgs,
) -> Result<check::Checked, Failure> {
    let placement = runtime()?.block_on(async {
        let sdk = sdk(aws, &checked.platform).await;
        // Who the caller is, first: no credentials or an unreachable endpoint is told plainly.
        acme_aws::preflight::caller(&sdk).await?;
        acme_aws::Deployer::new(&sdk).placement(&checked.platform).await
    })?;
    let platform = Platform { placement: placement.clone(), ..checked.platform.clone() };
    if acme_synth::stacks::shards::plan(&platform) == checked.artifacts.shards {
        return Ok(check::Checked { platform, ..checked });
    }
    deployable(file, check::evaluate_placed(file, rules, &placement)?)
}

/// `checked`, unless the load balancers or CloudFormation cannot hold its platform (bad input).
fn deployable(file: &Path, checked: check::Checked) -> Result<check::Checked, Failure> {
    refuse_excess(file, &checked)?;
    Ok(checked)
}

/// Bad input when no load balancer can hold some hosts (placed at the route of acme.yaml that
/// made it so), or a stack would pass CloudFormation's quotas.
pub fn refuse_excess(file: &Path, checked: &check::Checked) -> Result<(), Failure> {
    let shards = &checked.artifacts.shards.excess;
    if !shards.is_empty() {
        let issues = shards.iter().map(acme_synth::stacks::shards::Excess::issue).collect();
        return Err(Failure::Input(checked.source.invalid(issues).into()));
    }
    let excess = checked.artifacts.quota_excess();
    if excess.is_empty() {
        return Ok(());
    }
    Err(Failure::Input(miette::miette!(
        help = "give fewer services their own role or bucket, or split the platform in two",
        "{} describes a platform CloudFormation cannot deploy:\n  {}",
        file.display(),
        excess.join("\n  ")
    )))
}

/// The async runtime the AWS verbs run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Local(miette::miette!("cannot start the async runtime: {e}")))
}

/// The SDK configuration: the standard credential chain, `--profile`, `--region` and
/// `--endpoint-url` as the AWS CLI reads them.
pub async fn sdk(aws: &AwsArgs, platform: &Platform) -> aws_config::SdkConfig {
    let options = acme_aws::config::Options {
        profile: aws.profile.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone().filter(|u| !u.trim().is_empty()),
        credentials: None,
    };
    acme_aws::config::load(&options, &platform.region).await
}

/// `--stack` and `--parameter` as a deploy request.
pub fn request(artifacts: &Artifacts, args: &PlanArgs) -> Result<Request, Failure> {
    let mut only = BTreeSet::new();
    for name in &args.stacks {
        let Some(stack) = StackName::parse(name).filter(|s| artifacts.stack(*s).is_some()) else {
            let names: Vec<String> = artifacts.plan.stacks.iter().map(|s| s.name.to_string()).collect();
            return Err(Failure::Input(miette::miette!("--stack {name}: no such stack; one of: {}", names.join(", "))));
        };
        only.insert(stack);
    }
    let parameters = parameters(&args.parameters)?;
    let role_arn = args.cfn_role_arn.clone().filter(|r| !r.trim().is_empty());
    if role_arn.is_some() && only.is_empty() {
        // CI's role may run change sets on every stack but the one that holds it.
        only = artifacts.plan.stacks.iter().map(|s| s.name).filter(|s| *s != StackName::Ci).collect();
        eprintln!("note: with --cfn-role-arn the ci stack is left out (CI may not change it); --stack ci includes it");
    }
    Ok(Request { only: (!only.is_empty()).then_some(only), parameters, role_arn })
}

/// `--parameter NAME=VALUE` values.
pub fn parameters(values: &[String]) -> Result<BTreeMap<String, String>, Failure> {
    let mut parameters = BTreeMap::new();
    for p in values {
        let Some((name, value)) = p.split_once('=').filter(|(n, _)| !n.is_empty()) else {
            return Err(Failure::Input(miette::miette!("--parameter {p}: expected NAME=VALUE")));
        };
        parameters.insert(name.to_owned(), value.to_owned());
    }
    Ok(parameters)
}

/// Whether a person is at the terminal to answer a question.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask on the terminal; the answer, trimmed.
pub fn ask(question: &str) -> Result<String, Failure> {
    use std::io::Write;
    eprint!("{question} ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::Local(miette::miette!("cannot read the answer: {e}")))?;
    Ok(line.trim().to_owned())
}
