//! Proptest strategies of browser requests, biased by a policy, and the deterministic baseline
//! every check starts with. Exported for users' own property tests.
//!
//! What is generated:
//!
//! - **Origins** a browser can send, each a serialized origin that a browser's URL parser
//!   (`url::Url`) produces and round-trips: every origin the policy allows (exact entries as
//!   spelled, pattern instances), one change at a time to the policy's spelling of each
//!   [`Family`] that breaks real allowlists (never two combined), strangers
//!   ([`ATTACKER`]), `null` and the target's own origin.
//! - **Paths** under every route (prefix, subpaths, a 404, an error, `probe_paths`), on every
//!   route's boundary ([`boundary_paths`]: `/api`, `/apifoo`, `/API/`, `/%61pi/`, `/api%2Fx`,
//!   `/api//x`, `/api?`), and paths no route covers; each path is one a browser's URL parser
//!   keeps as it is (no dot segments), judged by the policy's route matching (P1).
//! - **Methods and headers** of the policy and around it: safelisted ones with values that
//!   are not, headers servers allow by default ([`DEFAULTED_HEADERS`]), strangers.
//!
//! A generated request is the oracle's [`RequestInit`]: what script asks for. The case format
//! (`corsproof_case::RequestJson::from_init`) spells it as the `request` of an `explain` case,
//! so that any failing case is also an `explain` case.
//!
//! ```
//! use corsproof_engine::generate::Generator;
//! use corsproof_policy::Policy;
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let policy = Policy::from_toml_str(
//!     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://*.example.com\"]\n",
//!     "p.toml",
//! )?;
//! let gen = Generator::new(&policy, &url::Url::parse("http://127.0.0.1:8080")?);
//! let mut runner = TestRunner::deterministic();
//! let request = gen.request().new_tree(&mut runner).unwrap().current();
//! assert!(request.url.as_str().starts_with("http://127.0.0.1:8080/"));
//! assert!(gen.origins().iter().any(|o| o.serialization() == "https://evilexample.com"));
//! assert!(gen.paths().iter().any(|p| p == "/api%2Fx"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;

use corsproof_oracle::{CredentialsMode, Origin, RequestInit, RequestMode};
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route, Scheme};
use proptest::prelude::*;
use proptest::sample::select;
use url::Url;

/// The plain attacker origin: refused by any policy that does not allow every origin, and
/// the origin a shrunk example prefers.
pub const ATTACKER: &str = "https://evil.example";

/// Origins no policy is expected to allow, added to every pool.
const STRANGERS: [&str; 4] = [
    ATTACKER,
    "http://localhost:3000",
    "https://attacker.example.net",
    "null",
];

/// Methods around any policy's: safelisted, common, lowercase (not normalized by browsers
/// unless they are one of the six), and a custom token.
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "patch", "put", "OPTIONS", "PURGE",
];

/// Request headers around any policy's: safelisted values, values that stop being
/// safelisted, and unsafe names.
const HEADERS: [(&str, &str); 14] = [
    ("Accept", "application/json"),
    ("Accept-Language", "en-GB"),
    ("Accept-Language", "en\"GB"),
    ("Content-Language", "de"),
    ("Content-Type", "text/plain;charset=UTF-8"),
    ("Content-Type", "application/json"),
    ("Content-Type", "multipart/form-data; boundary=x"),
    ("Range", "bytes=0-99"),
    ("Range", "bytes=0-1,4-5"),
    ("Authorization", "Bearer corsproof"),
    ("X-Requested-With", "XMLHttpRequest"),
    ("X-Corsproof-Other", "1"),
    ("X-Request-Id", "7"),
    ("Cache-Control", "no-cache"),
];

/// Request headers servers commonly allow without being told (Tomcat's `CorsFilter`
/// defaults, many frameworks' examples), each with a value that is not CORS-safelisted (a
/// `"` is a CORS-unsafe request-header byte), so that a browser preflights them.
pub const DEFAULTED_HEADERS: [(&str, &str); 3] = [
    ("X-Requested-With", "XMLHttpRequest"),
    ("Accept", "application/json; charset=\"utf-8\""),
    ("Content-Type", "application/json"),
];

/// A request header no policy lists.
const STRANGER_HEADER: (&str, &str) = ("X-Corsproof-Other", "1");

/// Methods no policy is expected to list; the first one the route does not list is its
/// unlisted method.
const UNLISTED_METHODS: [&str; 3] = ["PURGE", "PROPFIND", "X-CORSPROOF"];

/// Builds strategies from one policy and the target's base URL.
#[derive(Debug, Clone)]
pub struct Generator {
    base: Url,
    target: Origin,
    origins: Vec<Origin>,
    methods: Vec<String>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    paths: Vec<String>,
    /// Subdomain patterns as (scheme, domain, port) serialization parts.
    patterns: Vec<(Scheme, String, Option<u16>)>,
}

