//! The Kong emitter: a policy as a Kong DB-less declarative configuration using Kong's
//! bundled `cors` plugin.
//!
//! [`kong()`] returns a [`KongConfig`]: the YAML file to load with `KONG_DATABASE=off` and
//! `KONG_DECLARATIVE_CONFIG=FILE`, and the [`Unsupported`] items: what the plugin cannot
//! express, each with its [`Effect`] on browsers. The same items are written at the top of
//! the file as comments.
//!
//! # Target version
//!
//! Kong Gateway **3.9** (the `kong:3.9` image), read from Kong's own source:
//! `kong/plugins/cors/schema.lua` (config fields `origins`, `headers`, `exposed_headers`,
//! `methods` — each element one of `GET HEAD PUT PATCH POST DELETE OPTIONS TRACE CONNECT`,
//! all nine by default —, `max_age`, `credentials`, `private_network` (3.5 and later),
//! `preflight_continue`) and `kong/plugins/cors/handler.lua`. `allow_origin_absent`
//! (3.10 and later) is not written, so the file loads on 3.5 to 3.9 and on later versions.
//!
//! # The file
//!
//! ```yaml
//! _format_version: "3.0"
//! _transform: true
//! services:
//!   - name: "corsproof-upstream"
//!     url: "http://corsproof-serve:8080"   # KongOptions::upstream
//!     routes:
//!       - name: "corsproof-1-api"           # one route per policy route
//!         paths: ["/api/"]
//!         strip_path: false                 # the upstream sees the request's own path
//!         plugins:
//!           - name: "cors"
//!             config: { origins: [...], methods: [...], headers: [...], ... }
//! ```
//!
//! - **Paths and precedence.** One Kong route per policy route, with the route's `path`
//!   as its only plain (prefix) path and no other matching field (no `hosts`, `methods`,
//!   `headers`): under Kong's default `traditional_compatible` router such routes have the
//!   same priority points, and among plain paths the longest prefix wins, which is the
//!   policy's longest-prefix rule. A route without cross-origin access (`origins = []`)
//!   still gets a Kong route, without the plugin, so that a shorter CORS route never takes
//!   its requests; a catch-all `/` route without the plugin (`corsproof-uncovered`) serves
//!   the paths no route covers, unless the policy has a `/` route. `strip_path: false` and
//!   `preserve_host: true` keep the upstream request as the client sent it.
//! - **The upstream** (`KongOptions::upstream`, default [`KongOptions::DEFAULT_UPSTREAM`],
//!   the `corsproof serve` container of `docker/kong/`): an `http`/`https` URL. It must not
//!   set CORS headers itself (Kong replaces `Access-Control-Allow-Origin` but keeps the
//!   rest): `corsproof serve` with a policy without routes (`docker/kong/upstream.toml`)
//!   is such an upstream.
//!
//! # The plugin's configuration
//!
//! What Kong's handler does, and how the translation copes:
//!
//! - `origins`: empty or `["*"]` answers `Access-Control-Allow-Origin: *` (with
//!   `credentials` it reflects *any* origin, which a valid policy never asks for). An entry
//!   made only of `A-Z a-z 0-9 . : / -` is a literal origin compared after dropping a
//!   default port; any other entry is a PCRE anchored at the start, given a trailing `$`,
//!   matched against the whole (normalised) origin when the entry contains `:` and against
//!   the host alone otherwise; a single literal entry is sent to every origin as is.
//!   So: `origins = ["*"]` is `["*"]`; an exact origin is written literally when the route
//!   has more than one entry and the origin is made of the literal characters, else as an
//!   anchored, escaped regex containing the scheme (`^https://app\.example\.com$`); a
//!   subdomain pattern `https://*.example.com` becomes
//!   `^https://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+example\.com$` (one or more DNS
//!   labels of 1 to 63 `a-z 0-9 -`, no `-` first or last, as in `corsproof-tower` and the
//!   nginx emitter (SPEC P4); never the apex, same scheme and port: [`origin_regex`]);
//!   Kong matches with PCRE2, whose `$` also matches before a final newline, which no
//!   `Origin` header value can contain; `null` is written
//!   literally (as a regex without `:` it would be matched against hosts, admitting
//!   `http://null`).
//! - `methods` is always written: `GET`, `HEAD`, `POST` and the route's `methods` (left
//!   unset, Kong allows all nine, `TRACE` and `CONNECT` included).
//! - `headers` is always written: the route's `request_headers`, `["*"]` for `*`, and for
//!   an empty list the single name `sec-corsproof-none` (left empty, Kong echoes whatever
//!   `Access-Control-Request-Headers` asks for; a `Sec-` name is a forbidden request
//!   header (R7) that no script can set, so it allows nothing).
//! - `exposed_headers` (omitted when empty), `credentials`, `max_age` (omitted when
//!   absent), `private_network`, and `preflight_continue: false` (Kong answers preflights
//!   itself, `200`).
//!
//! # What Kong cannot express ([`Unsupported`] items)
//!
//! Checked against a model of Kong's handler by `crates/engine/tests/kong_model.rs` (the
//! `check` engine finds exactly the announced `disclosure` items on every bundled policy,
//! as `disclosed-to-refused` hygiene findings) and, when an image is present, against the
//! real Kong (`tests/kong.rs`).
//!
//! | field | effect | why |
//! |---|---|---|
//! | `origins` | disclosure | on a route listing origins Kong answers *every* preflight with `Access-Control-Allow-Methods`, `-Allow-Headers`, `-Max-Age`, only withholding `-Allow-Origin` from refused origins |
//! | `credentials` | disclosure | `Access-Control-Allow-Credentials: true` goes to every request of the route, refused origins and requests without `Origin` included |
//! | `expose_headers` | disclosure | `Access-Control-Expose-Headers` goes to every non-preflight response of the route |
//! | `private_network` | disclosure | `Access-Control-Allow-Private-Network: true` answers every PNA preflight, refused origins included, and no `Vary` names `Access-Control-Request-Private-Network` |
//! | `origins` (`["null"]` alone) | disclosure | a single literal entry is sent as `Access-Control-Allow-Origin: null` to every origin |
//! | `methods` | narrower | a method outside Kong's nine (`PROPFIND`, lowercase `patch`, ...) is rejected by Kong's schema: it is left out |
//! | `origins` (IPv6) | narrower | Kong normalises origins with LuaSocket's `url.parse`, which drops an IPv6 host's brackets: the answer does not name the browser's origin |
//! | `max_age` | narrower | above 99 999 999 999 999 Kong writes the number in exponent form, which browsers ignore |
//! | `credentials` with `origins = ["*"]` | **broader** | Kong reflects any origin with credentials (a policy validation error; only reachable with a hand-built [`Policy`]) |
//!
//! Broader items are fatal: [`kong()`] returns [`EmitError::Broader`] unless
//! [`KongOptions::allow_broader`] is set (`corsproof emit kong --allow-broader`). Paths Kong
//! cannot match exactly (characters other than `A-Z a-z 0-9 . _ ~ / -`, empty, `.` or `..`
//! segments: Kong matches the normalised, percent-decoded path) are refused with
//! [`EmitError::Unsupported`]. Like nginx, Kong routes on the normalised path while the
//! policy and the oracle use the raw path bytes: requests whose normalisation changes the
//! route (`/%61dmin/`) differ.
//!
//! ```
//! use corsproof_emit::{kong, Effect, KongOptions};
//! use corsproof_policy::Policy;
//! let policy = Policy::from_toml_str(
//!     "version = 1\n[[route]]\nname = \"api\"\npath = \"/api/\"\norigins = [\"https://*.example.com\"]\nmethods = [\"PUT\"]\ncredentials = true\n",
//!     "p.toml",
//! )?;
//! let conf = kong(&policy, &KongOptions::default())?;
//! assert!(conf.yaml.contains(r#""^https://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+example\\.com$""#));
//! assert!(conf.yaml.contains(r#"methods: ["GET", "HEAD", "POST", "PUT"]"#));
//! assert!(conf.unsupported.iter().any(|u| u.field == "credentials" && u.effect == Effect::Disclosure));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;

