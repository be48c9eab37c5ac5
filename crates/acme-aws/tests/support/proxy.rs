//! A small HTTP proxy on 127.0.0.1 in front of moto that injects faults AWS produces and
//! moto does not: throttling, and stacks in states moto never reaches (ROLLBACK_COMPLETE,
//! UPDATE_ROLLBACK_FAILED, ...). One request per connection (`Connection: close`); plain
//! std, no dependencies. Bounded: it serves only while the test holds it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The AWS action: `Action=` of a query body, or the operation of `X-Amz-Target`.
    pub action: String,
    pub body: String,
}

/// What to do with a request.
pub enum Verdict {
    Pass,
    /// Pass it on, and change the response body.
    Rewrite(Box<dyn FnOnce(String) -> String + Send>),
    /// Pass it on after a pause (an operation that takes a while).
    Slow(Duration),
    /// Answer without asking moto: HTTP status and an awsQuery error code.
    Error(u16, &'static str, &'static str),
}

type Rule = Box<dyn FnMut(&Seen) -> Verdict + Send>;

pub struct Proxy {
    pub endpoint: String,
    seen: Arc<Mutex<Vec<(Seen, bool)>>>,
    done: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Proxy {
    /// Start in front of `upstream` (moto's port); `rule` decides for every request.
    pub fn start(upstream: u16, rule: impl FnMut(&Seen) -> Verdict + Send + 'static) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let addr = listener.local_addr().expect("proxy address");
        let seen = Arc::new(Mutex::new(vec![]));
        let done = Arc::new(AtomicBool::new(false));
        let rule: Arc<Mutex<Rule>> = Arc::new(Mutex::new(Box::new(rule)));
        let (seen2, done2) = (Arc::clone(&seen), Arc::clone(&done));
        thread::spawn(move || {
            for stream in listener.incoming() {
                if done2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (rule, seen) = (Arc::clone(&rule), Arc::clone(&seen2));
                thread::spawn(move || {
                    let _ = serve(stream, upstream, &rule, &seen);
                });
            }
        });
        Proxy { endpoint: format!("http://{addr}"), seen, done, addr }
    }

    /// Requests so far, each with whether the proxy answered it itself.
    pub fn seen(&self) -> Vec<(Seen, bool)> {
        self.seen.lock().expect("seen").clone()
    }

    pub fn count(&self, action: &str, injected: bool) -> usize {
        self.seen().iter().filter(|(s, i)| s.action == action && *i == injected).count()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees `done`.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(client: TcpStream, upstream: u16, rule: &Mutex<Rule>, seen: &Mutex<Vec<(Seen, bool)>>) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = vec![];
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_owned());
    }
    let header = |name: &str| {
        head.iter().find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let action = header("x-amz-target")
        .and_then(|t| t.rsplit('.').next().map(str::to_owned))
        .or_else(|| body_text.split('&').find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned)))
        .unwrap_or_default();
    let request = Seen { action, body: body_text };
    let verdict = (rule.lock().expect("rule"))(&request);
    let mut client = client;
    match verdict {
        Verdict::Error(status, code, message) => {
            seen.lock().expect("seen").push((request, true));
            let body = format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
                 <RequestId>proxy</RequestId></ErrorResponse>"
            );
            write!(
                client,
                "HTTP/1.1 {status} Error\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        verdict => {
            seen.lock().expect("seen").push((request, false));
            if let Verdict::Slow(pause) = verdict {
                thread::sleep(pause);
            }
            let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
            let request_line = head.first().cloned().unwrap_or_default();
            let mut out = format!("{request_line}\r\n");
            for h in head.iter().skip(1) {
                if !h.to_ascii_lowercase().starts_with("connection:") {
                    out.push_str(h);
                    out.push_str("\r\n");
                }
            }
            out.push_str("Connection: close\r\n\r\n");
            up.write_all(out.as_bytes())?;
            up.write_all(&body)?;
            let mut response = vec![];
            up.read_to_end(&mut response)?;
            let split = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |p| p + 4);
            let (resp_head, resp_body) = response.split_at(split);
            let resp_body = String::from_utf8_lossy(resp_body).into_owned();
            let resp_body = match verdict {
                Verdict::Rewrite(f) => f(resp_body),
                _ => resp_body,
            };
            let mut head_out = String::new();
            for line in String::from_utf8_lossy(resp_head).lines() {
                let lower = line.to_ascii_lowercase();
                if line.is_empty() || lower.starts_with("content-length:") || lower.starts_with("connection:") {
                    continue;
                }
                head_out.push_str(line);
                head_out.push_str("\r\n");
            }
            head_out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", resp_body.len()));
            client.write_all(head_out.as_bytes())?;
            client.write_all(resp_body.as_bytes())?;
        }
    }
    client.flush()
}
