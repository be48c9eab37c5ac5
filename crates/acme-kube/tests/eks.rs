//! The EKS token, checked against the signature process AWS documents, and the EKS
//! connection against the fake API server with a clock the test moves.

use acme_kube::testing::FakeApiServer;
use acme_kube::token::{self, PRESIGN_EXPIRY, TOKEN_LIFETIME};
use acme_kube::{Cluster, EksCluster, Error};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, error::CredentialsError, future};
use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use aws_types::SdkConfig;
use aws_types::region::Region;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2026-01-01T00:00:00Z.
const NOW: u64 = 1_767_225_600;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn credentials(session_token: Option<&str>) -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token.map(str::to_owned),
        None,
        "test",
    )
}

/// The presigned URL inside a token, and its query parameters.
fn decode(token: &str) -> (String, BTreeMap<String, String>) {
    let encoded = token.strip_prefix("k8s-aws-v1.").expect("the k8s-aws-v1. prefix");
    assert!(!encoded.contains('='), "no padding");
    let url = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).unwrap();
    let query = url.split_once('?').expect("a query").1;
    let params = query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (k.to_owned(), v.replace("%2F", "/").replace("%3B", ";").replace("%2B", "+").replace("%3D", "="))
        })
        .collect();
    (url, params)
}

#[test]
fn the_token_is_a_presigned_get_caller_identity_bound_to_the_cluster() {
    let token = token::presign("acme", "us-east-1", &credentials(None), now()).unwrap();
    assert_eq!(token.expires, now() + TOKEN_LIFETIME);
    assert_eq!(PRESIGN_EXPIRY, Duration::from_secs(60));
    let (url, params) = decode(&token.token);
    assert!(url.starts_with("https://sts.us-east-1.amazonaws.com/?"), "{url}");
    assert_eq!(params["Action"], "GetCallerIdentity");
    assert_eq!(params["Version"], "2011-06-15");
    assert_eq!(params["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(params["X-Amz-Credential"], "AKIDEXAMPLE/20260101/us-east-1/sts/aws4_request");
    assert_eq!(params["X-Amz-Date"], "20260101T000000Z");
    assert_eq!(params["X-Amz-Expires"], "60");
    assert_eq!(params["X-Amz-SignedHeaders"], "host;x-k8s-aws-id");
    assert!(!params.contains_key("X-Amz-Security-Token"));

    // The signature, computed here by the steps of AWS's Signature Version 4 documentation:
    // it covers the cluster name, so a token for one cluster is refused by another.
    let canonical_query = [
        "Action=GetCallerIdentity",
        "Version=2011-06-15",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Fsts%2Faws4_request",
        "X-Amz-Date=20260101T000000Z",
        "X-Amz-Expires=60",
        "X-Amz-SignedHeaders=host%3Bx-k8s-aws-id",
    ]
    .join("&");
    let empty_payload = hex::encode(Sha256::digest(b""));
    let canonical_request = format!(
        "GET\n/\n{canonical_query}\nhost:sts.us-east-1.amazonaws.com\nx-k8s-aws-id:acme\n\nhost;x-k8s-aws-id\n{empty_payload}"
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/us-east-1/sts/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = aws_sigv4::sign::v4::generate_signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        now(),
        "us-east-1",
        "sts",
    );
    let expected = aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes());
    assert_eq!(params["X-Amz-Signature"], expected);

    // Same inputs, same token; another cluster, another signature.
    assert_eq!(token::presign("acme", "us-east-1", &credentials(None), now()).unwrap().token, token.token);
    let other = token::presign("other", "us-east-1", &credentials(None), now()).unwrap();
    assert_ne!(decode(&other.token).1["X-Amz-Signature"], params["X-Amz-Signature"]);
}

#[test]
fn temporary_credentials_carry_their_session_token_and_china_has_its_own_sts() {
    let token = token::presign("acme", "cn-north-1", &credentials(Some("SESSION")), now()).unwrap();
    let (url, params) = decode(&token.token);
    assert!(url.starts_with("https://sts.cn-north-1.amazonaws.com.cn/?"), "{url}");
    assert_eq!(params["X-Amz-Security-Token"], "SESSION");
}

/// A clock the test moves.
#[derive(Debug, Clone)]
struct Clock(Arc<Mutex<SystemTime>>);

impl TimeSource for Clock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

impl Clock {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

fn sdk(clock: &Clock, credentials: SharedCredentialsProvider) -> SdkConfig {
    SdkConfig::builder()
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials)
        .time_source(SharedTimeSource::new(clock.clone()))
        .build()
}

/// The CA bundle of a cluster: a self-signed certificate (its key was thrown away).
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBgDCCASegAwIBAgIUdcVgsfWxYdAI/KcceM1ra97WnDkwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKa3ViZXJuZXRlczAgFw0yNjExMjUxNTU4NDZaGA8yMTI2MTEw
MTE1NTg0NlowFTETMBEGA1UEAwwKa3ViZXJuZXRlczBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABHK0Cosjfx7WvhP3Mimf/sK3w8VhVJ81AmOaUgT2ruldD5ZXd948
kg+avMEAK41wxU0/BjUfnFPODCO20VeGMHejUzBRMB0GA1UdDgQWBBQ8dUdAlG1K
BiippgrHhB7vFPY7UjAfBgNVHSMEGDAWgBQ8dUdAlG1KBiippgrHhB7vFPY7UjAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIBgv/rZ+yE0ViT+MOCm5
gZ6j1vjghaIUDVV7gDNYl0XSAiAaBfTXg411axr2Ettf3mlVVVt4sM5pcOCcpYG9
UZ9p4g==
-----END CERTIFICATE-----
";

fn eks_cluster(server: &FakeApiServer) -> EksCluster {
    let outputs = BTreeMap::from([
        ("ClusterName".to_owned(), "acme".to_owned()),
        // The fake speaks plain HTTP; a real endpoint is HTTPS, verified against the CA.
        ("ClusterEndpoint".to_owned(), server.url()),
        ("ClusterCertificateAuthorityData".to_owned(), STANDARD.encode(CA_PEM)),
    ]);
    EksCluster::from_outputs(&outputs).unwrap()
}

fn bearer_tokens(server: &FakeApiServer) -> Vec<String> {
    let mut tokens: Vec<String> = server.requests().into_iter().filter_map(|r| r.authorization).collect();
    tokens.dedup();
    tokens
}

#[tokio::test]
async fn eks_requests_carry_a_token_that_is_replaced_before_it_expires() {
    let server = FakeApiServer::start().await;
    let clock = Clock(Arc::new(Mutex::new(now())));
    let sdk = sdk(&clock, SharedCredentialsProvider::new(credentials(None)));
    let cluster = Cluster::eks(eks_cluster(&server), &sdk).await.unwrap();
    assert_eq!(cluster.description(), "EKS cluster acme");
    let namespace = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});

    cluster.plan("acme", std::slice::from_ref(&namespace)).await.unwrap();
    let first = bearer_tokens(&server);
    assert_eq!(first.len(), 1, "one token for every request: {first:?}");
    let expected = token::presign("acme", "us-east-1", &credentials(None), now()).unwrap().token;
    assert_eq!(first[0], format!("Bearer {expected}"));

    // Eleven minutes on, the token is still good for more than the margin: kept.
    clock.advance(Duration::from_secs(11 * 60));
    cluster.plan("acme", std::slice::from_ref(&namespace)).await.unwrap();
    assert_eq!(bearer_tokens(&server).len(), 1);

    // Past 12 minutes, within the refresh margin of its 14: a new token, signed now.
    clock.advance(Duration::from_secs(60 + 1));
    cluster.plan("acme", std::slice::from_ref(&namespace)).await.unwrap();
    let tokens = bearer_tokens(&server);
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let (_, params) = decode(tokens[1].strip_prefix("Bearer ").unwrap());
    assert_eq!(params["X-Amz-Date"], "20260101T001201Z");
}

#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "no credentials in the environment, profile or instance role",
        )))
    }
}

#[tokio::test]
async fn without_credentials_the_error_says_so_and_nothing_is_sent() {
    let server = FakeApiServer::start().await;
    let clock = Clock(Arc::new(Mutex::new(now())));
    let err = Cluster::eks(eks_cluster(&server), &sdk(&clock, SharedCredentialsProvider::new(NoCredentials)))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::Token { .. }), "{err}");
    let message = err.to_string();
    assert!(message.starts_with("cluster acme: cannot make an EKS token: "), "{message}");
    assert!(message.contains("no credentials in the environment, profile or instance role"), "{message}");
    assert!(server.requests().is_empty());

    let mut bad_ca = eks_cluster(&server);
    bad_ca.certificate_authority_data = "%%%".into();
    let err =
        Cluster::eks(bad_ca, &sdk(&clock, SharedCredentialsProvider::new(credentials(None)))).await.err().unwrap();
    assert!(matches!(err, Error::CertificateAuthority { .. }), "{err}");
}
