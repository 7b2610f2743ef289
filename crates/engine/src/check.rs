//! `check`: generated browser requests sent to a running server, each judged by the oracle
//! under every browser profile against the policy's intent, plus cache safety (`Vary`) and
//! hygiene; failures grouped by kind and route and shrunk to their smallest request.
//!
//! The driver plays the browser with the oracle's sans-IO [`Fetch`]: when the oracle says a
//! preflight goes out, the harness sends exactly that `OPTIONS` request; when the actual
//! request goes out, it sends that, with the `Origin` header the oracle decides and a cookie
//! when credentials are included. Identical HTTP requests within one case are sent once and
//! their answer shared between profiles.
//!
//! ```no_run
//! use corsproof_engine::check::{check, CheckConfig};
//! use corsproof_policy::Policy;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::from_path("corpus/policies/public-api.toml")?;
//! let target = url::Url::parse("http://127.0.0.1:8080")?;
//! let report = check(&policy, "public-api.toml", &target, &CheckConfig::default()).await?;
//! assert!(report.findings.is_empty(), "{:#?}", report.findings);
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corsproof_case::{explain_reason, CredentialsJson, ModeJson, RequestJson};
use corsproof_client::ServerName;
use corsproof_oracle::expose::{is_visible, ExposedList};
use corsproof_oracle::fetch::OriginHeader;
use corsproof_oracle::intent::{intent, origin_match, origin_matches, route_for, Tri};
use corsproof_oracle::response::Cors;
use corsproof_oracle::{Fetch, Next, Origin, PreflightCache, Profile, Request, Response};
use corsproof_policy::{OriginEntry, Origins, Policy};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use url::Url;

use crate::generate::Generator;
use corsproof_client::{Client, Request as HttpRequest, Tls};
use corsproof_report::finding::{
    kinds, Finding, Report, SeenResponse, SentRequest, Severity, Stats,
};

/// Progress callback: (cases done, cases in all, requests sent).
pub type Progress = Arc<dyn Fn(u64, u64, u64) + Send + Sync>;

/// How a check runs.
#[derive(Clone)]
pub struct CheckConfig {
    /// Generated requests, on top of the deterministic baseline.
    pub cases: usize,
    /// The seed of the generated requests (the same seed replays the same run).
    pub seed: u64,
    /// The browser profiles each request is judged under.
    pub profiles: Vec<Profile>,
    /// Connections used at once.
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// A bound on the whole run: cases not started by then are skipped (and counted).
    pub deadline: Duration,
    /// Shrink each finding to its smallest request.
    pub shrink: bool,
    /// Called after each case with (cases done, cases in all, requests sent).
    pub progress: Option<Progress>,
    /// A second target of the same policy: every case is also played there and the browser
    /// outcomes compared (`differential` findings).
    pub against: Option<Url>,
    /// The trust store of `https://` targets; `None`: Mozilla's roots
    /// ([`Tls::webpki_roots`]).
    pub tls: Option<Tls>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            cases: 1000,
            seed: 0,
            profiles: vec![Profile::fetch(), Profile::chromium(), Profile::firefox()],
            concurrency: 8,
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(600),
            shrink: true,
            progress: None,
            against: None,
            tls: None,
        }
    }
}

