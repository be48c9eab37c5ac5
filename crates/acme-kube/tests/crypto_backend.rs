//! kube-rs on rustls with aws-lc-rs, the one crypto backend of the workspace (see
//! `acme_aws::config`). With `ring` compiled in beside it, rustls cannot pick a default
//! provider; kube's own `ring` feature would bring it.

use std::process::Command;

#[test]
fn acme_kube_builds_no_ring() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "-p", "acme-kube", "--all-features", "--offline", "-e", "normal,build,dev", "-i", "ring"])
        .output()
        .expect("cargo tree runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "cargo tree failed:\n{stderr}");
    assert!(
        stdout.trim().is_empty() && stderr.contains("nothing to print"),
        "ring is in acme-kube's graph:\n{stdout}{stderr}"
    );
}

#[tokio::test]
async fn an_https_kube_client_runs_on_aws_lc_rs() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none(), "nothing installed a provider yet");
    // Building the client builds its rustls configuration; nothing is sent.
    let config = kube::Config::new("https://127.0.0.1:1".parse().unwrap());
    kube::Client::try_from(config).expect("a TLS client");
    let provider = rustls::crypto::CryptoProvider::get_default().expect("a provider is installed");
    // Only aws-lc-rs offers the post-quantum hybrid key exchange.
    let groups: Vec<_> = provider.kx_groups.iter().map(|g| g.name()).collect();
    assert!(groups.contains(&rustls::NamedGroup::X25519MLKEM768), "{groups:?}");
}
