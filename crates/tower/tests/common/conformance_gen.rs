//! Strategies of the conformance properties (`tests/conformance.rs`): valid policies written
//! as TOML, browser requests biased by the policy (allowed origins, pattern instances,
//! near-miss mutations, same-origin, covered and uncovered paths), the inner service's
//! behaviour, raw header junk for the robustness property.
//!
//! Request-side choices are drawn independently of the policy and resolved against it in the
//! test ([`OriginPick::resolve`], [`PathPick::resolve`]), so that shrinking stays simple.
#![allow(dead_code)]

use std::fmt::{self, Write as _};

use corsproof_oracle::{CredentialsMode, Origin, Profile, RequestInit};
use corsproof_policy::{OriginEntry, Origins, Policy};
use proptest::bool::weighted;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, subsequence, Index};
use url::Url;

/// The origin of the server under test: every request goes to `TARGET_ORIGIN` + a path.
pub const TARGET_ORIGIN: &str = "https://api.example.com";

// ---------------------------------------------------------------------------------------------
// Policies

/// Route path prefixes (`/api/admin/` and `/api/v1/` nest in `/api/`, which nests in `/api`;
/// `/caf%C3%A9/` is what browsers send for `/café/`); `/` is added rarely.
const ROUTE_PATHS: [&str; 7] = [
    "/api/",
    "/api/admin/",
    "/public/",
    "/device/",
    "/api/v1/",
    "/api",
    "/caf%C3%A9/",
];

/// Exact origins: http and https, with and without ports, over a small host pool.
const EXACT_ORIGINS: [&str; 9] = [
    "https://app.example.com",
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://example.com",
    "https://partner.example.net",
    "http://partner.example.net:8080",
    "http://localhost",
    "http://localhost:3000",
    "https://localhost:8443",
];

/// Subdomain patterns.
const PATTERNS: [&str; 4] = [
    "https://*.example.com",
    "https://*.example.com:8443",
    "http://*.example.com",
    "https://*.partner.example.net",
];

/// Methods a route may list: PUT DELETE PATCH POST, a custom token, and OPTIONS.
const POLICY_METHODS: [&str; 6] = ["PUT", "DELETE", "PATCH", "POST", "PURGE", "OPTIONS"];

const POLICY_REQUEST_HEADERS: [&str; 4] =
    ["x-request-id", "content-type", "authorization", "x-custom"];

const POLICY_EXPOSE_HEADERS: [&str; 4] = ["x-request-id", "x-total-count", "date", "set-cookie"];

/// `max_age` values: zero, the browser default, typical, Chromium's cap, Firefox's cap, and
/// one above every cap (risky).
const MAX_AGES: [u64; 6] = [0, 5, 600, 7200, 86400, 100_000];

/// `["*"]` or a list of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum List {
    /// `["*"]`.
    Any,
    /// The entries, possibly none.
    Names(Vec<&'static str>),
}

impl List {
    fn toml(&self) -> String {
        match self {
            List::Any => "[\"*\"]".to_string(),
            List::Names(names) => {
                let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                format!("[{}]", quoted.join(", "))
            }
        }
    }
}

/// One generated route, before it is written as TOML.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub path: &'static str,
    pub origins: List,
    pub methods: Vec<&'static str>,
    pub request_headers: List,
    pub expose_headers: List,
    pub credentials: bool,
    pub max_age: Option<u64>,
    pub private_network: bool,
    /// `allow_risky = true` even where nothing is risky (the middleware must not mind).
    pub gratuitous_allow_risky: bool,
}

impl RouteSpec {
    /// Whether the route holds one of the risky settings the middleware refuses without
    /// `allow_risky`: `null`, `http:` origins with credentials, `max_age` above 86400.
    fn risky(&self) -> bool {
        let origins = match &self.origins {
            List::Any => &[][..],
            List::Names(names) => &names[..],
        };
        origins.contains(&"null")
            || (self.credentials && origins.iter().any(|o| o.starts_with("http:")))
            || self.max_age.is_some_and(|age| age > 86400)
    }

