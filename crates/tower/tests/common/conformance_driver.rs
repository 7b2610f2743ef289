//! The driver of the conformance properties (`tests/conformance.rs`): the oracle's sans-IO
//! [`Fetch`] plays the browser, the middleware (around a canned inner service) plays the
//! server, and `http` requests and responses go between them.
#![allow(dead_code)]

use std::fmt::Write as _;

use corsproof_oracle::fetch::{OriginHeader, Outcome};
use corsproof_oracle::{Fetch, Next, PreflightCache, Profile, Request, Response};
use corsproof_tower::Cors;
use http::{HeaderName, HeaderValue, Method};
use tokio::runtime::Runtime;
use tower::ServiceExt;

use crate::common::Inner;
use crate::strategies::{target, InnerSpec};

/// The inner service: 200 (or a 500 error) with `Content-Type`, `X-Request-Id`,
/// `X-Total-Count`, `Set-Cookie` and `Date`, and sometimes a `Vary` of its own.
pub fn inner(spec: InnerSpec) -> Inner {
    let inner = Inner::new()
        .status(if spec.error { 500 } else { 200 })
        .header("content-type", "application/json")
        .header("x-request-id", "42")
        .header("x-total-count", "7")
        .header("set-cookie", "session=abc; Secure; HttpOnly")
        .header("date", "Tue, 01 Jan 2030 00:00:00 GMT");
    match spec.vary {
        Some(vary) => inner.header("vary", vary),
        None => inner,
    }
}

/// Sends `req` through the middleware (a fresh clone of it, as a server does per request).
pub fn send(rt: &Runtime, svc: &Cors<Inner>, req: http::Request<String>) -> http::Response<String> {
    match rt.block_on(svc.clone().oneshot(req)) {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

/// The oracle's view of a response: status and header lines in order, duplicates kept.
pub fn to_oracle(res: &http::Response<String>) -> Response {
    Response::new(
        res.status().as_u16(),
        res.headers()
            .iter()
            .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes())),
    )
}

/// `> request` and `< response` lines, for failure reports.
pub fn show(req: &http::Request<String>, res: &http::Response<String>, out: &mut String) {
    let _ = writeln!(out, "> {} {}", req.method(), req.uri());
    for (n, v) in req.headers() {
        let _ = writeln!(out, "> {n}: {}", String::from_utf8_lossy(v.as_bytes()));
    }
    let _ = writeln!(out, "< {}", res.status().as_u16());
    for (n, v) in res.headers() {
        let _ = writeln!(out, "< {n}: {}", String::from_utf8_lossy(v.as_bytes()));
    }
}

/// What is malformed in the CORS headers of `res`, the answer to `req` (the header grammars of
/// spec/SPEC.md section 4.1): a CORS header sent twice, `Access-Control-Allow-Credentials` other than
/// `true`, `Access-Control-Allow-Origin` other than `*` or the request's `Origin`,
/// `Access-Control-Max-Age` not digits, a list header with an element that is not a token.
pub fn hygiene(req: &http::Request<String>, res: &http::Response<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let is_token = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    for name in res.headers().keys() {
        let name = name.as_str();
        if !name.starts_with("access-control-") {
            continue;
        }
        let values: Vec<&[u8]> = res
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        if values.len() > 1 {
            problems.push(format!("{name} sent {} times", values.len()));
        }
        let value = values[0];
        let ok = match name {
            "access-control-allow-credentials" => value == b"true",
            "access-control-allow-private-network" => value == b"true",
            "access-control-allow-origin" => {
                value == b"*"
                    || req
                        .headers()
                        .get("origin")
                        .is_some_and(|o| o.as_bytes() == value)
            }
            "access-control-max-age" => !value.is_empty() && value.iter().all(u8::is_ascii_digit),
            "access-control-allow-methods"
            | "access-control-allow-headers"
            | "access-control-expose-headers" => value
                .split(|&b| b == b',')
                .all(|e| is_token(e.trim_ascii())),
            _ => false,
        };
        if !ok {
            problems.push(format!("{name}: {:?}", String::from_utf8_lossy(value)));
        }
    }
    problems
}

