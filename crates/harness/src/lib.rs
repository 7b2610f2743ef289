//! # corsproof-harness
//!
//! The machinery that checks a running server against a corsproof policy. This first part is
//! the runner's transport: [`http1`], a raw HTTP/1.1 client that keeps every response header
//! line exactly as the server sent it (duplicates, order and case), with keep-alive, bounded
//! memory and per-request timeouts, over TCP or TLS (`https://` targets, [`http1::Tls`]).
//!
//! [`emit`] turns a policy into another implementation's configuration ([`emit::nginx()`]:
//! a map-based nginx configuration), so that the same policy can be checked on that target.
//!
//! ```
//! use corsproof_harness::http1::{Client, Request};
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

pub mod audit;
pub mod check;
pub mod container;
pub mod emit;
pub mod error;
pub mod finding;
pub mod generate;
pub mod http1;
pub mod launch;
pub mod report;

pub use error::Error;
