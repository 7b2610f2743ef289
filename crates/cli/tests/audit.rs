//! `corsproof audit`: exit codes, the JSON shape and the other formats, against scripted
//! loopback servers (std threads, each bounded in connections and time) and against
//! `corsproof serve` (our middleware).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Extra response header lines for a request (method, Origin).
type Handler = fn(&str, Option<&str>) -> String;

/// A keep-alive HTTP/1.1 server answering with `handler`, for at most 60 s and 200
/// connections; returns its port.
fn serve(handler: Handler) -> u16 {
    listen(move |stream| connection(stream, handler))
}

/// Accepts connections on a loopback port for at most 60 s and 200 connections, each
/// handled by `on_connection` on a thread of its own; returns the port.
fn listen(on_connection: impl Fn(TcpStream) + Send + Clone + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut accepted = 0;
        while start.elapsed() < Duration::from_secs(60) && accepted < 200 {
            match listener.accept() {
                Ok((stream, _)) => {
                    accepted += 1;
                    let on_connection = on_connection.clone();
                    std::thread::spawn(move || on_connection(stream));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    port
}

fn connection(s: TcpStream, handler: Handler) {
    if blocking(&s) {
        answer(s, handler);
    }
}

/// Makes an accepted stream blocking with a 5 s read timeout; false if that fails.
fn blocking(s: &TcpStream) -> bool {
    s.set_nonblocking(false).is_ok() && s.set_read_timeout(Some(Duration::from_secs(5))).is_ok()
}

/// Answers up to 500 requests without bodies on one connection.
fn answer(mut s: impl Read + Write, handler: Handler) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    for _ in 0..500 {
        let mut reads = 0;
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            reads += 1;
            match s.read(&mut chunk) {
                Ok(n) if n > 0 && reads < 64 => buf.extend_from_slice(&chunk[..n]),
                _ => return,
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        buf.drain(..end + 4);
        let method = head.split(' ').next().unwrap_or("").to_string();
        let origin = head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(n, _)| n.eq_ignore_ascii_case("origin"))
            .map(|(_, v)| v.trim().to_string());
        let extra = handler(&method, origin.as_deref());
        let out = format!("HTTP/1.1 200 OK\r\n{extra}Content-Length: 2\r\n\r\nok");
        if s.write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}

/// Reflects any origin with credentials.
fn reflect(_: &str, origin: Option<&str>) -> String {
    match origin {
        Some(o) => format!(
            "Access-Control-Allow-Origin: {o}\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n"
        ),
        None => "Vary: Origin\r\n".into(),
    }
}

/// Trusts exactly https://example.com.
fn correct(_: &str, origin: Option<&str>) -> String {
    match origin {
        Some(o @ "https://example.com") => format!(
            "Access-Control-Allow-Origin: {o}\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n"
        ),
        _ => "Vary: Origin\r\n".into(),
    }
}

fn corsproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .args(args)
        .current_dir(ROOT)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/api/me")
}

#[test]
fn findings_exit_1_with_the_documented_json_shape() {
    let port = serve(reflect);
    let target = url(port);
    let o = corsproof(&[
        "audit",
        &target,
        "--origin",
        "https://example.com",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    assert_eq!(v["target"], target.as_str());
    assert!(v["policy"].is_null());
    assert!(v["seed"].is_u64() && v["cases"].is_u64());
    let stats = &v["stats"];
    for key in [
        "cases",
        "requests",
        "seconds",
        "requests_per_second",
        "errors",
        "failing_cases",
    ] {
        assert!(stats[key].is_number(), "stats.{key}");
    }
    assert!(stats["requests"].as_u64().unwrap_or(0) >= 40);
    assert_eq!(stats["errors"], 0);
    let findings = v["findings"].as_array().expect("findings");
    let kinds: Vec<&str> = findings.iter().filter_map(|f| f["kind"].as_str()).collect();
    assert_eq!(kinds, ["origin-reflected", "preflight-reflected"]);
    for f in findings {
        for key in [
            "kind",
            "severity",
            "route",
            "profiles",
            "request",
            "exchanges",
            "response",
            "expected",
            "observed",
            "rule",
            "reproduce",
            "explanation",
        ] {
            assert!(f.get(key).is_some(), "finding.{key}");
        }
        assert_eq!(f["severity"], "violation");
        assert!(f["route"].is_null());
        assert!(f["reproduce"]
            .as_str()
            .is_some_and(|r| r.starts_with("curl -si")));
        let exchange = &f["exchanges"][0];
        assert!(exchange[0]["method"].is_string() && exchange[0]["headers"].is_array());
        assert_eq!(exchange[1]["status"], 200);
    }
    assert_eq!(
        findings[0]["request"]["origins"],
        serde_json::json!(["https://evil.test"])
    );
    assert_eq!(findings[0]["request"]["credentials"], "include");
}

#[test]
fn nothing_found_exits_0() {
    let port = serve(correct);
    let o = corsproof(&["audit", &url(port), "--origin", "https://example.com"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("corsproof audit of"), "{out}");
    assert!(out.contains("nothing found"), "{out}");
    assert!(!out.contains("--seed"), "{out}");
}

#[test]
fn text_shows_kind_severity_probe_origins_and_curl() {
    let port = serve(reflect);
    let o = corsproof(&["audit", &url(port), "--origin", "https://example.com"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "VIOLATION origin-reflected",
        "VIOLATION preflight-reflected",
        "https://evil.test",
        "https://example.com.evil.test",
        "curl -si -H 'Origin: https://evil.test'",
        "-X OPTIONS",
    ] {
        assert!(out.contains(needle), "{needle} in:\n{out}");
    }
    assert!(!out.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn allow_waives_kinds() {
    let port = serve(reflect);
    let target = url(port);
    let base = ["audit", &target, "--origin", "https://example.com"];
    let o = corsproof(&[&base[..], &["--allow", "origin-reflected"]].concat());
    assert_eq!(o.status.code(), Some(1), "one kind left: {}", stderr(&o));
    let o = corsproof(
        &[
            &base[..],
            &[
                "--allow",
                "origin-reflected",
                "--allow",
                "preflight-reflected",
                "--format",
                "json",
            ],
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["findings"], serde_json::json!([]));
    assert!(stderr(&o).contains("2 finding(s) waived"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["audit", "ftp://127.0.0.1:1/"],
            "only http:// and https:// URLs",
        ),
        (
            &[
                "audit",
                "http://127.0.0.1:1/",
                "--origin",
                "https://example.com/",
            ],
            "--origin",
        ),
        (
            &["audit", "http://127.0.0.1:1/", "--origin", "null"],
            "null",
        ),
        (
            &["audit", "http://127.0.0.1:1/", "--allow", "read-granted"],
            "not an audit finding kind",
        ),
        (
            &["audit", "http://127.0.0.1:1/", "--timeout", "0"],
            "timeout",
        ),
    ];
    for (args, needle) in cases {
        let o = corsproof(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    let o = corsproof(&["audit"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn unreachable_exits_3() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let o = corsproof(&["audit", &url(port)]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("unreachable") && err.contains(&port.to_string()),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn hanging_target_exits_3_within_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // Accepts and never answers; the listener lives until the end of the test.
    let start = Instant::now();
    let o = corsproof(&["audit", &url(port), "--timeout", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(stderr(&o).contains("timed out"), "{}", stderr(&o));
    drop(listener);
}

#[test]
fn garbage_exits_3() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"220 smtp.example ESMTP ready\r\n\r\n");
        }
    });
    let o = corsproof(&["audit", &url(port), "--timeout", "5"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("malformed"), "{}", stderr(&o));
}

#[test]
fn output_file_and_ci_formats() {
    let port = serve(reflect);
    let target = url(port);
    let dir = std::env::temp_dir().join(format!("corsproof-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("report.sarif");
    let file_arg = file.display().to_string();
    let o = corsproof(&[
        "audit",
        &target,
        "--origin",
        "https://example.com",
        "--format",
        "sarif",
        "--output",
        &file_arg,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&file).expect("the report file");
    let _ = std::fs::remove_dir_all(&dir);
    let log: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let rule_ids: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    assert!(rule_ids.contains(&"origin-reflected"), "{rule_ids:?}");
    let o = corsproof(&[
        "audit",
        &target,
        "--origin",
        "https://example.com",
        "--format",
        "junit",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let xml = stdout(&o);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("origin-reflected"), "{xml}");
}

/// A running `corsproof serve`, killed (this child only) when dropped.
struct Serve {
    child: Child,
    port: u16,
}

impl Serve {
    fn start(policy: &str) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_corsproof"))
            .args([
                "serve",
                "--policy",
                policy,
                "--listen",
                "127.0.0.1:0",
                "--timeout",
                "60",
            ])
            .current_dir(ROOT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            // Bounded: the server exits by --timeout at the latest, closing its stdout.
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let port = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split([' ', '/']).next())
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|p| p.trim().parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no listening line: {line:?}");
        };
        Serve { child, port }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[test]
fn our_middleware_passes_the_audit() {
    let server = Serve::start("corpus/policies/spa-credentialed.toml");
    let target = url(server.port);
    let o = corsproof(&[
        "audit",
        &target,
        "--origin",
        "https://app.example.com",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(o.status.code(), Some(0), "{}\n{v:#}", stderr(&o));
    assert_eq!(v["stats"]["errors"], 0);
    // From a partner's subdomain, the policy's `https://*.partner.example` shows as what it is.
    let o = corsproof(&[
        "audit",
        &target,
        "--origin",
        "https://a.partner.example",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let kinds: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["any-subdomain"], "{v:#}");
    assert_eq!(v["findings"][0]["severity"], "hygiene");
}

/// A CA made at test time (its PEM), and a TLS server configuration for `localhost` and
/// `127.0.0.1` signed by it.
fn test_pki() -> (String, std::sync::Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("leaf params");
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf_cert = leaf
        .signed_by(&leaf_key, &ca_cert, &ca_key)
        .expect("leaf certificate");
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf_cert.der().clone()], key.into())
        .expect("server config");
    (ca_cert.pem(), std::sync::Arc::new(config))
}

/// [`serve`] over TLS: a blocking rustls server with `config`.
fn serve_tls(handler: Handler, config: std::sync::Arc<rustls::ServerConfig>) -> u16 {
    listen(move |tcp| {
        if !blocking(&tcp) {
            return;
        }
        if let Ok(tls) = rustls::ServerConnection::new(config.clone()) {
            answer(rustls::StreamOwned::new(tls, tcp), handler);
        }
    })
}

#[test]
fn https_targets_with_cacert() {
    let (ca_pem, config) = test_pki();
    let dir = std::env::temp_dir().join(format!("corsproof-cli-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, ca_pem).expect("write CA");
    let ca = ca.to_string_lossy().into_owned();
    let port = serve_tls(reflect, config);
    let target = format!("https://localhost:{port}/api/me");

    // Trusted through --cacert: the reflection is found over TLS.
    let o = corsproof(&["audit", &target, "--format", "json", "--cacert", &ca]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    assert_eq!(report["target"], target.as_str());
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"origin-reflected"), "{kinds:?}");
    assert!(!stderr(&o).contains("no effect"), "{}", stderr(&o));

    // Given with a plain http:// target, it is said to do nothing; the audit runs all the same.
    let plain = url(serve(reflect));
    let o = corsproof(&["audit", &plain, "--format", "json", "--cacert", &ca]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!(
            "--cacert {ca} has no effect: {plain} is not an https:// URL"
        )),
        "{}",
        stderr(&o)
    );
    let policy = format!("{ROOT}/corpus/policies/public-api.toml");
    let o = corsproof(&[
        "check", &plain, "--policy", &policy, "--cases", "1", "--quiet", "--cacert", &ca,
    ]);
    assert!(
        stderr(&o).contains(&format!("--cacert {ca} has no effect: no https:// target")),
        "{}",
        stderr(&o)
    );

    // Without it the certificate does not verify: exit 3, saying why.
    let o = corsproof(&["audit", &target]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("TLS handshake with localhost failed"), "{err}");
    assert!(err.contains("certificate"), "{err}");

    // A --cacert that is not a certificate file is an input error, for check too.
    for args in [
        vec!["audit", target.as_str(), "--cacert", "/nonexistent/ca.pem"],
        vec![
            "check",
            target.as_str(),
            "--policy",
            policy.as_str(),
            "--cacert",
            policy.as_str(),
        ],
    ] {
        let o = corsproof(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--cacert"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
