//! Keep-alive connections and the reconnecting client.

use std::io::ErrorKind;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;

use crate::parse::{parse, Limits, ParseError, Parsed, RawResponse, ResponseContext};
use crate::request::Request;
use crate::tls::Tls;
use crate::Error;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Limits and the per-request timeout.
///
/// ```
/// use std::time::Duration;
/// use corsproof_client::Config;
/// assert_eq!(Config::default().timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Size bounds on each response.
    pub limits: Limits,
    /// Deadline for one request: connect (when a connection is opened for it), write and read.
    pub timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One HTTP/1.1 connection, kept alive between requests when the server allows it.
///
/// After an error, or a response that ends the connection (`Connection: close`, a body
/// delimited by the close, HTTP/1.0 without keep-alive), [`Connection::is_reusable`] is false
/// and [`Connection::send`] fails with [`Error::Closed`]: the caller opens a new connection
/// ([`Client`] does so itself).
#[derive(Debug)]
pub struct Connection {
    stream: Stream,
    host: Vec<u8>,
    config: Config,
    buf: Vec<u8>,
    reusable: bool,
    sent: usize,
}

impl Connection {
    /// Opens a connection to `authority` (`host:port`), within `config.timeout`. The `Host`
    /// field sent with requests that have none is `authority`.
    pub async fn connect(authority: &str, config: Config) -> Result<Self, Error> {
        timeout(config.timeout, Self::open(authority, config))
            .await
            .map_err(|_| Error::Timeout(config.timeout))?
    }

    /// Opens a TLS connection to `authority` (`host:port`) for the server `name`, within
    /// `config.timeout` (TCP connect and handshake).
    ///
    /// ```no_run
    /// use corsproof_client::{Config, Connection, Request, Tls};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = Tls::webpki_roots();
    /// let name = Tls::server_name("api.example.com")?;
    /// let mut conn = Connection::connect_tls("api.example.com:443", Config::default(), &tls, name).await?;
    /// let res = conn.send(&Request::new("GET", "/").header("Origin", "https://app.example.com")).await?;
    /// println!("{}", res.status);
    /// # Ok(()) }
    /// ```
    pub async fn connect_tls(
        authority: &str,
        config: Config,
        tls: &Tls,
        name: ServerName<'static>,
    ) -> Result<Self, Error> {
        timeout(
            config.timeout,
            Self::open_with(authority, config, Some((tls, name))),
        )
        .await
        .map_err(|_| Error::Timeout(config.timeout))?
    }

    async fn open(authority: &str, config: Config) -> Result<Self, Error> {
        Self::open_with(authority, config, None).await
    }

