//! # corsproof-client
//!
//! A raw HTTP/1.1 client, over TCP or TLS, for sending a browser's requests to a target exactly
//! as they are written. Unlike general-purpose clients it never normalises what the server
//! sent: the [`RawResponse`] keeps every header line, in order, with its original case,
//! because duplicated or reordered CORS headers are exactly what corsproof looks for.
//!
//! - [`Request`]: method, target and an ordered list of header byte pairs, written as given.
//! - [`Connection`]: one keep-alive TCP or TLS connection; [`Client`]: reconnects when needed.
//! - [`Tls`]: the trust store of `https://` targets (Mozilla's roots, plus a user's CA).
//! - [`parse_response`]: the pure, incremental response parser both use.
//! - [`Error`]: why an exchange failed; never a panic, never unbounded memory.
//!
//! Everything is bounded by [`Limits`] and a per-request timeout ([`Config`]).
//!
//! ```
//! use corsproof_client::{Client, Request};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A scripted server answering one request.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(async move {
//!     let (mut s, _) = listener.accept().await.unwrap();
//!     let mut buf = [0u8; 1024];
//!     let _ = s.read(&mut buf).await;
//!     let _ = s
//!         .write_all(b"HTTP/1.1 200 OK\r\nVary: Origin\r\nvary: Accept\r\nContent-Length: 2\r\n\r\nhi")
//!         .await;
//! });
//!
//! let mut client = Client::new(addr.to_string());
//! let req = Request::new("GET", "/api").header("Origin", "https://app.example.com");
//! let res = client.send(&req).await?;
//! assert_eq!(res.status, 200);
//! assert_eq!(res.header_values(b"vary").collect::<Vec<_>>(), [&b"Origin"[..], b"Accept"]);
//! assert_eq!(res.body, b"hi");
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod conn;
mod error;
mod parse;
mod request;
mod tls;

pub use conn::{Client, Config, Connection};
pub use error::Error;
pub use parse::{
    parse_response, parse_response_with, Limits, ParseError, RawResponse, ResponseContext,
};
pub use request::Request;
/// A checked TLS server name ([`Tls::server_name`]), as [`Client::with_tls`] takes it.
pub use rustls::pki_types::ServerName;
pub use tls::{Tls, TlsError};
