//! Rust programs behind tower-http's `CorsLayer` (under axum) or actix-cors (under
//! actix-web), crates from crates.io at pinned versions (each library's `Cargo.toml` asks
//! for `=x.y.z` and its checked-in `Cargo.lock` pins every other crate).
//!
//! Each CORS route gets its own middleware, configured as the library's documentation
//! shows, and `main` picks the route whose path is the longest prefix of the request's path
//! (as sent, its percent-encoded unreserved characters decoded).
//!
//! - tower-http: `Router::new().fallback(demo).layer(CorsLayer::new()...)` per route:
//!   `allow_origin` (`AllowOrigin::any()`, `AllowOrigin::list` of exact origins, or
//!   `AllowOrigin::predicate` when the route has subdomain patterns), `allow_methods`,
//!   `allow_headers` (`AllowHeaders::any()` for `["*"]`), `expose_headers`,
//!   `allow_credentials` and `allow_private_network` (as predicates on the same origins, so
//!   that refused origins are not told), `max_age`.
//! - actix-cors: `web::scope("")` guarded by the route, `.wrap(Cors::default()...)`:
//!   `allowed_origin` per exact origin, `allowed_origin_fn` for subdomain patterns,
//!   `allow_any_origin().send_wildcard()` for `*`, `allowed_methods`, `allowed_headers` (or
//!   `allow_any_header`), `expose_headers`, `supports_credentials`, `max_age`,
//!   `allow_private_network_access` (its `draft-private-network-access` feature).
//!
//! `run.sh PORT` builds the program with `cargo build --locked` (a debug build) into a target
//! directory shared by every application of the same library (`CORSPROOF_RUST_TARGET_DIR`,
//! else `corsproof-rust-apps/LIBRARY` in the temporary directory), so that only the first
//! build compiles the dependencies, and runs it. The project has an empty `[workspace]`
//! table: it is never a member of an enclosing workspace.

use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};

use super::{
    all_methods, comments, item, lit, longest_first, unconditional_headers, App, AppFile,
    AppOptions,
};
use crate::{Effect, EmitError, Unsupported};

/// Which Rust library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RustLibrary {
    /// tower-http's `CorsLayer`, under axum.
    TowerHttp,
    /// actix-cors, under actix-web.
    ActixCors,
}

impl RustLibrary {
    /// The crates pinned, with their versions (`[("tower-http", "0.7.1"), ...]`).
    ///
    /// ```
    /// use corsproof_emit::apps::RustLibrary;
    /// assert_eq!(RustLibrary::ActixCors.crates()[0], ("actix-cors", "0.7.2"));
    /// ```
    pub const fn crates(self) -> &'static [(&'static str, &'static str)] {
        match self {
            RustLibrary::TowerHttp => &[("tower-http", "0.7.1"), ("axum", "0.8.9")],
            RustLibrary::ActixCors => &[("actix-cors", "0.7.2"), ("actix-web", "4.20.0")],
        }
    }

    /// The directory name of its shared target directory (`tower-http`, `actix-cors`).
    pub const fn dir_name(self) -> &'static str {
        match self {
            RustLibrary::TowerHttp => "tower-http",
            RustLibrary::ActixCors => "actix-cors",
        }
    }

    fn manifest(self) -> (&'static str, &'static str) {
        match self {
            RustLibrary::TowerHttp => (
                include_str!("rust/tower-http.Cargo.toml"),
                include_str!("rust/tower-http.Cargo.lock"),
            ),
            RustLibrary::ActixCors => (
                include_str!("rust/actix-cors.Cargo.toml"),
                include_str!("rust/actix-cors.Cargo.lock"),
            ),
        }
    }
}

