use crate::exit::{Code, Failure};

pub fn run() -> Result<Code, Failure> {
    let schema = serde_json::to_string_pretty(&acme_spec::json_schema())
        .map_err(|e| Failure::Local(miette::miette!("cannot render the schema: {e}")))?;
    println!("{schema}");
    Ok(Code::Ok)
}
