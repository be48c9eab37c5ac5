use crate::cli::{DiagramArgs, Global, OutputFormat};
use crate::exit::{Code, Failure};
use crate::output;
use serde_json::json;

pub fn run(global: &Global, args: &DiagramArgs) -> Result<Code, Failure> {
    let platform = acme_spec::load_file(&args.file).map_err(|e| Failure::Input(e.into()))?;
    let files = acme_diagram::files(&platform);
    output::replace_diagrams(&args.out, &files).map_err(|e| Failure::Local(miette::Report::msg(e.to_string())))?;
    let dir = args.out.join(acme_diagram::DIR);
    match global.output {
        OutputFormat::Json => {
            let summary = json!({ "platform": platform.name, "out": dir, "files": files.keys().collect::<Vec<_>>() });
            println!("{summary:#}");
        }
        OutputFormat::Text | OutputFormat::Sarif => {
            println!("drew {} (architecture, traffic flow; SVG and Mermaid) into {}", platform.name, dir.display());
        }
    }
    Ok(Code::Ok)
}
