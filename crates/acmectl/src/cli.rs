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
    /// Output for people (text) or machines (json).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Synthesize CloudFormation stacks and the deploy plan from acme.yaml.
    Synth(SynthArgs),
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
}
