//! A raw HTTP/1.1 client for the runner.
//!
//! Unlike general-purpose clients it never normalises what the server sent: the
//! [`RawResponse`] keeps every header line, in order, with its original case, because
//! duplicated or reordered CORS headers are exactly what the harness looks for.
//!
//! - [`Request`]: method, target and an ordered list of header byte pairs, written as given.
//! - [`Connection`]: one keep-alive TCP or TLS connection; [`Client`]: reconnects when needed.
//! - [`Tls`]: the trust store of `https://` targets (Mozilla's roots, plus a user's CA).
//! - [`parse_response`]: the pure, incremental response parser both use.
//!
//! Everything is bounded by [`Limits`] and a per-request timeout ([`Config`]).

mod conn;
mod parse;
mod request;
mod tls;

pub use conn::{Client, Config, Connection};
pub use parse::{
    parse_response, parse_response_with, Limits, ParseError, RawResponse, ResponseContext,
};
pub use request::Request;
pub use tls::{Tls, TlsError};
