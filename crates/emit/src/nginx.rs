//! The nginx emitter: a policy as a map-based nginx configuration.
//!
//! [`nginx()`] returns an [`NginxConfig`]: `map` blocks for the `http` context
//! ([`NginxConfig::http_level`]) and the `location /` block for one `server`
//! ([`NginxConfig::server_level`]); [`NginxConfig::standalone`] wraps both into a complete
//! `nginx.conf` for a local test server (`daemon off`, one process, every path relative to
//! the `-p` prefix).
//!
//! # What the configuration does
//!
//! It reproduces the observable behaviour of `corsproof-tower` (see its crate docs):
//!
//! - the route of a request is chosen as the policy chooses it (P1 of spec/SPEC.md): from
//!   `$request_uri`, the path as the browser sent it, by one anchored regular expression per
//!   route in a `map`, longest route path first, each unreserved character of the route's
//!   path matched as itself or percent-encoded (`/api/` becomes
//!   `^/(?:a|%61)(?:p|%70)(?:i|%69)/`); not by `location`, which nginx matches against
//!   `$uri`, percent-decoded (`%2F` included) and with repeated slashes merged, so that
//!   `/api%2Fx` and `//api/x` would be under `/api/`; a path no route covers, or a route with
//!   `origins = []`, gets no CORS header;
//! - a preflight (`OPTIONS` with a non-empty `Origin` and `Access-Control-Request-Method`)
//!   that passes is answered `204` with `Access-Control-Allow-Origin` (the origin echoed, or
//!   `*` on `origins = ["*"]` routes), `-Allow-Credentials: true` on credentialed routes,
//!   `-Allow-Methods`, `-Allow-Headers`, `-Max-Age` and, when asked with
//!   `Access-Control-Request-Private-Network: true` on a `private_network` route,
//!   `-Allow-Private-Network: true`; a preflight that does not pass gets `403` and only `Vary`;
//! - any other request gets the upstream's response plus `Access-Control-Allow-Origin`
//!   (and `-Allow-Credentials`, `-Expose-Headers`) when its origin is allowed;
//! - `Vary: Origin` on non-`OPTIONS` responses of routes that list origins, and
//!   `Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers` (plus
//!   `Access-Control-Request-Private-Network` on `private_network` routes) on every `OPTIONS`
//!   response of a cross-origin route;
//! - every `add_header` has `always`, so error responses carry the headers too.
//!
//! Origins are matched by anchored, case-sensitive regular expressions in which every
//! character but letters and digits is escaped; a subdomain pattern `https://*.example.com`
//! becomes `^https://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+example\.com$` (one or more
//! labels, never the apex, same scheme and port). Methods are matched case-sensitively,
//! `Access-Control-Request-Headers` case-insensitively by a regular expression over the whole
//! comma-separated list (optional whitespace and empty elements allowed; every element must be
//! an allowed name; with `request_headers = ["*"]` any token but `authorization`).
//!
//! # Caveats (nginx cannot do what the middleware does)
//!
//! - **Paths**: the route comes from `$request_uri` as sent; a request that is not a
//!   browser's (`/a/../api/` with a dot segment, which browsers remove) gets the route of its
//!   raw path, as from the middleware.
//! - **Repeated header lines**: nginx before 1.23 reads only the first `Origin`,
//!   `Access-Control-Request-Method` or `-Request-Headers` line; from 1.23 on, lines are
//!   joined with `, ` (which refuses repeated `Origin`/`-Method` lines, as the middleware does).
//! - **Limits**: the middleware refuses `Access-Control-Request-Headers` with more than 64
//!   names or 4096 bytes; nginx applies only its own header size limits.
//! - **Empty values**: an `Origin` or `Access-Control-Request-Method` line with an empty
//!   value does not make an `OPTIONS` request a preflight here.
//! - **Upstream `Vary`**: with [`Upstream::ProxyPass`] the CORS `Vary` line is added to the
//!   upstream's, not merged; the upstream's own CORS headers are hidden.
//! - The policy's risk checks (`allow_risky`) are `corsproof lint`'s and the middleware's;
//!   the emitter implements whatever a valid policy says.
//!
//! What cannot be written into an nginx configuration without changing its meaning is
//! refused with [`EmitError::Unsupported`]: method and header names containing `$`
//! (interpolated), non-ASCII text.
//!
//! ```
//! use corsproof_emit::{nginx, Upstream};
//! use corsproof_policy::Policy;
//! let policy = Policy::from_toml_str(
//!     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://*.example.com\"]\nmethods = [\"PUT\"]\n",
//!     "p.toml",
//! )?;
//! let conf = nginx(&policy, &Upstream::demo())?;
//! assert!(conf.http_level.contains(r#""~^https\:\/\/(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+example\.com$""#));
//! assert!(conf.http_level.contains(r#""~^\/(?:a|%61)(?:p|%70)(?:i|%69)\/" 0;"#));
//! assert!(conf.server_level.contains("add_header Access-Control-Allow-Origin $cors_acao always;"));
//! let full = conf.standalone("127.0.0.1:8080");
//! assert!(full.contains("listen 127.0.0.1:8080;"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;

