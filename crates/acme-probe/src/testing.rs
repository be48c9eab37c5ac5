//! HTTPS test servers for probes (feature `testing`): one per test, on 127.0.0.1, with a
//! certificate made at start by a CA of its own (rcgen), stopped when dropped.
//!
//! A server answers every connection after its [`Behaviour`], which a test may change while it
//! runs ([`Server::set`]) to make a healthy server fail midway, and records every request head
//! ([`Server::requests`]). Its [`ServerCertificate`] is valid, expired, not yet valid, or issued
//! by a CA that [`Server::ca_pem`] does not give; a probe of another host than the one it is
//! for sees a name mismatch.

use crate::http::{self, Head};
use crate::{Connect, Probe, Trust, websocket};
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

const HOUR: Duration = Duration::from_secs(3_600);
const DAY: Duration = Duration::from_secs(86_400);

/// How a test server answers each request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// This status with an empty body, to an upgrade request too (which refuses it).
    Status(u16),
    /// 200 after this long, for timeouts.
    Slow(Duration),
    /// A proper WebSocket upgrade (101, the right `Sec-WebSocket-Accept`) to an upgrade
    /// request, 200 to any other.
    WebSocket,
    /// 101 to an upgrade request with a `Sec-WebSocket-Accept` made for another key.
    WrongAccept,
    /// These bytes instead of an HTTP answer, then the end of the connection: garbage, an
    /// early close, a huge head.
    Raw(Vec<u8>),
}

/// The certificate a test server presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerCertificate {
    /// For this host (a DNS name or an IP address), from an hour ago for 90 days, issued by the
    /// CA of [`Server::ca_pem`].
    Valid(String),
    /// For this host, ended a day ago.
    Expired(String),
    /// For this host, valid from 30 days on.
    NotYetValid(String),
    /// Like `Valid`, but issued by another CA than the one [`Server::ca_pem`] gives.
    UntrustedCa(String),
}

/// A request head as the server read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET /healthz HTTP/1.1`
    pub line: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first field called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A running test server; dropping it stops it and its connections.
pub struct Server {
    addr: SocketAddr,
    ca_pem: String,
    not_before: SystemTime,
    not_after: SystemTime,
    state: Arc<State>,
    task: JoinHandle<()>,
}

struct State {
    behaviour: Mutex<Behaviour>,
    requests: Mutex<Vec<Request>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Binds 127.0.0.1 on a free port and serves until dropped. Panics when it cannot (no
    /// port, a certificate rcgen cannot make): a test cannot go on without it.
    pub async fn start(behaviour: Behaviour, certificate: ServerCertificate) -> Server {
        let now = whole_seconds(SystemTime::now());
        let (host, not_before, not_after) = match &certificate {
            ServerCertificate::Valid(host) | ServerCertificate::UntrustedCa(host) => (host, now - HOUR, now + 90 * DAY),
            ServerCertificate::Expired(host) => (host, now - 90 * DAY, now - DAY),
            ServerCertificate::NotYetValid(host) => (host, now + 30 * DAY, now + 120 * DAY),
        };
        let trusted = certificate_authority("acme-probe test CA", now);
        let other = matches!(certificate, ServerCertificate::UntrustedCa(_))
            .then(|| certificate_authority("acme-probe untrusted CA", now));
        let (leaf, key) = leaf(host, not_before, not_after, other.as_ref().unwrap_or(&trusted));
        let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(vec![leaf], key))
            .expect("a TLS server configuration");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port on 127.0.0.1");
        let addr = listener.local_addr().expect("the bound address");
        let state = Arc::new(State { behaviour: Mutex::new(behaviour), requests: Mutex::new(Vec::new()) });
        let task = tokio::spawn(accept(listener, acceptor, state.clone()));
        Server { addr, ca_pem: pem(trusted.der()), not_before, not_after, state, task }
    }

    /// Where the server listens, for [`Connect::Address`].
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The PEM certificate of the test CA, for [`Trust::Pem`].
    pub fn ca_pem(&self) -> Vec<u8> {
        self.ca_pem.clone().into_bytes()
    }

