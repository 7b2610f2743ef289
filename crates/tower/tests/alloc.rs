//! Zero heap allocations per request inside the middleware, measured with a counting global
//! allocator around `poll_ready` + `call` + polling the response future, with an inner
//! service that allocates nothing (it hands out pre-built responses): for every request
//! without refusal reasons, and for allowed requests with them, with no `tracing`
//! subscriber and with subscribers that want none of the middleware's events. A refusal's
//! reason costs allocations (the extension maps, the header value), measured and bounded
//! here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use corsproof_policy::Policy;
use corsproof_tower::{Cors, CorsLayer, Refusal, RefusalReasons, TRACING_TARGET};
use http::header::HeaderValue;
use http::{HeaderMap, Request, Response};
use tower::{Layer, Service};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn bump() {
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts the allocations `f` makes on this thread.
fn count<T>(f: impl FnOnce() -> T) -> (T, usize) {
    COUNT.with(|c| c.set(0));
    ON.with(|on| on.set(true));
    let out = f();
    ON.with(|on| on.set(false));
    (out, COUNT.with(Cell::get))
}

/// Hands out pre-built responses (with room for a few more headers, as real responses
/// usually have) and keeps the requests it gets, so it neither allocates nor frees.
struct Pool {
    responses: Vec<Response<()>>,
    seen: Vec<Request<()>>,
}

impl Pool {
    fn new(n: usize) -> Pool {
        let responses = (0..n)
            .map(|_| {
                let mut headers = HeaderMap::with_capacity(16);
                headers.insert("content-type", HeaderValue::from_static("text/plain"));
                let mut res = Response::new(());
                *res.headers_mut() = headers;
                res
            })
            .collect();
        Pool {
            responses,
            seen: Vec::with_capacity(n),
        }
    }
}

impl Service<Request<()>> for Pool {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<()>) -> Self::Future {
        self.seen.push(req);
        ready(Ok(self.responses.pop().unwrap_or_default()))
    }
}

const POLICY: &str = r#"
version = 1

[[route]]
path = "/api/"
origins = ["https://app.example.com", "https://*.partner.example"]
methods = ["PUT", "DELETE"]
request_headers = ["content-type", "x-request-id"]
expose_headers = ["x-total-count"]
credentials = true
max_age = 600
private_network = true

[[route]]
path = "/public/"
origins = ["*"]
request_headers = ["*"]
expose_headers = ["*"]
"#;

/// What a browser sends besides the CORS headers.
const BROWSER: [(&str, &str); 8] = [
    ("host", "api.example.com"),
    ("accept", "*/*"),
    ("accept-language", "en-US,en;q=0.9"),
    ("accept-encoding", "gzip, deflate, br"),
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0",
    ),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-site", "cross-site"),
    ("referer", "https://app.example.com/"),
];

/// A request with static header values (like hyper's, they are cheap to clone), plus the
/// browser's usual headers unless `minimal`.
fn request(method: &str, path: &str, cors: &[(&str, HeaderValue)], minimal: bool) -> Request<()> {
    let mut b = Request::builder().method(method).uri(path);
    if !minimal {
        for (n, v) in BROWSER {
            b = b.header(n, HeaderValue::from_static(v));
        }
    }
    for (n, v) in cors {
        b = b.header(*n, v.clone());
    }
    b.body(()).unwrap()
}

fn s(v: &'static str) -> HeaderValue {
    HeaderValue::from_static(v)
}

/// Sends `n` copies of a request through the middleware, returning the allocations made
/// inside it (in all) and the last response.
fn measure(layer: &CorsLayer, make: impl Fn() -> Request<()>) -> (usize, Response<()>) {
    const N: usize = 64;
    let mut svc: Cors<Pool> = layer.layer(Pool::new(N));
    let requests: Vec<Request<()>> = (0..N).map(|_| make()).collect();
    let mut responses = Vec::with_capacity(N);
    let mut total = 0;
    let waker = Waker::noop();
    for req in requests {
        let (res, n) = count(|| {
            let mut cx = Context::from_waker(waker);
            match svc.poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => {}
                _ => unreachable!(),
            }
            let mut fut = pin!(svc.call(req));
            match fut.as_mut().poll(&mut cx) {
                Poll::Ready(Ok(res)) => res,
                _ => unreachable!(),
            }
        });
        total += n;
        responses.push(res);
    }
    (total, responses.pop().unwrap())
}

