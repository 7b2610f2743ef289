//! The Kong emitter: the emitted declarative configuration of every bundled policy parsed as
//! YAML and checked against Kong 3.9's schema facts (`tests/data/kong-3.9-schema.json`,
//! written by hand from Kong's schema.lua); the origin translation run through a model of
//! Kong's cors handler (`configure_origin` in kong/plugins/cors/handler.lua, 3.9) with the
//! `regex` crate and compared with the oracle's origin matching on every allowed origin,
//! pattern instance and allowlist mutation; the unsupported reports; and, when an image
//! named by `CORSPROOF_KONG_IMAGE` is present locally, a real Kong checked by the engine.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use corsproof_emit::kong::{origin_regex, KONG_METHODS, NO_HEADERS};
use corsproof_emit::{kong, Effect, EmitError, KongOptions};
use corsproof_engine::generate::mutations;
use corsproof_oracle::intent::origin_matches;
use corsproof_oracle::Origin;
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route, Scheme};
use proptest::prelude::*;
use serde_yaml::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bundled() -> Vec<(String, Policy)> {
    let dir = repo().join("corpus/policies");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("corpus/policies") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            out.push((name, Policy::from_path(&path).expect("bundled policy")));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        out.len() >= 4,
        "expected the bundled policies, found {}",
        out.len()
    );
    out
}

fn schema() -> serde_json::Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/kong-3.9-schema.json"),
    )
    .expect("schema facts");
    serde_json::from_str(&text).expect("schema facts are JSON")
}

fn policy(toml: &str) -> Policy {
    Policy::from_toml_str(toml, "test.toml").expect("test policy")
}

// ---------------------------------------------------------------------------------------
// Structure against the schema facts
// ---------------------------------------------------------------------------------------

fn type_ok(kind: &str, v: &Value, name_re: &regex::Regex) -> bool {
    match kind {
        "string" => v.is_string(),
        "boolean" => v.is_bool(),
        "number" => v.is_number(),
        "array" => v.is_sequence(),
        "record" => v.is_mapping(),
        "name" => v.as_str().is_some_and(|s| name_re.is_match(s)),
        other => panic!("unknown type {other} in the schema facts"),
    }
}

/// Checks one mapping: only known fields, of the stated types, required ones present.
fn check_entity(what: &str, v: &Value, facts: &serde_json::Value, name_re: &regex::Regex) {
    let map = v
        .as_mapping()
        .unwrap_or_else(|| panic!("{what}: not a mapping"));
    let fields = facts["fields"].as_object().expect("fields");
    for (k, val) in map {
        let k = k
            .as_str()
            .unwrap_or_else(|| panic!("{what}: non-string key"));
        let kind = fields
            .get(k)
            .unwrap_or_else(|| panic!("{what}: field {k:?} is not in Kong's schema"));
        let kind = kind.as_str().expect("type");
        assert!(
            type_ok(kind, val, name_re),
            "{what}: {k:?} is not a {kind}: {val:?}"
        );
    }
    for req in facts["required"].as_array().into_iter().flatten() {
        let req = req.as_str().expect("required");
        assert!(
            map.contains_key(req),
            "{what}: required field {req:?} missing"
        );
    }
}

