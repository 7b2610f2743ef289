//! The loopback servers: the page origin (serves the page, hands out batches of jobs, takes
//! the page's reports) and the scripted origins (answer each case's preflight and request with
//! exactly the bytes the case prescribes and record what reached them). Every listener also
//! serves scripted paths, so a redirect may lead back to the page's own origin.
//!
//! Scripted paths are `/c/KEY/URL/HOP[/anything]`: KEY names a job (one case or one cache
//! sequence), URL tells distinct URLs of a sequence apart (the preflight cache is keyed by
//! URL), HOP is the redirect hop. Which step of a sequence is answered is set by the page
//! (`/arm/KEY/STEP`) before it runs the step.

use std::collections::{HashMap, VecDeque};
use std::io::{BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Error;
use crate::wire::{read_request, write_plain, RawAnswer, RawRequest};

/// The answers of one hop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HopScript {
    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`).
    pub preflight: Option<RawAnswer>,
    /// The answer to any other request.
    pub response: Option<RawAnswer>,
}

/// What reached one hop during one step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HopSeen {
    /// Each preflight: its `Origin` and `Access-Control-Request-*` header lines, in order.
    pub preflights: Vec<Vec<(String, String)>>,
    /// Each other request.
    pub requests: Vec<RequestSeen>,
    /// Each preflight exactly as received.
    pub preflight_wire: Vec<WireSeen>,
    /// Each other request exactly as received.
    pub request_wire: Vec<WireSeen>,
}

/// A request exactly as it reached a scripted path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WireSeen {
    /// The request line, then each header line, as received (Latin-1, line ends removed).
    pub lines: Vec<String>,
    /// The body (Latin-1).
    pub body: String,
}

impl WireSeen {
    fn of(req: &RawRequest) -> WireSeen {
        WireSeen {
            lines: req.raw_lines.clone(),
            body: req.body.iter().map(|&b| char::from(b)).collect(),
        }
    }
}

/// A non-preflight request that reached a scripted path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestSeen {
    /// Its method.
    pub method: String,
    /// Its `Origin` header.
    pub origin: Option<String>,
}

struct Job {
    steps: Vec<Vec<HopScript>>,
    armed: usize,
    seen: Vec<Vec<HopSeen>>,
}

#[derive(Default)]
struct State {
    jobs: HashMap<String, Job>,
    batches: VecDeque<String>,
    reports: VecDeque<serde_json::Value>,
    /// Requests to scripted paths of no known job or step (a harness or browser oddity).
    strays: Vec<String>,
    page_loads: usize,
    page_loaded_at: Option<Instant>,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    // A panicking connection thread cannot leave the state half-updated in a way that
    // matters here (every update is a single push or insert), so a poisoned lock is used.
    s.0.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running servers.
pub struct Servers {
    /// `http://127.0.0.1:PORT` of the page.
    pub page_origin: String,
    /// The scripted origins besides the page's (at least three).
    pub origins: Vec<String>,
    shared: Shared,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Servers {
    /// Binds the page origin and `extra` scripted origins on free loopback ports.
    pub fn start(page_html: String, extra: usize) -> Result<Servers, Error> {
        let shared: Shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let page = Arc::new(page_html);
        let mut origins = Vec::new();
        let mut threads = Vec::new();
        for i in 0..=extra {
            let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| Error::Bind {
                addr: "127.0.0.1:0".into(),
                source,
            })?;
            let addr = listener.local_addr().map_err(|source| Error::Bind {
                addr: "127.0.0.1:0".into(),
                source,
            })?;
            listener
                .set_nonblocking(true)
                .map_err(|source| Error::Bind {
                    addr: addr.to_string(),
                    source,
                })?;
            origins.push(format!("http://{addr}"));
            let (shared, stop, page) = (shared.clone(), stop.clone(), page.clone());
            let is_page = i == 0;
            threads.push(std::thread::spawn(move || {
                accept_loop(listener, shared, stop, page, is_page)
            }));
        }
        let page_origin = origins.remove(0);
        Ok(Servers {
            page_origin,
            origins,
            shared,
            stop,
            threads,
        })
    }

    /// Registers a job's scripts (`steps[step][hop]`).
    pub fn add_job(&self, key: &str, steps: Vec<Vec<HopScript>>) {
        let seen = steps
            .iter()
            .map(|hops| vec![HopSeen::default(); hops.len().max(1)])
            .collect();
        lock(&self.shared).jobs.insert(
            key.to_string(),
            Job {
                steps,
                armed: 0,
                seen,
            },
        );
    }

    /// Queues a batch (JSON text the page fetches from `/next`).
    pub fn push_batch(&self, batch: String) {
        lock(&self.shared).batches.push_back(batch);
    }

    /// What reached the scripted paths of a job: `[step][hop]`.
    pub fn seen(&self, key: &str) -> Vec<Vec<HopSeen>> {
        lock(&self.shared)
            .jobs
            .get(key)
            .map(|j| j.seen.clone())
            .unwrap_or_default()
    }

    /// Requests that reached scripted paths of no known job.
    pub fn strays(&self) -> Vec<String> {
        lock(&self.shared).strays.clone()
    }

    /// How many times the page was loaded.
    pub fn page_loads(&self) -> usize {
        lock(&self.shared).page_loads
    }

    /// When the page was last loaded.
    pub fn page_loaded_at(&self) -> Option<Instant> {
        lock(&self.shared).page_loaded_at
    }

    /// Waits up to `timeout` for the page's next report.
    pub fn next_report(&self, timeout: Duration) -> Option<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.shared);
        loop {
            if let Some(r) = st.reports.pop_front() {
                return Some(r);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            st = self
                .shared
                .1
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    shared: Shared,
    stop: Arc<AtomicBool>,
    page: Arc<String>,
    is_page: bool,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                let (shared, stop, page) = (shared.clone(), stop.clone(), page.clone());
                std::thread::spawn(move || serve(stream, peer, shared, stop, page, is_page));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Shared,
    stop: Arc<AtomicBool>,
    page: Arc<String>,
    is_page: bool,
) {
    if !peer.ip().is_loopback() {
        return;
    }
    let _ = stream.set_nonblocking(false);
    // Idle keep-alive connections are dropped after 120 s (bounds the thread's life).
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = BufWriter::new(write_half);
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(req) = read_request(&mut reader) else {
            return;
        };
        let ok = if req.target.starts_with("/c/") {
            scripted(&req, &shared, &mut writer)
        } else if is_page {
            page_route(&req, &shared, &page, &mut writer)
        } else {
            write_plain(&mut writer, 404, "text/plain", b"not a scripted path")
        };
        if ok.and_then(|()| writer.flush()).is_err() {
            return;
        }
    }
}