use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};

use super::{Effect, EmitError, Unsupported};

/// The Kong version whose plugin and schema this emitter follows (the `kong:3.9` image).
pub const KONG_VERSION: &str = "3.9";

/// The methods Kong 3.9's cors schema accepts in `config.methods` (`one_of`, case-sensitive).
pub const KONG_METHODS: [&str; 9] = [
    "GET", "HEAD", "PUT", "PATCH", "POST", "DELETE", "OPTIONS", "TRACE", "CONNECT",
];

/// The `headers` entry written for a route that allows no request header: a forbidden
/// (`Sec-`) name no script can set, so that Kong does not echo the request's list.
pub const NO_HEADERS: &str = "sec-corsproof-none";

/// The largest `max_age` Kong writes as digits (LuaJIT's `tostring` uses `%.14g`).
pub const MAX_AGE_LIMIT: u64 = 99_999_999_999_999;

/// How to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KongOptions {
    /// The upstream service's URL (`http://HOST[:PORT][/PATH]` or `https://...`).
    pub upstream: String,
    /// Emit even when the translation would grant more than the policy allows.
    pub allow_broader: bool,
}

impl KongOptions {
    /// The default upstream: the `corsproof serve` container (`corsproof-serve`, port 8080)
    /// on the Docker network of `docker/kong/`.
    pub const DEFAULT_UPSTREAM: &'static str = "http://corsproof-serve:8080";
}