impl std::fmt::Debug for CheckConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckConfig")
            .field("cases", &self.cases)
            .field("seed", &self.seed)
            .field(
                "profiles",
                &self.profiles.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why a check could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The target URL is not one the harness can check.
    #[error("target {url:?}: {why}")]
    BadTarget {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The target could not be reached or does not speak HTTP/1.1.
    #[error("target {url} is unreachable or not speaking HTTP: {source}")]
    Unreachable {
        /// The target.
        url: String,
        /// The first exchange's error.
        source: corsproof_client::Error,
    },
    /// A replayed case is not a valid request.
    #[error("case: {0}")]
    Case(#[from] corsproof_case::CaseError),
}

/// The target: where requests go.
#[derive(Debug, Clone)]
struct Target {
    base: Url,
    /// What to connect to: `HOST:PORT`.
    authority: String,
    /// The `Host` field sent, as a browser sends it: the host, with `:PORT` when the port is
    /// not the scheme's default.
    host_field: String,
    origin: Origin,
    /// For an `https://` target: the trust store and the server name.
    tls: Option<(Tls, ServerName<'static>)>,
}

impl Target {
    fn new(base: &Url, tls: Option<&Tls>) -> Result<Target, CheckError> {
        let bad = |why| CheckError::BadTarget {
            url: base.to_string(),
            why,
        };
        let tls = match base.scheme() {
            "http" => None,
            "https" => Some(tls.cloned().unwrap_or_else(Tls::webpki_roots)),
            _ => return Err(bad("only http:// and https:// targets are supported")),
        };
        if base.path() != "/" || base.query().is_some() {
            return Err(bad(
                "the URL must have no path: the policy's route paths are absolute",
            ));
        }
        let host = base.host_str().ok_or_else(|| bad("no host"))?;
        let port = base.port_or_known_default().ok_or_else(|| bad("no port"))?;
        let tls = match tls {
            None => None,
            Some(tls) => {
                let name = Tls::server_name(host)
                    .map_err(|_| bad("the host cannot be a TLS server name"))?;
                Some((tls, name))
            }
        };
        Ok(Target {
            base: base.clone(),
            authority: format!("{host}:{port}"),
            host_field: match base.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_string(),
            },
            origin: Origin::of_url(base),
            tls,
        })
    }

    /// Whether `url` is on the target (same scheme, host and port), without serializing.
    fn serves(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host() == self.base.host()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    fn client(&self, timeout: Duration) -> Client {
        let client = Client::new(self.authority.clone())
            .with_timeout(timeout)
            .with_host(self.host_field.clone());
        match &self.tls {
            None => client,
            Some((tls, name)) => client.with_tls(tls.clone(), name.clone()),
        }
    }
}

/// What one case produced.
#[derive(Debug, Default)]
struct CaseResult {
    findings: Vec<Finding>,
    requests: u64,
    errors: u64,
}

/// A response as the oracle sees it, shared between the profiles of a case; turned into the
/// report's form only for findings.
#[derive(Debug, Clone)]
struct Answer {
    oracle: Arc<Response>,
}

impl Answer {
    fn seen(&self) -> SeenResponse {
        SeenResponse {
            status: self.oracle.status,
            headers: self
                .oracle
                .headers()
                .iter()
                .map(|(n, v)| (latin1(n), latin1(v)))
                .collect(),
        }
    }
}

fn seen_pairs(exchanges: &[(SentRequest, Answer)]) -> Vec<(SentRequest, SeenResponse)> {
    exchanges
        .iter()
        .map(|(s, a)| (s.clone(), a.seen()))
        .collect()
}

/// One case's HTTP memo: identical requests are sent once. A case sends a handful of
/// requests, so a list searched in order beats hashing them.
struct Exchanger<'a> {
    target: &'a Target,
    client: &'a mut Client,
    memo: Vec<(SentRequest, Option<Answer>)>,
    requests: u64,
    errors: u64,
}

impl Exchanger<'_> {
    async fn send(&mut self, sent: &SentRequest) -> Option<Answer> {
        if let Some((_, hit)) = self.memo.iter().find(|(s, _)| s == sent) {
            return hit.clone();
        }
        let target = sent
            .url
            .strip_prefix(self.target.base.as_str().trim_end_matches('/'))
            .unwrap_or("/");
        let mut req = HttpRequest::new(sent.method.as_bytes(), target.as_bytes());
        for (n, v) in &sent.headers {
            req = req.header(n.as_bytes(), latin1_bytes(v));
        }
        self.requests += 1;
        let answer = match self.client.send(&req).await {
            Ok(raw) => Some(Answer {
                oracle: Arc::new(Response::new(raw.status, raw.headers)),
            }),
            Err(_) => {
                self.errors += 1;
                None
            }
        };
        self.memo.push((sent.clone(), answer.clone()));
        answer
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars().map(|c| u32::from(c).min(255) as u8).collect()
}

/// The shared, read-only state of a run.
struct Ctx {
    policy: Policy,
    target: Target,
    /// The second target of a differential check.
    other: Option<Target>,
    profiles: Vec<Profile>,
}

/// One profile's run of a case: the exchanges and the judgment.
struct Judged {
    profile: &'static str,
    exchanges: Vec<(SentRequest, Answer)>,
    mismatches: Vec<(&'static str, String, String, String)>,
    explanation: String,
    oracle_rule: &'static str,
    sent: bool,
    readable: bool,
    /// Every response header name (lowercase) and whether script can see it.
    visible: Vec<(String, bool)>,
}

impl Ctx {
    fn route_name(&self, path: &str) -> Option<String> {
        route_for(&self.policy, path).map(|i| {
            let r = &self.policy.routes[i];
            r.name.clone().unwrap_or_else(|| r.path.clone())
        })
    }

    /// Plays one case under one profile. `None` when the request cannot be constructed
    /// (the browser would throw) or leaves the target (a redirect elsewhere), or an exchange
    /// failed.
    async fn play(
        &self,
        init: &corsproof_oracle::RequestInit,
        profile: &Profile,
        ex: &mut Exchanger<'_>,
    ) -> Option<Judged> {
        let request = Request::construct(init.clone(), profile).ok()?;
        let mut cache = PreflightCache::default();
        let mut fetch = Fetch::new(&request, profile);
        let mut next = fetch.start(&mut cache, 0.0);
        let mut last = Arc::new(Response::default());
        let mut exchanges = Vec::new();
        for _ in 0..8 {
            if next == Next::Done {
                break;
            }
            if !ex.target.serves(fetch.current_url()) {
                return None;
            }
            let url = fetch.current_url().to_string();
            let sent = match next {
                Next::Preflight => {
                    let preflight = fetch.current_hop()?.preflight.clone()?;
                    let mut headers = vec![
                        ("Origin".to_string(), fetch.serialized_origin().to_string()),
                        (
                            "Access-Control-Request-Method".to_string(),
                            preflight.method.to_string(),
                        ),
                    ];
                    let acrh = preflight.headers.joined();
                    if !acrh.is_empty() {
                        headers.push((
                            "Access-Control-Request-Headers".to_string(),
                            latin1(acrh.as_bytes()),
                        ));
                    }
                    if preflight.private_network {
                        headers.push((
                            "Access-Control-Request-Private-Network".to_string(),
                            "true".to_string(),
                        ));
                    }
                    SentRequest {
                        method: "OPTIONS".to_string(),
                        url,
                        headers,
                    }
                }
                _ => {
                    let mut headers: Vec<(String, String)> = fetch
                        .headers()
                        .map(|(n, v)| (latin1(n), latin1(v)))
                        .collect();
                    match fetch
                        .current_hop()
                        .map_or(OriginHeader::Absent, |h| h.origin_header)
                    {
                        OriginHeader::Absent => {}
                        OriginHeader::Null => headers.push(("Origin".into(), "null".into())),
                        OriginHeader::RequestOrigin => {
                            headers.push(("Origin".into(), fetch.serialized_origin().to_string()))
                        }
                    }
                    if fetch.includes_credentials() {
                        headers.push(("Cookie".into(), "corsproof=1".into()));
                    }
                    SentRequest {
                        method: fetch.method().to_string(),
                        url,
                        headers,
                    }
                }
            };
            let answer = ex.send(&sent).await?;
            last = answer.oracle.clone();
            exchanges.push((sent, answer));
            next = match next {
                Next::Preflight => fetch.on_preflight_response(&last, &mut cache, 0.0),
                _ => fetch.on_response(&last, &mut cache, 0.0),
            };
        }
        if next != Next::Done {
            return None;
        }
        let outcome = fetch.outcome();
        let wanted = intent(&self.policy, &request, profile);
        // The header names whose visibility breaks the intent, in response order (the order
        // in which `judge` reports its `exposed` mismatches), to name them in the finding.
        let exposed = ExposedList::of(&last, request.credentials);
        let mut wrongly_visible = last
            .headers()
            .iter()
            .filter(|(n, _)| {
                let seen = is_visible(n, outcome.response_type, &exposed);
                !wanted.expose(n).allows(seen)
            })
            .map(|(n, _)| latin1(n).to_ascii_lowercase());
        let mismatches: Vec<(&'static str, String, String, String)> = wanted
            .judge(outcome, &last, request.credentials)
            .into_iter()
            .map(|m| {
                let what = if m.what == "exposed" {
                    format!("exposed {}", wrongly_visible.next().unwrap_or_default())
                } else {
                    m.what.to_string()
                };
                let kind = match (m.what, m.severity) {
                    ("sent", "violation") => kinds::SENT_FORBIDDEN,
                    ("sent", _) => kinds::SENT_BLOCKED,
                    ("readable", "violation") => kinds::READ_GRANTED,
                    ("readable", _) => kinds::READ_DENIED,
                    ("exposed", "violation") => kinds::HEADER_EXPOSED,
                    ("exposed", _) => kinds::HEADER_HIDDEN,
                    _ => kinds::CACHE_TOO_LONG,
                };
                (
                    kind,
                    m.rule.to_string(),
                    format!("{what}: {}", m.expected),
                    format!("{what}: {}", m.observed),
                )
            })
            .collect();
        // Only findings carry an explanation: most cases conform.
        let explanation = if mismatches.is_empty() {
            String::new()
        } else {
            explain_reason(
                outcome.reason,
                Some(&last),
                Some(request.origin.serialization()),
            )
        };
        let visible = last
            .headers()
            .iter()
            .map(|(n, _)| {
                (
                    latin1(n).to_ascii_lowercase(),
                    outcome.readable && is_visible(n, outcome.response_type, &exposed),
                )
            })
            .collect();
        Some(Judged {
            profile: profile.name(),
            exchanges,
            mismatches,
            explanation,
            oracle_rule: outcome.reason.rule.as_str(),
            sent: outcome.sent(),
            readable: outcome.readable,
            visible,
        })
    }

    /// Runs one case under every profile, then its cache-safety and hygiene checks.
    async fn evaluate(
        &self,
        case: &RequestJson,
        client: &mut Client,
        other_client: Option<&mut Client>,
    ) -> CaseResult {
        let mut ex = Exchanger {
            target: &self.target,
            client,
            memo: Vec::new(),
            requests: 0,
            errors: 0,
        };
        // The URL and origin are parsed once per case; each profile constructs its own
        // request from them.
        let Ok(init) = case.to_init("") else {
            return CaseResult::default();
        };
        let path = init.url.path().to_string();
        let route_index = route_for(&self.policy, &path);
        let route = self.route_name(&path);
        let mut findings: Vec<Finding> = Vec::new();
        let mut judged = Vec::new();
        for profile in &self.profiles {
            if let Some(j) = self.play(&init, profile, &mut ex).await {
                judged.push(j);
            }
        }
        for j in &judged {
            for (kind, rule, expected, observed) in &j.mismatches {
                if let Some(f) = findings
                    .iter_mut()
                    .find(|f| f.kind == *kind && f.expected == *expected)
                {
                    if !f.profiles.iter().any(|p| p == j.profile) {
                        f.profiles.push(j.profile.to_string());
                    }
                    continue;
                }
                findings.push(self.finding(
                    kind,
                    case,
                    &route,
                    j.profile,
                    seen_pairs(&j.exchanges),
                    expected.clone(),
                    observed.clone(),
                    Some(format!("{rule} / {}", j.oracle_rule)),
                    format!(
                        "{} (policy rule {rule}; decisive browser rule {}: {})",
                        kinds::ALL
                            .iter()
                            .find(|(k, _, _)| k == kind)
                            .map_or("", |(_, _, m)| *m),
                        j.oracle_rule,
                        j.explanation
                    ),
                ));
            }
        }
        let readable_somewhere = judged.iter().any(|j| j.readable);
        let violated = findings.iter().any(|f| f.severity == Severity::Violation);
        self.hygiene(
            case,
            &route,
            route_index,
            &init.origin,
            &ex,
            violated || readable_somewhere,
            &mut findings,
        );
        if let Some(first) = judged.first() {
            self.cache_safety(case, &route, route_index, first, &mut ex, &mut findings)
                .await;
        }
        let (mut requests, mut errors) = (ex.requests, ex.errors);
        if let (Some(other), Some(client)) = (&self.other, other_client) {
            let (r, e) = self
                .differential(case, &init, &route, &judged, other, client, &mut findings)
                .await;
            requests += r;
            errors += e;
        }
        CaseResult {
            findings,
            requests,
            errors,
        }
    }

    /// Differential: the same browser request against the second target; under each
    /// profile, whether it is sent, readable, and which of the headers both responses carry
    /// script can see, must agree. The policy's intent says which target is wrong.
    #[allow(clippy::too_many_arguments)]
    async fn differential(
        &self,
        case: &RequestJson,
        init: &corsproof_oracle::RequestInit,
        route: &Option<String>,
        judged: &[Judged],
        other: &Target,
        client: &mut Client,
        findings: &mut Vec<Finding>,
    ) -> (u64, u64) {
        // A request from the first target's own origin is same-origin there only.
        if Origin::of_url(&init.url).same_origin(&init.origin) {
            return (0, 0);
        }
        let mut init = init.clone();
        let rebased = init.url.set_port(other.base.port()).is_ok()
            && init.url.set_host(other.base.host_str()).is_ok();
        if !rebased {
            return (0, 0);
        }
        let mut ex = Exchanger {
            target: other,
            client,
            memo: Vec::new(),
            requests: 0,
            errors: 0,
        };
        for a in judged {
            let Some(profile) = self.profiles.iter().find(|p| p.name() == a.profile) else {
                continue;
            };
            let Some(b) = self.play(&init, profile, &mut ex).await else {
                continue;
            };
            let shared = |x: &Judged, y: &Judged| -> Vec<(String, bool)> {
                let mut v: Vec<(String, bool)> = x
                    .visible
                    .iter()
                    .filter(|(n, _)| y.visible.iter().any(|(m, _)| m == n))
                    .cloned()
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            let (va, vb) = (shared(a, &b), shared(&b, a));
            if a.sent == b.sent && a.readable == b.readable && va == vb {
                continue;
            }
            if findings.iter().any(|f| f.kind == kinds::DIFFERENTIAL) {
                break;
            }
            let describe = |j: &Judged, v: &[(String, bool)]| {
                let seen: Vec<&str> = v
                    .iter()
                    .filter(|(_, s)| *s)
                    .map(|(n, _)| n.as_str())
                    .collect();
                format!(
                    "sent {}, readable {}, visible [{}]",
                    j.sent,
                    j.readable,
                    seen.join(", ")
                )
            };
            let wrong = match (a.mismatches.is_empty(), b.mismatches.is_empty()) {
                (true, false) => format!("{} disagrees with the policy", other.base),
                (false, true) => format!("{} disagrees with the policy", self.target.base),
                (false, false) => "both disagree with the policy".to_string(),
                (true, true) => "the policy leaves this open (may), so both conform".to_string(),
            };
            let mut exchanges = seen_pairs(&a.exchanges);
            exchanges.extend(seen_pairs(&b.exchanges));
            findings.push(self.finding(
                kinds::DIFFERENTIAL,
                case,
                route,
                a.profile,
                exchanges,
                format!("{}: {}", self.target.base, describe(a, &va)),
                format!("{}: {}", other.base, describe(&b, &vb)),
                Some(a.oracle_rule.to_string()),
                format!("the two targets give different browser outcomes; {wrong}"),
            ));
        }
        (ex.requests, ex.errors)
    }

    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        kind: &str,
        case: &RequestJson,
        route: &Option<String>,
        profile: &str,
        exchanges: Vec<(SentRequest, SeenResponse)>,
        expected: String,
        observed: String,
        rule: Option<String>,
        explanation: String,
    ) -> Finding {
        let response = exchanges.last().map(|(_, r)| r.clone()).unwrap_or_default();
        let reproduce = exchanges
            .iter()
            .map(|(s, _)| s.curl())
            .collect::<Vec<_>>()
            .join("\n");
        Finding {
            kind: kind.to_string(),
            severity: kinds::severity(kind).unwrap_or(Severity::Violation),
            route: route.clone(),
            profiles: vec![profile.to_string()],
            request: serde_json::to_value(case).unwrap_or(serde_json::Value::Null),
            exchanges,
            response,
            expected,
            observed,
            rule,
            reproduce,
            explanation,
        }
    }

    /// Hygiene of every exchange of the case: duplicated or malformed CORS headers, CORS
    /// details sent to an origin the policy refuses, Max-Age other than the policy's.
    #[allow(clippy::too_many_arguments)]
    fn hygiene(
        &self,
        case: &RequestJson,
        route: &Option<String>,
        route_index: Option<usize>,
        case_origin: &Origin,
        ex: &Exchanger<'_>,
        granted: bool,
        findings: &mut Vec<Finding>,
    ) {
        let route_policy = route_index.map(|i| &self.policy.routes[i]);
        // In the order sent (deterministic for a seed).
        let entries: Vec<(&SentRequest, &Answer)> = ex
            .memo
            .iter()
            .filter_map(|(s, a)| a.as_ref().map(|a| (s, a)))
            .collect();
        for (sent, answer) in entries {
            let Some(origin) = header(&sent.headers, "origin") else {
                continue;
            };
            let pair = vec![(sent.clone(), answer.seen())];
            let mut push = |kind: &str, expected: String, observed: String, why: String| {
                if findings.iter().any(|f| f.kind == kind) {
                    return;
                }
                findings.push(self.finding(
                    kind,
                    case,
                    route,
                    "fetch",
                    pair.clone(),
                    expected,
                    observed,
                    Some("hygiene".to_string()),
                    why,
                ));
            };
            for h in CORS_HEADERS {
                let n = answer.oracle.cors_values(h).count();
                if n > 1 {
                    push(
                        kinds::DUPLICATE_HEADER,
                        format!("one {} line", name(h)),
                        format!("{n} lines"),
                        format!(
                            "{} is sent {n} times; browsers combine the lines with \", \", which no CORS check accepts for this header (R20, R27)",
                            name(h)
                        ),
                    );
                }
            }
            for h in CORS_HEADERS {
                for value in answer.oracle.cors_values(h) {
                    if let Some(why) = malformed(h, value) {
                        push(
                            kinds::MALFORMED_HEADER,
                            format!("a valid {}", name(h)),
                            format!("{}: {}", name(h), latin1(value)),
                            why,
                        );
                    }
                }
            }
            // Most exchanges carry the case's own origin, already parsed.
            let parsed = if origin == case_origin.serialization() {
                Ok(case_origin.clone())
            } else {
                Origin::parse_serialized(origin)
            };
            let refused = match (route_policy, parsed) {
                // Refused: the policy says no (not a host it leaves open, P4).
                (Some(r), Ok(o)) => origin_match(&r.origins, &o) == Tri::MustNot,
                (None, Ok(o)) => !o.same_origin(&self.target.origin),
                _ => false,
            };
            let details: Vec<&str> = CORS_HEADERS
                .iter()
                .filter(|h| answer.oracle.has(**h))
                .map(|h| name(*h))
                .collect();
            if refused && !granted && !details.is_empty() {
                push(
                    kinds::DISCLOSED_TO_REFUSED,
                    "no CORS headers besides Vary".to_string(),
                    details.join(", "),
                    format!(
                        "origin {origin} is refused by the policy, yet the response carries {}: it tells an attacker what the server allows",
                        details.join(", ")
                    ),
                );
            }
            let is_preflight = sent.method == "OPTIONS"
                && header(&sent.headers, "access-control-request-method").is_some();
            if is_preflight && !refused && answer.oracle.has(Cors::AllowOrigin) {
                if let Some(r) = route_policy {
                    let got = answer.oracle.cors_values(Cors::MaxAge).next().map(latin1);
                    let want = r.max_age.map(|m| m.to_string());
                    if got != want && !(got.is_none() && r.max_age.is_none()) {
                        push(
                            kinds::MAX_AGE_MISMATCH,
                            want.map_or("no Access-Control-Max-Age".to_string(), |m| {
                                format!("Access-Control-Max-Age: {m}")
                            }),
                            got.map_or("no Access-Control-Max-Age".to_string(), |m| {
                                format!("Access-Control-Max-Age: {m}")
                            }),
                            "the preflight's Max-Age differs from the policy's max_age".to_string(),
                        );
                    }
                }
            }
        }
    }

    /// Cache safety: the case's actual request sent again from another origin (or with one
    /// when it had none); when the CORS answers differ, both responses must `Vary: Origin`.
    async fn cache_safety(
        &self,
        case: &RequestJson,
        route: &Option<String>,
        route_index: Option<usize>,
        judged: &Judged,
        ex: &mut Exchanger<'_>,
        findings: &mut Vec<Finding>,
    ) {
        let Some((sent, seen)) = judged
            .exchanges
            .iter()
            .rev()
            .find(|(s, _)| s.method != "OPTIONS")
            .cloned()
        else {
            return;
        };
        let current = header(&sent.headers, "origin").map(str::to_string);
        let sibling_origin = self.sibling_origin(route_index, current.as_deref());
        let mut sibling = sent.clone();
        sibling
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("origin"));
        sibling
            .headers
            .push(("Origin".to_string(), sibling_origin.clone()));
        let Some(answer) = ex.send(&sibling).await else {
            return;
        };
        let Some(first) = ex
            .memo
            .iter()
            .find(|(s, _)| *s == sent)
            .and_then(|(_, a)| a.clone())
        else {
            return;
        };
        if cors_answer(&first.oracle) == cors_answer(&answer.oracle) {
            return;
        }
        let missing: Vec<&SentRequest> = [(&sent, &first), (&sibling, &answer)]
            .into_iter()
            .filter(|(_, a)| !varies_on_origin(&a.oracle))
            .map(|(s, _)| s)
            .collect();
        if missing.is_empty() || findings.iter().any(|f| f.kind == kinds::MISSING_VARY) {
            return;
        }
        let who: Vec<String> = missing
            .iter()
            .map(|s| {
                header(&s.headers, "origin")
                    .unwrap_or("no Origin")
                    .to_string()
            })
            .collect();
        findings.push(self.finding(
            kinds::MISSING_VARY,
            case,
            route,
            judged.profile,
            vec![(sent.clone(), seen.seen()), (sibling, answer.seen())],
            "Vary: Origin on both responses".to_string(),
            format!("no Vary: Origin on the response to {}", who.join(" and ")),
            Some("cache-safety".to_string()),
            format!(
                "the CORS headers differ between {} and {sibling_origin}, so a shared cache keyed on the URL alone can replay one origin's answer to the other (RFC 9111 section 4.1, Fetch CORS protocol and HTTP caches)",
                current.as_deref().unwrap_or("a request without Origin")
            ),
        ));
    }

    /// An origin whose answer should differ from `current`'s: an allowed one when `current`
    /// is refused or absent, else a stranger.
    fn sibling_origin(&self, route_index: Option<usize>, current: Option<&str>) -> String {
        let stranger = "https://sibling.corsproof.test".to_string();
        let Some(route) = route_index.map(|i| &self.policy.routes[i]) else {
            return stranger;
        };
        let allowed = match &route.origins {
            Origins::Any => return stranger,
            Origins::List(entries) => entries.iter().find_map(|e| match e {
                OriginEntry::Exact { .. } => Some(e.to_string()),
                OriginEntry::Subdomain {
                    scheme,
                    domain,
                    port,
                } => Some(match port {
                    Some(p) => format!("{}://a1.{domain}:{p}", scheme.as_str()),
                    None => format!("{}://a1.{domain}", scheme.as_str()),
                }),
                OriginEntry::Null => None,
            }),
        };
        let current_allowed = current
            .and_then(|c| Origin::parse_serialized(c).ok())
            .is_some_and(|o| origin_matches(&route.origins, &o));
        match allowed {
            Some(a) if !current_allowed && Some(a.as_str()) != current => a,
            _ => stranger,
        }
    }
}

const CORS_HEADERS: [Cors; 7] = [
    Cors::AllowOrigin,
    Cors::AllowCredentials,
    Cors::AllowMethods,
    Cors::AllowHeaders,
    Cors::ExposeHeaders,
    Cors::MaxAge,
    Cors::AllowPrivateNetwork,
];

fn name(h: Cors) -> &'static str {
    match h {
        Cors::AllowOrigin => "Access-Control-Allow-Origin",
        Cors::AllowCredentials => "Access-Control-Allow-Credentials",
        Cors::AllowMethods => "Access-Control-Allow-Methods",
        Cors::AllowHeaders => "Access-Control-Allow-Headers",
        Cors::ExposeHeaders => "Access-Control-Expose-Headers",
        Cors::MaxAge => "Access-Control-Max-Age",
        Cors::AllowPrivateNetwork => "Access-Control-Allow-Private-Network",
        _ => "Access-Control-*",
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
}

/// Why a CORS header value is malformed, if it is (the grammar of R20, R27, R40, R41, R46,
/// R52: ACAO a serialized origin, `*` or `null`; ACAC exactly `true`; lists of tokens; Max-Age
/// digits).
fn malformed(h: Cors, value: &[u8]) -> Option<String> {
    let v = latin1(value);
    match h {
        Cors::AllowOrigin => {
            if v == "*" || v == "null" {
                return None;
            }
            match Origin::parse_serialized(&v) {
                Ok(o) if o.serialization() == v => None,
                _ => Some(format!(
                    "Access-Control-Allow-Origin {v:?} is neither `*`, `null` nor a serialized origin (scheme://host[:port], lowercase, no path or trailing slash), so it matches no Origin byte for byte (R20)"
                )),
            }
        }
        Cors::AllowCredentials => (v != "true").then(|| {
            format!("Access-Control-Allow-Credentials {v:?} is not exactly `true`, the only value browsers accept (R27)")
        }),
        Cors::MaxAge => (v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit())).then(|| {
            format!("Access-Control-Max-Age {v:?} is not a non-negative integer (R46)")
        }),
        _ => {
            let bad = value
                .split(|&b| b == b',')
                .map(|e| e.trim_ascii())
                .filter(|e| !e.is_empty())
                .find(|e| !is_token(e));
            bad.map(|e| {
                format!(
                    "{} element {:?} is not an HTTP token, which makes browsers reject the whole list (R40, R41, R52)",
                    name(h),
                    latin1(e)
                )
            })
        }
    }
}

fn cors_answer(r: &Response) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, h) in CORS_HEADERS.iter().enumerate() {
        for v in r.cors_values(*h) {
            out.push((i, v.to_vec()));
        }
    }
    out
}

