//! Shared pieces of the fuzz targets: decoding helpers, a ready inner service, and a
//! runtime-free poll of the middleware (its futures are ready on first poll).
//!
//! Everything a target needs per execution that does not depend on the input (parsed URLs
//! and origins, compiled policies) is built once per process, in a `LazyLock` or a cache,
//! never per execution: libFuzzer's cost per execution grows with the code each one runs.

pub mod live;
pub mod oracle;

// The vocabularies the targets pick from are the test kit's (`corsproof-testkit`).

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use corsproof_oracle::{CredentialsMode, RequestMode};
use corsproof_tower::Cors;
use tower_service::Service;

/// A credentials mode by index.
pub fn credentials(i: u8) -> CredentialsMode {
    match i % 3 {
        0 => CredentialsMode::Omit,
        1 => CredentialsMode::SameOrigin,
        _ => CredentialsMode::Include,
    }
}

/// A request mode by index (mostly `cors`).
pub fn mode(i: u8) -> RequestMode {
    match i % 4 {
        0 | 1 => RequestMode::Cors,
        2 => RequestMode::NoCors,
        _ => RequestMode::SameOrigin,
    }
}

/// RFC 9110 `token`.
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// The inner service: 200 (or 500) with a fixed set of headers.
#[derive(Clone)]
pub struct Inner {
    pub status: u16,
    pub vary: Option<&'static str>,
}

impl Service<http::Request<()>> for Inner {
    type Response = http::Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<http::Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: http::Request<()>) -> Self::Future {
        let mut res = http::Response::new(());
        *res.status_mut() = http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::OK);
        let h = res.headers_mut();
        h.append(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
        h.append("x-request-id", http::HeaderValue::from_static("42"));
        h.append("x-total-count", http::HeaderValue::from_static("7"));
        h.append(
            "set-cookie",
            http::HeaderValue::from_static("session=abc; Secure; HttpOnly"),
        );
        h.append(
            "date",
            http::HeaderValue::from_static("Tue, 01 Jan 2030 00:00:00 GMT"),
        );
        if let Some(v) = self.vary {
            h.append("vary", http::HeaderValue::from_static(v));
        }
        ready(Ok(res))
    }
}

/// Polls a future that must be ready at once (no runtime).
pub fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("middleware future not ready on first poll"),
    }
}

/// Sends `req` through the middleware (a fresh clone, as a server does per request).
pub fn send(svc: &Cors<Inner>, req: http::Request<()>) -> http::Response<()> {
    let mut svc = svc.clone();
    let ready = svc.poll_ready(&mut Context::from_waker(Waker::noop()));
    assert!(ready.is_ready(), "middleware not ready");
    match now(svc.call(req)) {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

/// The oracle's view of a response: status and header lines in order, duplicates kept.
pub fn to_oracle(res: &http::Response<()>) -> corsproof_oracle::Response {
    corsproof_oracle::Response::new(
        res.status().as_u16(),
        res.headers()
            .iter()
            .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes())),
    )
}
