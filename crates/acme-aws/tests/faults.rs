//! Faults AWS produces and moto does not, injected by a proxy in front of moto: throttling
//! (the SDK configuration must retry it with backoff), and the bounds of those retries.

use acme_aws::config::{self, MAX_ATTEMPTS, Options};
use acme_aws::{Deployer, Error};
use aws_credential_types::Credentials;
use std::time::{Duration, Instant};
use support::moto::MotoServer;
use support::proxy::{Proxy, Verdict};

mod support;

async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    let options = Options {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_owned()),
        credentials: Some(Credentials::new("AKIDMOTOTEST", "moto-test-secret", None, None, "test")),
        ..Default::default()
    };
    config::load(&options, "us-east-1").await
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
}

#[test]
fn throttling_is_retried_with_backoff_until_it_passes() {
    let moto = MotoServer::start();
    let mut left = 3;
    let proxy = Proxy::start(moto.port(), move |r| {
        if r.action == "DescribeStacks" && left > 0 {
            left -= 1;
            return Verdict::Error(400, "Throttling", "Rate exceeded");
        }
        Verdict::Pass
    });
    runtime().block_on(async {
        let sdk = sdk(&proxy.endpoint).await;
        let started = Instant::now();
        let state = Deployer::new(&sdk).describe("acme-network").await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(state, None, "moto has no such stack, and said so after the throttling");
        assert_eq!(proxy.count("DescribeStacks", true), 3, "three throttled answers");
        assert_eq!(proxy.count("DescribeStacks", false), 1, "then one that passed");
        // Standard mode backs off (with jitter) between attempts: not three immediate retries.
        assert!(started.elapsed() > Duration::from_millis(50), "{:?}", started.elapsed());
    });
}

#[test]
fn throttling_past_every_attempt_is_an_error_that_says_so() {
    let moto = MotoServer::start();
    let proxy = Proxy::start(moto.port(), |r| {
        if r.action == "DescribeStacks" {
            return Verdict::Error(400, "Throttling", "Rate exceeded");
        }
        Verdict::Pass
    });
    runtime().block_on(async {
        let sdk = sdk(&proxy.endpoint).await;
        // acmectl's attempts, with a short first backoff so the test takes no minute.
        let attempts = sdk.retry_config().expect("retry config").max_attempts();
        assert_eq!(attempts, MAX_ATTEMPTS);
        let quick = aws_config::retry::RetryConfig::standard()
            .with_max_attempts(attempts)
            .with_initial_backoff(Duration::from_millis(5))
            .with_max_backoff(Duration::from_millis(20));
        let sdk = sdk.to_builder().retry_config(quick).build();
        let err = Deployer::new(&sdk).describe("acme-network").await.expect_err("throttled every time");
        match &err {
            Error::Aws { operation, code, message, .. } => {
                assert_eq!((*operation, code.as_deref()), ("DescribeStacks", Some("Throttling")));
                assert!(message.contains("Rate exceeded"), "{message}");
            }
            other => panic!("expected an AWS error, got {other}"),
        }
        assert_eq!(proxy.count("DescribeStacks", true), MAX_ATTEMPTS as usize);
    });
}