fn varies_on_origin(r: &Response) -> bool {
    r.headers()
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"vary"))
        .flat_map(|(_, v)| v.split(|&b| b == b','))
        .map(|e| e.trim_ascii())
        .any(|e| e == b"*" || e.eq_ignore_ascii_case(b"origin"))
}

/// The generated requests of a run: the baseline, then `cases` from the seed.
pub fn cases(generator: &Generator, policy: &Policy, count: usize, seed: u64) -> Vec<RequestJson> {
    let mut out = generator.baseline(policy);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
    let mut runner = TestRunner::new_with_rng(ProptestConfig::default(), rng);
    let strategy = generator.request();
    for _ in 0..count {
        if let Ok(tree) = strategy.new_tree(&mut runner) {
            out.push(tree.current());
        }
    }
    out
}

/// Candidate simplifications of a request, smallest first.
fn simplifications(case: &RequestJson) -> Vec<RequestJson> {
    let mut out = Vec::new();
    for i in 0..case.headers.len() {
        let mut c = case.clone();
        c.headers.remove(i);
        out.push(c);
    }
    if case.use_cors_preflight {
        let mut c = case.clone();
        c.use_cors_preflight = false;
        out.push(c);
    }
    if case.method != "GET" {
        let mut c = case.clone();
        c.method = "GET".to_string();
        out.push(c);
    }
    if case.credentials != Some(CredentialsJson::Omit) {
        let mut c = case.clone();
        c.credentials = Some(CredentialsJson::Omit);
        out.push(c);
    }
    if case.mode != Some(ModeJson::Cors) {
        let mut c = case.clone();
        c.mode = Some(ModeJson::Cors);
        out.push(c);
    }
    if let Some((path, _)) = case.url.split_once('?') {
        let mut c = case.clone();
        c.url = path.to_string();
        out.push(c);
    }
    out
}

