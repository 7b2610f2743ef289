//! Benchmark of the JSON path (criterion group `case`): `explain_json/simple_get`, a parsed
//! simple GET evaluated through the case format, for contrast with the oracle's typed path
//! (`crates/oracle/benches/evaluation.rs`).

use std::hint::black_box;

use corsproof_case::{explain_json, Input};
use criterion::{criterion_group, criterion_main, Criterion};

fn case(c: &mut Criterion) {
    let mut group = c.benchmark_group("case");
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

criterion_group!(benches, case);
criterion_main!(benches);
