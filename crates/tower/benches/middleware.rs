//! corsproof-tower against tower-http's `CorsLayer`, both configured to the same policy.
//!
//! Group `middleware`, ids `{impl}/{scenario}` with impl `corsproof` or `tower_http` and
//! scenario `actual_allowed`, `actual_refused`, `preflight_allowed`, `preflight_refused`,
//! `no_origin`; and `corsproof_extension/{scenario}`, `corsproof_header/{scenario}`, the
//! same middleware with refusal reasons in the extensions, and in the `Cors-Refusal` header
//! too (`RefusalReasons`; `corsproof` has them off, the default). Each iteration clones the service and the request (both built once), drives
//! `ServiceExt::ready` + `call` and polls the response future to completion with a no-op
//! waker (every future here is ready on first poll), and drops the response. The inner
//! service hands out a clone of one response template and is the same for both.
//!
//! Baselines, to read the ratios net of the harness: `baseline/clone_request` (cloning the
//! costliest request, the allowed preflight), `baseline/clone_request/{scenario}` (each
//! scenario's own request) and `baseline/clone_service_{impl}`
//! (cloning each middleware service; tower-http's `Cors` clones its whole configuration).
//!
//! ## Where the two configurations differ
//!
//! tower-http's `CorsLayer` cannot express the policy exactly:
//! - It never refuses a preflight: any `OPTIONS` request is answered 200 with
//!   `Access-Control-Allow-Methods`/`-Headers` listing what is allowed, and the browser does
//!   the refusing. So in `preflight_refused` (allowed origin, `x-forbidden` requested) it
//!   sends 200 *with* `Access-Control-Allow-Origin` and the allowed lists, where corsproof
//!   sends 403 with only `Vary`; both make the browser fail the preflight. A refused origin
//!   gets 200 without `Access-Control-Allow-Origin` from tower-http.
//! - It adds `Access-Control-Allow-Credentials: true` and `Access-Control-Expose-Headers` to
//!   every response, refused origins and requests without `Origin` included (corsproof:
//!   only to allowed origins), and `Vary: Origin, Access-Control-Request-Method,
//!   Access-Control-Request-Headers` to every response (corsproof: `Vary: Origin` on actual
//!   requests, the three on `OPTIONS`).
//! - It has no notion of routes: the policy's single route `path = "/"` covers everything,
//!   so this is equivalent here.
//! - Methods: tower-http lists `PUT, DELETE, PATCH` as corsproof does; GET, HEAD and POST
//!   need no listing (browsers never check them against `Access-Control-Allow-Methods`), so
//!   they are not added.
//! - Origins: a predicate implementing corsproof's matching (byte-exact list, then
//!   `https://` + one or more DNS labels + `.example.org`).
//! - Passed preflights: tower-http answers 200, corsproof 204 (its default).

use std::convert::Infallible;
use std::future::{ready, Future};
use std::hint::black_box;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corsproof_policy::Policy;
use criterion::{criterion_group, criterion_main, Criterion};
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, CONTENT_TYPE, ORIGIN,
};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use tower::{service_fn, Layer, Service, ServiceExt};

const POLICY: &str = r#"
version = 1

[[route]]
name = "bench"
path = "/"
origins = ["https://app.example.com", "https://partner.example.net", "https://*.example.org"]
methods = ["PUT", "DELETE", "PATCH"]
request_headers = ["content-type", "x-request-id", "authorization"]
expose_headers = ["x-request-id"]
credentials = true
max_age = 600
"#;

const EXACT_ORIGINS: [&[u8]; 2] = [b"https://app.example.com", b"https://partner.example.net"];

/// The same origin matching as corsproof: byte-exact list, then `https://` + one or more
/// DNS labels (`a-z 0-9 -`, 1 to 63 bytes, no leading or trailing `-`) + `.example.org`.
fn origin_allowed(origin: &HeaderValue) -> bool {
    let o = origin.as_bytes();
    if EXACT_ORIGINS.contains(&o) {
        return true;
    }
    o.strip_prefix(b"https://")
        .and_then(|rest| rest.strip_suffix(b".example.org"))
        .is_some_and(|labels| {
            !labels.is_empty()
                && labels.split(|&b| b == b'.').all(|l| {
                    matches!(l.len(), 1..=63)
                        && l.iter()
                            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                        && l[0] != b'-'
                        && l[l.len() - 1] != b'-'
                })
        })
}

