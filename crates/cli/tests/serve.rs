//! `corsproof serve`: the real binary, spoken to in raw HTTP/1.1 over TCP. Every server is
//! started with `--timeout` (and most with `--max-requests`), so no run outlives its test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStderr, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const POLICY: &str = "corpus/policies/spa-credentialed.toml";

/// A running `corsproof serve`; killed (this child only, by its pid) if still running when
/// dropped.
struct Server {
    child: Child,
    port: u16,
    line: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_corsproof"))
            .arg("serve")
            .args(args)
            .current_dir(ROOT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        // Bounded: the server exits by --timeout at the latest, closing its stdout.
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let Some(port) = parse_port(&line) else {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = child.kill();
                let _ = e.read_to_string(&mut err);
            }
            panic!("no listening line: {line:?}; stderr: {err}");
        };
        Server { child, port, line }
    }

    /// Waits (at most `limit`) for the server to exit by itself.
    fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn stderr(&mut self) -> String {
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = ChildStderr::read_to_string(&mut e, &mut err);
        }
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The port in `corsproof serve: listening on http://127.0.0.1:PORT (policy ...)`.
fn parse_port(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("corsproof serve: listening on http://")?;
    let addr = rest.split_whitespace().next()?;
    addr.rsplit(':').next()?.parse().ok()
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    /// Every value of a header (name case-insensitive), in order.
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn get(&self, name: &str) -> Option<&str> {
        let all = self.all(name);
        assert!(all.len() <= 1, "several {name} lines: {self:?}");
        all.first().copied()
    }

    /// The `Vary` tokens, lowercase, over every line.
    fn vary(&self) -> Vec<String> {
        self.all("vary")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect()
    }
}

/// Sends raw requests on one connection (the last should say `Connection: close`) and
/// parses every response.
fn exchange(port: u16, raw: &str) -> Vec<Resp> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    stream.write_all(raw.as_bytes()).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read the responses");
    let mut text = String::from_utf8(bytes).expect("UTF-8 responses");
    let mut out = Vec::new();
    while !text.is_empty() {
        let end = text.find("\r\n\r\n").expect("end of head");
        let head = text[..end].to_string();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("status line");
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').expect("header line");
                (n.trim().to_string(), v.trim().to_string())
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().expect("content-length"))
            .unwrap_or(0);
        let rest = text[end + 4..].to_string();
        let body = rest[..len].to_string();
        text = rest[len..].to_string();
        out.push(Resp {
            status,
            headers,
            body,
        });
    }
    out
}

/// One request on its own connection.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("Connection: close\r\n\r\n");
    let mut responses = exchange(port, &raw);
    assert_eq!(responses.len(), 1, "{responses:?}");
    responses.remove(0)
}

const PREFLIGHT_VARY: [&str; 3] = [
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
];

