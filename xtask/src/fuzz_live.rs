//! `cargo xtask fuzz live`: the live fuzz target (fuzz/fuzz_targets/live.rs) against a real
//! server, and its part of CI (fuzz/README.md, "Live targets").
//!
//! - `--target nginx|serve|nginx+serve [--seconds N] [--scratch DIR] [--no-feedback] [--empty]`: a
//!   campaign on the seeds (`corpus/live/`) and kept crashes (`corpus/regressions/live/`); a
//!   crash is minimized and kept as a regression input, and its case is written as a
//!   `corsproof check --replay` case file in `corpus/regressions/live-cases/`.
//! - `--planted [--seconds N]`: nginx with the planted defect (a too-loose origin regex), from
//!   an empty corpus: the run fails unless the fuzzer finds it within N seconds (default 60).
//! - `--compare [--target T] [--seconds N] [--runs K]`: distinct behaviours of the server
//!   reached from an empty corpus with the behaviour feedback and without it, K runs of each
//!   alternating.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};

use crate::fuzz::{
    binary, cargo_fuzz, check, ci_scratch, crash_file, ensure_cargo_fuzz, execs_per_second,
    keep_crash, seconds, BUILD_FLAGS, CI_SECONDS,
};
use crate::root;

/// The live fuzz target's name.
pub const LIVE: &str = "live";

/// Words the target panics with when the server stopped answering (fuzz/src/live.rs,
/// `STOPPED`): not a finding, so no input is kept.
const STOPPED: &str = "corsproof-live: the target stopped answering";

/// How long the planted defect may take to be found.
const PLANTED_SECONDS: u64 = 60;

/// The server a live campaign plays on (`CORSPROOF_LIVE_TARGET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Nginx,
    Serve,
    NginxAndServe,
    NginxPlanted,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Nginx => "nginx",
            Server::Serve => "serve",
            Server::NginxAndServe => "nginx+serve",
            Server::NginxPlanted => "nginx-planted",
        }
    }

    fn parse(name: &str) -> Result<Server> {
        Ok(match name {
            "nginx" => Server::Nginx,
            "serve" => Server::Serve,
            "nginx+serve" => Server::NginxAndServe,
            // For checking the crash path by hand: its crash is kept like any other.
            "nginx-planted" => Server::NginxPlanted,
            other => {
                bail!("unknown live target {other:?} (nginx, serve, nginx+serve or nginx-planted)")
            }
        })
    }

    /// The `corsproof run` target that starts the same server, for the replay command.
    fn run_target(self) -> &'static str {
        match self {
            Server::Serve => "tower",
            Server::Nginx | Server::NginxAndServe | Server::NginxPlanted => "nginx",
        }
    }
}

/// What one run of the live target came to.
struct Outcome {
    log: String,
    success: bool,
    /// Distinct behaviours of the server the run reached (the target's last
    /// `corsproof-live: behaviours N` line).
    behaviours: u64,
    rate: Option<u64>,
    wall: f64,
}

/// The options of `cargo xtask fuzz live`.
struct Options {
    server: Server,
    seconds: u64,
    scratch: PathBuf,
    feedback: bool,
    empty: bool,
    planted: bool,
    compare: bool,
    runs: u32,
    /// Use the corsproof binary already built, if there is one ([`environment`]).
    reuse: bool,
}

fn options(rest: &[String]) -> Result<Options> {
    let mut o = Options {
        server: Server::Nginx,
        seconds: CI_SECONDS,
        scratch: root().join("fuzz/target/corpus"),
        feedback: true,
        empty: false,
        planted: false,
        compare: false,
        runs: 1,
        reuse: false,
    };
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().with_context(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "--target" => o.server = Server::parse(value("nginx, serve or nginx+serve")?)?,
            "--seconds" => o.seconds = value("a number")?.parse().context("--seconds")?,
            "--runs" => o.runs = value("a number")?.parse().context("--runs")?,
            "--scratch" => o.scratch = PathBuf::from(value("a directory")?),
            "--no-feedback" => o.feedback = false,
            "--empty" => o.empty = true,
            "--planted" => o.planted = true,
            "--compare" => o.compare = true,
            other => bail!("unknown option {other:?} of `cargo xtask fuzz live`"),
        }
    }
    if o.planted && !rest.iter().any(|a| a == "--seconds") {
        o.seconds = PLANTED_SECONDS;
    }
    Ok(o)
}

/// `cargo xtask fuzz live ...` (the module's documentation).
pub fn run(cargo: &str, rest: &[String]) -> Result<()> {
    let o = options(rest)?;
    ensure!(o.seconds > 0, "--seconds must be at least 1");
    build(cargo)?;
    if o.planted {
        return planted(o.seconds);
    }
    if o.compare {
        return compare(cargo, &o);
    }
    campaign(cargo, &o)
}

