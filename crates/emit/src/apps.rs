//! Emitters of small applications: a policy as the source of a program that serves a demo
//! response behind a third-party CORS library, configured the way that library's own
//! documentation recommends.
//!
//! Each emitter returns an [`App`]: its files (the first is the program to run; it takes
//! the port to listen on as its only argument and listens on `127.0.0.1`), and the
//! [`Unsupported`] items: what the library cannot express, each with its [`Effect`] on
//! browsers, also written at the top of the program as comments.
//!
//! | emitter | library | routes |
//! |---|---|---|
//! | [`express()`] | Express 4 with `cors` 2.8 (Node.js) | one `cors(options)` per policy route, chosen by the longest path prefix |
//! | [`flask()`] | Flask 2 with flask-cors 3.0 | flask-cors' own `resources` (one anchored path regex per route) |
//! | [`starlette()`] | Starlette 0.26 `CORSMiddleware` under uvicorn | one middleware per policy route, chosen by the longest raw path prefix |
//! | [`django()`] | Django 3.2 with django-cors-headers 3.14 | one global configuration and `CORS_URLS_REGEX` |
//! | [`rack()`] | Rack 2.2 with rack-cors 1.1 (WEBrick) | an `allow` block per route, its resource an anchored path regex excluding longer routes |
//! | [`apache()`] | Apache httpd 2.4, mod_headers and mod_setenvif (no CORS module) | `SetEnvIfExpr` names the route, `Header always set ... "expr=..."` per route |
//! | [`go()`] | Go net/http with rs/cors 1.7 or gorilla/handlers 1.5 | one wrapped handler per policy route, chosen by the longest path prefix |
//! | [`caddy()`] | Caddy 2 Caddyfile, named matchers and `header` directives (no CORS directive) | a `handle` block per route, matched on the raw request target, longest first |
//! | [`rust()`] | axum with tower-http's `CorsLayer`, or actix-web with actix-cors | one `CorsLayer`-wrapped router / `Cors`-wrapped scope per route, chosen by the longest path prefix |
//! | [`java()`] | Tomcat 10 `CorsFilter` (`web.xml`) or Jetty 9 `CrossOriginFilter`, embedded | one filter per policy route on a servlet of its own, forwarded to by the longest path prefix |
//!
//! Where a library routes by path itself (flask-cors' `resources`, django-cors-headers'
//! `CORS_URLS_REGEX`), the emitter writes the policy's longest-prefix rule in the
//! library's own terms; where it does not (Express's `app.use(path, ...)` matches whole
//! segments, Starlette's middleware applies to the whole application), the program picks
//! the policy route by the longest prefix of the request's path, as the policy does, and
//! hands the request to that route's middleware. The CORS answers are always the library's.
//!
//! ```
//! use corsproof_emit::apps::{express, AppOptions};
//! use corsproof_policy::Policy;
//! let policy = Policy::from_toml_str(
//!     "version = 1\n[[route]]\nname = \"api\"\npath = \"/api/\"\norigins = [\"https://app.example.com\"]\ncredentials = true\n",
//!     "p.toml",
//! )?;
//! let app = express(&policy, &AppOptions { allow_broader: false })?;
//! assert_eq!(app.files[0].name, "app.js");
//! assert!(app.files[0].text.contains(r#"origin: ["https://app.example.com"]"#));
//! // cors sends Access-Control-Allow-Credentials to refused origins too.
//! assert!(app.unsupported.iter().any(|u| u.field == "credentials"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod apache;
mod caddy;
mod django;
mod express;
mod flask;
mod go;
mod java;
mod rack;
mod rust;
mod starlette;

pub use apache::apache;
pub use caddy::caddy;
pub use django::django;
pub use express::express;
pub use flask::flask;
pub use go::{go, GoLibrary, GORILLA_MAX_AGE};
pub use java::{java, JavaLibrary};
pub use rack::{rack, RACK_ALWAYS_ALLOWED};
pub use rust::{rust, RustLibrary};
pub use starlette::{starlette, ALWAYS_ALLOWED};

use corsproof_policy::{OriginEntry, Origins, Policy, Route};

use super::{Effect, EmitError, Unsupported};

/// How to emit an application.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppOptions {
    /// Emit even when the library would grant more than the policy allows (the
    /// [`Effect::Broader`] items); else such a policy is refused with
    /// [`EmitError::Broader`].
    pub allow_broader: bool,
}

/// One file of an emitted application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFile {
    /// The file name, relative to the application's directory.
    pub name: &'static str,
    /// Its contents.
    pub text: String,
}

/// An emitted application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The files; the first is the program to start with the port as its argument.
    pub files: Vec<AppFile>,
    /// What the library cannot express, in route order.
    pub unsupported: Vec<Unsupported>,
}

impl App {
    /// Every file, each after a `=== NAME ===` line: what `corsproof emit` prints.
    ///
    /// ```
    /// use corsproof_emit::apps::{App, AppFile};
    /// let app = App { files: vec![AppFile { name: "app.py", text: "print(1)\n".into() }], unsupported: vec![] };
    /// assert_eq!(app.listing(), "print(1)\n");
    /// ```
    pub fn listing(&self) -> String {
        if let [only] = self.files.as_slice() {
            return only.text.clone();
        }
        self.files
            .iter()
            .map(|f| format!("=== {} ===\n{}", f.name, f.text))
            .collect()
    }

