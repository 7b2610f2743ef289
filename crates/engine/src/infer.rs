//! `corsproof infer URL`: the policy a running deployment implements, found by probing it.
//!
//! For each route path given, a GET from every candidate origin (the ones given, `null`, and
//! an origin nobody names) is judged by the oracle's CORS check (R31–R35) with and without
//! credentials; a granted origin is generalised to a subdomain pattern only when two fresh
//! labels under its parent domain are granted too. From one granted origin, preflights
//! (judged by the oracle's preflight validation, R37–R43) find the methods, the request
//! headers (a fresh name that passes means `*`), the cache lifetime and Private Network
//! Access (R67); the granted GET's `Access-Control-Expose-Headers` gives the exposed headers.
//! What a policy cannot say is a [`Gap`], never silently encoded: any origin reflected, `null`
//! granted, credentials granted to some origins and not others, a grant that also answers
//! the path in another case or past its `/` boundary, any request header allowed on a
//! credentialed route, a look-alike of a granted origin granted too.
//!
//! Bounded and polite: the routes spread over at most `connections` connections, each sending
//! one request at a time; at most `max_requests` requests in all, at most `rate` a second over
//! all connections, each within the timeout.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corsproof_client::{Client, Request, Tls};
use corsproof_oracle::cors_check::cors_check;
use corsproof_oracle::headers::UnsafeNames;
use corsproof_oracle::preflight::{validate, ActualRequest};
use corsproof_oracle::{CredentialsMode, Profile, Response};
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};

use crate::audit::{AuditError, Target};

/// Methods whose preflight is probed on every route, besides those given.
const METHODS: [&str; 3] = ["PUT", "DELETE", "PATCH"];

/// Request headers whose preflight is probed on every route, besides those given.
const REQUEST_HEADERS: [&str; 7] = [
    "content-type",
    "authorization",
    "x-requested-with",
    "x-request-id",
    "x-csrf-token",
    "x-api-key",
    "if-match",
];

/// A name no policy lists: it passes only where any name does.
const FRESH_HEADER: &str = "x-corsproof-infer-probe";

/// An origin no policy names: granted only where any origin is.
const FRESH_ORIGIN: &str = "https://corsproof-infer-probe.invalid";

/// How `infer` probes.
#[derive(Debug, Clone)]
pub struct Options {
    /// Route paths to probe (each becomes a route); `/` when empty.
    pub paths: Vec<String>,
    /// Candidate origins (serialized).
    pub origins: Vec<String>,
    /// Extra methods and request headers to probe.
    pub methods: Vec<String>,
    /// Extra request header names to probe (lowercase).
    pub request_headers: Vec<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// At most this many requests.
    pub max_requests: Option<u64>,
    /// At most this many requests a second, over all connections.
    pub rate: Option<f64>,
    /// The most connections used at once (routes are spread over them; at least 1).
    pub connections: usize,
    /// The trust store of https targets (default: Mozilla's roots).
    pub tls: Option<Tls>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            paths: Vec::new(),
            origins: Vec::new(),
            methods: Vec::new(),
            request_headers: Vec::new(),
            timeout: Duration::from_secs(10),
            max_requests: None,
            rate: None,
            connections: 4,
            tls: None,
        }
    }
}

/// What a policy cannot say about the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GapKind {
    /// Any origin is reflected in `Access-Control-Allow-Origin`.
    AnyOriginReflected,
    /// The opaque origin `null` is granted (sandboxed iframes, `file:` pages of any site).
    NullOrigin,
    /// Credentials are granted to some origins of the route and not to others.
    MixedCredentials,
    /// The path in another letter case is granted too (policy paths are case-sensitive, P1).
    PathCase,
    /// Any request header passes the preflight of a credentialed route.
    AnyHeaderWithCredentials,
    /// A look-alike of a granted origin is granted too (a prefix, suffix or substring match,
    /// or the other scheme): the deployment matches origins loosely; not written.
    LookalikeOrigin,
    /// A path that continues the route's path past its last `/` is granted too (`/apix` for
    /// `/api/`): the deployment matches paths without the segment boundary.
    PathBoundary,
}

