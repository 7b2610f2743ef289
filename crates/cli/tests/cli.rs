//! The `corsproof` binary: outputs and exit codes (docs/cli.md) on good and bad input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn corsproof(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(text) = stdin {
        // The binary may exit (bad flags) before reading its input: a broken pipe is fine.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes());
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("the binary ends")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn explain_json_matches_the_documented_shape() {
    let o = corsproof(
        &[
            "explain",
            "examples/credentialed-put.json",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    assert_eq!(v["preflight"]["required"], true);
    assert_eq!(
        v["preflight"]["request_headers"],
        serde_json::json!([
            ["Access-Control-Request-Method", "PUT"],
            [
                "Access-Control-Request-Headers",
                "content-type,x-request-id"
            ]
        ])
    );
    assert_eq!(v["sent"], false);
    assert_eq!(v["readable"], false);
    assert_eq!(v["error"], "allow-credentials-not-true");
    assert_eq!(v["exposed_headers"], serde_json::json!([]));
}

#[test]
fn explain_text_names_the_decisive_rule() {
    let o = corsproof(&["explain", "examples/trailing-slash.json"], None);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("allow-origin-mismatch (R33)"), "{text}");
    assert!(text.contains("trailing slash"), "{text}");
}

#[test]
fn explain_reads_standard_input_and_the_browser_flag_overrides() {
    let case = r#"{"request": {"url": "https://a.test/", "origin": "https://b.test", "method": "GET",
        "headers": [["DPR", "2"]]}, "response": {"status": 200, "headers": [["Access-Control-Allow-Origin", "*"]]},
        "preflight_response": {"status": 200, "headers": [["Access-Control-Allow-Origin", "*"], ["Access-Control-Allow-Headers", "dpr"]]}}"#;
    let fetch = corsproof(&["explain", "--format", "json"], Some(case));
    let chromium = corsproof(
        &["explain", "-", "--format", "json", "--browser", "chromium"],
        Some(case),
    );
    let f: serde_json::Value = serde_json::from_slice(&fetch.stdout).expect("json");
    let c: serde_json::Value = serde_json::from_slice(&chromium.stdout).expect("json");
    assert_eq!(
        f["preflight"]["required"], true,
        "DPR is not safelisted in the standard"
    );
    assert_eq!(
        c["preflight"],
        serde_json::Value::Null,
        "Chromium safelists DPR (D2)"
    );
    assert_eq!(c["deviations"], serde_json::json!(["D2"]));
}

