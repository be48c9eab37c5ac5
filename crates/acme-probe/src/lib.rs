//! Live probes for acmectl's traffic migration: one HTTPS request to a public host, judged by
//! its status code, its latency, its TLS certificate and, for WebSocket services, an upgrade.
//!
//! A migration step moves traffic to the new load balancer only when it answers as the old
//! infrastructure did, and [`probe`] is how the gate finds out. It can connect to an address
//! DNS does not give for the host yet (the new load balancer before the record moves) while
//! sending the host as TLS server name and `Host` header, and trust a given CA instead of the
//! system's roots.
//!
//! TLS is rustls on aws-lc-rs, the workspace's one crypto backend. rustls' WebPKI verifier
//! checks the certificate and its verdict is kept ([`Certificate`]), so an expired certificate
//! is reported as expired; no request goes over a connection whose certificate is not valid.
//! HTTP is one hand-written HTTP/1.1 request per connection; the WebSocket upgrade (RFC 6455)
//! runs on a second connection at the same time. Nothing a server sends makes it panic.
//!
//! Tested against HTTPS servers on 127.0.0.1 whose certificates are made at test time
//! (`tests/probe.rs`); the feature `testing` lends those servers (`testing::Server`) to the
//! tests of other crates.

mod der;
mod exchange;
mod http;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;
mod websocket;

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::time::{Duration, SystemTime};

/// What to probe: the host a client would ask for, and where its connection goes instead of
/// where DNS points, so a probe can reach the new load balancer before traffic moves.
#[derive(Clone, Debug)]
pub struct Probe {
    /// TLS server name (SNI, and the name the certificate must hold) and `Host` header.
    pub host: String,
    /// Where the TCP connection goes.
    pub connect: Connect,
    /// The request target, e.g. `/healthz`.
    pub path: String,
    /// The statuses that count as healthy; the probe reports any status, [`Outcome::problems`]
    /// judges it against these.
    pub expect_status: RangeInclusive<u16>,
    /// Bounds the whole probe: connect, TLS handshake and response head (the WebSocket
    /// connection runs alongside, within the same time).
    pub timeout: Duration,
    /// Also try a WebSocket upgrade (RFC 6455) on the same host and path.
    pub websocket: bool,
    /// Extra request headers, e.g. `("X-Acmectl-Probe", "api")`, so a service can tell probes
    /// apart; the probe's own (`Host`, `Connection`, `Upgrade`, ...) are refused.
    pub headers: Vec<(String, String)>,
    /// Which certificate authorities to trust.
    pub trust: Trust,
}

impl Probe {
    /// A GET of `/` on `host` through `connect`, healthy on 200 to 399 within 5 s, trusting the
    /// system's roots: the usual probe, with fields to change.
    pub fn new(host: impl Into<String>, connect: Connect) -> Probe {
        Probe {
            host: host.into(),
            connect,
            path: "/".to_owned(),
            expect_status: 200..=399,
            timeout: Duration::from_secs(5),
            websocket: false,
            headers: Vec::new(),
            trust: Trust::SystemRoots,
        }
    }
}

/// Where a probe's TCP connection goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connect {
    /// This address, whatever DNS says of the host (a load balancer's address, a test server).
    Address(SocketAddr),
    /// A name resolved by the system (tokio's `lookup_host`), e.g. the load balancer's own DNS
    /// name; its addresses are tried in order.
    Name { host: String, port: u16 },
}

impl fmt::Display for Connect {
    /// `10.0.1.5:443` or `lb.example.com:443`, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Connect::Address(addr) => write!(f, "{addr}"),
            Connect::Name { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// Which certificate authorities a probe trusts.
#[derive(Clone, PartialEq, Eq)]
pub enum Trust {
    /// The system's roots (rustls-native-certs), as a browser would.
    SystemRoots,
    /// The PEM certificates of a CA bundle file (`--ca FILE`): a private CA, or a test CA.
    Pem(Vec<u8>),
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::SystemRoots => f.write_str("SystemRoots"),
            Trust::Pem(pem) => write!(f, "Pem({} bytes)", pem.len()),
        }
    }
}

/// What a probe saw. It reports rather than judges: the caller (the gate) decides what is
/// healthy, with [`Outcome::problems`] or on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The response's status code; None when no whole response head arrived.
    pub status: Option<u16>,
    /// From the start of the connection to the complete status line (or to the failure).
    pub latency: Duration,
    /// rustls' verdict on the server's certificate.
    pub certificate: Certificate,
    /// Some when [`Probe::websocket`]: how the upgrade on a second connection went.
    pub websocket: Option<WebSocket>,
    /// Why there is no status: connect, TLS, certificate, I/O or timeout failure, as a sentence
    /// with the cause.
    pub error: Option<String>,
}

/// rustls' WebPKI verdict on the server's certificate, kept rather than only failing the
/// handshake, so the gate can say what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certificate {
    /// The chain is trusted, the name matches, and it is within its validity; until when.
    Valid { not_after: SystemTime },
    /// A certificate of the chain is past its notAfter.
    Expired { not_after: SystemTime },
    /// A certificate of the chain is before its notBefore (a clock, or an early rollout).
    NotYetValid { not_before: SystemTime },
    /// The certificate is not for the probe's host; the names (subjectAltName) it holds.
    NameMismatch { presented: Vec<String> },
    /// The chain does not lead to a trusted root, or is unusable for another reason.
    Untrusted { reason: String },
    /// No certificate was checked: the connection or the handshake failed before.
    Unknown,
}

