//! Errors and overload are not CORS verdicts: a flaky server in front of a correct CORS answer
//! (`support/flaky.rs`) gives no finding and exactly the target errors its log implies; 429
//! and 503 answers are retried with a back-off the workers share, honouring `Retry-After`; a
//! 503 that repeats is judged; a 429 that persists is a target error. The same for `audit`.
//!
//! Every server listens on 127.0.0.1, every run is bounded by its cases, timeouts, retries and
//! deadline, and the timeouts and back-offs are short so that the file runs in seconds.

#[path = "support/flaky.rs"]
mod flaky;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use corsproof_engine::audit::{self, AuditError};
use corsproof_engine::check::{check, CheckConfig, CheckError, STOP_AFTER_FAILURES};
use corsproof_engine::retry::{RetryPolicy, SendError};
use corsproof_policy::Policy;
use corsproof_report::{CheckKind, Kind, Report, TargetErrorKind};
use flaky::{Arrival, Fate, Flaky, RetryAfter, Script};

fn policy(file: &str) -> Policy {
    let path = format!(
        "{}/../../corpus/policies/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    Policy::from_path(&path).expect("a bundled policy")
}

/// A seed whose script gives the audit's probes a 429 of each `Retry-After` form.
const RETRY_AFTER_SEED: u64 = 4;

/// Connections of a check.
const CONCURRENCY: usize = 4;

/// A check of `cases` generated requests with short timeouts and back-offs.
fn config(cases: usize, retry: RetryPolicy) -> CheckConfig {
    CheckConfig {
        cases,
        seed: 11,
        concurrency: CONCURRENCY,
        timeout: Duration::from_millis(300),
        deadline: Duration::from_secs(60),
        shrink: false,
        retry,
        ..CheckConfig::default()
    }
}

/// Three retries from 5 ms, at most 40 ms each.
fn quick() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(40),
    }
}

async fn run_check(server: &Flaky, file: &str, config: &CheckConfig) -> Result<Report, CheckError> {
    let url = url::Url::parse(&server.url()).expect("a URL");
    check(&policy(file), file, &url, config).await
}

fn kinds(report: &Report) -> Vec<Kind> {
    report.findings.iter().map(|f| f.kind).collect()
}

/// The seconds a test took, printed for the record.
fn took(name: &str, started: Instant) -> Duration {
    let t = started.elapsed();
    eprintln!("{name}: {:.2} s", t.as_secs_f64());
    t
}

#[tokio::test]
async fn the_correct_answer_alone_conforms() {
    let started = Instant::now();
    let server = Flaky::start(&policy("public-api.toml"), Script::always(Fate::Answer));
    let report = run_check(&server, "public-api.toml", &config(60, quick()))
        .await
        .expect("the check runs");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!((report.stats.errors, report.stats.retries), (0, 0));
    // Every request got the middleware's answer (a refused preflight is a 403), none the
    // server's own 400 for a request it could not read.
    assert!(server
        .log()
        .iter()
        .all(|a| a.status.is_some_and(|s| s != 400)));
    took("the_correct_answer_alone_conforms", started);
}

/// The flaky script (drops, resets, garbage, 503 once, 429 twice with and without
/// `Retry-After`), with stalls past the client's timeout too.
fn flaky_mix(seed: u64) -> Script {
    let mut script = Script::flaky(seed);
    script.fates.push((12, Fate::Stall));
    script.stall = Duration::from_secs(1);
    script
}

