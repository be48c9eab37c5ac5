//! How acmectl reaches a cluster: EKS from the cluster stack's outputs with a token made from
//! the AWS credentials, or a kubeconfig as kubectl reads it.

use crate::Error;
use crate::error::chain;
use crate::token::{self, EksToken};
use acme_synth::stacks::names::outputs;
use aws_types::SdkConfig;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderName, HeaderValue};
use kube::config::{KubeConfigOptions, Kubeconfig};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A token is replaced this long before it expires, so that no request carries a token that
/// expires on its way.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(2 * 60);

/// An EKS cluster as the cluster stack describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EksCluster {
    /// `ClusterName`: what the token is bound to.
    pub name: String,
    /// `ClusterEndpoint`: the API server's HTTPS URL.
    pub endpoint: String,
    /// `ClusterCertificateAuthorityData`: base64 of the PEM CA bundle that signs the API
    /// server's certificate.
    pub certificate_authority_data: String,
}

impl EksCluster {
    /// Reads the cluster from the cluster stack's outputs.
    pub fn from_outputs(stack_outputs: &BTreeMap<String, String>) -> Result<Self, Error> {
        let get = |output: &'static str| stack_outputs.get(output).cloned().ok_or(Error::MissingOutput { output });
        Ok(EksCluster {
            name: get(outputs::CLUSTER_NAME)?,
            endpoint: get(outputs::CLUSTER_ENDPOINT)?,
            certificate_authority_data: get(outputs::CLUSTER_CERTIFICATE_AUTHORITY)?,
        })
    }

    /// The DER certificates of the CA bundle.
    pub fn root_certificates(&self) -> Result<Vec<Vec<u8>>, Error> {
        let fail = |message: String| Error::CertificateAuthority { cluster: self.name.clone(), message };
        let pem = STANDARD.decode(self.certificate_authority_data.trim()).map_err(|e| fail(e.to_string()))?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(e.to_string()))?;
        if certificates.is_empty() {
            return Err(fail("no CERTIFICATE block in it".into()));
        }
        Ok(certificates)
    }
}

/// A connection to one cluster. Cheap to clone; clones share the client and its token.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    description: String,
    auth: Auth,
    connection: tokio::sync::Mutex<Connection>,
}

enum Auth {
    /// The client authenticates itself (kubeconfig: certificates, tokens, exec plugins).
    Client,
    /// An EKS token from AWS credentials, replaced before it expires.
    Eks(Box<EksAuth>),
}

struct EksAuth {
    sdk: SdkConfig,
    cluster: EksCluster,
    /// The client configuration without its token.
    config: kube::Config,
}

struct Connection {
    client: kube::Client,
    /// When to build a new client with a new token.
    refresh_at: Option<SystemTime>,
}

impl Cluster {
    /// Connects to an EKS cluster with a token from `sdk`'s credentials (the standard chain).
    /// Makes the first token, but sends no request.
    pub async fn eks(cluster: EksCluster, sdk: &SdkConfig) -> Result<Self, Error> {
        let endpoint = cluster.endpoint.parse().map_err(|e: http::uri::InvalidUri| Error::Endpoint {
            cluster: cluster.name.clone(),
            endpoint: cluster.endpoint.clone(),
            message: e.to_string(),
        })?;
        let mut config = kube::Config::new(endpoint);
        config.root_cert = Some(cluster.root_certificates()?);
        let token = token::token(sdk, &cluster.name).await?;
        let connection = eks_connection(&config, &cluster, token)?;
        Ok(Cluster::new(
            format!("EKS cluster {}", cluster.name),
            Auth::Eks(Box::new(EksAuth { sdk: sdk.clone(), cluster, config })),
            connection,
        ))
    }

    /// Connects as kubectl would: `path`, else `KUBECONFIG` (a list of files, merged), else
    /// `~/.kube/config`; `context`, else the current context.
    pub async fn kubeconfig(path: Option<&Path>, context: Option<&str>) -> Result<Self, Error> {
        let options = KubeConfigOptions { context: context.map(str::to_owned), ..KubeConfigOptions::default() };
        let fail = |e: kube::config::KubeconfigError| Error::Kubeconfig { message: chain(&e) };
        let config = match path {
            Some(path) => {
                let file = Kubeconfig::read_from(path)
                    .map_err(|e| Error::Kubeconfig { message: format!("{}: {}", path.display(), chain(&e)) })?;
                kube::Config::from_custom_kubeconfig(file, &options).await.map_err(fail)?
            }
            None => kube::Config::from_kubeconfig(&options).await.map_err(fail)?,
        };
        let description = match context {
            Some(context) => format!("kubeconfig context {context} ({})", config.cluster_url),
            None => format!("kubeconfig's current context ({})", config.cluster_url),
        };
        let client = client(config)?;
        Ok(Cluster::new(description, Auth::Client, Connection { client, refresh_at: None }))
    }