/// A finished fetch: what the oracle decided, the last response it was given, every
/// exchange as text, and the hygiene problems of every response.
pub struct Driven<'r> {
    pub outcome: Outcome<'r>,
    pub last: Response,
    pub transcript: String,
    pub hygiene: Vec<String>,
}

/// Runs `request` under `profile` against `svc` until the oracle is done, with a fresh
/// preflight cache: each preflight the oracle asks for becomes an `OPTIONS` request with
/// `Origin`, `Access-Control-Request-Method`, `Access-Control-Request-Headers` (the oracle's
/// joined unsafe names) and `Access-Control-Request-Private-Network: true` when it is a PNA
/// preflight; the actual request carries the oracle's method, header list, `Origin` as the
/// hop says (none on a same-origin GET), and a cookie when credentials are included.
pub fn drive<'r>(
    rt: &Runtime,
    svc: &Cors<Inner>,
    request: &'r Request,
    profile: &'r Profile,
) -> Driven<'r> {
    let mut cache = PreflightCache::default();
    let mut fetch = Fetch::new(request, profile);
    let mut transcript = String::new();
    let mut last = Response::default();
    let mut problems = Vec::new();
    let mut next = fetch.start(&mut cache, 0.0);
    // No redirects here: at most a preflight and the actual request.
    for _ in 0..4 {
        match next {
            Next::Done => break,
            Next::Preflight => {
                let preflight = fetch
                    .current_hop()
                    .and_then(|h| h.preflight.clone())
                    .expect("Next::Preflight without a preflight");
                let mut b = http::Request::builder()
                    .method(Method::OPTIONS)
                    .uri(target(fetch.current_url()))
                    .header("origin", fetch.serialized_origin())
                    .header("access-control-request-method", preflight.method);
                let acrh = preflight.headers.joined();
                if !acrh.is_empty() {
                    b = b.header("access-control-request-headers", acrh);
                }
                if preflight.private_network {
                    b = b.header("access-control-request-private-network", "true");
                }
                let req = b.body(String::new()).expect("valid preflight");
                let res = send(rt, svc, req.clone());
                show(&req, &res, &mut transcript);
                problems.extend(hygiene(&req, &res));
                last = to_oracle(&res);
                next = fetch.on_preflight_response(&last, &mut cache, 0.0);
            }
            Next::Request => {
                let method = Method::from_bytes(fetch.method().as_bytes()).expect("token method");
                let mut req = http::Request::builder()
                    .method(method)
                    .uri(target(fetch.current_url()))
                    .body(String::new())
                    .expect("valid request");
                let headers = req.headers_mut();
                for (name, value) in fetch.headers() {
                    headers.append(
                        HeaderName::from_bytes(name).expect("token name"),
                        HeaderValue::from_bytes(value).expect("valid value"),
                    );
                }
                let origin = fetch
                    .current_hop()
                    .map_or(OriginHeader::Absent, |h| h.origin_header);
                match origin {
                    OriginHeader::Absent => {}
                    OriginHeader::Null => {
                        headers.insert("origin", HeaderValue::from_static("null"));
                    }
                    OriginHeader::RequestOrigin => {
                        let value = HeaderValue::from_str(fetch.serialized_origin())
                            .expect("serialized origin");
                        headers.insert("origin", value);
                    }
                }
                if fetch.includes_credentials() {
                    headers.append("cookie", HeaderValue::from_static("session=abc"));
                }
                let res = send(rt, svc, req.clone());
                show(&req, &res, &mut transcript);
                problems.extend(hygiene(&req, &res));
                last = to_oracle(&res);
                next = fetch.on_response(&last, &mut cache, 0.0);
            }
        }
    }
    assert_eq!(next, Next::Done, "the fetch did not finish:\n{transcript}");
    Driven {
        outcome: fetch.outcome().clone(),
        last,
        transcript,
        hygiene: problems,
    }
}
