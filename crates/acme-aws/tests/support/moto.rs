//! moto's server (`moto_server`, installed and fixed up by `scripts/tools.sh`) on a free port
//! of 127.0.0.1, for tests of acme-aws and of the acmectl binary.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's server on a free port of 127.0.0.1, killed when dropped (also when a test panics).
pub struct MotoServer {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
}

impl MotoServer {
    pub fn start() -> MotoServer {
        let tools = std::env::var_os("ACME_TOOLS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools"));
        let binary = tools.join("moto/bin/moto_server");
        assert!(binary.is_file(), "{} is missing: run scripts/tools.sh (scripts/test.sh does)", binary.display());

        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let log = std::env::temp_dir().join(format!("acme-moto-{port}.log"));
        let out = std::fs::File::create(&log).expect("moto log file");
        let err = out.try_clone().expect("moto log file");
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut server = MotoServer { child, endpoint: format!("http://127.0.0.1:{port}"), log };

        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("moto_server exited with {status}:\n{}", server.log_text());
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return server;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "moto_server did not answer:\n{}", server.log_text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An SDK configuration that talks to it, in us-east-1, with moto's test credentials.
    pub async fn sdk(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_credential_types::Credentials::new(
                "AKIDMOTOTEST",
                "moto-test-secret",
                None,
                None,
                "test",
            ))
            .load()
            .await
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_default()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
