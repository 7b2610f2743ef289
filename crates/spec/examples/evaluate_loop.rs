//! The benchmark's full evaluation (`full_evaluation/preflighted_credentialed_put` of
//! `benches/evaluation.rs`) run a given number of times, for whole-process measurements:
//! instruction counts under `valgrind --tool=callgrind` (run it with two counts and divide
//! the difference, so that setup cancels out) or `/usr/bin/time`.
//!
//! `cargo build --profile bench -p corsproof-spec --example evaluate_loop`, then
//! `target/release/examples/evaluate_loop 100000`.

use std::hint::black_box;

use corsproof_spec::expose::{is_visible, ExposedList};
use corsproof_spec::{
    CredentialsMode, Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response,
    Seconds,
};

const ORIGIN: &str = "https://app.example.com";

fn request() -> Request {
    let url = url::Url::parse("https://api.example.com/items").expect("URL parses");
    let origin = Origin::parse_serialized(ORIGIN).expect("origin parses");
    let mut init = RequestInit::new(url, origin);
    init.method = "PUT".to_string();
    init.credentials = CredentialsMode::Include;
    init.headers = vec![
        (b"Content-Type".to_vec(), b"application/json".to_vec()),
        (b"X-Request-Id".to_vec(), b"1".to_vec()),
        (b"X-Trace".to_vec(), b"a".to_vec()),
    ];
    Request::construct(init, &Profile::fetch()).expect("request is valid")
}

/// One full evaluation; the number of visible headers (0 if not readable).
#[inline(never)]
fn evaluate(
    request: &Request,
    profile: &Profile,
    preflight: &Response,
    response: &Response,
    cache: &mut PreflightCache,
    now: Seconds,
) -> usize {
    let mut fetch = Fetch::new(request, profile);
    let next = fetch.start(cache, now);
    assert_eq!(next, Next::Preflight);
    let next = fetch.on_preflight_response(preflight, cache, now);
    assert_eq!(next, Next::Request);
    let next = fetch.on_response(response, cache, now);
    assert_eq!(next, Next::Done);
    let outcome = fetch.outcome();
    if !outcome.readable {
        return 0;
    }
    let exposed = ExposedList::of(response, request.credentials);
    response
        .headers()
        .iter()
        .filter(|(n, _)| is_visible(n, outcome.response_type, &exposed))
        .count()
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let request = request();
    let profile = Profile::fetch();
    let preflight = Response::new(
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
    );
    let response = Response::new(
        200,
        [
            ("Access-Control-Allow-Origin", ORIGIN),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Expose-Headers", "x-request-id"),
            ("Content-Type", "application/json"),
            ("X-Request-Id", "1"),
        ],
    );
    let mut cache = PreflightCache::default();
    let mut now: Seconds = 0.0;
    let mut visible = 0usize;
    for _ in 0..n {
        visible += evaluate(
            black_box(&request),
            &profile,
            black_box(&preflight),
            black_box(&response),
            &mut cache,
            now,
        );
        now += 601.0;
    }
    assert_eq!(visible as u64, 2 * n);
    println!("{n} evaluations, {visible} visible headers");
}
