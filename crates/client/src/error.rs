//! What can go wrong when exchanging one request with a target.

use std::time::Duration;

/// Why an HTTP/1.1 exchange failed. Every variant names what was wrong; none of them is ever
/// a panic, and none is reached after unbounded memory use.
///
/// ```
/// use corsproof_client::Error;
/// let e = Error::TooLarge { what: "header section", limit: 65536 };
/// assert_eq!(e.to_string(), "response too large: header section exceeds 65536 bytes");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The whole exchange (connect, write and read) took longer than the configured timeout.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The peer closed the connection before a complete response arrived.
    #[error("connection closed by the server during the {during}")]
    Closed {
        /// What was being read or written: `response` (nothing received), `headers`, `body`,
        /// or `request`.
        during: &'static str,
    },
    /// The response is not valid HTTP/1.1.
    #[error("malformed response: {what}")]
    Malformed {
        /// What is wrong, with an escaped excerpt of the offending bytes.
        what: String,
    },
    /// A part of the response is larger than its configured limit.
    #[error("response too large: {what} exceeds {limit} {}", if what.ends_with("count") { "fields" } else { "bytes" })]
    TooLarge {
        /// The part: `header section`, `header count`, `body`, `chunk size line`,
        /// `chunk framing`, `trailer section`, `trailer count`.
        what: &'static str,
        /// The limit it exceeded.
        limit: usize,
    },
    /// The request cannot be written as HTTP/1.1 (a method, target or header with bytes that
    /// would change the message's framing).
    #[error("invalid request: {what}")]
    InvalidRequest {
        /// What is wrong.
        what: String,
    },
    /// The TLS handshake failed (an untrusted or mismatched certificate, no common
    /// protocol version, a server that does not speak TLS).
    #[error("TLS handshake with {server} failed: {why}")]
    Tls {
        /// The server name the certificate was checked against.
        server: String,
        /// What went wrong.
        why: String,
    },
    /// The connection could not be opened, or a read or write failed. The I/O error is in the
    /// message and not also a [`source`](std::error::Error::source), so that a printed error
    /// chain says it once.
    #[error("I/O error: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