impl Default for KongOptions {
    /// [`KongOptions::DEFAULT_UPSTREAM`], broader translations refused.
    ///
    /// ```
    /// let o = corsproof_emit::KongOptions::default();
    /// assert_eq!(o.upstream, "http://corsproof-serve:8080");
    /// assert!(!o.allow_broader);
    /// ```
    fn default() -> Self {
        KongOptions {
            upstream: KongOptions::DEFAULT_UPSTREAM.to_string(),
            allow_broader: false,
        }
    }
}

/// An emitted Kong configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KongConfig {
    /// The declarative configuration (YAML), comments included.
    pub yaml: String,
    /// What Kong's plugin cannot express, in route order.
    pub unsupported: Vec<Unsupported>,
}

/// Emits the Kong declarative configuration implementing `policy` as closely as Kong's
/// `cors` plugin can (module documentation).
///
/// ```
/// use corsproof_emit::{kong, EmitError, KongOptions};
/// use corsproof_policy::Policy;
/// let policy = Policy::from_toml_str(
///     "version = 1\n[[route]]\npath = \"/a%20b/\"\norigins = [\"*\"]\n",
///     "p.toml",
/// )?;
/// let err = kong(&policy, &KongOptions::default()).unwrap_err();
/// assert!(matches!(err, EmitError::Unsupported { field: "path", .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn kong(policy: &Policy, options: &KongOptions) -> Result<KongConfig, EmitError> {
    let upstream = check_upstream(&options.upstream)?;
    let mut unsupported = Vec::new();
    let mut routes = String::new();
    let mut has_root = false;
    for (i, route) in policy.routes.iter().enumerate() {
        check_path(route)?;
        has_root |= route.path == "/";
        let _ = writeln!(
            routes,
            "      # policy route {i}: {} ({})",
            comment(route.label()),
            comment(&route.path)
        );
        let _ = writeln!(routes, "      - name: {}", quote(&route_name(i, route)));
        let _ = writeln!(routes, "        paths: [{}]", quote(&route.path));
        routes.push_str("        strip_path: false\n        preserve_host: true\n");
        if route.origins.is_empty() {
            routes.push_str("        # same-origin only: no cors plugin, no CORS headers\n");
            continue;
        }
        let config = plugin_config(route, &mut unsupported);
        routes.push_str("        plugins:\n          - name: \"cors\"\n            config:\n");
        for line in config {
            let _ = writeln!(routes, "              {line}");
        }
    }
    if !has_root {
        routes.push_str("      # paths no policy route covers: same-origin only, no cors plugin\n");
        routes.push_str("      - name: \"corsproof-uncovered\"\n        paths: [\"/\"]\n        strip_path: false\n        preserve_host: true\n");
    }

    let broader: Vec<Unsupported> = unsupported
        .iter()
        .filter(|u| u.effect == Effect::Broader)
        .cloned()
        .collect();
    if !broader.is_empty() && !options.allow_broader {
        return Err(EmitError::Broader(broader));
    }

    let mut yaml = String::new();
    let _ = writeln!(
        yaml,
        "# corsproof emit kong: a Kong {KONG_VERSION} DB-less declarative configuration (cors plugin)."
    );
    yaml.push_str("# Load it with KONG_DATABASE=off KONG_DECLARATIVE_CONFIG=/path/to/this/file (docker/kong/).\n");
    yaml.push_str(
        "# One Kong route per policy route: Kong tries plain path prefixes longest first, as the\n",
    );
    yaml.push_str("# policy does. The upstream must not set CORS headers itself.\n");
    if unsupported.is_empty() {
        yaml.push_str(
            "# unsupported: nothing (Kong's cors plugin expresses this policy exactly).\n",
        );
    } else {
        yaml.push_str("# unsupported (what Kong's cors plugin cannot express; effect on browsers in parentheses):\n");
        for u in &unsupported {
            let _ = writeln!(yaml, "#   - {}", comment(&u.to_string()));
        }
    }
    yaml.push_str("_format_version: \"3.0\"\n_transform: true\nservices:\n");
    yaml.push_str("  - name: \"corsproof-upstream\"\n");
    let _ = writeln!(yaml, "    url: {}", quote(&upstream));
    yaml.push_str("    routes:\n");
    yaml.push_str(&routes);
    Ok(KongConfig { yaml, unsupported })
}

