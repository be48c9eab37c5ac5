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
    /// Move each service's traffic from the old side (acme.yaml's `legacy`) to the new
    /// cluster, step by gated step, with automatic rollback; then hand its records back to
    /// the stack and report what is safe to switch off.
    #[command(subcommand, after_help = crate::exit::MIGRATE_HELP)]
    Migrate(MigrateCommand),
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Per service: the mechanism (weighted DNS records, or weighted target groups on a host
    /// shared by path) and why, the steps, the gates, and what blocks it. Reads acme.yaml
    /// only. Exit 0, or 5 when a service cannot migrate as configured.
    Plan(MigratePlanArgs),
    /// Move SERVICE 0 -> 1 -> 5 -> 25 -> 50 -> 100 percent (acme.yaml's steps), each step
    /// begun once Route 53 has it in sync and judged for the TTL plus the bake; a failed
    /// gate puts the new side's weight back at 0 (exit 6).
    Start(MigrateRunArgs),
    /// Go on with SERVICE from where AWS says it is (after a pause, Ctrl-C or a crash).
    Resume(MigrateRunArgs),
    /// Every service's position: weights, step, time left in the bake, lock, alarms; with
    /// --watch, live, with every gate's latest value.
    Status(MigrateStatusArgs),
    /// Hold SERVICE's weights where they are; the running `start` stops at its next poll
    /// (exit 7). `resume` goes on.
    Pause(MigratePauseArgs),
    /// Put SERVICE's new side at 0 now: one Route 53 batch and one ModifyRule per rule.
    Rollback(MigrateRollbackArgs),
    /// After the bake at 100 percent: the edge stack takes SERVICE's records and rules back
    /// (Migrated<Service>=true), and the migration's own records go. The host's name
    /// resolves at every moment.
    Finalize(MigrateFinalizeArgs),
    /// Per host: the records that still point at the old side, the traffic it still sees,
    /// the services fully on the new side, and what is safe to switch off.
    DecommissionReport(MigrateReportArgs),
}

/// What every migrate verb that talks to AWS takes.
#[derive(Debug, Args)]
pub struct MigrateTarget {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "acme.yaml")]
    pub file: PathBuf,
    /// Give a stack output a value the account cannot give (repeatable), as `deploy
    /// --parameter` does.
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameters: Vec<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, Args)]
pub struct MigratePlanArgs {
    /// The platform file.
    #[arg(short = 'f', long = "file", default_value = "acme.yaml")]
    pub file: PathBuf,
}

/// Where the probes go and what they trust.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Probe HOST at ADDRESS:PORT instead of through the load balancer, still naming HOST
    /// (TLS server name and Host header). Repeatable.
    #[arg(long = "probe-target", value_name = "HOST=ADDRESS:PORT")]
    pub probe_targets: Vec<String>,
    /// Trust the certificates in this PEM file instead of the system's roots.
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MigrateRunArgs {
    /// The service to move.
    pub service: String,
    /// Do not ask for confirmation. Without a terminal, --yes is required.
    #[arg(long)]
    pub yes: bool,
    /// The step schedule for this run, in percent, ending at 100: e.g. 5,50,100.
    #[arg(long, value_name = "PERCENTS")]
    pub steps: Option<String>,
    /// The bake of every step for this run: e.g. 30s, 5m.
    #[arg(long, value_name = "DURATION")]
    pub bake: Option<String>,
    /// Time between two polls of the gates: a failed gate is acted on within it.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub poll: String,
    #[command(flatten)]
    pub probes: ProbeArgs,
    #[command(flatten)]
    pub target: MigrateTarget,
}

#[derive(Debug, Args)]
pub struct MigrateStatusArgs {
    /// Only this service.
    pub service: Option<String>,
    /// Redraw as it changes (every --poll) until Ctrl-C, measuring the gates of services in
    /// flight.
    #[arg(long)]
    pub watch: bool,
    /// Time between two reads with --watch.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub poll: String,
    #[command(flatten)]
    pub probes: ProbeArgs,
    #[command(flatten)]
    pub target: MigrateTarget,
}

#[derive(Debug, Args)]
pub struct MigratePauseArgs {
    pub service: String,
    /// Why, for the record of intent and the next person.
    #[arg(long, default_value = "paused by hand")]
    pub reason: String,
    #[command(flatten)]
    pub target: MigrateTarget,
}

#[derive(Debug, Args)]
pub struct MigrateRollbackArgs {
    pub service: String,
    /// Also move the shared host's DNS back off the load balancer (a path migration's front
    /// door), for every service on it.
    #[arg(long)]
    pub front_door: bool,
    #[command(flatten)]
    pub target: MigrateTarget,
}

#[derive(Debug, Args)]
pub struct MigrateFinalizeArgs {
    pub service: String,
    /// Do not ask for confirmation. Without a terminal, --yes is required.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub target: MigrateTarget,
}

#[derive(Debug, Args)]
pub struct MigrateReportArgs {
    /// How far back to count the old side's requests: e.g. 24h, 7d.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub window: String,
    #[command(flatten)]
    pub target: MigrateTarget,
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
    /// Also empty and delete the staging bucket of large templates, which the keys stack
    /// retains (it holds only copies of templates).
    #[arg(long)]
    pub remove_staging_bucket: bool,
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