fn tower_http_layer() -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|origin, _parts| {
            origin_allowed(origin)
        }))
        .allow_methods([Method::PUT, Method::DELETE, Method::PATCH])
        .allow_headers([
            CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
            http::header::AUTHORIZATION,
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
}

/// The inner service's response: 200 with a `Content-Type`, cloned per call.
fn template() -> &'static Response<()> {
    static T: OnceLock<Response<()>> = OnceLock::new();
    T.get_or_init(|| {
        let mut res = Response::new(());
        *res.status_mut() = StatusCode::OK;
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        res
    })
}

fn inner(
) -> impl Service<Request<()>, Response = Response<()>, Error = Infallible, Future: Send> + Clone {
    service_fn(|_req: Request<()>| ready(Ok::<_, Infallible>(template().clone())))
}

/// Polls a future that must be ready on first poll.
#[inline(always)]
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("future not ready on first poll"),
    }
}

/// One request through a (cloned) service: `ready`, `call`, poll to completion.
#[inline(always)]
fn run<S>(svc: S, req: Request<()>) -> Response<()>
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    let mut svc = svc;
    let ready_svc = block_on(svc.ready()).unwrap();
    block_on(ready_svc.call(req)).unwrap()
}

fn request(method: Method, headers: &[(&'static str, &'static str)]) -> Request<()> {
    let mut b = Request::builder().method(method).uri("/items/7");
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    b.body(()).unwrap()
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    /// `Access-Control-Allow-Origin` echoes the request's origin.
    Allowed,
    /// No `Access-Control-Allow-Origin`.
    Refused,
    /// Passed preflight: ACAO echoes the origin and ACAM lists PUT.
    PreflightAllowed,
    /// Refused preflight (for the browser).
    PreflightRefused,
}

fn scenarios() -> Vec<(&'static str, Request<()>, Expect)> {
    let get = Method::GET;
    let options = Method::OPTIONS;
    vec![
        (
            "actual_allowed",
            request(get.clone(), &[("origin", "https://app.example.com")]),
            Expect::Allowed,
        ),
        (
            "actual_refused",
            request(get.clone(), &[("origin", "https://evil.example.com")]),
            Expect::Refused,
        ),
        (
            "preflight_allowed",
            request(
                options.clone(),
                &[
                    ("origin", "https://a.example.org"),
                    ("access-control-request-method", "PUT"),
                    (
                        "access-control-request-headers",
                        "content-type,x-request-id",
                    ),
                ],
            ),
            Expect::PreflightAllowed,
        ),
        (
            "preflight_refused",
            request(
                options,
                &[
                    ("origin", "https://app.example.com"),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-headers", "x-forbidden"),
                ],
            ),
            Expect::PreflightRefused,
        ),
        ("no_origin", request(get, &[]), Expect::Refused),
    ]
}

