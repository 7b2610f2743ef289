//! Judging the answers: what a browser grants each probe origin (the oracle's CORS check and
//! preflight validation), grouped into one finding per kind.

use std::collections::BTreeMap;

use corsproof_case::{CredentialsJson, ModeJson, RequestJson};
use corsproof_oracle::cors_check::cors_check;
use corsproof_oracle::grammar::isomorphic_decode;
use corsproof_oracle::headers::UnsafeNames;
use corsproof_oracle::preflight::{validate, ActualRequest};
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::response::Cors;
use corsproof_oracle::{CredentialsMode, Origin, Response, RuleId};
use corsproof_report::{AuditKind, Finding, FindingRequest, SeenResponse, SentRequest, Severity};

use super::probes::{Class, Probe, PROBE_HEADER, PROBE_METHOD, PROBE_REQUEST_HEADERS};
use super::{Site, Target};
use crate::storable::shared_cache_may_store;

/// At most this many exchanges are kept in one finding (every probe origin is still listed).
const MAX_EXCHANGES: usize = 5;

/// The browser profiles every audit finding applies to: the CORS check (R31–R35) has no
/// deviations, and the preflight probe is judged under each.
const PROFILES: [ProfileId; 3] = ProfileId::ALL;

/// One probe's exchange: the request sent and the answer, or why there was none.
///
/// ```
/// use corsproof_engine::audit::{analyze, probes, Exchange, Site, Target};
/// use corsproof_report::finding::SeenResponse;
/// let site = Site::parse("https://example.com").unwrap();
/// let target = Target::parse("http://127.0.0.1:8080/").unwrap();
/// // A server that answers every request with `*` and credentials.
/// let answer = SeenResponse {
///     status: 200,
///     headers: vec![
///         (b"Access-Control-Allow-Origin".to_vec(), b"*".to_vec()),
///         (b"Access-Control-Allow-Credentials".to_vec(), b"true".to_vec()),
///     ],
/// };
/// let exchanges: Vec<Exchange> = probes(&site)
///     .into_iter()
///     .map(|probe| Exchange { sent: probe.sent(&target), probe, response: Ok(answer.clone()) })
///     .collect();
/// let findings = analyze(&target, &site, &exchanges);
/// let kinds: Vec<&str> = findings.iter().map(|f| f.kind.as_str()).collect();
/// assert_eq!(kinds, ["wildcard-with-credentials"]);
/// // Browsers refuse the credentialed read: `*` is no origin's serialization (R33).
/// assert_eq!(findings[0].rule, Some(corsproof_oracle::RuleId::R33));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The probe.
    pub probe: Probe,
    /// The request as sent.
    pub sent: SentRequest,
    /// The response, or the error that replaced it.
    pub response: Result<SeenResponse, String>,
}

/// What a browser grants a probe's origin on one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// Nothing (or no origin was sent).
    None,
    /// An uncredentialed read through `Access-Control-Allow-Origin: *` (R32).
    Wildcard,
    /// A read for exactly this origin; `credentialed` with ACAC `true` (R35).
    Read { credentialed: bool, rule: RuleId },
}

impl Grant {
    /// The CORS check's rule that granted a read.
    fn rule(self) -> Option<RuleId> {
        match self {
            Grant::Read { rule, .. } => Some(rule),
            Grant::None | Grant::Wildcard => None,
        }
    }
}

/// One answered probe, judged.
struct Judged<'a> {
    exchange: &'a Exchange,
    seen: &'a SeenResponse,
    response: Response,
    grant: Grant,
}

impl Judged<'_> {
    fn class(&self) -> Class {
        self.exchange.probe.class
    }

    fn origin(&self) -> &str {
        self.exchange.probe.origin.as_deref().unwrap_or("")
    }

    fn credentialed(&self) -> bool {
        matches!(
            self.grant,
            Grant::Read {
                credentialed: true,
                ..
            }
        )
    }

    fn pair(&self) -> (SentRequest, SeenResponse) {
        (self.exchange.sent.clone(), self.seen.clone())
    }

    /// A CORS response header's combined value as text (Latin-1).
    fn header(&self, header: Cors) -> Option<String> {
        self.response
            .get_combined(header)
            .map(|v| isomorphic_decode(&v))
    }
}

