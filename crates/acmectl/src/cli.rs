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
