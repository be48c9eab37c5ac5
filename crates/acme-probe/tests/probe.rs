//! Probes against test servers on 127.0.0.1 (`acme_probe::testing`) that each test starts; no
//! other network.

use acme_probe::testing::{Behaviour, Server, ServerCertificate};
use acme_probe::{Certificate, Connect, Outcome, Probe, Trust, WebSocket, probe};
use std::time::{Duration, SystemTime};

const HOST: &str = "api.example.test";
const DAY: Duration = Duration::from_secs(86_400);

async fn valid_server(behaviour: Behaviour) -> Server {
    Server::start(behaviour, ServerCertificate::Valid(HOST.to_owned())).await
}

fn websocket_probe(server: &Server) -> Probe {
    Probe { path: "/socket".to_owned(), websocket: true, ..server.probe(HOST) }
}

/// What a probe refused before any request: no status, the certificate's word, nothing at
/// the server.
fn assert_no_request(outcome: &Outcome, server: &Server) {
    assert_eq!(outcome.status, None, "{outcome:?}");
    assert!(
        outcome.error.as_deref().is_some_and(|e| e.starts_with("sent no request: the certificate of ")),
        "{outcome:?}"
    );
    assert_eq!(server.requests(), vec![]);
}

#[tokio::test]
async fn a_healthy_host_answers_within_its_time_with_a_valid_certificate() {
    let server = valid_server(Behaviour::Status(200)).await;
    let probe_ = Probe { path: "/healthz".to_owned(), ..server.probe(HOST) };
    let outcome = probe(&probe_).await;

    assert_eq!(outcome.error, None);
    assert_eq!(outcome.status, Some(200));
    assert_eq!(outcome.certificate, Certificate::Valid { not_after: server.not_after() });
    let Certificate::Valid { not_after } = outcome.certificate else { unreachable!() };
    let left = not_after.duration_since(SystemTime::now()).unwrap();
    assert!(89 * DAY < left && left <= 90 * DAY, "{left:?}");
    assert!(outcome.latency > Duration::ZERO && outcome.latency < probe_.timeout, "{:?}", outcome.latency);
    assert_eq!(outcome.websocket, None);
    assert_eq!(outcome.problems(&probe_), Vec::<String>::new());
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].line, "GET /healthz HTTP/1.1");
}

#[tokio::test]
async fn a_500_is_reported_for_the_caller_to_judge() {
    let server = valid_server(Behaviour::Status(500)).await;
    let probe_ = server.probe(HOST);
    let outcome = probe(&probe_).await;

    assert_eq!((outcome.status, outcome.error.as_deref()), (Some(500), None));
    assert!(matches!(outcome.certificate, Certificate::Valid { .. }), "{outcome:?}");
    assert_eq!(outcome.problems(&probe_), ["api.example.test answered 500, outside 200..=399"]);
    let accepting = Probe { expect_status: 200..=599, ..probe_ };
    assert_eq!(outcome.problems(&accepting), Vec::<String>::new());
}

#[tokio::test]
async fn a_server_that_turns_unhealthy_midway_is_seen_at_the_next_probe() {
    let server = valid_server(Behaviour::Status(200)).await;
    let probe_ = server.probe(HOST);
    assert_eq!(probe(&probe_).await.status, Some(200));
    server.set(Behaviour::Status(503));
    assert_eq!(probe(&probe_).await.status, Some(503));
    server.set(Behaviour::Raw(Vec::new()));
    let outcome = probe(&probe_).await;
    assert_eq!(outcome.status, None);
    assert_eq!(outcome.error, Some(format!("{} closed the connection without answering", server.addr())));
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_no_answer() {
    let server = valid_server(Behaviour::Slow(Duration::from_secs(3))).await;
    let probe_ = Probe { timeout: Duration::from_secs(1), ..server.probe(HOST) };
    let outcome = probe(&probe_).await;

    assert_eq!(outcome.status, None);
    let expected = format!("no answer within 1s: {} took the request but sent no whole response head", server.addr());
    assert_eq!(outcome.error, Some(expected));
    assert!(outcome.latency >= Duration::from_secs(1) && outcome.latency < Duration::from_secs(2), "{outcome:?}");
    // The handshake was done: the certificate was checked.
    assert!(matches!(outcome.certificate, Certificate::Valid { .. }), "{outcome:?}");
}

#[tokio::test]
async fn an_expired_certificate_is_reported_and_no_request_sent() {
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Expired(HOST.to_owned())).await;
    let outcome = probe(&server.probe(HOST)).await;

    assert_eq!(outcome.certificate, Certificate::Expired { not_after: server.not_after() });
    assert!(server.not_after() < SystemTime::now());
    assert_no_request(&outcome, &server);
    assert!(outcome.error.as_deref().unwrap().contains(" expired on "), "{outcome:?}");
}

