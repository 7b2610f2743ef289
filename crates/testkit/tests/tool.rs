//! The skip helper: both branches of the decision with the environment passed in, the
//! lookup on a `PATH` made for the test, and the real `require` in a child process (this
//! test binary run again with `CI` set or unset), so that no test changes the environment
//! of the others.

use std::path::PathBuf;
use std::process::{Command, Output};

use corsproof_testkit::tool::{decide, lookup, require, require_that, Decision, Env, Missing};

/// A directory of this test run holding an executable `corsproof-fake-tool`.
fn fake_tool_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("corsproof-testkit-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let tool = dir.join("corsproof-fake-tool");
    std::fs::write(&tool, "#!/bin/sh\n").expect("the fake tool");
    dir
}

#[test]
fn a_program_on_the_path_is_found_and_run_with() {
    let dir = fake_tool_dir("found");
    let env = Env {
        path: Some(std::env::join_paths(["/nonexistent".into(), dir.clone()]).expect("a PATH")),
        ci: Some("true".into()),
    };
    let found = lookup(&["corsproof-other-tool", "corsproof-fake-tool"], &env);
    assert_eq!(found, Ok(dir.join("corsproof-fake-tool")));
    assert_eq!(
        decide(found, "t", "runs it", &env),
        Decision::Run(dir.join("corsproof-fake-tool"))
    );
    std::fs::remove_dir_all(dir).expect("cleaned up");
}

#[test]
fn a_missing_program_skips_outside_ci_and_fails_in_ci() {
    let dir = fake_tool_dir("missing");
    for ci in [None, Some("")] {
        let env = Env {
            path: Some(dir.clone().into_os_string()),
            ci: ci.map(Into::into),
        };
        let decision = decide(
            lookup(&["nginx"], &env),
            "serves",
            "serves the config",
            &env,
        );
        assert_eq!(
            decision,
            Decision::Skip(
                "SKIPPED serves: none of [\"nginx\"] is on PATH (Debian package nginx-light); \
                 the test serves the config"
                    .into()
            ),
            "CI={ci:?}"
        );
    }
    let env = Env {
        path: Some(dir.clone().into_os_string()),
        ci: Some("1".into()),
    };
    match decide(
        lookup(&["chromium", "chromium-browser"], &env),
        "t",
        "replays",
        &env,
    ) {
        Decision::Fail(message) => {
            assert!(
                message.starts_with("chromium is missing in CI"),
                "{message}"
            );
            assert!(message.contains("install Debian's `chromium`"), "{message}");
        }
        other => panic!("not a failure in CI: {other:?}"),
    }
    std::fs::remove_dir_all(dir).expect("cleaned up");
}

#[test]
fn a_condition_decides_like_a_program() {
    let missing = Missing {
        tool: "docker".into(),
        package: Some("docker.io"),
        reason: "the Docker engine does not answer".into(),
    };
    let outside = Env::default();
    let ci = Env {
        path: None,
        ci: Some("true".into()),
    };
    assert_eq!(
        decide::<()>(Err(missing.clone()), "t", "runs a container", &outside),
        Decision::Skip(
            "SKIPPED t: the Docker engine does not answer (Debian package docker.io); the test \
             runs a container"
                .into()
        )
    );
    assert_eq!(
        decide::<()>(Err(missing), "t", "runs a container", &ci),
        Decision::Fail(
            "docker is missing in CI (the Docker engine does not answer): install Debian's \
             `docker.io`; needed because it runs a container"
                .into()
        )
    );
    assert_eq!(
        decide(Ok(()), "t", "runs a container", &ci),
        Decision::Run(())
    );
}

/// Runs the ignored test `name` of this binary alone, with `CI` as given.
fn child(name: &str, ci: Option<&str>) -> Output {
    let exe = std::env::current_exe().expect("the test binary");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--ignored",
        "--exact",
        name,
        "--nocapture",
        "--test-threads=1",
    ])
    .env("CORSPROOF_TESTKIT_CHILD", "1");
    match ci {
        Some(v) => cmd.env("CI", v),
        None => cmd.env_remove("CI"),
    };
    cmd.output().expect("the child test runs")
}

#[test]
fn require_skips_or_panics_by_ci_in_a_child_process() {
    let out = child("child_requires_a_missing_program", None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "SKIPPED child_requires_a_missing_program: none of [\"corsproof-no-such-tool\"] is \
             on PATH; the test checks the helper"
        ),
        "{stderr}"
    );

    let out = child("child_requires_a_missing_program", Some("true"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "passed in CI: {stderr}");
    assert!(
        stderr.contains("corsproof-no-such-tool is missing in CI"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no Debian package known for it"),
        "{stderr}"
    );

    let out = child("child_requires_a_failed_condition", Some("yes"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "passed in CI: {stderr}");
    assert!(
        stderr.contains("docker is missing in CI (no engine): install Debian's `docker.io`"),
        "{stderr}"
    );
    let out = child("child_requires_a_failed_condition", Some(""));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("SKIPPED child_requires_a_failed_condition: no engine"),
        "{stderr}"
    );
}

/// Run by `require_skips_or_panics_by_ci_in_a_child_process` only.
#[test]
#[ignore = "run in a child process by require_skips_or_panics_by_ci_in_a_child_process"]
fn child_requires_a_missing_program() {
    assert!(std::env::var_os("CORSPROOF_TESTKIT_CHILD").is_some());
    let found = require("corsproof-no-such-tool", "checks the helper");
    assert_eq!(found, None);
}

/// Run by `require_skips_or_panics_by_ci_in_a_child_process` only.
#[test]
#[ignore = "run in a child process by require_skips_or_panics_by_ci_in_a_child_process"]
fn child_requires_a_failed_condition() {
    assert!(std::env::var_os("CORSPROOF_TESTKIT_CHILD").is_some());
    assert!(!require_that(
        "docker",
        Err("no engine".into()),
        "checks the helper"
    ));
}
