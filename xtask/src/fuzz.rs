//! `cargo xtask fuzz` and the fuzz part of `cargo xtask ci` (fuzz/README.md).
//!
//! - [`run`]: libFuzzer campaigns of N seconds per target on the checked-in seeds
//!   (`corpus/TARGET/`) and kept crashes (`corpus/regressions/TARGET/`, replayed first by
//!   every run); a crash is minimized, kept in `corpus/regressions/TARGET/` and fails the run.
//! - [`ci`]: formatting and clippy of the fuzz crate (its own workspace), the OSS-Fuzz build
//!   script run locally with every target's binary, dictionary and seed archive checked and
//!   each binary run over its seeds, then [`run`] for 30 s per target.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::fuzz_live as live;
use crate::root;

/// The fuzz targets, in the order they run; `ci` checks that this is every file of
/// fuzz/fuzz_targets/.
pub const TARGETS: [&str; 6] = [
    "oracle",
    "oracle_json",
    "middleware_vs_intent",
    "policy_parse",
    "header_lists",
    "response_parse",
];

/// How the targets are built for campaigns, and by `fuzz/oss-fuzz/build.sh` (for OSS-Fuzz,
/// ClusterFuzzLite and CI's local run of it, one build): optimized with debug assertions and
/// overflow checks, without a sanitizer (safe Rust: a sanitizer finds nothing a panic would
/// not, at several times the cost; OSS-Fuzz adds its AddressSanitizer) and without
/// trace-compares instrumentation (fuzz/README.md has the measurements behind both choices).
/// [`build_sh_flags_match`] checks that `build.sh` passes the same flags.
pub(crate) const BUILD_FLAGS: [&str; 5] = [
    "-O",
    "--debug-assertions",
    "--sanitizer",
    "none",
    "--no-trace-compares",
];

/// Seconds per target in CI.
pub(crate) const CI_SECONDS: u64 = 30;

/// The `RUSTC_WRAPPER` of every fuzz build, relative to the repository: coverage
/// instrumentation for the code under test and the fuzz drivers only, not for third-party
/// crates nor the fuzz targets' input decoding (the script says why).
const SCOPE_WRAPPER: &str = "fuzz/scope-coverage.sh";

/// The caller's `RUSTFLAGS` (cargo-fuzz appends them to its own) plus [`SCOPED_CFG`]: cargo
/// does not rebuild a crate when `RUSTC_WRAPPER` changes, but does when `RUSTFLAGS` do, so the
/// marker keeps artifacts built without [`SCOPE_WRAPPER`] from being reused.
fn scoped_rustflags() -> String {
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if !flags.split_whitespace().any(|f| f == SCOPED_CFG) {
        flags.push_str(" --cfg ");
        flags.push_str(SCOPED_CFG);
    }
    flags.trim_start().to_string()
}

/// The marker cfg of builds through [`SCOPE_WRAPPER`] (also set by build.sh). Its number
/// goes up whenever the wrapper changes what it instruments, so that a build directory made
/// under another rule is rebuilt (rule 2: neither third-party crates nor the fuzz target
/// binaries are instrumented).
const SCOPED_CFG: &str = "corsproof_coverage_scope_2";

/// `cargo fuzz` on stable through `RUSTC_BOOTSTRAP=1` (cargo-fuzz passes nightly-only `-Z`
/// flags), with [`SCOPE_WRAPPER`] as `RUSTC_WRAPPER`, building into fuzz/target whatever the
/// caller's `CARGO_TARGET_DIR`.
pub(crate) fn cargo_fuzz(cargo: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(cargo);
    cmd.arg("fuzz")
        .args(args)
        .current_dir(root())
        .env_remove("CARGO_TARGET_DIR")
        .env("RUSTC_WRAPPER", root().join(SCOPE_WRAPPER))
        .env("RUSTFLAGS", scoped_rustflags())
        .env("RUSTC_BOOTSTRAP", "1");
    eprintln!(
        "xtask: RUSTC_BOOTSTRAP=1 RUSTC_WRAPPER={SCOPE_WRAPPER} cargo fuzz {}",
        args.join(" ")
    );
    cmd
}

