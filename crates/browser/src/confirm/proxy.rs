//! The confirm proxy: the browser's only way out (both browsers are configured to send every
//! request through it, loopback included). It
//!
//! - serves the confirm page and its control paths (`/.corsproof-confirm/...`) on any host:
//!   plain http requests for such paths are answered by the proxy itself, and a `CONNECT`
//!   to an https page origin's host is answered with TLS under the run's certificate;
//! - sets the cookie of a target's host (`/.corsproof-confirm/cookie` on the target's own
//!   origin, so the browser stores it as the target's, first party);
//! - forwards every other plain http request to the real target and records it with the
//!   answer (request line and header lines as the browser wrote them, status and header
//!   lines as the target sent them), under the job the page armed last.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::wire::{read_request, write_plain, RawRequest};

/// The prefix of every path the proxy answers itself.
pub const CONTROL: &str = "/.corsproof-confirm/";

/// The cookie set for every credentialed target's host.
pub const COOKIE: &str = "corsproof=1";

/// One request the proxy forwarded, with the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// An `OPTIONS` request with `Access-Control-Request-Method`.
    pub preflight: bool,
    /// The absolute URL.
    pub url: String,
    /// The request's header lines (name, value), as the browser wrote them.
    pub request_headers: Vec<(String, String)>,
    /// The answer's status (0: no answer).
    pub status: u16,
    /// The answer's header lines, in order (Latin-1).
    pub headers: Vec<(String, String)>,
    /// Why there is no answer (status 0).
    pub error: Option<String>,
}

impl Exchange {
    /// The first value of a request header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        self.request_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// Whether the request carried a `Cookie` line.
    pub fn cookie_sent(&self) -> bool {
        self.request_headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("cookie"))
    }
}

/// What a page origin serves: its jobs (JSON, for `/.corsproof-confirm/jobs`).
#[derive(Default)]
pub(crate) struct State {
    /// Jobs per page origin (serialized origin → the JSON the page fetches).
    pub jobs: HashMap<String, String>,
    /// The job the page armed last, and when (the run's clock).
    pub armed: Option<String>,
    /// When each job was armed.
    pub armed_at: HashMap<String, Instant>,
    /// Exchanges per job key, in order.
    pub exchanges: HashMap<String, Vec<Exchange>>,
    /// Reports posted by the pages.
    pub reports: Vec<serde_json::Value>,
    /// Where the cookie step sends the browser next, per target origin.
    pub cookie_next: HashMap<String, String>,
    /// The cookie's attributes after `Path=/` (`SameSite`, `Secure`).
    pub cookie_attributes: String,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    s.0.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running proxy.
pub struct Proxy {
    /// Its loopback port.
    pub port: u16,
    shared: Shared,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Config {
    /// The http page origins that are no target's: the proxy answers every request to them
    /// (the page's own requests, a favicon) and forwards none.
    pages: HashSet<String>,
    tls: Option<Arc<rustls::ServerConfig>>,
    /// `host:port` of the https page origins.
    tls_hosts: HashSet<String>,
    timeout: Duration,
}

impl Proxy {
    /// Starts the proxy; `pages` are the http page origins that are no target's,
    /// `tls_hosts` (`host:port`) the https page origins it answers `CONNECT` for with `tls`.
    pub fn start(
        pages: HashSet<String>,
        tls: Option<Arc<rustls::ServerConfig>>,
        tls_hosts: HashSet<String>,
        timeout: Duration,
    ) -> Result<Proxy, Error> {
        let bind = |source| Error::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        };
        let listener = TcpListener::bind("127.0.0.1:0").map_err(bind)?;
        let port = listener.local_addr().map_err(bind)?.port();
        listener.set_nonblocking(true).map_err(bind)?;
        let shared: Shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let config = Arc::new(Config {
            pages,
            tls,
            tls_hosts,
            timeout,
        });
        let (s, st) = (shared.clone(), stop.clone());
        let thread = std::thread::spawn(move || accept_loop(listener, s, st, config));
        Ok(Proxy {
            port,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// Changes the state (jobs, cookie steps) before the browser starts.
    pub(crate) fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut lock(&self.shared))
    }

