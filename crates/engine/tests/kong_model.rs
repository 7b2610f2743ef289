//! The emitted Kong configuration behind a *model* of Kong 3.9 (no Kong image can be pulled
//! here), checked by the engine like any target.
//!
//! The model is a small HTTP/1.1 server that reads the YAML `corsproof emit kong` wrote and
//! answers as Kong's router and cors plugin do, transcribed by hand from Kong's
//! `kong/plugins/cors/handler.lua` (3.9): plain-path routes, longest prefix first; on a route
//! with the plugin, a preflight (`OPTIONS` + `Origin` + `Access-Control-Request-Method`) is
//! answered `200` by the plugin (`access` phase), anything else is proxied to a CORS-free
//! upstream and gets the plugin's `header_filter` headers. The path a route is matched
//! against is normalised as Kong's router does (`kong/tools/uri.lua`, `normalize`): a
//! percent-encoded character that is not reserved is decoded, a reserved one kept (hex in
//! upper case), repeated slashes merged; not modelled: dot segments (browsers remove them)
//! and headers Kong adds that are not CORS.
//!
//! What it shows: for every bundled policy, the `check` engine (oracle-driven browser play
//! under every profile) finds no `violation` and no `breakage` beyond the cache-safety
//! findings the emitter's unsupported items announce; every finding kind is one of those
//! the items predict. With a real Kong (`CORSPROOF_KONG_IMAGE`), `tests/kong.rs` runs the
//! same check against the real thing.

use std::sync::Arc;
use std::time::Duration;

use corsproof_emit::{kong, Effect, KongOptions};
use corsproof_engine::check::{check, CheckConfig};
use corsproof_policy::Policy;
use corsproof_report::finding::{Report, Severity};
use serde_yaml::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MAX_HEAD: usize = 32 * 1024;
const IDLE: Duration = Duration::from_secs(10);
const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;

/// One Kong route as the model needs it.
#[derive(Debug, Clone)]
struct KongRoute {
    path: String,
    cors: Option<Cors>,
}

/// The cors plugin's `config`.
#[derive(Debug, Clone, Default)]
struct Cors {
    origins: Vec<String>,
    methods: Option<Vec<String>>,
    headers: Vec<String>,
    exposed_headers: Vec<String>,
    credentials: bool,
    max_age: Option<String>,
    private_network: bool,
    preflight_continue: bool,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| {
            s.iter()
                .map(|x| x.as_str().expect("string").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn load(yaml: &str) -> Vec<KongRoute> {
    let doc: Value = serde_yaml::from_str(yaml).expect("YAML");
    let mut out = Vec::new();
    for route in doc["services"][0]["routes"].as_sequence().expect("routes") {
        let cors = route.get("plugins").map(|p| {
            let c = &p[0]["config"];
            Cors {
                origins: strings(&c["origins"]),
                methods: c.get("methods").map(strings),
                headers: strings(&c["headers"]),
                exposed_headers: strings(&c["exposed_headers"]),
                credentials: c["credentials"].as_bool().unwrap_or(false),
                max_age: c.get("max_age").map(|m| match m.as_u64() {
                    Some(n) => n.to_string(),
                    None => panic!("max_age {m:?}"),
                }),
                private_network: c["private_network"].as_bool().unwrap_or(false),
                preflight_continue: c["preflight_continue"].as_bool().unwrap_or(false),
            }
        });
        for p in strings(&route["paths"]) {
            out.push(KongRoute {
                path: p,
                cors: cors.clone(),
            });
        }
    }
    out
}

// --- Kong's handler, transcribed -------------------------------------------------------

/// `normalize_origin`: (domain, host), default port dropped, IPv6 brackets dropped.
fn normalize(origin: &str) -> (String, String) {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return (origin.to_string(), origin.to_string());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut authority = &rest[..end];
    if let Some(at) = authority.rfind('@') {
        authority = &authority[at + 1..];
    }
    let mut port = None;
    if let Some(colon) = authority.rfind(':') {
        if !authority[colon + 1..].contains(']') {
            port = Some(&authority[colon + 1..]);
            authority = &authority[..colon];
        }
    }
    let host = authority
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(authority);
    if (scheme == "http" && port == Some("80")) || (scheme == "https" && port == Some("443")) {
        port = None;
    }
    let domain = match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    };
    (domain, host.to_string())
}

fn literal(entry: &str) -> bool {
    !entry.is_empty()
        && entry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'-'))
}