/// Runs `cmd` and fails unless it succeeds.
pub(crate) fn check(mut cmd: Command, what: &str) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    ensure!(status.success(), "{what} failed ({status})");
    Ok(())
}

/// Installs cargo-fuzz (`cargo install cargo-fuzz --locked`) unless `cargo fuzz` runs.
pub(crate) fn ensure_cargo_fuzz(cargo: &str) -> Result<()> {
    let installed = Command::new(cargo)
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        let started = Instant::now();
        eprintln!("xtask: cargo install cargo-fuzz --locked");
        let mut cmd = Command::new(cargo);
        cmd.args(["install", "cargo-fuzz", "--locked"]);
        check(cmd, "cargo install cargo-fuzz")?;
        eprintln!(
            "xtask: cargo-fuzz installed in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The executions per second of libFuzzer's final stats line (`#N DONE ... exec/s: E ...`).
pub(crate) fn execs_per_second(log: &str) -> Option<u64> {
    log.lines()
        .rev()
        .find(|l| l.split_whitespace().nth(1) == Some("DONE"))?
        .split("exec/s: ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The input libFuzzer saved on a crash, timeout or out-of-memory (`Test unit written to
/// PATH`).
pub(crate) fn crash_file(log: &str) -> Option<PathBuf> {
    log.lines()
        .rev()
        .find_map(|l| l.split("Test unit written to ").nth(1))
        .map(|p| root().join(p.trim()))
}

/// The fuzz target's binary (built by `cargo fuzz run` / `build` with [`BUILD_FLAGS`]).
pub(crate) fn binary(target: &str) -> PathBuf {
    root()
        .join("fuzz/target/x86_64-unknown-linux-gnu/release")
        .join(target)
}

/// Whether `input` makes the target fail (run with `envs` set).
fn crashes(target: &str, input: &Path, envs: &[(&str, String)]) -> Result<bool> {
    let status = Command::new(binary(target))
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", binary(target).display()))?;
    Ok(!status.success())
}

/// Minimizes the crash `input` (libFuzzer's `-minimize_crash`, at most 60 s) and keeps the
/// smallest input that still fails in corpus/regressions/TARGET/, under `input`'s name;
/// returns its path. An input already kept there is not copied again. The target runs with
/// `envs` set.
pub(crate) fn keep_crash(target: &str, input: &Path, envs: &[(&str, String)]) -> Result<PathBuf> {
    let dir = root().join("corpus/regressions").join(target);
    std::fs::create_dir_all(&dir)?;
    let bytes = std::fs::read(input)?;
    for kept in std::fs::read_dir(&dir)? {
        let kept = kept?.path();
        if std::fs::read(&kept).is_ok_and(|k| k == bytes) {
            return Ok(kept);
        }
    }
    let scratch = root().join("fuzz/target/minimize").join(target);
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    eprintln!("xtask: minimizing {}", input.display());
    let status = Command::new(binary(target))
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .arg("-minimize_crash=1")
        .arg("-max_total_time=60")
        .arg(format!("-artifact_prefix={}/", scratch.display()))
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run the minimization")?;
    eprintln!("xtask: minimization ended ({status})");
    let mut candidates = vec![input.to_path_buf()];
    for entry in std::fs::read_dir(&scratch)? {
        candidates.push(entry?.path());
    }
    candidates.sort_by_key(|p| std::fs::metadata(p).map_or(u64::MAX, |m| m.len()));
    let mut smallest = input.to_path_buf();
    for candidate in candidates {
        if crashes(target, &candidate, envs)? {
            smallest = candidate;
            break;
        }
    }
    let name = input
        .file_name()
        .context("the crash file has no name")?
        .to_owned();
    let kept = dir.join(name);
    std::fs::copy(&smallest, &kept)
        .with_context(|| format!("cannot copy {} to {}", smallest.display(), kept.display()))?;
    Ok(kept)
}

/// The libFuzzer options of `target` from `fuzz/options/TARGET.options` (OSS-Fuzz's format:
/// `key = value` lines under `[libfuzzer]`; `build.sh` copies the file next to the binary, where
/// OSS-Fuzz and ClusterFuzzLite read it), as `-key=value` flags; none without the file.
fn libfuzzer_options(target: &str) -> Result<Vec<String>> {
    let path = root()
        .join("fuzz/options")
        .join(format!("{target}.options"));
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path)?;
    let mut section = "";
    let mut flags = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .with_context(|| format!("{}: not `key = value`: {line:?}", path.display()))?;
        ensure!(
            section == "libfuzzer",
            "{}: option outside [libfuzzer]: {line:?}",
            path.display()
        );
        flags.push(format!("-{}={}", key.trim(), value.trim()));
    }
    Ok(flags)
}

/// One campaign of `seconds` on `target`, its new inputs written to `scratch/TARGET`;
/// returns its executions per second.
fn campaign(cargo: &str, target: &str, seconds: u64, scratch: &Path) -> Result<u64> {
    let root = root();
    // New inputs go to a scratch corpus (by default fuzz/target/corpus, ignored by git); the
    // checked-in seeds and kept crashes are only read, and every input of them runs first.
    let work = scratch.join(target);
    std::fs::create_dir_all(&work)
        .with_context(|| format!("cannot create the scratch corpus {}", work.display()))?;
    let mut dirs = vec![work, root.join("corpus").join(target)];
    let regressions = root.join("corpus/regressions").join(target);
    if regressions.is_dir() {
        dirs.push(regressions);
    }
    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let max_time = format!("-max_total_time={seconds}");
    let dict = format!("-dict={}", root.join("fuzz/dicts/cors.dict").display());
    let mut args: Vec<&str> = vec!["run"];
    args.extend(BUILD_FLAGS);
    args.push(target);
    args.extend(dirs.iter().map(String::as_str));
    args.extend([
        "--",
        &max_time,
        &dict,
        "-rss_limit_mb=2048",
        "-timeout=10",
        "-print_final_stats=1",
    ]);
    let options = libfuzzer_options(target)?;
    args.extend(options.iter().map(String::as_str));
    let output = cargo_fuzz(cargo, &args)
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run cargo fuzz on {target}"))?;
    let log = String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        let rate = execs_per_second(&log)
            .with_context(|| format!("no libFuzzer stats for {target}:\n{log}"))?;
        eprintln!("xtask: fuzz {target}: {rate} executions/s over {seconds} s, no crash");
        return Ok(rate);
    }
    eprintln!("{log}");
    let Some(crash) = crash_file(&log) else {
        bail!(
            "fuzz target {target} failed ({}) without a crash file",
            output.status
        );
    };
    let kept = keep_crash(target, &crash, &[])?;
    bail!(
        "fuzz target {target} crashed; the input is kept as {} (replay: cargo xtask fuzz \
         {target} --seconds 0, or fuzz/target/x86_64-unknown-linux-gnu/release/{target} {})",
        kept.display(),
        kept.display()
    )
}

/// `cargo xtask fuzz [TARGET] [--seconds N] [--scratch DIR]`: campaigns of N seconds
/// (default 30; 0 only replays the seeds and kept crashes) on every target or the one named,
/// new inputs kept in DIR/TARGET (default fuzz/target/corpus/TARGET); `cargo xtask fuzz
/// --ci`: the fuzz part of `cargo xtask ci` alone.
pub fn run(rest: &[String]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    if rest.first().map(String::as_str) == Some(live::LIVE) {
        return live::run(&cargo, &rest[1..]);
    }
    if rest.iter().any(|a| a == "--ci") {
        ensure!(rest.len() == 1, "--ci takes no other argument");
        return ci(&cargo);
    }
    let mut seconds = CI_SECONDS;
    let mut scratch = root().join("fuzz/target/corpus");
    let mut targets: Vec<&str> = Vec::new();
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .context("--seconds needs a number")?;
            }
            "--scratch" => {
                scratch = args
                    .next()
                    .map(PathBuf::from)
                    .context("--scratch needs a directory")?;
            }
            name => match TARGETS.iter().find(|t| **t == name) {
                Some(t) => targets.push(t),
                None => bail!("unknown fuzz target {name:?} (targets: {TARGETS:?})"),
            },
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    ensure_cargo_fuzz(&cargo)?;
    let mut rates = Vec::new();
    for target in targets {
        // `-max_total_time=0` means no limit to libFuzzer: replay with `-runs=0` instead.
        let rate = if seconds == 0 {
            replay(&cargo, target)?;
            0
        } else {
            campaign(&cargo, target, seconds, &scratch)?
        };
        rates.push((target, rate));
    }
    if seconds > 0 {
        for (target, rate) in rates {
            eprintln!("xtask: fuzz summary: {target:<22} {rate:>9} executions/s");
        }
    }
    Ok(())
}

