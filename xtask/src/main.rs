//! `cargo xtask`: developer tasks.
//!
//! - `cargo xtask ci`: everything CI checks: formatting, clippy (warnings are errors), the
//!   registry-free container images (`cargo xtask images`), the whole test suite (with the
//!   container targets) (vectors, properties, doc tests), and the CLI's smoke runs, then the
//!   fuzz crate's formatting and lints, the OSS-Fuzz build script and every fuzz target for
//!   30 s.
//! - `cargo xtask images`: registry-free container images from Debian's packages
//!   (`corsproof/nginx:local`, `corsproof/serve:local`; xtask/src/images.rs).
//! - `cargo xtask bench`: the criterion benchmarks; `cargo xtask bench check`: `corsproof
//!   check` against a local nginx next to wrk against the same nginx.
//! - `cargo xtask fuzz [TARGET] [--seconds N]`: libFuzzer campaigns (fuzz/, cargo-fuzz) of N
//!   seconds (default 30; 0 replays the seeds and kept crashes) per target, every target or
//!   the one named; installs cargo-fuzz if missing; a crash is minimized, kept in
//!   corpus/regressions/TARGET/ (replayed by every later run) and fails the task. `cargo
//!   xtask fuzz --ci`: the fuzz part of `ci` alone (xtask/src/fuzz.rs).

mod bench_check;
mod fuzz;
mod images;

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
    // The registry-free container images (debootstrap + docker import) that the container
    // tests (crates/harness/tests/containers.rs, crates/cli/tests/containers.rs) start.
    images::images(&root(), &cargo)?;
    // Property tests run 2,000 cases each in CI unless the caller asks for more.
    let cases = std::env::var("PROPTEST_CASES").unwrap_or_else(|_| "2000".to_string());
    run(
        &cargo,
        &["test", "--workspace", "--release"],
        &[("PROPTEST_CASES", &cases)],
    )?;
    // The fuzz crate's formatting and lints, the OSS-Fuzz build, and every fuzz target for
    // 30 s on the checked-in seeds and kept crashes; a crash fails CI.
    fuzz::ci(&cargo)
}

/// The repository root (the parent of xtask/).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the repository")
        .to_path_buf()
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
        Some("images") => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            images::images(&root(), &cargo)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|images|bench [criterion args]|fuzz [TARGET] [--seconds N] [--ci]>"
            );
            std::process::exit(2);
        }
    }
}
