//! The opening handshake of RFC 6455 (section 4), client side, and the accept value the test
//! servers answer with.

use crate::WebSocket;
use crate::http::Head;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 appends to the key.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Key`: 16 random bytes in base64.
pub(crate) fn key(random: [u8; 16]) -> String {
    STANDARD.encode(random)
}

/// The `Sec-WebSocket-Accept` a server owes for `key`.
pub(crate) fn accept(key: &str) -> String {
    STANDARD.encode(Sha1::digest(format!("{key}{GUID}")))
}

/// The header fields of an upgrade request with `key`.
pub(crate) fn upgrade_fields(key: &str) -> [(&str, &str); 4] {
    [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", key)]
}

/// A Close frame with status 1000 (normal closure), masked with `mask` as a client's must be.
pub(crate) fn close_frame(mask: [u8; 4]) -> [u8; 8] {
    let [a, b] = 1000u16.to_be_bytes();
    [0x88, 0x82, mask[0], mask[1], mask[2], mask[3], a ^ mask[0], b ^ mask[1]]
}

/// Whether the answer to an upgrade request with `key` switched to WebSocket (RFC 6455 4.2.2).
pub(crate) fn judge(head: &Head, status: u16, key: &str) -> WebSocket {
    let refused = |reason: String| WebSocket::Refused { status: Some(status), reason };
    if status != 101 {
        return refused(format!("answered {status} without switching protocols"));
    }
    if !head.lists("Upgrade", "websocket") {
        return refused("answered 101 without Upgrade: websocket".to_owned());
    }
    if !head.lists("Connection", "upgrade") {
        return refused("answered 101 without Connection: Upgrade".to_owned());
    }
    let expected = accept(key);
    match head.header("Sec-WebSocket-Accept") {
        None => refused("answered 101 without Sec-WebSocket-Accept".to_owned()),
        Some(given) if given != expected => {
            refused(format!("Sec-WebSocket-Accept does not match: {given:?} where the key asks for {expected:?}"))
        }
        Some(_) => WebSocket::Upgraded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_is_the_rfc_example() {
        // RFC 6455 section 1.3.
        assert_eq!(accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(key(*b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
    }

    #[test]
    fn the_close_frame_unmasks_to_1000() {
        let frame = close_frame([1, 2, 3, 4]);
        assert_eq!(frame[..2], [0x88, 0x82]);
        assert_eq!([frame[6] ^ 1, frame[7] ^ 2], 1000u16.to_be_bytes());
    }
}
