//! A scripted flaky HTTP/1.1 server on 127.0.0.1, for the tests of target errors and
//! overload: in front of a correct CORS answer (the `corsproof-tower` middleware built from
//! the policy, before a handler answering 200 with no body), it misbehaves on some requests.
//!
//! Which requests misbehave is chosen at random from a seed, but by the request's bytes: the
//! same request always meets the same [`Fate`] (a retry too), so a run is reproducible and
//! what the client must make of it is knowable from the server's log ([`Flaky::log`]).
//!
//! Bounded: at most [`MAX_CONNECTIONS`] connections and [`MAX_REQUESTS`] requests per
//! connection, each request head within [`READ_TIMEOUT`] and 64 KiB, a stall of
//! [`Script::stall`]; everything stops when the handle is dropped. Its own thread and
//! runtime serve it, so it works under `#[tokio::test]` and in blocking tests alike.

#![allow(dead_code)]

use std::convert::Infallible;
use std::future::{poll_fn, ready, Ready};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use corsproof_policy::Policy;
use corsproof_tower::{Cors, CorsLayer};
use http::{HeaderName, HeaderValue, Method, Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tower_layer::Layer;
use tower_service::Service;

/// Connections served at most.
pub const MAX_CONNECTIONS: usize = 4096;
/// Requests served per connection at most.
pub const MAX_REQUESTS: usize = 10_000;
/// How long a connection may take to send a request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head read.
const MAX_HEAD: usize = 64 * 1024;

/// Header lines: (name, value) pairs, in order.
type Lines = Vec<(Vec<u8>, Vec<u8>)>;

/// What a `Retry-After` field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Delta-seconds.
    Seconds(u64),
    /// An HTTP-date this long after the answer.
    DateIn(Duration),
}

/// What happens to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The correct answer.
    Answer,
    /// The connection is closed without a byte of answer.
    Drop,
    /// The connection is reset (RST) without a byte of answer.
    Reset,
    /// No answer for [`Script::stall`] (past the client's timeout), then the connection closes.
    Stall,
    /// Bytes that are not HTTP, then the connection closes.
    Garbage,
    /// 503 without CORS headers the first `times` times this request arrives, then the answer.
    Unavailable { times: u32 },
    /// 429 (with `Retry-After` when given) the first `times` times this request arrives, then
    /// the answer.
    TooMany {
        times: u32,
        retry_after: Option<RetryAfter>,
    },
}

impl Fate {
    /// 429 without `Retry-After`, always: a rate limiter that never lets the client through.
    pub const RATE_LIMITED: Fate = Fate::TooMany {
        times: u32::MAX,
        retry_after: None,
    };

    /// Whether the client gets no answer at all.
    pub fn is_fatal(self) -> bool {
        matches!(self, Fate::Drop | Fate::Reset | Fate::Stall | Fate::Garbage)
    }
}

/// The server's script.
#[derive(Debug, Clone)]
pub struct Script {
    /// The seed of the fates.
    pub seed: u64,
    /// Fates with their weights in per mille; the other requests get the answer.
    pub fates: Vec<(u32, Fate)>,
    /// Whether the reachability request (`GET /` without `Origin`) always gets the answer.
    pub spare_probe: bool,
    /// How long a stalled request waits before its connection closes.
    pub stall: Duration,
    /// For this long after the server starts, every request is answered 429 with
    /// `Retry-After: 1` (a rate limiter that has just banned the client), whatever its fate.
    pub busy_for: Duration,
}

impl Script {
    /// Every request meets `fate`.
    pub fn always(fate: Fate) -> Script {
        Script {
            seed: 0,
            fates: vec![(1000, fate)],
            spare_probe: false,
            stall: Duration::from_secs(2),
            busy_for: Duration::ZERO,
        }
    }

    /// A flaky server from `seed`: of every thousand requests, 25 dropped, 25 reset, 15
    /// answered with garbage, 40 answered 503 once, 60 answered 429 twice (half of them with
    /// `Retry-After: 0`); the reachability request spared.
    pub fn flaky(seed: u64) -> Script {
        Script {
            seed,
            fates: vec![
                (25, Fate::Drop),
                (25, Fate::Reset),
                (15, Fate::Garbage),
                (40, Fate::Unavailable { times: 1 }),
                (
                    30,
                    Fate::TooMany {
                        times: 2,
                        retry_after: None,
                    },
                ),
                (
                    30,
                    Fate::TooMany {
                        times: 2,
                        retry_after: Some(RetryAfter::Seconds(0)),
                    },
                ),
            ],
            spare_probe: true,
            stall: Duration::from_secs(2),
            busy_for: Duration::ZERO,
        }
    }