impl Generator {
    /// The pools of `policy` for a target at `base` (scheme, host, port; a path is ignored).
    pub fn new(policy: &Policy, base: &Url) -> Generator {
        let target = Origin::of_url(base);
        let mut origins: BTreeSet<String> = STRANGERS.iter().map(|s| s.to_string()).collect();
        origins.insert(target.serialization().to_string());
        let mut methods: BTreeSet<String> = METHODS.iter().map(|m| m.to_string()).collect();
        let mut headers: Vec<(String, String)> = HEADERS
            .iter()
            .chain(&DEFAULTED_HEADERS)
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        for route in &policy.routes {
            if let Origins::List(entries) = &route.origins {
                for entry in entries {
                    origins.extend(instance(entry).map(|o| o.serialization().to_string()));
                    origins.extend(mutations(entry));
                }
            }
            methods.extend(route.methods.iter().cloned());
            for names in [&route.request_headers, &route.expose_headers] {
                if let HeaderNames::List(list) = names {
                    for name in list {
                        headers.push((name.clone(), "1".to_string()));
                    }
                }
            }
        }
        // A long value and many headers stress the safelist's byte limits (R16, R18: 128 and
        // 1024 bytes).
        headers.push(("Accept".to_string(), "a".repeat(130)));
        let origins = origins
            .iter()
            .filter_map(|o| Origin::parse_serialized(o).ok())
            .collect();
        let headers = headers
            .into_iter()
            .map(|(n, v)| (n.into_bytes(), v.into_bytes()))
            .collect();
        Generator {
            base: base.clone(),
            target,
            origins,
            methods: methods.into_iter().collect(),
            headers,
            paths: all_paths(policy, base),
            patterns: patterns(policy),
        }
    }

    /// The origin pool: every allowed origin and pattern instance, their mutations, strangers,
    /// `null` and the target's own origin.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// The path pool: route prefixes and subpaths, probe paths, boundary paths, uncovered
    /// paths.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// The URL of `path` (a path, with a query or not) on the target.
    pub fn url(&self, path: &str) -> Url {
        on_base(&self.base, path)
    }

    /// A strategy of origins: the pool, and instances of the policy's subdomain patterns
    /// with one or two random labels.
    pub fn origin(&self) -> BoxedStrategy<Origin> {
        let pool = select(self.origins.clone());
        if self.patterns.is_empty() {
            return pool.boxed();
        }
        let label = "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?";
        let instance = (
            select(self.patterns.clone()),
            proptest::collection::vec(label, 1..3),
        )
            .prop_filter_map(
                "a pattern instance is an origin",
                |((scheme, domain, port), labels)| {
                    let serialized =
                        serialize(scheme, &format!("{}.{domain}", labels.join(".")), port);
                    Origin::parse_serialized(&serialized).ok()
                },
            );
        prop_oneof![4 => pool, 1 => instance].boxed()
    }

    /// A strategy of browser requests to the target.
    pub fn request(&self) -> impl Strategy<Value = RequestInit> {
        let this = self.clone();
        let header = select(self.headers.clone());
        (
            self.origin(),
            select(self.paths.clone()),
            prop_oneof![
                3 => Just("GET".to_string()),
                1 => Just("POST".to_string()),
                4 => select(self.methods.clone()),
            ],
            prop_oneof![
                2 => Just(Vec::new()),
                3 => proptest::collection::vec(header.clone(), 1..3),
                1 => proptest::collection::vec(header, 3..9),
            ],
            select(vec![
                CredentialsMode::Omit,
                CredentialsMode::SameOrigin,
                CredentialsMode::Include,
            ]),
            prop_oneof![8 => Just(RequestMode::Cors), 1 => Just(RequestMode::NoCors)],
            proptest::bool::weighted(0.05),
            proptest::bool::weighted(0.15),
        )
            .prop_map(
                move |(origin, path, method, headers, credentials, mode, upload, private)| {
                    let mut init = RequestInit::new(this.url(&path), origin);
                    init.method = method;
                    init.headers = headers;
                    init.credentials = credentials;
                    init.mode = mode;
                    init.use_cors_preflight = upload;
                    // A page on a public site calling a server on a private address (R67:
                    // Chromium's PNA preflight).
                    init.target_more_private = private;
                    init
                },
            )
    }

