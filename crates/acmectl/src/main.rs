//! acmectl: the binary. Argument parsing and dispatch only; the work is in the library crates.

mod cli;
mod commands;
mod exit;
mod kubernetes;
mod migrate_view;
mod output;
mod progress;
mod render;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Synth(args) => commands::synth::run(&cli.global, args),
        cli::Command::Check(args) => commands::check::run(&cli.global, args),
        cli::Command::Diagram(args) => commands::diagram::run(&cli.global, args),
        cli::Command::Schema => commands::schema::run(),
        cli::Command::Plan(args) => commands::plan::run(&cli.global, args),
        cli::Command::Deploy(args) => commands::deploy::run(&cli.global, args),
        cli::Command::Destroy(args) => commands::destroy::run(&cli.global, args),
        cli::Command::Status(args) => commands::status::run(&cli.global, args),
        cli::Command::Migrate(command) => commands::migrate::run(&cli.global, command),
    };
    match result {
        Ok(code) => code.into(),
        Err(failure) => failure.report(cli.global.output),
    }
}
