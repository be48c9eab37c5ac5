//! The SDK configuration every AWS client of acmectl is built from.
//!
//! - Credentials: the SDK's standard chain (environment, `AWS_PROFILE` or `--profile`, SSO,
//!   `credential_process`, web identity, container and instance roles), unless fixed
//!   credentials are given (tests against an emulator).
//! - Region: `--region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else the platform's own
//!   region from `acme.yaml`. A profile's region is not consulted: the platform file says
//!   where the platform lives, and a default region in `~/.aws/config` should not move it.
//! - Endpoint: one URL override for every service (`--endpoint-url`), for an emulator.
//! - Retries: the SDK's standard mode with up to [`MAX_ATTEMPTS`] attempts, exponential
//!   backoff with jitter; throttling and transient errors are retried.
//!
//! # One TLS crypto backend
//!
//! rustls needs exactly one crypto provider. With both `ring` and `aws-lc-rs` compiled in,
//! every library that asks rustls for "the" provider (kube-rs does) panics at run time.
//! acmectl uses **aws-lc-rs**, the AWS SDK's own default:
//! - every SDK crate is taken with `default-features = false` and `default-https-client`:
//!   the SDK crates' default `rustls` feature brings the legacy hyper 0.14 client and `ring`;
//! - [`http_client`] builds the SDK's HTTP client with [`CryptoMode::AwsLc`] explicitly, so
//!   the choice does not hang on feature unification;
//! - [`install_crypto_provider`] makes aws-lc-rs the process default for other rustls users;
//! - `tests/crypto_backend.rs` fails if `ring` enters the workspace's dependency graph
//!   (`cargo tree --workspace -i ring` must find nothing) or if rustls cannot pick its
//!   provider unaided. A crate added later (kube-rs) must enable its `aws-lc-rs` feature and
//!   not its `ring` one.

use aws_config::retry::RetryConfig;
use aws_config::{AppName, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use std::fmt;

/// Attempts per AWS call, the first included. CloudFormation throttles `Describe*` calls
/// under parallel deploys; eight attempts with exponential backoff ride that out.
pub const MAX_ATTEMPTS: u32 = 8;

/// How to reach AWS. Every field is optional: an empty `Options` means "as the AWS CLI would,
/// in the platform's region".
#[derive(Clone, Default)]
pub struct Options {
    /// Named profile (`--profile`); `None` leaves it to `AWS_PROFILE`, then `default`.
    pub profile: Option<String>,
    /// Region (`--region`); `None` means `AWS_REGION`, then the platform's region.
    pub region: Option<String>,
    /// One endpoint for every service (`--endpoint-url`), e.g. a local emulator.
    pub endpoint_url: Option<String>,
    /// Fixed credentials instead of the standard chain, for tests against an emulator.
    pub credentials: Option<Credentials>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("profile", &self.profile)
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field("credentials", &self.credentials.as_ref().map(|_| "<fixed>"))
            .finish()
    }
}

/// The SDK configuration for a platform whose `acme.yaml` names `platform_region`.
/// Builds no client and makes no call: credentials are resolved on the first request.
pub async fn load(options: &Options, platform_region: &str) -> SdkConfig {
    install_crypto_provider();
    let region = region(options.region.as_deref(), |name| std::env::var(name).ok(), platform_region);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region))
        .http_client(http_client())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
    if let Ok(app) = AppName::new("acmectl") {
        loader = loader.app_name(app);
    }
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(credentials) = &options.credentials {
        loader = loader.credentials_provider(credentials.clone());
    }
    loader.load().await
}

/// `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION` (the SDK reads both), else the
/// platform's region. Blank values count as unset.
fn region(explicit: Option<&str>, env: impl Fn(&str) -> Option<String>, platform_region: &str) -> String {
    explicit
        .map(str::to_owned)
        .into_iter()
        .chain(["AWS_REGION", "AWS_DEFAULT_REGION"].into_iter().filter_map(&env))
        .map(|r| r.trim().to_owned())
        .find(|r| !r.is_empty())
        .unwrap_or_else(|| platform_region.to_owned())
}

/// The SDK's hyper 1 client over rustls with aws-lc-rs; plain `http://` endpoints (an
/// emulator) work too.
pub fn http_client() -> SharedHttpClient {
    Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc)).build_https()
}

/// An S3 client for `sdk`. With an endpoint override (an emulator on 127.0.0.1) buckets go in
/// the path: a virtual-hosted name `bucket.127.0.0.1` resolves nowhere.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Make aws-lc-rs the process-wide rustls provider, for libraries that ask rustls for the
/// default (kube-rs). Idempotent; a provider installed earlier is kept.
pub fn install_crypto_provider() {
    // Err means a provider is installed already, which is all this wants.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_credentials() -> Credentials {
        Credentials::new("ANOTREALKEYID", "not-a-real-secret", None, None, "test")
    }

    #[test]
    fn region_comes_from_the_flag_then_the_environment_then_the_platform() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let none = env(&[]);
        assert_eq!(region(None, none, "us-east-1"), "us-east-1");
        assert_eq!(region(Some("eu-west-1"), env(&[("AWS_REGION", "ap-south-1")]), "us-east-1"), "eu-west-1");
        assert_eq!(region(None, env(&[("AWS_REGION", "ap-south-1")]), "us-east-1"), "ap-south-1");
        assert_eq!(
            region(None, env(&[("AWS_REGION", " "), ("AWS_DEFAULT_REGION", "eu-north-1")]), "us-east-1"),
            "eu-north-1"
        );
        assert_eq!(region(Some(""), none, "us-east-2"), "us-east-2");
    }

    #[tokio::test]
    async fn options_override_region_endpoint_and_credentials() {
        let options = Options {
            region: Some("eu-west-1".into()),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            credentials: Some(fake_credentials()),
            ..Default::default()
        };
        let sdk = load(&options, "us-east-1").await;
        assert_eq!(sdk.region().map(Region::as_ref), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), Some("http://127.0.0.1:1"));
        let retry = sdk.retry_config().expect("retry config");
        assert_eq!(retry.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
        assert!(sdk.credentials_provider().is_some());
        assert!(sdk.http_client().is_some(), "our aws-lc-rs client, not a default one");
    }

    #[test]
    fn debug_never_shows_credentials() {
        let options = Options { credentials: Some(fake_credentials()), ..Default::default() };
        let text = format!("{options:?}");
        assert!(text.contains("<fixed>"));
        assert!(!text.contains("ANOTREAL"), "{text}");
    }
}