    /// The deterministic cases every check starts with, the same for every seed. For every
    /// route, and for the paths no route covers:
    ///
    /// - at the route's main path (its first probe path, else its prefix), every origin class
    ///   × method class × header class × credentials mode (omit, include). Origin classes:
    ///   each allowed origin as spelled (a pattern's instance), one change of each [`Family`]
    ///   to each entry, [`ATTACKER`], `null`, the target's own origin (on a path that is
    ///   same-origin only: every route's allowed origins instead of its own). Method classes:
    ///   GET, POST, each listed method, an unlisted method, OPTIONS. Header classes: none,
    ///   each listed header (for `*`: one name, and Authorization), each of
    ///   [`DEFAULTED_HEADERS`] the route does not list, a stranger; each with a value that is
    ///   not CORS-safelisted;
    /// - at every other path of the route and on its boundary ([`boundary_paths`]), a GET from
    ///   each allowed origin as spelled, the attacker, `null` and the target's own origin,
    ///   with and without credentials;
    /// - every origin class's GET to a more private address space (Private Network Access
    ///   under Chromium), with and without credentials, and an XHR with upload listeners (a
    ///   preflighted POST, R13) from the allowed origins and the attacker.
    ///
    /// ```
    /// use corsproof_engine::generate::Generator;
    /// use corsproof_policy::Policy;
    /// let policy = Policy::from_toml_str(
    ///     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.test\"]\nrequest_headers = [\"X-A\"]\n",
    ///     "p.toml",
    /// )?;
    /// let gen = Generator::new(&policy, &url::Url::parse("http://127.0.0.1:8080")?);
    /// let baseline = gen.baseline(&policy);
    /// assert!(baseline.iter().any(|c| c.origin.serialization() == "https://app.test"
    ///     && c.method == "OPTIONS"
    ///     && c.headers.iter().any(|(n, _)| n == b"X-Requested-With")));
    /// assert!(baseline.iter().any(|c| c.url.path() == "/api%2Fx"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn baseline(&self, policy: &Policy) -> Vec<RequestInit> {
        let mut out = Vec::new();
        for scope in Scope::all(policy, &self.target) {
            self.product(&scope, &mut out);
            self.around(&scope, &mut out);
        }
        out
    }

    /// A request from `origin` to `path` with `method`, `headers` and `credentials`.
    fn case(
        &self,
        path: &str,
        origin: &Origin,
        method: &str,
        headers: &[(Vec<u8>, Vec<u8>)],
        credentials: CredentialsMode,
    ) -> RequestInit {
        let mut init = RequestInit::new(self.url(path), origin.clone());
        init.method = method.to_string();
        init.headers = headers.to_vec();
        init.credentials = credentials;
        init
    }

    /// Every origin class × method class × header class × credentials mode of `scope`, at
    /// its main path.
    fn product(&self, scope: &Scope, out: &mut Vec<RequestInit>) {
        for origin in &scope.origins {
            for method in &scope.methods {
                for headers in &scope.headers {
                    for credentials in [CredentialsMode::Omit, CredentialsMode::Include] {
                        out.push(self.case(&scope.path, origin, method, headers, credentials));
                    }
                }
            }
        }
    }

    /// The scope's other paths and boundary paths, Private Network Access and uploads.
    fn around(&self, scope: &Scope, out: &mut Vec<RequestInit>) {
        let both = [CredentialsMode::Omit, CredentialsMode::Include];
        for path in &scope.other_paths {
            for origin in &scope.plain {
                for credentials in both {
                    out.push(self.case(path, origin, "GET", &[], credentials));
                }
            }
        }
        for origin in &scope.origins {
            for credentials in both {
                let mut pna = self.case(&scope.path, origin, "GET", &[], credentials);
                pna.target_more_private = true;
                out.push(pna);
            }
        }
        for origin in scope.plain.iter().filter(|o| **o != self.target) {
            for credentials in both {
                let mut upload = self.case(&scope.path, origin, "POST", &[], credentials);
                upload.use_cors_preflight = true;
                out.push(upload);
            }
        }
    }
}

/// The classes a route is probed with in the baseline (or, with no route, the paths no
/// route covers).
#[derive(Debug)]
struct Scope {
    /// The main path: the first probe path, else the prefix.
    path: String,
    /// The route's other paths and its boundary paths.
    other_paths: Vec<String>,
    /// Origin classes: each allowed origin as spelled (a pattern's instance), one change of
    /// each [`Family`] to each entry, [`ATTACKER`], `null` and the target's own origin. A
    /// route with `origins = ["*"]` has only the last three; a path that is same-origin only
    /// has every other route's allowed origins instead of its own.
    origins: Vec<Origin>,
    /// The allowed origins as spelled, the attacker, `null` and the target's own origin.
    plain: Vec<Origin>,
    /// GET, POST, each listed method, an unlisted method, OPTIONS.
    methods: Vec<String>,
    /// None; each listed header (one name for `*`, and Authorization); each
    /// [`DEFAULTED_HEADERS`] entry not listed; a stranger.
    headers: Vec<Vec<(Vec<u8>, Vec<u8>)>>,
}

impl Scope {
    /// One scope per route, and one for the paths no route covers when there are any.
    fn all(policy: &Policy, target: &Origin) -> Vec<Scope> {
        let everyone: Vec<Origin> = policy
            .routes
            .iter()
            .flat_map(|r| entries(&r.origins))
            .filter_map(instance)
            .collect();
        let mut scopes: Vec<Scope> = policy
            .routes
            .iter()
            .map(|route| Scope::of_route(route, &everyone, target))
            .collect();
        let uncovered: Vec<String> = UNCOVERED
            .iter()
            .filter(|p| !policy.routes.iter().any(|r| p.starts_with(r.path.as_str())))
            .map(|p| p.to_string())
            .collect();
        if let Some((first, rest)) = uncovered.split_first() {
            let route = Route::same_origin_only(first);
            let mut scope = Scope::of_route(&route, &everyone, target);
            scope.path = first.clone();
            scope.other_paths = rest.to_vec();
            scopes.push(scope);
        }
        scopes
    }

    /// The classes of `route`; `everyone`: every route's allowed origins as spelled.
    fn of_route(route: &Route, everyone: &[Origin], target: &Origin) -> Scope {
        let fixed = [ATTACKER, "null"]
            .iter()
            .filter_map(|o| Origin::parse_serialized(o).ok())
            .chain([target.clone()]);
        let (allowed, families): (Vec<Origin>, Vec<Origin>) = match &route.origins {
            Origins::Any => (Vec::new(), Vec::new()),
            Origins::List(entries) if entries.is_empty() => (everyone.to_vec(), Vec::new()),
            Origins::List(entries) => (
                entries.iter().filter_map(instance).collect(),
                entries
                    .iter()
                    .flat_map(|e| Family::ALL.iter().filter_map(|f| mutation(e, *f)))
                    .collect(),
            ),
        };
        let mut plain = allowed;
        for o in fixed {
            if !plain.contains(&o) {
                plain.push(o);
            }
        }
        let mut origins = plain.clone();
        for o in families {
            if !origins.contains(&o) {
                origins.push(o);
            }
        }
        let path = route
            .probe_paths
            .first()
            .cloned()
            .unwrap_or_else(|| route.path.clone());
        let mut other_paths: Vec<String> = route_paths(route);
        other_paths.extend(boundary_paths(&route.path));
        other_paths.retain(|p| *p != path);
        Scope {
            path,
            other_paths,
            origins,
            plain,
            methods: method_classes(route),
            headers: header_classes(route),
        }
    }
}

