//! One rustls crypto backend, aws-lc-rs, in the whole workspace (see `acme_aws::config`).
//! With `ring` compiled in beside it, rustls cannot pick a default provider and every
//! library that asks it for one (kube-rs) panics at run time.

use std::path::Path;
use std::process::Command;

/// Whether `package` is built for any crate of the workspace (any dependency kind, host
/// target), with `cargo tree -i`'s output. `Cargo.lock` may list `ring` as an optional
/// dependency of rustls-webpki; only the feature-resolved graph counts.
fn in_dependency_graph(package: &str) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(cargo)
        .current_dir(workspace)
        .args(["tree", "--workspace", "--offline", "-e", "normal,build,dev", "-i", package])
        .output()
        .expect("cargo tree runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "cargo tree -i {package} failed:\n{stderr}");
    let found = !stdout.trim().is_empty();
    assert!(found || stderr.contains("nothing to print"), "unexpected cargo tree output:\n{stdout}{stderr}");
    (found, format!("{stdout}{stderr}"))
}

#[test]
fn ring_is_nowhere_in_the_dependency_graph_and_aws_lc_rs_is() {
    let (found, text) = in_dependency_graph("ring");
    assert!(!found, "ring is in the dependency graph; enable only the aws-lc-rs features:\n{text}");
    let (found, text) = in_dependency_graph("aws-lc-rs");
    assert!(found, "aws-lc-rs should be the crypto backend:\n{text}");
}

#[test]
fn rustls_picks_aws_lc_rs_unaided_and_acme_aws_installs_it() {
    // Nothing has installed a provider in this test binary yet, so rustls must infer it
    // from its crate features, as kube-rs makes it do; with two backends this panics.
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let _ = rustls::ClientConfig::builder();
    let inferred = rustls::crypto::CryptoProvider::get_default().expect("rustls installed its provider");
    let expected = rustls::crypto::aws_lc_rs::default_provider();
    let suites = |p: &rustls::crypto::CryptoProvider| p.cipher_suites.iter().map(|s| s.suite()).collect::<Vec<_>>();
    assert_eq!(suites(inferred), suites(&expected));
    // Only aws-lc-rs offers the post-quantum hybrid key exchange.
    let groups: Vec<_> = inferred.kx_groups.iter().map(|g| g.name()).collect();
    assert!(groups.contains(&rustls::NamedGroup::X25519MLKEM768), "{groups:?}");

    // Installing again is harmless.
    acme_aws::config::install_crypto_provider();
    acme_aws::config::install_crypto_provider();
}
