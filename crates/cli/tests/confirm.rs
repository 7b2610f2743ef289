//! `--confirm`: a defect planted in the oracle (the test-only feature `planted-defect` of
//! `corsproof-oracle`, switched on by `CORSPROOF_PLANTED_DEFECT=1`: R35 skipped, so the oracle
//! grants credentialed reads without `Access-Control-Allow-Credentials`) makes `check` report
//! a finding against a correct server; `--confirm chromium,firefox` replays it in both real
//! browsers, which contradict it, and the run exits 4 with the defect described. Without
//! the variable the same run conforms (exit 0). Skipped without the browsers (fails under CI).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

/// A route granting one origin reads without credentials: a credentialed request from it
/// gets `Access-Control-Allow-Origin` and no `Access-Control-Allow-Credentials`.
const POLICY: &str = r#"version = 1

[[route]]
name = "api"
path = "/api/"
origins = ["https://app.example.com"]
probe_paths = ["/api/items"]
"#;

/// `corsproof serve` of the policy, stopped when dropped.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(policy: &std::path::Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .arg("serve")
        .arg("--policy")
        .arg(policy)
        .args(["--listen", "127.0.0.1:0", "--timeout", "300"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let url = line
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("an address")
        .to_string();
    Served { child, url }
}

fn check(url: &str, policy: &std::path::Path, planted: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corsproof"));
    cmd.args(["check", url, "--policy"])
        .arg(policy)
        .args(["--seed", "1", "--no-save", "--quiet", "--format", "json"])
        .args(["--confirm", "chromium,firefox"])
        .stdin(Stdio::null());
    if planted {
        cmd.env("CORSPROOF_PLANTED_DEFECT", "1");
    } else {
        cmd.env_remove("CORSPROOF_PLANTED_DEFECT");
    }
    cmd.output().expect("check runs")
}

#[test]
fn a_planted_oracle_defect_is_contradicted_by_both_browsers() {
    let chromium = corsproof_testkit::tool::require_any(
        &["chromium", "chromium-browser"],
        "replays findings (--confirm)",
    );
    let firefox = corsproof_testkit::tool::require_any(
        &["firefox-esr", "firefox"],
        "replays findings (--confirm)",
    );
    let certutil = corsproof_testkit::tool::require(
        "certutil",
        "gives Firefox's profile the run's certificate authority (--confirm)",
    );
    if chromium.is_none() || firefox.is_none() || certutil.is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("corsproof-confirm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, POLICY).expect("the policy");
    let served = serve(&policy);
    let url = format!("http://{}/", served.url.trim_start_matches("http://"));

    let clean = check(&url, &policy, false);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    let planted = check(&url, &policy, true);
    let stderr = String::from_utf8_lossy(&planted.stderr);
    assert_eq!(planted.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("contradicted by a real browser"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&planted.stdout).expect("a JSON report");
    let granted: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "read-granted" && f["request"]["credentials"] == "include")
        .collect();
    assert!(!granted.is_empty(), "{report:#}");
    for f in granted {
        for browser in ["chromium", "firefox"] {
            let c = &f["confirmed"][browser];
            assert_eq!(c["result"], "contradicted", "{browser}: {f:#}");
            assert_eq!(c["browser"]["readable"], false, "{browser}: {c:#}");
            assert_eq!(c["oracle"]["readable"], true, "{browser}: {c:#}");
            // The credentialed request went out with the cookie the run set.
            assert_eq!(c["browser"]["cookie_sent"], true, "{browser}: {c:#}");
            assert_eq!(c["explain"]["request"]["credentials"], "include", "{c:#}");
        }
    }
    assert_eq!(
        report["confirm"]["contradicted"].as_u64().map(|n| n > 0),
        Some(true)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
