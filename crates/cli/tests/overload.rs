//! `corsproof check` against targets that fail or say they are overloaded: target errors are
//! reported, never findings, and the run exits 3 (no verdict) only when more requests failed
//! than `--max-errors` allows, or the target stopped answering. The flaky server is the
//! engine tests' (`crates/engine/tests/support/flaky.rs`); it listens on 127.0.0.1.

#[path = "../../engine/tests/support/flaky.rs"]
mod flaky;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use corsproof_policy::Policy;
use flaky::{Fate, Flaky, RetryAfter, Script};

const POLICY: &str = "corpus/policies/public-api.toml";

/// Three retries from 5 ms.
const QUICK: &[&str] = &["--retries", "3", "--backoff-ms", "5"];

fn policy() -> Policy {
    Policy::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../corpus/policies/public-api.toml"
    ))
    .expect("a bundled policy")
}

fn corsproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `corsproof check URL` with `extra` flags (a short back-off among them: the default waits
/// seconds).
fn check(url: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        url,
        "--policy",
        POLICY,
        "--cases",
        "60",
        "--seed",
        "1",
        "--timeout",
        "1",
        "--no-save",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    corsproof(&args)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

#[test]
fn a_flaky_target_exits_3_only_above_the_error_budget() {
    let started = Instant::now();
    let script = Script {
        seed: 3,
        fates: vec![
            (20, Fate::Drop),
            (20, Fate::Reset),
            (15, Fate::Garbage),
            (40, Fate::Unavailable { times: 1 }),
            (
                30,
                Fate::TooMany {
                    times: 2,
                    retry_after: None,
                },
            ),
            (
                30,
                Fate::TooMany {
                    times: 2,
                    retry_after: Some(RetryAfter::Seconds(0)),
                },
            ),
        ],
        spare_probe: true,
        stall: Duration::from_secs(2),
    };
    let server = Flaky::start(&policy(), script);

    // Every failure allowed: the verdict, and the target errors listed in the report.
    let o = check(
        &server.url(),
        &[QUICK, &["--format", "json", "--max-errors", "100%"]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = json(&o);
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    let failed = report["stats"]["errors"].as_u64().expect("stats.errors");
    assert!(failed > 1, "{report}");
    assert_eq!(failed, server.failed());
    let listed = report["target_errors"]["listed"]
        .as_array()
        .expect("listed");
    let sum: u64 = listed.iter().filter_map(|e| e["count"].as_u64()).sum();
    let unlisted = report["target_errors"]["unlisted"]
        .as_u64()
        .expect("unlisted");
    assert_eq!(sum + unlisted, failed);
    assert!(report["stats"]["retries"].as_u64().is_some_and(|r| r > 0));

    // Exactly as many as allowed: still a verdict.
    let budget = failed.to_string();
    let o = check(
        &server.url(),
        &[QUICK, &["--format", "json", "--max-errors", &budget]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["stats"]["errors"].as_u64(), Some(failed));

    // One fewer: no verdict, and a message naming the failures and the first errors.
    let budget = (failed - 1).to_string();
    let o = check(&server.url(), &[QUICK, &["--max-errors", &budget]].concat());
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("corsproof check: {failed} of "))
            && stderr.contains(&format!(
                "requests got no usable answer, more than --max-errors {budget} allows"
            ))
            && stderr.contains("no verdict"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  closed (") || stderr.contains("  malformed ("),
        "{stderr}"
    );
    // The text report lists them apart from findings.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!("TARGET ERRORS ({failed} requests")),
        "{stdout}"
    );
    assert!(
        stdout.contains("verdict: conforms, no findings;"),
        "{stdout}"
    );
    eprintln!(
        "a_flaky_target_exits_3_only_above_the_error_budget: {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_target_that_always_answers_429_exits_3_without_findings() {
    let started = Instant::now();
    let server = Flaky::start(
        &policy(),
        Script::always(Fate::TooMany {
            times: u32::MAX,
            retry_after: None,
        }),
    );
    let o = check(
        &server.url(),
        &["--retries", "1", "--backoff-ms", "1", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let report = json(&o);
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(0),
        "{report}"
    );
    let listed = report["target_errors"]["listed"]
        .as_array()
        .expect("listed");
    assert!(!listed.is_empty());
    assert!(listed.iter().all(|e| e["kind"] == "overloaded"), "{report}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("stopped answering"), "{stderr}");
    assert!(
        stderr.contains("overloaded (")
            && stderr.contains("429 Too Many Requests on each of 2 attempts"),
        "{stderr}"
    );
    eprintln!(
        "a_target_that_always_answers_429_exits_3_without_findings: {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_bad_error_budget_is_a_usage_error() {
    for bad in ["-1", "1.5", "101%", "x%"] {
        let o = corsproof(&[
            "check",
            "http://127.0.0.1:1",
            "--policy",
            POLICY,
            &format!("--max-errors={bad}"),
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(text(&o).contains("--max-errors"), "{bad}: {}", text(&o));
    }
}