#[tokio::test]
async fn a_certificate_not_yet_valid_is_reported_and_no_request_sent() {
    let server = Server::start(Behaviour::Status(200), ServerCertificate::NotYetValid(HOST.to_owned())).await;
    let outcome = probe(&server.probe(HOST)).await;

    assert_eq!(outcome.certificate, Certificate::NotYetValid { not_before: server.not_before() });
    assert!(server.not_before() > SystemTime::now());
    assert_no_request(&outcome, &server);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_mismatch_with_the_names_it_holds() {
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid("other.example.test".to_owned())).await;
    let outcome = probe(&server.probe(HOST)).await;

    assert_eq!(outcome.certificate, Certificate::NameMismatch { presented: vec!["other.example.test".to_owned()] });
    assert_no_request(&outcome, &server);
    assert_eq!(
        outcome.error.as_deref(),
        Some("sent no request: the certificate of api.example.test is for other.example.test only")
    );
}

#[tokio::test]
async fn an_ip_address_host_is_checked_against_the_ip_addresses_of_the_certificate() {
    let server = Server::start(Behaviour::Status(200), ServerCertificate::Valid("127.0.0.1".to_owned())).await;
    let outcome = probe(&server.probe("127.0.0.1")).await;
    assert_eq!(
        (outcome.status, &outcome.certificate),
        (Some(200), &Certificate::Valid { not_after: server.not_after() })
    );

    let outcome = probe(&server.probe(HOST)).await;
    assert_eq!(outcome.certificate, Certificate::NameMismatch { presented: vec!["127.0.0.1".to_owned()] });
}

#[tokio::test]
async fn the_test_ca_is_not_among_the_system_roots() {
    let server = valid_server(Behaviour::Status(200)).await;
    let outcome = probe(&Probe { trust: Trust::SystemRoots, ..server.probe(HOST) }).await;

    assert_eq!(
        outcome.certificate,
        Certificate::Untrusted { reason: "it is not issued by a certificate authority the system trusts".to_owned() }
    );
    assert_no_request(&outcome, &server);
}

#[tokio::test]
async fn a_certificate_from_another_ca_than_the_given_one_is_untrusted() {
    let server = Server::start(Behaviour::Status(200), ServerCertificate::UntrustedCa(HOST.to_owned())).await;
    let outcome = probe(&server.probe(HOST)).await;

    assert_eq!(
        outcome.certificate,
        Certificate::Untrusted {
            reason: "it is not issued by a certificate authority in the given CA file".to_owned()
        }
    );
    assert_no_request(&outcome, &server);
}

#[tokio::test]
async fn a_ca_file_without_certificates_is_an_error_before_connecting() {
    let server = valid_server(Behaviour::Status(200)).await;
    let outcome = probe(&Probe { trust: Trust::Pem(b"not a certificate".to_vec()), ..server.probe(HOST) }).await;

    assert_eq!(
        outcome.error.as_deref(),
        Some("no roots to trust: the CA file holds no PEM certificate (BEGIN CERTIFICATE)")
    );
    assert_eq!((outcome.status, &outcome.certificate), (None, &Certificate::Unknown));
    assert_eq!(server.requests(), vec![]);
}