    /// Wraps a client built elsewhere (in-cluster configuration, tests).
    pub fn from_client(client: kube::Client, description: impl Into<String>) -> Self {
        Cluster::new(description.into(), Auth::Client, Connection { client, refresh_at: None })
    }

    fn new(description: String, auth: Auth, connection: Connection) -> Self {
        Cluster { inner: Arc::new(Inner { description, auth, connection: tokio::sync::Mutex::new(connection) }) }
    }

    /// Which cluster, for messages: `EKS cluster acme`.
    pub fn description(&self) -> &str {
        &self.inner.description
    }

    /// A client whose token is good for at least [`TOKEN_REFRESH_MARGIN`]. Long operations
    /// (rollout waits) ask for it on every request, so they outlive any one token.
    pub async fn client(&self) -> Result<kube::Client, Error> {
        let mut connection = self.inner.connection.lock().await;
        if let Auth::Eks(eks) = &self.inner.auth {
            let EksAuth { sdk, cluster, config } = eks.as_ref();
            let now = sdk.time_source().map_or_else(SystemTime::now, |clock| clock.now());
            if connection.refresh_at.is_some_and(|at| now >= at) {
                let token = token::token(sdk, &cluster.name).await?;
                *connection = eks_connection(config, cluster, token)?;
            }
        }
        Ok(connection.client.clone())
    }
}

fn eks_connection(config: &kube::Config, cluster: &EksCluster, token: EksToken) -> Result<Connection, Error> {
    let mut config = config.clone();
    let mut bearer = HeaderValue::from_str(&format!("Bearer {}", token.token))
        .map_err(|e| Error::Token { cluster: cluster.name.clone(), message: e.to_string() })?;
    bearer.set_sensitive(true);
    config.headers.push((HeaderName::from_static("authorization"), bearer));
    let refresh_at = token.expires.checked_sub(TOKEN_REFRESH_MARGIN).unwrap_or(token.expires);
    Ok(Connection { client: client(config)?, refresh_at: Some(refresh_at) })
}

fn client(config: kube::Config) -> Result<kube::Client, Error> {
    kube::Client::try_from(config).map_err(|e| Error::Client { message: chain(&e) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_cluster_comes_from_the_cluster_stack_outputs() {
        let all = outputs(&[
            ("ClusterName", "acme"),
            ("ClusterEndpoint", "https://ABC.gr7.us-east-1.eks.amazonaws.com"),
            ("ClusterCertificateAuthorityData", "LS0t"),
            ("ClusterArn", "arn:aws:eks:us-east-1:123456789012:cluster/acme"),
        ]);
        let cluster = EksCluster::from_outputs(&all).unwrap();
        assert_eq!((cluster.name.as_str(), cluster.certificate_authority_data.as_str()), ("acme", "LS0t"));

        let err = EksCluster::from_outputs(&outputs(&[("ClusterName", "acme")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the cluster stack has no output ClusterEndpoint\nhelp: deploy the cluster stack first"
        );
    }

    #[test]
    fn certificate_authority_data_must_be_base64_pem() {
        let cluster = |data: &str| EksCluster {
            name: "acme".into(),
            endpoint: String::new(),
            certificate_authority_data: data.into(),
        };
        let pem = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        assert_eq!(cluster(&STANDARD.encode(pem)).root_certificates().unwrap(), vec![vec![1, 2, 3]]);
        let err = cluster("not base64!").root_certificates().unwrap_err();
        assert!(err.to_string().starts_with("cluster acme: the certificate authority data is not base64"), "{err}");
        let err = cluster(&STANDARD.encode("hello")).root_certificates().unwrap_err();
        assert!(err.to_string().ends_with("no CERTIFICATE block in it"), "{err}");
    }
}
