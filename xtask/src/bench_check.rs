//! `cargo xtask bench check`: requests per second of `corsproof check` against a local nginx
//! next to `wrk` against the same nginx, in one run, alternating, so that the ratio is
//! measured under the same machine load. Also times a default `check` (1,000 generated
//! cases, three profiles) of the three-route policy corpus/policies/mixed-routes.toml.
//!
//! Needs nginx and wrk (Debian: `apt-get install nginx-light wrk`).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

const POLICY: &str = "corpus/policies/mixed-routes.toml";
const ROUNDS: usize = 3;

struct Nginx {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn which(name: &str, extra: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(extra.iter().map(PathBuf::from));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn start_nginx(root: &Path, corsproof: &Path) -> Result<Nginx> {
    let bin =
        which("nginx", &["/usr/sbin"]).context("nginx not found (apt-get install nginx-light)")?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dir = std::env::temp_dir().join(format!("corsproof-bench-nginx-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tmp"))?;
    let status = Command::new(corsproof)
        .current_dir(root)
        .args(["emit", "nginx", "--policy", POLICY, "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--output")
        .arg(dir.join("nginx.conf"))
        .status()?;
    if !status.success() {
        bail!("corsproof emit nginx failed ({status})");
    }
    let child = Command::new(bin)
        .arg("-p")
        .arg(&dir)
        .args(["-c", "nginx.conf"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let nginx = Nginx { child, dir, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("nginx did not listen on {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(nginx)
}

/// Runs `corsproof check` and returns (requests per second, seconds, requests).
fn check_rate(root: &Path, corsproof: &Path, url: &str, cases: &str) -> Result<(f64, f64, u64)> {
    let out = Command::new(corsproof)
        .current_dir(root)
        .args([
            "check", url, "--policy", POLICY, "--cases", cases, "--seed", "1",
        ])
        .args(["--format", "json", "--quiet", "--no-save"])
        .output()?;
    if out.status.code() != Some(0) {
        bail!(
            "corsproof check exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> Result<f64> {
        let at = text
            .find(&format!("\"{name}\""))
            .with_context(|| format!("no {name} in the report"))?;
        let rest = &text[at + name.len() + 3..];
        let end = rest.find([',', '\n', '}']).unwrap_or(rest.len());
        rest[..end]
            .trim()
            .parse::<f64>()
            .with_context(|| format!("{name} is not a number"))
    };
    Ok((
        field("requests_per_second")?,
        field("seconds")?,
        field("requests")? as u64,
    ))
}

/// Runs wrk for `seconds` with the same connection count and an Origin header.
fn wrk_rate(url: &str, seconds: u64) -> Result<f64> {
    let wrk = which("wrk", &[]).context("wrk not found (apt-get install wrk)")?;
    let out = Command::new(wrk)
        .args(["-t2", "-c8", &format!("-d{seconds}s")])
        .args(["-H", "Origin: https://app.example.com"])
        .arg(format!("{url}api/orders"))
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))
}

/// The benchmark.
pub fn bench_check(root: &Path, cargo: &str) -> Result<()> {
    crate::run(cargo, &["build", "--release", "-p", "corsproof"], &[])?;
    let corsproof = root.join("target/release/corsproof");
    let nginx = start_nginx(root, &corsproof)?;
    let url = format!("http://127.0.0.1:{}/", nginx.port);
    // The default check of the three-route policy.
    let started = Instant::now();
    let (_, _, default_requests) = check_rate(root, &corsproof, &url, "1000")?;
    let default_seconds = started.elapsed().as_secs_f64();
    let mut rows = Vec::new();
    for round in 1..=ROUNDS {
        let (check, secs, requests) = check_rate(root, &corsproof, &url, "20000")?;
        let wrk = wrk_rate(&url, secs.ceil().max(2.0) as u64)?;
        eprintln!(
            "xtask: round {round}: check {check:.0} req/s ({requests} requests in {secs:.2} s), wrk {wrk:.0} req/s, ratio {:.2}",
            check / wrk
        );
        rows.push((check, wrk));
    }
    let mut ratios: Vec<f64> = rows.iter().map(|(c, w)| c / w).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!("bench check (nginx, {POLICY}, 8 connections, {ROUNDS} alternating rounds)");
    for (i, (c, w)) in rows.iter().enumerate() {
        println!(
            "  round {}: check {c:>8.0} req/s   wrk {w:>8.0} req/s   ratio {:.2}",
            i + 1,
            c / w
        );
    }
    println!("  median check/wrk ratio: {median:.2} (goal >= 0.5)");
    println!(
        "  default check (1,000 cases, 3 profiles): {default_requests} requests in {default_seconds:.2} s wall clock (goal < 10 s)"
    );
    drop(nginx);
    Ok(())
}
