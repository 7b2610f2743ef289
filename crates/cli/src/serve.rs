//! `corsproof serve --policy FILE --listen ADDR`: a small HTTP/1.1 server that puts the
//! corsproof middleware (`corsproof-tower`) in front of a demo handler, as a target for
//! `check`, the test harness and a container image.
//!
//! The demo handler answers every method and path with 200, `Content-Type:
//! application/json`, the body `{"path": "...", "method": "..."}`, `X-Request-Id: 1` and
//! `Set-Cookie: demo=1; Path=/` (so that exposure and `Set-Cookie` filtering can be
//! observed); a path ending in `/error` gets 500 with the same headers, and one ending in
//! `/vary` also gets `Vary: Accept-Encoding` (to be merged with the middleware's).
//!
//! Bounded runs: `--max-requests N` stops after N requests, `--timeout SECS` after SECS
//! seconds; SIGINT and SIGTERM stop it too. Every stop is graceful (requests in progress are
//! finished) and exits 0.
//!
//! `--explain-refusals` turns on the middleware's `Cors-Refusal` header
//! (`RefusalReasons::Header`) and logs each refusal to stderr, one line each:
//! `corsproof serve: refused OPTIONS /api/x from "https://evil.example": origin-not-allowed:
//! the request's Origin is not one route "api" allows`. The request's method, path and
//! origin are cut to 200 bytes each and escaped, so a line stays short whatever the request
//! sent; `--max-requests` bounds how many there are.
//!
//! `--debug-preflights` does the same under `RefusalReasons::Debug`: a preflight refused
//! for its method or request headers gets 204, the `Access-Control-Allow-Origin` an allowed
//! preflight gets and what the route allows (never `Access-Control-Allow-Credentials`), so
//! that a browser still fails it and names the method or header in its console.

use std::convert::Infallible;
use std::future::{Future, Ready};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use corsproof_policy::{parse_path, PolicyError};
use corsproof_tower::{BuildError, Cors, CorsLayer, Refusal, RefusalReasons};
use http::header::{CONTENT_TYPE, ORIGIN, SET_COOKIE, VARY};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_layer::Layer;
use tower_service::Service;

/// What `corsproof serve` was asked to do.
#[derive(Debug)]
pub struct Options {
    /// The policy file.
    pub policy: PathBuf,
    /// The address to listen on (`host:port`; port 0 picks a free one).
    pub listen: String,
    /// Stop after this many requests.
    pub max_requests: Option<u64>,
    /// Stop after this many seconds.
    pub timeout: Option<u64>,
    /// Send `Cors-Refusal` headers and log each refusal to stderr.
    pub explain_refusals: bool,
    /// Answer preflights refused for their method or headers so that the browser names
    /// them (`RefusalReasons::Debug`); the caller also sets `explain_refusals`.
    pub debug_preflights: bool,
}

/// How long stopping waits for connections still busy before closing them.
const DRAIN: Duration = Duration::from_secs(5);

