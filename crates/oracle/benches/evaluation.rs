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
//!
//! The JSON path (`explain_json`) is benchmarked with the case format, in `crates/case`.

use std::hint::black_box;

use corsproof_oracle::cors_check::cors_check;
use corsproof_oracle::{CredentialsMode, PreflightCache, Profile, Request, Seconds};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod common;
use common::{
    actual_response, credentialed_put, credentialed_put_init, evaluate, preflight_response,
    put_origin, put_url, ORIGIN,
};

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
        Some(2)
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

    let (url, origin) = (put_url(), put_origin());
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

    group.finish();
}

criterion_group!(benches, oracle);
criterion_main!(benches);