#[tokio::test]
async fn a_flaky_server_gives_no_finding_and_exactly_its_target_errors() {
    let started = Instant::now();
    let server = Flaky::start(&policy("public-api.toml"), flaky_mix(5));
    let report = run_check(&server, "public-api.toml", &config(60, quick()))
        .await
        .expect("the check runs");
    let log = server.log();

    // The script played every fate.
    for fate in flaky_mix(5).fates.iter().map(|(_, f)| *f) {
        assert!(
            log.iter().any(|a| a.fate == fate),
            "{fate:?} never happened"
        );
    }
    assert!(report.findings.is_empty(), "{:#?}", report.findings);

    // Each request the client could not get an answer for is one target error.
    let failed = server.failed();
    assert!(failed > 0);
    assert_eq!(report.stats.errors, failed);
    assert_eq!(report.target_errors.total(), failed);
    // Every 429 and 503 answered was retried (none more often than the retries allow).
    let overload = log
        .iter()
        .filter(|a| matches!(a.status, Some(429 | 503)))
        .count() as u64;
    assert!(overload > 0);
    assert_eq!(report.stats.retries, overload);

    // Each listed error counts exactly the failed requests of its kind, method and URL:
    // resets and drops are closed connections, stalls timeouts, garbage malformed answers.
    let mut expected: BTreeMap<(TargetErrorKind, String, String), u64> = BTreeMap::new();
    for a in log.iter().filter(|a| a.fails()) {
        let kind = match a.fate {
            Fate::Stall => TargetErrorKind::Timeout,
            Fate::Garbage => TargetErrorKind::Malformed,
            _ => TargetErrorKind::Closed,
        };
        let url = format!("{}{}", server.url(), a.target);
        *expected.entry((kind, a.method.clone(), url)).or_default() += 1;
    }
    let kinds: Vec<TargetErrorKind> = expected.keys().map(|k| k.0).collect();
    for kind in [
        TargetErrorKind::Closed,
        TargetErrorKind::Timeout,
        TargetErrorKind::Malformed,
    ] {
        assert!(kinds.contains(&kind), "no {kind} error");
    }
    for e in &report.target_errors.listed {
        let key = (e.kind, e.request.method.clone(), e.request.url.clone());
        assert_eq!(Some(&e.count), expected.get(&key), "{key:?}: {}", e.error);
    }
    assert!(took("a_flaky_server_gives_no_finding", started) < Duration::from_secs(30));
}

#[tokio::test]
async fn a_route_that_always_answers_503_is_still_judged() {
    let started = Instant::now();
    let server = Flaky::start(
        &policy("public-api.toml"),
        Script::always(Fate::Unavailable { times: u32::MAX }),
    );
    let report = run_check(&server, "public-api.toml", &config(20, quick()))
        .await
        .expect("the check runs");
    let found = kinds(&report);
    assert!(
        found.contains(&Kind::Check(CheckKind::ReadDenied)),
        "{found:?}"
    );
    let denied = report
        .findings
        .iter()
        .find(|f| f.kind == Kind::Check(CheckKind::ReadDenied))
        .expect("read-denied");
    assert_eq!(denied.route.as_deref(), Some("public-api"));
    assert_eq!(denied.response.status, 503);
    assert!(report.target_errors.is_empty());
    // Each 503 was retried once, and the repeated 503 judged.
    let deliveries = report.stats.requests - report.stats.retries;
    assert_eq!(report.stats.retries, deliveries);
    took("a_route_that_always_answers_503_is_still_judged", started);
}

#[tokio::test]
async fn a_server_that_always_answers_429_ends_in_target_errors() {
    let started = Instant::now();
    let server = Flaky::start(
        &policy("public-api.toml"),
        Script::always(Fate::RATE_LIMITED),
    );
    let report = match run_check(&server, "public-api.toml", &config(20, quick())).await {
        Err(CheckError::Stopped { report, not_run }) => {
            assert!(not_run > 0);
            report
        }
        other => panic!("expected the run to stop, got {other:?}"),
    };
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    // The reachability request's failure stops the run too, but is no case's.
    assert!(
        report.stats.errors >= STOP_AFTER_FAILURES - 1,
        "{:?}",
        report.stats
    );
    for e in &report.target_errors.listed {
        assert_eq!(e.kind, TargetErrorKind::Overloaded);
        assert_eq!(e.error, "429 Too Many Requests on each of 4 attempts");
    }
    assert!(server.log().iter().all(|a| a.status == Some(429)));
    took(
        "a_server_that_always_answers_429_ends_in_target_errors",
        started,
    );
}

/// The 429 answers of `log` with their retries (the next arrival of the same request on the
/// same kept-alive connection).
fn retried_429s(log: &[Arrival]) -> Vec<(&Arrival, &Arrival)> {
    log.iter()
        .enumerate()
        .filter(|(_, a)| a.status == Some(429))
        .filter_map(|(i, a)| {
            let retry = log[i + 1..]
                .iter()
                .find(|b| b.key == a.key && b.conn == a.conn)?;
            Some((a, retry))
        })
        .collect()
}