    /// The notBefore of the server's certificate (whole seconds, as the certificate holds it).
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// The notAfter of the server's certificate (whole seconds).
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// A probe of `host` connecting to this server and trusting its test CA, with a 5 s timeout.
    pub fn probe(&self, host: &str) -> Probe {
        Probe { trust: Trust::Pem(self.ca_pem()), ..Probe::new(host, Connect::Address(self.addr)) }
    }

    /// Answers from now on after `behaviour`.
    pub fn set(&self, behaviour: Behaviour) {
        *lock(&self.state.behaviour) = behaviour;
    }

    /// Every request head read so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state.requests).clone()
    }
}

/// A certificate in PEM (RFC 7468): base64 lines of 64 characters between the labels.
fn pem(der: &[u8]) -> String {
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        base64.as_bytes().chunks(64).map(|line| std::str::from_utf8(line).unwrap_or_default()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

fn whole_seconds(time: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
}

/// Sets the validity of `params` (times after 1970).
fn set_validity(params: &mut CertificateParams, not_before: SystemTime, not_after: SystemTime) {
    let since_1970 = |time: SystemTime| time.duration_since(UNIX_EPOCH).unwrap_or_default();
    params.not_before = rcgen::date_time_ymd(1970, 1, 1) + since_1970(not_before);
    params.not_after = rcgen::date_time_ymd(1970, 1, 1) + since_1970(not_after);
}

fn certificate_authority(name: &str, now: SystemTime) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    set_validity(&mut params, now - 365 * DAY, now + 365 * DAY);
    let key = KeyPair::generate().expect("a CA key");
    CertifiedIssuer::self_signed(params, key).expect("a CA certificate")
}

fn leaf(
    host: &str,
    not_before: SystemTime,
    not_after: SystemTime,
    issuer: &CertifiedIssuer<'static, KeyPair>,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut params = CertificateParams::new(vec![host.to_owned()]).expect("a host rcgen takes");
    params.distinguished_name.push(DnType::CommonName, host);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    set_validity(&mut params, not_before, not_after);
    let key = KeyPair::generate().expect("a server key");
    let certificate = params.signed_by(&key, issuer).expect("a server certificate");
    (certificate.der().clone(), PrivatePkcs8KeyDer::from(key.serialize_der()).into())
}

async fn accept(listener: TcpListener, acceptor: TlsAcceptor, state: Arc<State>) {
    // Dropped with the task when the server is: its connections end with it.
    let mut connections = JoinSet::new();
    loop {
        if let Ok((tcp, _)) = listener.accept().await {
            connections.spawn(serve(acceptor.clone(), tcp, state.clone()));
        }
        while connections.try_join_next().is_some() {}
    }
}

async fn serve(acceptor: TlsAcceptor, tcp: TcpStream, state: Arc<State>) {
    // A client that refuses the certificate ends here.
    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
    let Ok(head) = http::read_head(&mut tls, b"").await else { return };
    let behaviour = lock(&state.behaviour).clone();
    let answer = answer(&head, behaviour).await;
    lock(&state.requests).push(Request { line: head.start_line, headers: head.headers });
    let _ = tls.write_all(&answer).await;
    let _ = tls.shutdown().await;
}

async fn answer(request: &Head, behaviour: Behaviour) -> Vec<u8> {
    let ok = || response(200, &[("Content-Length", "0"), ("Connection", "close")]);
    let key = request.header("Sec-WebSocket-Key").filter(|_| request.lists("Upgrade", "websocket"));
    let switching = |key: &str| {
        let accept = websocket::accept(key);
        response(101, &[("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", &accept)])
    };
    match behaviour {
        Behaviour::Status(status) => response(status, &[("Content-Length", "0"), ("Connection", "close")]),
        Behaviour::Slow(delay) => {
            tokio::time::sleep(delay).await;
            ok()
        }
        Behaviour::WebSocket => key.map_or_else(ok, switching),
        Behaviour::WrongAccept => key.map_or_else(ok, |key| switching(&format!("{key}, not the client's"))),
        Behaviour::Raw(bytes) => bytes,
    }
}

fn response(status: u16, fields: &[(&str, &str)]) -> Vec<u8> {
    let reason = match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in fields {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}