fn size(case: &RequestJson) -> usize {
    case.headers.len() * 4
        + usize::from(case.method != "GET") * 2
        + usize::from(case.credentials != Some(CredentialsJson::Omit))
        + usize::from(case.mode != Some(ModeJson::Cors))
        + usize::from(case.use_cors_preflight)
        + usize::from(case.url.contains('?'))
}

/// Checks the server at `base` against `policy` (named `policy_name` in the report).
pub async fn check(
    policy: &Policy,
    policy_name: &str,
    base: &Url,
    config: &CheckConfig,
) -> Result<Report, CheckError> {
    let target = Target::new(base, config.tls.as_ref())?;
    let generator = Generator::new(policy, base);
    let all = cases(&generator, policy, config.cases, config.seed);
    run(policy, policy_name, target, all, config).await
}

/// Replays saved cases (`check --replay`): the same judgment, without generation.
pub async fn replay(
    policy: &Policy,
    policy_name: &str,
    base: &Url,
    cases: Vec<RequestJson>,
    config: &CheckConfig,
) -> Result<Report, CheckError> {
    let target = Target::new(base, config.tls.as_ref())?;
    let mut rebased = Vec::with_capacity(cases.len());
    for mut case in cases {
        let url = Url::parse(&case.url).map_err(|e| {
            CheckError::Case(corsproof_case::CaseError::Url {
                where_: "replay: ".to_string(),
                url: case.url.clone(),
                reason: e.to_string(),
            })
        })?;
        let mut path = url.path().to_string();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        case.url = format!("{}{path}", target.base.as_str().trim_end_matches('/'));
        rebased.push(case);
    }
    run(policy, policy_name, target, rebased, config).await
}

