//! Benchmarks of the oracle (criterion group `oracle`):
//!
//! - `full_evaluation/preflighted_credentialed_put`: one full evaluation of a credentialed PUT
//!   with three unsafe headers — `Fetch::new` → `start` (a preflight) →
//!   `on_preflight_response` → `on_response` → readable check and the count of headers script
//!   can see — with time advancing 601 s per evaluation so that every one preflights again and
//!   rewrites the cache (the loop body `tests/alloc.rs` proves allocation-free). The request
//!   is constructed once, outside the loop, as a caller that plays one request against several
//!   answers or profiles does: construction classifies its headers (R16, lowercase order), and
//!   each evaluation decides R18 and the preflight from that classification;
//! - `cors_check/exact_origin`: the CORS check alone, ACAO echoing the origin;
//! - `construct_and_evaluate/preflighted_credentialed_put`: the same with the request
//!   constructed afresh in every iteration (URL and origin parsed once, outside), for the cost
//!   of construction itself;
//! - `explain_json/simple_get`: the JSON path (`explain_json` of a parsed simple GET), for
//!   contrast with the typed path.

use std::hint::black_box;

use corsproof_spec::case::{explain_json, Input};
use corsproof_spec::cors_check::cors_check;
use corsproof_spec::expose::{is_visible, ExposedList};
use corsproof_spec::{
    CredentialsMode, Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response,
    Seconds,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const ORIGIN: &str = "https://app.example.com";

/// What script passes for the credentialed PUT with three unsafe headers.
fn credentialed_put_init(url: url::Url, origin: Origin) -> RequestInit {
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

fn bench_url() -> url::Url {
    url::Url::parse("https://api.example.com/items").expect("bench URL parses")
}

fn bench_origin() -> Origin {
    Origin::parse_serialized(ORIGIN).expect("bench origin parses")
}

fn credentialed_put() -> Request {
    let init = credentialed_put_init(bench_url(), bench_origin());
    Request::construct(init, &Profile::fetch()).expect("bench request is valid")
}

fn preflight_response() -> Response {
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

fn actual_response() -> Response {
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

/// One full evaluation; returns the number of visible headers (0 if not readable).
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

fn oracle(c: &mut Criterion) {
    let mut group = c.benchmark_group("oracle");
    group.throughput(Throughput::Elements(1));

    let request = credentialed_put();
    let profile = Profile::fetch();
    let preflight = preflight_response();
    let response = actual_response();
    let mut cache = PreflightCache::default();
    let mut now: Seconds = 0.0;
    assert_eq!(
        evaluate(&request, &profile, &preflight, &response, &mut cache, now),
        2
    );
    group.bench_function("full_evaluation/preflighted_credentialed_put", |b| {
        b.iter(|| {
            now += 601.0;
            black_box(evaluate(
                black_box(&request),
                &profile,
                black_box(&preflight),
                black_box(&response),
                &mut cache,
                now,
            ))
        })
    });

    let (url, origin) = (bench_url(), bench_origin());
    group.bench_function("construct_and_evaluate/preflighted_credentialed_put", |b| {
        b.iter(|| {
            now += 601.0;
            let init = credentialed_put_init(url.clone(), origin.clone());
            let request = Request::construct(init, &profile).expect("bench request is valid");
            black_box(evaluate(
                black_box(&request),
                &profile,
                black_box(&preflight),
                black_box(&response),
                &mut cache,
                now,
            ))
        })
    });

    group.bench_function("cors_check/exact_origin", |b| {
        b.iter(|| {
            cors_check(
                black_box(&response),
                black_box(ORIGIN),
                black_box(CredentialsMode::Include),
            )
        })
    });

    let input = Input::parse(
        r#"{"request": {"url": "https://api.example.com/items", "origin": "https://app.example.com"},
            "response": {"status": 200, "headers": [["Access-Control-Allow-Origin", "*"], ["Content-Type", "text/plain"]]}}"#,
    )
    .expect("bench case parses");
    group.bench_function("explain_json/simple_get", |b| {
        b.iter(|| explain_json(black_box(&input), None).expect("bench case evaluates"))
    });

    group.finish();
}

criterion_group!(benches, oracle);
criterion_main!(benches);
