use crate::cli::{Global, OutputFormat, SynthArgs};
use crate::exit::{Code, Failure};
use crate::output;
use serde_json::json;

pub fn run(global: &Global, args: &SynthArgs) -> Result<Code, Failure> {
    let (platform, artifacts) = super::load(&args.file)?;
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
            println!("synthesized {} ({} stacks) into {}", platform.name, artifacts.stacks.len(), args.out.display());
            for (i, wave) in artifacts.plan.waves.iter().enumerate() {
                let names: Vec<&str> = wave.iter().map(|s| s.as_str()).collect();
                println!("  wave {}: {}", i + 1, names.join(", "));
            }
        }
    }
    Ok(Code::Ok)
}
