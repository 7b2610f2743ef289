//! The report model shared by `check` and `audit`: findings, the exchanges they were seen on,
//! and the run's statistics. Kinds and severities are in [`crate::kind`]; renderers (text,
//! JSON, JUnit XML, SARIF) in the crate root. The JSON shape is the report contract of the
//! command line (`docs/cli.md`): header lines are bytes, spelled as Latin-1 text
//! ([`crate::latin1`]).

use corsproof_case::RequestJson;
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::RuleId;
use serde::{Deserialize, Serialize};

use crate::confirm::{ConfirmRun, Confirmations};
pub use crate::kind::{AuditKind, CheckKind, Kind, Severity};
use crate::latin1;
use crate::target_error::TargetErrors;

/// One HTTP request as sent to the target: method, URL, header lines and body as bytes.
///
/// ```
/// use corsproof_report::SentRequest;
/// let r = SentRequest::new("OPTIONS", "http://127.0.0.1:8080/api/items")
///     .header("Origin", "https://app.example.com");
/// assert_eq!(r.curl(), "curl -si -X OPTIONS -H 'Origin: https://app.example.com' http://127.0.0.1:8080/api/items");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SentRequest {
    /// The method.
    pub method: String,
    /// The absolute URL (the target's base URL joined with the path).
    pub url: String,
    /// The header lines sent, in order.
    #[serde(with = "latin1::lines")]
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The body sent (empty for none).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "latin1::bytes")]
    pub body: Vec<u8>,
}

impl SentRequest {
    /// A request with no header lines and no body.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> SentRequest {
        SentRequest {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The request with one more header line.
    pub fn header(mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> SentRequest {
        self.headers
            .push((name.as_ref().to_vec(), value.as_ref().to_vec()));
        self
    }

    /// The value of the first header line named `name` (ASCII case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// A curl command line sending exactly this request (POSIX shell quoting; bytes outside
    /// printable ASCII as `$'\xNN'`).
    pub fn curl(&self) -> String {
        let mut out = String::from("curl -si");
        if self.method != "GET" {
            out.push_str(" -X ");
            out.push_str(&shell_quote(self.method.as_bytes()));
        }
        for (name, value) in &self.headers {
            let mut line = name.clone();
            line.extend_from_slice(b": ");
            line.extend_from_slice(value);
            out.push_str(" -H ");
            out.push_str(&shell_quote(&line));
        }
        if !self.body.is_empty() {
            out.push_str(" --data-binary ");
            out.push_str(&shell_quote(&self.body));
        }
        out.push(' ');
        out.push_str(&shell_quote(self.url.as_bytes()));
        out
    }
}

/// Quotes `s` for a POSIX shell: bare when it is only safe characters, single-quoted when it
/// is printable ASCII, else ANSI-C quoted with `\xNN` escapes.
fn shell_quote(s: &[u8]) -> String {
    let safe = !s.is_empty()
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(b));
    if safe {
        return latin1::decode(s);
    }
    if s.iter().all(|b| (0x20..0x7f).contains(b)) {
        return format!("'{}'", latin1::decode(s).replace('\'', "'\\''"));
    }
    let mut out = String::from("$'");
    for &b in s {
        match b {
            b'\'' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('\'');
    out
}

/// A response as the target sent it: status and header lines in order, duplicates kept.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeenResponse {
    /// The status code.
    pub status: u16,
    /// The header lines, in order, as sent.
    #[serde(with = "latin1::lines")]
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The browser request a finding is about, as the script made it: the `request` of an
/// `explain` case, and for `audit` the probe origins it stands for.
///
/// ```
/// use corsproof_report::FindingRequest;
/// let r: FindingRequest = serde_json::from_str(
///     r#"{"url": "http://127.0.0.1:1/", "origin": "null", "origins": ["null"]}"#)?;
/// assert_eq!(r.case.origin, "null");
/// assert_eq!(r.origins.as_deref(), Some(&["null".to_string()][..]));
/// let back = serde_json::to_value(&r)?;
/// assert_eq!(back["origins"][0], "null");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRequest {
    /// The request, replayable with `explain` or `check --replay`.
    pub case: RequestJson,
    /// `audit`: every probe origin the finding stands for.
    pub origins: Option<Vec<String>>,
    /// `audit`: probe origins granted too, explained by this finding's kind.
    pub also_granted: Option<Vec<String>>,
}

impl From<RequestJson> for FindingRequest {
    fn from(case: RequestJson) -> FindingRequest {
        FindingRequest {
            case,
            origins: None,
            also_granted: None,
        }
    }
}

impl Serialize for FindingRequest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut value = serde_json::to_value(&self.case).map_err(S::Error::custom)?;
        if let Some(map) = value.as_object_mut() {
            if let Some(origins) = &self.origins {
                map.insert("origins".into(), origins.clone().into());
            }
            if let Some(also) = &self.also_granted {
                map.insert("also_granted".into(), also.clone().into());
            }
        }
        value.serialize(s)
    }
}