/// Runs the seeds and kept crashes of `target` once.
fn replay(cargo: &str, target: &str) -> Result<()> {
    let root = root();
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(BUILD_FLAGS.iter().map(|s| s.to_string()));
    args.push(target.into());
    args.push(root.join("corpus").join(target).display().to_string());
    let regressions = root.join("corpus/regressions").join(target);
    if regressions.is_dir() {
        args.push(regressions.display().to_string());
    }
    args.extend(["--".into(), "-runs=0".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    check(cargo_fuzz(cargo, &args), &format!("replay of {target}"))
}

/// The OSS-Fuzz build script, run locally without a sanitizer into fuzz/target/oss-fuzz-out:
/// every target's binary, dictionary and seed archive (its seeds and kept crashes) must land
/// there, and each binary runs once over the inputs of its archive.
fn oss_fuzz_build() -> Result<()> {
    let root = root();
    let out = root.join("fuzz/target/oss-fuzz-out");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    let script = root.join("fuzz/oss-fuzz/build.sh");
    eprintln!(
        "xtask: OUT={} SANITIZER=none RUSTC_BOOTSTRAP=1 {}",
        out.display(),
        script.display()
    );
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .current_dir(&root)
        .env("OUT", &out)
        .env("SANITIZER", "none")
        .env_remove("CARGO_FUZZ_BUILD_FLAGS")
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("SRC")
        .env_remove("CARGO_TARGET_DIR");
    check(cmd, "fuzz/oss-fuzz/build.sh")?;
    for target in all_targets() {
        let bin = out.join(target);
        let dict = out.join(format!("{target}.dict"));
        let zip = out.join(format!("{target}_seed_corpus.zip"));
        for file in [&bin, &dict, &zip] {
            ensure!(
                file.is_file(),
                "build.sh did not produce {}",
                file.display()
            );
        }
        let options = format!("{target}.options");
        if root.join("fuzz/options").join(&options).is_file() {
            ensure!(
                out.join(&options).is_file(),
                "build.sh did not copy fuzz/options/{options}"
            );
        }
        let seeds = out.join("seeds").join(target);
        std::fs::create_dir_all(&seeds)?;
        let mut unzip = Command::new("unzip");
        unzip.arg("-q").arg(&zip).arg("-d").arg(&seeds);
        check(unzip, &format!("unzip {}", zip.display()))?;
        let unzipped = std::fs::read_dir(&seeds)?.count();
        let mut checked_in = std::fs::read_dir(root.join("corpus").join(target))?.count();
        let regressions = root.join("corpus/regressions").join(target);
        if regressions.is_dir() {
            checked_in += std::fs::read_dir(regressions)?.count();
        }
        ensure!(
            unzipped == checked_in,
            "{} holds {unzipped} files, corpus/{target}/ and corpus/regressions/{target}/ \
             {checked_in}",
            zip.display()
        );
        let mut once = Command::new(&bin);
        once.arg("-runs=0")
            .arg(format!("-dict={}", dict.display()))
            .arg(&seeds)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        check(once, &format!("{target} over its {unzipped} seeds"))?;
        eprintln!("xtask: oss-fuzz {target}: binary, dictionary and {unzipped} seeds, all run");
    }
    Ok(())
}

/// `fuzz/oss-fuzz/build.sh` builds with [`BUILD_FLAGS`] and [`SCOPE_WRAPPER`]: its
/// `flags=(...)` line, plus the `--sanitizer none` it adds for `SANITIZER=none`, are exactly
/// those flags, and it exports the wrapper.
fn build_sh_flags_match() -> Result<()> {
    let script = std::fs::read_to_string(root().join("fuzz/oss-fuzz/build.sh"))?;
    let line = script
        .lines()
        .find_map(|l| l.trim().strip_prefix("flags=("))
        .and_then(|l| l.strip_suffix(')'))
        .context("fuzz/oss-fuzz/build.sh has no `flags=(...)` line")?;
    let mut flags: Vec<&str> = line.split_whitespace().collect();
    ensure!(
        script.contains("flags+=(--sanitizer none)"),
        "fuzz/oss-fuzz/build.sh does not add `--sanitizer none` for SANITIZER=none"
    );
    ensure!(
        script.contains(&format!("export RUSTC_WRAPPER=\"$SRC_DIR/{SCOPE_WRAPPER}\""))
            && script.contains(&format!("--cfg {SCOPED_CFG}\"")),
        "fuzz/oss-fuzz/build.sh does not build with RUSTC_WRAPPER={SCOPE_WRAPPER} and --cfg {SCOPED_CFG}"
    );
    flags.extend(["--sanitizer", "none"]);
    flags.sort_unstable();
    let mut ours = BUILD_FLAGS.to_vec();
    ours.sort_unstable();
    ensure!(
        flags == ours,
        "fuzz/oss-fuzz/build.sh builds with {flags:?}, xtask with {ours:?}"
    );
    Ok(())
}

/// Every fuzz target: [`TARGETS`] and the live one.
fn all_targets() -> Vec<&'static str> {
    let mut all = TARGETS.to_vec();
    all.push(live::LIVE);
    all
}

/// The fuzz targets listed in fuzz/fuzz_targets/ are exactly [`TARGETS`] and the live one.
fn targets_listed() -> Result<()> {
    let mut found: Vec<String> = std::fs::read_dir(root().join("fuzz/fuzz_targets"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".rs"))
                .map(str::to_string)
        })
        .collect();
    found.sort();
    let mut listed: Vec<&str> = all_targets();
    listed.sort_unstable();
    ensure!(
        found == listed,
        "fuzz/fuzz_targets/ has {found:?}, xtask lists {listed:?}"
    );
    Ok(())
}

