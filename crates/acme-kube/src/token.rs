//! The bearer token EKS accepts, made as `aws eks get-token` makes it: a presigned STS
//! `GetCallerIdentity` URL whose signature covers the header `x-k8s-aws-id: <cluster>`,
//! base64url-encoded without padding behind `k8s-aws-v1.`. EKS calls STS with that URL and
//! maps the identity it learns to Kubernetes users through access entries.

use crate::Error;
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_types::SdkConfig;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::time::{Duration, SystemTime};

/// Prefix of every EKS token.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// Lifetime of the presigned URL, as `aws eks get-token` sets it. EKS accepts a token for
/// 15 minutes from its signing time whatever this says.
pub const PRESIGN_EXPIRY: Duration = Duration::from_secs(60);
/// When `aws eks get-token` says its token expires: 14 minutes after signing.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// An EKS bearer token and when to stop using it.
#[derive(Clone)]
pub struct EksToken {
    pub token: String,
    /// [`TOKEN_LIFETIME`] after signing; refresh before.
    pub expires: SystemTime,
}

impl std::fmt::Debug for EksToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EksToken").field("token", &"<redacted>").field("expires", &self.expires).finish()
    }
}

/// The regional STS endpoint, as AWS CLI v2 uses it; the token is checked by EKS against real
/// STS, so an `--endpoint-url` for an emulator does not apply here.
pub fn sts_host(region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("sts.{region}.{suffix}")
}

/// The token for `cluster` (its name, not its ARN), signed with `credentials` for `region` at
/// `now`. Pure: the same inputs give the same token.
pub fn presign(cluster: &str, region: &str, credentials: &Credentials, now: SystemTime) -> Result<EksToken, Error> {
    let fail = |message: String| Error::Token { cluster: cluster.to_owned(), message };
    let url = format!("https://{}/?Action=GetCallerIdentity&Version=2011-06-15", sts_host(region));
    let identity: Identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(PRESIGN_EXPIRY);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| fail(crate::error::chain(&e)))?
        .into();
    let headers = [(CLUSTER_ID_HEADER, cluster)];
    let signable = SignableRequest::new("GET", &url, headers.into_iter(), SignableBody::Bytes(&[]))
        .map_err(|e| fail(crate::error::chain(&e)))?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| fail(crate::error::chain(&e)))?.into_parts();
    let mut request = http::Request::get(&url).body(()).map_err(|e| fail(e.to_string()))?;
    instructions.apply_to_request_http1x(&mut request);
    Ok(EksToken {
        token: format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(request.uri().to_string())),
        expires: now + TOKEN_LIFETIME,
    })
}

/// The token for `cluster` with the credentials, region and clock of `sdk` (the standard
/// credential chain, `AWS_PROFILE`, ...).
pub async fn token(sdk: &SdkConfig, cluster: &str) -> Result<EksToken, Error> {
    let fail = |message: String| Error::Token { cluster: cluster.to_owned(), message };
    let provider =
        sdk.credentials_provider().ok_or_else(|| fail("the AWS configuration has no credentials provider".into()))?;
    let credentials = provider.provide_credentials().await.map_err(|e| fail(crate::error::chain(&e)))?;
    let region = sdk.region().ok_or_else(|| fail("no AWS region is configured".into()))?;
    let now = sdk.time_source().map_or_else(SystemTime::now, |clock| clock.now());
    presign(cluster, region.as_ref(), &credentials, now)
}
