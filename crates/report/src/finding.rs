//! The report model shared by `check` and `audit`: findings, their kinds and severities, the
//! exchanges they were seen on, and the run's statistics. Renderers (text, JSON, JUnit XML,
//! SARIF) live in [`crate::report`]; the JSON shape is the contract of shared/design/cli.md.

use serde::{Deserialize, Serialize};

/// How bad a finding is (shared/design/cli.md).
///
/// ```
/// use corsproof_report::finding::Severity;
/// assert_eq!(serde_json::to_string(&Severity::Violation).unwrap(), "\"violation\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The browser grants what the policy forbids (or, for `audit`, what no sane policy allows).
    Violation,
    /// The browser denies what the policy grants.
    Breakage,
    /// Malformed, duplicated or needlessly disclosed CORS headers.
    Hygiene,
}

impl Severity {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Violation => "violation",
            Severity::Breakage => "breakage",
            Severity::Hygiene => "hygiene",
        }
    }
}

/// One HTTP request as sent to the target, header lines in order.
///
/// ```
/// use corsproof_report::finding::SentRequest;
/// let r = SentRequest {
///     method: "OPTIONS".into(),
///     url: "http://127.0.0.1:8080/api/items".into(),
///     headers: vec![("Origin".into(), "https://app.example.com".into())],
/// };
/// assert!(r.curl().starts_with("curl -si -X OPTIONS"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SentRequest {
    /// The method.
    pub method: String,
    /// The absolute URL (the target's base URL joined with the path).
    pub url: String,
    /// The header lines sent, in order.
    pub headers: Vec<(String, String)>,
}

impl SentRequest {
    /// A curl command line sending exactly this request (POSIX shell quoting).
    pub fn curl(&self) -> String {
        let mut out = String::from("curl -si");
        if self.method != "GET" {
            out.push_str(" -X ");
            out.push_str(&shell_quote(&self.method));
        }
        for (name, value) in &self.headers {
            out.push_str(" -H ");
            out.push_str(&shell_quote(&format!("{name}: {value}")));
        }
        out.push(' ');
        out.push_str(&shell_quote(&self.url));
        out
    }
}

/// Quotes `s` for a POSIX shell: bare when it is only safe characters, else single-quoted.
fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// A response as the target sent it: status and header lines in order, duplicates kept.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeenResponse {
    /// The status code.
    pub status: u16,
    /// The header lines, in order, as sent (values decoded as Latin-1).
    pub headers: Vec<(String, String)>,
}

/// One finding: what was expected, what was observed, and how to reproduce it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// A stable word naming the defect (`check`: see [`kinds`]; `audit`: see
    /// [`crate::audit`]).
    pub kind: String,
    /// How bad it is.
    pub severity: Severity,
    /// The policy route's name or path (`None` for `audit`, or a path no route covers).
    pub route: Option<String>,
    /// The browser profiles (`fetch`, `chromium`, `firefox`) under which it shows.
    pub profiles: Vec<String>,
    /// The browser request (the script's view: URL, origin, method, headers, credentials).
    pub request: serde_json::Value,
    /// The exchanges with the target: each request sent and the response it got.
    pub exchanges: Vec<(SentRequest, SeenResponse)>,
    /// The response the finding is about (the last exchange's).
    pub response: SeenResponse,
    /// What the policy (or, for `audit`, a safe server) implies.
    pub expected: String,
    /// What the browser does with the target's answer.
    pub observed: String,
    /// The oracle's decisive rule id (R…, P…, or a hygiene rule), when there is one.
    pub rule: Option<String>,
    /// curl command lines reproducing the exchanges, one per line.
    pub reproduce: String,
    /// A sentence for people: why this matters and what decided it.
    pub explanation: String,
}

/// Statistics of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Browser requests generated and judged.
    pub cases: u64,
    /// HTTP requests sent to the target.
    pub requests: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Requests per second.
    pub requests_per_second: f64,
    /// Exchanges that failed (timeouts, resets, malformed responses).
    pub errors: u64,
    /// Findings before grouping (all cases that showed a defect).
    pub failing_cases: u64,
}

/// A whole run's report (the `check` JSON report of shared/design/cli.md; `audit` uses the
/// same shape with `policy: null`).
///
/// ```
/// use corsproof_report::finding::{Report, Stats};
/// let r = Report { target: "http://127.0.0.1:8080".into(), policy: None, seed: 7, cases: 0,
///     findings: vec![], stats: Stats::default() };
/// let json = serde_json::to_value(&r).unwrap();
/// assert_eq!(json["seed"], 7);
/// assert!(json["findings"].as_array().unwrap().is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The target's base URL.
    pub target: String,
    /// The policy file (`None` for `audit`).
    pub policy: Option<String>,
    /// The seed that replays the run (`--seed`).
    pub seed: u64,
    /// Browser requests generated.
    pub cases: u64,
    /// The findings, most severe first, one per (kind, route) with its smallest case.
    pub findings: Vec<Finding>,
    /// Statistics.
    pub stats: Stats,
}

