use crate::cli::{Global, OutputFormat, SynthArgs};
use crate::commands::check;
use crate::exit::{Code, Failure};
use crate::output;
use serde_json::json;

pub fn run(global: &Global, args: &SynthArgs) -> Result<Code, Failure> {
    let checked = check::evaluate(&args.file, &args.rules)?;
    let (platform, artifacts, report) = (&checked.platform, &checked.artifacts, &checked.report);
    super::refuse_excess(&args.file, &checked)?;
    let limits = artifacts.limits();
    // The gate: nothing is written while a finding stands that acme.yaml does not accept.
    if !report.passed() || global.output == OutputFormat::Sarif {
        check::print(global.output, &checked, &args.out);
        if !report.passed() {
            if global.output == OutputFormat::Text {
                eprintln!(
                    "synth refused: {} finding{} stand; fix them in {} or accept them in `check.accept` with a reason",
                    report.findings.len(),
                    if report.findings.len() == 1 { "" } else { "s" },
                    args.file.display()
                );
            }
            return Ok(Code::Findings);
        }
    }
    let too_large = &limits.too_large_to_send_inline;
    if !too_large.is_empty() && global.output == OutputFormat::Text {
        eprintln!(
            "note: these templates are over CloudFormation's limit for a template sent inline; `acmectl deploy` \
             stages them in the keys stack's staging bucket and passes them as TemplateURL:\n  {}",
            too_large.join("\n  ")
        );
    }
    let mut files = artifacts.files();
    // The pictures too, so an output folder never holds pictures of another acme.yaml.
    files.extend(acme_diagram::files(platform));
    output::replace_dir(&args.out, &files).map_err(|e| Failure::Local(miette::Report::msg(e.to_string())))?;

    match global.output {
        OutputFormat::Sarif => {}
        OutputFormat::Json => {
            let summary = json!({
                "platform": platform.name,
                "out": args.out,
                "files": files.keys().collect::<Vec<_>>(),
                "waves": artifacts.plan.waves,
                "accepted": report.accepted.iter().map(|a| json!({ "rule": a.finding.rule, "location": a.finding.location.to_string(), "reason": a.reason })).collect::<Vec<_>>(),
                "unused_accepts": report.unused_accepts,
                "staged_through_s3": too_large,
                "load_balancers": artifacts.shards,
            });
            println!("{summary:#}");
        }
        OutputFormat::Text => {
            let ci = match platform.ci.provider {
                acme_spec::CiProvider::Github => "GitHub Actions workflows",
                acme_spec::CiProvider::Jenkins => "Jenkinsfiles",
            };
            println!(
                "synthesized {} ({} stacks, Kubernetes objects of {} services, {ci} in pipelines/) into {}",
                platform.name,
                artifacts.stacks.len(),
                artifacts.kubernetes.services.len(),
                args.out.display()
            );
            for (i, wave) in artifacts.plan.waves.iter().enumerate() {
                let names: Vec<String> = wave.iter().map(ToString::to_string).collect();
                println!("  wave {}: {}", i + 1, names.join(", "));
            }
            print!("{}", crate::render::shard_plan_text(&artifacts.shards));
            for a in &report.accepted {
                println!("  accepted {} on {}: {}", a.finding.rule, a.finding.location, a.reason);
            }
            for unused in &report.unused_accepts {
                eprintln!("warning: {unused} accepts no finding; remove it");
            }
        }
    }
    Ok(Code::Ok)
}
