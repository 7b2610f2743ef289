//! `cargo xtask`: developer tasks.
//!
//! - `cargo xtask ci`: everything CI checks: formatting, clippy (warnings are errors), the
//!   registry-free container images (`cargo xtask images`), the whole test suite (with the
//!   container targets) (vectors, properties, doc tests), and the CLI's smoke runs, the
//!   matrix gate (`cargo xtask matrix`), then the
//!   fuzz crate's formatting and lints, the OSS-Fuzz build script and every fuzz target for
//!   30 s.
//! - `cargo xtask matrix [--bless] [--docs]`: corsproof's regression gate: `corsproof
//!   matrix` with few cases and a fixed seed compared cell by cell with
//!   corpus/matrix/expected.json, and the table of docs/implementations.md compared with the
//!   same run's; `--docs` rewrites the table, `--bless` the table and the expected matrix
//!   (xtask/src/matrix.rs).
//! - `cargo xtask images [--apps]`: registry-free container images from Debian's packages
//!   (`corsproof/nginx:local`, `corsproof/serve:local`, with `--apps` also
//!   `corsproof/apps:local` with every matrix target's packages; xtask/src/images.rs).
//! - `cargo xtask bench`: the criterion benchmarks; `cargo xtask bench check`: `corsproof
//!   check` against a local nginx next to wrk against the same nginx.
//! - `cargo xtask browser [--browser chromium|firefox] [--cases N] [--seed S] [--sequences M]
//!   [...]`: the browser differential (crates/browser): generated cases, every spec vector and
//!   cache sequences replayed in headless Chromium or Firefox ESR and compared with the
//!   oracle's profile for that browser; prints the agreement and each disagreement as an
//!   `explain` input with both outcomes; fails on any disagreement or a missing browser.
//! - `cargo xtask fuzz [TARGET] [--seconds N]`: libFuzzer campaigns (fuzz/, cargo-fuzz) of N
//!   seconds (default 30; 0 replays the seeds and kept crashes) per target, every target or
//!   the one named; installs cargo-fuzz if missing; a crash is minimized, kept in
//!   corpus/regressions/TARGET/ (replayed by every later run) and fails the task. `cargo
//!   xtask fuzz --ci`: the fuzz part of `ci` alone (xtask/src/fuzz.rs).

mod bench_check;
mod fuzz;
mod fuzz_live;
mod images;
mod matrix;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

fn run(cmd: &str, args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    eprintln!("xtask: {cmd} {}", args.join(" "));
    let status = Command::new(cmd)
        .args(args)
        .envs(envs.iter().copied())
        .status()
        .with_context(|| format!("cannot start {cmd}"))?;
    if !status.success() {
        bail!("`{cmd} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Runs `cmd args` in `dir`.
fn run_in(dir: &Path, cmd: &str, args: &[&str]) -> Result<()> {
    eprintln!("xtask: (in {}) {cmd} {}", dir.display(), args.join(" "));
    let status = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("cannot start {cmd}"))?;
    if !status.success() {
        bail!("`{cmd} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn ci() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    run(&cargo, &["fmt", "--all", "--", "--check"], &[])?;
    run(
        &cargo,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    // Every public item's documentation builds without a warning (broken or private links).
    run(
        &cargo,
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    // The registry-free container images (debootstrap + docker import) that the container
    // tests (crates/engine/tests/containers.rs, crates/cli/tests/containers.rs) start.
    images::images(&root(), &cargo, false)?;
    // Property tests run 2,000 cases each in CI unless the caller asks for more.
    let cases = std::env::var("PROPTEST_CASES").unwrap_or_else(|_| "2000".to_string());
    run(
        &cargo,
        &["test", "--workspace", "--release"],
        &[("PROPTEST_CASES", &cases)],
    )?;
    // corsproof's regression gate: the matrix (every target installed by .ci/run on every
    // bundled policy, few cases, fixed seed) against corpus/matrix/expected.json, and the
    // table of docs/implementations.md against the same run.
    matrix::run(&root(), &cargo, &[])?;
    // The browser differential (crates/browser) in headless Chromium and Firefox ESR
    // (installed by .ci/run): per browser 500 generated cases, 100 cache sequences (4 of them
    // capacity sequences over about as many URLs as the browser's preflight cache holds or
    // more, each in a browser session of its own) and every spec vector; a disagreement, or a
    // missing browser, fails CI.
    for browser in CI_BROWSERS {
        browser_diff(
            &cargo,
            &[
                "--browser",
                browser,
                "--cases",
                "500",
                "--sequences",
                "100",
                "--seed",
                &ci_seed(),
            ],
        )?;
    }
    // The fuzz crate's formatting and lints, the OSS-Fuzz build, and every fuzz target for
    // 30 s on the checked-in seeds and kept crashes; a crash fails CI.
    fuzz::ci(&cargo)
}

/// The browsers CI checks with the differential, each against its own profile: headless
/// Chromium and Firefox ESR (Debian's `chromium` and `firefox-esr`, installed by .ci/run).
const CI_BROWSERS: [&str; 2] = ["chromium", "firefox"];

/// The differential's seed in CI: `BROWSER_SEED` if set, else a fixed one, so that a CI run
/// on an unchanged tree gives the same verdict (seed 777's first cases are among the 20,000
/// of crates/browser/README.md's full run). Explore other seeds with `cargo xtask browser
/// --seed S`.
fn ci_seed() -> String {
    std::env::var("BROWSER_SEED").unwrap_or_else(|_| "777".to_string())
}

/// `cargo xtask browser ARGS`: runs the differential binary (release build) from the
/// repository root, so that `spec/vectors` is found.
fn browser_diff(cargo: &str, args: &[&str]) -> Result<()> {
    let mut all = vec![
        "run",
        "--release",
        "--quiet",
        "-p",
        "corsproof-browser",
        "--",
    ];
    all.extend_from_slice(args);
    let root = root();
    eprintln!("xtask: (in {}) {cargo} {}", root.display(), all.join(" "));
    let status = Command::new(cargo)
        .args(&all)
        .current_dir(&root)
        .status()
        .with_context(|| format!("cannot start {cargo}"))?;
    if !status.success() {
        bail!(
            "the browser differential failed ({status}): a disagreement with the oracle, or the browser is missing (see above)"
        );
    }
    Ok(())
}

/// The repository root (the parent of xtask/).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the repository")
        .to_path_buf()
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` when set, else `root`'s `target/`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn bench(rest: &[String]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    if rest.first().map(String::as_str) == Some("check") {
        return bench_check::bench_check(&root(), &cargo);
    }
    let mut args = vec!["bench", "--workspace"];
    args.extend(rest.iter().map(String::as_str));
    run(&cargo, &args, &[])
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("matrix") => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            matrix::run(&root(), &cargo, &args[1..])
        }
        Some("images") => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            match args.get(1).map(String::as_str) {
                None => images::images(&root(), &cargo, false),
                Some("--apps") => images::images(&root(), &cargo, true),
                Some(other) => bail!("unknown argument {other:?} (cargo xtask images [--apps])"),
            }
        }
        Some("browser") => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            let rest: Vec<&str> = args[1..].iter().map(String::as_str).collect();
            browser_diff(&cargo, &rest)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|matrix [--bless] [--docs]|images [--apps]|bench [criterion args]|fuzz [TARGET] [--seconds N] [--ci]|fuzz live --target nginx|serve|nginx+serve [--seconds N]|fuzz live --planted|--compare|browser [--browser chromium|firefox] [--cases N] [--seed S] [--sequences M]>"
            );
            std::process::exit(2);
        }
    }
}