#[tokio::test]
async fn a_websocket_upgrade_that_switches_protocols_properly() {
    let server = valid_server(Behaviour::WebSocket).await;
    let outcome = probe(&websocket_probe(&server)).await;

    assert_eq!(outcome.websocket, Some(WebSocket::Upgraded), "{outcome:?}");
    assert_eq!((outcome.status, outcome.error.as_deref()), (Some(200), None));
    let requests = server.requests();
    let upgrade = requests.iter().find(|r| r.header("Upgrade").is_some()).expect("an upgrade request");
    assert_eq!(upgrade.line, "GET /socket HTTP/1.1");
    assert_eq!(upgrade.header("Host"), Some(HOST));
    assert_eq!(upgrade.header("Upgrade"), Some("websocket"));
    assert_eq!(upgrade.header("Connection"), Some("Upgrade"));
    assert_eq!(upgrade.header("Sec-WebSocket-Version"), Some("13"));
    let key = upgrade.header("Sec-WebSocket-Key").unwrap();
    assert!(key.len() == 24 && key.ends_with("=="), "16 bytes in base64: {key}");
    assert_eq!(requests.len(), 2, "{requests:?}");
}

#[tokio::test]
async fn each_websocket_key_is_new() {
    let server = valid_server(Behaviour::WebSocket).await;
    probe(&websocket_probe(&server)).await;
    probe(&websocket_probe(&server)).await;
    let keys: Vec<_> =
        server.requests().iter().filter_map(|r| r.header("Sec-WebSocket-Key").map(str::to_owned)).collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
}

#[tokio::test]
async fn a_websocket_upgrade_answered_without_switching_is_refused() {
    let server = valid_server(Behaviour::Status(200)).await;
    let probe_ = websocket_probe(&server);
    let outcome = probe(&probe_).await;
    assert_eq!(
        outcome.websocket,
        Some(WebSocket::Refused { status: Some(200), reason: "answered 200 without switching protocols".to_owned() })
    );
    assert_eq!(outcome.status, Some(200));
    assert_eq!(outcome.problems(&probe_), ["the WebSocket upgrade failed: answered 200 without switching protocols"]);

    server.set(Behaviour::Status(400));
    let outcome = probe(&probe_).await;
    assert_eq!(
        outcome.websocket,
        Some(WebSocket::Refused { status: Some(400), reason: "answered 400 without switching protocols".to_owned() })
    );
}

#[tokio::test]
async fn a_websocket_upgrade_with_the_wrong_accept_is_refused() {
    let server = valid_server(Behaviour::WrongAccept).await;
    let outcome = probe(&websocket_probe(&server)).await;

    let Some(WebSocket::Refused { status, reason }) = &outcome.websocket else { panic!("{outcome:?}") };
    assert_eq!(*status, Some(101));
    assert!(reason.starts_with("Sec-WebSocket-Accept does not match: "), "{reason}");
}

#[tokio::test]
async fn a_websocket_probe_of_a_closed_port_reports_both_failures() {
    let addr = closed_port();
    let outcome = probe(&Probe { websocket: true, ..Probe::new(HOST, Connect::Address(addr)) }).await;

    let error = outcome.error.clone().expect("an error");
    assert!(error.starts_with(&format!("could not connect to {addr}: ")), "{error}");
    assert_eq!(outcome.websocket, Some(WebSocket::Refused { status: None, reason: error }));
}

#[tokio::test]
async fn extra_headers_and_the_host_arrive_at_the_server() {
    let server = valid_server(Behaviour::Status(200)).await;
    let headers = vec![("X-Acmectl-Probe".to_owned(), "api".to_owned())];
    let outcome = probe(&Probe { headers, ..server.probe(HOST) }).await;

    assert_eq!(outcome.status, Some(200));
    let requests = server.requests();
    let [request] = requests.as_slice() else { panic!("{requests:?}") };
    assert_eq!(request.header("Host"), Some(HOST));
    assert_eq!(request.header("x-acmectl-probe"), Some("api"));
    assert_eq!(request.header("User-Agent"), Some("acmectl-probe"));
    assert_eq!(request.header("Connection"), Some("close"));
}

