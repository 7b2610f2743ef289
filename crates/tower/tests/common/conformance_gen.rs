//! Strategies of the conformance properties (`tests/conformance.rs`), on the test kit's
//! vocabularies: valid policies (`PolicyParams::nested`), browser requests biased by the
//! policy (allowed origins, pattern instances, near misses of every serialized family,
//! same-origin, covered and uncovered paths), the inner service's behaviour, raw header junk
//! for the robustness property.
//!
//! Request-side choices are drawn independently of the policy and resolved against it in the
//! test ([`OriginPick::resolve`], [`PathPick::resolve`]), so that shrinking stays simple.
#![allow(dead_code)]

use std::fmt;

use corsproof_oracle::{CredentialsMode, Origin, Profile, RequestInit};
use corsproof_policy::{OriginEntry, Origins, Policy};
use corsproof_testkit::origins::{instance, Mutation, STRANGERS};
use corsproof_testkit::strategy::policy::{policy as policy_with, PolicyParams};
use corsproof_testkit::strategy::request::{
    credentials, headers_of, Credentials, CredentialsWeights,
};
use corsproof_testkit::strategy::{raw, response};
use corsproof_testkit::{headers, methods, routes};
use proptest::bool::weighted;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use url::Url;

/// The origin of the server under test: every request goes to `TARGET_ORIGIN` + a path.
pub const TARGET_ORIGIN: &str = corsproof_testkit::origins::TARGET;

// ---------------------------------------------------------------------------------------------
// Policies

/// A generated policy: its TOML text (what failures print) and the policy.
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

/// Valid policies of 1–4 routes with distinct, sometimes nested path prefixes.
pub fn policy() -> impl Strategy<Value = GenPolicy> {
    policy_with(&PolicyParams::nested()).prop_map(|policy| GenPolicy {
        toml: policy.to_toml_string(),
        policy,
    })
}

// ---------------------------------------------------------------------------------------------
// Origins of requests

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

pub fn origin_pick() -> impl Strategy<Value = OriginPick> {
    prop_oneof![
        9 => any::<Index>().prop_map(OriginPick::Listed),
        4 => (any::<Index>(), any::<bool>()).prop_map(|(i, deep)| OriginPick::Instance(i, deep)),
        5 => (select(Mutation::SERIALIZED.to_vec()), any::<Index>())
            .prop_map(|(m, i)| OriginPick::Mutated(m, i)),
        2 => Just(OriginPick::SameOrigin),
        3 => select(STRANGERS.to_vec()).prop_map(OriginPick::Fixed),
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

impl OriginPick {
    /// The serialized origin this pick stands for under `policy`, for a request to `path`
    /// (always a valid serialization: `null` or `scheme://host[:port]`).
    pub fn resolve(&self, policy: &Policy, path: &str) -> String {
        let entries = policy_entries(policy, path);
        let entry = |i: &Index| (!entries.is_empty()).then(|| i.get(&entries).clone());
        match self {
            OriginPick::Listed(i) => match entry(i) {
                None => "https://app.example.com".to_string(),
                Some(e) => instance(&e, "a"),
            },
            OriginPick::Instance(i, deep) => {
                let patterns: Vec<&OriginEntry> = entries
                    .iter()
                    .filter(|e| matches!(e, OriginEntry::Subdomain { .. }))
                    .collect();
                let labels = if *deep { "a.b" } else { "a" };
                match patterns.is_empty() {
                    true => format!("https://{labels}.example.com"),
                    false => instance(i.get::<&OriginEntry>(&patterns), labels),
                }
            }
            OriginPick::Mutated(m, i) => {
                let e = entry(i).unwrap_or(OriginEntry::Exact {
                    scheme: corsproof_policy::Scheme::Https,
                    host: "app.example.com".into(),
                    port: None,
                });
                m.apply(&e)
            }
            OriginPick::SameOrigin => TARGET_ORIGIN.to_string(),
            OriginPick::Fixed(o) => o.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Paths

/// A request path: under one of the policy's routes, or probably uncovered.
#[derive(Debug, Clone)]
pub enum PathPick {
    Covered(Index, &'static str),
    Uncovered(&'static str),
}

pub fn path_pick() -> impl Strategy<Value = PathPick> {
    prop_oneof![
        5 => (any::<Index>(), select(routes::SUFFIXES.to_vec())).prop_map(|(i, s)| PathPick::Covered(i, s)),
        1 => select(routes::UNCOVERED.to_vec()).prop_map(PathPick::Uncovered),
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

/// The layer's options beyond the policy: the status of passed preflights, whether
/// preflights go on to the inner service, and whether refused preflights get the debug
/// answer (`RefusalReasons::Debug`).
#[derive(Debug, Clone, Copy)]
pub struct LayerOptions {
    pub status_200: bool,
    pub preflight_continue: bool,
    pub debug: bool,
}

/// Options without the debug answer.
pub fn layer_options() -> impl Strategy<Value = LayerOptions> {
    prop_oneof![
        6 => Just(LayerOptions { status_200: false, preflight_continue: false, debug: false }),
        2 => Just(LayerOptions { status_200: true, preflight_continue: false, debug: false }),
        2 => Just(LayerOptions { status_200: false, preflight_continue: true, debug: false }),
    ]
}

/// [`layer_options`], with the debug answer in about a third of the cases.
pub fn layer_options_or_debug() -> impl Strategy<Value = LayerOptions> {
    (layer_options(), prop::bool::weighted(0.35))
        .prop_map(|(options, debug)| LayerOptions { debug, ..options })
}

// ---------------------------------------------------------------------------------------------
// Browser requests

/// A request method: one the covering route lists, or any of the kit's common methods.
#[derive(Debug, Clone)]
pub enum MethodPick {
    Listed(Index),
    Fixed(&'static str),
}

pub fn method_pick() -> impl Strategy<Value = MethodPick> {
    prop_oneof![
        1 => any::<Index>().prop_map(MethodPick::Listed),
        1 => select(methods::COMMON.to_vec()).prop_map(MethodPick::Fixed),
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
        headers_of(&headers::COMMON, 2),
        credentials(CredentialsWeights::UNIFORM).prop_map(|c| match c {
            Some(Credentials::Omit) => CredentialsMode::Omit,
            Some(Credentials::Include) => CredentialsMode::Include,
            Some(Credentials::SameOrigin) | None => CredentialsMode::SameOrigin,
        }),
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
    (weighted(0.15), response::inner_vary()).prop_map(|(error, vary)| InnerSpec { error, vary })
}

// ---------------------------------------------------------------------------------------------
// Raw requests (no browser in between)

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
        raw::method(3),
        option::weighted(0.85, origin_pick()),
        option::weighted(0.8, select(methods::ACRM.to_vec())),
        option::weighted(0.6, select(headers::ACRH.to_vec())),
        option::weighted(0.3, select(headers::ACRPN.to_vec())),
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
        2 => option::weighted(0.85, select(methods::ACRM.to_vec())).prop_map(Variation::Acrm),
        2 => option::weighted(0.85, select(headers::ACRH.to_vec())).prop_map(Variation::Acrh),
        1 => option::weighted(0.7, select(headers::ACRPN.to_vec())).prop_map(Variation::Acrpn),
    ]
}

// ---------------------------------------------------------------------------------------------
// Junk

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
        raw::method(3),
        select(routes::ODD_TARGETS.to_vec()),
        raw::lines(),
    )
        .prop_map(|(method, uri, lines)| JunkRequest { method, uri, lines })
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