/// How long a client may take to send a request's head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Loads the policy, builds the middleware and serves until told to stop. Returns the exit
/// code: 0 after a stop, 2 when the policy is invalid or refused by the middleware; other
/// failures (cannot listen) are errors, which `main` reports with exit 2.
pub fn run(opts: &Options) -> anyhow::Result<u8> {
    let file = opts.policy.display().to_string();
    let parsed = match parse_path(&opts.policy) {
        Ok(parsed) => parsed,
        Err(err) => {
            report_policy_error(&opts.policy, &err);
            return Ok(2);
        }
    };
    for w in &parsed.warnings {
        eprintln!("warning[{}]: {w}", w.code.as_str());
    }
    let layer = match CorsLayer::from_policy(&parsed.policy) {
        Ok(layer) if opts.debug_preflights => layer.refusal_reasons(RefusalReasons::Debug),
        Ok(layer) if opts.explain_refusals => layer.refusal_reasons(RefusalReasons::Header),
        Ok(layer) => layer,
        Err(err) => {
            let problems = err.problems();
            for p in &problems {
                eprintln!("error[{}]: {file}: {p}", p.code);
            }
            let hint = if matches!(err, BuildError::Risky(_)) {
                " (set allow_risky = true on the route to accept risky settings)"
            } else {
                ""
            };
            eprintln!(
                "{file}: refused by the middleware, {} problem(s){hint}",
                problems.len()
            );
            return Ok(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let listener = bind(&opts.listen).await?;
        let local = listener
            .local_addr()
            .with_context(|| format!("cannot read the address bound for {}", opts.listen))?;
        if !local.ip().to_canonical().is_loopback() {
            eprintln!(
                "corsproof serve: warning: {local} is not a loopback address; the demo server \
                 is reachable from other machines"
            );
        }
        {
            let mut out = std::io::stdout().lock();
            // Tests and `corsproof-targets`' process launcher read this line to learn the port.
            let _ = writeln!(
                out,
                "corsproof serve: listening on http://{local} (policy {file}, {} routes)",
                parsed.policy.routes.len()
            );
            let _ = out.flush();
        }
        serve(listener, layer, opts).await
    });
    // Tasks still running (connections past the drain time) are dropped here.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Prints a policy error the way `corsproof lint` does.
fn report_policy_error(path: &Path, err: &PolicyError) {
    match err {
        PolicyError::Invalid(list) => {
            for d in list {
                eprintln!("error[{}]: {d}", d.code.as_str());
            }
            eprintln!(
                "{}: invalid policy, {} error(s)",
                path.display(),
                list.len()
            );
        }
        other => eprintln!("error: {other}"),
    }
}

/// Binds the first address `listen` resolves to that accepts.
async fn bind(listen: &str) -> anyhow::Result<TcpListener> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(listen)
        .await
        .with_context(|| format!("invalid --listen address {listen:?} (expected HOST:PORT)"))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some((addr, e)),
        }
    }
    match last {
        Some((addr, e)) => Err(e).with_context(|| format!("cannot listen on {addr}")),
        None => anyhow::bail!("--listen address {listen:?} resolves to no address"),
    }
}

/// Accepts connections until a stop (request count, timeout, signal), then drains.
async fn serve(listener: TcpListener, layer: CorsLayer, opts: &Options) -> anyhow::Result<u8> {
    let stop = Arc::new(Notify::new());
    let app = App {
        cors: layer.layer(Demo),
        served: Arc::new(AtomicU64::new(0)),
        max_requests: opts.max_requests,
        stop: Arc::clone(&stop),
        log_refusals: opts.explain_refusals,
    };
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let timeout = opts.timeout;
    let mut deadline = pin!(async move {
        match timeout {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => std::future::pending().await,
        }
    });
    let mut signal = pin!(shutdown_signal());
    let reason = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let conn = builder.serve_connection(TokioIo::new(stream), app.clone());
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            if !(e.is_incomplete_message() || e.is_closed() || e.is_canceled()) {
                                eprintln!("corsproof serve: connection from {peer}: {e}");
                            }
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    eprintln!("corsproof serve: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = stop.notified() => break "served --max-requests",
            () = &mut deadline => break "--timeout reached",
            reason = &mut signal => break reason,
        }
    };
    drop(listener);
    eprintln!("corsproof serve: stopping ({reason})");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {
            eprintln!("corsproof serve: connections still busy after {} s; closing them", DRAIN.as_secs());
        }
    }
    Ok(0)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM, naming it. A signal that cannot be watched is
/// simply never reported.
async fn shutdown_signal() -> &'static str {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
                "SIGTERM"
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&'static str>();
    tokio::select! {
        name = interrupt => name,
        name = terminate => name,
    }
}

/// The response body, for the handler and for the middleware's own preflight answers.
type Body = Full<Bytes>;

/// The hyper service: counts requests (for `--max-requests`), hands them to the middleware
/// and, with `--explain-refusals`, logs each refusal.
#[derive(Clone)]
struct App {
    cors: Cors<Demo>,
    served: Arc<AtomicU64>,
    max_requests: Option<u64>,
    stop: Arc<Notify>,
    log_refusals: bool,
}