fn header<'r>(res: &'r Response<()>, name: &HeaderName) -> Option<&'r str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Both middlewares must give the intended outcome before they are timed.
fn check(imp: &str, scenario: &str, req: &Request<()>, res: &Response<()>, expect: Expect) {
    let ctx = format!("{imp}/{scenario}: {res:?}");
    let origin = req.headers().get(ORIGIN).map(|v| v.to_str().unwrap());
    let acao = header(res, &ACCESS_CONTROL_ALLOW_ORIGIN);
    match expect {
        Expect::Allowed => {
            assert_eq!(res.status(), StatusCode::OK, "{ctx}");
            assert_eq!(acao, origin, "{ctx}");
            assert!(res.headers().contains_key(CONTENT_TYPE), "{ctx}");
        }
        Expect::Refused => {
            assert_eq!(res.status(), StatusCode::OK, "{ctx}");
            assert_eq!(acao, None, "{ctx}");
            assert!(res.headers().contains_key(CONTENT_TYPE), "{ctx}");
        }
        Expect::PreflightAllowed => {
            assert!(res.status().is_success(), "{ctx}");
            assert_eq!(acao, origin, "{ctx}");
            let acam = header(res, &ACCESS_CONTROL_ALLOW_METHODS).expect(&ctx);
            assert!(acam.split(',').any(|m| m.trim() == "PUT"), "{ctx}");
            let acah = header(res, &ACCESS_CONTROL_ALLOW_HEADERS).expect(&ctx);
            let acah: Vec<_> = acah
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .collect();
            for h in ["content-type", "x-request-id"] {
                assert!(acah.iter().any(|a| a == h), "{ctx}");
            }
        }
        Expect::PreflightRefused => {
            assert!(
                !res.headers().contains_key(CONTENT_TYPE),
                "{ctx}: reached the inner service"
            );
            if imp.starts_with("corsproof") {
                assert_eq!(res.status(), StatusCode::FORBIDDEN, "{ctx}");
                assert_eq!(acao, None, "{ctx}");
            } else {
                // tower-http leaves the refusal to the browser: 200 with ACAO for the
                // allowed origin, and an ACAH that does not cover `x-forbidden`.
                assert_eq!(res.status(), StatusCode::OK, "{ctx}");
                let requested = req.headers()[ACCESS_CONTROL_REQUEST_HEADERS]
                    .to_str()
                    .unwrap();
                let acah = header(res, &ACCESS_CONTROL_ALLOW_HEADERS).unwrap_or("");
                assert!(
                    !acah
                        .split(',')
                        .any(|h| h.trim().eq_ignore_ascii_case(requested)),
                    "{ctx}"
                );
                assert_eq!(req.headers()[ACCESS_CONTROL_REQUEST_METHOD], "PUT", "{ctx}");
            }
        }
    }
}

fn bench(c: &mut Criterion) {
    use corsproof_tower::{Refusal, RefusalReasons};
    let policy = Policy::from_toml_str(POLICY, "bench.toml").expect("policy");
    let layer = corsproof_tower::CorsLayer::from_policy(&policy).expect("corsproof layer");
    let corsproof = layer.clone().layer(inner());
    let explaining = [
        ("corsproof_extension", RefusalReasons::Extension),
        ("corsproof_header", RefusalReasons::Header),
    ]
    .map(|(imp, reasons)| (imp, layer.clone().refusal_reasons(reasons).layer(inner())));
    let tower_http = tower_http_layer().layer(inner());

    let scenarios = scenarios();
    for (name, req, expect) in &scenarios {
        let res = run(corsproof.clone(), req.clone());
        check("corsproof", name, req, &res, *expect);
        assert!(res.extensions().get::<Refusal>().is_none(), "{name}");
        for (imp, svc) in &explaining {
            let res = run(svc.clone(), req.clone());
            check(imp, name, req, &res, *expect);
            // Every scenario without `Access-Control-Allow-Origin` has an `Origin` but
            // `no_origin`, which is not a cross-origin request.
            let refused = matches!(expect, Expect::Refused | Expect::PreflightRefused)
                && *name != "no_origin";
            assert_eq!(
                res.extensions().get::<Refusal>().is_some(),
                refused,
                "{imp}/{name}"
            );
        }
        let res = run(tower_http.clone(), req.clone());
        check("tower_http", name, req, &res, *expect);
    }

    let mut group = c.benchmark_group("middleware");

    // The costliest request to clone (three headers), then each scenario's own request.
    let costliest = &scenarios[2].1;
    group.bench_function("baseline/clone_request", |b| {
        b.iter(|| black_box(black_box(costliest).clone()))
    });
    for (name, req, _) in &scenarios {
        group.bench_function(format!("baseline/clone_request/{name}"), |b| {
            b.iter(|| black_box(black_box(req).clone()))
        });
    }
    group.bench_function("baseline/clone_service_corsproof", |b| {
        b.iter(|| black_box(black_box(&corsproof).clone()))
    });
    group.bench_function("baseline/clone_service_tower_http", |b| {
        b.iter(|| black_box(black_box(&tower_http).clone()))
    });

    for (name, req, _) in &scenarios {
        group.bench_function(format!("corsproof/{name}"), |b| {
            b.iter(|| black_box(run(black_box(&corsproof).clone(), black_box(req).clone())))
        });
        group.bench_function(format!("tower_http/{name}"), |b| {
            b.iter(|| black_box(run(black_box(&tower_http).clone(), black_box(req).clone())))
        });
        for (imp, svc) in &explaining {
            group.bench_function(format!("{imp}/{name}"), |b| {
                b.iter(|| black_box(run(black_box(svc).clone(), black_box(req).clone())))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
