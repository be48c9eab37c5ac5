//! The TLS side of a probe: roots, and a verifier that records rustls' WebPKI verdict on the
//! server's certificate before it lets the handshake go on or fail.

use crate::der::Leaf;
use crate::{Certificate, Failure, Trust};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_rustls::TlsConnector;

/// Everything a probe's connections share: the provider, the verifier over the chosen roots,
/// the server name.
pub(crate) struct Tls {
    provider: Arc<CryptoProvider>,
    webpki: Arc<WebPkiServerVerifier>,
    /// "the system trusts" or "in the given CA file", for the reason of an unknown issuer.
    roots: &'static str,
    pub server_name: ServerName<'static>,
}

impl Tls {
    pub async fn new(trust: &Trust, host: &str) -> Result<Tls, Failure> {
        let server_name = ServerName::try_from(host.to_owned()).map_err(|_| Failure::HostName(host.to_owned()))?;
        let (roots, described) = match trust {
            Trust::SystemRoots => (system_roots().await?, "the system trusts"),
            Trust::Pem(pem) => (pem_roots(pem)?, "in the given CA file"),
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Failure::Roots(format!("the roots cannot verify certificates: {e}")))?;
        Ok(Tls { provider, webpki, roots: described, server_name })
    }

    /// A connector for one connection, and where its verdict on the certificate lands
    /// ([`Certificate::Unknown`] until the server presents one).
    pub fn connector(&self) -> Result<(TlsConnector, Arc<Mutex<Certificate>>), Failure> {
        let verdict = Arc::new(Mutex::new(Certificate::Unknown));
        let verifier = Recording { webpki: self.webpki.clone(), roots: self.roots, verdict: verdict.clone() };
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Failure::Roots(format!("rustls has no protocol version: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok((TlsConnector::from(Arc::new(config)), verdict))
    }

    /// Random bytes from the provider (aws-lc-rs), for the WebSocket key and mask.
    pub fn random<const N: usize>(&self) -> Result<[u8; N], Failure> {
        let mut bytes = [0; N];
        self.provider.secure_random.fill(&mut bytes).map_err(|_| Failure::Random)?;
        Ok(bytes)
    }
}

async fn system_roots() -> Result<RootCertStore, Failure> {
    let found = tokio::task::spawn_blocking(rustls_native_certs::load_native_certs)
        .await
        .map_err(|e| Failure::Roots(format!("loading the system's root certificates failed: {e}")))?;
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
        return Err(Failure::Roots(format!(
            "found no usable system root certificates ({}); give a CA file instead",
            if errors.is_empty() { "none installed".to_owned() } else { errors.join("; ") }
        )));
    }
    Ok(roots)
}

fn pem_roots(pem: &[u8]) -> Result<RootCertStore, Failure> {
    let mut roots = RootCertStore::empty();
    for (index, certificate) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let certificate =
            certificate.map_err(|e| Failure::Roots(format!("the CA file is not PEM certificates: {e}")))?;
        roots
            .add(certificate)
            .map_err(|e| Failure::Roots(format!("certificate #{} of the CA file cannot be a root: {e}", index + 1)))?;
    }
    if roots.is_empty() {
        return Err(Failure::Roots("the CA file holds no PEM certificate (BEGIN CERTIFICATE)".to_owned()));
    }
    Ok(roots)
}

/// rustls' WebPKI verifier, with its verdict kept for the outcome.
#[derive(Debug)]
struct Recording {
    webpki: Arc<WebPkiServerVerifier>,
    roots: &'static str,
    verdict: Arc<Mutex<Certificate>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        let verdict = verdict(result.as_ref().err(), Leaf::parse(end_entity), self.roots);
        *self.verdict.lock().unwrap_or_else(PoisonError::into_inner) = verdict;
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The outcome's word on a certificate WebPKI accepted (`error` None) or refused.
fn verdict(error: Option<&rustls::Error>, leaf: Option<Leaf>, roots: &str) -> Certificate {
    let untrusted = |reason: &str| Certificate::Untrusted { reason: reason.to_owned() };
    let Some(error) = error else {
        return match leaf {
            Some(leaf) => Certificate::Valid { not_after: leaf.not_after },
            None => untrusted("its validity period cannot be read"),
        };
    };
    let rustls::Error::InvalidCertificate(error) = error else {
        return untrusted(&error.to_string());
    };
    match error {
        CertificateError::ExpiredContext { not_after, .. } => {
            Certificate::Expired { not_after: system_time(*not_after) }
        }
        CertificateError::NotValidYetContext { not_before, .. } => {
            Certificate::NotYetValid { not_before: system_time(*not_before) }
        }
        CertificateError::Expired => Certificate::Expired { not_after: leaf.map_or(UNIX_EPOCH, |l| l.not_after) },
        CertificateError::NotValidYet => {
            Certificate::NotYetValid { not_before: leaf.map_or(UNIX_EPOCH, |l| l.not_before) }
        }
        CertificateError::NotValidForNameContext { presented, .. } => Certificate::NameMismatch {
            presented: leaf.map(|l| l.names).filter(|names| !names.is_empty()).unwrap_or_else(|| presented.clone()),
        },
        CertificateError::NotValidForName => {
            Certificate::NameMismatch { presented: leaf.map(|l| l.names).unwrap_or_default() }
        }
        CertificateError::UnknownIssuer => untrusted(&format!("it is not issued by a certificate authority {roots}")),
        CertificateError::BadSignature => untrusted("its signature does not verify"),
        CertificateError::Revoked => untrusted("it is revoked"),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            untrusted("it is not meant for TLS servers (extended key usage)")
        }
        other => untrusted(&other.to_string()),
    }
}

fn system_time(time: UnixTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(time.as_secs())
}