/// The grant of `response` to `origin` (`None` for no origin): the oracle's CORS check, with
/// and without credentials; a preflight also needs an ok status (R37).
fn grant(response: &Response, origin: Option<&str>, preflight: bool) -> Grant {
    let Some(origin) = origin else {
        return Grant::None;
    };
    if preflight && !response.is_ok_status() {
        return Grant::None;
    }
    let with = cors_check(response, origin, CredentialsMode::Include);
    if with.error.is_none() {
        return Grant::Read {
            credentialed: true,
            rule: with.rule,
        };
    }
    let without = cors_check(response, origin, CredentialsMode::Omit);
    if without.error.is_some() {
        Grant::None
    } else if response.get_combined(Cors::AllowOrigin).as_deref() == Some(b"*") {
        Grant::Wildcard
    } else {
        Grant::Read {
            credentialed: false,
            rule: without.rule,
        }
    }
}

/// The host of a serialized tuple origin (`""` for anything else).
fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or("", |(_, r)| r);
    if rest.starts_with('[') {
        return rest.split_inclusive(']').next().unwrap_or("");
    }
    rest.split(':').next().unwrap_or("")
}

/// Judges every answered exchange and groups what it finds into findings, most severe first
/// (see the module documentation for the kinds and how grants are grouped). Pure: no I/O.
pub fn analyze(target: &Target, site: &Site, exchanges: &[Exchange]) -> Vec<Finding> {
    let judged: Vec<Judged<'_>> = exchanges
        .iter()
        .filter_map(|exchange| {
            let seen = exchange.response.as_ref().ok()?;
            let response = Response::new(seen.status, seen.headers.iter().map(|(n, v)| (n, v)));
            let grant = grant(
                &response,
                exchange.probe.origin.as_deref(),
                exchange.probe.is_preflight(),
            );
            Some(Judged {
                exchange,
                seen,
                response,
                grant,
            })
        })
        .collect();
    let mut findings = origin_findings(target, site, &judged);
    findings.extend(preflight_findings(target, site, &judged));
    findings.extend(wildcard_finding(target, &judged));
    findings.extend(vary_finding(target, &judged));
    findings.extend(unrelated_finding(target, site, &judged));
    findings.sort_by_key(|f| (f.severity, f.kind));
    findings
}

/// Which fired class explains a grant of a narrower class (see the module documentation).
fn absorber(g: &Judged<'_>, site: &Site, fired: &Fired) -> Option<Class> {
    let class = g.class();
    let host = host_of(g.origin());
    if fired.reflection && class != Class::Reflection {
        return Some(Class::Reflection);
    }
    let contains_domain = host.contains(site.domain.as_str());
    if fired.embedded
        && contains_domain
        && matches!(
            class,
            Class::Prefix
                | Class::Suffix
                | Class::SpecialChar
                | Class::UnescapedDot
                | Class::AnySubdomain
        )
    {
        return Some(Class::Substring);
    }
    if fired.prefix && class == Class::SpecialChar {
        return Some(Class::Prefix);
    }
    // `evilwww.example.com` is itself a subdomain of example.com: when `evil.example.com` is
    // trusted too, subdomain trust explains it, not a suffix check.
    if class == Class::Suffix && !fired.suffix && fired.domain_subdomain && site.owns(host) {
        return Some(Class::AnySubdomain);
    }
    if (fired.suffix || (fired.owned_suffix && !fired.domain_subdomain))
        && host.ends_with(site.domain.as_str())
        && matches!(class, Class::UnescapedDot | Class::AnySubdomain)
    {
        return Some(Class::Suffix);
    }
    None
}

/// The general classes that fired.
struct Fired {
    reflection: bool,
    /// A substring probe that contains the site's domain (not the truncated one).
    embedded: bool,
    prefix: bool,
    /// A suffix probe outside the site's domain (`evilexample.com`).
    suffix: bool,
    /// A suffix probe inside the site's domain (`evilwww.example.com`).
    owned_suffix: bool,
    /// The subdomain probe of the site's registrable domain (`evil.example.com`).
    domain_subdomain: bool,
}