/// The fuzz part of `cargo xtask ci`.
pub fn ci(cargo: &str) -> Result<()> {
    let started = Instant::now();
    let manifest = root().join("fuzz/Cargo.toml");
    let manifest = manifest.display().to_string();
    let step = |what: &str, since: Instant| {
        eprintln!("xtask: fuzz ci: {what} in {}", seconds(since.elapsed()));
    };
    // The fuzz crate is its own workspace: `cargo fmt` and `cargo clippy` of the root one
    // do not see it.
    let t = Instant::now();
    let mut fmt = Command::new(cargo);
    fmt.args(["fmt", "--manifest-path", &manifest, "--", "--check"]);
    check(fmt, "cargo fmt --check of fuzz/")?;
    let mut clippy = Command::new(cargo);
    clippy
        .args(["clippy", "--manifest-path", &manifest, "--all-targets"])
        .args(["--", "-D", "warnings"])
        .env_remove("CARGO_TARGET_DIR");
    eprintln!("xtask: cargo clippy --manifest-path {manifest} --all-targets -- -D warnings");
    check(clippy, "cargo clippy of fuzz/")?;
    targets_listed()?;
    build_sh_flags_match()?;
    step("fmt, clippy", t);
    let t = Instant::now();
    ensure_cargo_fuzz(cargo)?;
    step("cargo-fuzz", t);
    let t = Instant::now();
    oss_fuzz_build()?;
    step("OSS-Fuzz build script and seed runs", t);
    let t = Instant::now();
    let scratch = ci_scratch()?;
    eprintln!(
        "xtask: fuzz ci: new inputs go to {} (discarded afterwards)",
        scratch.display()
    );
    let ran = run(&["--scratch".to_string(), scratch.display().to_string()]);
    std::fs::remove_dir_all(&scratch)
        .with_context(|| format!("cannot remove {}", scratch.display()))?;
    ran?;
    step(&format!("campaigns ({CI_SECONDS} s per target)"), t);
    let t = Instant::now();
    live::ci(cargo)?;
    step(
        &format!("live targets ({CI_SECONDS} s each) and the planted defect"),
        t,
    );
    eprintln!(
        "xtask: the fuzz part of CI took {}",
        seconds(started.elapsed())
    );
    Ok(())
}