#[tokio::test]
async fn a_server_asking_to_slow_down_slows_the_whole_run() {
    let started = Instant::now();
    let script = Script {
        seed: 2,
        fates: vec![(
            15,
            Fate::TooMany {
                times: 1,
                retry_after: None,
            },
        )],
        spare_probe: true,
        stall: Duration::from_secs(1),
        busy_for: Duration::ZERO,
    };
    let server = Flaky::start(&policy("public-api.toml"), script);
    // Waits of 300 to 600 ms before the first retry.
    let retry = RetryPolicy {
        max_retries: 2,
        backoff: Duration::from_millis(600),
        max_backoff: Duration::from_secs(2),
    };
    let report = run_check(&server, "public-api.toml", &config(40, retry))
        .await
        .expect("the check runs");
    assert!(report.findings.is_empty() && report.target_errors.is_empty());
    let log = server.log();
    let pairs = retried_429s(&log);
    assert!(!pairs.is_empty(), "no 429 in {} requests", log.len());
    for (answer, retry) in pairs {
        let gap = retry.at.duration_since(answer.at);
        assert!(gap >= Duration::from_millis(290), "retried after {gap:?}");
        // Until the retry, only requests the other workers had on the wire when the 429
        // came may arrive: one each at most.
        let meanwhile = log
            .iter()
            .filter(|b| b.at > answer.at && b.at < answer.at + Duration::from_millis(290))
            .count();
        assert!(
            meanwhile < CONCURRENCY,
            "{meanwhile} requests during the pause after {}",
            answer.target
        );
    }
    took("a_server_asking_to_slow_down_slows_the_whole_run", started);
}

/// An audit of `server` at `/v1/items` for the site https://example.com.
async fn run_audit(server: &Flaky, retry: RetryPolicy) -> Result<Report, AuditError> {
    let options = audit::Options {
        origin: Some("https://example.com".into()),
        timeout: Duration::from_secs(1),
        deadline: Some(Duration::from_secs(30)),
        tls: None,
        retry,
    };
    audit::audit(&format!("{}/v1/items", server.url()), &options).await
}

#[tokio::test]
async fn audit_retries_overload_and_judges_the_real_answer() {
    let started = Instant::now();
    let plain = Flaky::start(&policy("public-api.toml"), Script::always(Fate::Answer));
    let expected = run_audit(&plain, quick()).await.expect("the audit runs");
    assert!(!expected.findings.is_empty(), "the public API grants `*`");

    let script = Script {
        seed: 1,
        fates: vec![
            (
                300,
                Fate::TooMany {
                    times: 2,
                    retry_after: None,
                },
            ),
            (300, Fate::Unavailable { times: 1 }),
        ],
        spare_probe: false,
        stall: Duration::from_secs(1),
        busy_for: Duration::ZERO,
    };
    let flaky = Flaky::start(&policy("public-api.toml"), script);
    let report = run_audit(&flaky, quick()).await.expect("the audit runs");
    assert_eq!(kinds(&report), kinds(&expected));
    assert!(report.target_errors.is_empty());
    let overload = flaky
        .log()
        .iter()
        .filter(|a| matches!(a.status, Some(429 | 503)))
        .count();
    assert!(overload > 0);
    assert_eq!(report.stats.retries, overload as u64);
    took("audit_retries_overload_and_judges_the_real_answer", started);
}

#[tokio::test]
async fn audit_of_a_server_that_always_answers_429_stops() {
    let started = Instant::now();
    let server = Flaky::start(
        &policy("public-api.toml"),
        Script::always(Fate::RATE_LIMITED),
    );
    match run_audit(&server, quick()).await {
        Err(AuditError::Stopped {
            answered: 0,
            source:
                SendError::Overloaded {
                    status: 429,
                    attempts: 4,
                },
            ..
        }) => {}
        other => panic!("expected the audit to stop, got {other:?}"),
    }
    took("audit_of_a_server_that_always_answers_429_stops", started);
}