impl GapKind {
    /// The kebab-case word.
    ///
    /// ```
    /// assert_eq!(corsproof_engine::infer::GapKind::NullOrigin.as_str(), "null-origin");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::AnyOriginReflected => "any-origin-reflected",
            GapKind::NullOrigin => "null-origin",
            GapKind::MixedCredentials => "mixed-credentials",
            GapKind::PathCase => "path-case",
            GapKind::AnyHeaderWithCredentials => "any-header-with-credentials",
            GapKind::LookalikeOrigin => "lookalike-origin",
            GapKind::PathBoundary => "path-boundary",
        }
    }
}

/// One thing the written policy does not (or cannot) say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// What.
    pub kind: GapKind,
    /// The route path.
    pub path: String,
    /// The evidence, for people.
    pub detail: String,
}

/// The result of [`infer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    /// The policy the deployment implements, as far as a policy can say it.
    pub policy: Policy,
    /// What it cannot say.
    pub gaps: Vec<Gap>,
    /// Requests sent.
    pub requests: u64,
}

/// Why `infer` gave no policy.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// The URL.
    #[error(transparent)]
    Target(#[from] AuditError),
    /// A request got no answer.
    #[error("{url}: {source}")]
    Send {
        /// The target.
        url: String,
        /// What failed.
        source: corsproof_client::Error,
    },
    /// A probing task stopped.
    #[error("a probing task failed: {0}")]
    Worker(String),
    /// `max_requests` ran out before every route was probed.
    #[error("the request budget of {max} ran out before every route was probed")]
    Budget {
        /// The budget.
        max: u64,
    },
}

/// What the connections share: the request budget and the pace.
struct Shared {
    sent: AtomicU64,
    max: Option<u64>,
    interval: Option<Duration>,
    /// When the next request may start.
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

/// Sends the probes of one connection, within the shared budget and pace.
struct Prober {
    client: Client,
    url: String,
    shared: Arc<Shared>,
}

impl Prober {
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Response, InferError> {
        let shared = &self.shared;
        let n = shared.sent.fetch_add(1, Ordering::Relaxed);
        if let Some(max) = shared.max.filter(|max| n >= *max) {
            return Err(InferError::Budget { max });
        }
        if let Some(interval) = shared.interval {
            let slot = {
                let mut next = shared.next.lock().await;
                let slot = (*next).max(tokio::time::Instant::now());
                *next = slot + interval;
                slot
            };
            tokio::time::sleep_until(slot).await;
        }
        let request = headers
            .iter()
            .fold(Request::new(method, path), |r, (n, v)| r.header(*n, *v))
            .header(
                "User-Agent",
                concat!("corsproof-infer/", env!("CARGO_PKG_VERSION")),
            );
        let raw = self
            .client
            .send(&request)
            .await
            .map_err(|source| InferError::Send {
                url: self.url.clone(),
                source,
            })?;
        Ok(Response::from_owned_lines(raw.status, raw.headers))
    }

    /// Whether a GET of `path` from `origin` is readable: (without, with credentials), and
    /// the response.
    async fn read(
        &mut self,
        path: &str,
        origin: &str,
    ) -> Result<([bool; 2], Response), InferError> {
        let r = self.send("GET", path, &[("Origin", origin)]).await?;
        let ok = |c| cors_check(&r, origin, c).error.is_none();
        Ok(([ok(CredentialsMode::Omit), ok(CredentialsMode::Include)], r))
    }

