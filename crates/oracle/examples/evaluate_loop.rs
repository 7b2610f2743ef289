//! The benchmark's full evaluation (`full_evaluation/preflighted_credentialed_put` of
//! `benches/evaluation.rs`) run a given number of times, for whole-process measurements:
//! instruction counts under `valgrind --tool=callgrind` (run it with two counts and divide
//! the difference, so that setup cancels out) or `/usr/bin/time`.
//!
//! `cargo build --profile bench -p corsproof-oracle --example evaluate_loop`, then
//! `target/release/examples/evaluate_loop 100000`.

use std::hint::black_box;

use corsproof_oracle::{PreflightCache, Profile, Seconds};

#[path = "../benches/common/mod.rs"]
mod common;
use common::{actual_response, credentialed_put, evaluate, preflight_response};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let request = credentialed_put();
    let profile = Profile::fetch();
    let preflight = preflight_response();
    let response = actual_response();
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
        )
        .expect("every evaluation preflights, then reads");
        now += 601.0;
    }
    assert_eq!(visible as u64, 2 * n);
    println!("{n} evaluations, {visible} visible headers");
}