/// Response headers as Kong's `kong.response` keeps them: set replaces, add appends.
#[derive(Debug, Default)]
struct Headers(Vec<(String, String)>);

impl Headers {
    fn set(&mut self, name: &str, value: impl Into<String>) {
        self.clear(name);
        self.0.push((name.to_string(), value.into()));
    }
    fn add(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), value.into()));
    }
    fn clear(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

/// `configure_origin`: true when "allow all" (`*`).
fn configure_origin(
    conf: &Cors,
    header_filter: bool,
    origin: Option<&str>,
    h: &mut Headers,
) -> bool {
    let n = conf.origins.len();
    if n == 0 || (n == 1 && conf.origins[0] == "*") {
        h.set("Access-Control-Allow-Origin", "*");
        return true;
    }
    if header_filter {
        h.add("Vary", "Origin");
    } else {
        h.set("Vary", "Origin");
    }
    if n == 1 && literal(&conf.origins[0]) {
        h.set("Access-Control-Allow-Origin", conf.origins[0].clone());
        return false;
    }
    if let Some(origin) = origin {
        let (domain, host) = normalize(origin);
        for entry in &conf.origins {
            if entry == "*" {
                h.set("Access-Control-Allow-Origin", "*");
                return true;
            }
            let found = if literal(entry) {
                normalize(entry).0 == domain
            } else {
                let mut re = entry.clone();
                if !re.ends_with('$') {
                    re.push('$');
                }
                let re = re.strip_prefix('^').unwrap_or(&re);
                let re = regex::Regex::new(&format!("^(?:{re})")).expect("regex");
                re.is_match(if entry.contains(':') { &domain } else { &host })
            };
            if found {
                h.set("Access-Control-Allow-Origin", domain);
                return false;
            }
        }
    }
    h.clear("Access-Control-Allow-Origin");
    false
}

/// `configure_credentials`.
fn configure_credentials(
    conf: &Cors,
    allow_all: bool,
    header_filter: bool,
    origin: Option<&str>,
    h: &mut Headers,
) {
    if !conf.credentials {
        return;
    }
    if !allow_all {
        h.set("Access-Control-Allow-Credentials", "true");
        return;
    }
    if let Some(origin) = origin {
        if header_filter {
            h.add("Vary", "Origin");
        } else {
            h.set("Vary", "Origin");
        }
        h.set("Access-Control-Allow-Origin", origin);
        h.set("Access-Control-Allow-Credentials", "true");
    }
}

/// A parsed request.
struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    keep_alive: bool,
}

