use crate::cli::{Global, OutputFormat, SynthArgs};
use crate::exit::{Code, Failure};
use crate::output;
use serde_json::json;

pub fn run(global: &Global, args: &SynthArgs) -> Result<Code, Failure> {
    let platform = acme_spec::load_file(&args.file).map_err(|e| Failure::Input(e.into()))?;
    let artifacts = acme_synth::synthesize(&platform);
    let excess = artifacts.quota_excess();
    if !excess.is_empty() {
        return Err(Failure::Input(miette::miette!(
            help = "split the platform in two, or give fewer services their own role or bucket",
            "{} describes a platform CloudFormation cannot deploy:\n  {}",
            args.file.display(),
            excess.join("\n  ")
        )));
    }
    let files = artifacts.files();
    output::replace_dir(&args.out, &files).map_err(|e| Failure::Local(miette::Report::msg(e.to_string())))?;

    match global.output {
        OutputFormat::Json => {
            let summary = json!({
                "platform": platform.name,
                "out": args.out,
                "files": files.keys().collect::<Vec<_>>(),
                "waves": artifacts.plan.waves,
            });
            println!("{summary:#}");
        }
        OutputFormat::Text => {
            println!(
                "synthesized {} ({} stacks, Kubernetes objects of {} services) into {}",
                platform.name,
                artifacts.stacks.len(),
                artifacts.kubernetes.services.len(),
                args.out.display()
            );
            for (i, wave) in artifacts.plan.waves.iter().enumerate() {
                let names: Vec<&str> = wave.iter().map(|s| s.as_str()).collect();
                println!("  wave {}: {}", i + 1, names.join(", "));
            }
        }
    }
    Ok(Code::Ok)
}