/// A fresh scratch directory for CI's campaigns, whose new inputs nobody keeps: in memory
/// (`/dev/shm`) where the machine has it, else under fuzz/target. libFuzzer writes every new
/// or reduced input as a file, and on this project's machines creating files on disk took
/// up to a fifth of a campaign's time (fuzz/README.md, "The scratch corpus in memory").
pub(crate) fn ci_scratch() -> Result<PathBuf> {
    let name = format!("corsproof-fuzz-ci-{}", std::process::id());
    let candidates = [
        Path::new("/dev/shm").join(&name),
        root().join("fuzz/target").join(&name),
    ];
    for dir in &candidates {
        // A directory left by an earlier run with the same process id is emptied.
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot empty {}", dir.display()))?;
        }
        if std::fs::create_dir_all(dir).is_ok() {
            return Ok(dir.clone());
        }
    }
    bail!("cannot create a scratch directory ({candidates:?})")
}

pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.0} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_sh_builds_what_xtask_builds() {
        build_sh_flags_match().expect("build.sh and BUILD_FLAGS agree");
    }

    #[test]
    fn options_files_parse() {
        for target in TARGETS {
            libfuzzer_options(target).expect("fuzz/options/TARGET.options parses");
        }
    }

    /// The wrapper passes a crate of this repository its flags unchanged, unless it is a
    /// fuzz target (a binary of fuzz/), and strips exactly the coverage flags (both
    /// spellings) from the fuzz targets and from any crate from elsewhere.
    #[test]
    fn scope_wrapper_strips_coverage_from_targets_and_other_crates_only() {
        let flags = [
            "--crate-name",
            "x",
            "-Cpasses=sancov-module",
            "-Cllvm-args=-sanitizer-coverage-level=4",
            "-C",
            "llvm-args=-sanitizer-coverage-inline-8bit-counters",
            "-Cllvm-args=-sanitizer-coverage-pc-table",
            "-C",
            "opt-level=3",
            "--cfg",
            "fuzzing",
            "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
        ];
        // The wrapper run as cargo runs it for a crate in `manifest_dir`, a binary target
        // when `bin` is given.
        let wrapped = |manifest_dir: &Path, bin: Option<&str>| {
            let mut cmd = Command::new("bash");
            cmd.arg(root().join(SCOPE_WRAPPER))
                .arg("echo")
                .args(flags)
                .env("CARGO_MANIFEST_DIR", manifest_dir)
                .env_remove("CARGO_BIN_NAME");
            if let Some(bin) = bin {
                cmd.env("CARGO_BIN_NAME", bin);
            }
            let out = cmd.output().expect("bash runs the wrapper");
            assert!(out.status.success());
            String::from_utf8(out.stdout).expect("UTF-8")
        };
        let kept = flags.join(" ");
        let stripped = "--crate-name x -C opt-level=3 --cfg fuzzing -Cllvm-args=-simplifycfg-branch-fold-threshold=0";
        // The code under test, its binaries included, and the fuzz drivers (the library of
        // the fuzz package) keep the instrumentation.
        assert_eq!(
            wrapped(&root().join("crates/oracle"), None).trim_end(),
            kept
        );
        assert_eq!(
            wrapped(&root().join("crates/cli"), Some("corsproof")).trim_end(),
            kept
        );
        assert_eq!(wrapped(&root().join("fuzz"), None).trim_end(), kept);
        // The fuzz targets (binaries of the fuzz package) and third-party crates lose it.
        assert_eq!(
            wrapped(&root().join("fuzz"), Some("oracle")).trim_end(),
            stripped
        );
        assert_eq!(wrapped(&std::env::temp_dir(), None).trim_end(), stripped);
    }

    #[test]
    fn every_target_is_listed() {
        targets_listed().expect("TARGETS lists fuzz/fuzz_targets/");
    }
}