impl<'de> Deserialize<'de> for FindingRequest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut map = serde_json::Map::deserialize(d)?;
        let mut list = |key: &str| -> Result<Option<Vec<String>>, D::Error> {
            map.remove(key)
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| D::Error::custom(format!("request.{key}: {e}")))
        };
        let origins = list("origins")?;
        let also_granted = list("also_granted")?;
        let case = serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| D::Error::custom(format!("request: {e}")))?;
        Ok(FindingRequest {
            case,
            origins,
            also_granted,
        })
    }
}

/// One finding: what was expected, what was observed, and how to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What the finding is about.
    pub kind: Kind,
    /// How bad it is.
    pub severity: Severity,
    /// The policy route's name or path (`None` for `audit`, or a path no route covers).
    pub route: Option<String>,
    /// The browser profiles under which its example shows it.
    pub profiles: Vec<ProfileId>,
    /// The browser request (the script's view: URL, origin, method, headers, credentials).
    pub request: FindingRequest,
    /// The exchanges with the target: each request sent and the response it got.
    pub exchanges: Vec<(SentRequest, SeenResponse)>,
    /// The response the finding is about (the last exchange's).
    pub response: SeenResponse,
    /// What the policy (or, for `audit`, a safe server) implies.
    pub expected: String,
    /// What the browser does with the target's answer.
    pub observed: String,
    /// The rule departed from (spec/SPEC.md): a policy rule (P…), a deployment property (H…)
    /// or a header's grammar (R…); for `audit`, the browser rule that grants.
    pub rule: Option<RuleId>,
    /// The browser rule that decided the outcome under the finding's first profile, when it
    /// is not [`Finding::rule`] itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<RuleId>,
    /// curl command lines reproducing the exchanges, one per line.
    pub reproduce: String,
    /// A sentence for people: why this matters and what decided it.
    pub explanation: String,
    /// What real browsers did with the example (`--confirm`), per browser; empty without it.
    #[serde(default, skip_serializing_if = "Confirmations::is_empty")]
    pub confirmed: Confirmations,
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
    /// Requests that got no usable answer (timeouts, resets, malformed responses, overload
    /// answers that persisted): the report's [`Report::target_errors`].
    pub errors: u64,
    /// Findings before grouping (all cases that showed a defect).
    pub failing_cases: u64,
    /// Requests sent again after an overload answer (429, 503), counted in `requests` too.
    #[serde(default)]
    pub retries: u64,
    /// Cases not started: the run's deadline or its request budget (`--max-requests`) came
    /// first. Absent when none was.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A whole run's report (the `check` JSON report of `docs/cli.md`; `audit` uses the
/// same shape with `policy: null`).
///
/// ```
/// use corsproof_report::finding::{Report, Stats};
/// let r = Report { target: "http://127.0.0.1:8080".into(), policy: None, seed: 7, cases: 0,
///     findings: vec![], target_errors: Default::default(), coverage: Default::default(), stats: Stats::default(), confirm: None };
/// let json = serde_json::to_value(&r).unwrap();
/// assert_eq!(json["seed"], 7);
/// assert!(json["findings"].as_array().unwrap().is_empty());
/// assert!(json["target_errors"]["listed"].as_array().unwrap().is_empty());
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
    /// The requests that got no usable answer: not findings, and not judged.
    #[serde(default)]
    pub target_errors: TargetErrors,
    /// What was checked: the profiles and, per route, the cases judged (empty for `audit`).
    #[serde(default, skip_serializing_if = "Coverage::is_empty")]
    pub coverage: Coverage,
    /// Statistics.
    pub stats: Stats,
    /// The confirm step (`--confirm`): the browsers, their cookie settings, the time taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<ConfirmRun>,
}

/// What a `check` run covered: the browser profiles it judged under and, per route, how many
/// cases, from how many origins, with which methods and request headers.
///
/// ```
/// use corsproof_oracle::profile::ProfileId;
/// use corsproof_report::{Coverage, RouteCoverage};
/// let c = Coverage {
///     profiles: vec![ProfileId::Fetch],
///     routes: vec![RouteCoverage { route: Some("api".into()), cases: 3, origins: 2,
///         methods: vec!["GET".into()], request_headers: vec!["x-a".into()], credentialed: 1 }],
/// };
/// assert!(!c.is_empty());
/// assert_eq!(serde_json::to_value(&c).unwrap()["routes"][0]["cases"], 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Coverage {
    /// The browser profiles every case was judged under.
    pub profiles: Vec<ProfileId>,
    /// Per route, in the policy's order, then the paths no route covers.
    pub routes: Vec<RouteCoverage>,
}

impl Coverage {
    /// Whether nothing was recorded (an `audit`, or a report from before coverage existed).
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty() && self.routes.is_empty()
    }
}

/// The cases a run judged on one route.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RouteCoverage {
    /// The route's name or path; `None` for paths no route covers.
    pub route: Option<String>,
    /// Cases judged.
    pub cases: u64,
    /// Distinct origins they came from.
    pub origins: u64,
    /// Distinct methods, as script wrote them.
    pub methods: Vec<String>,
    /// Distinct request header names script set, lowercase.
    pub request_headers: Vec<String>,
    /// Cases with credentials included.
    pub credentialed: u64,
}
