//! `corsproof run` and `corsproof check` end to end: our middleware and nginx (when
//! installed) conform on every bundled policy; exit codes for unreachable targets and bad
//! input; replayable cases.

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