#[test]
fn serves_the_demo_handler_behind_the_middleware() {
    let mut server = Server::start(&[
        "--listen",
        "127.0.0.1:0",
        "--policy",
        POLICY,
        "--max-requests",
        "8",
        "--timeout",
        "20",
    ]);
    assert!(
        server
            .line
            .contains(&format!("(policy {POLICY}, 1 routes)")),
        "{}",
        server.line
    );
    let port = server.port;

    // 1. An allowed preflight: answered by the middleware.
    let r = request(
        port,
        "OPTIONS",
        "/api/items/42",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
            (
                "Access-Control-Request-Headers",
                "content-type,x-request-id",
            ),
        ],
    );
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(
        r.get("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(r.get("access-control-allow-credentials"), Some("true"));
    assert_eq!(r.get("access-control-max-age"), Some("600"));
    let methods = r.get("access-control-allow-methods").expect("ACAM");
    assert!(methods.contains("PUT"), "{methods}");
    assert_eq!(r.vary(), PREFLIGHT_VARY);
    assert!(r.get("set-cookie").is_none(), "the handler never saw it");

    // 2. A refused preflight (header not allowed): 403, only Vary.
    let r = request(
        port,
        "OPTIONS",
        "/api/items/42",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.get("access-control-allow-origin").is_none(), "{r:?}");
    assert!(r.get("access-control-allow-methods").is_none(), "{r:?}");
    assert!(r.get("cors-refusal").is_none(), "silent by default: {r:?}");
    assert_eq!(r.vary(), PREFLIGHT_VARY);

    // 3. An allowed actual request (a pattern origin): the handler's answer plus CORS.
    let r = request(
        port,
        "GET",
        "/api/me",
        &[("Origin", "https://eu.partner.example")],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.get("access-control-allow-origin"),
        Some("https://eu.partner.example")
    );
    assert_eq!(r.get("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.get("access-control-expose-headers")
            .map(str::to_ascii_lowercase),
        Some("x-request-id".to_string())
    );
    assert_eq!(r.get("content-type"), Some("application/json"));
    assert_eq!(r.get("x-request-id"), Some("1"));
    assert_eq!(r.get("set-cookie"), Some("demo=1; Path=/"));
    assert_eq!(r.vary(), ["origin"]);
    let body: serde_json::Value = serde_json::from_str(&r.body).expect("JSON body");
    assert_eq!(
        body,
        serde_json::json!({"path": "/api/me", "method": "GET"})
    );

    // 4. A refused origin: the response, no CORS header but Vary.
    let r = request(
        port,
        "GET",
        "/api/me",
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.get("access-control-allow-origin").is_none(), "{r:?}");
    assert!(r.get("access-control-allow-credentials").is_none(), "{r:?}");
    assert!(r.get("access-control-expose-headers").is_none(), "{r:?}");
    assert!(r.get("cors-refusal").is_none(), "silent by default: {r:?}");
    assert_eq!(r.vary(), ["origin"]);

    // 5. The handler's error response still carries CORS headers for an allowed origin.
    let r = request(
        port,
        "DELETE",
        "/api/items/error",
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(
        r.get("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(r.get("access-control-allow-credentials"), Some("true"));
    assert!(r.body.contains("\"DELETE\""), "{}", r.body);

    // 6. The handler's Vary is merged with the middleware's.
    let r = request(
        port,
        "GET",
        "/api/vary",
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let mut vary = r.vary();
    vary.sort();
    assert_eq!(vary, ["accept-encoding", "origin"]);

    // 7 and 8. Keep-alive: two requests on one connection (the 8th and last request).
    let raw = format!(
        "GET /api/me HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: https://app.example.com\r\n\r\n\
         GET /other HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: https://app.example.com\r\nConnection: close\r\n\r\n"
    );
    let rs = exchange(port, &raw);
    assert_eq!(rs.len(), 2, "{rs:?}");
    assert_eq!(
        rs[0].get("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    // No route covers /other: same-origin only, passed through untouched.
    assert_eq!(rs[1].status, 200);
    assert!(rs[1].get("access-control-allow-origin").is_none());
    assert!(rs[1].get("vary").is_none());

    // --max-requests 8 reached: the server stops by itself, exit 0.
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("exits after --max-requests");
    let err = server.stderr();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning[credentialed-subdomain-pattern]"),
        "{err}"
    );
    assert!(err.contains("stopping (served --max-requests)"), "{err}");
    assert!(!err.contains("refused"), "silent by default: {err}");
}

#[test]
fn explain_refusals_says_why_in_a_header_and_one_log_line_each() {
    let mut server = Server::start(&[
        "--listen",
        "127.0.0.1:0",
        "--policy",
        POLICY,
        "--explain-refusals",
        "--max-requests",
        "6",
        "--timeout",
        "20",
    ]);
    let port = server.port;
    let app = ("Origin", "https://app.example.com");

    // 1. A preflight asking for a header the route does not list.
    let r = request(
        port,
        "OPTIONS",
        "/api/items/42",
        &[
            app,
            ("Access-Control-Request-Method", "PUT"),
            (
                "Access-Control-Request-Headers",
                "content-type,authorization",
            ),
        ],
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.get("access-control-allow-origin").is_none(), "{r:?}");
    assert_eq!(
        r.get("cors-refusal"),
        Some(r#"header-not-allowed; header="authorization"; route="app-api""#),
        "{r:?}"
    );

    // 2. A GET from an origin the route does not list: the handler's answer, and why it has
    // no CORS headers.
    let r = request(
        port,
        "GET",
        "/api/me",
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.get("content-type"), Some("application/json"));
    assert_eq!(
        r.get("cors-refusal"),
        Some(r#"origin-not-allowed; route="app-api""#),
        "{r:?}"
    );

    // 3. An allowed request says nothing.
    let r = request(port, "GET", "/api/me", &[app]);
    assert_eq!(
        r.get("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(r.get("cors-refusal").is_none(), "{r:?}");

    // 4. No route covers /other.
    let r = request(port, "POST", "/other", &[app]);
    assert_eq!(r.get("cors-refusal"), Some("no-route"), "{r:?}");

    // 5. A hostile method: quoted and escaped in the header, cut in the reason and the log.
    let method = format!("P\"T;{}", "X".repeat(300));
    let r = request(
        port,
        "OPTIONS",
        "/api/x",
        &[app, ("Access-Control-Request-Method", &method)],
    );
    assert_eq!(r.status, 403, "{r:?}");
    let value = r.get("cors-refusal").expect("a Cors-Refusal header");
    assert_eq!(
        value,
        format!(
            r#"method-not-allowed; method="P\"T;{}"; truncated; route="app-api""#,
            "X".repeat(60)
        )
    );

    // 6. A request without Origin is not refused.
    let r = request(port, "GET", "/api/me", &[]);
    assert!(r.get("cors-refusal").is_none(), "{r:?}");

    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("exits after --max-requests");
    let err = server.stderr();
    assert_eq!(status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("corsproof serve: refused "))
        .collect();
    assert_eq!(lines.len(), 4, "one line per refusal: {err}");
    assert_eq!(
        lines[0],
        "corsproof serve: refused OPTIONS /api/items/42 from \"https://app.example.com\": \
         header-not-allowed: request header \"authorization\" is not listed in the \
         request_headers of route \"app-api\""
    );
    assert_eq!(
        lines[1],
        "corsproof serve: refused GET /api/me from \"https://evil.example\": \
         origin-not-allowed: the request's Origin is not one route \"app-api\" allows"
    );
    assert!(
        lines[2].starts_with(
            "corsproof serve: refused POST /other from \"https://app.example.com\": no-route: "
        ),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("corsproof serve: refused OPTIONS /api/x from ")
            && lines[3].contains(r#"method "P\"T;XXX"#)
            && lines[3].len() < 400,
        "{}",
        lines[3]
    );
}

fn write_policy(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).expect("write the policy");
    path
}

fn run_serve(policy: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--timeout",
            "5",
            "--policy",
        ])
        .arg(policy)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

#[test]
fn a_broken_policy_exits_2_naming_the_file() {
    let path = write_policy("serve-broken.toml", "version = 1\n[[route\n");
    let o = run_serve(&path);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("serve-broken.toml"), "{err}");
    assert!(o.stdout.is_empty(), "never listened");
}

#[test]
fn a_missing_policy_exits_2() {
    let o = run_serve(std::path::Path::new("no/such/policy.toml"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no/such/policy.toml"), "{err}");
}

#[test]
fn a_risky_policy_without_allow_risky_exits_2_naming_route_and_field() {
    let path = write_policy(
        "serve-risky.toml",
        "version = 1\n[[route]]\nname = \"embed\"\npath = \"/embed/\"\norigins = [\"null\"]\n",
    );
    let o = run_serve(&path);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("route \"embed\""), "{err}");
    assert!(err.contains("field `origins`"), "{err}");
    assert!(err.contains("error[null-origin]"), "{err}");
    assert!(err.contains("allow_risky"), "{err}");
    assert!(o.stdout.is_empty(), "never listened");
}

#[test]
fn a_bad_listen_address_exits_2() {
    let o = Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .args(["serve", "--policy", POLICY, "--listen", "not-an-address"])
        .current_dir(ROOT)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn timeout_stops_it_and_non_loopback_is_warned_about() {
    let mut server = Server::start(&[
        "--listen",
        "0.0.0.0:0",
        "--policy",
        POLICY,
        "--timeout",
        "1",
    ]);
    assert!(server.line.contains("http://0.0.0.0:"), "{}", server.line);
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("exits after --timeout");
    let err = server.stderr();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("not a loopback address"), "{err}");
    assert!(err.contains("stopping (--timeout reached)"), "{err}");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_it_gracefully() {
    let mut server = Server::start(&[
        "--listen",
        "127.0.0.1:0",
        "--policy",
        POLICY,
        "--timeout",
        "20",
    ]);
    let r = request(server.port, "GET", "/api/me", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.vary(), ["origin"], "Vary: Origin even without Origin");
    // Signal only the child this test started, by its pid.
    let pid = server.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("exits on SIGTERM");
    let err = server.stderr();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("stopping (SIGTERM)"), "{err}");
}

#[test]
fn debug_preflights_let_the_browser_name_the_method_and_never_grant_credentials() {
    let mut server = Server::start(&[
        "--listen",
        "127.0.0.1:0",
        "--policy",
        POLICY,
        "--debug-preflights",
        "--max-requests",
        "3",
        "--timeout",
        "20",
    ]);
    let port = server.port;
    let app = ("Origin", "https://app.example.com");

    // 1. PURGE, which the route does not list: an ok status, the origin, what the route
    // allows (so the browser fails on PURGE and says so), the reason; never credentials.
    let r = request(
        port,
        "OPTIONS",
        "/api/items/42",
        &[app, ("Access-Control-Request-Method", "PURGE")],
    );
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(
        r.get("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        r.get("access-control-allow-methods"),
        Some("PUT, DELETE, PATCH")
    );
    assert!(r.get("access-control-allow-credentials").is_none(), "{r:?}");
    assert!(r.get("access-control-max-age").is_none(), "{r:?}");
    assert_eq!(
        r.get("cors-refusal"),
        Some(r#"method-not-allowed; method="PURGE"; route="app-api""#),
        "{r:?}"
    );

    // 2. A refused origin keeps its 403 without CORS headers.
    let r = request(
        port,
        "OPTIONS",
        "/api/items/42",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.get("access-control-allow-origin").is_none(), "{r:?}");

    // 3. An allowed preflight is answered as always, credentials included.
    let r = request(
        port,
        "OPTIONS",
        "/api/items/42",
        &[app, ("Access-Control-Request-Method", "PUT")],
    );
    assert_eq!(r.status, 204, "{r:?}");
    assert_eq!(r.get("access-control-allow-credentials"), Some("true"));
    assert!(r.get("cors-refusal").is_none(), "{r:?}");

    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("exits after --max-requests");
    let err = server.stderr();
    assert_eq!(status.code(), Some(0), "{err}");
    let refused = err
        .lines()
        .filter(|l| l.starts_with("corsproof serve: refused "))
        .count();
    assert_eq!(refused, 2, "one line per refusal: {err}");
}