/// Name, request, status, `Access-Control-Allow-Origin`, whether it is refused (its
/// response gets a reason when reasons are on).
type Case = (
    &'static str,
    Box<dyn Fn() -> Request<()>>,
    u16,
    Option<&'static str>,
    bool,
);

/// An Origin value from an owned buffer, never cloned: cloning it would allocate (bytes
/// promotes it on first clone); an exact match echoes the precomputed value instead.
fn owned_origin() -> HeaderValue {
    HeaderValue::from_str("https://app.example.com").unwrap()
}

/// The requests measured: every path through the middleware.
fn cases() -> Vec<Case> {
    vec![
        (
            "actual-allowed (exact)",
            Box::new(|| request("GET", "/api/items", &[("origin", owned_origin())], false)),
            200,
            Some("https://app.example.com"),
            false,
        ),
        (
            "actual-allowed (pattern)",
            Box::new(|| {
                request(
                    "POST",
                    "/api/items",
                    &[("origin", s("https://eu.partner.example"))],
                    false,
                )
            }),
            200,
            Some("https://eu.partner.example"),
            false,
        ),
        (
            "actual-allowed (wildcard route)",
            Box::new(|| {
                request(
                    "GET",
                    "/public/a",
                    &[("origin", s("https://any.example"))],
                    false,
                )
            }),
            200,
            Some("*"),
            false,
        ),
        (
            "actual-refused",
            Box::new(|| {
                request(
                    "GET",
                    "/api/items",
                    &[("origin", s("https://evil.example"))],
                    false,
                )
            }),
            200,
            None,
            true,
        ),
        (
            "no-origin",
            Box::new(|| request("GET", "/api/items", &[], false)),
            200,
            None,
            false,
        ),
        (
            "same-origin path",
            Box::new(|| {
                request(
                    "GET",
                    "/elsewhere",
                    &[("origin", s("https://app.example.com"))],
                    false,
                )
            }),
            200,
            None,
            true,
        ),
        (
            "options, not a preflight",
            Box::new(|| {
                request(
                    "OPTIONS",
                    "/api/items",
                    &[("origin", owned_origin())],
                    false,
                )
            }),
            200,
            Some("https://app.example.com"),
            false,
        ),
        (
            "preflight-allowed (exact)",
            Box::new(|| {
                request(
                    "OPTIONS",
                    "/api/items",
                    &[
                        ("origin", owned_origin()),
                        ("access-control-request-method", s("PUT")),
                        (
                            "access-control-request-headers",
                            s("content-type,x-request-id"),
                        ),
                    ],
                    false,
                )
            }),
            204,
            Some("https://app.example.com"),
            false,
        ),
        (
            "preflight-refused (two Origin lines)",
            Box::new(|| {
                request(
                    "OPTIONS",
                    "/api/items",
                    &[
                        ("origin", owned_origin()),
                        ("origin", s("https://eu.partner.example")),
                        ("access-control-request-method", s("DELETE")),
                        ("access-control-request-private-network", s("true")),
                    ],
                    false,
                )
            }),
            403,
            None,
            true,
        ),
        (
            "preflight-allowed (pattern, PNA, single origin)",
            Box::new(|| {
                request(
                    "OPTIONS",
                    "/api/items",
                    &[
                        ("origin", s("https://eu.partner.example")),
                        ("access-control-request-method", s("DELETE")),
                        ("access-control-request-headers", s("x-request-id")),
                        ("access-control-request-private-network", s("true")),
                    ],
                    false,
                )
            }),
            204,
            Some("https://eu.partner.example"),
            false,
        ),
        (
            "preflight-allowed (minimal request)",
            Box::new(|| {
                request(
                    "OPTIONS",
                    "/api/items",
                    &[
                        ("origin", owned_origin()),
                        ("access-control-request-method", s("PUT")),
                    ],
                    true,
                )
            }),
            204,
            Some("https://app.example.com"),
            false,
        ),
        (
            "preflight-allowed (wildcard route)",
            Box::new(|| {
                request(
                    "OPTIONS",
                    "/public/a",
                    &[
                        ("origin", s("https://any.example")),
                        ("access-control-request-method", s("GET")),
                        ("access-control-request-headers", s("x-a, x-b ,, X-C")),
                    ],
                    false,
                )
            }),
            204,
            Some("*"),
            false,
        ),
        (
            "preflight-refused (origin)",
            Box::new(|| {
                request(
                    "OPTIONS",
                    "/api/items",
                    &[
                        ("origin", s("https://evil.example")),
                        ("access-control-request-method", s("PUT")),
                    ],
                    false,
                )
            }),
            403,
            None,
            true,
        ),
        (
            "preflight-refused (headers)",
            Box::new(|| {
                request(
                    "OPTIONS",
                    "/api/items",
                    &[
                        ("origin", owned_origin()),
                        ("access-control-request-method", s("PUT")),
                        ("access-control-request-headers", s("content-type,x-secret")),
                    ],
                    true,
                )
            }),
            403,
            None,
            true,
        ),
    ]
}