/// The application: `run.sh PORT`, `Cargo.toml`, `Cargo.lock`, `main.rs`.
///
/// ```
/// use corsproof_emit::apps::{rust, AppOptions, RustLibrary};
/// use corsproof_policy::Policy;
/// let policy = Policy::from_toml_str(
///     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.example.com\"]\nexpose_headers = [\"ETag\"]\n",
///     "p.toml",
/// )?;
/// let app = rust(&policy, RustLibrary::TowerHttp, &AppOptions::default())?;
/// assert_eq!(app.files[3].name, "main.rs");
/// assert!(app.files[3]
///     .text
///     .contains(r#".allow_origin(AllowOrigin::list([HeaderValue::from_static("https://app.example.com")]))"#));
/// // The layer sends Access-Control-Expose-Headers whatever the origin.
/// assert!(app.unsupported.iter().any(|u| u.field == "expose_headers"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn rust(policy: &Policy, library: RustLibrary, options: &AppOptions) -> Result<App, EmitError> {
    let mut unsupported = Vec::new();
    let mut routes = String::new();
    let mut helpers = String::new();
    for (i, route) in longest_first(policy).into_iter().enumerate() {
        let cors = if route.origins.is_empty() {
            None
        } else {
            announce(route, library, &mut unsupported);
            helpers.push_str(&origin_fn(i, route)?);
            Some(match library {
                RustLibrary::TowerHttp => tower_layer(i, route)?,
                RustLibrary::ActixCors => actix_cors(i, route)?,
            })
        };
        routes.push_str(&match (library, cors) {
            (RustLibrary::TowerHttp, Some(layer)) => {
                format!("        demo_router().layer({layer}),\n")
            }
            (RustLibrary::TowerHttp, None) => "        demo_router(),\n".to_string(),
            (RustLibrary::ActixCors, Some(cors)) => format!(
                "        .service(web::scope(\"\").guard(route_guard({i})).wrap({cors}).default_service(web::to(demo)))\n"
            ),
            (RustLibrary::ActixCors, None) => format!(
                "        .service(web::scope(\"\").guard(route_guard({i})).default_service(web::to(demo)))\n"
            ),
        });
    }
    let paths: Result<Vec<String>, EmitError> = longest_first(policy)
        .iter()
        .map(|r| lit(r, "path", &r.path))
        .collect();
    let name = match library {
        RustLibrary::TowerHttp => "tower-http 0.7 (axum 0.8)",
        RustLibrary::ActixCors => "actix-cors 0.7 (actix-web 4)",
    };
    let body = match library {
        RustLibrary::TowerHttp => TOWER_MAIN.replace("ROUTES\n", &routes),
        RustLibrary::ActixCors => ACTIX_MAIN.replace("ROUTES\n", &routes),
    };
    let text = format!(
        "// corsproof emit: {name}, one CORS middleware per policy route.\n{}{body}\n/// The policy's paths, longest first.\nconst PATHS: &[&str] = &[{}];\n{helpers}{COMMON}",
        comments("//", name, &unsupported),
        paths?.join(", ")
    );
    let (manifest, lock) = library.manifest();
    App {
        files: vec![
            AppFile {
                name: "run.sh",
                text: RUN.replace("LIBRARY", library.dir_name()),
            },
            AppFile {
                name: "Cargo.toml",
                text: manifest.to_string(),
            },
            AppFile {
                name: "Cargo.lock",
                text: lock.to_string(),
            },
            AppFile {
                name: "main.rs",
                text,
            },
        ],
        unsupported,
    }
    .finish(options)
}

const RUN: &str = "#!/bin/sh
# Builds main.rs with cargo (crates pinned by Cargo.lock, compiled once into a target
# directory shared by every application of this library) and runs it on 127.0.0.1:$1.
set -e
T=\"${CORSPROOF_RUST_TARGET_DIR:-${TMPDIR:-/tmp}/corsproof-rust-apps/LIBRARY}\"
mkdir -p \"$T\"
# One build at a time in the shared directory; the binary is copied out under the lock.
# Every application's crate has the same name and fingerprint: cargo rebuilds it when
# main.rs is newer than the last build, so main.rs is touched under the lock.
# A debug build: the program compiles in seconds, where a release build takes several times
# longer, and CORS answers do not depend on optimisation.
export CARGO_INCREMENTAL=0
flock \"$T/.corsproof-build.lock\" sh -c 'touch main.rs && cargo build --locked --quiet --target-dir \"$1\" && cp \"$1/debug/corsproof-app\" ./app' sh \"$T\"
exec ./app \"$1\"
";