#[tokio::test]
async fn a_header_that_would_split_the_request_is_refused_before_connecting() {
    let server = valid_server(Behaviour::Status(200)).await;
    let headers = vec![("X-Acmectl-Probe".to_owned(), "api\r\nX-Injected: 1".to_owned())];
    let outcome = probe(&Probe { headers, ..server.probe(HOST) }).await;

    assert_eq!(
        outcome.error.as_deref(),
        Some("the probe is invalid: the value of header X-Acmectl-Probe holds a control character (a line break?)")
    );
    assert_eq!(server.requests(), vec![]);
}

/// A port on 127.0.0.1 nothing listens on: bound, then released.
fn closed_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

#[tokio::test]
async fn a_closed_port_is_a_refused_connection() {
    let addr = closed_port();
    let outcome = probe(&Probe::new(HOST, Connect::Address(addr))).await;

    assert_eq!((outcome.status, &outcome.certificate, &outcome.websocket), (None, &Certificate::Unknown, &None));
    let error = outcome.error.expect("an error");
    assert!(error.starts_with(&format!("could not connect to {addr}: ")), "{error}");
    assert!(error.to_lowercase().contains("refused"), "{error}");
}

#[tokio::test]
async fn a_name_is_resolved_and_its_addresses_tried() {
    let server = valid_server(Behaviour::Status(200)).await;
    // localhost may resolve to ::1 first, where nothing listens; 127.0.0.1 then answers.
    let connect = Connect::Name { host: "localhost".to_owned(), port: server.addr().port() };
    let outcome = probe(&Probe { connect, ..server.probe(HOST) }).await;
    assert_eq!((outcome.status, outcome.error), (Some(200), None));
}

#[tokio::test]
async fn garbage_instead_of_http_is_told_at_once() {
    let server = valid_server(Behaviour::Raw(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec())).await;
    let probe_ = Probe { timeout: Duration::from_secs(5), ..server.probe(HOST) };
    let outcome = probe(&probe_).await;

    assert_eq!(outcome.status, None);
    let expected =
        format!("the answer of {} is not HTTP/1.1: it begins with \"SSH-2.0-OpenSSH_9.6\\r\\n\"", server.addr());
    assert_eq!(outcome.error, Some(expected));
    assert!(outcome.latency < Duration::from_secs(1), "{outcome:?}");
}

#[tokio::test]
async fn a_head_cut_short_or_too_large_is_an_error() {
    let server = valid_server(Behaviour::Raw(b"HTTP/1.1 200 OK\r\nContent-".to_vec())).await;
    let outcome = probe(&server.probe(HOST)).await;
    let expected =
        format!("{} closed the connection after 25 bytes, before the end of the response head", server.addr());
    assert_eq!((outcome.status, outcome.error), (None, Some(expected)));

    let huge = [&b"HTTP/1.1 200 OK\r\nX-Filler: "[..], &vec![b'a'; 100 * 1024], b"\r\n\r\n"].concat();
    server.set(Behaviour::Raw(huge));
    let outcome = probe(&server.probe(HOST)).await;
    let expected = format!("the response head of {} is larger than 64 KiB", server.addr());
    assert_eq!((outcome.status, outcome.error), (None, Some(expected)));

    server.set(Behaviour::Raw(b"HTTP/1.1 OK\r\n\r\n".to_vec()));
    let outcome = probe(&server.probe(HOST)).await;
    let expected = format!("the answer of {} is not HTTP/1.1: it begins with \"HTTP/1.1 OK\"", server.addr());
    assert_eq!((outcome.status, outcome.error), (None, Some(expected)));
}
