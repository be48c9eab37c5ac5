//! The HTTP/1.1 a probe speaks, by hand: one request head out, one message head in (RFC 9112).
//! The test servers read requests with the same reader.

use crate::{Failure, Probe};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The most a message head may take; a larger one is an error, not an allocation.
pub(crate) const HEAD_LIMIT: usize = 64 * 1024;

/// Headers the probe writes itself: an extra header of one of these names is refused.
const OWN_HEADERS: &[&str] =
    &["host", "connection", "upgrade", "user-agent", "sec-websocket-key", "sec-websocket-version"];

/// A message's start line and header fields, and when the start line was complete.
#[derive(Debug)]
pub(crate) struct Head {
    pub start_line: String,
    pub headers: Vec<(String, String)>,
    pub start_line_at: Instant,
}

impl Head {
    /// The first field called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether field `name` lists `token` (case-insensitive), as in `Connection: keep-alive, Upgrade`.
    pub fn lists(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The code of a response's status line (`HTTP/1.1 200 OK`).
    pub fn status(&self) -> Option<u16> {
        let mut parts = self.start_line.splitn(3, ' ');
        let version = parts.next()?;
        let code = parts.next()?;
        let valid = version.starts_with("HTTP/1.") && code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| code.parse().ok()).flatten().filter(|code| *code >= 100)
    }
}

/// Why no head was read.
#[derive(Debug)]
pub(crate) enum HeadError {
    Io(std::io::Error),
    /// The peer closed the connection after `received` bytes, before the head's end.
    Closed {
        received: usize,
    },
    /// The message does not begin as it must (`HTTP/` for a response): its first bytes.
    Unexpected {
        start: String,
    },
    TooLarge,
    Malformed {
        line: String,
    },
}

/// Reads a message head, up to the empty line, at most [`HEAD_LIMIT`] bytes. `begins` is how
/// the message must start (`HTTP/` for a response; empty for anything), so that garbage is
/// told at once rather than at the timeout. What follows the head is not read, or ignored.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(reader: &mut R, begins: &[u8]) -> Result<Head, HeadError> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0; 4096];
    let mut start_line_at = None;
    loop {
        let read = reader.read(&mut chunk).await.map_err(|e| match e.kind() {
            // A TLS peer that closes without close_notify: closed all the same.
            std::io::ErrorKind::UnexpectedEof => HeadError::Closed { received: buffer.len() },
            _ => HeadError::Io(e),
        })?;
        if read == 0 {
            return Err(HeadError::Closed { received: buffer.len() });
        }
        let searched = buffer.len().saturating_sub(3);
        buffer.extend_from_slice(&chunk[..read]);
        let common = buffer.len().min(begins.len());
        if buffer[..common] != begins[..common] {
            let start = String::from_utf8_lossy(&buffer[..buffer.len().min(40)]).into_owned();
            return Err(HeadError::Unexpected { start });
        }
        if start_line_at.is_none() && find(&buffer[searched..], b"\r\n").is_some() {
            start_line_at = Some(Instant::now());
        }
        if let Some(end) = find(&buffer[searched..], b"\r\n\r\n") {
            let head = &buffer[..searched + end];
            return parse(head, start_line_at.unwrap_or_else(Instant::now));
        }
        if buffer.len() > HEAD_LIMIT {
            return Err(HeadError::TooLarge);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn parse(head: &[u8], start_line_at: Instant) -> Result<Head, HeadError> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let start_line = lines.next().unwrap_or_default().to_owned();
    let headers = lines
        .map(|line| match line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains([' ', '\t']) => {
                Ok((name.to_owned(), value.trim().to_owned()))
            }
            _ => Err(HeadError::Malformed { line: line.chars().take(80).collect() }),
        })
        .collect::<Result<_, _>>()?;
    Ok(Head { start_line, headers, start_line_at })
}

