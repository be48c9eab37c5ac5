//! Synthesis speed: `cargo bench -p acme-synth --bench synth`.
//! Each case starts from acme.yaml text and ends with every file rendered (stacks, plan and
//! Kubernetes manifests), as `acmectl synth` does, minus the disk writes.

use std::fmt::Write;

fn main() {
    divan::main();
}

const ACME_YAML: &str = include_str!("../../../acme.yaml");

fn synth_text(text: &str) -> usize {
    let platform = acme_spec::load_str("acme.yaml", text).expect("benchmark input is valid");
    let artifacts = acme_synth::synthesize(&platform);
    artifacts.files().values().map(String::len).sum()
}

#[divan::bench]
fn bundled_acme_yaml() -> usize {
    synth_text(divan::black_box(ACME_YAML))
}

/// 200 services within ALB quotas: 100 routed over 20 hosts, 100 internal, with calls and
/// database users sprinkled through.
fn two_hundred_services() -> String {
    let mut y = String::from(
        "name: big\nregion: us-east-1\ndomain: big.example.com\nnetwork: { cidr: 10.0.0.0/16, zones: 3 }\n\
         cluster: { version: \"1.34\" }\n\
         database: { engine: postgres, version: \"17\", class: db.r7g.large, storage_gb: 100 }\n\
         alerts: { email: [ops@big.example.com] }\nci: { provider: jenkins, agent_roles: [\"arn:aws:iam::111122223333:role/big-jenkins-agent\"] }\nservices:\n",
    );
    for i in 0..200 {
        let _ = write!(y, "  - name: svc{i}\n    port: 8080\n    health: {{ path: /healthz }}\n");
        if i < 100 {
            let host = format!("h{}.big.example.com", i % 20);
            if i < 20 {
                let _ = writeln!(y, "    routes: [{{ host: {host} }}]");
            } else {
                let _ = writeln!(y, "    routes: [{{ host: {host}, path: /p{i} }}]");
            }
        }
        if i > 0 {
            let _ = writeln!(y, "    talks_to: [svc{}]", i - 1);
        }
        if i % 10 == 0 {
            let _ = writeln!(y, "    uses: [database]");
        }
    }
    y
}

#[divan::bench]
fn two_hundred_service_file(bencher: divan::Bencher) {
    let text = two_hundred_services();
    bencher.bench(|| synth_text(divan::black_box(&text)));
}

/// The scale issue's platform: 1,000 services on 200 hosts (13 load balancers), with
/// databases, buckets, WebSocket services and calls; growth with the number of services.
#[divan::bench(args = [250, 500, 1000])]
fn services_over_a_fifth_as_many_hosts(bencher: divan::Bencher, services: usize) {
    let text = acme_spec::fixture::large_yaml(services, services / 5);
    bencher.bench(|| synth_text(divan::black_box(&text)));
}