#[tokio::test]
async fn retry_after_is_honoured_in_both_forms_and_capped() {
    // The audit sends one request at a time: each retry waits for its own 429 only.
    let started = Instant::now();
    let seconds = Fate::TooMany {
        times: 1,
        retry_after: Some(RetryAfter::Seconds(1)),
    };
    let date = Fate::TooMany {
        times: 1,
        retry_after: Some(RetryAfter::DateIn(Duration::from_secs(2))),
    };
    let hour = Fate::TooMany {
        times: 1,
        retry_after: Some(RetryAfter::Seconds(3600)),
    };
    let script = Script {
        seed: RETRY_AFTER_SEED,
        fates: vec![(30, seconds), (30, date), (30, hour)],
        spare_probe: false,
        stall: Duration::from_secs(1),
        busy_for: Duration::ZERO,
    };
    let server = Flaky::start(&policy("public-api.toml"), script);
    let retry = RetryPolicy {
        max_retries: 2,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(1500),
    };
    let report = run_audit(&server, retry).await.expect("the audit runs");
    assert!(report.target_errors.is_empty());
    let log = server.log();
    let pairs = retried_429s(&log);
    for fate in [seconds, date, hour] {
        assert!(
            pairs.iter().any(|(a, _)| a.fate == fate),
            "no {fate:?} in {} requests",
            log.len()
        );
    }
    for (answer, retry) in pairs {
        let gap = retry.at.duration_since(answer.at);
        // An HTTP-date has whole seconds: two seconds ahead is more than one.
        assert!(
            gap >= Duration::from_secs(1),
            "{:?} retried after {gap:?}",
            answer.fate
        );
        // An hour is capped at max_backoff.
        assert!(
            gap < Duration::from_millis(1500 + 300),
            "{:?} retried after {gap:?}",
            answer.fate
        );
    }
    took("retry_after_is_honoured_in_both_forms_and_capped", started);
}

/// Requests per whole second of `log`, from its first arrival: the full seconds only (the
/// last, partial one left out).
fn per_second(log: &[Arrival]) -> Vec<usize> {
    let Some(first) = log.first().map(|a| a.at) else {
        return Vec::new();
    };
    let Some(last) = log.last().map(|a| a.at) else {
        return Vec::new();
    };
    let seconds = last.duration_since(first).as_secs() as usize;
    let mut counts = vec![0; seconds];
    for a in log {
        let s = a.at.duration_since(first).as_secs() as usize;
        if let Some(c) = counts.get_mut(s) {
            *c += 1;
        }
    }
    counts
}

/// `--rate 50`: the server sees 50 ± 5 requests in every second of a 10 s run. A behaviour
/// test, slow by design (about 10 s), its bounds generous.
#[tokio::test]
async fn a_rate_limit_holds_over_a_run() {
    let started = Instant::now();
    let server = Flaky::start(&policy("public-api.toml"), Script::always(Fate::Answer));
    let config = CheckConfig {
        rate: Some(50.0),
        // About ten seconds of requests at 50 a second.
        max_requests: Some(520),
        concurrency: 32,
        ..config(2_000, quick())
    };
    let report = run_check(&server, "public-api.toml", &config)
        .await
        .expect("the check runs");
    assert!(report.findings.is_empty() && report.target_errors.is_empty());
    assert!(report.stats.skipped > 0, "the budget ends the run");
    let counts = per_second(&server.log());
    assert!(counts.len() >= 9, "{counts:?}");
    for (second, n) in counts.iter().enumerate() {
        assert!(
            (45..=55).contains(n),
            "second {second}: {n} requests ({counts:?})"
        );
    }
    let t = took("a_rate_limit_holds_over_a_run", started);
    assert!(t < Duration::from_secs(30));
}

/// A target that answers every request 429 with `Retry-After: 1` for its first 2 s (a rate
/// limiter that has just banned the client), then correctly: the run waits and finishes with
/// no finding and no target error.
#[tokio::test]
async fn a_target_that_refuses_for_two_seconds_slows_the_run_down() {
    let started = Instant::now();
    let script = Script {
        busy_for: Duration::from_secs(2),
        ..Script::always(Fate::Answer)
    };
    let server = Flaky::start(&policy("public-api.toml"), script);
    // Retries wait at least what Retry-After asks.
    let retry = RetryPolicy {
        max_retries: 4,
        backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(5),
    };
    // A generous timeout: only the 429s are under test.
    let config = CheckConfig {
        timeout: Duration::from_secs(5),
        ..config(50, retry)
    };
    let report = run_check(&server, "public-api.toml", &config)
        .await
        .expect("the check runs");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert!(
        report.target_errors.is_empty(),
        "{:?}",
        report.target_errors
    );
    let log = server.log();
    let refused = log.iter().filter(|a| a.status == Some(429)).count();
    assert!(refused > 0);
    // The run paused instead of hammering: a few 429s per connection, not hundreds.
    assert!(refused <= 4 * CONCURRENCY * 2, "{refused} answers 429");
    assert!(log.iter().any(|a| a.status == Some(200)));
    took("a_target_that_refuses_for_two_seconds", started);
}
