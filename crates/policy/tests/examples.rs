//! The documented examples and the bundled policies parse to the expected model, in TOML
//! and JSON alike.

use std::path::{Path, PathBuf};

use corsproof_policy::{
    parse_path, parse_str, Format, HeaderNames, OriginEntry, Origins, Policy, Route, Scheme,
};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn exact(scheme: Scheme, host: &str, port: Option<u16>) -> OriginEntry {
    OriginEntry::Exact {
        scheme,
        host: host.to_string(),
        port,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The example of `docs/policy.md`, verbatim.
const DESIGN_EXAMPLE: &str = r#"
version = 1                       # required

[[route]]                         # zero or more; longest matching `path` prefix wins
name = "public"                   # optional; used in reports
path = "/public/"                 # required; a path prefix starting with "/"
origins = ["*"]                   # see "Origins" below; [] or absent = same-origin only
methods = ["GET"]                 # methods beyond the CORS-safelisted GET, HEAD, POST
request_headers = []              # non-safelisted request headers allowed; ["*"] = any
expose_headers = []               # response headers script may read; ["*"] = any
credentials = false               # allow credentialed requests (cookies, HTTP auth, client certs)
max_age = 600                     # optional; seconds a browser may cache a preflight
private_network = false           # answer Private Network Access preflights positively
probe_paths = ["/public/a.json"]  # optional; concrete paths `check` must probe in this route

[[route]]
name = "admin"
path = "/admin/"
origins = []                      # same-origin only: no cross-origin read, no preflight passes
"#;

fn design_example_model() -> Policy {
    Policy {
        version: 1,
        routes: vec![
            Route {
                name: Some("public".into()),
                origins: Origins::Any,
                methods: strings(&["GET"]),
                max_age: Some(600),
                probe_paths: strings(&["/public/a.json"]),
                ..Route::same_origin_only("/public/")
            },
            Route {
                name: Some("admin".into()),
                ..Route::same_origin_only("/admin/")
            },
        ],
    }
}

#[test]
fn design_example_parses_to_the_expected_model() {
    let parsed = parse_str(DESIGN_EXAMPLE, "policy.toml", Format::Toml).unwrap();
    assert_eq!(parsed.policy, design_example_model());
    let codes: Vec<_> = parsed.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["safelisted-method"]);
    assert_eq!(parsed.warnings[0].line, Some(8)); // the `methods` line (the text starts with a newline)
}

#[test]
fn design_example_in_json_is_the_same_policy() {
    let json = r#"{
        "version": 1,
        "route": [
            {"name": "public", "path": "/public/", "origins": ["*"], "methods": ["GET"],
             "request_headers": [], "expose_headers": [], "credentials": false, "max_age": 600,
             "private_network": false, "probe_paths": ["/public/a.json"]},
            {"name": "admin", "path": "/admin/", "origins": []}
        ]
    }"#;
    assert_eq!(
        Policy::from_json_str(json, "policy.json").unwrap(),
        design_example_model()
    );
}

#[test]
fn origin_forms_of_the_design_parse() {
    let text = r#"
version = 1
[[route]]
path = "/"
origins = ["https://app.example.com", "http://localhost:3000", "https://*.example.com", "null",
           "https://[2001:db8::1]:8443", "http://192.168.0.1"]
"#;
    let policy = Policy::from_toml_str(text, "p.toml").unwrap();
    assert_eq!(
        policy.routes[0].origins,
        Origins::List(vec![
            exact(Scheme::Https, "app.example.com", None),
            exact(Scheme::Http, "localhost", Some(3000)),
            OriginEntry::Subdomain {
                scheme: Scheme::Https,
                domain: "example.com".into(),
                port: None
            },
            OriginEntry::Null,
            exact(Scheme::Https, "[2001:db8::1]", Some(8443)),
            exact(Scheme::Http, "192.168.0.1", None),
        ])
    );
}

#[test]
fn empty_policy_and_absent_fields_take_defaults() {
    let policy = Policy::from_toml_str("version = 1", "p.toml").unwrap();
    assert!(policy.routes.is_empty());
    let policy = Policy::from_toml_str("version = 1\n[[route]]\npath = \"/x\"\n", "p").unwrap();
    assert_eq!(policy.routes, vec![Route::same_origin_only("/x")]);
}