    /// Waits until `n` pages have reported, or `deadline`; the reports so far.
    pub fn wait_reports(&self, n: usize, deadline: Instant) -> Vec<serde_json::Value> {
        let mut st = lock(&self.shared);
        while st.reports.len() < n {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            st = self
                .shared
                .1
                .wait_timeout(st, left.min(Duration::from_millis(200)))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        st.reports.clone()
    }

    /// The exchanges recorded for a job, and when it was armed.
    pub fn job(&self, key: &str) -> (Vec<Exchange>, Option<Instant>) {
        let st = lock(&self.shared);
        (
            st.exchanges.get(key).cloned().unwrap_or_default(),
            st.armed_at.get(key).copied(),
        )
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Shared, stop: Arc<AtomicBool>, config: Arc<Config>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                let (shared, stop, config) = (shared.clone(), stop.clone(), config.clone());
                std::thread::spawn(move || client(stream, peer, &shared, &stop, &config));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// One connection from the browser.
fn client(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    stop: &AtomicBool,
    config: &Config,
) {
    if !peer.ip().is_loopback() {
        return;
    }
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    while !stop.load(Ordering::SeqCst) {
        let Ok(req) = read_request(&mut reader) else {
            return;
        };
        if req.method == "CONNECT" {
            connect(reader.into_inner(), &req, shared, stop, config);
            return;
        }
        let Ok(url) = url::Url::parse(&req.target) else {
            let _ = write_plain(
                reader.get_mut(),
                400,
                "text/plain",
                b"absolute URL expected",
            );
            return;
        };
        let origin = url.origin().ascii_serialization();
        if url.path().starts_with(CONTROL) {
            if control(&req, url.path(), &origin, shared, reader.get_mut()).is_err() {
                return;
            }
            continue;
        }
        if config.pages.contains(&origin) {
            if write_plain(reader.get_mut(), 404, "text/plain", b"not a confirm path").is_err() {
                return;
            }
            continue;
        }
        forward(&req, &url, shared, config, reader.get_mut());
        return;
    }
}

/// A `CONNECT`: TLS under the run's certificate for an https page origin, else refused (an
/// https target's traffic is not forwarded: its findings are not replayable).
fn connect(
    mut stream: TcpStream,
    req: &RawRequest,
    shared: &Shared,
    stop: &AtomicBool,
    config: &Config,
) {
    let tls = match (&config.tls, config.tls_hosts.contains(&req.target)) {
        (Some(tls), true) => tls.clone(),
        _ => {
            let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
            return;
        }
    };
    if stream
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let Ok(conn) = rustls::ServerConnection::new(tls) else {
        return;
    };
    let origin = match req.target.strip_suffix(":443") {
        Some(host) => format!("https://{host}"),
        None => format!("https://{}", req.target),
    };
    let mut reader = BufReader::new(rustls::StreamOwned::new(conn, stream));
    while !stop.load(Ordering::SeqCst) {
        let Ok(r) = read_request(&mut reader) else {
            return;
        };
        let path = r.target.split('?').next().unwrap_or_default().to_string();
        let ok = if path.starts_with(CONTROL) {
            control(&r, &path, &origin, shared, reader.get_mut())
        } else {
            write_plain(reader.get_mut(), 404, "text/plain", b"not a confirm path")
        };
        if ok.and_then(|()| reader.get_mut().flush()).is_err() {
            return;
        }
    }
}

/// The control paths: the page, its jobs, arming a job, the page's report, the cookie step.
fn control(
    req: &RawRequest,
    path: &str,
    origin: &str,
    shared: &Shared,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let rest = &path[CONTROL.len()..];
    if rest == "page" {
        return write_plain(
            out,
            200,
            "text/html; charset=utf-8",
            super::page::PAGE.as_bytes(),
        );
    }
    if rest == "jobs" {
        let jobs = lock(shared).jobs.get(origin).cloned();
        let body = jobs.unwrap_or_else(|| "{\"jobs\": [], \"next\": null}".into());
        return write_plain(out, 200, "application/json", body.as_bytes());
    }
    if let Some(key) = rest.strip_prefix("arm/") {
        let mut st = lock(shared);
        st.armed = Some(key.to_string());
        st.armed_at.insert(key.to_string(), Instant::now());
        drop(st);
        return write_plain(out, 200, "text/plain", b"armed");
    }
    if rest == "report" && req.method == "POST" {
        let value = serde_json::from_slice::<serde_json::Value>(&req.body)
            .unwrap_or_else(|e| serde_json::json!({"malformed": e.to_string()}));
        lock(shared).reports.push(value);
        shared.1.notify_all();
        return write_plain(out, 200, "text/plain", b"ok");
    }
    if rest == "cookie" {
        let next = lock(shared).cookie_next.get(origin).cloned();
        let Some(next) = next else {
            return write_plain(out, 404, "text/plain", b"no cookie step here");
        };
        let head = format!(
            "HTTP/1.1 302 Found\r\nSet-Cookie: {COOKIE}; Path=/; {}\r\nLocation: {next}\r\nContent-Length: 0\r\nCache-Control: no-store\r\n\r\n",
            lock(shared).cookie_attributes
        );
        return out.write_all(head.as_bytes());
    }
    write_plain(out, 404, "text/plain", b"not found")
}

/// Forwards one request to the target, relays the answer, records both under the armed job.
fn forward(
    req: &RawRequest,
    url: &url::Url,
    shared: &Shared,
    config: &Config,
    out: &mut TcpStream,
) {
    let preflight =
        req.method == "OPTIONS" && req.header("access-control-request-method").is_some();
    // The job is the one armed when the request arrives, and the exchange is filed before
    // the browser has the answer: the page arms the next job as soon as it has it.
    let key = lock(shared).armed.clone().unwrap_or_else(|| "-".into());
    // One more try when the target gave no answer at all (a connection it closed or
    // refused): the replay is about the target's answers, not its connection handling.
    let answer = send_upstream(req, url, config.timeout)
        .or_else(|_| send_upstream(req, url, config.timeout));
    let (status, headers, bytes, error) = match answer {
        Ok((status, headers, bytes)) => (status, headers, bytes, None),
        Err(e) => (
            0,
            Vec::new(),
            format!("confirm proxy: {e}").into_bytes(),
            Some(e.to_string()),
        ),
    };
    lock(shared)
        .exchanges
        .entry(key)
        .or_default()
        .push(Exchange {
            preflight,
            url: url.to_string(),
            request_headers: req.headers.clone(),
            status,
            headers,
            error,
        });
    let _ = if status == 0 {
        write_plain(out, 502, "text/plain", &bytes)
    } else {
        out.write_all(&bytes)
    }
    .and_then(|()| out.flush());
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// Sends the request to its origin (origin-form, the browser's header lines but the proxy's
/// own `Proxy-Connection` and `Connection`, then `Connection: close`) and reads one answer.
fn send_upstream(req: &RawRequest, url: &url::Url, timeout: Duration) -> std::io::Result<Answer> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let addr = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{host}: no address")))?;
    let mut up = TcpStream::connect_timeout(&addr, timeout)?;
    up.set_read_timeout(Some(timeout))?;
    up.set_write_timeout(Some(timeout))?;
    let mut target = url.path().to_string();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let mut head: Vec<u8> = format!("{} {target} HTTP/1.1\r\n", req.method).into_bytes();
    for line in req.raw_lines.iter().skip(1) {
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("proxy-connection") || name.eq_ignore_ascii_case("connection")
        {
            continue;
        }
        head.extend(
            line.chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
        );
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    head.extend_from_slice(&req.body);
    up.write_all(&head)?;
    read_answer(&mut BufReader::new(up), req.method == "HEAD")
}

/// Reads one answer: the head, then the body as its framing says (`Content-Length`,
/// chunked, or up to the close); the bytes exactly as received.
fn read_answer(r: &mut impl BufRead, head_request: bool) -> std::io::Result<Answer> {
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    loop {
        let before = raw.len();
        if r.by_ref().take(65536).read_until(b'\n', &mut raw)? == 0 {
            return Err(std::io::Error::other("closed inside the answer's head"));
        }
        let line: String = raw[before..].iter().map(|&b| char::from(b)).collect();
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        lines.push(line);
        if raw.len() > 256 * 1024 {
            return Err(std::io::Error::other("answer head too long"));
        }
    }
    let status: u16 = lines
        .first()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .iter()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_string(), v.trim_matches([' ', '\t']).to_string()))
        .collect();
    let value = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    const MAX: u64 = 32 * 1024 * 1024;
    if head_request || status < 200 || status == 204 || status == 304 {
        // No body.
    } else if value("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(r, &mut raw)?;
    } else if let Some(len) = value("content-length").and_then(|v| v.parse::<u64>().ok()) {
        r.by_ref().take(len.min(MAX)).read_to_end(&mut raw)?;
    } else {
        r.by_ref().take(MAX).read_to_end(&mut raw)?;
    }
    Ok((status, headers, raw))
}

fn read_chunked(r: &mut impl BufRead, raw: &mut Vec<u8>) -> std::io::Result<()> {
    for _ in 0..100_000 {
        let before = raw.len();
        if r.by_ref().take(1024).read_until(b'\n', raw)? == 0 {
            return Ok(());
        }
        let line: String = raw[before..].iter().map(|&b| char::from(b)).collect();
        let size = usize::from_str_radix(
            line.split([';', '\r', '\n']).next().unwrap_or("").trim(),
            16,
        )
        .map_err(|_| std::io::Error::other("bad chunk size"))?;
        if size == 0 {
            // Trailers up to the empty line.
            loop {
                let before = raw.len();
                if r.by_ref().take(8192).read_until(b'\n', raw)? == 0 {
                    return Ok(());
                }
                if raw[before..].iter().all(|b| *b == b'\r' || *b == b'\n') {
                    return Ok(());
                }
            }
        }
        r.by_ref().take(size as u64 + 2).read_to_end(raw)?;
    }
    Err(std::io::Error::other("too many chunks"))
}