    /// Whether the preflight of `method` with `header` (and PNA) from `origin` passes, and
    /// the max-age it grants.
    async fn preflight(
        &mut self,
        path: &str,
        origin: &str,
        ask: &Ask<'_>,
    ) -> Result<Option<u64>, InferError> {
        let mut headers = vec![
            ("Origin", origin),
            ("Access-Control-Request-Method", ask.method),
        ];
        if let Some(h) = ask.header {
            headers.push(("Access-Control-Request-Headers", h));
        }
        if ask.pna {
            headers.push(("Access-Control-Request-Private-Network", "true"));
        }
        let r = self.send("OPTIONS", path, &headers).await?;
        let profile = if ask.pna {
            Profile::chromium()
        } else {
            Profile::fetch()
        };
        let lines: Vec<(Vec<u8>, Vec<u8>)> = ask
            .header
            .map(|h| (h.as_bytes().to_vec(), b"\"x\"".to_vec()))
            .into_iter()
            .collect();
        let names = UnsafeNames::of(lines.iter(), &profile);
        let actual = ActualRequest {
            serialized_origin: origin,
            cors_check: true,
            method: ask.method,
            credentials: ask.credentials,
            unsafe_names: &names,
            has_authorization: ask.header == Some("authorization"),
            use_cors_preflight: false,
            private_network: ask.pna,
            private_network_only: false,
        };
        Ok(validate(&actual, &r, &profile)
            .ok()
            .map(|p| p.max_age.unwrap_or(5)))
    }
}

/// One preflight's question.
struct Ask<'a> {
    method: &'a str,
    header: Option<&'a str>,
    pna: bool,
    credentials: CredentialsMode,
}

/// Probes `url` and writes the policy it implements (see the module documentation).
///
/// ```no_run
/// # async fn f() -> Result<(), corsproof_engine::infer::InferError> {
/// use corsproof_engine::infer::{infer, Options};
/// let options = Options { origins: vec!["https://app.example.com".into()], ..Options::default() };
/// let inferred = infer("http://127.0.0.1:8080", &options).await?;
/// println!("{}", inferred.policy.to_toml_string());
/// # Ok(()) }
/// ```
pub async fn infer(url: &str, options: &Options) -> Result<Inferred, InferError> {
    let target = Target::parse(url)?;
    let shared = Arc::new(Shared {
        sent: AtomicU64::new(0),
        max: options.max_requests,
        interval: options
            .rate
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r)),
        next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
    });
    let paths = if options.paths.is_empty() {
        vec!["/".to_string()]
    } else {
        dedup(options.paths.clone())
    };
    // Each connection probes every `connections`-th route, one request at a time.
    let connections = options.connections.clamp(1, paths.len().max(1));
    let options = Arc::new(options.clone());
    let mut set = tokio::task::JoinSet::new();
    for first in 0..connections {
        let mut prober = Prober {
            client: client(&target, &options)?,
            url: target.url.clone(),
            shared: shared.clone(),
        };
        let mine: Vec<(usize, String)> = (paths.iter().cloned().enumerate())
            .skip(first)
            .step_by(connections)
            .collect();
        let options = options.clone();
        set.spawn(async move {
            let mut out = Vec::new();
            for (index, path) in mine {
                let mut gaps = Vec::new();
                let route = route(&mut prober, &path, &options, &mut gaps).await?;
                out.push((index, route, gaps));
            }
            Ok::<_, InferError>(out)
        });
    }
    let mut done = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(result) => done.extend(result?),
            Err(e) => return Err(InferError::Worker(e.to_string())),
        }
    }
    done.sort_by_key(|(index, _, _)| *index);
    let sent = shared.sent.load(Ordering::Relaxed);
    Ok(Inferred {
        policy: Policy {
            version: 1,
            routes: done.iter().map(|(_, r, _)| r.clone()).collect(),
        },
        gaps: done.into_iter().flat_map(|(_, _, g)| g).collect(),
        requests: options.max_requests.map_or(sent, |max| sent.min(max)),
    })
}