/// The status and `Access-Control-Allow-Origin` a case gets under `reasons`: a preflight
/// refused for its request headers is answered 204 under `RefusalReasons::Debug`.
fn expected(case: &Case, reasons: RefusalReasons) -> (u16, Option<&'static str>) {
    match (case.0, reasons) {
        ("preflight-refused (headers)", RefusalReasons::Debug) => {
            (204, Some("https://app.example.com"))
        }
        _ => (case.2, case.3),
    }
}

/// Sends every case through the middleware under each of `all_reasons`, and checks its
/// answer; the cases that allocated more than their bound.
fn measure_cases(all_reasons: &[RefusalReasons]) -> Vec<String> {
    let policy = Policy::from_toml_str(POLICY, "alloc.toml").unwrap();
    let layer = CorsLayer::from_policy(&policy).unwrap();
    let cases = cases();
    let mut failures = Vec::new();
    for &reasons in all_reasons {
        let layer = layer.clone().refusal_reasons(reasons);
        for case in &cases {
            let (name, make, status, _, refused) = case;
            let (answered, acao) = expected(case, reasons);
            let (allocations, res) = measure(&layer, make);
            assert_eq!(res.status().as_u16(), answered, "{name} ({reasons:?})");
            assert_eq!(
                res.headers()
                    .get("access-control-allow-origin")
                    .map(|v| v.to_str().unwrap()),
                acao,
                "{name} ({reasons:?})"
            );
            let explained = *refused && reasons != RefusalReasons::Off;
            assert_eq!(
                res.extensions().get::<Refusal>().is_some(),
                explained,
                "{name} ({reasons:?})"
            );
            println!("{name} ({reasons:?}): {allocations} allocations in 64 requests");
            // A reason costs 3 allocations per extension map it goes into (the map's box,
            // its table, the boxed value): the response's, and, when the request goes on to
            // the inner service (all but the answered preflights, 403), the request's and 1
            // more to keep it in the response future until the response comes; and 1 for
            // the header value. Measured: exactly these.
            let passed_on = usize::from(*status != 403);
            let header = usize::from(matches!(
                reasons,
                RefusalReasons::Header | RefusalReasons::Debug
            ));
            let bound = if explained {
                64 * (3 + 4 * passed_on + header)
            } else {
                0
            };
            if allocations > bound {
                failures.push(format!("{name} ({reasons:?}): {allocations} > {bound}"));
            }
        }
    }
    failures
}

#[test]
fn no_allocation_per_request_inside_the_middleware() {
    // The counter counts.
    let (_, n) = count(|| Vec::<u8>::with_capacity(1));
    assert_eq!(n, 1);
    let failures = measure_cases(&[
        RefusalReasons::Off,
        RefusalReasons::Extension,
        RefusalReasons::Header,
        RefusalReasons::Debug,
    ]);
    assert!(
        failures.is_empty(),
        "allocations inside the middleware: {failures:?}"
    );
}

/// A subscriber that wants no event of the middleware: everything of every other target,
/// nothing of `corsproof_tower` (the callsites' interest is `never`, decided once).
struct ElsewhereOnly;

impl Subscriber for ElsewhereOnly {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !metadata.target().starts_with(TRACING_TARGET)
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// A subscriber at INFO, as in production: the middleware's DEBUG and TRACE events are
/// below its level (`max_level_hint`), so they are off before any callsite is asked.
struct InfoOnly;

impl Subscriber for InfoOnly {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::INFO
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::INFO)
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn no_allocation_with_a_subscriber_that_wants_no_cors_events() {
    let info =
        tracing::subscriber::with_default(InfoOnly, || measure_cases(&[RefusalReasons::Off]));
    assert!(info.is_empty(), "under an INFO subscriber: {info:?}");
    let elsewhere = tracing::subscriber::with_default(ElsewhereOnly, || {
        // Once to register the callsites with this subscriber, then measured.
        measure_cases(&[RefusalReasons::Off]);
        measure_cases(&[RefusalReasons::Off])
    });
    assert!(
        elsewhere.is_empty(),
        "under a subscriber of other targets: {elsewhere:?}"
    );
}