const TOWER_MAIN: &str = "#![allow(unused_imports)]

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::Response;
use axum::Router;
use tower::ServiceExt;
use tower_http::cors::{AllowCredentials, AllowHeaders, AllowOrigin, AllowPrivateNetwork, CorsLayer, ExposeHeaders};

async fn demo() -> ([(HeaderName, &'static str); 1], &'static str) {
    ([(header::CONTENT_TYPE, \"text/plain\")], \"corsproof demo\")
}

fn demo_router() -> Router {
    Router::new().fallback(demo)
}

/// One router per policy path, in PATHS' order.
fn routes() -> Vec<(&'static str, Router)> {
    let routers = vec![
ROUTES
    ];
    PATHS.iter().copied().zip(routers).collect()
}

async fn dispatch(routes: Arc<Vec<(&'static str, Router)>>, req: Request) -> Response {
    let path = unreserved(req.uri().path());
    let router = routes
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map_or_else(demo_router, |(_, router)| router.clone());
    match router.oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect(\"a tokio runtime\");
    runtime.block_on(async move {
        let routes = Arc::new(routes());
        let app = Router::new().fallback(move |req: Request| dispatch(routes.clone(), req));
        let listener = tokio::net::TcpListener::bind((\"127.0.0.1\", port))
            .await
            .expect(\"the port is free\");
        println!(\"listening on http://127.0.0.1:{port}/\");
        axum::serve(listener, app).await.expect(\"serves\");
    });
}
";

const ACTIX_MAIN: &str = "#![allow(unused_imports)]

use actix_cors::Cors;
use actix_web::dev::RequestHead;
use actix_web::http::header::HeaderValue;
use actix_web::{guard, web, App, HttpResponse, HttpServer};

async fn demo() -> HttpResponse {
    HttpResponse::Ok().content_type(\"text/plain\").body(\"corsproof demo\")
}

/// The guard of the policy path PATHS[i]: the longest prefix of the request's path.
fn route_guard(i: usize) -> impl guard::Guard {
    guard::fn_guard(move |ctx| {
        let path = unreserved(ctx.head().uri.path());
        PATHS.iter().position(|p| path.starts_with(p)) == Some(i)
    })
}

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(|| {
            App::new()
ROUTES
                .default_service(web::to(demo))
        })
        .workers(1)
        .bind((\"127.0.0.1\", port))?;
        println!(\"listening on http://127.0.0.1:{port}/\");
        server.run().await
    })
}
";

const COMMON: &str = "
/// The path with its percent-encoded unreserved characters decoded.
fn unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|c| c.is_ascii_alphanumeric() || b\"-._~\".contains(c));
        match decoded {
            Some(c) => {
                out.push(char::from(c));
                i += 3;
            }
            None => {
                out.push(char::from(bytes[i]));
                i += 1;
            }
        }
    }
    out
}

/// Whether `origin` is `scheme` `://`, one or more DNS labels, then `.` `rest` (the
/// domain and its port, if any).
#[allow(dead_code)]
fn subdomain(origin: &[u8], scheme: &str, rest: &str) -> bool {
    let Some(hosts) = origin
        .strip_prefix(scheme.as_bytes())
        .and_then(|o| o.strip_prefix(b\"://\"))
        .and_then(|o| o.strip_suffix(rest.as_bytes()))
        .and_then(|o| o.strip_suffix(b\".\"))
    else {
        return false;
    };
    hosts.split(|&b| b == b'.').all(|label| {
        (1..=63).contains(&label.len())
            && label.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-')
    })
}
";

/// `fn origin_I(origin: &[u8]) -> bool`: the route's origins, exact or by pattern.
fn origin_fn(i: usize, route: &Route) -> Result<String, EmitError> {
    let mut tests = Vec::new();
    if let Origins::List(entries) = &route.origins {
        for entry in entries {
            tests.push(match entry {
                OriginEntry::Subdomain {
                    scheme,
                    domain,
                    port,
                } => {
                    let rest = match port {
                        Some(p) => format!("{domain}:{p}"),
                        None => domain.to_string(),
                    };
                    format!(
                        "subdomain(origin, {}, {})",
                        lit(route, "origins", scheme.as_str())?,
                        lit(route, "origins", &rest)?
                    )
                }
                _ => format!(
                    "origin == {}.as_bytes()",
                    lit(route, "origins", &entry.to_string())?
                ),
            });
        }
    }
    if tests.is_empty() {
        tests.push("!origin.is_empty()".to_string());
    }
    Ok(format!(
        "\n#[allow(dead_code)]\nfn origin_{i}(origin: &[u8]) -> bool {{\n    {}\n}}\n",
        tests.join("\n        || ")
    ))
}

fn has_patterns(route: &Route) -> bool {
    matches!(&route.origins, Origins::List(e) if e.iter().any(|e| matches!(e, OriginEntry::Subdomain { .. })))
}

fn exact_origins(route: &Route) -> Vec<String> {
    match &route.origins {
        Origins::Any => Vec::new(),
        Origins::List(entries) => entries
            .iter()
            .filter(|e| !matches!(e, OriginEntry::Subdomain { .. }))
            .map(ToString::to_string)
            .collect(),
    }
}

fn rust_list(
    route: &Route,
    field: &'static str,
    items: &[String],
    wrap: &str,
) -> Result<String, EmitError> {
    let items: Result<Vec<String>, EmitError> = items
        .iter()
        .map(|s| lit(route, field, s).map(|l| wrap.replace("X", &l)))
        .collect();
    Ok(format!("[{}]", items?.join(", ")))
}

/// `CorsLayer::new()...` for route `i`.
fn tower_layer(i: usize, route: &Route) -> Result<String, EmitError> {
    let mut calls = vec!["CorsLayer::new()".to_string()];
    let listed = matches!(route.origins, Origins::List(_));
    calls.push(match &route.origins {
        Origins::Any => ".allow_origin(AllowOrigin::any())".to_string(),
        Origins::List(_) if has_patterns(route) => {
            format!(".allow_origin(AllowOrigin::predicate(|o: &HeaderValue, _| origin_{i}(o.as_bytes())))")
        }
        Origins::List(_) => format!(
            ".allow_origin(AllowOrigin::list({}))",
            rust_list(route, "origins", &exact_origins(route), "HeaderValue::from_static(X)")?
        ),
    });
    let methods: Result<Vec<String>, EmitError> = all_methods(route)
        .iter()
        .map(|m| match m.as_str() {
            "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" => {
                Ok(format!("Method::{m}"))
            }
            _ => lit(route, "methods", m)
                .map(|l| format!("Method::from_bytes({l}.as_bytes()).expect(\"a method\")")),
        })
        .collect();
    calls.push(format!(".allow_methods([{}])", methods?.join(", ")));
    match &route.request_headers {
        HeaderNames::Any => calls.push(".allow_headers(AllowHeaders::any())".to_string()),
        HeaderNames::List(names) if names.is_empty() => {}
        HeaderNames::List(names) => calls.push(format!(
            ".allow_headers({})",
            rust_list(
                route,
                "request_headers",
                &lower(names),
                "HeaderName::from_static(X)"
            )?
        )),
    }
    match &route.expose_headers {
        HeaderNames::Any => calls.push(".expose_headers(ExposeHeaders::any())".to_string()),
        HeaderNames::List(names) if names.is_empty() => {}
        HeaderNames::List(names) => calls.push(format!(
            ".expose_headers({})",
            rust_list(
                route,
                "expose_headers",
                &lower(names),
                "HeaderName::from_static(X)"
            )?
        )),
    }
    // A predicate, not `allow_credentials(true)`: refused origins are not told, and the
    // layer accepts `*` in Access-Control-Expose-Headers beside it (browsers read it
    // literally on credentialed requests, as the policy means).
    if route.credentials {
        calls.push(format!(
            ".allow_credentials(AllowCredentials::predicate(|o: &HeaderValue, _| origin_{i}(o.as_bytes())))"
        ));
    }
    if route.private_network {
        calls.push(if listed {
            format!(".allow_private_network(AllowPrivateNetwork::predicate(|o: &HeaderValue, _| origin_{i}(o.as_bytes())))")
        } else {
            ".allow_private_network(true)".to_string()
        });
    }
    if let Some(max_age) = route.max_age {
        calls.push(format!(".max_age(Duration::from_secs({max_age}))"));
    }
    Ok(calls.join("\n            "))
}

fn lower(names: &[String]) -> Vec<String> {
    names.iter().map(|n| n.to_ascii_lowercase()).collect()
}

/// `Cors::default()...` for route `i`.
fn actix_cors(i: usize, route: &Route) -> Result<String, EmitError> {
    let mut calls = vec!["Cors::default()".to_string()];
    match &route.origins {
        Origins::Any => calls.push(".allow_any_origin()".to_string()),
        Origins::List(_) => {
            for origin in exact_origins(route) {
                calls.push(format!(
                    ".allowed_origin({})",
                    lit(route, "origins", &origin)?
                ));
            }
            if has_patterns(route) {
                calls.push(format!(
                    ".allowed_origin_fn(|o: &HeaderValue, _: &RequestHead| origin_{i}(o.as_bytes()))"
                ));
            }
        }
    }
    if matches!(route.origins, Origins::Any) && !route.credentials {
        calls.push(".send_wildcard()".to_string());
    }
    calls.push(format!(
        ".allowed_methods({})",
        rust_list(route, "methods", &all_methods(route), "X")?
    ));
    match &route.request_headers {
        HeaderNames::Any => calls.push(".allow_any_header()".to_string()),
        HeaderNames::List(names) if names.is_empty() => {}
        HeaderNames::List(names) => calls.push(format!(
            ".allowed_headers({})",
            rust_list(route, "request_headers", names, "X")?
        )),
    }
    match &route.expose_headers {
        HeaderNames::Any => calls.push(".expose_any_header()".to_string()),
        HeaderNames::List(names) if names.is_empty() => {}
        HeaderNames::List(names) => calls.push(format!(
            ".expose_headers({})",
            rust_list(route, "expose_headers", names, "X")?
        )),
    }
    if route.credentials {
        calls.push(".supports_credentials()".to_string());
    }
    if route.private_network {
        calls.push(".allow_private_network_access()".to_string());
    }
    if let Some(max_age) = route.max_age {
        calls.push(format!(".max_age({max_age})"));
    }
    Ok(calls.join("\n                    "))
}

/// What the library cannot express of a CORS route.
fn announce(route: &Route, library: RustLibrary, out: &mut Vec<Unsupported>) {
    let listed = matches!(route.origins, Origins::List(_));
    match library {
        RustLibrary::TowerHttp => {
            if listed {
                out.push(item(route, "origins", Effect::Disclosure,
                    "tower-http answers every OPTIONS request of the route with Access-Control-Allow-Methods, -Allow-Headers and -Max-Age, refused origins included (those have no origin-dependent form)"));
            }
            if listed && !route.expose_headers.is_empty() {
                out.push(item(route, "expose_headers", Effect::Disclosure,
                    "tower-http sends Access-Control-Expose-Headers to every response of the route, refused origins included"));
            }
            if matches!(route.request_headers, HeaderNames::Any) {
                out.push(item(route, "request_headers", Effect::Broader,
                    "tower-http writes `*` as Access-Control-Allow-Headers: * (AllowHeaders::any()), which Chromium and Firefox let cover Authorization, and has no form for every header but Authorization (mirror_request echoes it)"));
            }
        }
        RustLibrary::ActixCors => {
            if matches!(route.request_headers, HeaderNames::Any) {
                out.push(item(route, "request_headers", Effect::Broader,
                    "actix-cors' allow_any_header echoes every requested header, Authorization included, which `*` never covers"));
            }
            if matches!(route.expose_headers, HeaderNames::Any) {
                out.push(item(route, "expose_headers", Effect::Narrower,
                    "actix-cors' expose_any_header lists the names of the headers the response has when the middleware runs, before it adds its own (Access-Control-Allow-Credentials, Vary) and before the server adds Date: those stay hidden"));
                if route.credentials {
                    out.push(item(route, "expose_headers", Effect::Broader,
                        "actix-cors' expose_any_header lists the response's header names, which credentialed reads then see too, where `*` exposes nothing to them"));
                }
            }
            // Preflights are validated (origin, method, headers) before any header is sent.
            let mut actual = Vec::new();
            unconditional_headers(route, "actix-cors", false, &mut actual);
            out.extend(actual);
        }
    }
}
