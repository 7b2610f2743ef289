//! `check::live` against a real nginx serving `corpus/policies/mixed-routes.toml`: the
//! emitted configuration gives no finding on allowed and refused cases, the behaviour
//! fingerprint tells them apart and is the same for the same case; with the origin regex of
//! `https://app.example.com` made to match every subdomain of `example.com`, a credentialed
//! request from another subdomain is a violation.
//!
//! Skipped (with a message; failed under CI) when no `nginx` binary is installed.

use std::path::{Path, PathBuf};

use corsproof_engine::check::live::{Live, LiveOutcome};
use corsproof_oracle::{CredentialsMode, Origin, Profile, RequestInit};
use corsproof_policy::Policy;
use corsproof_report::Severity;
use corsproof_targets::launch;

fn nginx() -> Option<PathBuf> {
    let bin = launch::find_nginx();
    let found = bin
        .as_ref()
        .map(|_| ())
        .ok_or_else(|| "not installed".to_string());
    if !corsproof_testkit::tool::require_that("nginx", found, "serves the emitted configuration") {
        return None;
    }
    bin
}

fn policy() -> Policy {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/policies/mixed-routes.toml");
    Policy::from_path(&file).expect("mixed-routes.toml")
}

/// A credentialed GET of `/api/orders` from `origin`, on `live`'s target, under Chromium.
/// The connection is the runtime's: one runtime serves every case of a `Live`.
fn play(
    runtime: &tokio::runtime::Runtime,
    live: &mut Live,
    base: &url::Url,
    origin: &str,
) -> LiveOutcome {
    let url = base.join("/api/orders").expect("a URL");
    let mut case = RequestInit::new(url, Origin::parse_serialized(origin).expect("an origin"));
    case.credentials = CredentialsMode::Include;
    runtime.block_on(live.play(&case, 0))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn the_emitted_configuration_passes_and_behaviours_are_told_apart() {
    let Some(bin) = nginx() else {
        return;
    };
    let policy = policy();
    let running = launch::nginx(&bin, &policy).expect("nginx starts");
    let base = running.url().clone();
    let rt = runtime();
    let mut live = Live::new(&policy, &base, None, &[Profile::chromium()]).expect("a live run");
    let allowed = play(&rt, &mut live, &base, "https://app.example.com");
    let again = play(&rt, &mut live, &base, "https://app.example.com");
    let refused = play(&rt, &mut live, &base, "https://evil.example.com");
    for outcome in [&allowed, &again, &refused] {
        assert!(outcome.findings.is_empty(), "{:#?}", outcome.findings);
        assert_eq!(outcome.target_errors, 0);
        // The actual request and the cache-safety check's sibling from another origin.
        assert_eq!(outcome.requests, 2);
    }
    assert_eq!(allowed.behaviour, again.behaviour);
    assert_ne!(allowed.behaviour, refused.behaviour);
}

#[test]
fn a_too_loose_origin_regex_is_a_violation() {
    let Some(bin) = nginx() else {
        return;
    };
    let policy = policy();
    let conf = corsproof_emit::nginx(&policy, &corsproof_emit::Upstream::demo()).expect("emits");
    let exact = r"^https\:\/\/app\.example\.com$";
    let running = launch::nginx_with_config(&bin, |listen| {
        let full = conf.standalone(listen);
        assert!(full.contains(exact), "the regex of app.example.com");
        full.replace(exact, r"^https\:\/\/.*\.example\.com$")
    })
    .expect("nginx starts");
    let base = running.url().clone();
    let rt = runtime();
    let mut live = Live::new(&policy, &base, None, &[Profile::chromium()]).expect("a live run");
    assert!(play(&rt, &mut live, &base, "https://app.example.com")
        .findings
        .is_empty());
    let outcome = play(&rt, &mut live, &base, "https://evil.example.com");
    assert!(
        outcome
            .findings
            .iter()
            .any(|f| f.severity == Severity::Violation),
        "{:#?}",
        outcome.findings
    );
}