/// The `config` lines of one route's cors plugin (the route lists origins).
fn plugin_config(route: &Route, unsupported: &mut Vec<Unsupported>) -> Vec<String> {
    let label = route.label();
    let mut note = |field: &'static str, effect: Effect, why: String| {
        unsupported.push(Unsupported {
            route: label.to_string(),
            field,
            why,
            effect,
        });
    };
    let mut lines = Vec::new();

    // origins
    let origins: Vec<String> = match &route.origins {
        Origins::Any => {
            if route.credentials {
                note(
                    "credentials",
                    Effect::Broader,
                    "with origins = [\"*\"] and credentials Kong reflects any request origin \
                     with Access-Control-Allow-Credentials: true"
                        .to_string(),
                );
            }
            vec!["*".to_string()]
        }
        Origins::List(entries) => {
            let several = entries.len() > 1;
            let mut out = Vec::new();
            for entry in entries {
                match entry {
                    OriginEntry::Null => {
                        if !several {
                            note(
                                "origins",
                                Effect::Disclosure,
                                "a single literal entry is sent as Access-Control-Allow-Origin: null \
                                 to every origin (only opaque origins can use it)"
                                    .to_string(),
                            );
                        }
                        out.push("null".to_string());
                    }
                    OriginEntry::Exact { host, .. } => {
                        if host.starts_with('[') {
                            note(
                                "origins",
                                Effect::Narrower,
                                format!(
                                    "{entry}: Kong normalises origins with LuaSocket's url.parse, which \
                                     drops an IPv6 host's brackets, so its answer does not name the \
                                     browser's origin"
                                ),
                            );
                        }
                        let text = entry.to_string();
                        if several && text.bytes().all(is_literal_byte) {
                            out.push(text);
                        } else {
                            out.push(origin_regex(entry));
                        }
                    }
                    OriginEntry::Subdomain { .. } => out.push(origin_regex(entry)),
                }
            }
            out
        }
    };
    lines.push(format!("origins: {}", flow(&origins)));

    // methods: always explicit.
    let mut methods: Vec<String> = ["GET", "HEAD", "POST"].map(String::from).to_vec();
    for m in &route.methods {
        if !KONG_METHODS.contains(&m.as_str()) {
            note(
                "methods",
                Effect::Narrower,
                format!(
                    "{m:?} is not one of Kong's methods ({}): left out, so browsers are refused it",
                    KONG_METHODS.join(" ")
                ),
            );
        } else if !methods.contains(m) {
            methods.push(m.clone());
        }
    }
    lines.push(format!("methods: {}", flow(&methods)));

    // headers: always explicit and never empty.
    let headers = match &route.request_headers {
        HeaderNames::Any => vec!["*".to_string()],
        HeaderNames::List(names) if names.is_empty() => vec![NO_HEADERS.to_string()],
        HeaderNames::List(names) => names.clone(),
    };
    lines.push(format!("headers: {}", flow(&headers)));

    // exposed_headers
    let exposed = match &route.expose_headers {
        HeaderNames::Any => vec!["*".to_string()],
        HeaderNames::List(names) => names.clone(),
    };
    if !exposed.is_empty() {
        lines.push(format!("exposed_headers: {}", flow(&exposed)));
    }
    lines.push(format!("credentials: {}", route.credentials));
    if let Some(max_age) = route.max_age {
        if max_age > MAX_AGE_LIMIT {
            note(
                "max_age",
                Effect::Narrower,
                format!(
                    "{max_age} s: Kong writes numbers above {MAX_AGE_LIMIT} in exponent form, \
                     which browsers ignore (no preflight caching)"
                ),
            );
        }
        lines.push(format!("max_age: {max_age}"));
    }
    lines.push(format!("private_network: {}", route.private_network));
    lines.push("preflight_continue: false".to_string());

    // What Kong says to origins (and requests) the policy refuses.
    if let Origins::List(_) = route.origins {
        note(
            "origins",
            Effect::Disclosure,
            "Kong answers every preflight on the route with 200, Access-Control-Allow-Methods, \
             -Allow-Headers and -Max-Age, withholding only -Allow-Origin from refused origins"
                .to_string(),
        );
        if route.credentials {
            note(
                "credentials",
                Effect::Disclosure,
                "Access-Control-Allow-Credentials: true is sent to every request on the route, \
                 refused origins and requests without Origin included"
                    .to_string(),
            );
        }
        if !exposed.is_empty() {
            note(
                "expose_headers",
                Effect::Disclosure,
                "Access-Control-Expose-Headers is sent on every non-preflight response of the \
                 route, refused origins and requests without Origin included"
                    .to_string(),
            );
        }
    }
    if route.private_network {
        note(
            "private_network",
            Effect::Disclosure,
            "Access-Control-Allow-Private-Network: true answers every PNA preflight on the route \
             (refused origins included), and Vary never names Access-Control-Request-Private-Network"
                .to_string(),
        );
    }
    lines
}

