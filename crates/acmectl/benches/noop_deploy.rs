//! A no-op deploy of the bundled acme.yaml against moto: `cargo bench -p acmectl --bench
//! noop_deploy`. Starts moto_server on 127.0.0.1, deploys the platform once (with stand-ins
//! for what moto cannot build), then times `acmectl deploy --yes` when nothing changed: the
//! whole binary, preflight (caller, zones), a change set per stack made and found empty, no
//! change set executed. The target is under 5 s.

#[path = "../../acme-aws/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use support::moto::MotoServer;

struct World {
    dir: PathBuf,
    endpoint: String,
    stand_ins: Vec<String>,
}

static WORLD: OnceLock<World> = OnceLock::new();
static MOTO: Mutex<Option<MotoServer>> = Mutex::new(None);

fn acmectl(dir: &Path, endpoint: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_acmectl"))
        .args(args)
        .args(["--endpoint-url", endpoint])
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "AKIDMOTOBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .expect("acmectl runs");
    assert!(out.status.success(), "acmectl {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn set_up() -> World {
    let moto = MotoServer::start();
    let endpoint = moto.endpoint.clone();
    *MOTO.lock().expect("moto") = Some(moto);
    let dir = std::env::temp_dir().join(format!("acmectl-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../acme.yaml"), dir.join("acme.yaml")).expect("copy");
    acmectl(
        &dir,
        &endpoint,
        &["deploy", "--yes", "--stack", "keys", "--stack", "network", "--stack", "dns", "--stack", "ci"],
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let stand_ins = runtime.block_on(async {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDMOTOBENCH",
                "secret",
                None,
                None,
                "bench",
            ))
            .load()
            .await;
        let cfn = aws_sdk_cloudformation::Client::new(&sdk);
        let network = cfn.describe_stacks().stack_name("acme-network").send().await.expect("network");
        let vpc = network.stacks()[0]
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some("VpcId"))
            .and_then(|o| o.output_value())
            .expect("VpcId")
            .to_owned();
        support::stand_ins::stand_ins(&sdk, &vpc).await
    });
    let mut args = vec!["deploy", "--yes"];
    args.extend(stand_ins.iter().map(String::as_str));
    acmectl(&dir, &endpoint, &args);
    World { dir, endpoint, stand_ins }
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn noop_deploy_of_acme_yaml() {
    let w = WORLD.get().expect("set up");
    let mut args = vec!["deploy", "--yes"];
    args.extend(w.stand_ins.iter().map(String::as_str));
    let out = acmectl(&w.dir, &w.endpoint, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("No changes: no change set was executed."), "{stdout}");
}

fn main() {
    let world = WORLD.get_or_init(set_up);
    divan::main();
    let _ = std::fs::remove_dir_all(&world.dir);
    // Statics are never dropped: stop moto here.
    drop(MOTO.lock().expect("moto").take());
}