/// The stable finding kinds of `check`, with their severity and a one-line meaning.
pub mod kinds {
    use super::Severity;

    /// Every `check` kind: (kind, severity, meaning).
    pub const ALL: &[(&str, Severity, &str)] = &[
        (
            READ_GRANTED,
            Severity::Violation,
            "script can read a response the policy does not grant",
        ),
        (
            SENT_FORBIDDEN,
            Severity::Violation,
            "a non-simple request the policy refuses passes its preflight and is sent",
        ),
        (
            HEADER_EXPOSED,
            Severity::Violation,
            "script can see a response header the policy does not expose",
        ),
        (
            CACHE_TOO_LONG,
            Severity::Violation,
            "the browser caches a preflight longer than the policy's max_age",
        ),
        (
            MISSING_VARY,
            Severity::Violation,
            "the CORS answer depends on a request header the response does not Vary on",
        ),
        (
            READ_DENIED,
            Severity::Breakage,
            "script cannot read a response the policy grants",
        ),
        (
            SENT_BLOCKED,
            Severity::Breakage,
            "a request the policy allows is blocked (its preflight fails)",
        ),
        (
            HEADER_HIDDEN,
            Severity::Breakage,
            "a header the policy exposes is hidden from script",
        ),
        (
            MALFORMED_HEADER,
            Severity::Hygiene,
            "a CORS response header with an invalid value",
        ),
        (
            DUPLICATE_HEADER,
            Severity::Hygiene,
            "a CORS response header sent more than once",
        ),
        (
            DISCLOSED_TO_REFUSED,
            Severity::Hygiene,
            "CORS headers sent to an origin the policy refuses",
        ),
        (
            MAX_AGE_MISMATCH,
            Severity::Hygiene,
            "Access-Control-Max-Age differs from the policy's max_age",
        ),
        (
            DIFFERENTIAL,
            Severity::Violation,
            "two targets of one policy give different browser outcomes",
        ),
    ];

    /// Readable though the intent says must not.
    pub const READ_GRANTED: &str = "read-granted";
    /// Sent though the intent says must not.
    pub const SENT_FORBIDDEN: &str = "sent-forbidden";
    /// A header visible that must not be.
    pub const HEADER_EXPOSED: &str = "header-exposed";
    /// Preflight cached beyond max_age.
    pub const CACHE_TOO_LONG: &str = "cache-too-long";
    /// The answer changes with a request header not named in `Vary`.
    pub const MISSING_VARY: &str = "missing-vary";
    /// Not readable though the intent says must.
    pub const READ_DENIED: &str = "read-denied";
    /// Not sent though the intent says must.
    pub const SENT_BLOCKED: &str = "sent-blocked";
    /// A header hidden that must be visible.
    pub const HEADER_HIDDEN: &str = "header-hidden";
    /// An ill-formed CORS header value.
    pub const MALFORMED_HEADER: &str = "malformed-header";
    /// A CORS header repeated.
    pub const DUPLICATE_HEADER: &str = "duplicate-header";
    /// CORS details sent to a refused origin.
    pub const DISCLOSED_TO_REFUSED: &str = "disclosed-to-refused";
    /// Max-Age other than the policy's.
    pub const MAX_AGE_MISMATCH: &str = "max-age-mismatch";
    /// Two targets disagree.
    pub const DIFFERENTIAL: &str = "differential";

    /// The severity of a `check` kind.
    ///
    /// ```
    /// use corsproof_report::finding::{kinds, Severity};
    /// assert_eq!(kinds::severity(kinds::READ_DENIED), Some(Severity::Breakage));
    /// ```
    pub fn severity(kind: &str) -> Option<Severity> {
        ALL.iter().find(|(k, _, _)| *k == kind).map(|(_, s, _)| *s)
    }
}

