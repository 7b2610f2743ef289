//! The cache probe against real shared caches: Varnish, nginx `proxy_cache` and Apache
//! `mod_cache` (crates/targets/src/cache.rs) in front of a small server of this file that
//! echoes its one allowed origin, with or without `Vary: Origin`.
//!
//! Without `Vary: Origin`, and with `Access-Control-Allow-Origin: *` on answers to requests
//! without `Origin` (a static header meant for same-origin and server-to-server calls), every
//! cache must be caught serving one request's answer to another origin, each way: the `*`
//! answer to the refused origin (`missing-vary`, violation), the refused origin's answer to the
//! allowed front end (`missing-vary-denial`, breakage), each finding with the transcript (both
//! requests through the cache, the cache's hit marker, the target's own answer to compare) and
//! its curl lines. With `Vary: Origin`, no cache mixes origins and the probe finds nothing.
//!
//! A test whose cache is not installed is skipped, saying why (it fails under CI, which installs
//! varnish, nginx-light and apache2). Every process started is stopped by its handle; every
//! server listens on 127.0.0.1; every wait is bounded.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use corsproof_engine::cache_probe::{self, REFUSED_ORIGIN};
use corsproof_policy::Policy;
use corsproof_report::{CheckKind, Kind};
use corsproof_targets::cache::Cache;
use url::Url;

const ALLOWED: &str = "https://app.example.com";

const POLICY: &str = r#"
version = 1

[[route]]
name = "api"
path = "/api/"
origins = ["https://app.example.com"]
"#;

/// Serves `GET` on 127.0.0.1 from a thread per connection: `Access-Control-Allow-Origin`
/// [`ALLOWED`] to it, `*` to requests without `Origin` unless `vary`, `Vary: Origin` on every
/// answer when `vary`; at most 64 connections
/// (the caches keep theirs alive), the threads ending with the test process.
fn origin_echo(vary: bool) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64).flatten() {
            std::thread::spawn(move || serve(stream, vary));
        }
    });
    Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a URL")
}

/// Answers the requests of one keep-alive connection until it closes (or idles for 30 s).
fn serve(stream: TcpStream, vary: bool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut origin = None;
        let mut line = String::new();
        let mut lines = 0;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            lines += 1;
            if line == "\r\n" || line == "\n" || lines > 100 {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("origin") {
                    origin = Some(value.trim().to_string());
                }
            }
        }
        let mut head = String::from("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
        match origin.as_deref() {
            Some(ALLOWED) => head.push_str(&format!("Access-Control-Allow-Origin: {ALLOWED}\r\n")),
            None if !vary => head.push_str("Access-Control-Allow-Origin: *\r\n"),
            _ => {}
        }
        if vary {
            head.push_str("Vary: Origin\r\n");
        }
        head.push_str("Content-Length: 12\r\n\r\n{\"ok\":true}\n");
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
    }
}

/// Whether the cache is installed; `false` when the test is skipped (it panics under CI).
fn installed(cache: Cache) -> bool {
    let program = match cache {
        Cache::Varnish => "varnishd",
        Cache::NginxProxyCache => "nginx",
        Cache::ApacheModCache => "apache2",
    };
    corsproof_testkit::tool::require_that(
        program,
        cache.version().map(|_| ()).map_err(|m| m.to_string()),
        "runs the cache in front of the origin-echo server",
    )
}

/// The probe of the origin-echo server (`vary` or not) behind `cache`.
fn probe(cache: Cache, vary: bool) -> cache_probe::CacheReport {
    let policy = Policy::from_toml_str(POLICY, "caches.toml").expect("the policy");
    let upstream = origin_echo(vary);
    let running = cache.launch(&upstream).expect("the cache starts");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let report = runtime
        .block_on(cache_probe::probe(
            &policy,
            &upstream,
            running.url(),
            cache.name(),
            "t",
        ))
        .expect("the probe runs");
    drop(running);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // Four scenarios of two requests, and one direct request per finding.
    let expected = 8 + report.findings.len() as u64;
    assert_eq!(report.requests, expected);
    report
}

