//! The nginx emitter against a real nginx: for every bundled policy, the emitted standalone
//! configuration is served by `nginx` and each route is probed with an allowed preflight, a
//! refused preflight, an allowed and a refused cross-origin GET, a same-origin GET without
//! `Origin`, and a path no route covers. The oracle judges every exchange against the
//! policy's intent under every browser profile: no mismatch is allowed.
//!
//! Skipped (with a message, not failed) when no `nginx` binary is installed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use corsproof_client::{self as http1, Client};
use corsproof_engine::generate::boundary_paths;
use corsproof_oracle::fetch::OriginHeader;
use corsproof_oracle::intent::intent;
use corsproof_oracle::{
    CredentialsMode, Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response,
};
use corsproof_policy::{OriginEntry, Origins, Policy, Route};
use corsproof_targets::launch;

/// nginx serving `policy`'s emitted configuration (stopped when dropped), and its port.
fn start(bin: &Path, policy: &Policy, name: &str) -> (launch::Running, u16) {
    let running = launch::nginx(bin, policy).unwrap_or_else(|e| panic!("nginx for {name}: {e}"));
    let port = running
        .url()
        .port()
        .unwrap_or_else(|| panic!("{} has no port", running.url()));
    (running, port)
}

fn sample_origin(entry: &OriginEntry) -> String {
    match entry {
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://a.b.{domain}{port}", scheme.as_str())
        }
        other => other.to_string(),
    }
}

fn allowed_origin(route: &Route) -> String {
    match &route.origins {
        Origins::Any => "https://anyone.example".to_string(),
        Origins::List(list) => list
            .first()
            .map(sample_origin)
            .unwrap_or_else(|| "https://app.example.com".to_string()),
    }
}

fn probe_path(route: &Route) -> String {
    route
        .probe_paths
        .first()
        .cloned()
        .unwrap_or_else(|| format!("{}probe", route.path))
}

/// One browser request, as described to the oracle.
struct Case {
    what: &'static str,
    path: String,
    origin: String,
    method: String,
    headers: Vec<(String, String)>,
    credentials: CredentialsMode,
}

const SERVER: &str = "https://api.test";

async fn run_case(
    client: &mut Client,
    policy: &Policy,
    case: &Case,
    profile: &Profile,
    more_private: bool,
) -> Result<(), String> {
    let mut init = RequestInit::new(
        url::Url::parse(&format!("{SERVER}{}", case.path)).expect("url"),
        Origin::parse_serialized(&case.origin).expect("origin"),
    );
    init.method = case.method.clone();
    init.headers = case
        .headers
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    init.credentials = case.credentials;
    init.target_more_private = more_private;
    let request = Request::construct(init, profile).map_err(|e| format!("construct: {e:?}"))?;
    let expected = intent(policy, &request, profile);
    let mut cache = PreflightCache::default();
    let mut fetch = Fetch::new(&request, profile);
    let mut next = fetch.start(&mut cache, 0.0);
    let mut last = Response::new(0, Vec::<(Vec<u8>, Vec<u8>)>::new());
    let mut exchanges = Vec::new();
    for _ in 0..4 {
        match next {
            Next::Done => break,
            Next::Preflight => {
                let hop = fetch.current_hop().expect("hop");
                let p = hop.preflight.as_ref().expect("preflight");
                let mut req = http1::Request::new("OPTIONS", case.path.as_str())
                    .header("Origin", fetch.serialized_origin())
                    .header("Access-Control-Request-Method", p.method);
                if !p.headers.is_empty() {
                    req = req.header("Access-Control-Request-Headers", p.headers.joined());
                }
                if p.private_network {
                    req = req.header("Access-Control-Request-Private-Network", "true");
                }
                let res = client.send(&req).await.map_err(|e| format!("send: {e}"))?;
                let res = Response::new(res.status, res.headers);
                exchanges.push(format!("preflight -> {res:?}"));
                next = fetch.on_preflight_response(&res, &mut cache, 0.0);
            }
            Next::Request => {
                let mut req = http1::Request::new(fetch.method(), case.path.as_str());
                match fetch.current_hop().map(|h| h.origin_header) {
                    Some(OriginHeader::RequestOrigin) => {
                        req = req.header("Origin", fetch.serialized_origin())
                    }
                    Some(OriginHeader::Null) => req = req.header("Origin", "null"),
                    _ => {}
                }
                for (n, v) in fetch.headers() {
                    req = req.header(n.clone(), v.clone());
                }
                let res = client.send(&req).await.map_err(|e| format!("send: {e}"))?;
                last = Response::new(res.status, res.headers);
                exchanges.push(format!("request -> {last:?}"));
                next = fetch.on_response(&last, &mut cache, 0.0);
            }
        }
    }
    let mismatches = expected.judge(fetch.outcome(), &last, request.credentials);
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} {} {} from {} ({}, more private: {more_private}): {mismatches:?}\n  intent: {expected:?}\n  outcome: {:?}\n  {}",
            case.what,
            case.method,
            case.path,
            case.origin,
            profile.name(),
            fetch.outcome(),
            exchanges.join("\n  ")
        ))
    }
}