/// The stable finding kinds of `audit` (the table of the engine's `audit` module).
pub mod audit_kinds {
    /// Every `audit` kind: (kind, severity word, meaning). The severity is `violation` for a
    /// kind that is one when a credentialed read is granted (`hygiene` otherwise).
    ///
    /// ```
    /// use corsproof_report::finding::audit_kinds as kinds;
    /// assert!(kinds::ALL.iter().any(|(k, _, _)| *k == kinds::NULL_ORIGIN));
    /// assert!(kinds::is_kind("prefix-match"));
    /// assert!(!kinds::is_kind("read-granted")); // a `check` kind
    /// ```
    pub const ALL: &[(&str, &str, &str)] = &[
        (
            ORIGIN_REFLECTED,
            "violation",
            "any origin is trusted (the Origin is reflected)",
        ),
        (
            NULL_ORIGIN,
            "violation",
            "the `null` origin (sandboxed iframes, data: documents) is trusted",
        ),
        (
            PREFIX_MATCH,
            "violation",
            "origins that only start with the site's origin are trusted",
        ),
        (
            SUFFIX_MATCH,
            "violation",
            "origins that only end with the site's domain are trusted",
        ),
        (
            SUBSTRING_MATCH,
            "violation",
            "origins that only contain (or are contained in) the site's host are trusted",
        ),
        (
            UNESCAPED_DOT,
            "violation",
            "a dot of the site's host matches any character (unescaped regex dot)",
        ),
        (
            HTTP_ORIGIN_TRUSTED,
            "violation",
            "the https site's plain-http origin is trusted",
        ),
        (
            SPECIAL_CHAR_BYPASS,
            "violation",
            "the site's host followed by a special character and another domain is trusted",
        ),
        (
            THIRD_PARTY_ORIGIN,
            "violation",
            "an origin on a platform where anyone can publish script is trusted",
        ),
        (
            PREFLIGHT_REFLECTED,
            "violation",
            "a preflight from an attacker's origin passes its CORS check",
        ),
        (
            ANY_SUBDOMAIN,
            "hygiene",
            "any subdomain of the site is trusted",
        ),
        (
            WILDCARD_ORIGIN,
            "hygiene",
            "Access-Control-Allow-Origin: * (every origin reads without credentials)",
        ),
        (
            WILDCARD_WITH_CREDENTIALS,
            "hygiene",
            "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true",
        ),
        (
            MISSING_VARY_ORIGIN,
            "hygiene",
            "the CORS answer depends on Origin but the response lacks Vary: Origin",
        ),
        (
            UNRELATED_ORIGIN_ALLOWED,
            "hygiene",
            "an origin outside the site's domain is named in Access-Control-Allow-Origin",
        ),
        (
            PREFLIGHT_ECHO,
            "hygiene",
            "the preflight allows whatever method or header was asked for",
        ),
    ];

    /// An unrelated origin is granted.
    pub const ORIGIN_REFLECTED: &str = "origin-reflected";
    /// `null` is granted.
    pub const NULL_ORIGIN: &str = "null-origin";
    /// `https://SITE.evil.test` is granted.
    pub const PREFIX_MATCH: &str = "prefix-match";
    /// `https://evilDOMAIN` is granted.
    pub const SUFFIX_MATCH: &str = "suffix-match";
    /// `https://evilHOST.evil.test` or a truncated host is granted.
    pub const SUBSTRING_MATCH: &str = "substring-match";
    /// A dot of the host replaced by `x` is granted.
    pub const UNESCAPED_DOT: &str = "unescaped-dot";
    /// `https://evil.HOST` is granted.
    pub const ANY_SUBDOMAIN: &str = "any-subdomain";
    /// `http://HOST` is granted to an https site.
    pub const HTTP_ORIGIN_TRUSTED: &str = "http-origin-trusted";
    /// `https://HOST_.evil.test` (or another special character) is granted.
    pub const SPECIAL_CHAR_BYPASS: &str = "special-char-bypass";
    /// A publish-anything platform origin is granted.
    pub const THIRD_PARTY_ORIGIN: &str = "third-party-origin";
    /// `Access-Control-Allow-Origin: *`.
    pub const WILDCARD_ORIGIN: &str = "wildcard-origin";
    /// `*` with `Access-Control-Allow-Credentials: true`.
    pub const WILDCARD_WITH_CREDENTIALS: &str = "wildcard-with-credentials";
    /// The answer varies with `Origin` without `Vary: Origin`.
    pub const MISSING_VARY_ORIGIN: &str = "missing-vary-origin";
    /// An origin outside the site's domain is named.
    pub const UNRELATED_ORIGIN_ALLOWED: &str = "unrelated-origin-allowed";
    /// The attacker's preflight passes the CORS check.
    pub const PREFLIGHT_REFLECTED: &str = "preflight-reflected";
    /// The preflight echoes the requested method or headers.
    pub const PREFLIGHT_ECHO: &str = "preflight-echo";

    /// Whether `word` is an `audit` kind (for `--allow`).
    pub fn is_kind(word: &str) -> bool {
        ALL.iter().any(|(k, _, _)| *k == word)
    }

    /// The position of `kind` in [`ALL`] (report order after severity).
    pub fn rank(kind: &str) -> usize {
        ALL.iter()
            .position(|(k, _, _)| *k == kind)
            .unwrap_or(ALL.len())
    }
}
