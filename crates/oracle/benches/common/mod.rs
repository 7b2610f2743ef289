//! The credentialed PUT with three unsafe headers that the oracle's benchmark
//! (`benches/evaluation.rs`), the whole-process loop (`examples/evaluate_loop.rs`) and the
//! allocation test (`tests/alloc.rs`) evaluate, written once so that all three measure the same
//! thing. Each includes this file with `mod common;` (or `#[path]`) and uses a part of it.
#![allow(dead_code)]

use corsproof_oracle::expose::{is_visible, ExposedList};
use corsproof_oracle::{
    CredentialsMode, Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response,
    Seconds,
};

/// The requesting origin.
pub const ORIGIN: &str = "https://app.example.com";

/// What script passes for the credentialed PUT with three unsafe headers.
pub fn credentialed_put_init(url: url::Url, origin: Origin) -> RequestInit {
    let mut init = RequestInit::new(url, origin);
    init.method = "PUT".to_string();
    init.credentials = CredentialsMode::Include;
    init.headers = vec![
        (b"Content-Type".to_vec(), b"application/json".to_vec()),
        (b"X-Request-Id".to_vec(), b"1".to_vec()),
        (b"X-Trace".to_vec(), b"a".to_vec()),
    ];
    init
}

/// The target URL.
pub fn put_url() -> url::Url {
    url::Url::parse("https://api.example.com/items").expect("the PUT's URL parses")
}

/// [`ORIGIN`], parsed.
pub fn put_origin() -> Origin {
    Origin::parse_serialized(ORIGIN).expect("the PUT's origin parses")
}

/// The request, constructed under the standard's profile.
pub fn credentialed_put() -> Request {
    let init = credentialed_put_init(put_url(), put_origin());
    Request::construct(init, &Profile::fetch()).expect("the PUT is a valid request")
}

/// A preflight response that allows the PUT and its headers for 600 s.
pub fn preflight_response() -> Response {
    Response::new(
        204,
        [
            ("Access-Control-Allow-Origin", ORIGIN),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Methods", "PUT"),
            (
                "Access-Control-Allow-Headers",
                "content-type, x-request-id, x-trace",
            ),
            ("Access-Control-Max-Age", "600"),
        ],
    )
}

/// The actual response: readable with credentials, exposing `X-Request-Id`.
pub fn actual_response() -> Response {
    Response::new(
        200,
        [
            ("Access-Control-Allow-Origin", ORIGIN),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Expose-Headers", "x-request-id"),
            ("Content-Type", "application/json"),
            ("X-Request-Id", "1"),
        ],
    )
}

/// One full evaluation at `now`: `Fetch::new` → `start` (a preflight) →
/// `on_preflight_response` → `on_response`, then the count of headers script can see (0 when
/// not readable); `None` if a step asked for something else than this exchange gives.
pub fn evaluate(
    request: &Request,
    profile: &Profile,
    preflight: &Response,
    response: &Response,
    cache: &mut PreflightCache,
    now: Seconds,
) -> Option<usize> {
    let mut fetch = Fetch::new(request, profile);
    if fetch.start(cache, now) != Next::Preflight {
        return None;
    }
    if fetch.on_preflight_response(preflight, cache, now) != Next::Request {
        return None;
    }
    if fetch.on_response(response, cache, now) != Next::Done {
        return None;
    }
    let outcome = fetch.outcome();
    if !outcome.readable {
        return Some(0);
    }
    let exposed = ExposedList::of(response, request.credentials);
    Some(
        response
            .headers()
            .iter()
            .filter(|(n, _)| is_visible(n, outcome.response_type, &exposed))
            .count(),
    )
}