/// A client of `target`: one kept-alive connection, over TLS for https.
fn client(target: &Target, options: &Options) -> Result<Client, InferError> {
    let client = Client::new(target.connect.clone())
        .with_timeout(options.timeout)
        .with_host(target.authority.clone());
    if !target.https {
        return Ok(client);
    }
    let tls = options.tls.clone().unwrap_or_else(Tls::webpki_roots);
    let name = Tls::server_name(&target.host).map_err(|source| AuditError::Tls {
        url: target.url.clone(),
        source,
    })?;
    Ok(client.with_tls(tls, name))
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// The origins a route grants, each with its (without, with credentials) grant.
struct Granted {
    entries: Vec<(OriginEntry, [bool; 2])>,
    any: bool,
    /// A granted origin to ask the preflights from, and a response it was granted.
    witness: Option<(String, Response)>,
}

async fn origins(
    prober: &mut Prober,
    path: &str,
    options: &Options,
    gaps: &mut Vec<Gap>,
) -> Result<Granted, InferError> {
    let mut g = Granted {
        entries: Vec::new(),
        any: false,
        witness: None,
    };
    let (fresh, fresh_response) = prober.read(path, FRESH_ORIGIN).await?;
    if fresh[0] || fresh[1] {
        g.any = true;
        if fresh[1]
            || fresh_response
                .get_combined(corsproof_oracle::response::Cors::AllowOrigin)
                .as_deref()
                != Some(b"*".as_slice())
        {
            gaps.push(Gap {
                kind: GapKind::AnyOriginReflected,
                path: path.to_string(),
                detail: format!(
                    "{FRESH_ORIGIN} is granted{}: any origin is, and a policy's `*` never grants credentials",
                    if fresh[1] { " with credentials" } else { "" }
                ),
            });
        }
        g.witness = Some((FRESH_ORIGIN.to_string(), fresh_response));
    }
    // `*` grants `null` too; otherwise a `null` grant is its own entry.
    let wildcard = g.any && !fresh[1];
    let (null, _) = prober.read(path, "null").await?;
    if (null[0] || null[1]) && !wildcard {
        g.entries.push((OriginEntry::Null, null));
        gaps.push(Gap {
            kind: GapKind::NullOrigin,
            path: path.to_string(),
            detail: "the origin `null` is granted (written with allow_risky)".to_string(),
        });
    }
    for origin in &options.origins {
        let Ok(entry) = origin.parse::<OriginEntry>() else {
            continue;
        };
        let (grant, response) = prober.read(path, origin).await?;
        if !(grant[0] || grant[1]) {
            continue;
        }
        let general = generalise(prober, path, &entry, grant).await?;
        if !g.any {
            lookalikes(prober, path, &entry, &general, gaps).await?;
        }
        let entry = general;
        if !g.entries.iter().any(|(e, _)| *e == entry) {
            g.entries.push((entry, grant));
        }
        if g.witness.is_none() || g.any {
            g.witness = Some((origin.clone(), response));
        }
    }
    Ok(g)
}

/// The look-alikes of a granted exact origin that a loose match grants (the audit's classic
/// bypasses): a [`GapKind::LookalikeOrigin`] gap for each.
async fn lookalikes(
    prober: &mut Prober,
    path: &str,
    entry: &OriginEntry,
    general: &OriginEntry,
    gaps: &mut Vec<Gap>,
) -> Result<(), InferError> {
    let OriginEntry::Exact { scheme, host, port } = entry else {
        return Ok(());
    };
    // Hosts under the pattern the entry generalises to are granted by right.
    let covered = |origin: &str| match general {
        OriginEntry::Subdomain { .. } => {
            let text = general.to_string();
            let (front, domain) = text.split_once("*.").unwrap_or_default();
            origin.starts_with(front) && origin.ends_with(&format!(".{domain}"))
        }
        _ => false,
    };
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    let other = match scheme {
        corsproof_policy::Scheme::Https => "http",
        corsproof_policy::Scheme::Http => "https",
    };
    let scheme = scheme.as_str();
    let mut list = vec![
        format!("{scheme}://{host}.corsproof-evil.test{port}"),
        format!("{scheme}://corsproofevil{host}{port}"),
        format!("{other}://{host}{port}"),
    ];
    if let Some(shorter) = host
        .get(..host.len().saturating_sub(1))
        .filter(|h| h.len() > 2 && !host.starts_with('['))
    {
        list.push(format!("{scheme}://{shorter}{port}"));
    }
    for origin in list.into_iter().filter(|o| !covered(o)) {
        let (grant, _) = prober.read(path, &origin).await?;
        if grant[0] || grant[1] {
            gaps.push(Gap {
                kind: GapKind::LookalikeOrigin,
                path: path.to_string(),
                detail: format!("{origin}, a look-alike of {entry}, is granted too (not written)"),
            });
        }
    }
    Ok(())
}

/// `entry`, or the subdomain pattern of its parent domain when two fresh labels under that
/// domain are granted the same.
async fn generalise(
    prober: &mut Prober,
    path: &str,
    entry: &OriginEntry,
    grant: [bool; 2],
) -> Result<OriginEntry, InferError> {
    let OriginEntry::Exact { scheme, host, port } = entry else {
        return Ok(entry.clone());
    };
    let Some((_, parent)) = host.split_once('.') else {
        return Ok(entry.clone());
    };
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Ok(entry.clone());
    }
    let pattern = OriginEntry::Subdomain {
        scheme: *scheme,
        domain: parent.to_string(),
        port: *port,
    };
    let text = pattern.to_string();
    for label in ["corsproof-g1", "q7z"] {
        let (other, _) = prober.read(path, &text.replacen('*', label, 1)).await?;
        if other != grant {
            return Ok(entry.clone());
        }
    }
    Ok(pattern)
}