#[test]
fn header_names_are_stored_lowercase_and_methods_as_written() {
    let text = r#"
version = 1
[[route]]
path = "/"
origins = ["https://a.example"]
methods = ["PATCH", "Custom-Verb"]
request_headers = ["X-Request-Id", "Content-Type"]
expose_headers = ["ETag"]
"#;
    let route = &Policy::from_toml_str(text, "p.toml").unwrap().routes[0];
    assert_eq!(route.methods, strings(&["PATCH", "Custom-Verb"]));
    assert_eq!(
        route.request_headers,
        HeaderNames::List(strings(&["x-request-id", "content-type"]))
    );
    assert_eq!(route.expose_headers, HeaderNames::List(strings(&["etag"])));
}

#[test]
fn public_api_policy() {
    let parsed = parse_path(data("public-api.toml")).unwrap();
    let route = &parsed.policy.routes[0];
    assert_eq!(route.origins, Origins::Any);
    assert!(!route.credentials);
    assert_eq!(route.max_age, Some(7200));
    assert!(
        matches!(&route.expose_headers, HeaderNames::List(h) if h.contains(&"etag".to_string()))
    );
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn spa_credentialed_policy() {
    let parsed = parse_path(data("spa-credentialed.toml")).unwrap();
    let route = &parsed.policy.routes[0];
    assert!(route.credentials);
    assert_eq!(route.methods, strings(&["PUT", "DELETE", "PATCH"]));
    assert_eq!(
        route.request_headers,
        HeaderNames::List(strings(&["content-type", "x-request-id"]))
    );
    assert!(
        matches!(&route.origins, Origins::List(o) if o.contains(&OriginEntry::Subdomain {
            scheme: Scheme::Https,
            domain: "partner.example".into(),
            port: None,
        }))
    );
    let codes: Vec<_> = parsed.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["credentialed-subdomain-pattern"]);
}

#[test]
fn mixed_routes_policy() {
    let parsed = parse_path(data("mixed-routes.toml")).unwrap();
    let labels: Vec<_> = parsed.policy.routes.iter().map(Route::label).collect();
    assert_eq!(labels, ["admin", "api", "api-health", "public"]);
    assert!(parsed.policy.routes[0].origins.is_empty());
    assert_eq!(parsed.policy.routes[2].origins, Origins::Any);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn pna_policy() {
    let parsed = parse_path(data("pna.toml")).unwrap();
    assert!(parsed.policy.routes[0].private_network);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn bundled_policies_are_identical_in_json() {
    for name in [
        "public-api.toml",
        "spa-credentialed.toml",
        "mixed-routes.toml",
        "pna.toml",
    ] {
        let policy = Policy::from_path(data(name)).unwrap();
        let json = policy.to_json_string();
        assert_eq!(
            Policy::from_json_str(&json, name).unwrap(),
            policy,
            "{name}"
        );
        let toml = policy.to_toml_string();
        assert_eq!(
            Policy::from_toml_str(&toml, name).unwrap(),
            policy,
            "{name}"
        );
        assert!(policy.validate().is_ok(), "{name}");
    }
}

#[test]
fn from_path_detects_json_without_an_extension() {
    let dir = std::env::temp_dir().join(format!("corsproof-policy-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy");
    std::fs::write(
        &file,
        "\u{feff}{\"version\": 1, \"route\": [{\"path\": \"/\"}]}",
    )
    .unwrap();
    let policy = Policy::from_path(&file).unwrap();
    assert_eq!(policy.routes.len(), 1);
    let file = dir.join("policy.json");
    std::fs::write(
        &file,
        "{\"version\": 1, \"route\": [{\"path\": \"/\",\n \"nope\": 1}]}",
    )
    .unwrap();
    let err = Policy::from_path(&file).unwrap_err();
    let d = &err.diagnostics()[0];
    assert_eq!((d.code.as_str(), d.line), ("syntax", Some(2)));
    assert!(
        d.message.starts_with("unknown field `nope`"),
        "{}",
        d.message
    );
    let file = dir.join("latin1.toml");
    std::fs::write(&file, b"version = 1\n# caf\xe9\n").unwrap();
    let d = &Policy::from_path(&file).unwrap_err().diagnostics()[0];
    assert_eq!((d.line, d.column), (Some(2), Some(6)));
    assert!(d.message.contains("UTF-8"));
    std::fs::remove_dir_all(&dir).unwrap();
}
