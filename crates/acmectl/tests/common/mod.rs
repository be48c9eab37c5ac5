//! The acmectl binary as a user runs it, against moto's server on 127.0.0.1 (started per
//! test), in a scratch folder with a copy of the bundled acme.yaml.
#![allow(dead_code)]

#[path = "../../../acme-aws/tests/support/mod.rs"]
pub mod support;

use aws_credential_types::Credentials;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::moto::MotoServer;

pub const FOUNDATION: [&str; 8] = ["--stack", "keys", "--stack", "network", "--stack", "dns", "--stack", "ci"];

/// A scratch folder holding a copy of the bundled acme.yaml, and the moto it deploys to.
pub struct World {
    pub moto: MotoServer,
    pub dir: tempfile::TempDir,
    pub runtime: tokio::runtime::Runtime,
    pub sdk: aws_config::SdkConfig,
}

impl World {
    pub fn new() -> World {
        let moto = MotoServer::start();
        let dir = tempfile::tempdir().expect("temp dir");
        let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../acme.yaml");
        std::fs::copy(bundled, dir.path().join("acme.yaml")).expect("copy acme.yaml");
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        let sdk = runtime.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url(&moto.endpoint)
                .credentials_provider(Credentials::new("AKIDMOTOTEST", "moto-test-secret", None, None, "test"))
                .load(),
        );
        World { moto, dir, runtime, sdk }
    }

    /// Run acmectl in the scratch folder against moto (or `endpoint`), with test credentials
    /// and nothing of the user's AWS setup.
    pub fn run_at(&self, endpoint: &str, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--endpoint-url", endpoint]);
        run(self.dir.path(), &all, &[("AWS_ACCESS_KEY_ID", "AKIDMOTOTEST"), ("AWS_SECRET_ACCESS_KEY", "secret")])
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_at(&self.moto.endpoint.clone(), args)
    }

    pub fn edit(&self, from: &str, to: &str) {
        let path = self.dir.path().join("acme.yaml");
        let text = std::fs::read_to_string(&path).expect("acme.yaml");
        assert!(text.contains(from), "acme.yaml has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write acme.yaml");
    }

    pub fn cfn(&self) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&self.sdk)
    }

    /// The stack's status, `None` when it does not exist.
    pub fn status(&self, stack: &str) -> Option<String> {
        self.runtime.block_on(async {
            let out = self.cfn().describe_stacks().stack_name(stack).send().await.ok()?;
            out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_owned())
        })
    }

    pub fn outputs(&self, stack: &str) -> BTreeMap<String, String> {
        self.runtime.block_on(async {
            let out = self.cfn().describe_stacks().stack_name(stack).send().await.expect("stack");
            out.stacks()[0]
                .outputs()
                .iter()
                .map(|o| {
                    (o.output_key().unwrap_or_default().to_owned(), o.output_value().unwrap_or_default().to_owned())
                })
                .collect()
        })
    }

    /// Change sets left on the platform's stacks.
    pub fn change_sets(&self) -> usize {
        self.runtime.block_on(async {
            let mut n = 0;
            for stack in STACKS {
                let name = format!("acme-{stack}");
                if let Ok(out) = self.cfn().list_change_sets().stack_name(&name).send().await {
                    // moto lists every stack's change sets whatever the stack asked for.
                    // Executed ones are history (AWS drops them, moto keeps them); count those waiting.
                    n += out
                        .summaries()
                        .iter()
                        .filter(|c| c.stack_name() == Some(name.as_str()))
                        .filter(|c| c.execution_status().is_some_and(|e| e.as_str() == "AVAILABLE"))
                        .count();
                }
            }
            n
        })
    }

    /// `--parameter` stand-ins for the outputs moto cannot give (the network must exist).
    pub fn stand_ins(&self) -> Vec<String> {
        let vpc = self.outputs("acme-network")["VpcId"].clone();
        self.runtime.block_on(support::stand_ins::stand_ins(&self.sdk, &vpc))
    }

    /// The whole platform deployed: the foundation first, then the rest with stand-ins.
    pub fn deploy_all(&self) -> Vec<String> {
        self.run(&[&["deploy", "--yes"][..], &FOUNDATION].concat()).ok();
        let stand_ins = self.stand_ins();
        self.deploy(&stand_ins, &[]).ok();
        stand_ins
    }

    pub fn deploy(&self, stand_ins: &[String], extra: &[&str]) -> Run {
        let mut args = vec!["deploy", "--yes"];
        args.extend(stand_ins.iter().map(String::as_str));
        args.extend(extra);
        self.run(&args)
    }
}

pub const STACKS: [&str; 11] =
    ["keys", "network", "dns", "ci", "cluster", "registry", "data", "edge", "services", "observability", "backup"];

/// One finished acmectl run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "acmectl failed:\n{}\n{}", self.stdout, self.stderr);
        self
    }
}

pub fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let out: Output = command(dir, args, env).output().expect("acmectl runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// `acmectl ARGS` started in the background against moto's test credentials, its stdout and
/// stderr piped: for a test that acts while it runs (a Ctrl-C, a pause).
pub fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    let mut vars = vec![("AWS_ACCESS_KEY_ID", "AKIDMOTOTEST"), ("AWS_SECRET_ACCESS_KEY", "secret")];
    vars.extend(env);
    command(dir, args, &vars)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("acmectl starts")
}

/// `acmectl ARGS` in `dir`, with nothing of the machine's AWS setup.
fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_acmectl"));
    command.args(args).current_dir(dir);
    for var in [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        command.env_remove(var);
    }
    // Nothing of the machine's AWS setup, and never the instance metadata service.
    command
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port()
}
