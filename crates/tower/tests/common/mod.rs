//! Helpers shared by the integration tests: a ready-made inner service, request builders,
//! and a synchronous driver (every future here is ready on first poll).
#![allow(dead_code)]

pub mod table;

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use corsproof_policy::Policy;
use corsproof_tower::{Cors, CorsLayer, Refusal};
use http::{HeaderMap, Request, Response, StatusCode};
use tower::{Layer, Service, ServiceExt};

/// The inner service: answers with `status`, body `"inner"`, and `headers`; counts calls
/// and keeps the [`Refusal`] each request carried in its extensions.
#[derive(Clone)]
pub struct Inner {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, &'static str)>,
    pub calls: Arc<AtomicUsize>,
    pub refusals: Arc<Mutex<Vec<Option<Refusal>>>>,
}

impl Inner {
    pub fn new() -> Inner {
        Inner {
            status: StatusCode::OK,
            headers: Vec::new(),
            calls: Arc::new(AtomicUsize::new(0)),
            refusals: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn status(mut self, status: u16) -> Inner {
        self.status = StatusCode::from_u16(status).unwrap();
        self
    }

    pub fn header(mut self, name: &'static str, value: &'static str) -> Inner {
        self.headers.push((name, value));
        self
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The refusal in the extensions of each request, in order.
    pub fn refusals(&self) -> Vec<Option<Refusal>> {
        self.refusals.lock().unwrap().clone()
    }
}

impl Service<Request<String>> for Inner {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<String>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let refusal = req.extensions().get::<Refusal>().cloned();
        self.refusals.lock().unwrap().push(refusal);
        let mut res = Response::new("inner".to_string());
        *res.status_mut() = self.status;
        for (name, value) in &self.headers {
            res.headers_mut().append(*name, value.parse().unwrap());
        }
        ready(Ok(res))
    }
}

/// Polls a future that must be ready at once.
pub fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("future not ready"),
    }
}

/// A policy from TOML.
pub fn policy(toml: &str) -> Policy {
    Policy::from_toml_str(toml, "test.toml").unwrap()
}

/// The layer for a TOML policy.
pub fn layer(toml: &str) -> CorsLayer {
    CorsLayer::from_policy(&policy(toml)).unwrap()
}

/// Sends `req` through `layer` around `inner`.
pub fn send(layer: &CorsLayer, inner: &Inner, req: Request<String>) -> Response<String> {
    let svc: Cors<Inner> = layer.layer(inner.clone());
    now(svc.oneshot(req)).unwrap()
}

/// A request: method, path, headers (names may repeat: one line each).
pub fn req(method: &str, path: &str, headers: &[(&str, &str)]) -> Request<String> {
    let mut b = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    b.body(String::new()).unwrap()
}

/// A preflight from `origin` for `method` with optional ACRH.
pub fn preflight(path: &str, origin: &str, method: &str, acrh: Option<&str>) -> Request<String> {
    let mut h = vec![
        ("origin", origin),
        ("access-control-request-method", method),
    ];
    if let Some(acrh) = acrh {
        h.push(("access-control-request-headers", acrh));
    }
    req("OPTIONS", path, &h)
}

/// Every value of header `name`, one string per line.
pub fn all(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// The single value of `name`, or `None`; panics on several lines.
pub fn one(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = all(headers, name);
    assert!(v.len() <= 1, "{name} sent {} times: {v:?}", v.len());
    v.into_iter().next()
}

/// The CORS response headers present (names), excluding `vary`.
pub fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_string())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
pub const PNA_VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network";

/// A credentialed API route, a public `*` route, a same-origin admin route inside the API.
pub const POLICY: &str = r#"
version = 1

[[route]]
name = "api"
path = "/api/"
origins = ["https://app.example.com", "https://*.partner.example", "http://localhost:3000"]
methods = ["PUT", "DELETE", "patch"]
request_headers = ["content-type", "x-request-id"]
expose_headers = ["x-total-count", "x-request-id"]
credentials = true
max_age = 600
allow_risky = true

[[route]]
name = "admin"
path = "/api/admin/"

[[route]]
name = "public"
path = "/public/"
origins = ["*"]
request_headers = ["*"]
expose_headers = ["*"]

[[route]]
name = "pna"
path = "/device/"
origins = ["https://app.example.com"]
methods = ["PUT"]
private_network = true
"#;