/// The head of a GET of the probe's path on its host, with `fields` after the probe's own
/// and its extra headers. Refuses what would not be one well-formed request.
pub(crate) fn request(probe: &Probe, fields: &[(&str, &str)]) -> Result<Vec<u8>, Failure> {
    let invalid = |why: String| Err(Failure::Request(why));
    let path = &probe.path;
    if !path.starts_with('/') || path.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return invalid(format!("the path {path:?} must start with / and hold no spaces or control characters"));
    }
    for (name, value) in &probe.headers {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return invalid(format!("the header name {name:?} is not an HTTP token"));
        }
        if OWN_HEADERS.iter().any(|own| name.eq_ignore_ascii_case(own)) {
            return invalid(format!("the header {name} is the probe's own; leave it out of the extra headers"));
        }
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return invalid(format!("the value of header {name} holds a control character (a line break?)"));
        }
    }
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: acmectl-probe\r\n", probe.host);
    let extra = probe.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    for (name, value) in fields.iter().copied().chain(extra) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Connect;

    async fn head_of(bytes: &[u8]) -> Result<Head, HeadError> {
        read_head(&mut &bytes[..], b"HTTP/").await
    }

    #[tokio::test]
    async fn a_response_head() {
        let head =
            head_of(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive, Upgrade\r\n\r\nbody")
                .await
                .unwrap();
        assert_eq!(head.status(), Some(200));
        assert_eq!(head.header("content-type"), Some("text/plain"));
        assert!(head.lists("CONNECTION", "upgrade"));
        assert!(!head.lists("Connection", "close"));
    }

    #[tokio::test]
    async fn what_is_not_a_head() {
        assert!(matches!(head_of(b"").await, Err(HeadError::Closed { received: 0 })));
        assert!(matches!(head_of(b"HTTP/1.1 200 OK\r\n").await, Err(HeadError::Closed { received: 17 })));
        assert!(
            matches!(head_of(b"SSH-2.0-OpenSSH").await, Err(HeadError::Unexpected { start }) if start == "SSH-2.0-OpenSSH")
        );
        assert!(matches!(head_of(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n").await, Err(HeadError::Malformed { .. })));
        let huge = [&b"HTTP/1.1 200 OK\r\nX: "[..], &[b'a'; HEAD_LIMIT]].concat();
        assert!(matches!(head_of(&huge).await, Err(HeadError::TooLarge)));
    }

    #[tokio::test]
    async fn status_lines() {
        for (line, status) in [
            ("HTTP/1.1 404 Not Found", Some(404)),
            ("HTTP/1.0 200", Some(200)),
            ("HTTP/1.1 20 OK", None),
            ("HTTP/1.1 abc OK", None),
            ("HTTP/1.1 099 Low", None),
            ("HTTP/2 200", None),
        ] {
            let head = head_of(format!("{line}\r\n\r\n").as_bytes()).await.unwrap();
            assert_eq!(head.status(), status, "{line}");
        }
    }

    #[test]
    fn requests_carry_the_host_and_refuse_injection() {
        let mut probe = Probe::new("api.example.test", Connect::Name { host: "lb.example.test".into(), port: 443 });
        probe.path = "/healthz?full=1".into();
        probe.headers = vec![("X-Acmectl-Probe".into(), "api".into())];
        let head = String::from_utf8(request(&probe, &[("Connection", "close")]).unwrap()).unwrap();
        assert_eq!(
            head,
            "GET /healthz?full=1 HTTP/1.1\r\nHost: api.example.test\r\nUser-Agent: acmectl-probe\r\n\
             Connection: close\r\nX-Acmectl-Probe: api\r\n\r\n"
        );
        for (path, headers) in [
            ("healthz", vec![]),
            ("/a b", vec![]),
            ("/", vec![("X-A".to_owned(), "1\r\nEvil: 1".to_owned())]),
            ("/", vec![("X A".to_owned(), "1".to_owned())]),
            ("/", vec![("host".to_owned(), "other".to_owned())]),
        ] {
            probe.path = path.into();
            probe.headers = headers;
            assert!(matches!(request(&probe, &[]), Err(Failure::Request(_))), "{path} {:?}", probe.headers);
        }
    }
}