fn scripted(req: &RawRequest, shared: &Shared, out: &mut impl Write) -> std::io::Result<()> {
    let path = req.target.split(['?', '#']).next().unwrap_or_default();
    let mut parts = path.trim_start_matches("/c/").split('/');
    let key = parts.next().unwrap_or_default();
    let _url = parts.next();
    let hop: Option<usize> = parts.next().and_then(|h| h.parse().ok());
    let is_preflight =
        req.method == "OPTIONS" && req.header("access-control-request-method").is_some();
    let answer = {
        let mut st = lock(shared);
        let found = match (st.jobs.get_mut(key), hop) {
            (Some(job), Some(hop)) => {
                let step = job.armed;
                let script = job.steps.get(step).and_then(|s| s.get(hop)).cloned();
                if let Some(seen) = job.seen.get_mut(step) {
                    if seen.len() <= hop && hop < 16 {
                        seen.resize(hop + 1, HopSeen::default());
                    }
                    if let Some(h) = seen.get_mut(hop) {
                        if is_preflight {
                            h.preflight_wire.push(WireSeen::of(req));
                            h.preflights.push(
                                req.headers
                                    .iter()
                                    .filter(|(n, _)| {
                                        let n = n.to_ascii_lowercase();
                                        n == "origin" || n.starts_with("access-control-request-")
                                    })
                                    .cloned()
                                    .collect(),
                            );
                        } else {
                            h.request_wire.push(WireSeen::of(req));
                            h.requests.push(RequestSeen {
                                method: req.method.clone(),
                                origin: req.header("origin").map(str::to_string),
                            });
                        }
                    }
                }
                Some(script.unwrap_or_default())
            }
            _ => None,
        };
        if found.is_none() {
            st.strays.push(format!("{} {}", req.method, req.target));
        }
        found.unwrap_or_default()
    };
    let chosen = if is_preflight {
        answer.preflight
    } else {
        answer.response
    };
    // No scripted answer: a bare answer without CORS headers (the comparison will show that
    // the browser went where the oracle did not).
    chosen
        .unwrap_or_else(|| RawAnswer::new(if is_preflight { 204 } else { 200 }, Vec::new()))
        .write_to(out)
}

fn page_route(
    req: &RawRequest,
    shared: &Shared,
    page: &str,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let path = req.target.split('?').next().unwrap_or_default();
    if path == "/" {
        let mut st = lock(shared);
        st.page_loads += 1;
        st.page_loaded_at = Some(Instant::now());
        drop(st);
        return write_plain(out, 200, "text/html; charset=utf-8", page.as_bytes());
    }
    if path == "/next" {
        let batch = lock(shared).batches.pop_front();
        let body = batch.unwrap_or_else(|| "{\"done\":true}".to_string());
        return write_plain(out, 200, "application/json", body.as_bytes());
    }
    if let Some(rest) = path.strip_prefix("/arm/") {
        let mut it = rest.split('/');
        let key = it.next().unwrap_or_default();
        let step: Option<usize> = it.next().and_then(|s| s.parse().ok());
        let mut st = lock(shared);
        let ok = match (st.jobs.get_mut(key), step) {
            (Some(job), Some(step)) if step < job.steps.len() => {
                job.armed = step;
                true
            }
            _ => false,
        };
        drop(st);
        return if ok {
            write_plain(out, 200, "text/plain", b"armed")
        } else {
            write_plain(out, 404, "text/plain", b"no such job or step")
        };
    }
    if path == "/report" && req.method == "POST" {
        let value = serde_json::from_slice::<serde_json::Value>(&req.body)
            .unwrap_or_else(|e| serde_json::json!({"malformed": e.to_string()}));
        let mut st = lock(shared);
        st.reports.push_back(value);
        drop(st);
        shared.1.notify_all();
        return write_plain(out, 200, "text/plain", b"ok");
    }
    write_plain(out, 404, "text/plain", b"not found")
}