/// Without `Vary: Origin`: the leak and the denial, each with its transcript.
fn poisons(cache: Cache) {
    if !installed(cache) {
        return;
    }
    let report = probe(cache, false);
    let kinds: Vec<Kind> = report.findings.iter().map(|f| f.kind).collect();
    // Refused then allowed: the front end denied; no Origin then refused: `*` to the attacker.
    assert_eq!(
        kinds,
        [
            Kind::Check(CheckKind::MissingVaryDenial),
            Kind::Check(CheckKind::MissingVary),
        ],
        "{:#?}",
        report.findings
    );
    let leak = &report.findings[1];
    assert_eq!(leak.route.as_deref(), Some("api"));
    assert_eq!(leak.request.case.origin, REFUSED_ORIGIN);
    assert_eq!(leak.exchanges.len(), 3);
    let header = |i: usize, name: &str| {
        let (_, response) = &leak.exchanges[i];
        response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    // The first request had no Origin; the attacker's, at the same URL through the cache, got
    // its `*`...
    assert_eq!(leak.exchanges[0].0.header_value("origin"), None);
    assert_eq!(leak.exchanges[0].0.url, leak.exchanges[1].0.url);
    assert_eq!(
        leak.exchanges[1].0.header_value("origin"),
        Some(REFUSED_ORIGIN.as_bytes())
    );
    assert_eq!(
        header(1, "access-control-allow-origin").as_deref(),
        Some("*")
    );
    // ...from the cache, as its hit marker says, and the target itself gives it nothing.
    let hit = cache_probe::hit_evidence(&leak.exchanges[1].1.headers);
    assert!(hit.is_some(), "no hit marker: {:?}", leak.exchanges[1].1);
    assert!(leak.observed.contains(hit.as_deref().unwrap_or("?")));
    assert_eq!(header(2, "access-control-allow-origin"), None);
    assert_ne!(leak.exchanges[2].0.url, leak.exchanges[1].0.url);
    assert_eq!(leak.reproduce.lines().count(), 3);
    assert!(leak
        .reproduce
        .contains(&format!("-H 'Origin: {REFUSED_ORIGIN}'")));
    assert!(leak.observed.contains(cache.name()));
    // The front end refused with the attacker's cached answer (no Allow-Origin at all).
    let denial = &report.findings[0];
    assert_eq!(denial.request.case.origin, ALLOWED);
    assert_eq!(
        denial.exchanges[0].0.header_value("origin"),
        Some(REFUSED_ORIGIN.as_bytes())
    );
    assert!(cache_probe::hit_evidence(&denial.exchanges[1].1.headers).is_some());
    let direct = &denial.exchanges[2].1.headers;
    assert!(direct.iter().any(
        |(n, v)| n.eq_ignore_ascii_case(b"access-control-allow-origin") && v == ALLOWED.as_bytes()
    ));
}

/// With `Vary: Origin`: every answer to the second origin is its own.
fn honours_vary(cache: Cache) {
    if !installed(cache) {
        return;
    }
    let report = probe(cache, true);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn varnish_serves_one_origins_answer_to_another_without_vary() {
    poisons(Cache::Varnish);
}

#[test]
fn varnish_keeps_origins_apart_with_vary() {
    honours_vary(Cache::Varnish);
}

#[test]
fn nginx_proxy_cache_serves_one_origins_answer_to_another_without_vary() {
    poisons(Cache::NginxProxyCache);
}

#[test]
fn nginx_proxy_cache_keeps_origins_apart_with_vary() {
    honours_vary(Cache::NginxProxyCache);
}

#[test]
fn apache_mod_cache_serves_one_origins_answer_to_another_without_vary() {
    poisons(Cache::ApacheModCache);
}

#[test]
fn apache_mod_cache_keeps_origins_apart_with_vary() {
    honours_vary(Cache::ApacheModCache);
}
