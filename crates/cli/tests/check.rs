//! `corsproof run` and `corsproof check` end to end: our middleware and nginx (when
//! installed) conform on every bundled policy; exit codes for unreachable targets, flaky or
//! overloaded ones, and bad input; replayable cases.

use std::path::Path;
use std::process::{Command, Output, Stdio};

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

const POLICIES: [&str; 4] = [
    "corpus/policies/public-api.toml",
    "corpus/policies/spa-credentialed.toml",
    "corpus/policies/mixed-routes.toml",
    "corpus/policies/pna.toml",
];

fn run_clean(target: &str) {
    for policy in POLICIES {
        let o = corsproof(&[
            "run",
            target,
            "--policy",
            policy,
            "--cases",
            "400",
            "--seed",
            "1",
            "--format",
            "json",
            "--no-save",
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(0), "{target} {policy}: {}", text(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
        assert_eq!(report["findings"].as_array().map(Vec::len), Some(0));
        assert!(
            report["stats"]["requests"].as_u64().unwrap_or(0) > 400,
            "{report}"
        );
        assert_eq!(report["seed"], 1);
        assert_eq!(report["policy"], policy);
    }
}

#[test]
fn the_text_report_says_what_was_checked_unless_quiet() {
    let args = |quiet: bool| {
        let mut a = vec![
            "run",
            "tower",
            "--policy",
            "corpus/policies/mixed-routes.toml",
            "--cases",
            "50",
            "--seed",
            "1",
            "--no-save",
        ];
        if quiet {
            a.push("--quiet");
        }
        a
    };
    let loud = corsproof(&args(false));
    let out = String::from_utf8_lossy(&loud.stdout).to_string();
    assert_eq!(loud.status.code(), Some(0), "{}", text(&loud));
    for part in [
        "checked, under fetch, chromium, firefox:",
        "  route api: ",
        "  route admin: ",
        "  no route: ",
        "verdict: conforms, no findings",
    ] {
        assert!(out.contains(part), "{part:?} not in {out}");
    }
    let quiet = corsproof(&args(true));
    let out = String::from_utf8_lossy(&quiet.stdout).to_string();
    assert!(!out.contains("checked, under"), "{out}");
    assert!(out.contains("verdict: conforms, no findings"), "{out}");
    // JSON keeps the coverage either way.
    let json = corsproof(&[&args(true)[..], &["--format", "json"]].concat());
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert!(
        report["coverage"]["routes"]
            .as_array()
            .is_some_and(|r| r.len() >= 4),
        "{report}"
    );
}

#[test]
fn run_tower_conforms_on_every_bundled_policy() {
    run_clean("tower");
}

#[test]
fn run_nginx_conforms_on_every_bundled_policy() {
    let installed = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .any(|p| Path::new(p).is_file());
    let found = if installed {
        Ok(())
    } else {
        Err("not installed".to_string())
    };
    if !corsproof_testkit::tool::require_that("nginx", found, "`corsproof run nginx` starts it") {
        return;
    }
    run_clean("nginx");
}

#[test]
fn unreachable_target_exits_3_and_bad_input_exits_2() {
    // A port nothing listens on: bind one, read its number, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let o = corsproof(&[
        "check",
        &url,
        "--policy",
        "corpus/policies/public-api.toml",
        "--timeout",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("unreachable"), "{}", text(&o));
    let o = corsproof(&[
        "check",
        "not a url",
        "--policy",
        "corpus/policies/public-api.toml",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = corsproof(&[
        "check",
        &format!("{url}/api"),
        "--policy",
        "corpus/policies/public-api.toml",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no path"), "{}", text(&o));
    let o = corsproof(&["check", &url, "--policy", "Cargo.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// A one-thread server that answers every connection with `behaviour` (bounded: it serves
/// at most 16 connections, then its thread ends).
fn hostile(behaviour: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            match behaviour {
                "hang" => std::thread::sleep(std::time::Duration::from_secs(4)),
                "garbage" => {
                    let _ = s.write_all(b"\x00\x01 this is not HTTP\r\n\r\n");
                }
                "close" => {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
                }
                _ => {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Big: ");
                    let _ = s.write_all(&vec![b'a'; 1024 * 1024]);
                    let _ = s.write_all(b"\r\nContent-Length: 0\r\n\r\n");
                }
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn hostile_targets_exit_3_within_the_timeout() {
    for behaviour in ["hang", "garbage", "close", "huge-header"] {
        let url = hostile(behaviour);
        let started = std::time::Instant::now();
        let o = corsproof(&[
            "check",
            &url,
            "--policy",
            "corpus/policies/public-api.toml",
            "--timeout",
            "1",
        ]);
        assert_eq!(o.status.code(), Some(3), "{behaviour}: {}", text(&o));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{behaviour} took {:?}",
            started.elapsed()
        );
        assert!(!text(&o).contains("panicked"), "{behaviour}: {}", text(&o));
    }
}

/// Starts `corsproof serve` on a free port; returns the child and its URL.
fn serve(policy: &str) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .args([
            "serve",
            "--policy",
            policy,
            "--listen",
            "127.0.0.1:0",
            "--timeout",
            "120",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listening line");
    let url = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("an address")
        .to_string();
    (child, url)
}

/// A server that reflects any Origin with credentials (a classic defect), on a thread that
/// ends when the test process does.
fn reflector() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(10_000) {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                for _ in 0..1000 {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match s.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    buf.drain(..end + 4);
                    let origin = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Origin: "))
                        .unwrap_or("");
                    let mut res = String::from("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
                    if !origin.is_empty() {
                        res.push_str(&format!(
                            "Access-Control-Allow-Origin: {origin}\r\nAccess-Control-Allow-Credentials: true\r\n"
                        ));
                    }
                    res.push_str("\r\n");
                    if s.write_all(res.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn differential_against_a_second_target() {
    let policy = "corpus/policies/mixed-routes.toml";
    let (mut tower, tower_url) = serve(policy);
    let (mut twin, twin_url) = serve(policy);
    // Two correct implementations agree.
    let o = corsproof(&[
        "check",
        &tower_url,
        "--against",
        &twin_url,
        "--policy",
        policy,
        "--cases",
        "300",
        "--seed",
        "4",
        "--format",
        "json",
        "--no-save",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A reflecting server disagrees, and the report says which side breaks the policy.
    let bad = reflector();
    let o = corsproof(&[
        "check",
        &tower_url,
        "--against",
        &bad,
        "--policy",
        policy,
        "--cases",
        "100",
        "--seed",
        "4",
        "--format",
        "json",
        "--no-save",
        "--quiet",
    ]);
    let _ = tower.kill();
    let _ = twin.kill();
    let _ = tower.wait();
    let _ = twin.wait();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let diff: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "differential")
        .collect();
    assert!(!diff.is_empty(), "{report}");
    assert!(
        diff.iter().any(|f| f["explanation"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("{bad}/ disagrees with the policy")))),
        "{diff:?}"
    );
}

#[test]
fn saved_cases_replay_the_finding() {
    let bad = reflector();
    let dir = std::env::temp_dir().join(format!("corsproof-cases-{}", std::process::id()));
    let dir_s = dir.display().to_string();
    let policy = "corpus/policies/spa-credentialed.toml";
    let o = corsproof(&[
        "check",
        &bad,
        "--policy",
        policy,
        "--cases",
        "100",
        "--seed",
        "9",
        "--save-cases",
        &dir_s,
        "--quiet",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("cases written")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in &files {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("JSON");
        let kind = case["kind"].as_str().expect("kind").to_string();
        let o = corsproof(&[
            "check",
            &bad,
            "--policy",
            policy,
            "--replay",
            &file.display().to_string(),
            "--format",
            "json",
            "--quiet",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}: {}", file.display(), text(&o));
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        assert!(
            report["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["kind"] == kind.as_str()),
            "{kind} not replayed from {}: {report}",
            file.display()
        );
        assert_eq!(report["cases"], 1, "{report}");
        // The seed saved with the case, not a new one.
        assert_eq!(report["seed"], 9, "{report}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sarif_results_point_at_their_routes_line() {
    let bad = reflector();
    let policy = "corpus/policies/spa-credentialed.toml";
    let o = corsproof(&[
        "check",
        &bad,
        "--policy",
        policy,
        "--cases",
        "100",
        "--seed",
        "9",
        "--no-save",
        "--quiet",
        "--format",
        "sarif",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).expect("SARIF is JSON");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    // The line of each `[[route]]` header and of each route's `path` and `name`, read from
    // the file here: a route's line is where its table starts.
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(policy),
    )
    .expect("policy text");
    let lines: Vec<&str> = source.lines().collect();
    let mut with_route = 0;
    for r in results {
        let Some(route) = r["locations"][0]["logicalLocations"][0]["name"].as_str() else {
            continue;
        };
        with_route += 1;
        let line = r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap_or_else(|| panic!("no startLine: {r}"));
        let line = usize::try_from(line).expect("line fits");
        assert_eq!(lines[line - 1].trim(), "[[route]]", "{r}");
        // The route's own path or name follows before the next table.
        let table: Vec<&str> = lines[line..]
            .iter()
            .take_while(|l| l.trim() != "[[route]]")
            .copied()
            .collect();
        assert!(
            table.iter().any(|l| l.contains(&format!("\"{route}\""))),
            "line {line} does not start route {route}: {table:?}"
        );
    }
    assert!(with_route > 0, "no result names a route");
}

// ---------------------------------------------------------------------------------------------
// Targets that fail or say they are overloaded: target errors are reported, never findings,
// and the run exits 3 (no verdict) only when more requests failed than `--max-errors` allows,
// or the target stopped answering. The flaky server is the engine tests' (on 127.0.0.1).
// ---------------------------------------------------------------------------------------------

#[path = "../../engine/tests/support/flaky.rs"]
mod flaky;

use flaky::{Fate, Flaky, Script};

/// The policy the flaky servers answer for.
const POLICY: &str = "corpus/policies/public-api.toml";

/// Three retries from 5 ms.
/// A short back-off, and each profile's own requests: the flaky server draws a request's fate
/// from all its bytes, so that which profile's request goes out (the first to need it,
/// when answers are shared between profiles) would decide whether it fails.
const QUICK: &[&str] = &["--retries", "3", "--backoff-ms", "5", "--per-browser"];

fn public_api() -> corsproof_policy::Policy {
    corsproof_policy::Policy::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../corpus/policies/public-api.toml"
    ))
    .expect("a bundled policy")
}

/// `corsproof check URL` with `extra` flags (a short back-off among them: the default waits
/// seconds).
fn check_flaky(url: &str, extra: &[&str]) -> Output {
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
    let started = std::time::Instant::now();
    let server = Flaky::start(&public_api(), Script::flaky(3));

    // Every failure allowed: the verdict, and the target errors listed in the report.
    let o = check_flaky(
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
    let o = check_flaky(
        &server.url(),
        &[QUICK, &["--format", "json", "--max-errors", &budget]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(json(&o)["stats"]["errors"].as_u64(), Some(failed));

    // One fewer: no verdict, and a message naming the failures and the first errors.
    let budget = (failed - 1).to_string();
    let o = check_flaky(&server.url(), &[QUICK, &["--max-errors", &budget]].concat());
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
    let started = std::time::Instant::now();
    let server = Flaky::start(&public_api(), Script::always(Fate::RATE_LIMITED));
    let o = check_flaky(
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

/// `--baseline`: a run against its own saved report reports nothing new (exit 0); a finding
/// the baseline lacks is reported (exit 1) and one only the baseline has is counted as gone;
/// a file that is not a report is bad input (exit 2).
#[test]
fn baseline_reports_only_what_changed() {
    // The middleware serves the public API; checked against the credentialed SPA policy it
    // breaks that policy's grants.
    let (mut server, url) = serve("corpus/policies/public-api.toml");
    let dir = std::env::temp_dir().join(format!("corsproof-baseline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let saved = dir.join("saved.json");
    let check = |extra: &[&str]| {
        let mut args = vec![
            "check",
            &url,
            "--policy",
            "corpus/policies/spa-credentialed.toml",
            "--cases",
            "0",
            "--seed",
            "3",
            "--no-save",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        corsproof(&args)
    };
    let first = check(&[
        "--format",
        "json",
        "--output",
        saved.to_str().expect("utf-8"),
    ]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("the report")).expect("JSON");
    let findings = report["findings"].as_array().expect("findings").clone();
    assert!(!findings.is_empty());

    let same = check(&["--baseline", saved.to_str().expect("utf-8")]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    let line = format!(
        "0 new finding(s), {} known left out, 0 gone",
        findings.len()
    );
    assert!(
        String::from_utf8_lossy(&same.stderr).contains(&line),
        "{}",
        text(&same)
    );

    // The baseline without its first finding, and with one for a route that is gone.
    let mut edited = report.clone();
    let mut gone = findings[0].clone();
    gone["route"] = serde_json::json!("/no-longer/");
    edited["findings"] =
        serde_json::Value::Array(findings[1..].iter().cloned().chain([gone]).collect());
    let edited_path = dir.join("edited.json");
    std::fs::write(&edited_path, edited.to_string()).expect("written");
    let changed = check(&[
        "--baseline",
        edited_path.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed));
    let now: serde_json::Value = serde_json::from_slice(&changed.stdout).expect("JSON");
    assert_eq!(
        now["findings"].as_array().map(Vec::len),
        Some(1),
        "{}",
        text(&changed)
    );
    assert_eq!(now["findings"][0]["kind"], findings[0]["kind"]);
    let line = format!(
        "1 new finding(s), {} known left out, 1 gone",
        findings.len() - 1
    );
    assert!(
        String::from_utf8_lossy(&changed.stderr).contains(&line),
        "{}",
        text(&changed)
    );

    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{}").expect("written");
    let refused = check(&["--baseline", bad.to_str().expect("utf-8")]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));

    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `--origin` flags that name every entry of `policy`'s routes: exact origins as they are,
/// a host of one label under each pattern.
fn candidate_origins(policy: &corsproof_policy::Policy) -> Vec<String> {
    let mut out = Vec::new();
    for route in &policy.routes {
        let corsproof_policy::Origins::List(list) = &route.origins else {
            continue;
        };
        for entry in list {
            let text = entry.to_string();
            match entry {
                corsproof_policy::OriginEntry::Null => {}
                corsproof_policy::OriginEntry::Exact { .. } => out.push(text),
                corsproof_policy::OriginEntry::Subdomain { .. } => {
                    out.push(text.replacen('*', "app", 1))
                }
            }
        }
    }
    out
}

/// `infer` against our middleware, for every bundled policy: it writes a valid policy, the
/// same deployment checked against it conforms, and it grants nothing the bundled one does
/// not (`diff` finds no broadening).
#[test]
fn infer_writes_a_policy_the_deployment_passes_for_every_bundled_policy() {
    let dir = std::env::temp_dir().join(format!("corsproof-infer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    for policy in POLICIES {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let parsed = corsproof_policy::Policy::from_path(root.join(policy)).expect("bundled");
        let paths = dir.join("paths.txt");
        let listed: Vec<String> = parsed.routes.iter().map(|r| r.path.clone()).collect();
        std::fs::write(&paths, listed.join("\n")).expect("written");
        let out = dir.join("inferred.toml");
        let (mut server, url) = serve(policy);
        let mut args = vec![
            "infer".to_string(),
            url.clone(),
            "--paths".into(),
            paths.display().to_string(),
            "--output".into(),
            out.display().to_string(),
            "--max-requests".into(),
            "2000".into(),
        ];
        for origin in candidate_origins(&parsed) {
            args.extend(["--origin".to_string(), origin]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let inferred = corsproof(&args);
        assert_eq!(
            inferred.status.code(),
            Some(0),
            "{policy}: {}",
            text(&inferred)
        );
        let written = out.display().to_string();
        let lint = corsproof(&["lint", &written]);
        assert_eq!(lint.status.code(), Some(0), "{policy}: {}", text(&lint));
        let check = corsproof(&[
            "check",
            &url,
            "--policy",
            &written,
            "--cases",
            "20",
            "--seed",
            "1",
            "--no-save",
            "--quiet",
        ]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{policy}: {}\n{}",
            text(&check),
            std::fs::read_to_string(&out).unwrap_or_default()
        );
        let diff = corsproof(&["diff", policy, &written]);
        assert_eq!(diff.status.code(), Some(0), "{policy}: {}", text(&diff));
        let _ = server.kill();
        let _ = server.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `infer` against a deployment that reflects any origin with credentials: the defect is
/// reported (exit 1), not written as a grant a policy could make.
#[test]
fn infer_reports_a_reflecting_deployment() {
    let url = reflector();
    let out = corsproof(&[
        "infer",
        &url,
        "--origin",
        "https://app.example.com",
        "--max-requests",
        "200",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("gap[any-origin-reflected] /:"),
        "{}",
        text(&out)
    );
    assert!(stderr.contains("with credentials"), "{}", text(&out));
}

/// `infer --har`: the capture's paths become routes and its Origin headers and preflight
/// requests the candidates probed.
#[test]
fn infer_from_a_har_capture() {
    let (mut server, url) = serve("corpus/policies/spa-credentialed.toml");
    let dir = std::env::temp_dir().join(format!("corsproof-infer-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let har = serde_json::json!({"log": {"version": "1.2", "entries": [
        {"request": {"method": "OPTIONS", "url": format!("{url}/api/items/42"), "headers": [
            {"name": "Origin", "value": "https://app.example.com"},
            {"name": "Access-Control-Request-Method", "value": "PATCH"},
            {"name": "Access-Control-Request-Headers", "value": "x-request-id"}]}},
        {"request": {"method": "GET", "url": format!("{url}/api/me"), "headers": [
            {"name": "Origin", "value": "https://shop.partner.example"}]}},
    ]}});
    let file = dir.join("site.har");
    std::fs::write(&file, har.to_string()).expect("written");
    let out = corsproof(&["infer", &url, "--har", file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let written = String::from_utf8_lossy(&out.stdout).to_string();
    let policy = corsproof_policy::Policy::from_toml_str(&written, "inferred.toml").expect("valid");
    let paths: Vec<&str> = policy.routes.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/api/items/42", "/api/me"], "{written}");
    let api = &policy.routes[0];
    assert!(api.credentials, "{written}");
    assert!(api.methods.contains(&"PATCH".to_string()), "{written}");
    assert!(
        matches!(&api.request_headers, corsproof_policy::HeaderNames::List(l) if l.contains(&"x-request-id".to_string())),
        "{written}"
    );
    assert!(
        written.contains("\"https://*.partner.example\""),
        "{written}"
    );
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `infer`'s bounds: the budget stops the run (exit 3) and is never exceeded; `--rate` spaces
/// the requests over all connections.
#[test]
fn infer_keeps_to_its_budget_and_rate() {
    let (mut server, url) = serve("corpus/policies/public-api.toml");
    let dir = std::env::temp_dir().join(format!("corsproof-infer-rate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let paths = dir.join("paths.txt");
    std::fs::write(&paths, "/v1/\n/v1/items/\n/v1/status\n").expect("written");
    let paths = paths.to_str().expect("utf-8");
    let spent = corsproof(&["infer", &url, "--paths", paths, "--max-requests", "3"]);
    assert_eq!(spent.status.code(), Some(3), "{}", text(&spent));
    assert!(
        String::from_utf8_lossy(&spent.stderr).contains("budget of 3"),
        "{}",
        text(&spent)
    );
    let start = std::time::Instant::now();
    let paced = corsproof(&[
        "infer",
        &url,
        "--paths",
        paths,
        "--rate",
        "40",
        "--connections",
        "4",
    ]);
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(paced.status.code(), Some(0), "{}", text(&paced));
    let stderr = String::from_utf8_lossy(&paced.stderr);
    let requests: f64 = stderr
        .split(" gap(s) a policy cannot say, ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the request count");
    // N requests at 40 a second take at least (N - 1) / 40 seconds.
    assert!(
        requests > 10.0 && seconds >= (requests - 1.0) / 40.0,
        "{requests} requests in {seconds} s"
    );
    let _ = server.kill();
    let _ = server.wait();
}