#[test]
fn bad_input_exits_2_with_a_message_naming_the_problem() {
    let cases: [(&[&str], Option<&str>, &str); 7] = [
        (&["explain", "-"], Some("{not json"), "not an explain case"),
        (
            &["explain", "-"],
            Some(r#"{"request": {"url": "https://a.test/"}}"#),
            "missing field `origin`",
        ),
        (
            &["explain", "-", "--browser", "safari"],
            Some("{}"),
            "safari",
        ),
        (
            &["explain", "-"],
            Some(
                r#"{"request": {"url": "https://a.test/", "origin": "https://b.test", "headers": [["X", "\u20ac"]]}}"#,
            ),
            "above U+00FF",
        ),
        (
            &["explain", "-"],
            Some(r#"{"request": {"url": "https://a.test/", "origin": "https://b.test:443"}}"#),
            "did you mean \"https://b.test\"",
        ),
        (
            &["explain", "-"],
            Some(
                r#"{"request": {"url": "https://a.test/", "origin": "https://b.test", "method": "PUT"}}"#,
            ),
            "no preflight_response",
        ),
        (
            &["explain", "does-not-exist.json"],
            None,
            "cannot read does-not-exist.json",
        ),
    ];
    for (args, stdin, needle) in cases {
        let o = corsproof(args, stdin);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(needle),
            "{args:?}: expected {needle:?} in {:?}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[test]
fn lint_accepts_the_bundled_policies() {
    for p in ["public-api", "spa-credentialed", "mixed-routes", "pna"] {
        let path = format!("corpus/policies/{p}.toml");
        let o = corsproof(&["lint", &path], None);
        assert_eq!(o.status.code(), Some(0), "{path}: {}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("valid policy"));
    }
}

#[test]
fn lint_rejects_a_broken_policy_naming_route_field_and_line() {
    let dir = std::env::temp_dir().join(format!("corsproof-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("broken.toml");
    std::fs::write(&file, "version = 1\n\n[[route]]\nname = \"api\"\npath = \"/api/\"\norigins = [\"*\"]\ncredentials = true\n")
        .expect("write policy");
    let o = corsproof(&["lint", file.to_str().expect("utf-8 path")], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("broken.toml:") && e.contains("api") && e.contains("origins"),
        "{e}"
    );
    let j = corsproof(
        &[
            "lint",
            file.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(j.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).expect("json");
    assert_eq!(v["valid"], false);
    assert!(v["errors"][0]["line"].is_number(), "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lint_deny_warnings_exits_1_on_a_risky_policy() {
    let dir = std::env::temp_dir().join(format!("corsproof-cli-w-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("risky.toml");
    std::fs::write(
        &file,
        "version = 1\n[[route]]\npath = \"/\"\norigins = [\"null\"]\n",
    )
    .expect("write");
    let o = corsproof(
        &["lint", file.to_str().expect("utf-8"), "--deny-warnings"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("null"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_reads_a_har_capture() {
    let har = r#"{"log": {"version": "1.2", "entries": [
      {"startedDateTime": "2026-01-01T00:00:00.000Z",
       "request": {"method": "OPTIONS", "url": "https://api.test/items", "headers": [
          {"name": "Origin", "value": "https://app.test"},
          {"name": "Access-Control-Request-Method", "value": "PUT"},
          {"name": "Access-Control-Request-Headers", "value": "x-request-id"}]},
       "response": {"status": 204, "headers": [
          {"name": "Access-Control-Allow-Origin", "value": "https://app.test"},
          {"name": "Access-Control-Allow-Methods", "value": "PUT"}]}},
      {"startedDateTime": "2026-01-01T00:00:00.100Z",
       "request": {"method": "PUT", "url": "https://api.test/items", "headers": [
          {"name": "Origin", "value": "https://app.test"}, {"name": "X-Request-Id", "value": "7"},
          {"name": "User-Agent", "value": "Mozilla/5.0"}]},
       "response": {"status": 200, "headers": [{"name": "Access-Control-Allow-Origin", "value": "https://app.test"}]}}
    ]}}"#;
    let o = corsproof(&["explain", "--har", "-", "--format", "json"], Some(har));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["error"], "header-not-allowed", "{v}");
    assert_eq!(v["preflight"]["request_headers"][1][1], "x-request-id");
    let bad = corsproof(&["explain", "--har", "-"], Some(r#"{"log": {}}"#));
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("HAR"), "{}", stderr(&bad));
}

#[test]
fn explain_over_time_shows_the_cache_and_the_chromium_cap() {
    let o = corsproof(
        &[
            "explain",
            "examples/preflight-cache.json",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 3);
    // 86400 s asked, Chromium caps at 7200 s (D6).
    assert_eq!(steps[0]["preflight"]["cache_seconds"], 7200);
    assert_eq!(steps[0]["deviations"], serde_json::json!(["D6"]));
    // At 3600 s the cache answers; at 7300 s the entry has expired.
    assert_eq!(steps[1]["preflight"], serde_json::Value::Null);
    assert_eq!(steps[1]["preflight_cached"], true);
    assert_eq!(steps[2]["preflight"]["required"], true);
    assert_eq!(steps[2]["preflight_cached"], false);
    // The same steps under the standard: no cap, still cached at 7300 s.
    let f = corsproof(
        &[
            "explain",
            "examples/preflight-cache.json",
            "--format",
            "json",
            "--browser",
            "fetch",
        ],
        None,
    );
    let f: serde_json::Value = serde_json::from_slice(&f.stdout).expect("json");
    assert_eq!(f["steps"][2]["preflight_cached"], true);
}

#[test]
fn emit_kong_writes_the_declarative_configuration_and_reports_what_kong_cannot_express() {
    let o = corsproof(
        &[
            "emit",
            "kong",
            "--policy",
            "corpus/policies/mixed-routes.toml",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("_format_version: \"3.0\"\n"), "{out}");
    assert!(out.contains("url: \"http://corsproof-serve:8080\""));
    assert!(out.contains("paths: [\"/admin/\"]") && out.contains("paths: [\"/api/health\"]"));
    // The unsupported items go to standard error, one per line, and into the file.
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    for line in &lines {
        let item = line
            .strip_prefix("corsproof emit kong: unsupported: route \"api\", field `")
            .unwrap_or_else(|| panic!("{line}"));
        assert!(item.contains("(disclosure)"), "{line}");
        let text = line.trim_start_matches("corsproof emit kong: unsupported: ");
        assert!(out.contains(&format!("#   - {text}\n")), "{text}");
    }

    // A policy Kong expresses exactly: nothing on standard error; the upstream is configurable.
    let o = corsproof(
        &[
            "emit",
            "kong",
            "--policy",
            "corpus/policies/public-api.toml",
            "--upstream",
            "http://127.0.0.1:9000",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    assert!(String::from_utf8_lossy(&o.stdout).contains("url: \"http://127.0.0.1:9000\""));
}

#[test]
fn emit_kong_refuses_what_it_cannot_write() {
    for args in [
        &[
            "emit",
            "kong",
            "--policy",
            "corpus/policies/pna.toml",
            "--listen",
            "8080",
        ][..],
        &[
            "emit",
            "kong",
            "--policy",
            "corpus/policies/pna.toml",
            "--upstream",
            "ftp://x",
        ][..],
        &[
            "emit",
            "nginx",
            "--policy",
            "corpus/policies/pna.toml",
            "--upstream",
            "http://x",
        ][..],
        &["emit", "kong", "--policy", "does/not/exist.toml"][..],
    ] {
        let o = corsproof(args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(
            stderr(&o).starts_with("corsproof: "),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // A path Kong would match decoded.
    let dir = std::env::temp_dir().join(format!("corsproof-emit-kong-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let policy = dir.join("p.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[route]]\nname = \"enc\"\npath = \"/a%2Fb/\"\norigins = [\"*\"]\n",
    )
    .expect("write policy");
    let o = corsproof(
        &[
            "emit",
            "kong",
            "--policy",
            policy.to_str().expect("utf-8 path"),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("field `path`"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_and_man_pages_come_from_the_command_definitions() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = corsproof(&["completions", shell], None);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&o.stdout);
        // Every command is completed.
        for command in ["check", "audit", "explain", "lint", "emit", "run", "serve"] {
            assert!(script.contains(command), "{shell}: {command}");
        }
    }
    assert_eq!(
        corsproof(&["completions", "tcsh"], None).status.code(),
        Some(2)
    );
    let page = corsproof(&["man"], None);
    assert_eq!(page.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&page.stdout).starts_with(".ie"));
    let dir = std::env::temp_dir().join(format!("corsproof-man-{}", std::process::id()));
    let o = corsproof(&["man", "--dir", &dir.to_string_lossy()], None);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for page in ["corsproof.1", "corsproof-check.1", "corsproof-audit.1"] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