impl hyper::service::Service<Request<Incoming>> for App {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let n = self.served.fetch_add(1, Ordering::SeqCst).saturating_add(1);
        if self.max_requests.is_some_and(|max| n >= max) {
            // The connection serving this request finishes it before closing.
            self.stop.notify_one();
        }
        let mut cors = self.cors.clone();
        let seen = self.log_refusals.then(|| Seen::of(&req));
        Box::pin(async move {
            std::future::poll_fn(|cx| {
                <Cors<Demo> as Service<Request<Incoming>>>::poll_ready(&mut cors, cx)
            })
            .await?;
            let res = cors.call(req).await?;
            if let (Some(seen), Some(refusal)) = (seen, res.extensions().get::<Refusal>()) {
                eprintln!("{}", seen.line(refusal));
            }
            Ok(res)
        })
    }
}

/// At most this many bytes of a request's method, path and origin go into a log line.
const LOGGED_BYTES: usize = 200;

/// What a refusal's log line says about the request: method, path and `Origin` (each
/// bounded and escaped).
struct Seen {
    method: String,
    path: String,
    origin: String,
}

impl Seen {
    fn of<B>(req: &Request<B>) -> Seen {
        let origin = match req.headers().get(ORIGIN) {
            Some(origin) => format!("\"{}\"", bounded(origin.as_bytes())),
            None => "no Origin".to_string(),
        };
        Seen {
            method: bounded(req.method().as_str().as_bytes()),
            path: bounded(req.uri().path().as_bytes()),
            origin,
        }
    }

    /// `corsproof serve: refused METHOD PATH from "ORIGIN": WORD: SENTENCE`.
    fn line(&self, refusal: &Refusal) -> String {
        format!(
            "corsproof serve: refused {} {} from {}: {}: {refusal}",
            self.method,
            self.path,
            self.origin,
            refusal.word()
        )
    }
}

/// The first [`LOGGED_BYTES`] of `bytes`, non-printable bytes, quotes and backslashes
/// escaped, `...` when cut.
fn bounded(bytes: &[u8]) -> String {
    let kept = &bytes[..bytes.len().min(LOGGED_BYTES)];
    let cut = if kept.len() < bytes.len() { "..." } else { "" };
    format!("{}{cut}", kept.escape_ascii())
}

/// The demo handler (see the module docs).
#[derive(Debug, Clone, Copy)]
struct Demo;

impl<B> Service<Request<B>> for Demo {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        std::future::ready(Ok(demo_response(req.method(), req.uri().path())))
    }
}

/// The demo handler's answer for a method and path.
fn demo_response(method: &Method, path: &str) -> Response<Body> {
    // `Value`'s Display quotes and escapes a string as JSON, and cannot fail.
    let body = format!(
        "{{\"path\": {}, \"method\": {}}}",
        serde_json::Value::from(path),
        serde_json::Value::from(method.as_str())
    );
    let mut res = Response::new(Full::new(Bytes::from(body)));
    if path.ends_with("/error") {
        *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    }
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        HeaderName::from_static("x-request-id"),
        HeaderValue::from_static("1"),
    );
    headers.insert(SET_COOKIE, HeaderValue::from_static("demo=1; Path=/"));
    if path.ends_with("/vary") {
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_answers_json_with_the_test_headers() {
        let res = demo_response(&Method::PUT, "/api/\"x\"");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()["x-request-id"], "1");
        assert_eq!(res.headers()["set-cookie"], "demo=1; Path=/");
        assert!(res.headers().get("vary").is_none());
    }

    #[test]
    fn logged_request_values_are_bounded_and_escaped() {
        assert_eq!(bounded(b"/api/x"), "/api/x");
        assert_eq!(bounded(b"a\"b\n\xff"), "a\\\"b\\n\\xff");
        let long = vec![b'a'; LOGGED_BYTES + 1];
        assert_eq!(bounded(&long), format!("{}...", "a".repeat(LOGGED_BYTES)));
    }

    #[test]
    fn error_and_vary_paths() {
        let res = demo_response(&Method::GET, "/api/error");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()["set-cookie"], "demo=1; Path=/");
        let res = demo_response(&Method::GET, "/api/vary");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["vary"], "Accept-Encoding");
    }
}