/// Builds the live target as every fuzz target is built (`cargo fuzz build` with xtask's
/// flags and coverage scope).
fn build(cargo: &str) -> Result<()> {
    ensure_cargo_fuzz(cargo)?;
    let mut args = vec!["build"];
    args.extend(BUILD_FLAGS);
    args.push(LIVE);
    check(cargo_fuzz(cargo, &args), "cargo fuzz build live")
}

/// The environment of the live target for `server`: which server, and for `serve` the
/// release build of the corsproof binary: built by `cargo build --release -p corsproof`, or,
/// with `reuse`, the one already there when there is one (CI's: `cargo test --workspace
/// --release` has just built it from the same sources; building it again with the features
/// of one package would rebuild part of the workspace).
fn environment(
    cargo: &str,
    server: Server,
    feedback: bool,
    reuse: bool,
) -> Result<Vec<(&'static str, String)>> {
    let mut envs = vec![("CORSPROOF_LIVE_TARGET", server.name().to_string())];
    if !feedback {
        envs.push(("CORSPROOF_LIVE_FEEDBACK", "0".to_string()));
    }
    if matches!(server, Server::Serve | Server::NginxAndServe) {
        let bin = crate::target_dir(&root()).join("release/corsproof");
        if !(reuse && bin.is_file()) {
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--release", "--quiet", "-p", "corsproof"])
                .current_dir(root());
            check(cmd, "cargo build --release -p corsproof")?;
        }
        ensure!(bin.is_file(), "no corsproof binary at {}", bin.display());
        envs.push(("CORSPROOF_BIN", bin.display().to_string()));
    }
    Ok(envs)
}

/// Runs the live binary over `dirs` for `seconds` with `envs`, crashes saved under
/// `artifacts`.
fn libfuzzer(
    envs: &[(&str, String)],
    dirs: &[PathBuf],
    seconds: u64,
    artifacts: &Path,
) -> Result<Outcome> {
    std::fs::create_dir_all(artifacts)?;
    let started = Instant::now();
    let output = Command::new(binary(LIVE))
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .args(dirs)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!(
            "-dict={}",
            root().join("fuzz/dicts/cors.dict").display()
        ))
        .args(["-rss_limit_mb=2048", "-timeout=10", "-print_final_stats=1"])
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run the live fuzz target")?;
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    let behaviours = log
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("corsproof-live: behaviours "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(Outcome {
        rate: execs_per_second(&log),
        success: output.status.success(),
        behaviours,
        wall: started.elapsed().as_secs_f64(),
        log,
    })
}

/// A campaign on one server; a crash becomes a regression input and a replayable case.
fn campaign(cargo: &str, o: &Options) -> Result<()> {
    let envs = environment(cargo, o.server, o.feedback, o.reuse)?;
    let work = o.scratch.join(format!("{LIVE}-{}", o.server.name()));
    if o.empty && work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let mut dirs = vec![work];
    if !o.empty {
        dirs.push(root().join("corpus").join(LIVE));
        let regressions = root().join("corpus/regressions").join(LIVE);
        if regressions.is_dir() {
            dirs.push(regressions);
        }
    }
    let artifacts = root().join("fuzz/artifacts").join(LIVE);
    let out = libfuzzer(&envs, &dirs, o.seconds, &artifacts)?;
    if out.success {
        eprintln!(
            "xtask: fuzz live {}: {} executions/s over {} s, {} behaviours, no crash",
            o.server.name(),
            out.rate.unwrap_or(0),
            o.seconds,
            out.behaviours
        );
        return Ok(());
    }
    eprintln!("{}", out.log);
    if out.log.contains(STOPPED) {
        bail!(
            "the live target {} stopped answering: no input kept",
            o.server.name()
        );
    }
    let crash = crash_file(&out.log).context("the live target failed without a crash file")?;
    let kept = keep_crash(LIVE, &crash, &envs)?;
    let case = case_file(&envs, &kept)?;
    bail!(
        "fuzz target live crashed on {}; the input is kept as {} and its case as {} (replay: \
         corsproof run {} --policy corpus/policies/mixed-routes.toml --replay {})",
        o.server.name(),
        kept.display(),
        case.display(),
        o.server.run_target(),
        case.display()
    )
}