use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};

use super::EmitError;

/// What the `location` blocks hand requests that are not answered by the CORS layer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// `return STATUS 'BODY'` (a fixed demo response; no `$`, `'` or `\` in the body).
    Return {
        /// The status code.
        status: u16,
        /// The body.
        body: String,
    },
    /// `proxy_pass URL` (no whitespace, quotes, `;`, `$`, braces in the URL).
    ProxyPass(String),
}

impl Upstream {
    /// The demo response: `200` with a short text body.
    ///
    /// ```
    /// use corsproof_emit::Upstream;
    /// assert!(matches!(Upstream::demo(), Upstream::Return { status: 200, .. }));
    /// ```
    pub fn demo() -> Upstream {
        Upstream::Return {
            status: 200,
            body: "corsproof nginx demo".to_string(),
        }
    }

    fn directive(&self) -> Result<String, EmitError> {
        let bad = |why: &str| EmitError::Unsupported {
            route: "(upstream)".to_string(),
            field: "upstream",
            why: why.to_string(),
        };
        match self {
            Upstream::Return { status, body } => {
                if !(100..=999).contains(status) {
                    return Err(bad("the status must be between 100 and 999"));
                }
                if body.chars().any(|c| matches!(c, '$' | '\'' | '\\')) {
                    return Err(bad("the body may not contain `$`, `'` or `\\`"));
                }
                Ok(format!("return {status} '{body}';"))
            }
            Upstream::ProxyPass(url) => {
                if url.is_empty()
                    || url.chars().any(|c| {
                        c.is_whitespace()
                            || c.is_control()
                            || matches!(c, '$' | '\'' | '"' | '\\' | ';' | '{' | '}' | '#')
                    })
                {
                    return Err(bad("the proxy URL cannot be written into nginx.conf as is"));
                }
                Ok(format!("proxy_pass {url};"))
            }
        }
    }
}

/// An emitted nginx configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NginxConfig {
    /// `map` blocks for the `http { }` context.
    pub http_level: String,
    /// `location` blocks for the `server { }` context.
    pub server_level: String,
}