/// GET, POST, each listed method, the first of [`UNLISTED_METHODS`] the route does not
/// list, OPTIONS; each once.
fn method_classes(route: &Route) -> Vec<String> {
    let mut out: Vec<String> = vec!["GET".into(), "POST".into()];
    out.extend(route.methods.iter().cloned());
    if let Some(m) = UNLISTED_METHODS
        .iter()
        .find(|m| !route.methods.iter().any(|l| l == *m))
    {
        out.push(m.to_string());
    }
    out.push("OPTIONS".into());
    let mut seen = BTreeSet::new();
    out.retain(|m| seen.insert(m.clone()));
    out
}

/// A value of request header `name` that is not CORS-safelisted, so that a browser sends it
/// only after a preflight.
fn unsafe_value(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "accept" => "application/json; charset=\"utf-8\"",
        "accept-language" => "en\"GB",
        "content-language" => "de\"x",
        "content-type" => "application/json",
        "range" => "bytes=0-1,4-5",
        "authorization" => "Bearer corsproof",
        _ => "1",
    }
}

/// No header; each listed header (for `*`: one name and Authorization, which `*` does not
/// cover on a credentialed request); each [`DEFAULTED_HEADERS`] entry not listed; a stranger.
fn header_classes(route: &Route) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    let listed: Vec<String> = match &route.request_headers {
        HeaderNames::Any => vec!["X-Corsproof-Any".into(), "Authorization".into()],
        HeaderNames::List(names) => names.clone(),
    };
    let one = |n: &str, v: &str| vec![(n.as_bytes().to_vec(), v.as_bytes().to_vec())];
    let mut out = vec![Vec::new()];
    for name in &listed {
        out.push(one(name, unsafe_value(name)));
    }
    for (name, value) in DEFAULTED_HEADERS {
        if !listed.iter().any(|l| l.eq_ignore_ascii_case(name)) {
            out.push(one(name, value));
        }
    }
    out.push(one(STRANGER_HEADER.0, STRANGER_HEADER.1));
    out
}

/// Paths no route is expected to cover (kept when none does; a route at `/` covers both).
const UNCOVERED: [&str; 2] = ["/corsproof-uncovered", "/"];

/// The URL of `path` (with a query or not) on `base`.
fn on_base(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    match path.split_once('?') {
        Some((p, q)) => {
            url.set_path(p);
            url.set_query(Some(q));
        }
        None => {
            url.set_path(path);
            url.set_query(None);
        }
    }
    url
}

/// Whether a browser's URL parser keeps `path` as it is: the URL of `path` on `base` has
/// exactly `path` as its path and query (no dot segment removed, nothing encoded).
fn browser_keeps(base: &Url, path: &str) -> bool {
    let url = on_base(base, path);
    let Ok(reparsed) = Url::parse(url.as_str()) else {
        return false;
    };
    let sent = match reparsed.query() {
        Some(q) => format!("{}?{q}", reparsed.path()),
        None => reparsed.path().to_string(),
    };
    sent == path
}

/// Every path of the pool: each route's paths and boundary paths, and the uncovered ones;
/// only those a browser sends as they are.
fn all_paths(policy: &Policy, base: &Url) -> Vec<String> {
    let mut paths = BTreeSet::new();
    for route in &policy.routes {
        paths.extend(route_paths(route));
        paths.extend(boundary_paths(&route.path));
    }
    for p in UNCOVERED {
        if !policy.routes.iter().any(|r| p.starts_with(r.path.as_str())) {
            paths.insert(p.to_string());
        }
    }
    paths
        .into_iter()
        .filter(|p| browser_keeps(base, p))
        .collect()
}

/// The paths probed under a route: its prefix, subpaths, a path its server does not have,
/// and its `probe_paths`.
fn route_paths(route: &Route) -> Vec<String> {
    let prefix = route.path.as_str();
    let dir = if prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    };
    let mut out = vec![
        prefix.to_string(),
        format!("{dir}corsproof-probe"),
        format!("{dir}a/b?q=1"),
        format!("{dir}corsproof-missing-404"),
        // `corsproof serve`'s demo answers 500 under `.../error`: CORS headers must be on
        // error responses too.
        format!("{dir}error"),
    ];
    out.extend(route.probe_paths.iter().cloned());
    out
}

