//! The axum example (`examples/axum.rs`) as a user runs it: the built example is started on a
//! free loopback port with `examples/deployed.toml`, real CORS preflights are sent to it
//! over TCP, and its answers and its `tracing` output are checked; then the same
//! application, included here from the example's source, is served in-process.
//!
//! The example binary is `target/PROFILE/examples/axum`, brought up to date first with
//! `cargo build --example axum` (a no-op after `cargo test`, which builds examples). Each process started is killed by its own handle when
//! the test ends, and stops on its own after `--seconds 60` in any case.
#![cfg(feature = "tracing")]

#[path = "../examples/axum.rs"]
#[allow(dead_code)]
mod example;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const APP: &str = "https://app.example.com";
/// How long any one step may take: starting, a request, a log line.
const STEP: Duration = Duration::from_secs(30);

fn policy_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deployed.toml")
}

/// A response: status and header lines (lowercase names; repeated names joined by `, `).
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Sends `OPTIONS path` with `headers` to `addr` on a fresh connection and reads the whole
/// answer (the request asks the server to close the connection after it).
fn options(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut stream = TcpStream::connect_timeout(&addr, STEP).expect("connect to the example");
    stream.set_read_timeout(Some(STEP)).unwrap();
    stream.set_write_timeout(Some(STEP)).unwrap();
    let mut request = format!("OPTIONS {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header line");
        headers
            .entry(name.to_ascii_lowercase())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(value.trim());
            })
            .or_insert_with(|| value.trim().to_string());
    }
    Answer { status, headers }
}

/// A preflight from [`APP`] for `method`, with `acrh` if any.
fn preflight(addr: SocketAddr, method: &str, acrh: Option<&str>) -> Answer {
    let mut headers = vec![("Origin", APP), ("Access-Control-Request-Method", method)];
    if let Some(acrh) = acrh {
        headers.push(("Access-Control-Request-Headers", acrh));
    }
    options(addr, "/api/items", &headers)
}

/// The example binary, built (or found up to date) by `cargo build --example axum` with this
/// test's profile and target folder: a run of this test alone gets the current example too.
fn example_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_example).clone()
}

/// Runs `cargo build --example axum`; the binary's path.
fn build_example() -> PathBuf {
    // This test is target/PROFILE/deps/axum_example-HASH; examples are in
    // target/PROFILE/examples.
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/PROFILE");
    let binary = profile_dir
        .join("examples")
        .join(format!("axum{}", std::env::consts::EXE_SUFFIX));
    {
        let target_dir = profile_dir.parent().expect("target");
        let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        build
            .args([
                "build",
                "--quiet",
                "-p",
                "corsproof-tower",
                "--example",
                "axum",
            ])
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "cargo build --example axum failed");
    }
    binary
}

/// The example process: killed (by its own handle) and reaped when dropped.
struct Running {
    child: Child,
    stderr: Receiver<String>,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts the example with `args` and waits for its "listening on" line.
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(example_binary())
            .arg("--policy")
            .arg(policy_file())
            .args(["--port", "0", "--seconds", "60"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the example");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = |stream: Box<dyn Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        };
        let stdout = lines(Box::new(stdout));
        let stderr = lines(Box::new(stderr));
        let mut running = Running {
            child,
            stderr,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = stdout
            .recv_timeout(STEP)
            .expect("the example prints where it listens");
        running.addr = line
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        assert!(running.addr.ip().is_loopback(), "{line}");
        running
    }

    /// The next line on standard error containing `needle`, waiting at most [`STEP`].
    fn logged(&self, needle: &str) -> String {
        let deadline = Instant::now() + STEP;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
        }
        panic!("no line with {needle:?} on the example's standard error; saw {seen:#?}")
    }
}

#[test]
fn the_example_answers_real_preflights_and_logs_refusals() {
    let server = Running::start(&[]);
    let addr = server.addr;

    let passed = preflight(addr, "PUT", Some("content-type"));
    assert_eq!(passed.status, 204, "{passed:?}");
    assert_eq!(passed.header("access-control-allow-origin"), Some(APP));
    assert_eq!(
        passed.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        passed.header("access-control-allow-methods"),
        Some("PUT, DELETE")
    );
    assert_eq!(passed.header("access-control-max-age"), Some("600"));

    // deployed.toml forgot PATCH: refused, silently for the browser, in words on stderr.
    let refused = preflight(addr, "PATCH", None);
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.header("access-control-allow-origin"), None);
    assert_eq!(refused.header("cors-refusal"), None);
    let line = server.logged("CORS refused");
    assert!(line.contains("DEBUG"), "{line}");
    assert!(line.contains(r#"kind="method-not-allowed""#), "{line}");
    assert!(line.contains(r#"route="app-api""#), "{line}");
    assert!(line.contains(r#"method "PATCH" is neither GET"#), "{line}");
}

#[test]
fn the_example_with_debug_preflights_lets_the_browser_name_the_method() {
    let server = Running::start(&["--debug-preflights", "--trace"]);
    let addr = server.addr;

    let refused = preflight(addr, "PATCH", None);
    assert_eq!(refused.status, 204, "{refused:?}");
    assert_eq!(refused.header("access-control-allow-origin"), Some(APP));
    // What the route allows, so that the browser fails on PATCH; never credentials.
    assert_eq!(
        refused.header("access-control-allow-methods"),
        Some("PUT, DELETE")
    );
    assert_eq!(refused.header("access-control-allow-credentials"), None);
    assert_eq!(
        refused.header("cors-refusal"),
        Some(r#"method-not-allowed; method="PATCH"; route="app-api""#)
    );
    server.logged(r#"kind="method-not-allowed""#);

    // A refused origin keeps its 403.
    let evil = options(
        addr,
        "/api/items",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(evil.status, 403, "{evil:?}");
    assert_eq!(evil.header("access-control-allow-origin"), None);

    // With --trace, grants are printed too.
    let passed = preflight(addr, "DELETE", None);
    assert_eq!(passed.status, 204, "{passed:?}");
    let line = server.logged("CORS granted");
    assert!(line.contains("TRACE"), "{line}");
    assert!(line.contains(r#"route="app-api""#), "{line}");
}

#[test]
fn the_examples_app_served_in_process() {
    let layer = example::cors(&policy_file(), false).expect("the example's policy builds");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        runtime.block_on(example::serve(listener, example::app(layer), async {
            let _ = stopped.await;
        }))
    });
    let answer = preflight(addr, "DELETE", Some("x-request-id"));
    let refused = options(
        addr,
        "/api/items",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    let _ = stop.send(());
    server.join().expect("the server thread").expect("served");
    assert_eq!(answer.status, 204, "{answer:?}");
    assert_eq!(answer.header("access-control-allow-origin"), Some(APP));
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(
        refused.header("vary"),
        Some("Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
    );
}

#[test]
fn the_examples_command_line() {
    let args = |a: &[&str]| example::Args::parse(a.iter().map(|s| s.to_string()));
    let parsed = args(&["--port", "8080", "--trace", "--seconds", "5"]).expect("valid");
    assert_eq!(
        (parsed.port, parsed.trace, parsed.seconds),
        (8080, true, Some(5))
    );
    assert!(parsed.policy.ends_with("examples/deployed.toml"));
    for bad in [
        &["--port"][..],
        &["--port", "x"],
        &["--listen", "0.0.0.0:80"],
    ] {
        let err = args(bad).expect_err("refused");
        assert!(err.to_string().contains("usage: axum"), "{err}");
    }
}
