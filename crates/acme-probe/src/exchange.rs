//! One probe's connections: TCP to the probe's address, TLS for its host, one request head
//! out and one response head in, all within the probe's timeout.

use crate::http::{self, Head, HeadError};
use crate::tls::Tls;
use crate::{Certificate, Connect, Failure, Outcome, Probe, WebSocket, websocket};
use std::fmt;
use std::net::SocketAddr;
use std::sync::PoisonError;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// What a probe needs before it connects: its TLS settings and its request heads.
pub(crate) struct Prepared {
    tls: Tls,
    get: Vec<u8>,
    upgrade: Option<Upgrade>,
}

/// The WebSocket upgrade request, with its key to check the answer against.
struct Upgrade {
    key: String,
    request: Vec<u8>,
    close: [u8; 8],
}

impl Prepared {
    pub async fn new(probe: &Probe) -> Result<Prepared, Failure> {
        let get = http::request(probe, &[("Accept", "*/*"), ("Connection", "close")])?;
        let tls = Tls::new(&probe.trust, &probe.host).await?;
        let upgrade = match probe.websocket {
            false => None,
            true => {
                let key = websocket::key(tls.random()?);
                let request = http::request(probe, &websocket::upgrade_fields(&key))?;
                Some(Upgrade { key, request, close: websocket::close_frame(tls.random()?) })
            }
        };
        Ok(Prepared { tls, get, upgrade })
    }

    pub async fn run(self, probe: &Probe) -> Outcome {
        let get = exchange(probe, &self.tls, &self.get, &[]);
        let (answer, websocket) = match &self.upgrade {
            None => (get.await, None),
            Some(upgrade) => {
                let (answer, upgraded) =
                    tokio::join!(get, exchange(probe, &self.tls, &upgrade.request, &upgrade.close));
                let websocket = match upgraded.answer {
                    Ok(answer) => websocket::judge(&answer.head, answer.status, &upgrade.key),
                    Err(failure) => WebSocket::Refused { status: None, reason: failure.to_string() },
                };
                (answer, Some(websocket))
            }
        };
        let (status, error) = match answer.answer {
            Ok(answer) => (Some(answer.status), None),
            Err(failure) => (None, Some(failure.to_string())),
        };
        Outcome { status, latency: answer.latency, certificate: answer.certificate, websocket, error }
    }
}

/// One connection's result.
struct Exchanged {
    certificate: Certificate,
    latency: Duration,
    answer: Result<Answer, Failure>,
}

struct Answer {
    status: u16,
    head: Head,
}

/// How far a connection got, for the message when time runs out.
enum Stage {
    Resolving(String),
    Connecting(SocketAddr),
    Handshaking(SocketAddr),
    Waiting(SocketAddr),
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Resolving(name) => write!(f, "resolving {name} did not finish"),
            Stage::Connecting(addr) => write!(f, "the TCP connection to {addr} did not open"),
            Stage::Handshaking(addr) => write!(f, "the TLS handshake with {addr} did not finish"),
            Stage::Waiting(addr) => write!(f, "{addr} took the request but sent no whole response head"),
        }
    }
}