impl NginxConfig {
    /// A complete `nginx.conf` serving the policy on `listen` (`HOST:PORT` or `PORT`): no
    /// daemon, a single process (`master_process off`, so killing the started process stops
    /// it), pid, logs and temporary files relative to the prefix given with `nginx -p DIR`.
    /// Meant for tests and demos, not production.
    ///
    /// ```
    /// use corsproof_emit::NginxConfig;
    /// let c = NginxConfig { http_level: String::new(), server_level: String::new() };
    /// assert!(c.standalone("8080").contains("daemon off;"));
    /// ```
    pub fn standalone(&self, listen: &str) -> String {
        let mut out = String::new();
        out.push_str(
            "# corsproof emit nginx: a standalone test server (nginx -p DIR -c nginx.conf)\n",
        );
        out.push_str("daemon off;\nmaster_process off;\nworker_processes 1;\n");
        out.push_str("pid nginx.pid;\nerror_log error.log warn;\n\n");
        out.push_str("events {\n    worker_connections 256;\n}\n\n");
        out.push_str("http {\n");
        out.push_str("    access_log off;\n    server_tokens off;\n    default_type text/plain;\n");
        write_temp_paths(&mut out);
        out.push('\n');
        indent(&mut out, &self.http_level, 1);
        out.push_str("\n    server {\n");
        let _ = writeln!(out, "        listen {listen};");
        out.push_str("        server_name _;\n\n");
        indent(&mut out, &self.server_level, 2);
        out.push_str("    }\n}\n");
        out
    }
}

