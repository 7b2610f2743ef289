//! `corsproof matrix --caches`: the cache columns of the matrix. Flask (flask-cors sends
//! `Vary: Origin` only to allowed origins) behind Varnish, nginx `proxy_cache` and Apache
//! `mod_cache` shows its `missing-vary-denial` as a cache transcript, in JSON and in text; our
//! own middleware (tower) behind the same caches gives none. Tests whose cache or target is not
//! installed are skipped locally, saying why, and fail under CI.

use std::path::Path;
use std::process::Command;

use corsproof_targets::cache::Cache;
use corsproof_targets::registry::Target;

const CACHES: &str = "varnish,nginx-cache,apache-cache";
const POLICY: &str = "corpus/policies/spa-credentialed.toml";

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Whether the three caches and `target` are installed (else skipped, or a failure under CI).
fn installed(target: Target) -> bool {
    let caches = Cache::ALL.iter().all(|c| {
        let program = match c {
            Cache::Varnish => "varnishd",
            Cache::NginxProxyCache => "nginx",
            Cache::ApacheModCache => "apache2",
        };
        corsproof_testkit::tool::require_that(
            program,
            c.version().map(|_| ()).map_err(|m| m.to_string()),
            "runs a cache in front of the matrix targets",
        )
    });
    caches
        && corsproof_testkit::tool::require_that(
            target.name(),
            target.version().map(|_| ()).map_err(|m| m.to_string()),
            "runs the library as a matrix target",
        )
}

/// `corsproof matrix --targets T --policies spa-credentialed --caches ...`: stdout and exit.
fn matrix(target: Target, format: &str) -> (String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .current_dir(root())
        .args([
            "matrix",
            "--targets",
            target.name(),
            "--policies",
            POLICY,
            "--cases",
            "5",
            "--caches",
            CACHES,
            "--format",
            format,
            "--quiet",
        ])
        .output()
        .expect("corsproof runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

#[test]
fn flask_behind_each_cache_refuses_the_front_end_with_a_stored_answer() {
    if !installed(Target::Flask) {
        return;
    }
    let (json, code) = matrix(Target::Flask, "json");
    assert_eq!(code, Some(0), "{json}");
    let m: serde_json::Value = serde_json::from_str(&json).expect("a JSON matrix");
    let ran: Vec<&str> = m["caches"]["ran"]
        .as_array()
        .expect("ran")
        .iter()
        .filter_map(|c| c["cache"].as_str())
        .collect();
    assert_eq!(ran, ["varnish", "nginx-cache", "apache-cache"]);
    let cells = m["caches"]["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 3);
    for cell in cells {
        assert_eq!(cell["outcome"]["status"], "probed", "{cell}");
        let findings = cell["outcome"]["findings"].as_array().expect("findings");
        // The refused origin's and the origin-less request's answers, stored without Vary,
        // served to https://app.example.com.
        assert_eq!(findings.len(), 2, "{cell}");
        for f in findings {
            assert_eq!(f["kind"], "missing-vary-denial");
            assert_eq!(f["route"], "app-api");
            assert_eq!(f["rule"], "H1");
            assert_eq!(f["request"]["origin"], "https://app.example.com");
            let exchanges = f["exchanges"].as_array().expect("exchanges");
            assert_eq!(exchanges.len(), 3);
            // Both requests through the cache at one URL; the second answer without
            // Access-Control-Allow-Origin, the target's own answer with it.
            assert_eq!(exchanges[0][0]["url"], exchanges[1][0]["url"]);
            let has_acao = |i: usize| {
                exchanges[i][1]["headers"]
                    .as_array()
                    .expect("headers")
                    .iter()
                    .any(|h| {
                        h[0].as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case("access-control-allow-origin"))
                    })
            };
            assert!(!has_acao(1), "{f}");
            assert!(has_acao(2), "{f}");
            assert_eq!(f["reproduce"].as_str().map(|r| r.lines().count()), Some(3));
        }
    }
    let (text, _) = matrix(Target::Flask, "text");
    assert!(
        text.contains(
            "known: vary-only-when-allowed; shown behind varnish, nginx-cache, apache-cache"
        ),
        "{text}"
    );
    for cache in ["varnish", "nginx-cache", "apache-cache"] {
        let row = ["flask", cache, "denial", "2"];
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().eq(row.iter().copied())),
            "{text}"
        );
    }
}

#[test]
fn tower_behind_each_cache_keeps_origins_apart() {
    if !installed(Target::Tower) {
        return;
    }
    let (json, code) = matrix(Target::Tower, "json");
    assert_eq!(code, Some(0), "{json}");
    let m: serde_json::Value = serde_json::from_str(&json).expect("a JSON matrix");
    let cells = m["caches"]["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 3);
    for cell in cells {
        assert_eq!(cell["outcome"]["status"], "probed", "{cell}");
        assert_eq!(cell["outcome"]["findings"], serde_json::json!([]), "{cell}");
        // One route listing origins: four scenarios of two requests.
        assert_eq!(cell["outcome"]["requests"], 8, "{cell}");
    }
}