/// Writes the case of the failing `input` as a `check --replay` case file in
/// corpus/regressions/live-cases/, named after the input.
fn case_file(envs: &[(&str, String)], input: &Path) -> Result<PathBuf> {
    let dir = root().join("corpus/regressions/live-cases");
    std::fs::create_dir_all(&dir)?;
    let name = input.file_name().context("the kept input has no name")?;
    let file = dir.join(format!("{}.json", name.to_string_lossy()));
    let status = Command::new(binary(LIVE))
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("CORSPROOF_LIVE_CASE", &file)
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run the live target on the kept input")?;
    ensure!(
        !status.success(),
        "the kept input {} no longer fails",
        input.display()
    );
    ensure!(
        file.is_file(),
        "the live target wrote no case file for {}",
        input.display()
    );
    Ok(file)
}

/// The planted defect found from an empty corpus within `seconds`.
fn planted(seconds: u64) -> Result<()> {
    let scratch = ci_scratch()?;
    let envs = vec![(
        "CORSPROOF_LIVE_TARGET",
        Server::NginxPlanted.name().to_string(),
    )];
    let corpus = scratch.join("corpus");
    std::fs::create_dir_all(&corpus)?;
    let out = libfuzzer(&envs, &[corpus], seconds, &scratch.join("artifacts"));
    let result = out.and_then(|out| {
        let found = !out.success
            && !out.log.contains(STOPPED)
            && out.log.contains("corsproof-live: NginxPlanted");
        if !found {
            eprintln!("{}", out.log);
            bail!("the live fuzzer did not find the planted defect within {seconds} s");
        }
        let crash = crash_file(&out.log).context("no crash file")?;
        let case = case_file_in(&envs, &crash, &scratch)?;
        let units = out
            .log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| "?".into());
        eprintln!(
            "xtask: fuzz live --planted: found in {:.1} s ({units} executions, nginx start \
             included) from an empty corpus; its case:\n{}",
            out.wall,
            std::fs::read_to_string(case)?.trim_end()
        );
        Ok(())
    });
    std::fs::remove_dir_all(&scratch).ok();
    result
}

/// The case file of `input` written in `dir`.
fn case_file_in(envs: &[(&str, String)], input: &Path, dir: &Path) -> Result<PathBuf> {
    let file = dir.join("case.json");
    let _ = Command::new(binary(LIVE))
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("CORSPROOF_LIVE_CASE", &file)
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    ensure!(file.is_file(), "the live target wrote no case file");
    Ok(file)
}

/// Behaviours reached from an empty corpus with and without the feedback, alternating.
fn compare(cargo: &str, o: &Options) -> Result<()> {
    let mut rows = Vec::new();
    for run in 0..o.runs {
        for feedback in [true, false] {
            let envs = environment(cargo, o.server, feedback, o.reuse)?;
            let scratch = ci_scratch()?;
            let corpus = scratch.join("corpus");
            std::fs::create_dir_all(&corpus)?;
            let out = libfuzzer(&envs, &[corpus], o.seconds, &scratch.join("artifacts"));
            std::fs::remove_dir_all(&scratch).ok();
            let out = out?;
            ensure!(out.success, "run {run} crashed:\n{}", out.log);
            let edges = out
                .log
                .lines()
                .rev()
                .find(|l| l.split_whitespace().nth(1) == Some("DONE"))
                .and_then(|l| l.split("cov: ").nth(1))
                .and_then(|c| c.split_whitespace().next())
                .unwrap_or("?")
                .to_string();
            rows.push((run, feedback, out.behaviours, out.rate.unwrap_or(0), edges));
        }
    }
    eprintln!(
        "xtask: fuzz live --compare on {}, {} s from an empty corpus:",
        o.server.name(),
        o.seconds
    );
    eprintln!("run  feedback  behaviours  exec/s  edges");
    for (run, feedback, behaviours, rate, edges) in rows {
        let f = if feedback { "on" } else { "off" };
        eprintln!("{run:>3}  {f:>8}  {behaviours:>10}  {rate:>6}  {edges:>5}");
    }
    Ok(())
}

/// The live part of CI: each server for [`CI_SECONDS`] on the seeds and kept crashes (new
/// inputs in a directory removed afterwards), then the planted defect.
pub fn ci(cargo: &str) -> Result<()> {
    build(cargo)?;
    for server in [Server::Nginx, Server::Serve] {
        let scratch = ci_scratch()?;
        let o = Options {
            server,
            seconds: CI_SECONDS,
            scratch: scratch.clone(),
            feedback: true,
            empty: false,
            planted: false,
            compare: false,
            runs: 1,
            reuse: true,
        };
        let t = Instant::now();
        let ran = campaign(cargo, &o);
        std::fs::remove_dir_all(&scratch).ok();
        ran?;
        eprintln!(
            "xtask: fuzz ci: live {} in {}",
            server.name(),
            seconds(t.elapsed())
        );
    }
    planted(PLANTED_SECONDS)
}