fn indent(out: &mut String, text: &str, levels: usize) {
    for line in text.lines() {
        if !line.is_empty() {
            for _ in 0..levels {
                out.push_str("    ");
            }
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// The CORS response headers the configuration sets (hidden from a proxied upstream).
const CORS_HEADERS: [&str; 7] = [
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
    "Access-Control-Expose-Headers",
];

/// Writes the `http` block's temporary paths, each under `tmp/` of nginx's prefix (`-p`), so
/// that an unprivileged nginx writes nothing outside it.
///
/// ```
/// let mut out = String::new();
/// corsproof_emit::nginx::write_temp_paths(&mut out);
/// assert!(out.starts_with("    client_body_temp_path tmp/body;\n"));
/// assert_eq!(out.lines().count(), 5);
/// ```
pub fn write_temp_paths(out: &mut String) {
    for (name, dir) in [
        ("client_body_temp_path", "body"),
        ("proxy_temp_path", "proxy"),
        ("fastcgi_temp_path", "fastcgi"),
        ("uwsgi_temp_path", "uwsgi"),
        ("scgi_temp_path", "scgi"),
    ] {
        let _ = writeln!(out, "    {name} tmp/{dir};");
    }
}

/// Emits the configuration implementing `policy`, with `upstream` behind its `location /`.
///
/// ```
/// use corsproof_emit::{nginx, EmitError, Upstream};
/// use corsproof_policy::Policy;
/// let policy = Policy::from_toml_str(
///     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"*\"]\nexpose_headers = [\"X-A$B\"]\n",
///     "p.toml",
/// )?;
/// let err = nginx(&policy, &Upstream::demo()).unwrap_err();
/// assert!(matches!(err, EmitError::Unsupported { field: "expose_headers", .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn nginx(policy: &Policy, upstream: &Upstream) -> Result<NginxConfig, EmitError> {
    let upstream_directive = upstream.directive()?;
    let proxied = matches!(upstream, Upstream::ProxyPass(_));
    let mut http = String::new();
    http.push_str("# corsproof: is this request a preflight (OPTIONS + Origin + Access-Control-Request-Method)?\n");
    http.push_str("map $http_origin $cors_has_origin {\n    default 1;\n    \"\" 0;\n}\n");
    http.push_str(
        "map $http_access_control_request_method $cors_has_acrm {\n    default 1;\n    \"\" 0;\n}\n",
    );
    http.push_str("map \"$request_method:$cors_has_origin$cors_has_acrm\" $cors_is_preflight {\n    default 0;\n    \"~^OPTIONS:11$\" 1;\n}\n");
    route_map(&mut http, policy)?;
    let cors: Vec<usize> = (0..policy.routes.len())
        .filter(|&i| !policy.routes[i].origins.is_empty())
        .collect();
    for &i in &cors {
        route_maps(&mut http, i, &policy.routes[i])?;
    }
    let _ = writeln!(http, "\n# the values of the route that covers the request");
    for (_, var) in HEADER_VARS.iter().chain([&("", "state")]) {
        let _ = writeln!(http, "map $cors_route $cors_{var} {{\n    default \"\";");
        for &i in &cors {
            let _ = writeln!(http, "    {i} $cors_{var}_{i};");
        }
        http.push_str("}\n");
    }
    let mut server = String::new();
    server.push_str("# every path: the CORS headers of the route that covers it ($cors_route)\n");
    server.push_str("location / {\n");
    if proxied {
        for name in CORS_HEADERS {
            let _ = writeln!(server, "    proxy_hide_header {name};");
        }
    }
    for (name, var) in HEADER_VARS {
        let _ = writeln!(server, "    add_header {name} $cors_{var} always;");
    }
    server.push_str("    if ($cors_state = pf-ok) {\n        return 204;\n    }\n");
    server.push_str("    if ($cors_state = pf-refused) {\n        return 403;\n    }\n");
    let _ = writeln!(server, "    {upstream_directive}\n}}");
    Ok(NginxConfig {
        http_level: http,
        server_level: server,
    })
}

/// The response headers the configuration adds, with the suffix of their variables.
const HEADER_VARS: [(&str, &str); 8] = [
    ("Access-Control-Allow-Origin", "acao"),
    ("Access-Control-Allow-Credentials", "acac"),
    ("Access-Control-Allow-Methods", "acam"),
    ("Access-Control-Allow-Headers", "acah"),
    ("Access-Control-Max-Age", "acma"),
    ("Access-Control-Allow-Private-Network", "pna"),
    ("Access-Control-Expose-Headers", "aceh"),
    ("Vary", "vary"),
];

/// `$cors_route`: the index of the route covering the request, from `$request_uri` (the
/// path as the browser sent it: not percent-decoded, slashes not merged, which `location`
/// matching would do) by one anchored regular expression per route, longest decoded path
/// first (of two paths equal once decoded, the first route).
fn route_map(http: &mut String, policy: &Policy) -> Result<(), EmitError> {
    let mut routes = Vec::new();
    for (i, route) in policy.routes.iter().enumerate() {
        let decoded = decode_unreserved(&route.path);
        routes.push((i, decoded.len(), path_regex(route, &decoded)?));
    }
    routes.sort_by_key(|(i, len, _)| (std::cmp::Reverse(*len), *i));
    http.push_str(
        "# the route of the request: its path as sent, percent-encoded unreserved characters\n\
         # decoded, longest route path first\n",
    );
    http.push_str("map $request_uri $cors_route {\n    default \"\";\n");
    for (i, _, regex) in routes {
        let label = comment(policy.routes[i].label());
        let _ = writeln!(http, "    \"~^{regex}\" {i};  # {label}");
    }
    http.push_str("}\n");
    Ok(())
}

/// RFC 3986's unreserved characters: `A-Z a-z 0-9 - . _ ~`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `path` with every percent-encoded unreserved character decoded (one pass), every other
/// byte as it is.
pub(crate) fn decode_unreserved(path: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let triplet = match bytes.get(i + 1..i + 3) {
            Some(&[h, l]) if b == b'%' => hex(h)
                .zip(hex(l))
                .and_then(|(h, l)| u8::try_from(h * 16 + l).ok()),
            _ => None,
        };
        match triplet.filter(|&d| is_unreserved(d)) {
            Some(d) => {
                out.push(char::from(d));
                i += 3;
            }
            None => {
                out.push(char::from(b));
                i += 1;
            }
        }
    }
    out
}

/// A hex digit as a PCRE item matching either case.
fn hex_item(digit: u8) -> String {
    let c = char::from_digit(u32::from(digit), 16).unwrap_or('0');
    if c.is_ascii_digit() {
        c.to_string()
    } else {
        format!("[{}{c}]", c.to_ascii_uppercase())
    }
}

/// A raw `%` that does not start a percent-encoded unreserved character.
pub(crate) const BARE_PERCENT: &str = "%(?!3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|2[DdEe]|5[Ff]|7[Ee])";

/// The PCRE matching every raw request path whose decoded form starts with `decoded`: each
/// unreserved character as itself or percent-encoded (hex digits of either case), a `%` as a
/// `%` that starts no encoded unreserved character, every other character as itself.
pub(crate) fn path_regex(route: &Route, decoded: &str) -> Result<String, EmitError> {
    let mut out = String::new();
    for b in decoded.bytes() {
        if b == b'%' {
            out.push_str(BARE_PERCENT);
            continue;
        }
        let literal = escaped(route, "path", &char::from(b).to_string())?;
        if is_unreserved(b) {
            let _ = write!(
                out,
                "(?:{literal}|%{}{})",
                hex_item(b >> 4),
                hex_item(b & 0xf)
            );
        } else {
            out.push_str(&literal);
        }
    }
    Ok(out)
}

fn comment(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn unsupported(route: &Route, field: &'static str, why: impl Into<String>) -> EmitError {
    EmitError::Unsupported {
        route: route.label().to_string(),
        field,
        why: why.into(),
    }
}

/// Escapes `text` for a PCRE pattern inside a double-quoted nginx string: letters and digits
/// as they are, every other character backslash-escaped (`$` and `"` as `\x24`, `\x22`,
/// `\` as `\x5c`, which nginx's string parser leaves alone).
fn regex_escape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c),
            '$' => out.push_str("\\x24"),
            '"' => out.push_str("\\x22"),
            '\\' => out.push_str("\\x5c"),
            c if c.is_ascii_graphic() || c == ' ' => {
                out.push('\\');
                out.push(c);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A header value written into `add_header`/`map` values: no `$`, quotes, backslashes or
/// control characters.
fn plain_value(route: &Route, field: &'static str, text: &str) -> Result<String, EmitError> {
    if text
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '$' | '"' | '\\' | '\'') || c == ' ')
    {
        Ok(text.to_string())
    } else {
        Err(unsupported(
            route,
            field,
            format!("{text:?} cannot be written as an nginx header value (`$` is interpolated)"),
        ))
    }
}

