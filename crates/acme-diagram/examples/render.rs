//! Renders the diagrams of an acme.yaml into a folder and prints any layout problem:
//! `cargo run -p acme-diagram --example render -- acme.yaml /tmp/diagrams`.

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args.next().unwrap_or_else(|| "acme.yaml".into());
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "out".into()));
    let platform = match acme_spec::load_file(std::path::Path::new(&file)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    // Laid out once: the layout is most of the work.
    let diagrams = acme_diagram::diagrams(&platform);
    for d in &diagrams {
        for problem in d.layout.problems() {
            eprintln!("{}: {problem}", d.name);
        }
    }
    for (path, text) in diagrams.iter().flat_map(acme_diagram::Diagram::files) {
        let path = out.join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("create folder");
        std::fs::write(&path, text).expect("write");
        println!("{}", path.display());
    }
}