fn cases(route: &Route) -> Vec<Case> {
    let path = probe_path(route);
    let allowed = allowed_origin(route);
    let credentials = if route.credentials {
        CredentialsMode::Include
    } else {
        CredentialsMode::Omit
    };
    let method = route
        .methods
        .first()
        .cloned()
        .unwrap_or_else(|| "PUT".to_string());
    let headers: Vec<(String, String)> = match &route.request_headers {
        corsproof_policy::HeaderNames::Any => vec![("X-Anything".into(), "1".into())],
        corsproof_policy::HeaderNames::List(l) => l
            .iter()
            .map(|n| {
                let v = if n.eq_ignore_ascii_case("content-type") {
                    "application/json"
                } else {
                    "1"
                };
                (n.clone(), v.to_string())
            })
            .collect(),
    };
    let case =
        |what, path: &str, origin: &str, method: &str, headers: Vec<(String, String)>| Case {
            what,
            path: path.to_string(),
            origin: origin.to_string(),
            method: method.to_string(),
            headers,
            credentials,
        };
    let mut out = Vec::new();
    // Origins that break naive allowlists: suffix, appended character, downgrade, apex.
    let mut attacks = vec![
        format!("{allowed}.evil.test"),
        format!("{allowed}x"),
        allowed.replacen("https://", "http://", 1),
    ];
    if let Origins::List(list) = &route.origins {
        for entry in list {
            if let OriginEntry::Subdomain { scheme, domain, .. } = entry {
                attacks.push(format!("{}://{domain}", scheme.as_str()));
                attacks.push(format!("{}://evil{domain}", scheme.as_str()));
                attacks.push(format!(
                    "{}://a.{}",
                    scheme.as_str(),
                    domain.replace('.', "x")
                ));
            }
        }
    }
    for origin in attacks {
        if origin != allowed && Origin::parse_serialized(&origin).is_ok() {
            out.push(case("attack-origin GET", &path, &origin, "GET", vec![]));
            out.push(case(
                "attack-origin preflight",
                &path,
                &origin,
                &method,
                headers.clone(),
            ));
        }
    }
    if matches!(route.request_headers, corsproof_policy::HeaderNames::Any) {
        out.push(case(
            "authorization under *",
            &path,
            &allowed,
            &method,
            vec![("Authorization".into(), "Bearer x".into())],
        ));
    }
    out.extend([
        case(
            "allowed preflight",
            &path,
            &allowed,
            &method,
            headers.clone(),
        ),
        case(
            "refused preflight (method)",
            &path,
            &allowed,
            "PROPFIND",
            headers.clone(),
        ),
        case(
            "refused preflight (header)",
            &path,
            &allowed,
            &method,
            vec![("X-Not-Allowed".into(), "1".into())],
        ),
        case(
            "refused preflight (origin)",
            &path,
            "https://app.example.com.evil.test",
            &method,
            headers.clone(),
        ),
        case("allowed GET", &path, &allowed, "GET", vec![]),
        case(
            "refused-origin GET",
            &path,
            "https://evil.test",
            "GET",
            vec![],
        ),
        case("same-origin GET", &path, SERVER, "GET", vec![]),
        case(
            "uncovered path GET",
            "/corsproof-uncovered/x",
            &allowed,
            "GET",
            vec![],
        ),
    ]);
    // The route's boundary (`/api`, `/apifoo`, `/API/`, `/%61pi/`, `/api%2Fx`, ...): judged
    // by the policy's route matching (P1), which nginx's `location` does not follow.
    for boundary in boundary_paths(&route.path) {
        out.push(case("boundary GET", &boundary, &allowed, "GET", vec![]));
        out.push(case(
            "boundary preflight",
            &boundary,
            &allowed,
            &method,
            headers.clone(),
        ));
    }
    out
}

/// Beyond the bundled policies: `*` request and expose headers, a pattern with a port,
/// several listed headers.
const EXTRA: &str = r#"
version = 1

[[route]]
name = "any-headers"
path = "/any/"
origins = ["https://*.example.com:8443", "http://localhost:3000"]
methods = ["PATCH"]
request_headers = ["*"]
expose_headers = ["*"]
max_age = 5

[[route]]
name = "encoded"
path = "/~me/a%20b/"
origins = ["https://app.example.com"]
credentials = true

[[route]]
name = "listed"
path = "/listed/"
origins = ["https://*.example.org"]
methods = ["PUT", "DELETE"]
request_headers = ["X-One", "X-Two", "Content-Type"]
credentials = true
"#;

#[test]
fn emitted_nginx_conforms_on_every_bundled_policy() {
    let bin = launch::find_nginx();
    let found = bin
        .as_ref()
        .map(|_| ())
        .ok_or_else(|| "not installed".to_string());
    if !corsproof_testkit::tool::require_that("nginx", found, "serves the emitted configuration") {
        return;
    }
    let Some(bin) = bin else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/policies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus/policies")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut policies: Vec<(String, Policy)> = files
        .iter()
        .map(|f| {
            let name = f.file_stem().and_then(|s| s.to_str()).unwrap_or("policy");
            (
                name.to_string(),
                Policy::from_path(f).expect("bundled policy"),
            )
        })
        .collect();
    policies.push((
        "extra".to_string(),
        Policy::from_toml_str(EXTRA, "extra.toml").expect("extra policy"),
    ));
    for (name, policy) in &policies {
        let name = name.as_str();
        let (server, port) = start(&bin, policy, name);
        rt.block_on(async {
            let mut client =
                Client::new(format!("127.0.0.1:{port}")).with_timeout(Duration::from_secs(5));
            for route in &policy.routes {
                for case in cases(route) {
                    for (profile, more_private) in [
                        (Profile::fetch(), false),
                        (Profile::chromium(), false),
                        (Profile::chromium(), true),
                        (Profile::firefox(), false),
                    ] {
                        checked += 1;
                        let run = run_case(&mut client, policy, &case, &profile, more_private);
                        match tokio::time::timeout(Duration::from_secs(20), run).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
                            Err(_) => failures.push(format!("{name}: {} timed out", case.what)),
                        }
                    }
                }
            }
        });
        drop(server);
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} exchanges departed from the policy:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("nginx: {checked} judged exchanges, no mismatch");
}
