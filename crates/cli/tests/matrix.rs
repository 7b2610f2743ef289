//! `corsproof matrix` and its targets: every target's emitted configuration, checked
//! against every bundled policy, gives no finding that neither an item its emitter announced
//! nor a known behaviour (corsproof_matrix::known) explains; each known behaviour is
//! reproduced here by one request to the real library. Targets whose Debian packages are
//! missing are skipped locally and fail under CI.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use corsproof_policy::Policy;
use corsproof_targets::launch::Running;
use corsproof_targets::registry::Target;

/// Checks share two cores: one target at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn available(target: Target) -> bool {
    let check = target.version().map(|_| ()).map_err(|m| m.to_string());
    corsproof_testkit::tool::require_that(
        target.name(),
        check,
        "runs the library as a matrix target",
    )
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// `corsproof matrix --targets T` on the bundled policies, few cases: every cell checked,
/// every finding explained (exit 0); returns the JSON matrix.
fn conforms(target: Target) -> Option<serde_json::Value> {
    if !available(target) {
        return None;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .current_dir(root())
        .args([
            "matrix",
            "--targets",
            target.name(),
            "--cases",
            "5",
            "--format",
            "json",
            "--quiet",
        ])
        .output()
        .expect("corsproof runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let m: serde_json::Value = serde_json::from_str(&text).expect("a JSON matrix");
    let cells = m["cells"].as_array().expect("cells");
    assert_eq!(
        cells.len(),
        4,
        "{target:?}: one cell per bundled policy: {text}"
    );
    for cell in cells {
        assert_eq!(cell["outcome"]["status"], "checked", "{target:?}: {cell}");
        for d in cell["outcome"]["diverges"].as_array().expect("diverges") {
            assert!(
                !d["known"].is_null(),
                "{target:?} {}: a divergence no known behaviour explains: {}",
                cell["policy"],
                d["finding"]
            );
        }
    }
    assert_eq!(out.status.code(), Some(0), "{target:?}: {text}");
    Some(m)
}

fn findings(m: &serde_json::Value, part: &str) -> usize {
    m["cells"]
        .as_array()
        .map(|cells| {
            cells
                .iter()
                .map(|c| c["outcome"][part].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn our_middleware_nginx_and_apache_have_no_finding_at_all() {
    for target in [Target::Tower, Target::Nginx, Target::Apache] {
        if let Some(m) = conforms(target) {
            assert_eq!(
                findings(&m, "inexpressible") + findings(&m, "diverges"),
                0,
                "{target:?}"
            );
        }
    }
}

#[test]
fn express_findings_are_all_announced() {
    if let Some(m) = conforms(Target::Express) {
        assert!(
            findings(&m, "inexpressible") > 0,
            "cors' announced disclosures show"
        );
        assert_eq!(findings(&m, "diverges"), 0);
    }
}

#[test]
fn flask_findings_are_explained() {
    conforms(Target::Flask);
}

#[test]
fn starlette_findings_are_explained() {
    conforms(Target::Starlette);
}

#[test]
fn django_findings_are_explained() {
    conforms(Target::Django);
}

#[test]
fn rs_cors_findings_are_explained() {
    conforms(Target::RsCors);
}

#[test]
fn gorilla_findings_are_explained() {
    conforms(Target::Gorilla);
}

#[test]
fn rack_findings_are_explained() {
    conforms(Target::Rack);
}

#[test]
fn caddy_has_no_finding_at_all() {
    if let Some(m) = conforms(Target::Caddy) {
        assert_eq!(findings(&m, "inexpressible") + findings(&m, "diverges"), 0);
    }
}

#[test]
fn tower_http_findings_are_all_announced() {
    if let Some(m) = conforms(Target::TowerHttp) {
        assert!(
            findings(&m, "inexpressible") > 0,
            "CorsLayer's announced disclosures show"
        );
        assert_eq!(findings(&m, "diverges"), 0);
    }
}

#[test]
fn actix_cors_findings_are_all_announced() {
    if let Some(m) = conforms(Target::ActixCors) {
        assert!(
            findings(&m, "inexpressible") > 0,
            "actix-cors' announced disclosures show"
        );
        assert_eq!(findings(&m, "diverges"), 0);
    }
}

#[test]
fn tomcat_findings_are_explained() {
    conforms(Target::Tomcat);
}

#[test]
fn jetty_findings_are_explained() {
    conforms(Target::Jetty);
}

/// Starts `target` configured from a bundled policy.
fn start(target: Target, policy: &str) -> Option<Running> {
    if !available(target) {
        return None;
    }
    let path = root().join("corpus/policies").join(policy);
    let parsed = Policy::from_path(&path).expect("a bundled policy");
    let exe = Path::new(env!("CARGO_BIN_EXE_corsproof"));
    Some(
        target
            .launch(&parsed, &path, exe, true)
            .expect("the target starts"),
    )
}

/// One HTTP/1.1 request; the status and the header lines (names lowercase).
fn send(
    running: &Running,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>) {
    let url = running.url();
    let port = url.port().expect("a port");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (n, v) in headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("sent");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `vary-only-when-allowed`: the answer to an allowed origin varies on Origin, the answer
/// to a refused one carries no Vary (app.example.com is allowed on the routes used).
fn vary_only_when_allowed(target: Target, policy: &str, path: &str) {
    let Some(running) = start(target, policy) else {
        return;
    };
    let (_, allowed) = send(
        &running,
        "GET",
        path,
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some("https://app.example.com"),
        "{target:?}: {allowed:?}"
    );
    assert!(
        header(&allowed, "vary").is_some_and(|v| v.contains("Origin")),
        "{target:?}: {allowed:?}"
    );
    let (_, refused) = send(&running, "GET", path, &[("Origin", "https://evil.example")]);
    assert_eq!(
        header(&refused, "access-control-allow-origin"),
        None,
        "{target:?}: {refused:?}"
    );
    assert_eq!(header(&refused, "vary"), None, "{target:?}: {refused:?}");
}

#[test]
fn flask_cors_varies_only_when_the_origin_is_allowed() {
    vary_only_when_allowed(Target::Flask, "spa-credentialed.toml", "/api/me");
}

#[test]
fn starlette_varies_only_when_the_origin_is_allowed() {
    vary_only_when_allowed(Target::Starlette, "spa-credentialed.toml", "/api/me");
}

#[test]
fn gorilla_varies_only_when_the_origin_is_allowed_and_several_are_listed() {
    // mixed-routes' api route lists two origins: Vary on the allowed origin's answer only.
    vary_only_when_allowed(Target::Gorilla, "mixed-routes.toml", "/api/orders");
    // spa-credentialed's has a subdomain pattern (AllowedOriginValidator): no Vary at all.
    let Some(running) = start(Target::Gorilla, "spa-credentialed.toml") else {
        return;
    };
    let (_, allowed) = send(
        &running,
        "GET",
        "/api/me",
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        Some("https://app.example.com"),
        "{allowed:?}"
    );
    assert_eq!(header(&allowed, "vary"), None, "{allowed:?}");
}

#[test]
fn jetty_varies_only_when_the_origin_is_allowed() {
    vary_only_when_allowed(Target::Jetty, "spa-credentialed.toml", "/api/me");
}

#[test]
fn tomcat_sends_no_vary_without_origin_on_an_any_origin_route() {
    // mixed-routes' public route allows every origin.
    let Some(running) = start(Target::Tomcat, "mixed-routes.toml") else {
        return;
    };
    let path = "/public/logo.svg";
    let (_, cors) = send(
        &running,
        "GET",
        path,
        &[("Origin", "https://sibling.example")],
    );
    assert_eq!(
        header(&cors, "access-control-allow-origin"),
        Some("*"),
        "{cors:?}"
    );
    let (status, bare) = send(&running, "GET", path, &[]);
    assert_eq!(status, 200, "{bare:?}");
    assert_eq!(
        header(&bare, "access-control-allow-origin"),
        None,
        "{bare:?}"
    );
    assert_eq!(header(&bare, "vary"), None, "{bare:?}");
}

#[test]
fn tomcat_rejects_an_encoded_slash_before_its_filters() {
    // mixed-routes' api-health route (path /api/health, any origin) covers /api/health%2Fx.
    let Some(running) = start(Target::Tomcat, "mixed-routes.toml") else {
        return;
    };
    let origin = [("Origin", "https://sibling.example")];
    let (status, granted) = send(&running, "GET", "/api/healthz", &origin);
    assert_eq!(status, 200, "{granted:?}");
    assert_eq!(
        header(&granted, "access-control-allow-origin"),
        Some("*"),
        "{granted:?}"
    );
    let (status, rejected) = send(&running, "GET", "/api/health%2Fx", &origin);
    assert_eq!(status, 400, "{rejected:?}");
    assert_eq!(
        header(&rejected, "access-control-allow-origin"),
        None,
        "{rejected:?}"
    );
}

#[test]
fn rs_cors_lets_a_preflight_for_options_pass_whatever_its_methods() {
    let Some(running) = start(Target::RsCors, "spa-credentialed.toml") else {
        return;
    };
    // spa-credentialed's methods are PUT, DELETE, PATCH: not OPTIONS.
    let (_, h) = send(
        &running,
        "OPTIONS",
        "/api/me",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "OPTIONS"),
        ],
    );
    assert_eq!(
        header(&h, "access-control-allow-origin"),
        Some("https://app.example.com"),
        "{h:?}"
    );
    assert_eq!(
        header(&h, "access-control-allow-methods"),
        Some("OPTIONS"),
        "{h:?}"
    );
}

/// `wsgi-decoded-path` / `decoded-path`: /api%2Fx is under no route of spa-credentialed
/// (the policy keeps %2F), yet it gets /api/'s grant.
fn decoded_path(target: Target) {
    let Some(running) = start(target, "spa-credentialed.toml") else {
        return;
    };
    let (_, h) = send(
        &running,
        "GET",
        "/api%2Fx",
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(
        header(&h, "access-control-allow-origin"),
        Some("https://app.example.com"),
        "{target:?}: {h:?}"
    );
}

#[test]
fn flask_cors_routes_on_the_decoded_path() {
    decoded_path(Target::Flask);
}

#[test]
fn django_cors_headers_routes_on_the_decoded_path() {
    decoded_path(Target::Django);
}

#[test]
fn rack_cors_routes_on_the_decoded_path() {
    decoded_path(Target::Rack);
}

#[test]
fn rack_cors_drops_the_trailing_slash_of_a_route_path() {
    let Some(running) = start(Target::Rack, "spa-credentialed.toml") else {
        return;
    };
    let (_, inside) = send(
        &running,
        "GET",
        "/api/me",
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(
        header(&inside, "access-control-allow-origin"),
        Some("https://app.example.com"),
        "{inside:?}"
    );
    let (_, root) = send(
        &running,
        "GET",
        "/api/",
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(
        header(&root, "access-control-allow-origin"),
        None,
        "{root:?}"
    );
}

/// A policy no bundled one is like: `*` request headers, and `*` exposed headers on a
/// credentialed route. Caddy and Apache do exactly that (a preflight asking for
/// Authorization fails: `*` never covers it); the Rust libraries' findings are all
/// announced: tower-http's `*` lets Chromium and Firefox send Authorization (read-granted),
/// actix-cors' expose_any_header hides the headers added after it runs (header-hidden).
#[test]
fn wildcard_headers_are_exact_in_caddy_and_apache_and_announced_for_the_rust_libraries() {
    let targets = [
        Target::Caddy,
        Target::Apache,
        Target::TowerHttp,
        Target::ActixCors,
    ];
    if !targets.iter().all(|t| available(*t)) {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("corsproof-wildcards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let policy = dir.join("wildcards.toml");
    std::fs::write(
        &policy,
        "version = 1\n\
         [[route]]\nname = \"cred\"\npath = \"/cred/\"\norigins = [\"https://app.example.com\"]\ncredentials = true\nexpose_headers = [\"*\"]\n\
         [[route]]\nname = \"anyh\"\npath = \"/anyh/\"\norigins = [\"https://app.example.com\"]\nrequest_headers = [\"*\"]\nmethods = [\"PUT\"]\n",
    )
    .expect("written");
    let policy_arg = policy.display().to_string();
    let out = corsproof(&[
        "matrix",
        "--targets",
        "caddy,apache,tower-http,actix-cors",
        "--policies",
        &policy_arg,
        "--cases",
        "20",
        "--format",
        "json",
        "--quiet",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "every finding explained: {text}"
    );
    let m: serde_json::Value = serde_json::from_str(&text).expect("a JSON matrix");
    let kinds = |target: &str| -> Vec<String> {
        let cell = m["cells"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["target"] == target))
            .expect("a cell");
        assert_eq!(
            cell["outcome"]["diverges"].as_array().map(Vec::len),
            Some(0)
        );
        cell["outcome"]["inexpressible"]
            .as_array()
            .expect("inexpressible")
            .iter()
            .filter_map(|f| f["kind"].as_str().map(String::from))
            .collect()
    };
    assert!(kinds("caddy").is_empty(), "{text}");
    assert!(kinds("apache").is_empty(), "{text}");
    assert!(
        kinds("tower-http").contains(&"read-granted".to_string()),
        "{text}"
    );
    assert!(
        kinds("actix-cors").contains(&"header-hidden".to_string()),
        "{text}"
    );
}

/// The items tower-http's emitter announces for spa-credentialed, against the real layer:
/// a refused origin's preflight gets the route's methods, headers and max-age, its actual
/// request the exposed headers; credentials (configured by a predicate on the allowed
/// origins) go to allowed origins only.
#[test]
fn tower_http_tells_refused_origins_its_methods_and_exposed_headers_not_credentials() {
    let Some(running) = start(Target::TowerHttp, "spa-credentialed.toml") else {
        return;
    };
    let (_, h) = send(
        &running,
        "OPTIONS",
        "/api/me",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(header(&h, "access-control-allow-origin"), None, "{h:?}");
    assert_eq!(
        header(&h, "access-control-allow-credentials"),
        None,
        "{h:?}"
    );
    assert_eq!(
        header(&h, "access-control-allow-methods"),
        Some("GET,HEAD,POST,PUT,DELETE,PATCH"),
        "{h:?}"
    );
    assert_eq!(header(&h, "access-control-max-age"), Some("600"), "{h:?}");
    let (_, h) = send(
        &running,
        "GET",
        "/api/me",
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(header(&h, "access-control-allow-origin"), None, "{h:?}");
    assert_eq!(
        header(&h, "access-control-allow-credentials"),
        None,
        "{h:?}"
    );
    assert_eq!(
        header(&h, "access-control-expose-headers"),
        Some("x-request-id"),
        "{h:?}"
    );
    let (_, h) = send(
        &running,
        "GET",
        "/api/me",
        &[("Origin", "https://a.b.partner.example")],
    );
    assert_eq!(
        header(&h, "access-control-allow-origin"),
        Some("https://a.b.partner.example"),
        "{h:?}"
    );
    assert_eq!(
        header(&h, "access-control-allow-credentials"),
        Some("true"),
        "{h:?}"
    );
}

/// The items actix-cors' emitter announces for spa-credentialed, against the real
/// middleware: a refused origin's actual request gets Access-Control-Allow-Credentials and
/// -Expose-Headers; its preflight is refused (400) without CORS headers.
#[test]
fn actix_cors_tells_refused_origins_credentials_and_exposed_headers() {
    let Some(running) = start(Target::ActixCors, "spa-credentialed.toml") else {
        return;
    };
    let (_, h) = send(
        &running,
        "GET",
        "/api/me",
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(header(&h, "access-control-allow-origin"), None, "{h:?}");
    assert_eq!(
        header(&h, "access-control-allow-credentials"),
        Some("true"),
        "{h:?}"
    );
    assert_eq!(
        header(&h, "access-control-expose-headers"),
        Some("x-request-id"),
        "{h:?}"
    );
    let (status, h) = send(
        &running,
        "OPTIONS",
        "/api/me",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(status, 400, "{h:?}");
    assert!(
        h.iter().all(|(n, _)| !n.starts_with("access-control-")),
        "{h:?}"
    );
}

fn corsproof(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_corsproof"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("corsproof runs")
}

#[test]
fn emit_writes_an_application_and_says_what_its_library_cannot_express() {
    let out = corsproof(&[
        "emit",
        "express",
        "--policy",
        "corpus/policies/spa-credentialed.toml",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let app = String::from_utf8_lossy(&out.stdout);
    assert!(app.contains("require('cors')"), "{app}");
    assert!(
        app.contains("new RegExp("),
        "the subdomain pattern is a RegExp: {app}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("corsproof emit express: unsupported: route \"app-api\", field `credentials` (disclosure)"),
        "{err}"
    );
    // The same items are comments at the top of the program.
    assert!(
        app.contains("// cors cannot express: route \"app-api\", field `credentials`"),
        "{app}"
    );
}

#[test]
fn emit_writes_a_caddyfile_and_pinned_rust_programs() {
    let policy = "corpus/policies/spa-credentialed.toml";
    let out = corsproof(&["emit", "caddy", "--policy", policy]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "Caddy announces nothing");
    let conf = String::from_utf8_lossy(&out.stdout);
    // The route is matched on the request target as sent, /api/ or its encoded letters.
    assert!(
        conf.contains("@r0 vars_regexp {http.request.uri} `^\\/(?:a|%61)(?:p|%70)(?:i|%69)\\/`"),
        "{conf}"
    );
    assert!(conf.contains(r"+partner\.example)$`"), "{conf}");
    assert!(conf.contains("respond @preflight 204"), "{conf}");
    for (target, pin) in [
        ("tower-http", "tower-http = { version = \"=0.7.1\""),
        ("actix-cors", "actix-cors = { version = \"=0.7.2\""),
    ] {
        let out = corsproof(&["emit", target, "--policy", policy]);
        assert_eq!(out.status.code(), Some(0), "{target}");
        let app = String::from_utf8_lossy(&out.stdout);
        assert!(app.contains(pin), "{target}: {app}");
        assert!(
            app.contains("\n[workspace]\n"),
            "{target}: never a workspace member"
        );
        assert!(app.contains("cargo build --locked"), "{target}: {app}");
        assert!(
            app.contains("subdomain(origin, \"https\", \"partner.example\")"),
            "{target}: {app}"
        );
    }
}

#[test]
fn emit_refuses_a_broader_application_unless_asked() {
    let args = [
        "emit",
        "starlette",
        "--policy",
        "corpus/policies/spa-credentialed.toml",
    ];
    let out = corsproof(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("field `request_headers` (broader)"), "{err}");
    assert!(err.contains("--allow-broader emits it anyway"), "{err}");
    let out = corsproof(&[&args[..], &["--allow-broader"]].concat());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CORSMiddleware(demo,"));
}

#[test]
fn lint_target_warns_of_what_the_target_cannot_express() {
    let out = corsproof(&[
        "lint",
        "corpus/policies/mixed-routes.toml",
        "--target",
        "django,tower",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let warnings = v["target_warnings"].as_array().expect("target_warnings");
    // django-cors-headers has one configuration: api-health and public lose their grants.
    let narrower: Vec<&str> = warnings
        .iter()
        .filter(|w| w["target"] == "django" && w["effect"] == "narrower")
        .filter_map(|w| w["route"].as_str())
        .collect();
    assert_eq!(narrower, ["api-health", "public"], "{v:#}");
    assert!(warnings.iter().all(|w| w["target"] != "tower"), "{v:#}");
    let denied = corsproof(&[
        "lint",
        "corpus/policies/mixed-routes.toml",
        "--target",
        "django",
        "--deny-warnings",
    ]);
    assert_eq!(denied.status.code(), Some(1));
}

#[test]
fn matrix_renders_markdown_and_a_self_contained_html_page() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("corsproof-matrix-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let html = dir.join("m.html");
    let html_arg = html.display().to_string();
    let policy = "corpus/policies/public-api.toml";
    let out = corsproof(&[
        "matrix",
        "--targets",
        "tower,kong",
        "--policies",
        policy,
        "--cases",
        "2",
        "--format",
        "html",
        "--output",
        &html_arg,
        "--quiet",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).expect("the page");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg"), "the plot is inline");
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "no external asset"
    );
    assert!(
        page.contains("id=\"c-tower-public-api\""),
        "the cell can be opened"
    );
    assert!(
        page.contains("<b>kong</b>: Kong runs as a container"),
        "skipped targets are listed"
    );
    let out = corsproof(&[
        "matrix",
        "--targets",
        "tower",
        "--policies",
        policy,
        "--cases",
        "2",
        "--format",
        "markdown",
        "--quiet",
    ]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("| target | version | public-api |"), "{md}");
    assert!(md.contains("| tower | corsproof-tower "), "{md}");
    assert!(md.contains("| ok |"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scratch directory of this test process.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("corsproof-matrix-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

#[test]
fn the_expected_matrix_gate_passes_an_unchanged_run_and_shows_each_changed_cell() {
    let dir = scratch("gate");
    let file = dir.join("expected.json");
    let file_arg = file.display().to_string();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let written = corsproof(&[
        "matrix",
        "--targets",
        "tower",
        "--cases",
        "2",
        "--seed",
        "7",
        "--quiet",
        "--write-expected",
        &file_arg,
    ]);
    assert_eq!(written.status.code(), Some(0), "{written:?}");
    // Our middleware has no finding: four empty cells, and the run's seed and cases.
    let text = std::fs::read_to_string(&file).expect("written");
    assert_eq!(
        text,
        "{\n  \"seed\": 7,\n  \"cases\": 2,\n  \"cells\": {\n    \"tower\": {\n      \"mixed-routes\": [],\n      \"pna\": [],\n      \"public-api\": [],\n      \"spa-credentialed\": []\n    }\n  }\n}\n"
    );
    // --expect takes the file's seed and cases; targets not chosen are not compared.
    let with_other_row = text.replace(
        "  \"cells\": {\n",
        "  \"cells\": {\n    \"rack\": {\"pna\": \"refused\"},\n",
    );
    std::fs::write(&file, &with_other_row).expect("written");
    let same = corsproof(&[
        "matrix",
        "--targets",
        "tower",
        "--quiet",
        "--expect",
        &file_arg,
    ]);
    let err = String::from_utf8_lossy(&same.stderr);
    assert_eq!(same.status.code(), Some(0), "{err}");
    assert!(err.contains("every cell is as expected"), "{err}");
    // A finding that disappeared, and a cell the file does not have.
    let changed = text
        .replace(
            "\"pna\": []",
            "\"pna\": [{\"part\": \"diverges\", \"kind\": \"missing-vary\", \"route\": \"device-api\", \"known\": \"vary-only-when-allowed\"}]",
        )
        .replace("      \"public-api\": [],\n", "");
    std::fs::write(&file, changed).expect("written");
    let differs = corsproof(&[
        "matrix",
        "--targets",
        "tower",
        "--quiet",
        "--expect",
        &file_arg,
    ]);
    let err = String::from_utf8_lossy(&differs.stderr);
    assert_eq!(differs.status.code(), Some(1), "{err}");
    assert!(err.contains("2 cell(s) differ"), "{err}");
    assert!(
        err.contains("tower x pna: 0 added, 1 removed\n  - diverges missing-vary on route device-api (known: vary-only-when-allowed)\n"),
        "{err}"
    );
    assert!(
        err.contains("tower x public-api: not in the expected matrix (checked, 0 finding(s))"),
        "{err}"
    );
    // Another seed than the file's is a usage error, before anything runs.
    let seed = corsproof(&[
        "matrix",
        "--targets",
        "tower",
        "--seed",
        "8",
        "--expect",
        &file_arg,
    ]);
    assert_eq!(seed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&seed.stderr).contains("--cases 2 --seed 7"));
    std::fs::write(&file, "{\"seed\": 7}").expect("written");
    let bad = corsproof(&["matrix", "--targets", "tower", "--expect", &file_arg]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid expected matrix"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_checked_in_expected_matrix_names_only_known_behaviours_of_each_target() {
    use corsproof_matrix::expected::{Expected, Part};
    use corsproof_matrix::known::KNOWN;
    let text = std::fs::read_to_string(root().join("corpus/matrix/expected.json"))
        .expect("corpus/matrix/expected.json");
    let expected = Expected::parse(&text).expect("a valid expected matrix");
    assert!(!expected.cells.is_empty());
    for (target, row) in &expected.cells {
        let t = Target::parse(target).unwrap_or_else(|| panic!("{target} is a target"));
        for (policy, cell) in row {
            for e in cell.entries().into_iter().flatten() {
                match (e.part, e.known) {
                    (Part::Inexpressible, known) => assert_eq!(known, None, "{target} {policy}"),
                    (Part::Diverges, None) => {
                        panic!("{target} x {policy}: {e}: every divergence is a known behaviour")
                    }
                    (Part::Diverges, Some(id)) => assert!(
                        KNOWN.iter().any(|k| k.target == t
                            && k.id == id
                            && k.kinds.iter().any(|kind| e.kind == *kind)),
                        "{target} x {policy}: {e}: not a behaviour of {target} producing {}",
                        e.kind
                    ),
                }
            }
        }
    }
}