async fn route(
    prober: &mut Prober,
    path: &str,
    options: &Options,
    gaps: &mut Vec<Gap>,
) -> Result<Route, InferError> {
    let mut route = Route::same_origin_only(path);
    let granted = origins(prober, path, options, gaps).await?;
    let Some((witness, response)) = granted.witness.clone() else {
        return Ok(route);
    };
    let listed: Vec<&[bool; 2]> = granted.entries.iter().map(|(_, g)| g).collect();
    let credentials = !granted.any && !listed.is_empty() && listed.iter().all(|g| g[1]);
    if !granted.any && listed.iter().any(|g| g[1]) && !credentials {
        gaps.push(Gap {
            kind: GapKind::MixedCredentials,
            path: path.to_string(),
            detail: "some origins are granted credentialed reads and others not; written without credentials".to_string(),
        });
    }
    route.credentials = credentials;
    route.origins = if granted.any {
        Origins::Any
    } else {
        Origins::List(granted.entries.iter().map(|(e, _)| e.clone()).collect())
    };
    route.allow_risky = granted.entries.iter().any(|(e, _)| *e == OriginEntry::Null)
        || (credentials
            && granted
                .entries
                .iter()
                .any(|(e, _)| e.to_string().starts_with("http:")));
    let mode = if credentials {
        CredentialsMode::Include
    } else {
        CredentialsMode::Omit
    };
    route.expose_headers = exposed(&response, credentials);
    preflights(prober, &mut route, &witness, mode, options, gaps).await?;
    path_case(prober, path, &witness, gaps).await?;
    // Past the `/`, another route given may cover the path (`/v1/` for `/v1/itemsx`).
    let others: Vec<&String> = options.paths.iter().filter(|p| *p != path).collect();
    path_boundary(prober, path, &witness, &others, gaps).await?;
    Ok(route)
}