    /// The fate of the request whose key is `key`.
    fn fate(&self, key: u64, probe: bool) -> Fate {
        if probe && self.spare_probe {
            return Fate::Answer;
        }
        let draw = (fnv(self.seed, &key.to_le_bytes()) % 1000) as u32;
        let mut upto = 0;
        for (weight, fate) in &self.fates {
            upto += weight;
            if draw < upto {
                return *fate;
            }
        }
        Fate::Answer
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// When its head was read.
    pub at: Instant,
    /// A hash of the request without its `Host` field (whose port changes from run to run):
    /// the same request, the same key.
    pub key: u64,
    pub method: String,
    pub target: String,
    /// What the server did.
    pub fate: Fate,
    /// The connection it came on (numbered from 0 in order of acceptance).
    pub conn: usize,
    /// Whether it was the first request on its connection.
    pub fresh: bool,
    /// The status answered, if any.
    pub status: Option<u16>,
}

impl Arrival {
    /// Whether the client ends this request without a usable answer: a fatal fate, except a
    /// connection closed or reset before any byte on a kept-alive connection, which the client
    /// retries once on a new connection for an idempotent method (`corsproof_client::Client`):
    /// that retry arrives too, fresh, and is the one that counts.
    pub fn fails(&self) -> bool {
        match self.fate {
            Fate::Drop | Fate::Reset => self.fresh || !idempotent(&self.method),
            Fate::Stall | Fate::Garbage => true,
            _ => false,
        }
    }
}

/// The methods `corsproof_client::Request::is_idempotent` names.
fn idempotent(method: &str) -> bool {
    matches!(
        method,
        "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
    )
}

/// The state the connections share.
struct Shared {
    script: Script,
    cors: Cors<Handler>,
    log: Mutex<Vec<Arrival>>,
    /// When the server started.
    started: Instant,
}

/// A running flaky server; dropping it stops it.
pub struct Flaky {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Flaky {
    /// Starts the server for `policy` with `script`.
    pub fn start(policy: &Policy, script: Script) -> Flaky {
        let layer = CorsLayer::from_policy(policy).expect("the middleware accepts the policy");
        let shared = Arc::new(Shared {
            script,
            cors: layer.layer(Handler),
            log: Mutex::new(Vec::new()),
            started: Instant::now(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("an address");
        let (stop, stopped) = oneshot::channel();
        let serving = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("a tokio listener");
                tokio::select! {
                    _ = accept(listener, serving) => {}
                    _ = stopped => {}
                }
            });
        });
        Flaky {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request seen so far.
    pub fn log(&self) -> Vec<Arrival> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests the client cannot have got a usable answer for (see [`Arrival::fails`]).
    pub fn failed(&self) -> u64 {
        self.log().iter().filter(|a| a.fails()).count() as u64
    }
}

impl Drop for Flaky {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    for conn in 0..MAX_CONNECTIONS {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(connection(stream, conn, shared.clone()));
    }
}

/// Serves one connection: request after request until the client closes it or a fate ends it.
async fn connection(mut stream: TcpStream, conn: usize, shared: Arc<Shared>) {
    let mut buf = Vec::new();
    for n in 0..MAX_REQUESTS {
        let Ok(Some(head)) = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream, &mut buf))
            .await
            .unwrap_or(Ok(None))
        else {
            return;
        };
        let Some((method, target, headers)) = parse(&head) else {
            return;
        };
        // The body, framed by Content-Length (the client sends no other framing).
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(b"content-length"))
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if read_body(&mut stream, &mut buf, length).await.is_err() {
            return;
        }
        let key = request_key(&method, &target, &headers);
        let probe = method == "GET"
            && target == "/"
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(b"origin"));
        let fate = if shared.started.elapsed() < shared.script.busy_for {
            Fate::TooMany {
                times: u32::MAX,
                retry_after: Some(RetryAfter::Seconds(1)),
            }
        } else {
            shared.script.fate(key, probe)
        };
        let mut arrival = Arrival {
            at: Instant::now(),
            key,
            method: method.clone(),
            target: target.clone(),
            fate,
            conn,
            fresh: n == 0,
            status: None,
        };
        let answer = respond(&shared, &arrival, &method, &target, &headers).await;
        arrival.status = answer.as_ref().map(|(s, _)| *s);
        shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(arrival);
        match answer {
            Some((_, bytes)) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            None => {
                end(stream, fate, shared.script.stall).await;
                return;
            }
        }
    }
}

