//! The Mermaid sources held to Mermaid itself: its parser (the grammar GitHub's renderer uses)
//! must accept both diagrams of the bundled acme.yaml and of a large generated platform.
//!
//! Mermaid and jsdom are pinned and installed by `scripts/tools.sh` into `target/tools/mermaid`
//! (or `$ACME_TOOLS_DIR/mermaid`). A missing tool fails the test: it must never pass by not
//! running.

use std::path::{Path, PathBuf};
use std::process::Command;

fn parser() -> PathBuf {
    let dir = std::env::var_os("ACME_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools"));
    let script = dir.join("mermaid").join("parse.mjs");
    assert!(script.is_file(), "{} is missing: run scripts/tools.sh (scripts/test.sh does)", script.display());
    script
}

fn platform(yaml: &str) -> acme_spec::Platform {
    acme_spec::load_str("acme.yaml", yaml).expect("valid platform")
}

/// Thirty services with routes, calls, WebSockets, the database and buckets.
fn thirty() -> String {
    let mut y = String::from(
        "name: big\nregion: us-east-1\ndomain: big.example.com\n\
         database: { engine: mysql, version: \"8.4\", class: db.r7g.large, storage_gb: 100 }\n\
         edge: { waf: false }\nalerts: { email: [ops@big.example.com] }\n\
         ci: { provider: jenkins, agent_roles: [\"arn:aws:iam::111122223333:role/agent\"] }\nservices:\n",
    );
    for i in 0..30 {
        y.push_str(&format!("  - name: svc{i}\n    port: 8080\n    health: {{ path: /healthz }}\n"));
        if i % 3 == 0 {
            y.push_str(&format!("    routes: [{{ host: h{}.big.example.com, path: /p{i} }}]\n", i % 4));
        }
        if i % 11 == 0 {
            y.push_str("    websocket: true\n");
        }
        // 7i + 3 ≡ i (mod 30) has no solution: nobody calls itself.
        y.push_str(&format!("    talks_to: [svc{}]\n", (i * 7 + 3) % 30));
        if i % 5 == 0 {
            y.push_str("    uses: [database, { bucket: files }]\n");
        }
    }
    y
}

#[test]
fn mermaid_parses_every_diagram() {
    let script = parser();
    let dir = tempfile::tempdir().expect("temp dir");
    let bundled = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../acme.yaml"))
        .expect("the bundled acme.yaml");
    let mut files = vec![];
    for (name, yaml) in [("bundled", bundled), ("thirty", thirty())] {
        for (path, text) in acme_diagram::files(&platform(&yaml)) {
            if let Some(stem) = path.strip_suffix(".mmd") {
                let file = dir.path().join(format!("{name}-{}.mmd", stem.replace('/', "-")));
                std::fs::write(&file, text).expect("write");
                files.push(file);
            }
        }
    }
    assert_eq!(files.len(), 4);
    let out = Command::new("node").arg(&script).args(&files).output().expect("node runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "Mermaid rejects a diagram:\n{report}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(report.lines().filter(|l| l.starts_with("ok ") && l.ends_with("flowchart-v2")).count(), 4, "{report}");
}