/// The paths on the boundary of route prefix `prefix`, where real servers' prefix matching
/// departs from the policy's (P1): the prefix without its last byte (`/api`), letters, `-`,
/// `.` and `_` appended to it without its trailing slash (`/apifoo`, `/api-v2`, `/api.json`,
/// `/api_x`), the prefix in other case (`/API/`), with its first unreserved character
/// percent-encoded (`/%61pi/`: the same path), with `%2F` for its slash (`/api%2Fx`: not the
/// same path), with a doubled slash (`/api//x`), and with an empty query (`/api?`). Only
/// paths a browser's URL parser keeps as they are: no dot segments.
///
/// ```
/// use corsproof_engine::generate::boundary_paths;
/// let b = boundary_paths("/api/");
/// for p in ["/api", "/apifoo", "/api-v2", "/api.json", "/api_x", "/API/", "/%61pi/",
///           "/api%2Fx", "/api//x", "/api?"] {
///     assert!(b.iter().any(|x| x == p), "{p}");
/// }
/// assert!(boundary_paths("/").is_empty());
/// ```
pub fn boundary_paths(prefix: &str) -> Vec<String> {
    let stem = prefix.strip_suffix('/').unwrap_or(prefix);
    if stem.is_empty() {
        return Vec::new();
    }
    let mut out = vec![prefix[..prefix.len() - 1].to_string()];
    for tail in ["foo", "-v2", ".json", "_x"] {
        out.push(format!("{stem}{tail}"));
    }
    let swapped: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    out.push(swapped);
    if let Some(at) = prefix.bytes().position(|b| b.is_ascii_alphanumeric()) {
        let byte = prefix.as_bytes()[at];
        out.push(format!("{}%{byte:02X}{}", &prefix[..at], &prefix[at + 1..]));
    }
    out.push(format!("{stem}%2Fx"));
    out.push(format!("{stem}//x"));
    out.push(format!("{stem}?"));
    let base = Url::parse("http://127.0.0.1/").ok();
    let mut seen = BTreeSet::new();
    out.retain(|p| {
        p.len() > 1
            && p != prefix
            && base.as_ref().is_some_and(|b| browser_keeps(b, p))
            && seen.insert(p.clone())
    });
    out
}

/// The entries of a route's `origins` (none for `*`).
fn entries(origins: &Origins) -> &[OriginEntry] {
    match origins {
        Origins::Any => &[],
        Origins::List(entries) => entries,
    }
}

/// The policy's subdomain patterns as (scheme, domain, port).
fn patterns(policy: &Policy) -> Vec<(Scheme, String, Option<u16>)> {
    policy
        .routes
        .iter()
        .flat_map(|r| entries(&r.origins))
        .filter_map(|e| match e {
            OriginEntry::Subdomain {
                scheme,
                domain,
                port,
            } => Some((*scheme, domain.clone(), *port)),
            _ => None,
        })
        .collect()
}

/// The origin an entry allows as the policy spells it: an exact origin or `null` itself, a
/// pattern's instance with the label `a1`.
///
/// ```
/// use corsproof_engine::generate::instance;
/// let e = "https://*.partner.example".parse().unwrap();
/// assert_eq!(instance(&e).unwrap().serialization(), "https://a1.partner.example");
/// ```
pub fn instance(entry: &OriginEntry) -> Option<Origin> {
    let serialized = match entry {
        OriginEntry::Exact { .. } | OriginEntry::Null => entry.to_string(),
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => serialize(*scheme, &format!("a1.{domain}"), *port),
    };
    Origin::parse_serialized(&serialized).ok()
}

fn serialize(scheme: Scheme, host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{}://{host}:{p}", scheme.as_str()),
        None => format!("{}://{host}", scheme.as_str()),
    }
}

/// A family of changes to an allowed origin that real allowlists get wrong. Each change is
/// made alone to the policy's spelling of an entry (for a pattern `scheme://*.domain`, to its
/// instance `scheme://a1.domain` or to its domain), never two at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// `http` for `https` and back (`http://app.example.com`): host-only comparisons.
    Scheme,
    /// Another port: `:8443` added, or the listed port left out.
    Port,
    /// The allowed host as the start of an attacker's (`app.example.com.evil.example`):
    /// `startsWith` and unanchored regexes.
    Suffix,
    /// The allowed host or pattern domain as the end of an attacker's, no dot in between
    /// (`evilapp.example.com`, `evilpartner.example`): `endsWith` without a dot boundary.
    Prefix,
    /// A subdomain of an exact host (`evil.app.example.com`): exact entries matched as
    /// patterns.
    Subdomain,
    /// The first dot replaced (`appxexample.com`): unescaped dots in regexes.
    Dot,
    /// The last character left out (`app.example.co`): the origin taken as a prefix of the
    /// allowed one.
    Truncated,
    /// The parent domain, or a pattern's apex (`example.com`, `partner.example`).
    Parent,
    /// The first letter that has one replaced by a Cyrillic look-alike, as the URL parser
    /// encodes it (punycode).
    Homograph,
    /// A loopback IP address with the same scheme and port.
    Ip,
    /// A pattern host whose part in front of the domain is not DNS labels (`a_b.`): P4
    /// leaves granting it open, so a server may answer it either way.
    NotDnsLabel,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 11] = [
        Family::Scheme,
        Family::Port,
        Family::Suffix,
        Family::Prefix,
        Family::Subdomain,
        Family::Dot,
        Family::Truncated,
        Family::Parent,
        Family::Homograph,
        Family::Ip,
        Family::NotDnsLabel,
    ];
}

/// Cyrillic letters a browser's URL parser keeps, that look like Latin ones.
const LOOK_ALIKES: [(char, char); 8] = [
    ('a', 'а'),
    ('c', 'с'),
    ('e', 'е'),
    ('i', 'і'),
    ('o', 'о'),
    ('p', 'р'),
    ('x', 'х'),
    ('y', 'у'),
];

/// `host` with its first look-alike letter replaced, as the URL parser serializes it
/// (punycode).
fn homograph(host: &str) -> Option<String> {
    let (at, latin) = host
        .char_indices()
        .find(|(_, c)| LOOK_ALIKES.iter().any(|(l, _)| l == c))?;
    let cyrillic = LOOK_ALIKES.iter().find(|(l, _)| *l == latin)?.1;
    let unicode = format!("{}{cyrillic}{}", &host[..at], &host[at + 1..]);
    let url = Url::parse(&format!("http://{unicode}/")).ok()?;
    url.host_str().map(str::to_string)
}