fn escaped(route: &Route, field: &'static str, text: &str) -> Result<String, EmitError> {
    regex_escape(text).ok_or_else(|| unsupported(route, field, format!("{text:?} is not ASCII")))
}

fn origin_regex(route: &Route, entry: &OriginEntry) -> Result<String, EmitError> {
    Ok(match entry {
        OriginEntry::Exact { .. } | OriginEntry::Null => {
            format!("^{}$", escaped(route, "origins", &entry.to_string())?)
        }
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "^{}(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\\.)+{}{}$",
                escaped(route, "origins", &format!("{}://", scheme.as_str()))?,
                escaped(route, "origins", domain)?,
                escaped(route, "origins", &port)?
            )
        }
    })
}

fn route_maps(http: &mut String, i: usize, route: &Route) -> Result<(), EmitError> {
    let _ = writeln!(http, "\n# route {i}: {}", comment(route.label()));
    // The origin: echoed when allowed, "" when not; `*` routes need no map.
    let any = matches!(route.origins, Origins::Any);
    let origin_key = if any {
        "*".to_string()
    } else {
        let _ = writeln!(
            http,
            "map $http_origin $cors_origin_{i} {{\n    default \"\";"
        );
        if let Origins::List(list) = &route.origins {
            for entry in list {
                let _ = writeln!(
                    http,
                    "    \"~{}\" $http_origin;",
                    origin_regex(route, entry)?
                );
            }
        }
        http.push_str("}\n");
        format!("$cors_origin_{i}")
    };
    // Access-Control-Request-Method: safelisted or listed, case-sensitive.
    let mut methods = vec!["GET".to_string(), "HEAD".to_string(), "POST".to_string()];
    for m in &route.methods {
        plain_value(route, "methods", m)?;
        methods.push(escaped(route, "methods", m)?);
    }
    let _ = writeln!(
        http,
        "map $http_access_control_request_method $cors_method_{i} {{\n    default 0;\n    \"~^(?:{})$\" 1;\n}}",
        methods.join("|")
    );
    // Access-Control-Request-Headers: the whole list, case-insensitive. An empty or absent
    // header needs its own exact key: nginx never tries a map's regexes on an empty value.
    let _ = writeln!(
        http,
        "map $http_access_control_request_headers $cors_acrh_{i} {{\n    default 0;\n    \"\" 1;"
    );
    let element = match &route.request_headers {
        HeaderNames::Any => {
            http.push_str("    \"~*(?:^|,)[ \\t]*authorization[ \\t]*(?:,|$)\" 0;\n");
            "[!#\\x24%&'*+.^_`|~0-9a-z-]+".to_string()
        }
        HeaderNames::List(names) if names.is_empty() => "(?!)".to_string(),
        HeaderNames::List(names) => {
            let mut alts = Vec::new();
            for n in names {
                plain_value(route, "request_headers", n)?;
                alts.push(escaped(route, "request_headers", n)?);
            }
            format!("(?:{})", alts.join("|"))
        }
    };
    let _ = writeln!(
        http,
        "    \"~*^[ \\t]*(?:{element}[ \\t]*)?(?:,[ \\t]*(?:{element}[ \\t]*)?)*$\" 1;\n}}"
    );
    // The request's state on this route.
    let _ = writeln!(
        http,
        "map \"$cors_is_preflight:$cors_method_{i}$cors_acrh_{i}:{origin_key}\" $cors_state_{i} {{\n    default refused;\n    \"~^1:11:.\" pf-ok;\n    \"~^1:\" pf-refused;\n    \"~^0:..:.\" allowed;\n}}"
    );
    // Header values per state.
    let acao = if any {
        "*".to_string()
    } else {
        format!("$cors_origin_{i}")
    };
    let on = |states: &[&str], value: &str| -> String {
        let mut s = String::from("    default \"\";\n");
        for st in states {
            let _ = writeln!(s, "    {st} \"{value}\";");
        }
        s
    };
    let mut value_map = |var: &str, body: String| {
        let _ = writeln!(http, "map $cors_state_{i} $cors_{var}_{i} {{\n{body}}}");
    };
    value_map("acao", on(&["pf-ok", "allowed"], &acao));
    value_map(
        "acac",
        if route.credentials {
            on(&["pf-ok", "allowed"], "true")
        } else {
            on(&[], "")
        },
    );
    let acam = plain_value(route, "methods", &route.methods.join(", "))?;
    value_map(
        "acam",
        on(if acam.is_empty() { &[] } else { &["pf-ok"] }, &acam),
    );
    let names = |field, h: &HeaderNames| -> Result<String, EmitError> {
        match h {
            HeaderNames::Any => Ok("*".to_string()),
            HeaderNames::List(l) => plain_value(route, field, &l.join(", ")),
        }
    };
    let acah = names("request_headers", &route.request_headers)?;
    value_map(
        "acah",
        on(if acah.is_empty() { &[] } else { &["pf-ok"] }, &acah),
    );
    let acma = route.max_age.map(|m| m.to_string()).unwrap_or_default();
    value_map(
        "acma",
        on(if acma.is_empty() { &[] } else { &["pf-ok"] }, &acma),
    );
    let aceh = names("expose_headers", &route.expose_headers)?;
    value_map(
        "aceh",
        on(if aceh.is_empty() { &[] } else { &["allowed"] }, &aceh),
    );
    let _ = writeln!(
        http,
        "map \"$cors_state_{i}:$http_access_control_request_private_network\" $cors_pna_{i} {{\n    default \"\";{}\n}}",
        if route.private_network {
            "\n    \"~^pf-ok:true$\" \"true\";"
        } else {
            ""
        }
    );
    let mut options_vary =
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers".to_string();
    if route.private_network {
        options_vary.push_str(", Access-Control-Request-Private-Network");
    }
    let _ = writeln!(
        http,
        "map $request_method $cors_vary_{i} {{\n    default \"{}\";\n    \"~^OPTIONS$\" \"{options_vary}\";\n}}",
        if any { "" } else { "Origin" }
    );
    Ok(())
}
