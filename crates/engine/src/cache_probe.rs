//! The cache probe: a target behind a real shared cache (Varnish, nginx `proxy_cache`, Apache
//! `mod_cache`), asked by one origin and then, at the same URL, by another. When the cache
//! hands the second origin the answer meant for the first and the browser's CORS check on it
//! (the oracle's, R31–R35) departs from the policy's intent, the cache hazard of a missing
//! `Vary: Origin` (H1) is no longer a prediction but a transcript:
//!
//! - `missing-vary` (violation): the refused origin got an answer cached for another request
//!   (an allowed origin's, or a request without `Origin` answered `*`) that the browser lets
//!   its script read;
//! - `missing-vary-denial` (breakage): the allowed front end got an answer cached for a refused
//!   origin or for a request without `Origin` (a same-origin page, a server), which the
//!   browser refuses it.
//!
//! A scenario is two requests through the cache at one URL, the first origin's and the second
//! origin's; when the browser's verdict on the second answer departs from the policy, a third
//! request asks the target directly for the second origin (a departure the target makes on its
//! own is the ordinary check's finding, not the cache's). Every scenario has a URL of its own
//! under the route (a path segment unique to the run and scenario), so that no scenario sees
//! another's entry. An echoed origin replayed to another origin grants it nothing (the browser
//! compares `Access-Control-Allow-Origin` with its own origin, R33): a leak needs a cached
//! answer that grants everyone, such as `*`. A route that lists origins has four scenarios
//! (allowed then refused, refused then allowed, no `Origin` then allowed, no `Origin` then
//! refused), a route open to every origin one (no `Origin` then allowed): at most twelve
//! requests per route, eight when the cache changes nothing.

use std::time::{Duration, Instant};

use corsproof_case::RequestJson;
use corsproof_client::{Client, Request as HttpRequest};
use corsproof_oracle::cors_check::cors_check;
use corsproof_oracle::intent::{intent, origin_matches, Tri};
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::{Origin, Profile, Request, RequestInit, Response, RuleId};
use corsproof_policy::{OriginEntry, Origins, Policy, Route};
use corsproof_report::{CheckKind, Finding, Kind, SeenResponse, SentRequest};
use url::Url;

use crate::generate::instance;

/// The origin the probe uses as the one every policy refuses.
pub const REFUSED_ORIGIN: &str = "https://attacker.corsproof.test";

/// How long one request of the probe may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why the probe could not run.
#[derive(Debug, thiserror::Error)]
pub enum CacheProbeError {
    /// A base URL is not `http://HOST:PORT/`.
    #[error("{which} URL {url} is not http://HOST:PORT/")]
    BadUrl {
        /// `cache` or `target`.
        which: &'static str,
        /// The URL.
        url: String,
    },
}

/// What the probe found behind one cache.
#[derive(Debug, Clone, Default)]
pub struct CacheReport {
    /// The findings, each with the cache's transcript in its exchanges.
    pub findings: Vec<Finding>,
    /// HTTP requests sent (through the cache and to the target).
    pub requests: u64,
    /// Requests that got no usable answer, as `METHOD URL: error`.
    pub errors: Vec<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// One scenario: who asks first, who asks second at the same URL.
struct Scenario<'a> {
    route: &'a Route,
    /// The path, unique to the run and the scenario.
    path: String,
    /// The first request's origin (`None`: no `Origin`).
    first: Option<String>,
    /// The second request's origin.
    second: String,
}

/// The two HTTP clients and the run's counters.
struct Wire {
    cache: Client,
    cache_base: Url,
    target: Client,
    target_base: Url,
    report: CacheReport,
}

/// Probes the target at `target` (its base URL) through the cache at `cache` (named `name` in
/// the findings) on every cross-origin route of `policy`. `nonce` makes the probe's URLs
/// unique (a run's process id and time, say), so that a cache that outlives one probe does not
/// answer the next from its entries.
pub async fn probe(
    policy: &Policy,
    target: &Url,
    cache: &Url,
    name: &str,
    nonce: &str,
) -> Result<CacheReport, CacheProbeError> {
    let started = Instant::now();
    let mut wire = Wire {
        cache: client(cache, "cache")?,
        cache_base: cache.clone(),
        target: client(target, "target")?,
        target_base: target.clone(),
        report: CacheReport::default(),
    };
    for (i, route) in policy.routes.iter().enumerate() {
        for scenario in &scenarios(route, &format!("{nonce}-{i}")) {
            if let Some(finding) = play(policy, scenario, name, &mut wire).await {
                wire.report.findings.push(finding);
            }
        }
    }
    wire.report.seconds = started.elapsed().as_secs_f64();
    Ok(wire.report)
}

fn client(base: &Url, which: &'static str) -> Result<Client, CacheProbeError> {
    match (base.scheme(), base.host_str(), base.port_or_known_default()) {
        ("http", Some(host), Some(port)) => {
            Ok(Client::new(format!("{host}:{port}")).with_timeout(TIMEOUT))
        }
        _ => Err(CacheProbeError::BadUrl {
            which,
            url: base.to_string(),
        }),
    }
}

