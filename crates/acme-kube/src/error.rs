use std::fmt::Write as _;
use std::time::Duration;

/// What can go wrong talking to a cluster. Each variant names the object or the cluster, and
/// the messages of lower layers (kube-rs, hyper, rustls, the AWS SDK) are kept whole in
/// `message` with their chain of causes: "connection refused" says more than "service error".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kubeconfig could not be read or does not name a usable context.
    #[error("kubeconfig: {message}")]
    Kubeconfig { message: String },

    /// A stack output needed to reach the cluster is missing.
    #[error("the cluster stack has no output {output}\nhelp: deploy the cluster stack first")]
    MissingOutput { output: &'static str },

    #[error("cluster {cluster}: endpoint {endpoint:?} is not a URL: {message}")]
    Endpoint { cluster: String, endpoint: String, message: String },

    #[error("cluster {cluster}: the certificate authority data is not base64-encoded PEM certificates: {message}")]
    CertificateAuthority { cluster: String, message: String },

    /// The EKS token could not be made: no credentials, or signing failed.
    #[error("cluster {cluster}: cannot make an EKS token: {message}")]
    Token { cluster: String, message: String },

    /// kube-rs could not build its client (TLS configuration, proxy).
    #[error("building the Kubernetes client: {message}")]
    Client { message: String },

    /// An object handed to plan or apply lacks `apiVersion`, `kind` or `metadata.name`.
    #[error("object #{index} cannot be applied: {message}")]
    InvalidObject { index: usize, message: String },

    /// The same object is given twice.
    #[error("{object} is given twice")]
    DuplicateObject { object: String },

    /// An object carries an ownership label with a value other than the one acmectl applies.
    #[error("{object}: label {label} is {found:?}, but acmectl owns it as {expected:?}")]
    Ownership { object: String, label: &'static str, found: String, expected: String },

    /// The cluster does not serve an object's kind: a CRD is not installed, or the API group
    /// version is not enabled. Nothing has been changed when this is returned.
    #[error("the cluster does not serve {kind} in {api_version} (needed by {object})\nhelp: {help}")]
    KindNotServed { api_version: String, kind: String, object: String, help: String },

    /// A call to the Kubernetes API failed. `code` is the HTTP status when the API answered.
    #[error("{operation} {object}: {message}")]
    Api { operation: &'static str, object: String, code: Option<u16>, message: String },

    #[error("Deployment {deployment} does not exist")]
    DeploymentNotFound { deployment: String },

    /// The Deployment controller gave up (`ProgressDeadlineExceeded`) or cannot create pods
    /// (`ReplicaFailure`).
    #[error("Deployment {deployment}: rollout failed: {reason}: {message}")]
    RolloutFailed { deployment: String, reason: String, message: String },

    #[error("Deployment {deployment}: not rolled out after {waited:?}: {state}")]
    RolloutTimedOut { deployment: String, waited: Duration, state: String },
}

impl Error {
    pub(crate) fn api(operation: &'static str, object: impl ToString, error: kube::Error) -> Self {
        let code = match &error {
            kube::Error::Api(response) => Some(response.code),
            _ => None,
        };
        Error::Api { operation, object: object.to_string(), code, message: chain(&error) }
    }

    /// The HTTP status of a failed API call.
    pub fn code(&self) -> Option<u16> {
        match self {
            Error::Api { code, .. } => *code,
            _ => None,
        }
    }
}

/// An error and its sources, `outer: inner: innermost`, each said once: kube-rs repeats its
/// source in its own message, and hyper's `client error (Connect)` only means something with
/// the I/O error under it.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            let _ = write!(text, ": {part}");
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Layer(&'static str, #[source] Option<Box<Layer>>);

    #[test]
    fn chain_says_each_cause_once() {
        let inner = Layer("connection refused", None);
        let middle = Layer("client error (Connect)", Some(Box::new(inner)));
        let outer = Layer("ServiceError: client error (Connect)", Some(Box::new(middle)));
        assert_eq!(chain(&outer), "ServiceError: client error (Connect): connection refused");
    }
}
