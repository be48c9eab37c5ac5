//! Writes the synthesized files of the in-code ACME fixture to a folder, for running
//! cfn-lint and checkov by hand: `cargo run -p acme-synth --example dump -- /tmp/out`.

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "out".into()));
    let artifacts = acme_synth::synthesize(&acme_spec::fixture::acme());
    for (path, text) in artifacts.files() {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(())
}