/// The scenarios of a route: the allowed origin then the refused one, the refused one then the
/// allowed one, no `Origin` then the allowed one, no `Origin` then the refused one. A route
/// that allows every origin has only the third; a same-origin-only route none.
fn scenarios<'a>(route: &'a Route, nonce: &str) -> Vec<Scenario<'a>> {
    let dir = if route.path.ends_with('/') {
        route.path.clone()
    } else {
        format!("{}/", route.path)
    };
    let path = |tag: &str| format!("{dir}corsproof-cache-{nonce}-{tag}");
    let scenario = |tag: &str, first: Option<&str>, second: &str| Scenario {
        route,
        path: path(tag),
        first: first.map(str::to_string),
        second: second.to_string(),
    };
    match &route.origins {
        Origins::Any => vec![scenario(
            "none-then-allowed",
            None,
            "https://app.corsproof.test",
        )],
        Origins::List(entries) => match allowed_origin(entries, &route.origins) {
            Some(allowed) => vec![
                scenario("allowed-then-refused", Some(&allowed), REFUSED_ORIGIN),
                scenario("refused-then-allowed", Some(REFUSED_ORIGIN), &allowed),
                scenario("none-then-allowed", None, &allowed),
                scenario("none-then-refused", None, REFUSED_ORIGIN),
            ],
            None => Vec::new(),
        },
    }
}

/// An origin the route allows: its first exact entry, or a host under its first subdomain
/// pattern ([`instance`]).
fn allowed_origin(entries: &[OriginEntry], origins: &Origins) -> Option<String> {
    let candidate = entries
        .iter()
        .filter(|e| !matches!(e, OriginEntry::Null))
        .find_map(instance)?;
    origin_matches(origins, &candidate).then(|| candidate.serialization().to_string())
}

/// The request of `origin` for `path` at `base`, as the report shows it and as it is sent.
fn request(base: &Url, path: &str, origin: Option<&str>) -> Option<(SentRequest, HttpRequest)> {
    let url = base.join(path).ok()?;
    let mut sent = SentRequest::new("GET", url.as_str()).header("Accept", "*/*");
    if let Some(origin) = origin {
        sent = sent.header("Origin", origin);
    }
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut http = HttpRequest::new("GET", target);
    for (name, value) in &sent.headers {
        http = http.header(name.clone(), value.clone());
    }
    Some((sent, http))
}

impl Wire {
    /// Sends `origin`'s request for `path` through the cache (`cached`) or to the target.
    async fn send(
        &mut self,
        cached: bool,
        path: &str,
        origin: Option<&str>,
    ) -> Option<(SentRequest, SeenResponse)> {
        let base = if cached {
            &self.cache_base
        } else {
            &self.target_base
        };
        let (sent, http) = request(base, path, origin)?;
        self.report.requests += 1;
        let client = if cached {
            &mut self.cache
        } else {
            &mut self.target
        };
        match client.send(&http).await {
            Ok(raw) => Some((
                sent,
                SeenResponse {
                    status: raw.status,
                    headers: raw.headers,
                },
            )),
            Err(e) => {
                self.report.errors.push(format!("GET {}: {e}", sent.url));
                None
            }
        }
    }
}

/// Plays one scenario; the finding when the cache's answer to the second origin departs from
/// the policy where the target's own answer does not.
async fn play(policy: &Policy, s: &Scenario<'_>, cache: &str, wire: &mut Wire) -> Option<Finding> {
    let first = wire.send(true, &s.path, s.first.as_deref()).await?;
    let second = wire.send(true, &s.path, Some(&s.second)).await?;
    let origin = Origin::parse_serialized(&s.second).ok()?;
    let url = Url::parse(&second.0.url).ok()?;
    let init = RequestInit::new(url, origin.clone());
    let profile = Profile::fetch();
    let browser = Request::construct(init.clone(), &profile).ok()?;
    let wanted = intent(policy, &browser, &profile).readable;
    let judge = |r: &SeenResponse| {
        let response = Response::new(r.status, r.headers.iter().map(|(n, v)| (n, v)));
        cors_check(&response, origin.serialization(), browser.credentials)
    };
    let through = judge(&second.1);
    let grants = through.error.is_none();
    let kind = match (grants, wanted) {
        (true, Tri::MustNot) => CheckKind::MissingVary,
        (false, Tri::Must) => CheckKind::MissingVaryDenial,
        _ => return None,
    };
    let direct = wire.send(false, &s.path, Some(&s.second)).await?;
    if judge(&direct.1).error.is_none() == grants {
        return None;
    }
    let text = Texts {
        cache,
        first: s.first.as_deref().unwrap_or("a request without Origin"),
        second: &s.second,
        hit: hit_evidence(&second.1.headers),
        grants,
    };
    let exchanges = vec![first, second.clone(), direct];
    let reproduce = exchanges
        .iter()
        .map(|(sent, _)| sent.curl())
        .collect::<Vec<_>>()
        .join("\n");
    Some(Finding {
        kind: Kind::Check(kind),
        severity: kind.severity(),
        route: Some(s.route.label().to_string()),
        profiles: vec![ProfileId::Fetch],
        request: RequestJson::from_init(&init).into(),
        exchanges,
        response: second.1,
        expected: format!(
            "{} gets, through {}, the CORS answer the target gives its own origin (Vary: Origin on every answer whose CORS headers depend on the Origin)",
            text.second, cache
        ),
        observed: text.observed(),
        rule: Some(RuleId::H1),
        decided_by: Some(through.rule),
        reproduce,
        explanation: text.explanation(),
        confirmed: Default::default(),
    })
}