impl Req {
    /// `kong.request.get_header`: the first value.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Characters Kong's path normalisation keeps percent-encoded.
const KONG_RESERVED: &[u8] = b"!*'();:@&=+$,/?%#[]";

/// A request path as Kong's router matches it: `%XX` decoded unless it encodes a reserved
/// character (then kept, in upper case), repeated slashes merged.
fn kong_normalized(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(d) if b == b'%' && !KONG_RESERVED.contains(&d) => {
                out.push(d);
                i += 3;
            }
            Some(_) if b == b'%' => {
                out.extend(bytes[i..i + 3].to_ascii_uppercase());
                i += 3;
            }
            _ if b == b'/' && out.last() == Some(&b'/') => i += 1,
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Kong: routes, the plugin, the upstream. Returns (status, headers, body).
fn kong_answer(routes: &[KongRoute], req: &Req) -> (u16, Headers, &'static str) {
    let path = kong_normalized(&req.path);
    let route = routes
        .iter()
        .filter(|r| path.starts_with(&r.path))
        .max_by_key(|r| r.path.len());
    let Some(route) = route else {
        let mut h = Headers::default();
        h.set("Content-Type", "application/json; charset=utf-8");
        return (
            404,
            h,
            "{\"message\":\"no Route matched with those values\"}",
        );
    };
    let origin = req.header("Origin");
    if let Some(conf) = &route.cors {
        // access phase: the preflight.
        if req.method == "OPTIONS"
            && origin.is_some()
            && req.header("Access-Control-Request-Method").is_some()
            && !conf.preflight_continue
        {
            let mut h = Headers::default();
            let all = configure_origin(conf, false, origin, &mut h);
            configure_credentials(conf, all, false, origin, &mut h);
            if !conf.headers.is_empty() {
                h.set("Access-Control-Allow-Headers", conf.headers.join(","));
            } else if let Some(acrh) = req.header("Access-Control-Request-Headers") {
                h.set("Access-Control-Allow-Headers", acrh);
            }
            let methods = conf
                .methods
                .clone()
                .map(|m| m.join(","))
                .unwrap_or_else(|| {
                    "GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT".to_string()
                });
            h.set("Access-Control-Allow-Methods", methods);
            if let Some(m) = &conf.max_age {
                h.set("Access-Control-Max-Age", m.clone());
            }
            if conf.private_network
                && req.header("Access-Control-Request-Private-Network") == Some("true")
            {
                h.set("Access-Control-Allow-Private-Network", "true");
            }
            return (200, h, "");
        }
    }
    // The upstream (no CORS headers), then the plugin's header_filter.
    let mut h = Headers::default();
    h.add("Content-Type", "application/json");
    h.add("X-Request-Id", "1");
    h.add("Set-Cookie", "demo=1; Path=/");
    let status = if req.path.ends_with("/error") {
        500
    } else {
        200
    };
    if let Some(conf) = &route.cors {
        // Kong 3.9 runs it with or without Origin (allow_origin_absent is 3.10's).
        let all = configure_origin(conf, true, origin, &mut h);
        configure_credentials(conf, all, true, origin, &mut h);
        if !conf.exposed_headers.is_empty() {
            h.set(
                "Access-Control-Expose-Headers",
                conf.exposed_headers.join(","),
            );
        }
    }
    (status, h, "{\"ok\":true}")
}

// --- The server --------------------------------------------------------------------------

fn parse(head: &[u8]) -> Option<(Req, usize)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut start = lines.next()?.split(' ');
    let (method, target, version) = (start.next()?, start.next()?, start.next()?);
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (n, v) = line.split_once(':')?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    let mut req = Req {
        method: method.to_string(),
        path: target.split('?').next().unwrap_or("").to_string(),
        headers,
        keep_alive: true,
    };
    if req.header("transfer-encoding").is_some() {
        return None;
    }
    let conn = req.header("connection").unwrap_or("").to_ascii_lowercase();
    req.keep_alive = version == "HTTP/1.1" && !conn.contains("close");
    let len = match req.header("content-length") {
        Some(v) => v.parse().ok()?,
        None => 0,
    };
    Some((req, len))
}

async fn connection(mut s: TcpStream, routes: Arc<Vec<KongRoute>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    for _ in 0..MAX_REQUESTS_PER_CONNECTION {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_HEAD {
                return Ok(());
            }
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout(IDLE, s.read(&mut chunk)).await {
                Ok(r) => r?,
                Err(_) => return Ok(()),
            };
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let Some((req, body)) = parse(&buf[..end]) else {
            s.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await?;
            return Ok(());
        };
        while buf.len() < end + body {
            let mut chunk = [0u8; 4096];
            let n = match tokio::time::timeout(IDLE, s.read(&mut chunk)).await {
                Ok(r) => r?,
                Err(_) => return Ok(()),
            };
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..end + body);
        let (status, headers, text) = kong_answer(&routes, &req);
        let mut out = format!("HTTP/1.1 {status} X\r\n");
        for (n, v) in &headers.0 {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n", text.len()));
        if !req.keep_alive {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        if req.method != "HEAD" {
            out.push_str(text);
        }
        s.write_all(out.as_bytes()).await?;
        if !req.keep_alive {
            return Ok(());
        }
    }
    Ok(())
}

async fn serve(routes: Vec<KongRoute>) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let routes = Arc::new(routes);
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((s, _)) = listener.accept().await {
            while conns.try_join_next().is_some() {}
            if conns.len() < 64 {
                conns.spawn(connection(s, routes.clone()));
            }
        }
    });
    (port, task)
}