/// Checks the whole document against the schema facts; returns the routes.
fn check_document(yaml: &str) -> Vec<Value> {
    let facts = schema();
    let name_re = regex::Regex::new(facts["name_pattern"].as_str().unwrap()).unwrap();
    let doc: Value = serde_yaml::from_str(yaml).expect("the emitted file is YAML");
    let top = doc.as_mapping().expect("top level mapping");
    for (k, v) in top {
        let k = k.as_str().expect("string key");
        let kind = facts["top_level"][k]
            .as_str()
            .unwrap_or_else(|| panic!("top-level key {k:?} is not declarative config"));
        assert!(type_ok(kind, v, &name_re), "{k}: not a {kind}");
    }
    let version = doc["_format_version"].as_str().expect("_format_version");
    assert!(
        facts["format_versions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == version),
        "_format_version {version}"
    );
    let services = doc["services"].as_sequence().expect("services");
    assert_eq!(services.len(), 1);
    let service = &services[0];
    check_entity("service", service, &facts["service"], &name_re);
    let url = url::Url::parse(service["url"].as_str().unwrap()).expect("service url");
    assert!(facts["service"]["url_schemes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == url.scheme()));

    let path_re =
        regex::Regex::new(facts["route"]["plain_path_pattern"].as_str().unwrap()).unwrap();
    let literal_re =
        regex::Regex::new(facts["cors"]["literal_origin_pattern"].as_str().unwrap()).unwrap();
    let routes = service["routes"].as_sequence().expect("routes").clone();
    let mut names = BTreeSet::new();
    for route in &routes {
        let name = route["name"].as_str().unwrap_or("?").to_string();
        check_entity(&format!("route {name}"), route, &facts["route"], &name_re);
        assert!(names.insert(name.clone()), "duplicate route name {name}");
        for p in route["paths"].as_sequence().unwrap() {
            let p = p.as_str().expect("path is a string");
            assert!(path_re.is_match(p), "route {name}: path {p:?}");
        }
        let Some(plugins) = route.get("plugins") else {
            continue;
        };
        for plugin in plugins.as_sequence().unwrap() {
            check_entity(
                &format!("route {name} plugin"),
                plugin,
                &facts["plugin"],
                &name_re,
            );
            assert_eq!(plugin["name"].as_str(), Some("cors"));
            let config = plugin["config"].as_mapping().unwrap();
            let fields = facts["cors"]["fields"].as_object().unwrap();
            for (k, v) in config {
                let k = k.as_str().unwrap();
                let f = fields.get(k).unwrap_or_else(|| {
                    panic!("route {name}: cors field {k:?} is not in Kong 3.9's schema")
                });
                assert!(
                    type_ok(f["type"].as_str().unwrap(), v, &name_re),
                    "route {name}: cors {k}"
                );
                if let Some(el) = f.get("elements") {
                    for e in v.as_sequence().unwrap() {
                        assert!(
                            type_ok(el.as_str().unwrap(), e, &name_re),
                            "route {name}: cors {k} element {e:?}"
                        );
                        if let Some(one_of) = f.get("one_of") {
                            assert!(
                                one_of
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .any(|o| Some(o.as_str().unwrap()) == e.as_str()),
                                "route {name}: cors {k}: {e:?} not one of Kong's values"
                            );
                        }
                    }
                }
            }
            for absent in facts["cors"]["not_in_3_9"].as_array().unwrap() {
                assert!(!config.contains_key(absent.as_str().unwrap()));
            }
            // Kong's semantics the emitter must respect.
            let c = &plugin["config"];
            assert_eq!(
                c["preflight_continue"].as_bool(),
                Some(false),
                "route {name}"
            );
            let methods = c["methods"].as_sequence().expect("methods always explicit");
            assert!(!methods.is_empty());
            let headers = c["headers"].as_sequence().expect("headers always explicit");
            assert!(
                !headers.is_empty(),
                "route {name}: empty headers make Kong echo the request"
            );
            let origins = c["origins"].as_sequence().expect("origins");
            assert!(
                !origins.is_empty(),
                "route {name}: empty origins mean * to Kong"
            );
            if origins.len() == 1 {
                let only = origins[0].as_str().unwrap();
                assert!(
                    only == "*" || only == "null" || !literal_re.is_match(only),
                    "route {name}: a single literal origin is sent to every origin"
                );
            }
            for o in origins {
                let o = o.as_str().unwrap();
                if o == "*" || literal_re.is_match(o) {
                    continue;
                }
                assert!(
                    o.starts_with('^') && o.ends_with('$'),
                    "route {name}: {o} anchored"
                );
                assert!(o.contains(':'), "route {name}: {o} must contain the scheme");
                regex::Regex::new(o).unwrap_or_else(|e| panic!("route {name}: {o}: {e}"));
            }
        }
    }
    routes
}

#[test]
fn every_bundled_policy_emits_a_configuration_that_fits_kongs_schema() {
    for (name, policy) in bundled() {
        let conf = kong(&policy, &KongOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let routes = check_document(&conf.yaml);

        // One Kong route per policy route, in order, plus the catch-all unless `/` is routed.
        let has_root = policy.routes.iter().any(|r| r.path == "/");
        assert_eq!(
            routes.len(),
            policy.routes.len() + usize::from(!has_root),
            "{name}"
        );
        for (route, kroute) in policy.routes.iter().zip(&routes) {
            assert_eq!(
                kroute["paths"][0].as_str(),
                Some(route.path.as_str()),
                "{name}"
            );
            assert_eq!(kroute["strip_path"].as_bool(), Some(false));
            let plugin = kroute.get("plugins");
            assert_eq!(
                plugin.is_none(),
                route.origins.is_empty(),
                "{name} {}",
                route.path
            );
            let Some(plugins) = plugin else { continue };
            let c = &plugins[0]["config"];
            check_config_matches_route(&name, route, c);
        }
        if !has_root {
            let last = routes.last().unwrap();
            assert_eq!(last["paths"][0].as_str(), Some("/"));
            assert!(last.get("plugins").is_none());
        }
        // Every unsupported item is stated in the file.
        for u in &conf.unsupported {
            assert!(
                conf.yaml.contains(&u.to_string()),
                "{name}: {u} not in the file"
            );
            assert_ne!(u.effect, Effect::Broader, "{name}: {u}");
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn check_config_matches_route(name: &str, route: &Route, c: &Value) {
    let what = format!("{name} {}", route.path);
    let mut want = vec!["GET".to_string(), "HEAD".into(), "POST".into()];
    for m in &route.methods {
        if !want.contains(m) {
            want.push(m.clone());
        }
    }
    assert_eq!(strings(&c["methods"]), want, "{what}");
    let headers = strings(&c["headers"]);
    match &route.request_headers {
        HeaderNames::Any => assert_eq!(headers, ["*"], "{what}"),
        HeaderNames::List(l) if l.is_empty() => assert_eq!(headers, [NO_HEADERS], "{what}"),
        HeaderNames::List(l) => assert_eq!(&headers, l, "{what}"),
    }
    let exposed = strings(&c["exposed_headers"]);
    match &route.expose_headers {
        HeaderNames::Any => assert_eq!(exposed, ["*"], "{what}"),
        HeaderNames::List(l) => assert_eq!(&exposed, l, "{what}"),
    }
    assert_eq!(
        c["credentials"].as_bool(),
        Some(route.credentials),
        "{what}"
    );
    assert_eq!(
        c["private_network"].as_bool(),
        Some(route.private_network),
        "{what}"
    );
    assert_eq!(c["max_age"].as_u64(), route.max_age, "{what}");
    let origins = strings(&c["origins"]);
    match &route.origins {
        Origins::Any => assert_eq!(origins, ["*"], "{what}"),
        Origins::List(l) => assert_eq!(origins.len(), l.len(), "{what}"),
    }
}

/// docker/kong/upstream.toml is a valid policy without routes: `corsproof serve` then sets
/// no CORS header, so Kong's are the only ones.
#[test]
fn the_kong_upstream_policy_has_no_routes() {
    let p = Policy::from_path(repo().join("docker/kong/upstream.toml")).expect("upstream.toml");
    assert!(p.routes.is_empty());
}

/// The forbidden header the emitter writes for "no request headers" really is forbidden
/// to scripts (so it allows nothing a browser could send).
#[test]
fn the_no_headers_sentinel_is_a_forbidden_request_header() {
    assert!(corsproof_oracle::headers::is_forbidden_request_header(
        NO_HEADERS.as_bytes(),
        b"x"
    ));
}

// ---------------------------------------------------------------------------------------
// Origins: a model of Kong's handler, the regex crate, and the oracle
// ---------------------------------------------------------------------------------------

/// Kong's `normalize_origin` (LuaSocket `url.parse` reduced to what origins contain):
/// (domain, host), default ports dropped, IPv6 brackets dropped.
fn kong_normalize(origin: &str) -> (String, String) {
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
        let p = &authority[colon + 1..];
        if !p.contains(']') {
            port = Some(p.to_string());
            authority = &authority[..colon];
        }
    }
    let host = authority
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(authority)
        .to_string();
    if (scheme == "http" && port.as_deref() == Some("80"))
        || (scheme == "https" && port.as_deref() == Some("443"))
    {
        port = None;
    }
    let domain = match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    };
    (domain, host)
}

fn is_literal(entry: &str) -> bool {
    !entry.is_empty()
        && entry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'-'))
}

/// Kong 3.9's `configure_origin` for a request carrying `Origin: origin`: the
/// `Access-Control-Allow-Origin` value it answers with, if any.
fn kong_acao(config: &[String], origin: &str) -> Option<String> {
    if config.is_empty() || (config.len() == 1 && config[0] == "*") {
        return Some("*".to_string());
    }
    if config.len() == 1 && is_literal(&config[0]) {
        return Some(config[0].clone());
    }
    let (domain, host) = kong_normalize(origin);
    for entry in config {
        if entry == "*" {
            return Some("*".to_string());
        }
        let found = if is_literal(entry) {
            kong_normalize(entry).0 == domain
        } else {
            let mut re = entry.clone();
            if !re.ends_with('$') {
                re.push('$');
            }
            let re = re.strip_prefix('^').unwrap_or(&re);
            // ngx.re.find with the `a` (anchored) flag.
            let re = regex::Regex::new(&format!("^(?:{re})")).expect("Kong would reject it");
            let by_host = !entry.contains(':');
            re.is_match(if by_host { &host } else { &domain })
        };
        if found {
            return Some(domain);
        }
    }
    None
}

/// Whether a browser at `origin` may read the answer: the ACAO Kong sends names it (a
/// browser's origin is always a serialized origin; other strings are nobody's).
fn kong_grants(config: &[String], origin: &str) -> bool {
    if Origin::parse_serialized(origin).is_err() {
        return false;
    }
    match kong_acao(config, origin) {
        Some(v) => v == "*" || v == origin,
        None => false,
    }
}

/// Whether the oracle's P4 matching grants `origin`; strings that are not a serialized
/// origin are never a browser's origin, so never granted.
fn oracle_grants(origins: &Origins, origin: &str) -> bool {
    Origin::parse_serialized(origin).is_ok_and(|o| origin_matches(origins, &o))
}

/// Whether the policy grants `origin`: the oracle's matching, for hosts made of DNS labels
/// (1 to 63 of `a-z 0-9 -`, no leading or trailing `-`) or IP addresses. SPEC P4 says
/// "one or more DNS labels"; the oracle's matcher also takes `a_b` or empty labels in front
/// of a pattern's domain, which the middleware, the nginx emitter and this emitter refuse.
fn policy_grants(origins: &Origins, origin: &str) -> bool {
    let ldh = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let dns_host = match Origin::parse_serialized(origin) {
        Ok(o) => o
            .host()
            .is_none_or(|h| h.starts_with('[') || h.split('.').all(ldh)),
        Err(_) => false,
    };
    let granted = oracle_grants(origins, origin);
    granted && (dns_host || *origins == Origins::Any)
}

fn emitted_origins(route: &Route) -> Vec<String> {
    let p = Policy {
        version: 1,
        routes: vec![route.clone()],
    };
    let conf = kong(&p, &KongOptions::default()).expect("emit");
    let doc: Value = serde_yaml::from_str(&conf.yaml).unwrap();
    strings(&doc["services"][0]["routes"][0]["plugins"][0]["config"]["origins"])
}

fn candidates(entries: &[OriginEntry]) -> Vec<String> {
    let mut out: Vec<String> = entries.iter().flat_map(mutations).collect();
    out.extend(entries.iter().map(ToString::to_string));
    out.extend(
        [
            "null",
            "http://null",
            "https://evil.test",
            "https://evil.test@app.example.com",
            "https://app.example.com:443",
            "https://APP.example.com",
            "https://app.example.com/",
            "",
        ]
        .map(String::from),
    );
    out
}

#[test]
fn kong_grants_exactly_the_origins_each_bundled_route_admits() {
    let mut checked = 0;
    for (name, policy) in bundled() {
        let all: Vec<OriginEntry> = policy
            .routes
            .iter()
            .flat_map(|r| match &r.origins {
                Origins::List(l) => l.clone(),
                Origins::Any => Vec::new(),
            })
            .collect();
        for route in policy.routes.iter().filter(|r| !r.origins.is_empty()) {
            let config = emitted_origins(route);
            for origin in candidates(&all) {
                let kong = kong_grants(&config, &origin);
                let policy = policy_grants(&route.origins, &origin);
                assert!(
                    !kong || oracle_grants(&route.origins, &origin),
                    "{name}: {origin} broader"
                );
                assert_eq!(
                    kong, policy,
                    "{name} route {}: origin {origin:?}: Kong {kong}, policy {policy} (config {config:?})",
                    route.path
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "only {checked} origins checked");
}

fn entry(s: &str) -> OriginEntry {
    s.parse().expect("origin entry")
}

fn route_with(entries: &[&str]) -> Route {
    Route {
        origins: Origins::List(entries.iter().map(|e| entry(e)).collect()),
        ..Route::same_origin_only("/api/")
    }
}

#[test]
fn each_regex_matches_the_pattern_and_refuses_the_mutations() {
    for e in [
        "https://*.example.com",
        "http://*.partner.example:8080",
        "https://*.a-b.example",
        "https://app.example.com",
        "http://localhost:3000",
        "https://xn--bcher-kva.example",
        "http://127.0.0.1:8080",
        "http://[::1]:3000",
        "https://[2001:db8::1]",
    ] {
        let entry = entry(e);
        let re = regex::Regex::new(&origin_regex(&entry)).expect("compiles");
        let origins = Origins::List(vec![entry.clone()]);
        let mut admitted = 0;
        for m in mutations(&entry) {
            let want = policy_grants(&origins, &m);
            assert_eq!(re.is_match(&m), want, "{e}: {m} (regex {re})");
            admitted += usize::from(want);
        }
        assert!(
            admitted >= 1,
            "{e}: no mutation is admitted: the test would be vacuous"
        );
    }
    // The named attacks, spelled out.
    let re = regex::Regex::new(&origin_regex(&entry("https://*.example.com"))).unwrap();
    for bad in [
        "https://example.com",
        "https://evilexample.com",
        "https://a.example.com.evil.test",
        "https://a.examplexcom",
        "http://a.example.com",
        "https://a.example.com:8443",
        "https://a.example.com.",
        "https://-a.example.com",
        "https://a_b.example.com",
        "https://.example.com",
        "https://a..example.com",
        "xhttps://a.example.com",
    ] {
        assert!(!re.is_match(bad), "{bad}");
    }
    for good in [
        "https://a.example.com",
        "https://x-y.z9.example.com",
        "https://0.example.com",
    ] {
        assert!(re.is_match(good), "{good}");
    }
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?",
        "[a-z0-9_-]{1,6}",
        Just(String::new()),
        Just("example".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random hosts near a pattern: Kong (regex through the handler model) and the oracle agree.
    #[test]
    fn random_hosts_near_a_pattern(
        labels in prop::collection::vec(label(), 0..4),
        suffix in prop_oneof![Just(".example.com"), Just("example.com"), Just(".example.com.evil"), Just(".examplexcom"), Just(".exampl.com")],
        scheme in prop_oneof![Just("https"), Just("http")],
        port in prop_oneof![Just(""), Just(":443"), Just(":8443"), Just(":80")],
        pattern_port in prop_oneof![Just(None), Just(Some(8443u16))],
    ) {
        let pattern = OriginEntry::Subdomain { scheme: Scheme::Https, domain: "example.com".into(), port: pattern_port };
        let host = format!("{}{suffix}", labels.join("."));
        let origin = format!("{scheme}://{host}{port}");
        let route = Route { origins: Origins::List(vec![pattern.clone(), entry("https://other.test")]), ..Route::same_origin_only("/") };
        let config = emitted_origins(&route);
        prop_assert_eq!(kong_grants(&config, &origin), policy_grants(&route.origins, &origin), "{} with {:?}", origin, config);
        prop_assert!(!kong_grants(&config, &origin) || oracle_grants(&route.origins, &origin));
        let single = emitted_origins(&Route { origins: Origins::List(vec![pattern]), ..route.clone() });
        prop_assert_eq!(kong_grants(&single, &origin), policy_grants(&Origins::List(vec![OriginEntry::Subdomain { scheme: Scheme::Https, domain: "example.com".into(), port: pattern_port }]), &origin));
    }
}

/// The regexes run by PCRE2 itself (what Kong's `ngx.re` uses), through `pcre2grep` (one
/// subject per line), agree with the `regex` crate on every candidate origin. Skipped, saying
/// why, when `pcre2grep` (Debian: pcre2-utils) is not installed, and fails under CI.
#[test]
fn pcre2_agrees_with_the_regex_crate_on_every_emitted_regex() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if corsproof_testkit::tool::require("pcre2grep", "runs the emitted regexes with PCRE2")
        .is_none()
    {
        return;
    }
    let mut regexes = BTreeSet::new();
    let mut subjects = BTreeSet::new();
    for (_, policy) in bundled() {
        for route in &policy.routes {
            if let Origins::List(entries) = &route.origins {
                for e in entries {
                    regexes.insert(origin_regex(e));
                }
                subjects.extend(candidates(entries));
            }
        }
    }
    for e in [
        "http://[::1]:3000",
        "https://*.a-b.example:8443",
        "http://127.0.0.1",
    ] {
        let e = entry(e);
        regexes.insert(origin_regex(&e));
        subjects.extend(candidates(std::slice::from_ref(&e)));
    }
    subjects.retain(|s| !s.is_empty() && !s.contains('\n'));
    let input: String = subjects.iter().map(|s| format!("{s}\n")).collect();
    let mut matched_somewhere = 0;
    for re in &regexes {
        let mut child = Command::new("pcre2grep")
            .arg("-e")
            .arg(re)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pcre2grep starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write subjects");
        let out = child.wait_with_output().expect("pcre2grep ends");
        // 0: lines matched, 1: none; anything else is an error (a pattern PCRE2 rejects).
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{re}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pcre: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        let rust_re = regex::Regex::new(re).expect("compiles");
        let rust: BTreeSet<String> = subjects
            .iter()
            .filter(|s| rust_re.is_match(s))
            .cloned()
            .collect();
        assert_eq!(pcre, rust, "{re}");
        matched_somewhere += usize::from(!rust.is_empty());
    }
    assert_eq!(
        matched_somewhere,
        regexes.len(),
        "every regex matches some candidate"
    );
}

#[test]
fn single_exact_origins_become_regexes_and_lists_stay_literal() {
    let one = emitted_origins(&route_with(&["https://app.example.com"]));
    assert_eq!(one, [r"^https://app\.example\.com$"]);
    let two = emitted_origins(&route_with(&[
        "https://app.example.com",
        "http://localhost:3000",
    ]));
    assert_eq!(two, ["https://app.example.com", "http://localhost:3000"]);
    // A single literal would be sent to everyone: the regex is answered per origin.
    assert!(!kong_grants(&one, "https://evil.test"));
    assert_eq!(kong_acao(&one, "https://evil.test"), None);
    assert!(kong_grants(&one, "https://app.example.com"));
    // `null` stays literal: as a regex without `:` Kong would match it against hosts.
    let nulls = emitted_origins(&route_with(&["null", "https://app.example.com"]));
    assert_eq!(nulls[0], "null");
    assert!(kong_grants(&nulls, "null"));
    assert!(!kong_grants(&nulls, "http://null"));
}

// ---------------------------------------------------------------------------------------
// Unsupported reports
// ---------------------------------------------------------------------------------------

fn items(conf: &corsproof_emit::KongConfig, field: &str, effect: Effect) -> usize {
    conf.unsupported
        .iter()
        .filter(|u| u.field == field && u.effect == effect)
        .count()
}

#[test]
fn methods_kong_cannot_name_are_left_out_and_reported_narrower() {
    let p = policy(
        "version = 1\n[[route]]\nname = \"dav\"\npath = \"/dav/\"\norigins = [\"https://a.test\", \"https://b.test\"]\nmethods = [\"PROPFIND\", \"PUT\", \"patch\"]\n",
    );
    let conf = kong(&p, &KongOptions::default()).unwrap();
    assert_eq!(items(&conf, "methods", Effect::Narrower), 2);
    assert!(conf
        .yaml
        .contains(r#"methods: ["GET", "HEAD", "POST", "PUT"]"#));
    assert!(!conf.yaml.contains("\"PROPFIND\"]") && !conf.yaml.contains("\"patch\"]"));
    let u = conf
        .unsupported
        .iter()
        .find(|u| u.field == "methods")
        .unwrap();
    assert_eq!(u.route, "dav");
    assert!(u.why.contains("PROPFIND"));
    check_document(&conf.yaml);
    for m in KONG_METHODS {
        assert_eq!(m.to_ascii_uppercase(), m);
    }
}

#[test]
fn ipv6_origins_and_huge_max_age_are_narrower() {
    let p = policy("version = 1\n[[route]]\npath = \"/\"\norigins = [\"http://[::1]:3000\"]\n");
    let conf = kong(&p, &KongOptions::default()).unwrap();
    assert_eq!(items(&conf, "origins", Effect::Narrower), 1);
    // The emitted regex still names the bracketed origin; Kong's normalisation is what fails.
    let config = emitted_origins(&p.routes[0]);
    assert!(!kong_grants(&config, "http://[::1]:3000"));
    assert!(regex::Regex::new(&config[0])
        .unwrap()
        .is_match("http://[::1]:3000"));
    check_document(&conf.yaml);
    // Policy validation caps max_age far below Kong's limit: a hand-built policy reaches it.
    let mut huge = p.clone();
    huge.routes[0].max_age = Some(100_000_000_000_000);
    let conf = kong(&huge, &KongOptions::default()).unwrap();
    assert_eq!(items(&conf, "max_age", Effect::Narrower), 1);
    huge.routes[0].max_age = Some(99_999_999_999_999);
    let conf = kong(&huge, &KongOptions::default()).unwrap();
    assert_eq!(items(&conf, "max_age", Effect::Narrower), 0);
}

#[test]
fn disclosures_are_reported_per_route_and_written_into_the_file() {
    let p = policy(
        "version = 1\n[[route]]\nname = \"dev\"\npath = \"/d/\"\norigins = [\"https://c.test\"]\ncredentials = true\nexpose_headers = [\"X-Id\"]\nprivate_network = true\n\n[[route]]\nname = \"pub\"\npath = \"/p/\"\norigins = [\"*\"]\n",
    );
    let conf = kong(&p, &KongOptions::default()).unwrap();
    for field in [
        "origins",
        "credentials",
        "expose_headers",
        "private_network",
    ] {
        assert_eq!(items(&conf, field, Effect::Disclosure), 1, "{field}");
    }
    assert!(
        conf.unsupported.iter().all(|u| u.route == "dev"),
        "{:?}",
        conf.unsupported
    );
    for u in &conf.unsupported {
        let line = format!("#   - {u}");
        assert!(conf.yaml.lines().any(|l| l == line), "{line}");
    }
    // A policy Kong expresses exactly says so.
    let exact = policy("version = 1\n[[route]]\npath = \"/p/\"\norigins = [\"*\"]\n");
    let conf = kong(&exact, &KongOptions::default()).unwrap();
    assert!(conf.unsupported.is_empty());
    assert!(conf.yaml.contains("# unsupported: nothing"));
}

#[test]
fn a_single_null_origin_is_a_disclosure() {
    let p =
        policy("version = 1\n[[route]]\npath = \"/\"\norigins = [\"null\"]\nallow_risky = true\n");
    let conf = kong(&p, &KongOptions::default()).unwrap();
    assert_eq!(items(&conf, "origins", Effect::Disclosure), 2);
    let config = emitted_origins(&p.routes[0]);
    assert_eq!(config, ["null"]);
    assert!(kong_grants(&config, "null"));
    assert!(!kong_grants(&config, "https://a.test"));
}

#[test]
fn a_broader_translation_is_refused_unless_allowed() {
    // Not a valid policy file (wildcard with credentials): built by hand.
    let p = Policy {
        version: 1,
        routes: vec![Route {
            name: Some("bad".into()),
            origins: Origins::Any,
            credentials: true,
            ..Route::same_origin_only("/x/")
        }],
    };
    match kong(&p, &KongOptions::default()) {
        Err(EmitError::Broader(items)) => {
            assert_eq!(items.len(), 1);
            assert_eq!(
                (items[0].route.as_str(), items[0].field),
                ("bad", "credentials")
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let opts = KongOptions {
        allow_broader: true,
        ..KongOptions::default()
    };
    let conf = kong(&p, &opts).unwrap();
    assert_eq!(items(&conf, "credentials", Effect::Broader), 1);
    assert!(conf.yaml.contains("(broader)"));
}

#[test]
fn paths_and_upstreams_kong_cannot_take_are_errors() {
    let p = policy("version = 1\n[[route]]\npath = \"/a%2Fb/\"\norigins = [\"*\"]\n");
    assert!(matches!(
        kong(&p, &KongOptions::default()),
        Err(EmitError::Unsupported { field: "path", .. })
    ));
    let ok = policy("version = 1\n[[route]]\npath = \"/a/\"\norigins = [\"*\"]\n");
    let opts = KongOptions {
        upstream: "ftp://x".into(),
        ..KongOptions::default()
    };
    assert!(matches!(
        kong(&ok, &opts),
        Err(EmitError::Unsupported {
            field: "upstream",
            ..
        })
    ));
    let opts = KongOptions {
        upstream: "http://127.0.0.1:9000".into(),
        ..KongOptions::default()
    };
    let conf = kong(&ok, &opts).unwrap();
    assert!(conf.yaml.contains("url: \"http://127.0.0.1:9000\""));
}

#[test]
fn hostile_names_stay_inside_comments_and_strings() {
    // Policy files refuse control characters in names; the model does not: built by hand.
    let p = Policy {
        version: 1,
        routes: vec![Route {
            name: Some("x\ny: 1 # \"q\u{2028}\r".into()),
            expose_headers: HeaderNames::List(vec!["x-a".into()]),
            ..route_with(&["https://a.test"])
        }],
    };
    let conf = kong(&p, &KongOptions::default()).unwrap();
    let routes = check_document(&conf.yaml);
    assert_eq!(routes.len(), 2);
    assert!(!conf.yaml.lines().any(|l| l.starts_with("y: 1")));
    let doc: Value = serde_yaml::from_str(&conf.yaml).unwrap();
    assert_eq!(doc.as_mapping().unwrap().len(), 3, "no key injected");
}

// ---------------------------------------------------------------------------------------
// A real Kong, when an image is present
// ---------------------------------------------------------------------------------------

mod real {
    use super::*;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use corsproof_engine::check::{check, CheckConfig};
    use corsproof_report::finding::Severity;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// How `docker/kong/` runs Kong (its Dockerfile and README; docker/compose.yaml and the
    /// container launcher use the same): DB-less, the declarative file, the proxy only.
    mod container {
        pub const IMAGE_ENV: &str = "CORSPROOF_KONG_IMAGE";
        pub const DEFAULT_IMAGE: &str = "kong:3.9";
        pub const CONFIG_PATH: &str = "/kong/kong.yml";
        pub const ENVIRONMENT: [(&str, &str); 7] = [
            ("KONG_DATABASE", "off"),
            ("KONG_DECLARATIVE_CONFIG", CONFIG_PATH),
            ("KONG_PROXY_LISTEN", "0.0.0.0:8000"),
            ("KONG_ADMIN_LISTEN", "off"),
            ("KONG_STATUS_LISTEN", "off"),
            ("KONG_PROXY_ACCESS_LOG", "/dev/stdout"),
            ("KONG_PROXY_ERROR_LOG", "/dev/stderr"),
        ];
    }

    /// docker/kong/Dockerfile sets exactly this environment.
    #[test]
    fn the_dockerfile_runs_kong_as_the_test_does() {
        let text =
            std::fs::read_to_string(repo().join("docker/kong/Dockerfile")).expect("Dockerfile");
        let mut env = Vec::new();
        let mut in_env = false;
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("ENV ") {
                in_env = true;
                env.push(rest.trim_end_matches('\\').trim().to_string());
            } else if in_env && !line.is_empty() && !line.starts_with('#') {
                env.push(line.trim_end_matches('\\').trim().to_string());
            }
            if !line.ends_with('\\') {
                in_env = false;
            }
        }
        let want: Vec<String> = container::ENVIRONMENT
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(env, want);
        assert!(text.contains(&format!("ARG KONG_IMAGE={}", container::DEFAULT_IMAGE)));
    }

    /// The container we started, removed by its id when the test ends.
    struct Container(String);

    impl Drop for Container {
        fn drop(&mut self) {
            let _ = Command::new("docker")
                .args(["rm", "-f", &self.0])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    fn image() -> Result<String, String> {
        let image = std::env::var(container::IMAGE_ENV).map_err(|_| {
            format!(
                "{} is not set (name a local Kong 3.9 image, e.g. {})",
                container::IMAGE_ENV,
                container::DEFAULT_IMAGE
            )
        })?;
        let present = Command::new("docker")
            .args(["image", "inspect", &image])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("docker is not usable: {e}"))?;
        if present.success() {
            Ok(image)
        } else {
            Err(format!(
                "image {image:?} is not present locally (it is never pulled)"
            ))
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
    }

    /// A CORS-free upstream: 200 and a short body for every request, `Connection: close`.
    async fn upstream() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16384];
                    let mut n = 0;
                    while n < buf.len() {
                        match s.read(&mut buf[n..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => n += k,
                        }
                        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Id: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                        .await;
                });
            }
        });
        port
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_real_kong_never_grants_more_than_the_policy() {
        let image = match image() {
            Ok(i) => i,
            Err(why) => {
                eprintln!("skipped: a_real_kong_never_grants_more_than_the_policy: {why}");
                return;
            }
        };
        let up = upstream().await;
        for (name, policy) in bundled() {
            let opts = KongOptions {
                upstream: format!("http://127.0.0.1:{up}"),
                allow_broader: false,
            };
            let conf = kong(&policy, &opts).expect("emit");
            let dir = std::env::temp_dir().join(format!(
                "corsproof-kong-{}-{}",
                std::process::id(),
                free_port()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let file = Path::new(container::CONFIG_PATH)
                .file_name()
                .expect("a file name");
            std::fs::write(dir.join(file), &conf.yaml).expect("write kong.yml");
            let port = free_port();
            let mut cmd = Command::new("docker");
            cmd.args(["run", "-d", "--network", "host"]);
            for (k, v) in container::ENVIRONMENT {
                // Host networking with every listener on 127.0.0.1: loopback only.
                let v = if k == "KONG_PROXY_LISTEN" {
                    format!("127.0.0.1:{port}")
                } else {
                    v.to_string()
                };
                cmd.arg("-e").arg(format!("{k}={v}"));
            }
            let mount = Path::new(container::CONFIG_PATH)
                .parent()
                .expect("a directory");
            let out = cmd
                .args(["-e", "KONG_NGINX_WORKER_PROCESSES=1", "-v"])
                .arg(format!("{}:{}:ro", dir.display(), mount.display()))
                .arg(&image)
                .output()
                .expect("docker run");
            assert!(
                out.status.success(),
                "{name}: docker run: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let container = Container(String::from_utf8_lossy(&out.stdout).trim().to_string());
            let deadline = Instant::now() + Duration::from_secs(90);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                if Instant::now() >= deadline {
                    // Kong rejects a declarative file it cannot load and exits: show why.
                    let logs = Command::new("docker")
                        .args(["logs", "--tail", "40", &container.0])
                        .output()
                        .map(|o| {
                            format!(
                                "{}{}",
                                String::from_utf8_lossy(&o.stdout),
                                String::from_utf8_lossy(&o.stderr)
                            )
                        })
                        .unwrap_or_default();
                    panic!("{name}: Kong did not listen within 90 s; its log:\n{logs}");
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let base = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
            let config = CheckConfig {
                cases: 300,
                deadline: Duration::from_secs(180),
                concurrency: 4,
                ..CheckConfig::default()
            };
            let report = check(&policy, &name, &base, &config).await.expect("check");
            for f in &report.findings {
                eprintln!(
                    "{name}: {} ({}) on {:?}",
                    f.kind,
                    f.severity.as_str(),
                    f.route
                );
            }
            let violations: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Violation)
                .map(|f| f.kind)
                .collect();
            assert!(
                violations.is_empty(),
                "{name}: Kong granted more than the policy: {violations:?}"
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