async fn run(
    policy: &Policy,
    policy_name: &str,
    target: Target,
    all: Vec<RequestJson>,
    config: &CheckConfig,
) -> Result<Report, CheckError> {
    let started = Instant::now();
    // Reachability: one plain request before anything else (exit 3 when it fails).
    let other = config
        .against
        .as_ref()
        .map(|url| Target::new(url, config.tls.as_ref()))
        .transpose()?;
    for t in std::iter::once(&target).chain(other.as_ref()) {
        let mut probe = t.client(config.timeout);
        if let Err(source) = probe.send(&HttpRequest::new("GET", "/")).await {
            return Err(CheckError::Unreachable {
                url: t.base.to_string(),
                source,
            });
        }
    }
    let ctx = Arc::new(Ctx {
        policy: policy.clone(),
        target,
        other,
        profiles: config.profiles.clone(),
    });
    let all = Arc::new(all);
    let total = all.len() as u64;
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(1));
    let deadline = started + config.deadline;
    let mut workers = Vec::new();
    for _ in 0..config.concurrency.max(1) {
        let (ctx, all, next, done, requests) = (
            ctx.clone(),
            all.clone(),
            next.clone(),
            done.clone(),
            requests.clone(),
        );
        let progress = config.progress.clone();
        let timeout = config.timeout;
        workers.push(tokio::spawn(async move {
            let mut client = ctx.target.client(timeout);
            let mut other = ctx.other.as_ref().map(|t| t.client(timeout));
            let mut results = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = all.get(i) else { break };
                if Instant::now() > deadline {
                    break;
                }
                let r = ctx.evaluate(case, &mut client, other.as_mut()).await;
                let sent = requests.fetch_add(r.requests, Ordering::Relaxed) + r.requests;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(p) = &progress {
                    p(d, total, sent);
                }
                results.push(r);
            }
            results
        }));
    }
    let mut results = Vec::new();
    for w in workers {
        if let Ok(r) = w.await {
            results.extend(r);
        }
    }
    let mut errors = 0;
    let mut failing = 0;
    // Group: one finding per (kind, route), the smallest case first.
    let mut groups: BTreeMap<(Severity, String, Option<String>), (Finding, u64)> = BTreeMap::new();
    for r in results {
        errors += r.errors;
        failing += u64::from(!r.findings.is_empty());
        for f in r.findings {
            let key = (f.severity, f.kind.clone(), f.route.clone());
            match groups.get_mut(&key) {
                Some((kept, n)) => {
                    *n += 1;
                    for p in &f.profiles {
                        if !kept.profiles.contains(p) {
                            kept.profiles.push(p.clone());
                        }
                    }
                    if finding_size(&f) < finding_size(kept) {
                        let profiles = std::mem::take(&mut kept.profiles);
                        *kept = f;
                        kept.profiles = profiles;
                    }
                }
                None => {
                    groups.insert(key, (f, 1));
                }
            }
        }
    }
    let mut findings = Vec::new();
    let mut client = ctx.target.client(config.timeout);
    let mut other = ctx.other.as_ref().map(|t| t.client(config.timeout));
    for ((_, kind, route), (mut f, n)) in groups {
        if config.shrink {
            let mut extra = 0;
            f = shrink(
                &ctx,
                &mut client,
                other.as_mut(),
                f,
                &kind,
                &route,
                &mut extra,
            )
            .await;
            requests.fetch_add(extra, Ordering::Relaxed);
        }
        if n > 1 {
            f.explanation = format!("{} ({n} cases showed it)", f.explanation);
        }
        f.profiles.sort();
        findings.push(f);
    }
    let seconds = started.elapsed().as_secs_f64();
    let sent = requests.load(Ordering::Relaxed);
    let judged = done.load(Ordering::Relaxed);
    Ok(Report {
        target: ctx.target.base.to_string(),
        policy: Some(policy_name.to_string()),
        seed: config.seed,
        cases: judged,
        findings,
        stats: Stats {
            cases: judged,
            requests: sent,
            seconds,
            requests_per_second: if seconds > 0.0 {
                sent as f64 / seconds
            } else {
                0.0
            },
            errors,
            failing_cases: failing,
        },
    })
}