    fn write_toml(&self, out: &mut String) {
        let _ = writeln!(out, "\n[[route]]");
        let _ = writeln!(out, "path = \"{}\"", self.path);
        let _ = writeln!(out, "origins = {}", self.origins.toml());
        let _ = writeln!(
            out,
            "methods = {}",
            List::Names(self.methods.clone()).toml()
        );
        let _ = writeln!(out, "request_headers = {}", self.request_headers.toml());
        let _ = writeln!(out, "expose_headers = {}", self.expose_headers.toml());
        let _ = writeln!(out, "credentials = {}", self.credentials);
        if let Some(age) = self.max_age {
            let _ = writeln!(out, "max_age = {age}");
        }
        let _ = writeln!(out, "private_network = {}", self.private_network);
        if self.risky() || self.gratuitous_allow_risky {
            let _ = writeln!(out, "allow_risky = true");
        }
    }
}

/// A generated policy: its TOML text (what failures print) and the parsed policy.
#[derive(Clone)]
pub struct GenPolicy {
    pub toml: String,
    pub policy: Policy,
}

impl fmt::Debug for GenPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy.toml:\n{}", self.toml)
    }
}

fn origins(credentials: bool) -> BoxedStrategy<List> {
    let list = (
        // Mostly a few exact origins; sometimes more than 8 (the middleware's hashed set).
        prop_oneof![
            5 => subsequence(EXACT_ORIGINS.to_vec(), 0..=3),
            1 => subsequence(EXACT_ORIGINS.to_vec(), 7..=9),
        ],
        subsequence(PATTERNS.to_vec(), 0..=2),
        weighted(0.15),
    )
        .prop_map(|(mut entries, patterns, null)| {
            entries.extend(patterns);
            if null {
                entries.push("null");
            }
            if entries.is_empty() {
                entries.push("https://app.example.com");
            }
            List::Names(entries)
        });
    if credentials {
        // `*` is invalid with credentials.
        prop_oneof![1 => Just(List::Names(Vec::new())), 8 => list].boxed()
    } else {
        // Simplest first: shrinking moves towards earlier alternatives.
        prop_oneof![
            1 => Just(List::Names(Vec::new())),
            7 => list,
            2 => Just(List::Any),
        ]
        .boxed()
    }
}

fn names(pool: &'static [&'static str], any: bool) -> BoxedStrategy<List> {
    let list = subsequence(pool.to_vec(), 0..=pool.len()).prop_map(List::Names);
    if any {
        prop_oneof![4 => list, 1 => Just(List::Any)].boxed()
    } else {
        list.boxed()
    }
}

fn route(path: &'static str) -> impl Strategy<Value = RouteSpec> {
    any::<bool>().prop_flat_map(move |credentials| {
        (
            origins(credentials),
            subsequence(POLICY_METHODS.to_vec(), 0..=4),
            // `request_headers = ["*"]` is invalid with credentials.
            names(&POLICY_REQUEST_HEADERS, !credentials),
            names(&POLICY_EXPOSE_HEADERS, true),
            option::weighted(0.6, select(MAX_AGES.to_vec())),
            weighted(0.3),
            weighted(0.1),
        )
            .prop_map(
                move |(
                    origins,
                    methods,
                    request_headers,
                    expose_headers,
                    max_age,
                    private_network,
                    gratuitous_allow_risky,
                )| RouteSpec {
                    path,
                    origins,
                    methods,
                    request_headers,
                    expose_headers,
                    credentials,
                    max_age,
                    private_network,
                    gratuitous_allow_risky,
                },
            )
    })
}

/// Valid policies of 1–4 routes with distinct path prefixes.
pub fn policy() -> impl Strategy<Value = GenPolicy> {
    (subsequence(ROUTE_PATHS.to_vec(), 1..=4), weighted(0.08))
        .prop_flat_map(|(mut paths, root)| {
            if root {
                // A catch-all route: then no path is uncovered.
                let last = paths.len() - 1;
                paths[last] = "/";
            }
            paths.into_iter().map(route).collect::<Vec<_>>()
        })
        .prop_map(|routes| {
            let mut toml = String::from("version = 1\n");
            for r in &routes {
                r.write_toml(&mut toml);
            }
            let policy = corsproof_policy::Policy::from_toml_str(&toml, "generated.toml")
                .unwrap_or_else(|e| panic!("generator bug, invalid policy: {e}\n{toml}"));
            GenPolicy { toml, policy }
        })
}

// ---------------------------------------------------------------------------------------------
// Origins of requests