/// Sends `request` on a new connection and reads the response head; when the server switched
/// protocols, says `goodbye` in the new one before closing.
async fn exchange(probe: &Probe, tls: &Tls, request: &[u8], goodbye: &[u8]) -> Exchanged {
    let started = Instant::now();
    let (connector, verdict) = match tls.connector() {
        Ok(connector) => connector,
        Err(failure) => {
            return Exchanged { certificate: Certificate::Unknown, latency: Duration::ZERO, answer: Err(failure) };
        }
    };
    let mut stage = match &probe.connect {
        Connect::Address(addr) => Stage::Connecting(*addr),
        name @ Connect::Name { .. } => Stage::Resolving(name.to_string()),
    };
    let connection = async {
        let (tcp, addr) = connect(&probe.connect, &mut stage).await?;
        stage = Stage::Handshaking(addr);
        let handshake = connector.connect(tls.server_name.clone(), tcp).await;
        let certificate = verdict.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut stream = match handshake {
            Ok(stream) if matches!(certificate, Certificate::Valid { .. }) => stream,
            Err(source) if matches!(certificate, Certificate::Valid { .. } | Certificate::Unknown) => {
                return Err(Failure::Handshake { addr, source });
            }
            // The verifier refused the certificate, which failed the handshake; or a handshake
            // went unchecked (a resumed session; none with a configuration per connection).
            // Either way no request goes over it.
            _ => return Err(Failure::Certificate { host: probe.host.clone(), certificate }),
        };
        stream.write_all(request).await.map_err(|source| Failure::Send { addr, source })?;
        stream.flush().await.map_err(|source| Failure::Send { addr, source })?;
        stage = Stage::Waiting(addr);
        let head = http::read_head(&mut stream, b"HTTP/").await.map_err(|e| failure(addr, e))?;
        let status = head.status().ok_or_else(|| Failure::NotHttp { addr, start: head.start_line.clone() })?;
        Ok::<_, Failure>((Answer { status, head }, stream))
    };
    let timed = tokio::time::timeout(probe.timeout, connection).await;
    let answer = match timed {
        Ok(answer) => answer,
        Err(_) => Err(Failure::Timeout { timeout: probe.timeout, stage: stage.to_string() }),
    };
    let certificate = verdict.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let latency = match &answer {
        Ok((answer, _)) => answer.head.start_line_at.duration_since(started),
        Err(_) => started.elapsed(),
    };
    let answer = match answer {
        Ok((answer, stream)) => {
            let switched = answer.status == 101;
            // Best effort, within the probe's time: the answer is already in.
            let left = probe.timeout.saturating_sub(started.elapsed());
            let _ = tokio::time::timeout(left, close(stream, if switched { goodbye } else { &[] })).await;
            Ok(answer)
        }
        Err(failure) => Err(failure),
    };
    Exchanged { certificate, latency, answer }
}

/// A TCP connection to the probe's address, or to the first address of its name that takes
/// one.
async fn connect(connect: &Connect, stage: &mut Stage) -> Result<(TcpStream, SocketAddr), Failure> {
    let addrs: Vec<SocketAddr> = match connect {
        Connect::Address(addr) => vec![*addr],
        Connect::Name { host, port } => {
            *stage = Stage::Resolving(connect.to_string());
            let found = tokio::net::lookup_host((host.as_str(), *port)).await;
            found.map_err(|source| Failure::Resolve { name: connect.to_string(), source })?.collect()
        }
    };
    let mut failure = Failure::NoAddress { name: connect.to_string() };
    for addr in addrs {
        *stage = Stage::Connecting(addr);
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                // One small request and the head back: no waiting to fill segments.
                let _ = tcp.set_nodelay(true);
                return Ok((tcp, addr));
            }
            Err(source) => failure = Failure::Connect { addr, source },
        }
    }
    Err(failure)
}

/// The outcome's words for a response head that did not come.
fn failure(addr: SocketAddr, error: HeadError) -> Failure {
    match error {
        HeadError::Io(source) => Failure::Receive { addr, source },
        HeadError::Closed { received: 0 } => Failure::Silent { addr },
        HeadError::Closed { received } => Failure::Cut { addr, received },
        HeadError::Unexpected { start } => Failure::NotHttp { addr, start },
        HeadError::TooLarge => Failure::HeadTooLarge { addr },
        HeadError::Malformed { line } => Failure::Malformed { addr, line },
    }
}

/// Writes `goodbye`, then closes the TLS session (close_notify) and the connection.
async fn close(mut stream: TlsStream<TcpStream>, goodbye: &[u8]) -> std::io::Result<()> {
    stream.write_all(goodbye).await?;
    stream.shutdown().await
}