/// The sentences of a finding.
struct Texts<'a> {
    cache: &'a str,
    first: &'a str,
    second: &'a str,
    hit: Option<String>,
    grants: bool,
}

impl Texts<'_> {
    fn observed(&self) -> String {
        let hit = self
            .hit
            .as_deref()
            .map_or("a cache hit".to_string(), |h| format!("a cache hit ({h})"));
        let effect = if self.grants {
            format!(
                "the browser lets {} read it, which the policy refuses",
                self.second
            )
        } else {
            format!(
                "the browser denies {} the read the policy grants",
                self.second
            )
        };
        format!(
            "{} served {} the answer it stored for {}, {hit}: {effect}; the target itself answers {} differently",
            self.cache, self.second, self.first, self.second
        )
    }

    fn explanation(&self) -> String {
        format!(
            "the target's answer depends on the Origin but does not say Vary: Origin, so {} keys it on the URL alone and replays the answer for {} to {} (RFC 9111 section 4.1; Fetch, CORS protocol and HTTP caches): {}",
            self.cache,
            self.first,
            self.second,
            if self.grants {
                "an attacker's page reads what the policy grants another origin"
            } else {
                "the real front end is refused until the entry expires"
            }
        )
    }
}

/// What in a response's header lines says it came from the cache: `X-Cache-Status: HIT`
/// (nginx), `X-Cache: HIT …` (Apache), two request ids in `X-Varnish` (Varnish), with the
/// `Age` when there is one.
pub fn hit_evidence(headers: &[(Vec<u8>, Vec<u8>)]) -> Option<String> {
    let value = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_string())
    };
    let age = value("age")
        .map(|a| format!(", Age: {a}"))
        .unwrap_or_default();
    if let Some(v) = value("x-cache-status").filter(|v| v.eq_ignore_ascii_case("hit")) {
        return Some(format!("X-Cache-Status: {v}{age}"));
    }
    if let Some(v) = value("x-cache").filter(|v| v.to_ascii_uppercase().starts_with("HIT")) {
        return Some(format!("X-Cache: {v}{age}"));
    }
    if let Some(v) = value("x-varnish").filter(|v| v.split_whitespace().count() == 2) {
        return Some(format!("X-Varnish: {v}{age}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(l: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        l.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn hits_are_recognised_by_each_caches_header() {
        let nginx = lines(&[("X-Cache-Status", "HIT")]);
        assert_eq!(hit_evidence(&nginx).as_deref(), Some("X-Cache-Status: HIT"));
        assert_eq!(hit_evidence(&lines(&[("X-Cache-Status", "MISS")])), None);
        let apache = lines(&[("Age", "0"), ("X-Cache", "HIT from 127.0.0.1")]);
        assert_eq!(
            hit_evidence(&apache).as_deref(),
            Some("X-Cache: HIT from 127.0.0.1, Age: 0")
        );
        let varnish = lines(&[("X-Varnish", "32770 3")]);
        assert_eq!(
            hit_evidence(&varnish).as_deref(),
            Some("X-Varnish: 32770 3")
        );
        assert_eq!(hit_evidence(&lines(&[("X-Varnish", "2")])), None);
    }

    #[test]
    fn routes_get_scenarios_by_their_origins() {
        let policy = Policy::from_toml_str(
            r#"
            version = 1
            [[route]]
            path = "/api/"
            origins = ["https://app.example.com"]
            [[route]]
            path = "/public"
            origins = ["*"]
            [[route]]
            path = "/admin/"
            origins = []
            "#,
            "p.toml",
        )
        .expect("a policy");
        let api = scenarios(&policy.routes[0], "n");
        assert_eq!(api.len(), 4);
        assert_eq!(api[0].first.as_deref(), Some("https://app.example.com"));
        assert_eq!(api[0].second, REFUSED_ORIGIN);
        assert_eq!(api[0].path, "/api/corsproof-cache-n-allowed-then-refused");
        assert_eq!(api[2].first, None);
        assert_eq!(api[2].second, "https://app.example.com");
        assert_eq!(api[3].first, None);
        assert_eq!(api[3].second, REFUSED_ORIGIN);
        let public = scenarios(&policy.routes[1], "n");
        assert_eq!(public.len(), 1);
        assert_eq!(
            public[0].path,
            "/public/corsproof-cache-n-none-then-allowed"
        );
        assert!(scenarios(&policy.routes[2], "n").is_empty());
    }
}
