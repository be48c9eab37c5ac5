//! Check speed: `cargo bench -p acme-check --bench check`.
//! `bundled_end_to_end` is what `acmectl check` does minus reading the file and printing:
//! parse, validate, synthesize, apply overrides, evaluate every built-in rule.

use acme_check::guard::{self, RuleFile};

fn main() {
    divan::main();
}

const ACME_YAML: &str = include_str!("../../../acme.yaml");

/// A Guard file of the usual size: four rules over buckets, keys, the database and roles.
const GUARD: &str = r#"
let buckets = Resources.*[ Type == 'AWS::S3::Bucket' ]
rule buckets_versioned when %buckets !empty {
  %buckets.Properties.VersioningConfiguration.Status == 'Enabled'
}
rule keys_rotate when Resources.*[ Type == 'AWS::KMS::Key' ] !empty {
  Resources.*[ Type == 'AWS::KMS::Key' ].Properties.EnableKeyRotation == true
}
rule db_encrypted when Resources.*[ Type == 'AWS::RDS::DBInstance' ] !empty {
  Resources.*[ Type == 'AWS::RDS::DBInstance' ].Properties.StorageEncrypted == true
}
rule roles_described when Resources.*[ Type == 'AWS::IAM::Role' ] !empty {
  Resources.*[ Type == 'AWS::IAM::Role' ].Properties.Description exists
}
"#;

fn platform() -> acme_spec::Platform {
    acme_spec::load_str("acme.yaml", ACME_YAML).expect("benchmark input is valid")
}

#[divan::bench]
fn bundled_end_to_end() -> usize {
    let platform = acme_spec::load_str("acme.yaml", divan::black_box(ACME_YAML)).expect("valid");
    let mut artifacts = acme_synth::synthesize(&platform);
    artifacts.apply_overrides(&platform.overrides).expect("no overrides");
    let report = acme_check::check(&platform, &artifacts, Default::default()).expect("no accepts");
    report.findings.len()
}

#[divan::bench]
fn builtin_rules_only(bencher: divan::Bencher) {
    let platform = platform();
    let artifacts = acme_synth::synthesize(&platform);
    bencher.bench(|| {
        acme_check::check(&platform, divan::black_box(&artifacts), Default::default()).map(|r| r.findings.len())
    });
}

#[divan::bench]
fn one_guard_file_over_every_template(bencher: divan::Bencher) {
    let platform = platform();
    let artifacts = acme_synth::synthesize(&platform);
    let files = [RuleFile { path: "policies/org.guard".into(), text: GUARD.into() }];
    bencher.bench(|| guard::evaluate(divan::black_box(&files), &artifacts).map(|e| e.findings.len()));
}

/// Every built-in rule over the artifacts of 250 to 1,000 services on a fifth as many hosts.
#[divan::bench(args = [250, 500, 1000])]
fn builtin_rules_over_services(bencher: divan::Bencher, services: usize) {
    let text = acme_spec::fixture::large_yaml(services, services / 5);
    let platform = acme_spec::load_str("acme.yaml", &text).expect("valid");
    let artifacts = acme_synth::synthesize(&platform);
    bencher.bench(|| {
        acme_check::check(&platform, divan::black_box(&artifacts), Default::default()).map(|r| r.findings.len())
    });
}