/// True for the bytes Kong's handler treats as a literal origin (`[A-Za-z0-9.:/-]`).
fn is_literal_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'-')
}

/// The anchored, escaped regular expression (PCRE, and also valid for the `regex` crate)
/// that matches exactly the serialized origins `entry` admits, scheme and port included,
/// as Kong's cors plugin applies it: anchored at the start, against the whole origin with
/// its default port dropped (the expression always contains `:`).
///
/// ```
/// use corsproof_emit::kong::origin_regex;
/// let e = "https://*.example.com:8443".parse().unwrap();
/// assert_eq!(
///     origin_regex(&e),
///     r"^https://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+example\.com:8443$"
/// );
/// let e = "http://[::1]:3000".parse().unwrap();
/// assert_eq!(origin_regex(&e), r"^http://\[::1\]:3000$");
/// ```
pub fn origin_regex(entry: &OriginEntry) -> String {
    match entry {
        OriginEntry::Null => "^null$".to_string(),
        OriginEntry::Exact { .. } => format!("^{}$", regex_escape(&entry.to_string())),
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "^{}://(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\\.)+{}{}$",
                scheme.as_str(),
                regex_escape(domain),
                port
            )
        }
    }
}

/// Escapes the characters that are special in PCRE (and in the `regex` crate) outside a
/// character class.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '.'
                | '+'
                | '*'
                | '?'
                | '('
                | ')'
                | '|'
                | '['
                | ']'
                | '{'
                | '}'
                | '^'
                | '$'
                | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A YAML double-quoted scalar, ASCII only: `"` and `\` escaped, everything outside
/// printable ASCII written as a `\u`/`\U` escape (so no character can end the line or the
/// string).
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// A YAML flow sequence of double-quoted scalars.
fn flow(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// One line of comment text: control characters and Unicode line and paragraph
/// separators (line breaks to YAML 1.1 readers) replaced.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// `corsproof-INDEX-LABEL`, in Kong's name alphabet (`A-Z a-z 0-9 . - _ ~`).
fn route_name(i: usize, route: &Route) -> String {
    let mut label: String = route
        .label()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~') {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    while label.ends_with('-') {
        label.pop();
    }
    let label = label.trim_start_matches('-');
    if label.is_empty() {
        format!("corsproof-{i}")
    } else {
        format!("corsproof-{i}-{label}")
    }
}

fn check_path(route: &Route) -> Result<(), EmitError> {
    let path = route.path.as_str();
    let chars_ok = path.starts_with('/')
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'/' | b'-'));
    let segments_ok = !path.contains("//") && path.split('/').all(|s| s != "." && s != "..");
    if chars_ok && segments_ok {
        Ok(())
    } else {
        Err(EmitError::Unsupported {
            route: route.label().to_string(),
            field: "path",
            why: format!(
                "{path:?}: Kong matches routes against the normalised, percent-decoded path; only \
                 A-Z a-z 0-9 . _ ~ / - without empty, `.` or `..` segments can be matched exactly"
            ),
        })
    }
}

fn check_upstream(upstream: &str) -> Result<String, EmitError> {
    let bad = |why: String| EmitError::Unsupported {
        route: "(upstream)".to_string(),
        field: "upstream",
        why,
    };
    let url =
        url::Url::parse(upstream).map_err(|e| bad(format!("{upstream:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!(
            "{upstream:?}: Kong's service URL must be http:// or https://"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad(format!("{upstream:?} has no host")));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(bad(format!(
            "{upstream:?}: a Kong service URL has no user, query or fragment"
        )));
    }
    Ok(upstream.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_in_kongs_alphabet() {
        let mut r = Route::same_origin_only("/x/");
        r.name = Some("app api (v2)!".into());
        assert_eq!(route_name(3, &r), "corsproof-3-app-api--v2");
        r.name = Some("!!!".into());
        assert_eq!(route_name(0, &r), "corsproof-0");
    }

    #[test]
    fn paths_kong_cannot_match_exactly_are_refused() {
        for ok in ["/", "/api/", "/api/health", "/a.b_c~d-e/"] {
            assert!(check_path(&Route::same_origin_only(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "/a%20b/", "/a//b/", "/a/./b", "/a/../b/", "/..", "/a b/", "/a$/", "/é/", "//",
        ] {
            assert!(check_path(&Route::same_origin_only(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn upstream_urls_are_checked() {
        for ok in [
            "http://corsproof-serve:8080",
            "http://127.0.0.1:9000/base",
            "https://[::1]:8443",
        ] {
            assert_eq!(check_upstream(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "corsproof-serve:8080",
            "ftp://x",
            "http://u:p@x",
            "http://x/?q",
            "http://x/#f",
        ] {
            assert!(check_upstream(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoted_scalars_read_back_as_written() {
        for text in [
            "plain",
            "a\"b\\c",
            "line\nbreak\r\t",
            "sep\u{2028}\u{2029}\u{85}",
            "# not a comment: {x} [y] &z *w !v",
            "\u{1F600} é",
            "",
        ] {
            let doc: std::collections::BTreeMap<String, String> =
                serde_yaml::from_str(&format!("k: {}\n", quote(text))).expect("YAML");
            assert_eq!(doc["k"], text);
        }
    }

    #[test]
    fn escaping_covers_every_pcre_metacharacter() {
        assert_eq!(
            regex_escape(r"a.b+c*d?e(f)g|h[i]j{k}l^m$n\o#p"),
            r"a\.b\+c\*d\?e\(f\)g\|h\[i\]j\{k\}l\^m\$n\\o\#p"
        );
    }
}
