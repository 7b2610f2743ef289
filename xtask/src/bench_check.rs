//! `cargo xtask bench check`: four figures of `check`'s speed, side by side in one run:
//!
//! 1. requests per second of `corsproof check` against a local nginx next to `wrk` against
//!    the same nginx, alternating, so that the ratio is measured under the same machine load
//!    (and the default check of corpus/policies/mixed-routes.toml against it, timed);
//! 2. the wall-clock seconds of a default check against a slow server that writes each
//!    response's head and body in two sends with Nagle's algorithm on, as Python's
//!    `http.server` does ([`slow::Kind::TwoSends`]: 40 ms a request on a kept-alive
//!    connection to a client that delays its ACKs);
//! 3. the same against a server that answers 700 requests a second in all, one at a time
//!    ([`slow::Kind::Paced`]: a development server);
//! 4. requests per detected defect on the self-test suite: the release deployments test,
//!    its requests per defective deployment (every one of which it flags, or it fails).
//!
//! Needs nginx and wrk (Debian: `apt-get install nginx-light wrk`). Every server is on
//! loopback, bounded in connections and requests, and stopped by its handle.

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
    // Findings (exit 1) are expected of the slow servers, which send no CORS headers.
    if !matches!(out.status.code(), Some(0 | 1)) {
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

/// Wall-clock seconds and requests of a default check (`--seed 1`) against `url`.
fn default_check(root: &Path, corsproof: &Path, url: &str) -> Result<(f64, u64)> {
    let started = Instant::now();
    let (_, _, requests) = check_rate(root, corsproof, url, "50")?;
    Ok((started.elapsed().as_secs_f64(), requests))
}

/// The release deployments test's per-deployment lines: requests of each defective
/// deployment (one that had findings: the test fails unless every defective one does).
fn requests_per_defect(root: &Path, cargo: &str) -> Result<(u64, u64)> {
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "test",
            "--release",
            "-p",
            "corsproof-engine",
            "--test",
            "deployments",
            "--",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CORSPROOF_DEPLOYMENTS_SEED", "1")
        .output()?;
    if !out.status.success() {
        bail!(
            "the deployments test failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut requests, mut defects) = (0, 0);
    for line in text.lines() {
        let Some((before, found)) = line.split_once(" requests  found [") else {
            continue;
        };
        if found.starts_with(']') {
            continue;
        }
        let n = before
            .split_whitespace()
            .last()
            .and_then(|n| n.parse::<u64>().ok())
            .context("a deployment line without its requests")?;
        requests += n;
        defects += 1;
    }
    Ok((requests, defects))
}

/// The benchmark.
pub fn bench_check(root: &Path, cargo: &str) -> Result<()> {
    crate::run(cargo, &["build", "--release", "-p", "corsproof"], &[])?;
    let corsproof = crate::target_dir(root).join("release/corsproof");
    let nginx = start_nginx(root, &corsproof)?;
    let url = format!("http://127.0.0.1:{}/", nginx.port);
    // The default check of the three-route policy.
    let (default_seconds, default_requests) = default_check(root, &corsproof, &url)?;
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
    println!("bench check (nginx, {POLICY}, check on up to 32 connections, wrk on 8, {ROUNDS} alternating rounds)");
    for (i, (c, w)) in rows.iter().enumerate() {
        println!(
            "  round {}: check {c:>8.0} req/s   wrk {w:>8.0} req/s   ratio {:.2}",
            i + 1,
            c / w
        );
    }
    println!("  median check/wrk ratio: {median:.2} (goal >= 0.8)");
    println!(
        "  default check (50 generated cases, 3 profiles): {default_requests} requests in {default_seconds:.2} s wall clock"
    );
    drop(nginx);
    let two_sends = slow::Server::start(slow::Kind::TwoSends)?;
    let (seconds, requests) = default_check(root, &corsproof, &two_sends.url())?;
    drop(two_sends);
    println!(
        "bench check (a server writing head and body in two sends, Nagle on): default check {requests} requests in {seconds:.2} s (goal < 10 s)"
    );
    let paced = slow::Server::start(slow::Kind::Paced)?;
    let (seconds, requests) = default_check(root, &corsproof, &paced.url())?;
    drop(paced);
    println!(
        "bench check (a server answering 700 requests/s in all): default check {requests} requests in {seconds:.2} s (goal < 5 s)"
    );
    let (requests, defects) = requests_per_defect(root, cargo)?;
    println!(
        "bench check (self-test suite, seed 1): {requests} requests for {defects} defective deployments, all flagged: {:.0} requests per detected defect",
        requests as f64 / defects.max(1) as f64
    );
    Ok(())
}

/// Slow HTTP/1.1 servers on loopback, one thread per connection: what development servers
/// and small Python services look like to `check`.
mod slow {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use anyhow::Result;

    /// Connections a server serves in all, and requests per connection.
    const MAX_CONNECTIONS: usize = 4096;
    const MAX_REQUESTS: usize = 100_000;
    /// How long a connection may stay silent.
    const IDLE: Duration = Duration::from_secs(5);

    /// How a server is slow.
    #[derive(Debug, Clone, Copy)]
    pub enum Kind {
        /// Head and body in two writes, Nagle's algorithm on (`http.server`).
        TwoSends,
        /// One request at a time over all connections, 1/700 s each.
        Paced,
    }

    /// A running server; dropping it stops accepting (connections end when the client closes
    /// them or after [`IDLE`]).
    pub struct Server {
        port: u16,
        stop: Arc<AtomicBool>,
    }

    impl Server {
        pub fn start(kind: Kind) -> Result<Server> {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let port = listener.local_addr()?.port();
            let stop = Arc::new(AtomicBool::new(false));
            let stopping = stop.clone();
            let turn = Arc::new(Mutex::new(()));
            std::thread::spawn(move || {
                for stream in listener.incoming().take(MAX_CONNECTIONS) {
                    if stopping.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let turn = turn.clone();
                    std::thread::spawn(move || {
                        let _ = serve(stream, kind, &turn);
                    });
                }
            });
            Ok(Server { port, stop })
        }

        pub fn url(&self) -> String {
            format!("http://127.0.0.1:{}/", self.port)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::Relaxed);
            // Wakes the accept loop so that it sees the flag.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
        }
    }

    fn serve(stream: TcpStream, kind: Kind, turn: &Mutex<()>) -> std::io::Result<()> {
        stream.set_read_timeout(Some(IDLE))?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let body = b"{\"ok\":true}";
        for _ in 0..MAX_REQUESTS {
            let mut length = 0usize;
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0).min(1 << 16);
                    }
                }
            }
            let mut discard = vec![0u8; length];
            reader.read_exact(&mut discard)?;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            match kind {
                Kind::TwoSends => {
                    writer.write_all(head.as_bytes())?;
                    writer.write_all(body)?;
                }
                Kind::Paced => {
                    let held = turn.lock().unwrap_or_else(|e| e.into_inner());
                    let until = Instant::now() + Duration::from_secs_f64(1.0 / 700.0);
                    while Instant::now() < until {
                        std::thread::sleep(until - Instant::now());
                    }
                    drop(held);
                    let mut all = head.into_bytes();
                    all.extend_from_slice(body);
                    writer.write_all(&all)?;
                }
            }
        }
        Ok(())
    }
}
