use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// ACME's platform from one acme.yaml: synthesize, check, deploy and operate it.
#[derive(Debug, Parser)]
#[command(name = "acmectl", version, after_help = crate::exit::HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Output for people (text), machines (json) or code-scanning UIs (sarif: the check report
    /// as SARIF 2.1.0, for `check` and the gate of `synth`).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Synthesize CloudFormation stacks and the deploy plan from acme.yaml. Refuses (exit 1,
    /// nothing written) while `check` has findings that acme.yaml does not accept.
    Synth(SynthArgs),
    /// Check the synthesized platform against the proposal's security measures and your own
    /// CloudFormation Guard rules. Exit 0 clean, 1 findings, 2 bad input.
    Check(CheckArgs),
    /// Draw the architecture and the user traffic flow of acme.yaml into `<out>/diagrams/`:
    /// `architecture.svg`, `traffic-flow.svg` and their Mermaid sources (`.mmd`).
    Diagram(DiagramArgs),
    /// Print the JSON Schema of acme.yaml, for editors.
    Schema,
    /// Show what a deploy would change, stack by stack, through CloudFormation change sets
    /// (made, read and deleted; nothing is executed), and object by object in the cluster
    /// (server-side apply dry run). Exit 0: no changes, 1: changes.
    Plan(PlanArgs),
    /// Check, plan, stop if data would be destroyed, confirm, run the change sets in
    /// dependency order (independent stacks in parallel) with live progress, then apply the
    /// Kubernetes objects (server-side apply) and wait for rollouts and healthy targets.
    Deploy(DeployArgs),
    /// Delete the platform's stacks in reverse dependency order; retained resources
    /// (keys, buckets, zone, repositories, database snapshot) stay and are listed.
    Destroy(DestroyArgs),
    /// Every stack's state and drift, alarms in ALARM, target health and Deployment rollout
    /// per service. Exit 1 when something needs attention.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "acme.yaml")]
    pub file: PathBuf,
    /// Output folder; replaced whole, and only when synthesis succeeds.
    #[arg(short = 'o', long = "out", default_value = "out")]
    pub out: PathBuf,
    /// A folder of CloudFormation Guard rule files (`*.guard`) for the gate, besides
    /// `check.rules` of acme.yaml. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "acme.yaml")]
    pub file: PathBuf,
    /// A folder of CloudFormation Guard rule files (`*.guard`), evaluated over every template
    /// besides `check.rules` of acme.yaml. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Output folder `synth` writes to; SARIF results point at the templates in it.
    #[arg(short = 'o', long = "out", default_value = "out")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DiagramArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "acme.yaml")]
    pub file: PathBuf,
    /// Output folder; its `diagrams/` folder is replaced whole, the rest is left alone.
    #[arg(short = 'o', long = "out", default_value = "out")]
    pub out: PathBuf,
}

/// How to reach AWS: the AWS CLI's conventions.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// Region; default: AWS_REGION, then AWS_DEFAULT_REGION, then the region in acme.yaml.
    #[arg(long)]
    pub region: Option<String>,
    /// Named profile of ~/.aws/config; default: AWS_PROFILE, then the standard chain.
    #[arg(long)]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator such as moto).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
}

/// Which Kubernetes cluster: by default the cluster stack's EKS cluster, with a token from
/// the AWS credentials (as `aws eks get-token`).
#[derive(Debug, Args)]
pub struct KubeArgs {
    /// Reach the cluster through this kubeconfig instead (as kubectl reads KUBECONFIG).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use; default: its current context.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "acme.yaml")]
    pub file: PathBuf,
    /// Only these stacks (repeatable): keys, network, dns, ci, cluster, registry, data, edge,
    /// services, observability, backup. The others' outputs are read from the account.
    #[arg(long = "stack", value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Give a stack parameter a value instead of the upstream stack's output (repeatable):
    /// pins a value, or stands in for a stack that cannot be deployed here.
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    /// The CloudFormation service role the change sets run with (RoleARN): the ci stack's
    /// `CfnExecRoleArn`, as CI passes it. The ci stack itself is then left out (CI may not
    /// change it), unless named with --stack ci.
    #[arg(long = "cfn-role-arn", value_name = "ARN")]
    pub cfn_role_arn: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Let the deploy replace or remove this resource holding data (repeatable):
    /// <stack>/<LogicalId>, as the refusal names it, e.g. data/Database.
    #[arg(long = "allow-replace", value_name = "STACK/LOGICAL_ID")]
    pub allow_replace: Vec<String>,
    /// Do not ask for confirmation (CI). Without a terminal, --yes is required.
    #[arg(long)]
    pub yes: bool,
    /// The image tag a service runs (repeatable): NAME=TAG, resolved to its digest in the
    /// service's ECR repository. Services not named keep the image they run.
    #[arg(long = "image", value_name = "NAME=TAG")]
    pub images: Vec<String>,
    /// A folder of CloudFormation Guard rule files (`*.guard`) for the gate, besides
    /// `check.rules` of acme.yaml. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Deploy only this service's Kubernetes objects (CI: --service NAME --image NAME=TAG);
    /// the stacks are not touched.
    #[arg(long)]
    pub service: Option<String>,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "acme.yaml")]
    pub file: PathBuf,
    /// Do not ask for the platform's name. Without a terminal, --yes is required.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "acme.yaml")]
    pub file: PathBuf,
    /// Skip drift detection (it takes tens of seconds per stack on AWS).
    #[arg(long)]
    pub no_drift: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub kube: KubeArgs,
}