    /// The application, or [`EmitError::Broader`] when an item would grant more than the
    /// policy allows and the caller did not opt in.
    fn finish(self, options: &AppOptions) -> Result<App, EmitError> {
        let broader: Vec<Unsupported> = self
            .unsupported
            .iter()
            .filter(|u| u.effect == Effect::Broader)
            .cloned()
            .collect();
        if broader.is_empty() || options.allow_broader {
            Ok(self)
        } else {
            Err(EmitError::Broader(broader))
        }
    }
}

/// The policy's routes, longest path first (ties in file order): the first whose path is a
/// prefix of a request's path is the route the policy applies to it.
fn longest_first(policy: &Policy) -> Vec<&Route> {
    let mut routes: Vec<&Route> = policy.routes.iter().collect();
    routes.sort_by_key(|r| std::cmp::Reverse(r.path.len()));
    routes
}

/// A string literal valid in both JavaScript and Python (double quotes, `\"` and `\\`
/// escapes), for printable ASCII text; anything else is refused: policies are ASCII.
fn lit(route: &Route, field: &'static str, text: &str) -> Result<String, EmitError> {
    if let Some(c) = text.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(EmitError::Unsupported {
            route: route.label().to_string(),
            field,
            why: format!("{c:?} is not printable ASCII, which the emitted program is limited to"),
        });
    }
    Ok(format!(
        "\"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// A bracketed list of string literals.
fn lit_list(route: &Route, field: &'static str, items: &[String]) -> Result<String, EmitError> {
    let items: Result<Vec<String>, EmitError> =
        items.iter().map(|s| lit(route, field, s)).collect();
    Ok(format!("[{}]", items?.join(", ")))
}

/// The route's methods with the CORS-safelisted `GET`, `HEAD`, `POST` first.
fn all_methods(route: &Route) -> Vec<String> {
    let mut methods: Vec<String> = ["GET", "HEAD", "POST"].map(String::from).to_vec();
    for m in &route.methods {
        if !methods.contains(m) {
            methods.push(m.clone());
        }
    }
    methods
}

/// The route's exact origins (`null` included) as they are spelled in the policy, and the
/// anchored regular expressions of its subdomain patterns (syntax common to JavaScript and
/// Python's `re`).
fn split_origins(route: &Route) -> (Vec<String>, Vec<String>) {
    let mut exact = Vec::new();
    let mut patterns = Vec::new();
    if let Origins::List(entries) = &route.origins {
        for entry in entries {
            match entry {
                OriginEntry::Subdomain { .. } => patterns.push(super::kong::origin_regex(entry)),
                _ => exact.push(entry.to_string()),
            }
        }
    }
    (exact, patterns)
}

/// The route's origins as a list of the application's literals: each exact origin a string
/// literal, each subdomain pattern's anchored regular expression a string literal wrapped in
/// `regex` (`new RegExp`, `re.compile`): `regex(LITERAL)`.
fn origin_items(route: &Route, regex: &str) -> Result<Vec<String>, EmitError> {
    let (exact, patterns) = split_origins(route);
    let mut items: Vec<String> = exact
        .iter()
        .map(|o| lit(route, "origins", o))
        .collect::<Result<_, _>>()?;
    for p in &patterns {
        items.push(format!("{regex}({})", lit(route, "origins", p)?));
    }
    Ok(items)
}

/// One comment line per unsupported item, with `prefix` (`//`, `#`) in front.
fn comments(prefix: &str, library: &str, unsupported: &[Unsupported]) -> String {
    let mut out = String::new();
    for u in unsupported {
        let line: String = u
            .to_string()
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        out.push_str(&format!("{prefix} {library} cannot express: {line}\n"));
    }
    out
}

/// An item for `route`.
fn item(route: &Route, field: &'static str, effect: Effect, why: &str) -> Unsupported {
    Unsupported {
        route: route.label().to_string(),
        field,
        why: why.to_string(),
        effect,
    }
}

/// The disclosures common to libraries that write every configured header whatever the
/// origin: `Access-Control-Allow-Credentials` and `-Expose-Headers` on every response of a
/// CORS route, and (`preflight` true) the preflight headers to refused origins.
fn unconditional_headers(
    route: &Route,
    library: &str,
    preflight: bool,
    out: &mut Vec<Unsupported>,
) {
    let listed = matches!(route.origins, Origins::List(_));
    if listed && preflight {
        out.push(item(route, "origins", Effect::Disclosure, &format!(
            "{library} answers every preflight of the route with Access-Control-Allow-Methods, -Allow-Headers and -Max-Age, refused origins included"
        )));
    }
    if route.credentials {
        out.push(item(route, "credentials", Effect::Disclosure, &format!(
            "{library} sends Access-Control-Allow-Credentials: true to every request of the route, refused origins included"
        )));
    }
    if listed && !route.expose_headers.is_empty() {
        out.push(item(route, "expose_headers", Effect::Disclosure, &format!(
            "{library} sends Access-Control-Expose-Headers to every response of the route, refused origins included"
        )));
    }
}

/// The `private_network` item of a library without Private Network Access support.
fn no_pna(route: &Route, library: &str, out: &mut Vec<Unsupported>) {
    if route.private_network {
        out.push(item(route, "private_network", Effect::Narrower, &format!(
            "{library} has no Private Network Access option: Access-Control-Allow-Private-Network is never sent"
        )));
    }
}
