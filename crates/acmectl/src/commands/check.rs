//! `acmectl check`, and the gate `synth` (later `deploy`) passes through: load, synthesize,
//! apply overrides, evaluate the built-in and Guard rules, set aside what acme.yaml accepts.

use crate::cli::{CheckArgs, Global, OutputFormat};
use crate::exit::{Code, Failure};
use acme_check::Report;
use acme_check::guard::RuleFile;
use acme_spec::{Placement, Platform, Source};
use acme_synth::Artifacts;
use std::path::{Path, PathBuf};

/// A platform synthesized, patched and checked.
pub struct Checked {
    pub source: Source,
    pub platform: Platform,
    pub artifacts: Artifacts,
    pub report: Report,
}

/// The pipeline every gated verb runs. Bad acme.yaml, overrides, accepts or rule files are
/// input failures (exit 2) placed at their line.
pub fn evaluate(file: &Path, rule_dirs: &[PathBuf]) -> Result<Checked, Failure> {
    evaluate_placed(file, rule_dirs, &Placement::default())
}

/// [`evaluate`] for a platform whose services the account has on the load balancers of
/// `placement`.
pub fn evaluate_placed(file: &Path, rule_dirs: &[PathBuf], placement: &Placement) -> Result<Checked, Failure> {
    let source = Source::read(file).map_err(|e| Failure::Input(e.into()))?;
    let mut platform = source.load().map_err(|e| Failure::Input(e.into()))?;
    platform.placement = placement.clone();
    let mut artifacts = acme_synth::synthesize(&platform);
    artifacts.apply_overrides(&platform.overrides).map_err(|issues| Failure::Input(source.invalid(issues).into()))?;
    let rules = rule_files(file, &platform, rule_dirs)?;
    let extra = acme_check::guard::evaluate(&rules, &artifacts).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Failure::Input(miette::miette!(
            help = "fix the rule file; `cfn-guard parse-tree --rules FILE` shows how Guard reads it",
            "{} Guard rule file{} {} not parse:\n  {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            if errors.len() == 1 { "does" } else { "do" },
            lines.join("\n  ")
        ))
    })?;
    let report = acme_check::check(&platform, &artifacts, extra)
        .map_err(|issues| Failure::Input(source.invalid(issues).into()))?;
    Ok(Checked { source, platform, artifacts, report })
}

/// The `.guard` files of `check.rules` (relative to acme.yaml) and of `--rules` (relative to
/// the working directory), each folder's files in name order.
fn rule_files(file: &Path, platform: &Platform, extra: &[PathBuf]) -> Result<Vec<RuleFile>, Failure> {
    let base = file.parent().unwrap_or(Path::new(""));
    let dirs = platform.check.rule_dirs.iter().map(|d| base.join(d)).chain(extra.iter().cloned());
    let mut files = vec![];
    for dir in dirs {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            Failure::Input(miette::miette!(
                help = "name a folder of `.guard` files",
                "cannot read rule folder {}: {e}",
                dir.display()
            ))
        })?;
        let mut paths: Vec<PathBuf> =
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "guard")).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path)
                .map_err(|e| Failure::Input(miette::miette!("cannot read rule file {}: {e}", path.display())))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Failure::Input(miette::miette!(
                    help = "save the rule file as UTF-8",
                    "{} is not UTF-8 text",
                    path.display()
                ))
            })?;
            files.push(RuleFile { path: path.display().to_string(), text });
        }
    }
    Ok(files)
}

/// Prints the report in the chosen format.
pub fn print(format: OutputFormat, checked: &Checked, out: &Path) {
    let Checked { source, artifacts, report, .. } = checked;
    match format {
        OutputFormat::Text => print!("{}", acme_check::render::text(report, source)),
        OutputFormat::Json => println!("{:#}", acme_check::render::json(report, source)),
        OutputFormat::Sarif => {
            println!("{:#}", acme_check::sarif::render(report, source, artifacts, &out.display().to_string()))
        }
    }
}

pub fn run(global: &Global, args: &CheckArgs) -> Result<Code, Failure> {
    let checked = evaluate(&args.file, &args.rules)?;
    print(global.output, &checked, &args.out);
    Ok(if checked.report.passed() { Code::Ok } else { Code::Findings })
}