/// The answer to a request as bytes with its status, or `None` when its fate is to get none.
async fn respond(
    shared: &Shared,
    arrival: &Arrival,
    method: &str,
    target: &str,
    headers: &[(Vec<u8>, Vec<u8>)],
) -> Option<(u16, Vec<u8>)> {
    let seen_before = |key| {
        shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|a| a.key == key)
            .count() as u32
    };
    match arrival.fate {
        Fate::Drop | Fate::Reset | Fate::Stall | Fate::Garbage => None,
        Fate::Unavailable { times } if seen_before(arrival.key) < times => {
            Some((503, plain(503, "Service Unavailable", &[])))
        }
        Fate::TooMany { times, retry_after } if seen_before(arrival.key) < times => {
            let field = retry_after.map(|r| match r {
                RetryAfter::Seconds(s) => s.to_string(),
                RetryAfter::DateIn(d) => httpdate::fmt_http_date(SystemTime::now() + d),
            });
            let extra: Vec<(&str, String)> =
                field.into_iter().map(|v| ("Retry-After", v)).collect();
            Some((429, plain(429, "Too Many Requests", &extra)))
        }
        _ => Some(cors_answer(&shared.cors, method, target, headers).await),
    }
}

/// How a connection ends without an answer.
async fn end(stream: TcpStream, fate: Fate, stall: Duration) {
    match fate {
        Fate::Reset => {
            let _ = stream.set_zero_linger();
        }
        Fate::Stall => tokio::time::sleep(stall).await,
        Fate::Garbage => {
            let mut stream = stream;
            let _ = stream.write_all(b"\x00\x01 this is not HTTP\r\n\r\n").await;
            return;
        }
        _ => {}
    }
    drop(stream);
}

/// A response head without CORS headers and an empty body.
fn plain(status: u16, reason: &str, extra: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (n, v) in extra {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// The middleware's answer to the request, or 400 when the request is not one `http` takes.
async fn cors_answer(
    cors: &Cors<Handler>,
    method: &str,
    target: &str,
    headers: &[(Vec<u8>, Vec<u8>)],
) -> (u16, Vec<u8>) {
    let mut builder = Request::builder().uri(target);
    match Method::from_bytes(method.as_bytes()) {
        Ok(m) => builder = builder.method(m),
        Err(_) => return (400, plain(400, "Bad Request", &[])),
    }
    for (n, v) in headers {
        match (HeaderName::from_bytes(n), HeaderValue::from_bytes(v)) {
            (Ok(n), Ok(v)) => builder = builder.header(n, v),
            _ => return (400, plain(400, "Bad Request", &[])),
        }
    }
    let Ok(request) = builder.body(()) else {
        return (400, plain(400, "Bad Request", &[]));
    };
    let mut cors = cors.clone();
    if poll_fn(|cx| cors.poll_ready(cx)).await.is_err() {
        return (500, plain(500, "Internal Server Error", &[]));
    }
    let Ok(response) = cors.call(request).await;
    let status = response.status();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Status")
    )
    .into_bytes();
    for (n, v) in response.headers() {
        out.extend_from_slice(n.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    (status.as_u16(), out)
}

/// The handler behind the middleware: 200, no body.
#[derive(Debug, Clone, Copy)]
pub struct Handler;

impl Service<Request<()>> for Handler {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        ready(Ok(Response::new(String::new())))
    }
}

/// Reads one request head (through the blank line) into a vector, keeping what follows in
/// `buf`; `None` at the end of the stream.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
    let mut chunk = [0u8; 4096];
    // Each pass reads at least one byte and the head is bounded: at most MAX_HEAD passes.
    for _ in 0..=MAX_HEAD {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = buf[..end + 4].to_vec();
            buf.drain(..end + 4);
            return Ok(Some(head));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(None)
}

/// Reads and discards a body of `length` bytes (part of it may be in `buf` already).
async fn read_body(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    length: usize,
) -> std::io::Result<()> {
    let mut chunk = [0u8; 4096];
    for _ in 0..=length {
        if buf.len() >= length {
            buf.drain(..length);
            return Ok(());
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Err(std::io::ErrorKind::InvalidData.into())
}

/// The method, target and header lines of a request head.
fn parse(head: &[u8]) -> Option<(String, String, Lines)> {
    let text = head.strip_suffix(b"\r\n\r\n")?;
    let mut lines = text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request_line = std::str::from_utf8(lines.next()?).ok()?;
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    for line in lines {
        let colon = line.iter().position(|&b| b == b':')?;
        let value = line[colon + 1..].trim_ascii().to_vec();
        headers.push((line[..colon].to_vec(), value));
    }
    Some((method, target, headers))
}

/// The key of a request: its method, target and header lines but `Host`.
fn request_key(method: &str, target: &str, headers: &[(Vec<u8>, Vec<u8>)]) -> u64 {
    let mut bytes = format!("{method} {target}\n").into_bytes();
    for (n, v) in headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(b"host"))
    {
        bytes.extend_from_slice(n);
        bytes.push(b':');
        bytes.extend_from_slice(v);
        bytes.push(b'\n');
    }
    fnv(0, &bytes)
}

/// 64-bit FNV-1a of the seed's bytes, then `bytes`.
fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in seed.to_le_bytes().iter().chain(bytes) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