/// `Access-Control-Expose-Headers` of a granted response, lowercase (`*` only without
/// credentials: with them it names a header called `*`).
fn exposed(response: &Response, credentials: bool) -> HeaderNames {
    let mut names: Vec<String> = Vec::new();
    for value in response.cors_values(corsproof_oracle::response::Cors::ExposeHeaders) {
        for name in String::from_utf8_lossy(value).split(',') {
            let name = name.trim().to_ascii_lowercase();
            if name == "*" && !credentials {
                return HeaderNames::Any;
            }
            if !name.is_empty() && name != "*" && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    HeaderNames::List(names)
}

async fn preflights(
    prober: &mut Prober,
    route: &mut Route,
    origin: &str,
    credentials: CredentialsMode,
    options: &Options,
    gaps: &mut Vec<Gap>,
) -> Result<(), InferError> {
    let path = route.path.clone();
    let candidates = dedup(
        REQUEST_HEADERS
            .iter()
            .map(|h| h.to_string())
            .chain(options.request_headers.iter().cloned())
            .collect(),
    );
    let ask = |method, header, pna| Ask {
        method,
        header,
        pna,
        credentials,
    };
    // A preflight that asks for nothing unsafe: the cache lifetime of any passed preflight.
    let mut max_age = prober
        .preflight(&path, origin, &ask("GET", None, false))
        .await?;
    let methods = dedup(
        METHODS
            .iter()
            .map(|m| m.to_string())
            .chain(options.methods.iter().cloned())
            .collect(),
    );
    for m in methods
        .iter()
        .filter(|m| !matches!(m.as_str(), "GET" | "HEAD" | "POST"))
    {
        if let Some(age) = prober
            .preflight(&path, origin, &ask(m, None, false))
            .await?
        {
            route.methods.push(m.clone());
            max_age = Some(age);
        }
    }
    if prober
        .preflight(&path, origin, &ask("GET", Some(FRESH_HEADER), false))
        .await?
        .is_some()
    {
        if route.credentials {
            gaps.push(Gap {
                kind: GapKind::AnyHeaderWithCredentials,
                path: path.clone(),
                detail: format!("the unlisted request header {FRESH_HEADER} passes the preflight of a credentialed route"),
            });
        } else {
            route.request_headers = HeaderNames::Any;
        }
    }
    if route.request_headers != HeaderNames::Any {
        let mut names = Vec::new();
        for h in &candidates {
            if let Some(age) = prober
                .preflight(&path, origin, &ask("GET", Some(h), false))
                .await?
            {
                names.push(h.clone());
                max_age = Some(age);
            }
        }
        route.request_headers = HeaderNames::List(names);
    }
    if let Some(age) = prober
        .preflight(&path, origin, &ask("GET", None, true))
        .await?
    {
        route.private_network = true;
        max_age = max_age.or(Some(age));
    }
    // P10: no `max_age` is the browsers' default of 5 s.
    route.max_age = max_age.filter(|age| *age != 5);
    Ok(())
}

/// A grant of the path in upper case: the deployment matches paths case-insensitively.
async fn path_case(
    prober: &mut Prober,
    path: &str,
    origin: &str,
    gaps: &mut Vec<Gap>,
) -> Result<(), InferError> {
    let upper = path.to_ascii_uppercase();
    if upper == path {
        return Ok(());
    }
    let (grant, _) = prober.read(&upper, origin).await?;
    if grant[0] || grant[1] {
        gaps.push(Gap {
            kind: GapKind::PathCase,
            path: path.to_string(),
            detail: format!(
                "{upper} is granted to {origin} too: the policy's paths are case-sensitive"
            ),
        });
    }
    Ok(())
}

/// A grant past the route's last `/` (`/apix` for `/api/`): the deployment matches the path
/// as a plain prefix.
async fn path_boundary(
    prober: &mut Prober,
    path: &str,
    origin: &str,
    others: &[&String],
    gaps: &mut Vec<Gap>,
) -> Result<(), InferError> {
    let Some(stem) = path.strip_suffix('/').filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let beyond = format!("{stem}corsproof");
    if others.iter().any(|p| beyond.starts_with(p.as_str())) {
        return Ok(());
    }
    let (grant, _) = prober.read(&beyond, origin).await?;
    if grant[0] || grant[1] {
        gaps.push(Gap {
            kind: GapKind::PathBoundary,
            path: path.to_string(),
            detail: format!("{beyond} is granted to {origin} too: the route is matched without its `/` boundary"),
        });
    }
    Ok(())
}