impl fmt::Display for Certificate {
    /// Reads after "the certificate of HOST ": "expired on 2024-05-01 00:00:00 UTC".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Certificate::Valid { not_after } => write!(f, "is valid until {}", der::utc(*not_after)),
            Certificate::Expired { not_after } => write!(f, "expired on {}", der::utc(*not_after)),
            Certificate::NotYetValid { not_before } => write!(f, "is not valid before {}", der::utc(*not_before)),
            Certificate::NameMismatch { presented } if presented.is_empty() => f.write_str("names no host"),
            Certificate::NameMismatch { presented } => write!(f, "is for {} only", presented.join(", ")),
            Certificate::Untrusted { reason } => write!(f, "is not trusted: {reason}"),
            Certificate::Unknown => f.write_str("was not checked"),
        }
    }
}

/// How a WebSocket upgrade (RFC 6455 opening handshake) went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebSocket {
    /// `101 Switching Protocols` with the right `Sec-WebSocket-Accept`.
    Upgraded,
    /// Anything else: the status when an HTTP answer came (None when the connection failed),
    /// and why it is not an upgrade.
    Refused { status: Option<u16>, reason: String },
}

impl Outcome {
    /// What keeps this outcome from passing `probe`'s gate, as sentences; empty when the status
    /// is expected, the certificate valid and the WebSocket, if asked for, upgraded.
    pub fn problems(&self, probe: &Probe) -> Vec<String> {
        let mut problems = Vec::new();
        match (&self.error, self.status) {
            (Some(error), _) => problems.push(error.clone()),
            (None, Some(status)) if !probe.expect_status.contains(&status) => {
                let (low, high) = (probe.expect_status.start(), probe.expect_status.end());
                problems.push(format!("{} answered {status}, outside {low}..={high}", probe.host));
            }
            (None, _) if !matches!(self.certificate, Certificate::Valid { .. }) => {
                problems.push(format!("the certificate of {} {}", probe.host, self.certificate));
            }
            (None, _) => {}
        }
        match &self.websocket {
            Some(WebSocket::Refused { reason, .. }) if self.error.as_ref() != Some(reason) => {
                problems.push(format!("the WebSocket upgrade failed: {reason}"));
            }
            None if probe.websocket => problems.push("the WebSocket upgrade was not tried".to_owned()),
            _ => {}
        }
        problems
    }
}

/// Sends `p` and reports what came back; never panics, whatever the server does. With
/// [`Probe::websocket`] the upgrade runs on a second connection at the same time.
pub async fn probe(p: &Probe) -> Outcome {
    let prepared = match exchange::Prepared::new(p).await {
        Ok(prepared) => prepared,
        Err(failure) => {
            let error = failure.to_string();
            let websocket = p.websocket.then(|| WebSocket::Refused { status: None, reason: error.clone() });
            return Outcome {
                status: None,
                latency: Duration::ZERO,
                certificate: Certificate::Unknown,
                websocket,
                error: Some(error),
            };
        }
    };
    prepared.run(p).await
}

/// Why a probe got no answer. The messages are the outcome's `error`, so they name the address
/// and say what to look at.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    #[error("the probe is invalid: {0}")]
    Request(String),
    #[error("{0:?} is not a DNS name or an IP address, so it cannot be the TLS server name")]
    HostName(String),
    #[error("no roots to trust: {0}")]
    Roots(String),
    #[error("the system's secure random generator failed")]
    Random,
    #[error("no answer within {timeout:?}: {stage}")]
    Timeout { timeout: Duration, stage: String },
    #[error("could not resolve {name}: {source}")]
    Resolve { name: String, source: std::io::Error },
    #[error("{name} resolves to no address")]
    NoAddress { name: String },
    #[error("could not connect to {addr}: {source}")]
    Connect { addr: SocketAddr, source: std::io::Error },
    #[error("the TLS handshake with {addr} failed: {source}")]
    Handshake { addr: SocketAddr, source: std::io::Error },
    #[error("sent no request: the certificate of {host} {certificate}")]
    Certificate { host: String, certificate: Certificate },
    #[error("sending the request to {addr} failed: {source}")]
    Send { addr: SocketAddr, source: std::io::Error },
    #[error("reading the answer of {addr} failed: {source}")]
    Receive { addr: SocketAddr, source: std::io::Error },
    #[error("{addr} closed the connection without answering")]
    Silent { addr: SocketAddr },
    #[error("{addr} closed the connection after {received} bytes, before the end of the response head")]
    Cut { addr: SocketAddr, received: usize },
    #[error("the answer of {addr} is not HTTP/1.1: it begins with {start:?}")]
    NotHttp { addr: SocketAddr, start: String },
    #[error("the response head of {addr} is larger than {} KiB", http::HEAD_LIMIT / 1024)]
    HeadTooLarge { addr: SocketAddr },
    #[error("the response head of {addr} has a line that is no header field: {line:?}")]
    Malformed { addr: SocketAddr, line: String },
}