async fn check_yaml(policy: &Policy, name: &str, yaml: &str) -> Report {
    let (port, task) = serve(load(yaml)).await;
    let base = url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let config = CheckConfig {
        cases: 400,
        concurrency: 4,
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        ..CheckConfig::default()
    };
    let report = check(policy, name, &base, &config)
        .await
        .expect("check runs");
    task.abort();
    assert_eq!(report.stats.errors, 0, "{name}: failed exchanges");
    report
}

fn bundled() -> Vec<(String, Policy)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/policies");
    let mut out: Vec<(String, Policy)> = std::fs::read_dir(&dir)
        .expect("corpus/policies")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                Policy::from_path(&p).expect("policy"),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test(flavor = "current_thread")]
async fn kong_model_with_the_emitted_configuration_grants_what_each_bundled_policy_grants() {
    for (name, policy) in bundled() {
        let conf = kong(&policy, &KongOptions::default()).expect("emit");
        let report = check_yaml(&policy, &name, &conf.yaml).await;
        for f in &report.findings {
            eprintln!(
                "{name}: {} ({}) route {:?}: {}",
                f.kind,
                f.severity.as_str(),
                f.route,
                f.explanation
            );
        }
        // No violation, no breakage: Kong grants what the policy grants.
        let bad: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Hygiene)
            .map(|f| format!("{} on {:?}", f.kind, f.route))
            .collect();
        assert!(bad.is_empty(), "{name}: {bad:?}");
        // Every hygiene finding is on a route whose disclosures the emitter announced.
        for f in &report.findings {
            let route = f.route.as_deref().unwrap_or("");
            assert!(
                conf.unsupported
                    .iter()
                    .any(|u| u.route == route && u.effect == Effect::Disclosure),
                "{name}: {} on {route:?} was not announced",
                f.kind
            );
        }
    }
}

/// Negative controls: the same model and check catch the translations the emitter avoids,
/// so the test above could fail.
#[tokio::test(flavor = "current_thread")]
async fn kong_model_catches_naive_translations() {
    let policy = Policy::from_path(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../corpus/policies/spa-credentialed.toml"),
    )
    .expect("policy");
    let conf = kong(&policy, &KongOptions::default()).expect("emit");

    // 1. methods and headers left to Kong's defaults (all nine methods; headers echoed).
    let defaults: String = conf
        .yaml
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with("methods:") && !l.trim_start().starts_with("headers:")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(defaults, conf.yaml);
    let report = check_yaml(&policy, "defaults", &defaults).await;
    let kinds: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Violation)
        .map(|f| f.kind.as_str())
        .collect();
    assert!(kinds.contains(&"sent-forbidden"), "{kinds:?}");

    // 2. the subdomain pattern as a host-only regex with unescaped dots.
    let pattern = r#""^https://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+partner\\.example$""#;
    assert!(conf.yaml.contains(pattern), "{}", conf.yaml);
    let naive = conf.yaml.replace(pattern, r#"".*.partner.example""#);
    let report = check_yaml(&policy, "naive", &naive).await;
    let kinds: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Violation)
        .map(|f| f.kind.as_str())
        .collect();
    assert!(kinds.contains(&"read-granted"), "{kinds:?}");
}