    async fn open_with(
        authority: &str,
        config: Config,
        tls: Option<(&Tls, ServerName<'static>)>,
    ) -> Result<Self, Error> {
        let tcp = TcpStream::connect(authority).await?;
        tcp.set_nodelay(true)?;
        let stream = match tls {
            None => Stream::Plain(tcp),
            Some((tls, name)) => {
                let shown = name.to_str().into_owned();
                let stream = tls.connect(name, tcp).await.map_err(|e| Error::Tls {
                    server: shown,
                    why: e.to_string(),
                })?;
                Stream::Tls(Box::new(stream))
            }
        };
        Ok(Connection {
            stream,
            host: authority.as_bytes().to_vec(),
            config,
            buf: Vec::new(),
            reusable: true,
            sent: 0,
        })
    }

    /// Sets the `Host` value sent with requests that have no `Host` field.
    pub fn set_host(&mut self, host: impl Into<Vec<u8>>) {
        self.host = host.into();
    }

    /// Whether another request may be sent on this connection.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// How many responses were read on this connection.
    pub fn responses_read(&self) -> usize {
        self.sent
    }

    /// Sends `req` and reads its response, within the configured timeout.
    pub async fn send(&mut self, req: &Request) -> Result<RawResponse, Error> {
        let t = self.config.timeout;
        match timeout(t, self.exchange(req)).await {
            Ok(result) => result,
            Err(_) => {
                self.reusable = false;
                Err(Error::Timeout(t))
            }
        }
    }

    async fn exchange(&mut self, req: &Request) -> Result<RawResponse, Error> {
        if !self.reusable {
            return Err(Error::Closed { during: "request" });
        }
        // The request's bytes go through `buf`, which is empty between exchanges (a reusable
        // connection has no byte left over), so that no exchange allocates.
        if let Err(e) = req.encode(&self.host, &mut self.buf) {
            self.buf.clear();
            return Err(e);
        }
        // Only a complete, cleanly framed response makes the connection reusable again.
        self.reusable = false;
        let written = self.stream.write_all(&self.buf).await;
        self.buf.clear();
        written.map_err(|e| closed_or_io(e, "request"))?;
        let parsed = self.read_response(req.is_head()).await?;
        self.buf.drain(..parsed.consumed);
        // Bytes beyond the response were never asked for: the stream is out of step.
        self.reusable = parsed.keep_alive && self.buf.is_empty();
        self.sent += 1;
        Ok(parsed.response)
    }

    /// Reads until the buffer holds a complete response. Every pass either reads at least one
    /// byte, which the parser bounds with [`Limits`], or ends at end of stream.
    async fn read_response(&mut self, head_request: bool) -> Result<Parsed, Error> {
        let limits = self.config.limits;
        let mut eof = false;
        let mut need = 1;
        loop {
            if self.buf.len() >= need || eof {
                let ctx = ResponseContext { head_request, eof };
                match parse(&self.buf, limits, ctx, &mut need) {
                    Ok(parsed) => return Ok(parsed),
                    Err(ParseError::Incomplete) if eof => {
                        return Err(Error::Closed {
                            during: stage(&self.buf),
                        })
                    }
                    Err(ParseError::Incomplete) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if !self.buf.is_empty() {
                self.stream.quickack();
            }
            // Read straight into the buffer's spare room, which is never zeroed.
            self.buf.reserve(READ_CHUNK);
            let n = match self.stream.read_buf(&mut self.buf).await {
                Ok(n) => n,
                // A TLS peer that closed the TCP connection without close_notify, as many
                // servers do: the end of the stream, as a browser takes it. A response that
                // needed more bytes still fails (Closed), since its framing is not the close.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(closed_or_io(e, stage(&self.buf))),
            };
            eof = n == 0;
        }
    }
}

/// The byte stream under a connection: plain TCP or TLS over TCP.
#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// Asks Linux to acknowledge the next segments at once (`TCP_QUICKACK`), and to send the
    /// ACK it holds back for segments already received. A server that writes a response's
    /// head and body in two sends with Nagle's algorithm on (Python's `http.server`)
    /// otherwise waits for the client's delayed ACK of the head, about 40 ms, before it sends
    /// the body. It is asked once part of a response has arrived and more is needed (the
    /// kernel leaves quick-ack mode on its own), not before a response's first read: a
    /// response that comes whole costs no extra system call. Measured on loopback, the default check of
    /// corpus/policies/mixed-routes.toml (2,916 requests) against such a server: 43.9 s on 4
    /// connections without it, 0.78 s with it (5.35 s and 0.87 s on up to 32 connections).
    /// Elsewhere, a no-op.
    fn quickack(&self) {
        #[cfg(target_os = "linux")]
        {
            let tcp = match self {
                Stream::Plain(s) => s,
                Stream::Tls(s) => s.get_ref().0,
            };
            let _ = socket2::SockRef::from(tcp).set_tcp_quickack(true);
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What was being read when the stream ended, from the bytes received so far.
fn stage(buf: &[u8]) -> &'static str {
    if buf.is_empty() {
        "response"
    } else if buf.windows(2).any(|w| w == b"\n\n") || buf.windows(3).any(|w| w == b"\n\r\n") {
        "body"
    } else {
        "headers"
    }
}

fn closed_or_io(e: std::io::Error, during: &'static str) -> Error {
    match e.kind() {
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            Error::Closed { during }
        }
        _ => Error::Io(e),
    }
}

/// A client for one target (`host:port`) that keeps one connection alive and reconnects when
/// needed: when the kept-alive connection turns out to be closed before any byte of the
/// response arrived, an idempotent request is retried once on a new connection. The timeout
/// covers the whole of [`Client::send`], retry included.
///
/// ```
/// use std::time::Duration;
/// use corsproof_client::{Client, Limits};
/// let client = Client::new("127.0.0.1:8080")
///     .with_timeout(Duration::from_millis(500))
///     .with_limits(Limits { max_body: 64 * 1024, ..Limits::default() })
///     .with_host("api.example.com");
/// assert_eq!(client.config().limits.max_body, 64 * 1024);
/// ```
#[derive(Debug)]
pub struct Client {
    authority: String,
    host: Option<Vec<u8>>,
    config: Config,
    tls: Option<(Tls, ServerName<'static>)>,
    conn: Option<Connection>,
}

impl Client {
    /// A client for `authority` (`host:port`, e.g. `127.0.0.1:8080`) with the default
    /// [`Config`]; no connection is opened until the first request.
    pub fn new(authority: impl Into<String>) -> Self {
        Client {
            authority: authority.into(),
            host: None,
            config: Config::default(),
            tls: None,
            conn: None,
        }
    }

    /// Speaks TLS (`https://`) to the server `name` (its host, which the certificate must
    /// match: see [`Tls::server_name`]), trusting what `tls` trusts.
    ///
    /// ```
    /// use corsproof_client::{Client, Tls};
    /// let name = Tls::server_name("localhost")?;
    /// let client = Client::new("127.0.0.1:8443").with_tls(Tls::webpki_roots(), name);
    /// assert!(client.is_tls());
    /// # Ok::<(), corsproof_client::TlsError>(())
    /// ```
    #[must_use]
    pub fn with_tls(mut self, tls: Tls, name: ServerName<'static>) -> Self {
        self.tls = Some((tls, name));
        self
    }

    /// Whether the client speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Replaces the configuration.
    #[must_use]
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the per-request timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// Sets the response size limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Sets the `Host` value for requests that have none (default: the authority).
    #[must_use]
    pub fn with_host(mut self, host: impl Into<Vec<u8>>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends `req` and reads its response within the timeout, reusing the kept-alive
    /// connection when there is one. After an error the connection is dropped.
    pub async fn send(&mut self, req: &Request) -> Result<RawResponse, Error> {
        let t = self.config.timeout;
        let result = match timeout(t, self.send_inner(req)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(t)),
        };
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    async fn send_inner(&mut self, req: &Request) -> Result<RawResponse, Error> {
        if let Some(conn) = self.conn.as_mut().filter(|c| c.is_reusable()) {
            match conn.exchange(req).await {
                Err(Error::Closed {
                    during: "request" | "response",
                }) if req.is_idempotent() => {}
                result => return result,
            }
        }
        let tls = self.tls.as_ref().map(|(tls, name)| (tls, name.clone()));
        let mut conn = Connection::open_with(&self.authority, self.config, tls).await?;
        if let Some(host) = &self.host {
            conn.set_host(host.clone());
        }
        let result = conn.exchange(req).await;
        self.conn = Some(conn);
        result
    }
}