/// The change of `family` to `entry`, when it applies and gives an origin a browser can
/// send (a serialized origin the URL parser round-trips); `None` otherwise.
///
/// ```
/// use corsproof_engine::generate::{mutation, Family};
/// let e = "https://app.example.com".parse().unwrap();
/// let m = |f| mutation(&e, f).map(|o| o.serialization().to_string());
/// assert_eq!(m(Family::Scheme).as_deref(), Some("http://app.example.com"));
/// assert_eq!(m(Family::Port).as_deref(), Some("https://app.example.com:8443"));
/// assert_eq!(m(Family::Suffix).as_deref(), Some("https://app.example.com.evil.example"));
/// assert_eq!(m(Family::Homograph).as_deref(), Some("https://xn--pp-6kc.example.com"));
/// assert_eq!(m(Family::NotDnsLabel), None);
/// ```
pub fn mutation(entry: &OriginEntry, family: Family) -> Option<Origin> {
    variants(entry, family)
        .into_iter()
        .find_map(|s| Origin::parse_serialized(&s).ok())
}

/// Every change of `family` to `entry`, serialized (not all of them origins: the caller
/// keeps those the URL parser round-trips).
fn variants(entry: &OriginEntry, family: Family) -> Vec<String> {
    let (scheme, host, port, pattern) = match entry {
        OriginEntry::Null => return Vec::new(),
        OriginEntry::Exact { scheme, host, port } => (*scheme, host.as_str(), *port, false),
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => (*scheme, domain.as_str(), *port, true),
    };
    // A pattern is spelled by its instance; changes to the host are made to its domain.
    let front = if pattern { "a1." } else { "" };
    let spelled = format!("{front}{host}");
    match family {
        Family::Scheme => {
            let other = match scheme {
                Scheme::Http => Scheme::Https,
                Scheme::Https => Scheme::Http,
            };
            vec![serialize(other, &spelled, port)]
        }
        Family::Port => {
            let others = match port {
                Some(p) => vec![None, Some(p.checked_add(1).unwrap_or(p - 1))],
                None => vec![Some(8443), Some(8080)],
            };
            others
                .into_iter()
                .map(|p| serialize(scheme, &spelled, p))
                .collect()
        }
        Family::Ip => vec![
            serialize(scheme, "127.0.0.1", port),
            serialize(scheme, "[::1]", port),
        ],
        _ => host_variants(family, host, pattern)
            .into_iter()
            .filter(|h| !h.is_empty() && !h.starts_with('.') && !h.ends_with('.'))
            .map(|h| serialize(scheme, &h, port))
            .collect(),
    }
}

/// The hosts of `family`'s changes to `host` (a pattern's domain when `pattern`).
fn host_variants(family: Family, host: &str, pattern: bool) -> Vec<String> {
    let is_ip = host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let front = if pattern { "a1." } else { "" };
    let spelled = format!("{front}{host}");
    if is_ip {
        return Vec::new();
    }
    match family {
        Family::Suffix => vec![
            format!("{spelled}.evil.example"),
            format!("{spelled}-evil.example"),
        ],
        Family::Prefix => vec![format!("evil{host}"), format!("evil-{host}")],
        Family::Subdomain if !pattern => vec![format!("evil.{host}")],
        Family::Dot if host.contains('.') => ["x", "-", "_"]
            .iter()
            .map(|r| format!("{front}{}", host.replacen('.', r, 1)))
            .collect(),
        Family::Truncated => vec![spelled[..spelled.len() - 1].to_string()],
        Family::Parent if pattern => vec![host.to_string()],
        Family::Parent => host
            .split_once('.')
            .filter(|(_, parent)| parent.contains('.'))
            .map(|(_, parent)| vec![parent.to_string()])
            .unwrap_or_default(),
        Family::Homograph => homograph(host)
            .map(|h| vec![format!("{front}{h}")])
            .unwrap_or_default(),
        Family::NotDnsLabel if pattern => vec![format!("a_b.{host}")],
        _ => Vec::new(),
    }
}