/// A near miss derived from an origin the policy lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// The parent domain of an exact host, or a pattern's own domain (never matched by it).
    Apex,
    /// `https` ↔ `http`, same host and port.
    SchemeFlip,
    /// The port removed, or `:4443` added.
    OtherPort,
}

/// How a request's origin is chosen; resolved against the policy.
#[derive(Debug, Clone)]
pub enum OriginPick {
    /// An entry of the policy, as listed (a pattern gives `a.` + its domain).
    Listed(Index),
    /// An instance of one of the policy's subdomain patterns: one label or two.
    Instance(Index, bool),
    /// A near miss of one of the policy's entries.
    Mutated(Mutation, Index),
    /// The target's own origin: a same-origin request.
    SameOrigin,
    /// A fixed origin: attackers, suffix/prefix tricks, `null`, the target on another port.
    Fixed(&'static str),
}

const FIXED_ORIGINS: [&str; 8] = [
    "https://evilexample.com",
    "https://app.example.com.evil.test",
    "https://example.com",
    "null",
    "https://attacker.test",
    "https://api.example.com:8443",
    "http://api.example.com",
    "https://a.b.example.com",
];

pub fn origin_pick() -> impl Strategy<Value = OriginPick> {
    prop_oneof![
        9 => any::<Index>().prop_map(OriginPick::Listed),
        4 => (any::<Index>(), any::<bool>()).prop_map(|(i, deep)| OriginPick::Instance(i, deep)),
        5 => (
            select(vec![Mutation::Apex, Mutation::SchemeFlip, Mutation::OtherPort]),
            any::<Index>()
        )
            .prop_map(|(m, i)| OriginPick::Mutated(m, i)),
        2 => Just(OriginPick::SameOrigin),
        3 => select(FIXED_ORIGINS.to_vec()).prop_map(OriginPick::Fixed),
    ]
}

/// The origin entries of the route covering `path` when it lists some, else every entry of
/// the policy, in route order: picks lean towards origins that the request's route allows.
pub fn policy_entries(policy: &Policy, path: &str) -> Vec<OriginEntry> {
    let list = |origins: &Origins| match origins {
        Origins::List(list) => list.clone(),
        Origins::Any => Vec::new(),
    };
    let covering = corsproof_oracle::intent::route_for(policy, path)
        .map(|i| list(&policy.routes[i].origins))
        .unwrap_or_default();
    if !covering.is_empty() {
        return covering;
    }
    policy
        .routes
        .iter()
        .flat_map(|r| list(&r.origins))
        .collect()
}

/// `scheme://host[:port]` with the default port left out, as browsers serialize it.
fn serialize(scheme: &str, host: &str, port: Option<u16>) -> String {
    let default = if scheme == "https" { 443 } else { 80 };
    match port {
        Some(p) if p != default => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    }
}

/// (scheme, host, port) of an entry; a pattern gives its `a.` instance, `null` gives
/// `https://app.example.com`.
fn tuple_of(entry: &OriginEntry) -> (String, String, Option<u16>) {
    match entry {
        OriginEntry::Exact { scheme, host, port } => (scheme.as_str().into(), host.clone(), *port),
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => (scheme.as_str().into(), format!("a.{domain}"), *port),
        OriginEntry::Null => ("https".into(), "app.example.com".into(), None),
    }
}

impl OriginPick {
    /// The serialized origin this pick stands for under `policy`, for a request to `path`
    /// (always a valid serialization: `null` or `scheme://host[:port]`).
    pub fn resolve(&self, policy: &Policy, path: &str) -> String {
        let entries = policy_entries(policy, path);
        let entry = |i: &Index| (!entries.is_empty()).then(|| i.get(&entries).clone());
        match self {
            OriginPick::Listed(i) => match entry(i) {
                None => "https://app.example.com".to_string(),
                Some(OriginEntry::Null) => "null".to_string(),
                Some(e) => {
                    let (s, h, p) = tuple_of(&e);
                    serialize(&s, &h, p)
                }
            },
            OriginPick::Instance(i, deep) => {
                let patterns: Vec<&OriginEntry> = entries
                    .iter()
                    .filter(|e| matches!(e, OriginEntry::Subdomain { .. }))
                    .collect();
                let labels = if *deep { "a.b" } else { "a" };
                match patterns.is_empty() {
                    true => format!("https://{labels}.example.com"),
                    false => match i.get(&patterns) {
                        OriginEntry::Subdomain {
                            scheme,
                            domain,
                            port,
                        } => serialize(scheme.as_str(), &format!("{labels}.{domain}"), *port),
                        _ => unreachable!(),
                    },
                }
            }
            OriginPick::Mutated(m, i) => {
                let e = entry(i).unwrap_or(OriginEntry::Exact {
                    scheme: corsproof_policy::Scheme::Https,
                    host: "app.example.com".into(),
                    port: None,
                });
                let (scheme, host, port) = tuple_of(&e);
                match m {
                    Mutation::Apex => {
                        let host = match &e {
                            OriginEntry::Subdomain { domain, .. } => domain.clone(),
                            _ => match host.split_once('.') {
                                Some((_, parent)) if parent.contains('.') => parent.to_string(),
                                // `example.com` → `www.example.com`; `localhost` → `a.localhost`.
                                _ => format!("www.{host}"),
                            },
                        };
                        serialize(&scheme, &host, port)
                    }
                    Mutation::SchemeFlip => {
                        let flipped = if scheme == "https" { "http" } else { "https" };
                        serialize(flipped, &host, port)
                    }
                    Mutation::OtherPort => match port {
                        Some(_) => serialize(&scheme, &host, None),
                        None => serialize(&scheme, &host, Some(4443)),
                    },
                }
            }
            OriginPick::SameOrigin => TARGET_ORIGIN.to_string(),
            OriginPick::Fixed(o) => o.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Paths

/// Suffixes appended to a route's prefix.
const SUFFIXES: [&str; 7] = [
    "",
    "items",
    "items/7",
    "a.json?x=1",
    "admin",
    "admin/users",
    "v1/x",
];

/// Paths outside the generated routes (unless `/` is one): near misses of the prefixes, and
/// percent-encoded forms (`/%61pi/items` is under `/api/`, `/api%2Fitems` and
/// `/caf%c3%a9/` are not under `/api/` and `/caf%C3%A9/`).
const UNCOVERED: [&str; 9] = [
    "/other",
    "/apix",
    "/api",
    "/API/items",
    "/api-docs/",
    "/device",
    "/%61pi/items",
    "/api%2Fitems",
    "/caf%c3%a9/",
];

/// A request path: under one of the policy's routes, or probably uncovered.
#[derive(Debug, Clone)]
pub enum PathPick {
    Covered(Index, &'static str),
    Uncovered(&'static str),
}

pub fn path_pick() -> impl Strategy<Value = PathPick> {
    prop_oneof![
        5 => (any::<Index>(), select(SUFFIXES.to_vec())).prop_map(|(i, s)| PathPick::Covered(i, s)),
        1 => select(UNCOVERED.to_vec()).prop_map(PathPick::Uncovered),
    ]
}

impl PathPick {
    /// The path (and query) under `policy`, as written (before URL parsing).
    fn resolve(&self, policy: &Policy) -> String {
        match self {
            PathPick::Covered(i, suffix) if !policy.routes.is_empty() => {
                format!("{}{suffix}", i.get(&policy.routes).path)
            }
            PathPick::Covered(_, suffix) => format!("/{suffix}"),
            PathPick::Uncovered(p) => p.to_string(),
        }
    }

    /// The full URL on the target.
    pub fn url(&self, policy: &Policy) -> Url {
        Url::parse(&format!("{TARGET_ORIGIN}{}", self.resolve(policy))).expect("valid URL")
    }

    /// The request target (path and query) of [`PathPick::url`], as sent on the wire.
    pub fn target(&self, policy: &Policy) -> String {
        target(&self.url(policy))
    }
}

/// The request target (path and query) of a URL.
pub fn target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The layer's options beyond the policy: the status of passed preflights, and whether
/// preflights go on to the inner service.
#[derive(Debug, Clone, Copy)]
pub struct LayerOptions {
    pub status_200: bool,
    pub preflight_continue: bool,
}

pub fn layer_options() -> impl Strategy<Value = LayerOptions> {
    prop_oneof![
        6 => Just(LayerOptions { status_200: false, preflight_continue: false }),
        2 => Just(LayerOptions { status_200: true, preflight_continue: false }),
        2 => Just(LayerOptions { status_200: false, preflight_continue: true }),
    ]
}

// ---------------------------------------------------------------------------------------------
// Browser requests

/// Methods script uses (GET and POST more often), including a lowercase `patch` (not
/// normalized by Fetch) and a custom token.
const REQUEST_METHODS: [&str; 12] = [
    "GET", "GET", "HEAD", "POST", "POST", "PUT", "PUT", "DELETE", "PATCH", "patch", "PURGE",
    "OPTIONS",
];

/// Headers script sets: safelisted ones (twice as likely) and CORS-unsafe ones.
const REQUEST_HEADERS: [(&str, &str); 11] = [
    ("Accept", "application/json"),
    ("Accept", "*/*"),
    ("Content-Type", "text/plain"),
    ("Content-Type", "text/plain;charset=UTF-8"),
    ("Accept-Language", "de-CH"),
    ("Content-Type", "application/json"),
    ("X-Request-Id", "42"),
    ("X-Custom", "1"),
    ("x-custom", "2"),
    ("Authorization", "Bearer t0k3n"),
    ("Accept-Language", "en"),
];

/// A request method: one the covering route lists, or any of [`REQUEST_METHODS`].
#[derive(Debug, Clone)]
pub enum MethodPick {
    Listed(Index),
    Fixed(&'static str),
}

pub fn method_pick() -> impl Strategy<Value = MethodPick> {
    prop_oneof![
        1 => any::<Index>().prop_map(MethodPick::Listed),
        1 => select(REQUEST_METHODS.to_vec()).prop_map(MethodPick::Fixed),
    ]
}

impl MethodPick {
    /// The method for a request to `path` under `policy`.
    pub fn resolve(&self, policy: &Policy, path: &str) -> String {
        match self {
            MethodPick::Fixed(m) => m.to_string(),
            MethodPick::Listed(i) => corsproof_oracle::intent::route_for(policy, path)
                .map(|r| &policy.routes[r].methods)
                .filter(|methods| !methods.is_empty())
                .map_or_else(|| "PUT".to_string(), |methods| i.get(methods).clone()),
        }
    }
}

pub const PROFILES: [&str; 3] = ["fetch", "chromium", "firefox"];

/// What script asks for, relative to the policy.
#[derive(Debug, Clone)]
pub struct BrowserSpec {
    pub origin: OriginPick,
    pub path: PathPick,
    pub method: MethodPick,
    pub headers: Vec<(&'static str, &'static str)>,
    pub credentials: CredentialsMode,
    pub profile: &'static str,
    pub target_more_private: bool,
    pub use_cors_preflight: bool,
}

pub fn browser() -> impl Strategy<Value = BrowserSpec> {
    (
        origin_pick(),
        path_pick(),
        method_pick(),
        vec(select(REQUEST_HEADERS.to_vec()), 0..=2),
        prop_oneof![
            1 => Just(CredentialsMode::Omit),
            1 => Just(CredentialsMode::SameOrigin),
            1 => Just(CredentialsMode::Include),
        ],
        select(PROFILES.to_vec()),
        weighted(0.15),
        weighted(0.05),
    )
        .prop_map(
            |(
                origin,
                path,
                method,
                headers,
                credentials,
                profile,
                target_more_private,
                use_cors_preflight,
            )| BrowserSpec {
                origin,
                path,
                method,
                headers,
                credentials,
                profile,
                target_more_private,
                use_cors_preflight,
            },
        )
}

impl BrowserSpec {
    pub fn profile(&self) -> Profile {
        Profile::by_name(self.profile).expect("known profile")
    }

    /// The `RequestInit` under `policy`.
    pub fn init(&self, policy: &Policy) -> RequestInit {
        let url = self.path.url(policy);
        let origin = Origin::parse_serialized(&self.origin.resolve(policy, url.path()))
            .expect("picks resolve to serialized origins");
        let mut init = RequestInit::new(url.clone(), origin);
        init.method = self.method.resolve(policy, url.path());
        init.headers = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        init.credentials = self.credentials;
        init.target_more_private = self.target_more_private;
        init.use_cors_preflight = self.use_cors_preflight;
        init
    }
}

// ---------------------------------------------------------------------------------------------
// The inner service

/// How the inner service answers: 200 or a 500 error, with or without a `Vary` of its own
/// (usually `Accept-Encoding`, sometimes naming `Origin` already, or `*`).
#[derive(Debug, Clone, Copy)]
pub struct InnerSpec {
    pub error: bool,
    pub vary: Option<&'static str>,
}

pub fn inner_spec() -> impl Strategy<Value = InnerSpec> {
    let vary = prop_oneof![
        6 => Just("Accept-Encoding"),
        1 => Just("origin"),
        1 => Just("Accept-Encoding, ORIGIN, access-control-request-method"),
        1 => Just("*"),
    ];
    (weighted(0.15), option::weighted(0.3, vary))
        .prop_map(|(error, vary)| InnerSpec { error, vary })
}

// ---------------------------------------------------------------------------------------------
// Raw requests (no browser in between)

/// Values of `Access-Control-Request-Method` for raw requests.
pub const RAW_ACRM: [&str; 9] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "patch", "PURGE", "OPTIONS", "",
];

/// Values of `Access-Control-Request-Headers` for raw requests.
pub const RAW_ACRH: [&str; 9] = [
    "",
    "x-request-id",
    "content-type,x-custom",
    "authorization",
    "X-Custom , ,x-request-id",
    "x-unknown",
    "bad header",
    "content-type,authorization,x-request-id,x-custom",
    ",",
];

/// Values of `Access-Control-Request-Private-Network`.
pub const RAW_ACRPN: [&str; 2] = ["true", "false"];

/// A request as any client may send it: method, `Origin`, the three preflight headers.
#[derive(Debug, Clone)]
pub struct RawRequest {
    pub method: &'static str,
    pub origin: Option<OriginPick>,
    pub acrm: Option<&'static str>,
    pub acrh: Option<&'static str>,
    pub acrpn: Option<&'static str>,
}

/// Mostly `OPTIONS` with `Origin` and `Access-Control-Request-Method`: preflights.
pub fn raw_request() -> impl Strategy<Value = RawRequest> {
    (
        prop_oneof![
            3 => Just("OPTIONS"),
            1 => select(vec!["GET", "HEAD", "POST", "PUT", "DELETE", "patch", "PURGE"]),
        ],
        option::weighted(0.85, origin_pick()),
        option::weighted(0.8, select(RAW_ACRM.to_vec())),
        option::weighted(0.6, select(RAW_ACRH.to_vec())),
        option::weighted(0.3, select(RAW_ACRPN.to_vec())),
    )
        .prop_map(|(method, origin, acrm, acrh, acrpn)| RawRequest {
            method,
            origin,
            acrm,
            acrh,
            acrpn,
        })
}

impl RawRequest {
    /// The `http` request to `url`, the origin resolved against `policy`.
    pub fn build(&self, policy: &Policy, url: &Url) -> http::Request<String> {
        let mut b = http::Request::builder()
            .method(self.method)
            .uri(target(url));
        if let Some(o) = &self.origin {
            b = b.header("origin", o.resolve(policy, url.path()));
        }
        if let Some(v) = self.acrm {
            b = b.header("access-control-request-method", v);
        }
        if let Some(v) = self.acrh {
            b = b.header("access-control-request-headers", v);
        }
        if let Some(v) = self.acrpn {
            b = b.header("access-control-request-private-network", v);
        }
        b.body(String::new()).expect("valid request")
    }
}

/// Which request header two otherwise identical requests differ in, and its other value.
#[derive(Debug, Clone)]
pub enum Variation {
    Origin(Option<OriginPick>),
    Acrm(Option<&'static str>),
    Acrh(Option<&'static str>),
    Acrpn(Option<&'static str>),
}

impl Variation {
    /// The request header name.
    pub fn header(&self) -> &'static str {
        match self {
            Variation::Origin(_) => "origin",
            Variation::Acrm(_) => "access-control-request-method",
            Variation::Acrh(_) => "access-control-request-headers",
            Variation::Acrpn(_) => "access-control-request-private-network",
        }
    }

    /// `base` with this header's value replaced.
    pub fn apply(&self, base: &RawRequest) -> RawRequest {
        let mut r = base.clone();
        match self {
            Variation::Origin(o) => r.origin = o.clone(),
            Variation::Acrm(v) => r.acrm = *v,
            Variation::Acrh(v) => r.acrh = *v,
            Variation::Acrpn(v) => r.acrpn = *v,
        }
        r
    }
}

pub fn variation() -> impl Strategy<Value = Variation> {
    prop_oneof![
        3 => option::weighted(0.85, origin_pick()).prop_map(Variation::Origin),
        2 => option::weighted(0.85, select(RAW_ACRM.to_vec())).prop_map(Variation::Acrm),
        2 => option::weighted(0.85, select(RAW_ACRH.to_vec())).prop_map(Variation::Acrh),
        1 => option::weighted(0.7, select(RAW_ACRPN.to_vec())).prop_map(Variation::Acrpn),
    ]
}

// ---------------------------------------------------------------------------------------------
// Junk

/// Names of the header lines the robustness property sends.
const JUNK_NAMES: [&str; 6] = [
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "access-control-request-private-network",
    "vary",
    "x-junk",
];

/// Pieces that long values are repeated from.
const PIECES: [&[u8]; 9] = [
    b"a",
    b"x-request-id,",
    b" ,\t,",
    b",",
    b"*",
    b"\xff\xfe",
    b"https://a.",
    b"authorization, ",
    b"x-custom",
];

/// Values that look right.
const PLAUSIBLE: [&str; 12] = [
    "https://app.example.com",
    "https://a.example.com",
    "https://a..example.com",
    "https://.example.com",
    "null",
    "PUT",
    "true",
    "x-request-id, content-type",
    "*",
    "",
    " ",
    "https://app.example.com, https://app.example.com",
];

/// Bytes a header value may hold (`http::HeaderValue::from_bytes` refuses the other ones).
fn value_byte(b: u8) -> u8 {
    if (b < 0x20 && b != b'\t') || b == 0x7f {
        b'~'
    } else {
        b
    }
}

/// One header value: junk bytes, a long repetition, or a plausible value.
pub fn junk_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => vec(any::<u8>(), 0..48).prop_map(|v| v.into_iter().map(value_byte).collect()),
        1 => (select(PIECES.to_vec()), 1..6000usize).prop_map(|(p, n)| p.repeat(n)),
        3 => select(PLAUSIBLE.to_vec()).prop_map(|s| s.as_bytes().to_vec()),
    ]
}

/// A raw request for the robustness property.
#[derive(Clone)]
pub struct JunkRequest {
    pub method: &'static str,
    pub uri: &'static str,
    /// Header lines, in order.
    pub lines: Vec<(&'static str, Vec<u8>)>,
}

impl fmt::Debug for JunkRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.uri)?;
        for (n, v) in &self.lines {
            let shown = String::from_utf8_lossy(&v[..v.len().min(200)]).into_owned();
            writeln!(f, "{n}: {shown:?} ({} bytes)", v.len())?;
        }
        Ok(())
    }
}

pub fn junk_request() -> impl Strategy<Value = JunkRequest> {
    (
        select(vec![
            "OPTIONS", "OPTIONS", "GET", "POST", "PUT", "patch", "M-SEARCH",
        ]),
        select(vec![
            "/api/x",
            "/api/admin/",
            "/public/%ff",
            "/device/a?b=c",
            "/",
            "*",
            "https://api.example.com/api/x",
            "/api/../admin",
        ]),
        vec((select(JUNK_NAMES.to_vec()), junk_value()), 0..10),
        // Many repetitions of one line.
        option::weighted(
            0.3,
            (select(JUNK_NAMES.to_vec()), junk_value(), 1..300usize),
        ),
    )
        .prop_map(|(method, uri, mut lines, repeated)| {
            if let Some((name, value, n)) = repeated {
                // Many lines, or a few very long ones (bounded memory per case).
                let n = if value.len() > 512 { n.min(4) } else { n };
                lines.extend(std::iter::repeat_n((name, value), n));
            }
            JunkRequest { method, uri, lines }
        })
}

impl JunkRequest {
    pub fn build(&self) -> http::Request<String> {
        let mut req = http::Request::builder()
            .method(self.method)
            .uri(self.uri)
            .body(String::new())
            .expect("valid request line");
        for (name, value) in &self.lines {
            let value = http::HeaderValue::from_bytes(value).expect("valid header bytes");
            req.headers_mut().append(*name, value);
        }
        req
    }
}
