//! Diagram speed: `cargo bench -p acme-diagram --bench diagram`.
//! Each case starts from acme.yaml text and ends with both pictures rendered as SVG and Mermaid
//! (measuring, routing and layout included), as `acmectl diagram` does, minus the disk writes.

use std::fmt::Write;

fn main() {
    divan::main();
}

const ACME_YAML: &str = include_str!("../../../acme.yaml");

fn diagram_text(text: &str) -> usize {
    let platform = acme_spec::load_str("acme.yaml", text).expect("benchmark input is valid");
    acme_diagram::files(&platform).values().map(String::len).sum()
}

#[divan::bench]
fn bundled_acme_yaml() -> usize {
    diagram_text(divan::black_box(ACME_YAML))
}

/// `n` services, a third routed (by path under four hosts), each calling the next, every fifth
/// using the database and every seventh owning a bucket.
fn services(n: usize) -> String {
    let mut y = String::from(
        "name: big\nregion: us-east-1\ndomain: big.example.com\n\
         database: { engine: postgres, version: \"17\", class: db.r7g.large, storage_gb: 100 }\n\
         alerts: { email: [ops@big.example.com] }\n\
         ci: { provider: jenkins, agent_roles: [\"arn:aws:iam::111122223333:role/big-jenkins-agent\"] }\nservices:\n",
    );
    for i in 0..n {
        let _ = write!(y, "  - name: svc{i}\n    port: 8080\n    health: {{ path: /healthz }}\n");
        if i % 3 == 0 {
            let _ = writeln!(y, "    routes: [{{ host: h{}.big.example.com, path: /p{i} }}]", i % 4);
        }
        if i + 1 < n {
            let _ = writeln!(y, "    talks_to: [svc{}]", i + 1);
        }
        let mut uses = vec![];
        if i % 5 == 0 {
            uses.push("database".to_owned());
        }
        if i % 7 == 0 {
            uses.push("{ bucket: files }".to_owned());
        }
        if !uses.is_empty() {
            let _ = writeln!(y, "    uses: [{}]", uses.join(", "));
        }
    }
    y
}

#[divan::bench(args = [30, 100])]
fn many_services(bencher: divan::Bencher, n: usize) {
    let text = services(n);
    bencher.bench(|| diagram_text(divan::black_box(&text)));
}