fn finding_size(f: &Finding) -> usize {
    serde_json::from_value::<RequestJson>(f.request.clone()).map_or(usize::MAX, |c| size(&c))
}

/// Shrinks `f` to the smallest request that still shows `kind` on `route` (at most 48
/// re-evaluations).
#[allow(clippy::too_many_arguments)]
async fn shrink(
    ctx: &Ctx,
    client: &mut Client,
    mut other: Option<&mut Client>,
    f: Finding,
    kind: &str,
    route: &Option<String>,
    requests: &mut u64,
) -> Finding {
    let Ok(mut case) = serde_json::from_value::<RequestJson>(f.request.clone()) else {
        return f;
    };
    let mut best = f;
    let mut budget = 48;
    'outer: loop {
        for candidate in simplifications(&case) {
            if budget == 0 {
                break 'outer;
            }
            budget -= 1;
            let r = ctx.evaluate(&candidate, client, other.as_deref_mut()).await;
            *requests += r.requests;
            if let Some(found) = r
                .findings
                .into_iter()
                .find(|g| g.kind == kind && &g.route == route)
            {
                let profiles = std::mem::take(&mut best.profiles);
                best = found;
                for p in profiles {
                    if !best.profiles.contains(&p) {
                        best.profiles.push(p);
                    }
                }
                case = candidate;
                continue 'outer;
            }
        }
        break;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_connect_to_host_and_port_and_send_a_browser_host_field() {
        let target = |url: &str| {
            Target::new(&Url::parse(url).expect("URL"), None)
                .map(|t| (t.authority, t.host_field, t.tls.is_some()))
        };
        let ok = |a: &str, h: &str, tls| Some((a.to_string(), h.to_string(), tls));
        assert_eq!(
            target("http://127.0.0.1:8080/").ok(),
            ok("127.0.0.1:8080", "127.0.0.1:8080", false)
        );
        assert_eq!(
            target("http://api.test:80/").ok(),
            ok("api.test:80", "api.test", false)
        );
        assert_eq!(
            target("https://api.test/").ok(),
            ok("api.test:443", "api.test", true)
        );
        assert_eq!(
            target("https://[::1]:8443/").ok(),
            ok("[::1]:8443", "[::1]:8443", true)
        );
        for bad in [
            "ftp://api.test/",
            "https://api.test/v1",
            "http://api.test/?q",
        ] {
            assert!(
                matches!(target(bad), Err(CheckError::BadTarget { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_values_are_named() {
        assert!(malformed(Cors::AllowOrigin, b"https://a.test/").is_some());
        assert!(malformed(Cors::AllowOrigin, b"https://A.test").is_some());
        assert!(malformed(Cors::AllowOrigin, b"https://a.test").is_none());
        assert!(malformed(Cors::AllowOrigin, b"*").is_none());
        assert!(malformed(Cors::AllowCredentials, b"True").is_some());
        assert!(malformed(Cors::MaxAge, b"-1").is_some());
        assert!(malformed(Cors::MaxAge, b"600").is_none());
        assert!(malformed(Cors::AllowMethods, b"GET, PUT,").is_none());
        assert!(malformed(Cors::AllowHeaders, b"x-a, x b").is_some());
    }

    #[test]
    fn simplifications_shrink() {
        let case: RequestJson = serde_json::from_str(
            r#"{"url": "http://127.0.0.1:1/a?q=1", "origin": "https://a.test", "method": "PUT",
                "headers": [["X-A", "1"], ["X-B", "2"]], "credentials": "include"}"#,
        )
        .unwrap();
        for c in simplifications(&case) {
            assert!(size(&c) < size(&case), "{c:?}");
        }
    }

    #[test]
    fn seeds_replay() {
        let policy = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.test\"]\n",
            "p.toml",
        )
        .unwrap();
        let base = Url::parse("http://127.0.0.1:1").unwrap();
        let g = Generator::new(&policy, &base);
        assert_eq!(cases(&g, &policy, 50, 7), cases(&g, &policy, 50, 7));
        assert_ne!(cases(&g, &policy, 50, 7), cases(&g, &policy, 50, 8));
    }
}