fn origin_findings(target: &Target, site: &Site, judged: &[Judged<'_>]) -> Vec<Finding> {
    let granted: Vec<&Judged<'_>> = judged
        .iter()
        .filter(|j| matches!(j.grant, Grant::Read { .. }))
        .filter(|j| j.class().kind().is_some() && j.class() != Class::Preflight)
        .collect();
    let fired = Fired {
        reflection: granted.iter().any(|g| g.class() == Class::Reflection),
        embedded: granted.iter().any(|g| {
            g.class() == Class::Substring && host_of(g.origin()).contains(site.domain.as_str())
        }),
        prefix: granted.iter().any(|g| g.class() == Class::Prefix),
        suffix: granted
            .iter()
            .any(|g| g.class() == Class::Suffix && !site.owns(host_of(g.origin()))),
        owned_suffix: granted
            .iter()
            .any(|g| g.class() == Class::Suffix && site.owns(host_of(g.origin()))),
        domain_subdomain: granted.iter().any(|g| {
            g.class() == Class::AnySubdomain
                && host_of(g.origin()).strip_prefix("evil.") == Some(site.domain.as_str())
        }),
    };
    let mut own: BTreeMap<Class, Vec<&Judged<'_>>> = BTreeMap::new();
    let mut absorbed: BTreeMap<Class, Vec<&Judged<'_>>> = BTreeMap::new();
    for g in granted {
        match absorber(g, site, &fired) {
            Some(by) => absorbed.entry(by).or_default().push(g),
            None => own.entry(g.class()).or_default().push(g),
        }
    }
    own.into_iter()
        .filter_map(|(class, list)| {
            let also = absorbed.remove(&class).unwrap_or_default();
            origin_finding(target, site, class, &list, &also)
        })
        .collect()
}

/// Why a probe origin of `class` must not be trusted, and the kind's explanation.
fn class_text(class: Class, site: &Site) -> (String, String) {
    let (s, h, d) = (&site.origin, &site.host, &site.domain);
    match class {
        Class::Reflection => (
            format!("it is unrelated to {s}"),
            format!(
                "The server trusts an origin unrelated to the site ({s}): it reflects whatever \
                 Origin it is sent, so any web page can read this response."
            ),
        ),
        Class::Null => (
            "`null` is the origin of sandboxed iframes, data: documents and some redirects".into(),
            "The server trusts the `null` origin, which any page can take on: a sandboxed \
             iframe (`<iframe sandbox=\"allow-scripts\" srcdoc=...>`) sends `Origin: null`."
                .into(),
        ),
        Class::Prefix => (
            format!("its host is a subdomain of the attacker's domain, not of {d}"),
            format!(
                "The origin check accepts origins that merely start with the site's: \
                 `{h}.evil.test` is a subdomain of evil.test, which the attacker controls \
                 (a `startsWith` check, or a regular expression without `$`)."
            ),
        ),
        Class::Suffix => (
            if h == d {
                format!("it merely ends with {h}")
            } else {
                format!("it merely ends with {h} or {d}")
            },
            format!(
                "The origin check accepts origins that merely end with the site's host or \
                 domain (an `endsWith` check without a dot boundary, or a regular expression \
                 without `^`): a name like `evil{d}` is a different domain anyone can register \
                 (a name glued onto a subdomain, like `evil{h}`, takes a subdomain of {d})."
            ),
        ),
        Class::Substring => (
            format!("its host merely contains, or is contained in, {h}"),
            format!(
                "The origin check is a substring test: an origin containing the site's host \
                 (`evil{h}.evil.test`), or contained in it (a truncation such as a different \
                 top-level domain), is trusted."
            ),
        ),
        Class::UnescapedDot => (
            format!("a dot of {h} was replaced by `x`: a different domain"),
            format!(
                "A regular expression matches the site's host with an unescaped `.`, which \
                 matches any character: `{}` is a different domain an attacker can register.",
                h.replacen('.', "x", 1)
            ),
        ),
        Class::AnySubdomain => (
            format!("a new subdomain of {d} is not the site's front end"),
            format!(
                "Every subdomain of {d} is trusted: an XSS or a dangling DNS record (subdomain \
                 takeover) on any of them becomes read access to this response. Trust the \
                 subdomains that need it, by name."
            ),
        ),
        Class::HttpScheme => (
            format!("it is the plain-http twin of {s}"),
            format!(
                "The https site trusts its own plain-http origin: an active network attacker can \
                 inject script into any http://{h} page and read this response, undoing HTTPS."
            ),
        ),
        Class::SpecialChar => (
            "its host is a subdomain of the attacker's domain that begins with the site's host"
                .into(),
            format!(
                "The origin check stops at a character browsers allow in host names: \
                 `{h}_.evil.test` (or with `` ` ``, `}}`, `!`, ...) is a subdomain of evil.test, \
                 yet a naive parser or pattern reads it as {h}."
            ),
        ),
        Class::ThirdParty => (
            "anyone can publish script on that platform".into(),
            "Origins on platforms where anyone can publish script (GitHub Pages, code \
             playgrounds, static and PaaS hosting) are trusted: any of their users can read \
             this response."
                .into(),
        ),
        Class::Baseline | Class::Site | Class::Preflight => (String::new(), String::new()),
    }
}

/// What a browser does with `j`'s answer, for the report.
fn grant_text(j: &Judged<'_>) -> String {
    let acao = j.header(Cors::AllowOrigin).unwrap_or_default();
    let origin = j.origin();
    match j.grant {
        Grant::Read {
            credentialed: true,
            rule,
        } => format!(
            "Access-Control-Allow-Origin: {acao} with Access-Control-Allow-Credentials: true: \
             a page on {origin} reads the response with the user's cookies ({rule})"
        ),
        Grant::Read { rule, .. } => {
            let acac = j
                .header(Cors::AllowCredentials)
                .map(|v| format!(" (Access-Control-Allow-Credentials: {v:?}, not `true`)"))
                .unwrap_or_default();
            format!(
                "Access-Control-Allow-Origin: {acao}{acac}: a page on {origin} reads the \
                 response, without cookies ({rule})"
            )
        }
        Grant::Wildcard => format!("Access-Control-Allow-Origin: {acao}: every origin reads the response, without cookies (R32)"),
        Grant::None => "no read granted".into(),
    }
}

/// The first grant in full, then the other probe origins granted, with or without cookies.
fn observed_text(own: &[&Judged<'_>]) -> String {
    let mut out = own.first().map(|j| grant_text(j)).unwrap_or_default();
    let rest: Vec<String> = own
        .iter()
        .skip(1)
        .map(|j| {
            let how = if j.credentialed() { "with" } else { "without" };
            format!("{} ({how} cookies)", j.origin())
        })
        .collect();
    if !rest.is_empty() {
        out.push_str(&format!("; also readable by {}", rest.join(", ")));
    }
    out
}

fn origin_finding(
    target: &Target,
    site: &Site,
    class: Class,
    own: &[&Judged<'_>],
    also: &[&Judged<'_>],
) -> Option<Finding> {
    let kind = class.kind()?;
    let first = own.first()?;
    let credentialed = own.iter().chain(also).any(|j| j.credentialed());
    // A grant to a same-scheme origin inside the site's own domain needs a subdomain takeover
    // or an XSS first: hygiene. Anything else read with cookies is a violation.
    let same_scheme = format!("{}://", site.scheme);
    let exploitable = own.iter().chain(also).any(|j| {
        let origin = j.origin();
        let insider = site.owns(host_of(origin)) && origin.starts_with(&same_scheme);
        j.credentialed() && !insider
    });
    let severity = if exploitable {
        Severity::Violation
    } else {
        Severity::Hygiene
    };
    let origins: Vec<&str> = own.iter().map(|j| j.origin()).collect();
    let also_origins: Vec<&str> = also.iter().map(|j| j.origin()).collect();
    let (why, mut explanation) = class_text(class, site);
    if !also.is_empty() {
        explanation.push_str(&format!(
            " It also explains {} more granted probe origin{}: {}.",
            also.len(),
            if also.len() == 1 { "" } else { "s" },
            also_origins.join(", ")
        ));
    }
    let shown: Vec<&Judged<'_>> = own.iter().take(MAX_EXCHANGES).copied().collect();
    Some(finding(
        kind,
        severity,
        FindingRequest {
            case: probe_request(target, "GET", Some(first.origin()), credentialed),
            origins: Some(strings(&origins)),
            also_granted: Some(strings(&also_origins)),
        },
        &shown,
        Text {
            expected: format!("no read for {}: {why}", quote_list(&origins, "or")),
            observed: observed_text(own),
            explanation,
        },
        first.grant.rule(),
    ))
}

fn preflight_findings(target: &Target, site: &Site, judged: &[Judged<'_>]) -> Vec<Finding> {
    let preflights: Vec<&Judged<'_>> = judged
        .iter()
        .filter(|j| j.class() == Class::Preflight)
        .collect();
    let mut out: Vec<Finding> = reflected_finding(target, site, &preflights)
        .into_iter()
        .collect();
    out.extend(echo_finding(target, &preflights));
    out
}

/// `preflight-reflected`: the attacker's preflight passes its CORS check.
fn reflected_finding(target: &Target, site: &Site, preflights: &[&Judged<'_>]) -> Option<Finding> {
    let reflected: Vec<&Judged<'_>> = preflights
        .iter()
        .copied()
        .filter(|j| matches!(j.grant, Grant::Read { .. }))
        .collect();
    let first = reflected.first()?;
    let credentialed = reflected.iter().any(|j| j.credentialed());
    let acam = first.header(Cors::AllowMethods);
    let acah = first.header(Cors::AllowHeaders);
    let passes: Vec<&str> = PROFILES
        .iter()
        .copied()
        .filter(|p| full_preflight_passes(first, *p))
        .map(ProfileId::as_str)
        .collect();
    let reach = if passes.is_empty() {
        format!(
            "it may send the methods ({}) and headers ({}) this preflight allows",
            acam.as_deref().unwrap_or("safelisted only"),
            acah.as_deref().unwrap_or("safelisted only"),
        )
    } else {
        format!(
            "even the nonsense method {PROBE_METHOD} with headers {PROBE_REQUEST_HEADERS} \
                 passes the whole preflight ({}): any method and header will",
            passes.join(", ")
        )
    };
    let origin = first.origin();
    Some(finding(
        AuditKind::PreflightReflected,
        if credentialed {
            Severity::Violation
        } else {
            Severity::Hygiene
        },
        preflight_request(target, origin, credentialed),
        &[first],
        Text {
            expected: format!(
                "the preflight from {origin} fails its CORS check (no \
                     Access-Control-Allow-Origin for an origin unrelated to {})",
                site.origin
            ),
            observed: grant_text(first),
            explanation: format!(
                "A preflight from an attacker's page ({origin}) passes its CORS check{}: \
                     {reach}, and read the answers. Neither CORScanner nor Corsy sends \
                     preflights; servers often answer OPTIONS from a different code path than \
                     GET.",
                if credentialed {
                    " with credentials"
                } else {
                    " (without credentials)"
                }
            ),
        },
        first.grant.rule(),
    ))
}

/// `preflight-echo`: the preflight allows whatever it was asked for.
fn echo_finding(target: &Target, preflights: &[&Judged<'_>]) -> Option<Finding> {
    let first = preflights.iter().find(|j| echoes(&j.response))?;
    let acam = first
        .header(Cors::AllowMethods)
        .unwrap_or_else(|| "(none)".into());
    let acah = first
        .header(Cors::AllowHeaders)
        .unwrap_or_else(|| "(none)".into());
    Some(finding(
        AuditKind::PreflightEcho,
        Severity::Hygiene,
        preflight_request(target, first.origin(), false),
        &[first],
        Text {
            expected: format!(
                "Access-Control-Allow-Methods and -Headers from a fixed list, without \
                     {PROBE_METHOD} and {PROBE_HEADER}"
            ),
            observed: format!(
                "Access-Control-Allow-Methods: {acam}; Access-Control-Allow-Headers: {acah}"
            ),
            explanation: format!(
                "The preflight answer echoes what was asked for (the nonsense method \
                     {PROBE_METHOD}, the header {PROBE_HEADER}): every method and header is \
                     allowed to whichever origins the server trusts, so one trusted-origin \
                     mistake becomes arbitrary cross-origin writes. Answer with the methods and \
                     headers the API uses."
            ),
        },
        Some(echo_rule(&first.response)),
    ))
}

/// The script's view of a probe: a CORS-mode `method` request to the target from `origin`,
/// credentialed or not. A probe without `Origin` stands for the target's own page (a
/// same-origin `GET` carries no `Origin`, R26).
fn probe_request(
    target: &Target,
    method: &str,
    origin: Option<&str>,
    credentialed: bool,
) -> RequestJson {
    let own = url::Url::parse(&target.url)
        .map(|u| Origin::of_url(&u).serialization().to_string())
        .unwrap_or_else(|_| "null".to_string());
    RequestJson {
        url: target.url.clone(),
        origin: origin.map_or(own, str::to_string),
        method: method.to_string(),
        headers: Vec::new(),
        credentials: Some(if credentialed {
            CredentialsJson::Include
        } else {
            CredentialsJson::Omit
        }),
        mode: Some(ModeJson::Cors),
        body: None,
        use_cors_preflight: false,
        redirect: None,
        private_network: false,
    }
}

/// The script's view of the preflight probe's actual request.
fn preflight_request(target: &Target, origin: &str, credentialed: bool) -> FindingRequest {
    let mut case = probe_request(target, PROBE_METHOD, Some(origin), credentialed);
    case.headers = vec![
        ("Authorization".to_string(), "Bearer x".to_string()),
        (PROBE_HEADER.to_string(), "1".to_string()),
    ];
    FindingRequest {
        case,
        origins: Some(vec![origin.to_string()]),
        also_granted: None,
    }
}

/// The rule an echoing preflight answer satisfies: the method check (R40) when it lists the
/// probe's method or `*`, else the header check (R42).
fn echo_rule(response: &Response) -> RuleId {
    if listed(response, Cors::AllowMethods, PROBE_METHOD) {
        RuleId::R40
    } else {
        RuleId::R42
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Whether the oracle's whole preflight validation (R37–R42) passes for the probe's nonsense
/// credentialed request under `profile`.
fn full_preflight_passes(j: &Judged<'_>, profile: ProfileId) -> bool {
    let profile = profile.profile();
    let headers = [
        (b"authorization".to_vec(), b"Bearer x".to_vec()),
        (PROBE_HEADER.as_bytes().to_vec(), b"1".to_vec()),
    ];
    let names = UnsafeNames::of(headers.iter(), &profile);
    let request = ActualRequest {
        serialized_origin: j.origin(),
        cors_check: true,
        method: PROBE_METHOD,
        credentials: CredentialsMode::Include,
        unsafe_names: &names,
        has_authorization: true,
        use_cors_preflight: false,
        private_network: false,
        private_network_only: false,
    };
    let passed = validate(&request, &j.response, &profile).is_ok();
    passed
}

/// Whether ACAM lists the probe's method or ACAH the probe's header, or either is `*`, which
/// grants whatever an uncredentialed preflight asks for (R40, R42).
fn echoes(response: &Response) -> bool {
    listed(response, Cors::AllowMethods, PROBE_METHOD)
        || listed(response, Cors::AllowHeaders, PROBE_HEADER)
}

/// Whether `header`'s list names `word` (ASCII case-insensitive) or `*`.
fn listed(response: &Response, header: Cors, word: &str) -> bool {
    response
        .cors_values(header)
        .flat_map(|line| line.split(|&b| b == b','))
        .map(trim)
        .any(|item| item == b"*" || item.eq_ignore_ascii_case(word.as_bytes()))
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t'))
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or(&[])
}

fn wildcard_finding(target: &Target, judged: &[Judged<'_>]) -> Option<Finding> {
    let star: Vec<&Judged<'_>> = judged
        .iter()
        .filter(|j| j.response.get_combined(Cors::AllowOrigin).as_deref() == Some(b"*"))
        .collect();
    let first = *star.first()?;
    let with_credentials: Vec<&Judged<'_>> = star
        .iter()
        .copied()
        .filter(|j| j.response.get_combined(Cors::AllowCredentials).as_deref() == Some(b"true"))
        .collect();
    let origins: Vec<&str> = star
        .iter()
        .map(|j| j.exchange.probe.origin.as_deref().unwrap_or("(no Origin)"))
        .collect();
    let asker = first.exchange.probe.origin.as_deref();
    let request = FindingRequest {
        case: probe_request(target, "GET", asker, !with_credentials.is_empty()),
        origins: Some(strings(&origins)),
        also_granted: None,
    };
    // What the oracle's CORS check says of `*` (R32: every origin reads without credentials;
    // with credentials the byte comparison fails).
    let check = |j: &Judged<'_>, credentials| {
        cors_check(&j.response, asker.unwrap_or("null"), credentials).rule
    };
    if let Some(cred) = with_credentials.first() {
        let refused = check(cred, CredentialsMode::Include);
        return Some(finding(
            AuditKind::WildcardWithCredentials,
            Severity::Hygiene,
            request,
            &[cred],
            Text {
                expected: "either `*` without credentials, or the requesting origin with \
                           Access-Control-Allow-Credentials: true"
                    .into(),
                observed: format!(
                    "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true \
                     on {} answer{}",
                    with_credentials.len(),
                    if with_credentials.len() == 1 { "" } else { "s" }
                ),
                explanation: format!(
                    "`*` with credentials: browsers refuse credentialed reads of such a response \
                     ({refused}: `*` is no origin's serialization), so only uncredentialed reads \
                     go through; but the server means to share credentialed responses with \
                     everyone, one \"fix\" away from reflecting the Origin."
                ),
            },
            Some(refused),
        ));
    }
    let granted = check(first, CredentialsMode::Omit);
    Some(finding(
        AuditKind::WildcardOrigin,
        Severity::Hygiene,
        request,
        &[first],
        Text {
            expected: "Access-Control-Allow-Origin naming the site's origins, unless the \
                       resource is public"
                .into(),
            observed: format!(
                "Access-Control-Allow-Origin: * on {} answer{}: every origin reads them, \
                 without cookies ({granted})",
                star.len(),
                if star.len() == 1 { "" } else { "s" }
            ),
            explanation: "`Access-Control-Allow-Origin: *` lets every web page read the response \
                          without credentials: right for public data, wrong for anything \
                          protected by network position (intranet hosts, IP allowlists, \
                          VPN-only services)."
                .into(),
        },
        Some(granted),
    ))
}

/// Whether a response's `Vary` covers `Origin` (`Origin` listed, or `*`).
fn varies_on_origin(seen: &SeenResponse) -> bool {
    seen.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"vary"))
        .flat_map(|(_, v)| v.split(|&b| b == b','))
        .any(|item| {
            let item = item.trim_ascii();
            item == b"*" || item.eq_ignore_ascii_case(b"origin")
        })
}

/// `ACAO: VALUE for Origin O`, or that there is none.
fn acao_for(j: &Judged<'_>) -> String {
    let asked = match j.exchange.probe.origin.as_deref() {
        Some(origin) => format!("Origin {origin}"),
        None => "a request without Origin".to_string(),
    };
    match j.header(Cors::AllowOrigin) {
        Some(acao) => format!("Access-Control-Allow-Origin: {acao} for {asked}"),
        None => format!("no Access-Control-Allow-Origin for {asked}"),
    }
}

/// The response's `Vary` lines, joined.
fn vary_text(seen: &SeenResponse) -> String {
    seen.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"vary"))
        .map(|(_, v)| isomorphic_decode(v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn vary_finding(target: &Target, judged: &[Judged<'_>]) -> Option<Finding> {
    let gets: Vec<&Judged<'_>> = judged
        .iter()
        .filter(|j| j.class() != Class::Preflight)
        .collect();
    let answer = |j: &Judged<'_>| {
        (
            j.header(Cors::AllowOrigin),
            j.header(Cors::AllowCredentials),
        )
    };
    let first_answer = answer(gets.first()?);
    let different = gets.iter().copied().find(|j| answer(j) != first_answer)?;
    // Only a response a shared cache may store can be replayed to another origin (RFC 9111).
    let lacking: Vec<&Judged<'_>> = gets
        .iter()
        .copied()
        .filter(|j| {
            !varies_on_origin(j.seen)
                && shared_cache_may_store(
                    &j.exchange.sent.method,
                    false,
                    j.seen.status,
                    &j.seen.headers,
                )
        })
        .collect();
    // The response shown: one without Vary that carries ACAO, else any without Vary.
    let shown = lacking
        .iter()
        .copied()
        .find(|j| j.response.has(Cors::AllowOrigin))
        .or_else(|| lacking.first().copied())?;
    let other = if answer(different) != answer(shown) {
        different
    } else {
        gets.first().copied().unwrap_or(different)
    };
    let vary = vary_text(shown.seen);
    let origins: Vec<&str> = lacking
        .iter()
        .map(|j| j.exchange.probe.origin.as_deref().unwrap_or("(no Origin)"))
        .collect();
    Some(finding(
        AuditKind::MissingVaryOrigin,
        Severity::Hygiene,
        FindingRequest {
            case: probe_request(target, "GET", shown.exchange.probe.origin.as_deref(), false),
            origins: Some(strings(&origins)),
            also_granted: None,
        },
        &[other, shown],
        Text {
            expected: "Vary: Origin on every response whose CORS headers depend on the Origin"
                .into(),
            observed: format!(
                "{}, but {}; the latter has {} ({} of {} answers lack Vary: Origin)",
                acao_for(other),
                acao_for(shown),
                if vary.is_empty() {
                    "no Vary".to_string()
                } else {
                    format!("Vary: {vary}")
                },
                lacking.len(),
                gets.len()
            ),
            explanation: "The CORS answer depends on the request's Origin, but the response does \
                          not say so with `Vary: Origin`: a shared cache or the browser's cache \
                          may hand one origin's answer to another, breaking the site's own front \
                          end or serving a permissive answer to others."
                .into(),
        },
        Some(RuleId::H1),
    ))
}

fn unrelated_finding(target: &Target, site: &Site, judged: &[Judged<'_>]) -> Option<Finding> {
    let named: Vec<(&Judged<'_>, String)> = judged
        .iter()
        .filter_map(|j| {
            if j.response.has_several(Cors::AllowOrigin) {
                return None;
            }
            let acao = j.header(Cors::AllowOrigin)?;
            let origin = Origin::parse_serialized(&acao).ok()?;
            let host = origin.host()?;
            (acao != j.origin() && !site.owns(host)).then_some((j, acao))
        })
        .collect();
    let (first, named_origin) = named.first()?;
    let mut names: Vec<&str> = named.iter().map(|(_, n)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    // The rule by which the named origin reads the response: the CORS check's byte match.
    let grants = cors_check(&first.response, named_origin, CredentialsMode::Omit).rule;
    let method = if first.exchange.probe.is_preflight() {
        "OPTIONS"
    } else {
        "GET"
    };
    Some(finding(
        AuditKind::UnrelatedOriginAllowed,
        Severity::Hygiene,
        FindingRequest {
            case: probe_request(
                target,
                method,
                first.exchange.probe.origin.as_deref(),
                false,
            ),
            origins: Some(strings(&names)),
            also_granted: None,
        },
        &[first],
        Text {
            expected: format!(
                "Access-Control-Allow-Origin naming origins of {} only",
                site.domain
            ),
            observed: format!(
                "Access-Control-Allow-Origin names {} (outside {}), asked by {}",
                quote_list(&names, "and"),
                site.domain,
                first
                    .exchange
                    .probe
                    .origin
                    .as_deref()
                    .unwrap_or("a request without Origin")
            ),
            explanation: format!(
                "The server names an origin outside the site's domain ({}) that did not ask: \
                 that origin can read the response. If it is the site's own front end, pass it \
                 with --origin; otherwise it is a third party the API trusts.",
                site.domain
            ),
        },
        Some(grants),
    ))
}

/// `a`, `a or b`, `a, b or c`.
fn quote_list(items: &[&str], conj: &str) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} {conj} {last}", init.join(", ")),
    }
}

/// A finding's words: what a safe server does, what this one did, why it matters.
struct Text {
    expected: String,
    observed: String,
    explanation: String,
}

fn finding(
    kind: AuditKind,
    severity: Severity,
    request: FindingRequest,
    shown: &[&Judged<'_>],
    text: Text,
    rule: Option<RuleId>,
) -> Finding {
    debug_assert!(
        rule.is_none_or(|r| kind.rules().contains(&r)),
        "{kind} cites {rule:?}"
    );
    let exchanges: Vec<(SentRequest, SeenResponse)> = shown.iter().map(|j| j.pair()).collect();
    let reproduce = exchanges
        .iter()
        .map(|(sent, _)| sent.curl())
        .collect::<Vec<_>>()
        .join("\n");
    Finding {
        kind: kind.into(),
        severity,
        route: None,
        profiles: PROFILES.to_vec(),
        request,
        response: exchanges
            .last()
            .map(|(_, seen)| seen.clone())
            .unwrap_or_default(),
        exchanges,
        expected: text.expected,
        observed: text.observed,
        rule,
        decided_by: None,
        reproduce,
        explanation: text.explanation,
        confirmed: Default::default(),
    }
}

/// Failing probe instances behind `findings` (the report's `failing_cases`): every probe
/// origin a finding lists, including the ones it also explains.
pub(crate) fn failing_cases(findings: &[Finding]) -> u64 {
    findings
        .iter()
        .map(|f| {
            let count = |list: &Option<Vec<String>>| list.as_ref().map_or(0, Vec::len);
            (count(&f.request.origins) + count(&f.request.also_granted)).max(1) as u64
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host_of("https://a.test:8443"), "a.test");
        assert_eq!(host_of("http://[::1]:80"), "[::1]");
        assert_eq!(host_of("null"), "");
    }

    #[test]
    fn grants() {
        let r = |h: &[(&str, &str)]| Response::new(200, h.iter().copied());
        let o = Some("https://a.test");
        assert_eq!(grant(&r(&[]), o, false), Grant::None);
        assert_eq!(
            grant(&r(&[("Access-Control-Allow-Origin", "*")]), o, false),
            Grant::Wildcard
        );
        assert!(matches!(
            grant(
                &r(&[("Access-Control-Allow-Origin", "https://a.test")]),
                o,
                false
            ),
            Grant::Read {
                credentialed: false,
                ..
            }
        ));
        assert!(matches!(
            grant(
                &r(&[
                    ("Access-Control-Allow-Origin", "https://a.test"),
                    ("Access-Control-Allow-Credentials", "true")
                ]),
                o,
                false
            ),
            Grant::Read {
                credentialed: true,
                ..
            }
        ));
        // Two ACAO lines: the browser refuses (R33).
        assert_eq!(
            grant(
                &r(&[
                    ("Access-Control-Allow-Origin", "https://a.test"),
                    ("Access-Control-Allow-Origin", "https://a.test")
                ]),
                o,
                false
            ),
            Grant::None
        );
        // A preflight needs an ok status.
        let bad = Response::new(403, [("Access-Control-Allow-Origin", "https://a.test")]);
        assert_eq!(grant(&bad, o, true), Grant::None);
    }

    #[test]
    fn vary_parsing() {
        let seen = |v: &str| SeenResponse {
            status: 200,
            headers: vec![(b"vary".to_vec(), v.as_bytes().to_vec())],
        };
        assert!(varies_on_origin(&seen("Accept-Encoding, origin")));
        assert!(varies_on_origin(&seen("*")));
        assert!(!varies_on_origin(&seen("Origins, Accept")));
    }
}