/// An allowed entry and every change of every [`Family`] to it that gives an origin a browser
/// can send, one change at a time, serialized: the entry as spelled (for a pattern, instances
/// with one and two labels), then the changes.
///
/// ```
/// use corsproof_engine::generate::mutations;
/// let entry = "https://app.example.com".parse().unwrap();
/// let m = mutations(&entry);
/// assert_eq!(m[0], "https://app.example.com");
/// for o in ["http://app.example.com", "https://app.example.com.evil.example",
///           "https://evilapp.example.com", "https://appxexample.com", "https://app.example.co",
///           "https://app.example.com:8443"] {
///     assert!(m.iter().any(|x| x == o), "{o}");
/// }
/// assert!(!m.iter().any(|x| x.starts_with("http://") && x.contains(":8443")));
/// ```
pub fn mutations(entry: &OriginEntry) -> Vec<String> {
    let spelled = match entry {
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => vec![
            serialize(*scheme, &format!("a1.{domain}"), *port),
            serialize(*scheme, &format!("x-y.z9.{domain}"), *port),
        ],
        _ => vec![entry.to_string()],
    };
    let mut out: Vec<String> = spelled
        .into_iter()
        .chain(Family::ALL.iter().flat_map(|f| variants(entry, *f)))
        .filter(|s| Origin::parse_serialized(s).is_ok())
        .collect();
    let mut seen = BTreeSet::new();
    out.retain(|s| seen.insert(s.clone()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsproof_oracle::intent::route_for;

    fn corpus() -> Vec<(String, Policy)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/policies");
        let mut out: Vec<(String, Policy)> = std::fs::read_dir(&dir)
            .expect("corpus/policies")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                (
                    p.display().to_string(),
                    Policy::from_path(&p).expect("policy"),
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(out.len() >= 4);
        out
    }

    fn base() -> Url {
        Url::parse("http://127.0.0.1:8080/").expect("a URL")
    }

    fn mixed() -> Policy {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../corpus/policies/mixed-routes.toml");
        Policy::from_path(&path).expect("mixed-routes.toml")
    }

    /// What a browser's URL parser makes of `url`: its path and query as sent.
    fn as_sent(url: &Url) -> String {
        let reparsed = Url::parse(url.as_str()).expect("a URL a browser parses");
        match reparsed.query() {
            Some(q) => format!("{}?{q}", reparsed.path()),
            None => reparsed.path().to_string(),
        }
    }

    #[test]
    fn every_path_is_one_a_browser_sends_as_it_is() {
        for (name, policy) in corpus() {
            let g = Generator::new(&policy, &base());
            for path in g.paths() {
                assert_eq!(&as_sent(&g.url(path)), path, "{name}");
                assert!(
                    !path.split(['/', '?']).any(|s| s == "." || s == ".."),
                    "{name}: {path}"
                );
            }
            for case in g.baseline(&policy) {
                let sent = as_sent(&case.url);
                assert!(g.paths().contains(&sent), "{name}: {sent}");
            }
        }
    }

    #[test]
    fn boundary_paths_of_every_class_are_generated_and_judged_by_p1() {
        let policy = mixed();
        let g = Generator::new(&policy, &base());
        let route = |p: &str| route_for(&policy, p).map(|i| policy.routes[i].label().to_string());
        for (path, covering) in [
            ("/api", None),
            ("/apifoo", None),
            ("/api-v2", None),
            ("/api.json", None),
            ("/api_x", None),
            ("/API/", None),
            ("/%61pi/", Some("api")),
            ("/api%2Fx", None),
            ("/api//x", Some("api")),
            ("/api?", None),
            ("/admin", None),
            ("/%61dmin/", Some("admin")),
            ("/api/healt", Some("api")),
            ("/api/healthfoo", Some("api-health")),
            ("/public%2Fx", None),
        ] {
            assert!(g.paths().iter().any(|p| p == path), "{path} not generated");
            let sent = as_sent(&g.url(path));
            let sent_path = sent.split('?').next().unwrap_or_default();
            assert_eq!(route(sent_path).as_deref(), covering, "{path}");
        }
        assert!(boundary_paths("/").is_empty());
    }

    #[test]
    fn every_origin_is_one_a_browser_sends() {
        for (name, policy) in corpus() {
            let g = Generator::new(&policy, &base());
            let baseline = g.baseline(&policy);
            let all = g.origins().iter().chain(baseline.iter().map(|c| &c.origin));
            for o in all {
                if *o == Origin::Opaque {
                    continue;
                }
                let url = Url::parse(o.serialization()).expect("a URL");
                assert_eq!(
                    url.origin().ascii_serialization(),
                    o.serialization(),
                    "{name}"
                );
            }
        }
        // Punycode comes from the URL parser encoding a look-alike, never from text: every
        // `xn--` label of the pool decodes to a Cyrillic look-alike.
        let policy = mixed();
        for o in Generator::new(&policy, &base()).origins() {
            let host = o.host().unwrap_or_default();
            if host.contains("xn--") {
                let unicode = url::quirks::domain_to_unicode(host);
                assert!(
                    unicode
                        .chars()
                        .any(|c| LOOK_ALIKES.iter().any(|(_, l)| *l == c)),
                    "{host}: {unicode}"
                );
            }
        }
    }

    /// Every mutated origin differs from an allowed origin as spelled in one part only
    /// (scheme, host or explicit port): no port change on top of a host change.
    #[test]
    fn mutations_change_one_part_of_the_spelling() {
        let parts = |o: &Origin| match o {
            Origin::Tuple {
                scheme, host, port, ..
            } => Some((scheme.clone(), host.clone(), *port)),
            Origin::Opaque => None,
        };
        for (name, policy) in corpus() {
            for route in &policy.routes {
                for entry in entries(&route.origins) {
                    let Some(spelled) = instance(entry).as_ref().and_then(parts) else {
                        continue;
                    };
                    let allowed = Origins::List(vec![entry.clone()]);
                    for m in mutations(entry) {
                        let o = Origin::parse_serialized(&m).expect("an origin");
                        if corsproof_oracle::intent::origin_matches(&allowed, &o) {
                            continue;
                        }
                        let (s, h, p) = parts(&o).expect("a tuple origin");
                        let changed = usize::from(s != spelled.0)
                            + usize::from(h != spelled.1)
                            + usize::from(p != spelled.2);
                        assert_eq!(changed, 1, "{name}: {m} from {entry}");
                    }
                }
            }
        }
        let pattern: OriginEntry = "https://*.partner.example".parse().expect("pattern");
        let m = mutations(&pattern);
        assert!(
            !m.iter()
                .any(|o| o.contains(":8443") && o != "https://a1.partner.example:8443"),
            "{m:?}"
        );
        for family in Family::ALL {
            if family != Family::Subdomain {
                assert!(mutation(&pattern, family).is_some(), "{family:?}");
            }
        }
    }

    /// Asserts that `baseline` has, at `path`, every origin × method × header (`None`: no
    /// header) × credentials mode (omit, include): plain requests (no PNA, no upload).
    fn covers(
        baseline: &[RequestInit],
        path: &str,
        origins: &[&str],
        methods: &[&str],
        headers: &[Option<&str>],
    ) {
        let has = |origin: &str, method: &str, header: Option<&str>, include: bool| {
            baseline.iter().any(|c| {
                c.url.path() == path
                    && c.origin.serialization() == origin
                    && c.method == method
                    && c.headers.len() == usize::from(header.is_some())
                    && header.is_none_or(|h| c.headers[0].0.eq_ignore_ascii_case(h.as_bytes()))
                    && (c.credentials == CredentialsMode::Include) == include
                    && !c.target_more_private
                    && !c.use_cors_preflight
            })
        };
        for origin in origins {
            for method in methods {
                for header in headers {
                    for include in [false, true] {
                        assert!(
                            has(origin, method, *header, include),
                            "{path}: {origin} {method} {header:?} include={include}"
                        );
                    }
                }
            }
        }
    }

    /// The baseline has every route × origin class × method class × header class ×
    /// credentials mode of `corpus/policies/mixed-routes.toml`, written out here.
    #[test]
    fn the_baseline_covers_every_class_of_mixed_routes() {
        let policy = mixed();
        let baseline = Generator::new(&policy, &base()).baseline(&policy);
        let target = "http://127.0.0.1:8080";
        let api_origins = [
            "https://app.example.com",
            "https://staging.example.com:8443",
            "http://app.example.com",
            "https://app.example.com:8443",
            "https://staging.example.com",
            "https://app.example.com.evil.example",
            "https://evilapp.example.com",
            "https://evil.staging.example.com:8443",
            "https://appxexample.com",
            "https://app.example.co",
            "https://example.com",
            "https://xn--pp-6kc.example.com",
            "https://127.0.0.1",
            ATTACKER,
            "null",
            target,
        ];
        let api_methods = ["GET", "POST", "PUT", "DELETE", "PURGE", "OPTIONS"];
        let api_headers = [
            None,
            Some("Authorization"),
            Some("Content-Type"),
            Some("X-Requested-With"),
            Some("Accept"),
            Some("X-Corsproof-Other"),
        ];
        covers(
            &baseline,
            "/api/orders",
            &api_origins,
            &api_methods,
            &api_headers,
        );
        let methods = ["GET", "POST", "PURGE", "OPTIONS"];
        let headers = [
            None,
            Some("X-Requested-With"),
            Some("Accept"),
            Some("Content-Type"),
            Some("X-Corsproof-Other"),
        ];
        let anyone = [ATTACKER, "null", target];
        covers(&baseline, "/public/logo.svg", &anyone, &methods, &headers);
        covers(&baseline, "/api/health", &anyone, &methods, &headers);
        let elsewhere = [
            "https://app.example.com",
            "https://staging.example.com:8443",
        ];
        for path in ["/admin/users", "/corsproof-uncovered"] {
            covers(&baseline, path, &elsewhere, &methods, &headers);
            covers(&baseline, path, &anyone, &methods, &headers);
        }
        // Boundary paths, from the allowed origins, with and without credentials.
        for path in [
            "/api",
            "/apifoo",
            "/api.json",
            "/API/",
            "/%61pi/",
            "/api%2Fx",
        ] {
            covers(&baseline, path, &elsewhere, &["GET"], &[None]);
        }
    }

    #[test]
    fn the_baseline_is_the_same_for_every_seed_and_its_size_is_bounded() {
        let policy = mixed();
        let g = Generator::new(&policy, &base());
        let baseline = g.baseline(&policy);
        assert_eq!(baseline, g.baseline(&policy));
        assert!(baseline.len() < 4000, "{}", baseline.len());
        eprintln!("mixed-routes.toml: {} baseline cases", baseline.len());
    }

    #[test]
    fn pattern_mutations_include_the_apex_and_instances() {
        let entry: OriginEntry = "https://*.example.com".parse().unwrap();
        let m = mutations(&entry);
        assert!(m.contains(&"https://example.com".to_string()));
        assert!(m.contains(&"http://a1.example.com".to_string()));
        assert!(m.contains(&"https://evilexample.com".to_string()));
        assert!(m.contains(&"https://a1.example.com.evil.example".to_string()));
        assert!(m.contains(&"https://a_b.example.com".to_string()));
    }

    #[test]
    fn pattern_instances_have_random_labels() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let p = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://*.partner.test\"]\n",
            "p.toml",
        )
        .unwrap();
        let g = Generator::new(&p, &Url::parse("http://127.0.0.1:1").unwrap());
        let mut runner = TestRunner::deterministic();
        let mut instances = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let o = g.origin().new_tree(&mut runner).unwrap().current();
            let s = o.serialization().to_string();
            if s.ends_with(".partner.test")
                && s.starts_with("https://")
                && !g.origins().contains(&o)
            {
                instances.insert(s);
            }
        }
        assert!(instances.len() > 20, "{instances:?}");
    }

    #[test]
    fn uncovered_paths_only_when_no_route_covers_them() {
        let base = Url::parse("http://127.0.0.1:1").unwrap();
        let p = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\n",
            "p.toml",
        )
        .unwrap();
        assert!(!Generator::new(&p, &base)
            .paths()
            .contains(&"/corsproof-uncovered".to_string()));
        let p = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"*\"]\n",
            "p.toml",
        )
        .unwrap();
        let g = Generator::new(&p, &base);
        assert!(g.paths().contains(&"/corsproof-uncovered".to_string()));
        assert!(g.paths().contains(&"/api/a/b?q=1".to_string()));
    }
}
