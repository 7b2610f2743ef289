//! The `corsproof explain` shapes (`spec/VECTORS.md`): a case in
//! JSON, its evaluation by the oracle, and the output, with a human explanation.

use serde::{Deserialize, Serialize};
use url::Url;

use corsproof_oracle::cache::{Lookup, PreflightCache, Seconds};
use corsproof_oracle::error::{ErrorKind, Reason, RuleId};
use corsproof_oracle::expose::{is_visible, ExposedList, ResponseType};
use corsproof_oracle::fetch::{Fetch, Next, OriginHeader, Outcome, PreflightOutcome};
use corsproof_oracle::grammar::{is_token, isomorphic_encode};
use corsproof_oracle::origin::Origin;
use corsproof_oracle::profile::Profile;
use corsproof_oracle::request::{
    Body, CredentialsMode, RedirectMode, Request, RequestInit, RequestMode,
};
use corsproof_oracle::response::{Cors, Response};

/// Why a case cannot be evaluated: bad input, never a browser outcome.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// Not JSON, or not of the case shape.
    #[error("invalid case: {0}")]
    Json(#[from] serde_json::Error),
    /// `browser` names no profile.
    #[error("unknown browser {0:?}: expected fetch, chromium or firefox")]
    UnknownBrowser(String),
    /// `request.url` does not parse.
    #[error("{where_}request.url {url:?} is not a URL: {reason}")]
    Url {
        /// Where in the input.
        where_: String,
        /// The value.
        url: String,
        /// The parser's reason.
        reason: String,
    },
    /// `request.origin` is not a serialized origin.
    #[error("{where_}request.origin: {0}", where_ = .1)]
    Origin(corsproof_oracle::origin::OriginError, String),
    /// A header name or value is not a byte string, or not valid HTTP.
    #[error("{0}")]
    Header(String),
    /// An unknown `body` kind.
    #[error("{where_}request.body {0:?} is not one of text, urlsearchparams, formdata, blob, blob:TYPE, stream", where_ = .1)]
    Body(String, String),
    /// A status that is not an HTTP status.
    #[error("{0}status {1} is not an HTTP status (100-999)")]
    Status(String, u16),
    /// The browser sends a preflight but the case gives no answer to it.
    #[error("{where_}the browser sends a preflight to {url} but the case has no preflight_response{hop}", hop = hop_suffix(*.hop))]
    MissingPreflightResponse {
        /// Where in the input.
        where_: String,
        /// The URL.
        url: String,
        /// The hop (0: the first URL; i: `redirects[i-1]`).
        hop: usize,
    },
    /// The browser sends the request but the case gives no answer to it.
    #[error("{where_}the browser sends the request to {url} but the case has no response{hop}", hop = hop_suffix(*.hop))]
    MissingResponse {
        /// Where in the input.
        where_: String,
        /// The URL.
        url: String,
        /// The hop.
        hop: usize,
    },
    /// Steps go back in time.
    #[error("steps[{0}].at_seconds goes back in time ({1} < {2})")]
    TimeGoesBack(usize, f64, f64),
    /// `at_seconds` is negative or not finite.
    #[error("steps[{0}].at_seconds must be a finite number >= 0")]
    BadTime(usize),
    /// More of a step's cache lookups are undetermined than the oracle explores.
    #[error("{where_}more than {max} of the step's preflight cache lookups are undetermined (D31): too many outcomes to list")]
    TooUndetermined {
        /// Where in the input.
        where_: String,
        /// The most the oracle explores.
        max: usize,
    },
}

fn hop_suffix(hop: usize) -> String {
    if hop == 0 {
        String::new()
    } else {
        format!(" (redirects[{}])", hop - 1)
    }
}

/// Credentials mode as spelled in JSON.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialsJson {
    /// `omit`
    Omit,
    /// `same-origin`
    SameOrigin,
    /// `include`
    Include,
}

/// Mode as spelled in JSON.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ModeJson {
    /// `cors`
    Cors,
    /// `no-cors`
    NoCors,
    /// `same-origin`
    SameOrigin,
}

/// Redirect mode as spelled in JSON.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectJson {
    /// `follow`
    Follow,
    /// `error`
    Error,
    /// `manual`
    Manual,
}

/// `request` of a case.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RequestJson {
    /// The URL.
    pub url: String,
    /// The requesting document's serialized origin (`null` for an opaque one).
    pub origin: String,
    /// The method as script wrote it (default `GET`).
    #[serde(default = "default_method")]
    pub method: String,
    /// Headers script set, in order.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// `omit|same-origin|include` (default `same-origin`).
    #[serde(default)]
    pub credentials: Option<CredentialsJson>,
    /// `cors|no-cors|same-origin` (default `cors`).
    #[serde(default)]
    pub mode: Option<ModeJson>,
    /// The body kind (R11, R13).
    #[serde(default)]
    pub body: Option<String>,
    /// XHR upload listeners before `send()` (R13).
    #[serde(default)]
    pub use_cors_preflight: bool,
    /// `follow|error|manual` (default `follow`).
    #[serde(default)]
    pub redirect: Option<RedirectJson>,
    /// The target is in a more private address space than the page (R67, Chromium's PNA).
    #[serde(default)]
    pub private_network: bool,
}

fn default_method() -> String {
    "GET".to_string()
}

/// A response in JSON.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResponseJson {
    /// Status code.
    pub status: u16,
    /// Header fields in order, duplicates kept.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// One redirect hop's answers.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HopJson {
    /// The answer to a preflight at this hop.
    #[serde(default)]
    pub preflight_response: Option<ResponseJson>,
    /// The answer to the request at this hop.
    #[serde(default)]
    pub response: Option<ResponseJson>,
}

/// One case.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaseJson {
    /// The request.
    pub request: RequestJson,
    /// The answer to the first preflight.
    #[serde(default)]
    pub preflight_response: Option<ResponseJson>,
    /// The answer to the request.
    #[serde(default)]
    pub response: Option<ResponseJson>,
    /// The answers at each following hop.
    #[serde(default)]
    pub redirects: Vec<HopJson>,
    /// The profile (default `fetch`).
    #[serde(default)]
    pub browser: Option<String>,
    /// In the steps form: seconds since the first step.
    #[serde(default)]
    pub at_seconds: Option<f64>,
}

/// The steps form: one browser state across several cases.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StepsJson {
    /// The profile (default `fetch`).
    #[serde(default)]
    pub browser: Option<String>,
    /// The cases, in time order.
    pub steps: Vec<CaseJson>,
}

/// An `explain` input: one case, or the steps form.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Input {
    /// One case.
    Case(Box<CaseJson>),
    /// The steps form.
    Steps(StepsJson),
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Input, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let steps = v.get("steps").is_some();
        if steps {
            serde_json::from_value(v).map(Input::Steps)
        } else {
            serde_json::from_value(v).map(|c| Input::Case(Box::new(c)))
        }
        .map_err(serde::de::Error::custom)
    }
}

impl Input {
    /// Parses an input from JSON text, with line and column in errors.
    ///
    /// ```
    /// let err = corsproof_case::Input::parse("{\"request\": {}}").unwrap_err();
    /// assert!(err.to_string().contains("missing field `url`"));
    /// ```
    pub fn parse(text: &str) -> Result<Input, CaseError> {
        let v: serde_json::Value = serde_json::from_str(text)?;
        if v.get("steps").is_some() {
            Ok(Input::Steps(serde_json::from_str(text)?))
        } else {
            Ok(Input::Case(Box::new(serde_json::from_str(text)?)))
        }
    }

    /// The browser the input names, if any.
    pub fn browser(&self) -> Option<&str> {
        match self {
            Input::Case(c) => c.browser.as_deref(),
            Input::Steps(s) => s.browser.as_deref(),
        }
    }
}

/// The preflight in the output.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PreflightJson {
    /// Always true (a preflight was sent).
    pub required: bool,
    /// The `Access-Control-Request-*` headers it carries.
    pub request_headers: Vec<(String, String)>,
    /// Whether it passed.
    pub ok: bool,
    /// The error kind, if it failed.
    pub error: Option<&'static str>,
    /// The deciding rule.
    pub rule: RuleId,
    /// Seconds its entries live in the cache.
    pub cache_seconds: u64,
}

/// One hop in the output.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HopOutput {
    /// The URL.
    pub url: String,
    /// The `Origin` header sent there.
    pub origin_header: Option<String>,
    /// The preflight sent there.
    pub preflight: Option<PreflightJson>,
    /// A preflight was needed there but the preflight cache answered for it.
    pub preflight_cached: bool,
    /// What the preflight cache said there, when a CORS preflight was needed (R28): `hit`,
    /// `miss`, or `undetermined` when the browser may have evicted the entry (D31); `null`
    /// when no CORS preflight was needed.
    pub cache_lookup: Option<&'static str>,
    /// Whether the actual request went out there.
    pub sent: bool,
}

/// Why a step's outcome is not determined, and every outcome it may have.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Undetermined {
    /// The deviation that makes it so (D31: a random eviction).
    pub rule: RuleId,
    /// How many of the step's cache lookups the oracle cannot decide.
    pub lookups: usize,
    /// Every outcome the browser may show, each an output of this shape (with `undetermined`
    /// null); the first is the one the step's own fields give: every entry the browser may
    /// have evicted still there.
    pub outcomes: Vec<Output>,
}

/// The `explain` output for one case.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Output {
    /// The first hop's preflight, `null` if none was sent.
    pub preflight: Option<PreflightJson>,
    /// The first hop needed a preflight but the preflight cache answered for it.
    pub preflight_cached: bool,
    /// Whether the actual request went out (at the last hop reached).
    pub sent: bool,
    /// Whether script can read the response.
    pub readable: bool,
    /// The error kind.
    pub error: Option<&'static str>,
    /// The deciding rule.
    pub rule: RuleId,
    /// Header names script can see, lowercase, sorted.
    pub exposed_headers: Vec<String>,
    /// `basic|cors|opaque|opaqueredirect|error`.
    pub response_type: &'static str,
    /// The `Origin` header of the last actual request sent.
    pub origin_header: Option<String>,
    /// Whether the last actual request carried credentials.
    pub credentials_sent: bool,
    /// One entry per URL requested.
    pub hops: Vec<HopOutput>,
    /// Browser deviations that changed the outcome.
    pub deviations: Vec<RuleId>,
    /// One or two sentences for people: what decided, and why.
    pub explanation: String,
    /// `null` when the outcome is determined; otherwise the browser may have evicted a
    /// preflight cache entry the step depends on (D31), and this lists every outcome it may
    /// show. The other fields then describe the first of them.
    pub undetermined: Option<Box<Undetermined>>,
}

/// The output for an input: one case, or `{"steps": [...]}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Explained {
    /// One case.
    Case(Box<Output>),
    /// The steps form.
    Steps {
        /// One output per step.
        steps: Vec<Output>,
    },
}

fn bytes(s: &str, what: impl Fn() -> String) -> Result<Vec<u8>, CaseError> {
    isomorphic_encode(s).ok_or_else(|| {
        CaseError::Header(format!(
            "{} contains a character above U+00FF; header names and values are byte strings",
            what()
        ))
    })
}

fn to_response(r: &ResponseJson, where_: &str) -> Result<Response, CaseError> {
    if !(100..=999).contains(&r.status) {
        return Err(CaseError::Status(where_.to_string(), r.status));
    }
    let mut pairs = Vec::with_capacity(r.headers.len());
    for (i, (n, v)) in r.headers.iter().enumerate() {
        let name = bytes(n, || format!("{where_}headers[{i}] name {n:?}"))?;
        let value = bytes(v, || format!("{where_}headers[{i}] value {v:?}"))?;
        if !is_token(&name) {
            return Err(CaseError::Header(format!(
                "{where_}headers[{i}] name {n:?} is not an HTTP field name (a token)"
            )));
        }
        if value.iter().any(|&b| matches!(b, b'\r' | b'\n')) {
            return Err(CaseError::Header(format!(
                "{where_}headers[{i}] value of {n:?} contains CR or LF, which one HTTP field line cannot carry"
            )));
        }
        pairs.push((name, value));
    }
    Ok(Response::new(r.status, pairs))
}

impl RequestJson {
    /// The oracle's request of this JSON request (the explain input's `request`); `where_`
    /// prefixes error locations.
    ///
    /// ```
    /// use corsproof_case::RequestJson;
    /// let r: RequestJson = serde_json::from_str(
    ///     r#"{"url": "https://api.test/x", "origin": "https://app.test", "method": "PUT"}"#,
    /// ).unwrap();
    /// let init = r.to_init("").unwrap();
    /// assert_eq!(init.method, "PUT");
    /// assert!(serde_json::from_str::<RequestJson>(r#"{"url": "x", "origin": "o"}"#)
    ///     .unwrap().to_init("").is_err());
    /// ```
    pub fn to_init(&self, where_: &str) -> Result<RequestInit, CaseError> {
        to_init(self, where_)
    }

    /// The JSON request of the oracle's request: the inverse of [`RequestJson::to_init`], so
    /// that a case a program built can be saved, explained and replayed. Every option is
    /// spelled out, defaults included.
    ///
    /// ```
    /// use corsproof_case::RequestJson;
    /// use corsproof_oracle::{Origin, RequestInit};
    /// let mut init = RequestInit::new(
    ///     url::Url::parse("https://api.test/x?q=1").unwrap(),
    ///     Origin::parse_serialized("https://app.test").unwrap(),
    /// );
    /// init.headers.push((b"X-A".to_vec(), b"caf\xe9".to_vec()));
    /// let json = RequestJson::from_init(&init);
    /// assert_eq!(json.headers, [("X-A".to_string(), "café".to_string())]);
    /// assert_eq!(json.to_init("").unwrap(), init);
    /// ```
    pub fn from_init(init: &RequestInit) -> RequestJson {
        let text = |b: &[u8]| corsproof_oracle::grammar::isomorphic_decode(b);
        RequestJson {
            url: init.url.to_string(),
            origin: init.origin.serialization().to_string(),
            method: init.method.clone(),
            headers: init
                .headers
                .iter()
                .map(|(n, v)| (text(n), text(v)))
                .collect(),
            credentials: Some(match init.credentials {
                CredentialsMode::Omit => CredentialsJson::Omit,
                CredentialsMode::SameOrigin => CredentialsJson::SameOrigin,
                CredentialsMode::Include => CredentialsJson::Include,
            }),
            mode: Some(match init.mode {
                RequestMode::Cors => ModeJson::Cors,
                RequestMode::NoCors => ModeJson::NoCors,
                RequestMode::SameOrigin => ModeJson::SameOrigin,
            }),
            body: init.body.as_ref().map(|b| match b {
                Body::Text => "text".to_string(),
                Body::UrlSearchParams => "urlsearchparams".to_string(),
                Body::FormData => "formdata".to_string(),
                Body::Blob(t) if t.is_empty() => "blob".to_string(),
                Body::Blob(t) => format!("blob:{t}"),
                Body::Stream => "stream".to_string(),
            }),
            use_cors_preflight: init.use_cors_preflight,
            redirect: Some(match init.redirect {
                RedirectMode::Follow => RedirectJson::Follow,
                RedirectMode::Error => RedirectJson::Error,
                RedirectMode::Manual => RedirectJson::Manual,
            }),
            private_network: init.target_more_private,
        }
    }
}

fn to_init(r: &RequestJson, where_: &str) -> Result<RequestInit, CaseError> {
    let url = Url::parse(&r.url).map_err(|e| CaseError::Url {
        where_: where_.to_string(),
        url: r.url.clone(),
        reason: e.to_string(),
    })?;
    let origin = Origin::parse_serialized(&r.origin)
        .map_err(|e| CaseError::Origin(e, where_.to_string()))?;
    let mut headers = Vec::with_capacity(r.headers.len());
    for (i, (n, v)) in r.headers.iter().enumerate() {
        headers.push((
            bytes(n, || format!("{where_}request.headers[{i}] name {n:?}"))?,
            bytes(v, || format!("{where_}request.headers[{i}] value {v:?}"))?,
        ));
    }
    let body = match r.body.as_deref() {
        None => None,
        Some("text") => Some(Body::Text),
        Some("urlsearchparams") => Some(Body::UrlSearchParams),
        Some("formdata") => Some(Body::FormData),
        Some("blob") => Some(Body::Blob(String::new())),
        Some("stream") => Some(Body::Stream),
        Some(b) => match b.strip_prefix("blob:") {
            Some(t) => Some(Body::Blob(t.to_string())),
            None => return Err(CaseError::Body(b.to_string(), where_.to_string())),
        },
    };
    Ok(RequestInit {
        url,
        origin,
        method: r.method.clone(),
        headers,
        credentials: match r.credentials {
            None | Some(CredentialsJson::SameOrigin) => CredentialsMode::SameOrigin,
            Some(CredentialsJson::Omit) => CredentialsMode::Omit,
            Some(CredentialsJson::Include) => CredentialsMode::Include,
        },
        mode: match r.mode {
            None | Some(ModeJson::Cors) => RequestMode::Cors,
            Some(ModeJson::NoCors) => RequestMode::NoCors,
            Some(ModeJson::SameOrigin) => RequestMode::SameOrigin,
        },
        redirect: match r.redirect {
            None | Some(RedirectJson::Follow) => RedirectMode::Follow,
            Some(RedirectJson::Error) => RedirectMode::Error,
            Some(RedirectJson::Manual) => RedirectMode::Manual,
        },
        body,
        use_cors_preflight: r.use_cors_preflight,
        target_more_private: r.private_network,
    })
}

fn resolve_profile(name: Option<&str>) -> Result<Profile, CaseError> {
    let name = name.unwrap_or("fetch");
    Profile::by_name(name).ok_or_else(|| CaseError::UnknownBrowser(name.to_string()))
}

/// Evaluates an input. `browser` overrides the input's own `browser` field.
///
/// ```
/// use corsproof_case::{explain, Explained, Input};
/// let input = Input::parse(r#"{"request": {"url": "https://a.test/", "origin": "https://b.test",
///   "method": "DELETE"}, "preflight_response": {"status": 204, "headers": []}}"#).unwrap();
/// let Explained::Case(out) = explain(&input, None).unwrap() else { unreachable!() };
/// assert_eq!(out.error, Some("missing-allow-origin"));
/// assert!(!out.sent);
/// ```
pub fn explain(input: &Input, browser: Option<&str>) -> Result<Explained, CaseError> {
    let profile = resolve_profile(browser.or(input.browser()))?;
    let mut cache = PreflightCache::default();
    match input {
        Input::Case(case) => Ok(Explained::Case(Box::new(run_case(
            case, &profile, &mut cache, 0.0, "",
        )?))),
        Input::Steps(s) => {
            let mut steps = Vec::with_capacity(s.steps.len());
            let mut last = 0.0;
            for (i, case) in s.steps.iter().enumerate() {
                let at = case.at_seconds.unwrap_or(last);
                if !at.is_finite() || at < 0.0 {
                    return Err(CaseError::BadTime(i));
                }
                if at < last {
                    return Err(CaseError::TimeGoesBack(i, at, last));
                }
                last = at;
                steps.push(run_case(
                    case,
                    &profile,
                    &mut cache,
                    at,
                    &format!("steps[{i}]."),
                )?);
            }
            Ok(Explained::Steps { steps })
        }
    }
}

/// [`explain`] as a JSON value.
pub fn explain_json(input: &Input, browser: Option<&str>) -> Result<serde_json::Value, CaseError> {
    Ok(serde_json::to_value(explain(input, browser)?)?)
}

/// The most undetermined cache lookups (D31) of one step whose outcomes are explored: each
/// doubles them.
pub const MAX_UNDETERMINED_LOOKUPS: usize = 6;

/// Runs one case against a browser state (a cache) at time `now`.
///
/// When the outcome depends on preflight cache entries the browser may have evicted at random
/// (D31), every way they may have gone is run, the output lists every outcome
/// ([`Output::undetermined`]), and the cache afterwards describes every state the browser may
/// be in.
pub fn run_case(
    case: &CaseJson,
    profile: &Profile,
    cache: &mut PreflightCache,
    now: Seconds,
    where_: &str,
) -> Result<Output, CaseError> {
    run_case_with(case, profile, cache, now, where_, |_| {})
}

/// [`run_case`], calling `on_send` with the fetch each time it says what to send (a
/// preflight or a request, [`Fetch::awaiting`]), before the answer is given to it.
///
/// ```
/// use corsproof_case::{run_case_with, CaseJson};
/// use corsproof_oracle::{PreflightCache, Profile};
/// let case: CaseJson = serde_json::from_str(r#"{"request": {"url": "https://a.test/",
///   "origin": "https://b.test", "method": "PUT"}, "preflight_response": {"status": 500}}"#).unwrap();
/// let mut sent = Vec::new();
/// let out = run_case_with(&case, &Profile::fetch(), &mut PreflightCache::default(), 0.0, "",
///     |f| sent.push(f.awaiting())).unwrap();
/// assert_eq!(sent, [corsproof_oracle::Next::Preflight]);
/// assert!(!out.sent);
/// ```
pub fn run_case_with(
    case: &CaseJson,
    profile: &Profile,
    cache: &mut PreflightCache,
    now: Seconds,
    where_: &str,
    mut on_send: impl FnMut(&Fetch<'_>),
) -> Result<Output, CaseError> {
    let init = to_init(&case.request, where_)?;
    let mut answers: Vec<(Option<Response>, Option<Response>)> =
        Vec::with_capacity(1 + case.redirects.len());
    let convert =
        |r: &Option<ResponseJson>, w: String| r.as_ref().map(|r| to_response(r, &w)).transpose();
    answers.push((
        convert(
            &case.preflight_response,
            format!("{where_}preflight_response."),
        )?,
        convert(&case.response, format!("{where_}response."))?,
    ));
    for (i, hop) in case.redirects.iter().enumerate() {
        answers.push((
            convert(
                &hop.preflight_response,
                format!("{where_}redirects[{i}].preflight_response."),
            )?,
            convert(&hop.response, format!("{where_}redirects[{i}].response."))?,
        ));
    }
    let request = match Request::construct(init, profile) {
        Ok(r) => r,
        Err(reason) => return Ok(construction_error(reason)),
    };
    // A step meets an undetermined lookup only where the cache may answer one: keep the state
    // before it to run the other ways from.
    let before = cache
        .may_answer_unknown(profile, answers.len())
        .then(|| cache.clone());
    let scene = Scene {
        request: &request,
        answers: &answers,
        profile,
        where_,
    };
    let (mut output, mut unknown) = scene.run(cache, now, 0, &mut on_send)?;
    let Some(before) = before.filter(|_| unknown > 0) else {
        return Ok(output);
    };
    let too_many = || CaseError::TooUndetermined {
        where_: where_.to_string(),
        max: MAX_UNDETERMINED_LOOKUPS,
    };
    if unknown > MAX_UNDETERMINED_LOOKUPS {
        return Err(too_many());
    }
    let mut outcomes = vec![output.clone()];
    let mut mask: u32 = 1;
    while (mask as usize) < (1usize << unknown) {
        let mut state = before.clone();
        let (other, n) = scene.run(&mut state, now, mask, &mut |_| {})?;
        unknown = unknown.max(n);
        if unknown > MAX_UNDETERMINED_LOOKUPS {
            return Err(too_many());
        }
        cache.join(&state, now, profile);
        if !outcomes.contains(&other) {
            outcomes.push(other);
        }
        mask += 1;
    }
    output.explanation = format!(
        "undetermined (D31): the browser may have evicted a preflight cache entry this step depends on; {} outcomes are possible, this one if every such entry is still there. {}",
        outcomes.len(),
        output.explanation
    );
    output.undetermined = Some(Box::new(Undetermined {
        rule: RuleId::D31,
        lookups: unknown,
        outcomes,
    }));
    Ok(output)
}

/// What one step plays: the request, the answers of each hop, the profile, where in the input
/// it is.
struct Scene<'a> {
    request: &'a Request,
    answers: &'a [(Option<Response>, Option<Response>)],
    profile: &'a Profile,
    where_: &'a str,
}

impl Scene<'_> {
    /// One fetch of the request against the cache, the undetermined lookups settled by
    /// `assume_evicted` ([`Fetch::assume_evicted`]), `on_send` called whenever the fetch says
    /// what to send; the output and how many lookups were undetermined.
    fn run(
        &self,
        cache: &mut PreflightCache,
        now: Seconds,
        assume_evicted: u32,
        on_send: &mut dyn FnMut(&Fetch<'_>),
    ) -> Result<(Output, usize), CaseError> {
        let (request, answers, profile, where_) =
            (self.request, self.answers, self.profile, self.where_);
        let mut fetch = Fetch::new(request, profile);
        fetch.assume_evicted(assume_evicted);
        let mut next = fetch.start(cache, now);
        loop {
            let hop = fetch.outcome().hops.len().saturating_sub(1);
            let answer = answers.get(hop);
            if next != Next::Done {
                on_send(&fetch);
            }
            next = match next {
                Next::Done => break,
                Next::Preflight => match answer.and_then(|a| a.0.as_ref()) {
                    Some(r) => fetch.on_preflight_response(r, cache, now),
                    None => {
                        return Err(CaseError::MissingPreflightResponse {
                            where_: where_.to_string(),
                            url: fetch.current_url().to_string(),
                            hop,
                        })
                    }
                },
                Next::Request => match answer.and_then(|a| a.1.as_ref()) {
                    Some(r) => fetch.on_response(r, cache, now),
                    None => {
                        return Err(CaseError::MissingResponse {
                            where_: where_.to_string(),
                            url: fetch.current_url().to_string(),
                            hop,
                        })
                    }
                },
            };
        }
        let outcome = fetch.outcome();
        let last = outcome.hops.len().saturating_sub(1);
        let final_response = answers.get(last).and_then(|a| a.1.as_ref());
        let mut urls: Vec<String> = vec![request.url.to_string()];
        urls.extend(redirect_urls(&fetch));
        let output = to_output(
            request,
            &fetch,
            outcome,
            final_response,
            &urls,
            answers.get(last),
        );
        Ok((output, outcome.unknown_lookups()))
    }
}

fn redirect_urls(fetch: &Fetch<'_>) -> Vec<String> {
    fetch
        .redirect_urls()
        .iter()
        .map(|u| u.to_string())
        .collect()
}

fn construction_error(reason: Reason) -> Output {
    Output {
        preflight: None,
        preflight_cached: false,
        sent: false,
        readable: false,
        error: reason.error.map(ErrorKind::as_str),
        rule: reason.rule,
        exposed_headers: Vec::new(),
        response_type: ResponseType::Error.as_str(),
        origin_header: None,
        credentials_sent: false,
        hops: Vec::new(),
        deviations: Vec::new(),
        explanation: explain_reason(reason, None, None),
        undetermined: None,
    }
}

fn origin_header_value(h: OriginHeader, request: &Request) -> Option<String> {
    match h {
        OriginHeader::Absent => None,
        OriginHeader::Null => Some("null".to_string()),
        OriginHeader::RequestOrigin => Some(request.origin.serialization().to_string()),
    }
}

fn preflight_json(p: &PreflightOutcome<'_>) -> PreflightJson {
    let mut request_headers = vec![(
        "Access-Control-Request-Method".to_string(),
        p.method.to_string(),
    )];
    if !p.headers.is_empty() {
        request_headers.push((
            "Access-Control-Request-Headers".to_string(),
            p.headers.joined(),
        ));
    }
    if p.private_network {
        request_headers.push((
            "Access-Control-Request-Private-Network".to_string(),
            "true".to_string(),
        ));
    }
    PreflightJson {
        required: true,
        request_headers,
        ok: p.ok,
        error: p.reason.error.map(ErrorKind::as_str),
        rule: p.reason.rule,
        cache_seconds: p.cache_seconds,
    }
}

/// The header names script can see of `response` after the fetch (R51–R54): lowercase,
/// sorted, deduplicated.
pub fn exposed_header_names(
    outcome: &Outcome<'_>,
    response: &Response,
    credentials: CredentialsMode,
) -> Vec<String> {
    if !outcome.readable {
        return Vec::new();
    }
    let exposed = ExposedList::of(response, credentials);
    let mut names: Vec<String> = response
        .headers()
        .iter()
        .filter(|(n, _)| is_visible(n, outcome.response_type, &exposed))
        .map(|(n, _)| {
            n.iter()
                .map(|&b| char::from(b.to_ascii_lowercase()))
                .collect()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn to_output(
    request: &Request,
    fetch: &Fetch<'_>,
    outcome: &Outcome<'_>,
    final_response: Option<&Response>,
    urls: &[String],
    last_answers: Option<&(Option<Response>, Option<Response>)>,
) -> Output {
    let hops: Vec<HopOutput> = outcome
        .hops
        .iter()
        .enumerate()
        .map(|(i, h)| HopOutput {
            url: urls.get(i).cloned().unwrap_or_default(),
            origin_header: origin_header_value(h.origin_header, request),
            preflight: h.preflight.as_ref().map(preflight_json),
            preflight_cached: h.preflight_cached,
            cache_lookup: h.cache_lookup.map(Lookup::as_str),
            sent: h.sent,
        })
        .collect();
    let exposed_headers = final_response
        .map(|r| exposed_header_names(outcome, r, request.credentials))
        .unwrap_or_default();
    let failed_preflight = outcome
        .hops
        .last()
        .and_then(|h| h.preflight.as_ref())
        .is_some_and(|p| !p.ok);
    let culprit = last_answers.and_then(|(p, r)| {
        if failed_preflight {
            p.as_ref()
        } else {
            r.as_ref()
        }
    });
    Output {
        preflight: outcome.first_preflight().map(preflight_json),
        preflight_cached: outcome.hops.first().is_some_and(|h| h.preflight_cached),
        sent: outcome.sent(),
        readable: outcome.readable,
        error: outcome.reason.error.map(ErrorKind::as_str),
        rule: outcome.reason.rule,
        exposed_headers,
        response_type: outcome.response_type.as_str(),
        origin_header: origin_header_value(outcome.origin_header(), request),
        credentials_sent: outcome.sent() && outcome.credentials_sent,
        hops,
        deviations: outcome.deviations.to_vec(),
        explanation: explain_reason(outcome.reason, culprit, Some(fetch.serialized_origin())),
        undetermined: None,
    }
}

fn header_text(r: Option<&Response>, header: Cors) -> String {
    match r.and_then(|r| r.get_combined(header)) {
        Some(v) => format!("{:?}", corsproof_oracle::grammar::isomorphic_decode(&v)),
        None => "absent".to_string(),
    }
}

/// A human explanation of a reason, quoting the deciding response's headers.
pub fn explain_reason(reason: Reason, response: Option<&Response>, origin: Option<&str>) -> String {
    let origin = origin.unwrap_or("?");
    let acao = || header_text(response, Cors::AllowOrigin);
    let rule = reason.rule;
    let Some(kind) = reason.error else {
        return match rule {
            RuleId::R32 => "Access-Control-Allow-Origin is `*` and the request is not credentialed (R32).".into(),
            RuleId::R33 => format!("Access-Control-Allow-Origin matches the request's origin {origin:?} byte for byte (R33)."),
            RuleId::R35 => format!("Access-Control-Allow-Origin is {origin:?} and Access-Control-Allow-Credentials is `true` (R35)."),
            RuleId::R62 => "redirect mode `manual`: script gets an opaque-redirect response (R62).".into(),
            RuleId::R63 => "a data: URL is always a basic response (R63).".into(),
            _ => format!("not a CORS decision: decided by {rule} (same-origin requests are basic, no-cors responses opaque)."),
        };
    };
    let text = match kind {
        ErrorKind::MissingAllowOrigin => "the response has no Access-Control-Allow-Origin".to_string(),
        ErrorKind::AllowOriginMismatch => format!(
            "Access-Control-Allow-Origin is {} but the request's origin serializes as {origin:?}; the CORS check compares bytes exactly, so a trailing slash, a path, other case, an explicit default port or another origin fails",
            acao()
        ),
        ErrorKind::MultipleAllowOrigin => format!(
            "Access-Control-Allow-Origin holds more than one value ({}); browsers accept exactly one origin, `*` or `null`",
            acao()
        ),
        ErrorKind::WildcardWithCredentials => "Access-Control-Allow-Origin is `*` but the request is credentialed; `*` never grants a credentialed read, the origin must be echoed".to_string(),
        ErrorKind::AllowCredentialsNotTrue => format!(
            "the request is credentialed and Access-Control-Allow-Credentials is {} where exactly `true` is required",
            header_text(response, Cors::AllowCredentials)
        ),
        ErrorKind::PreflightRedirect => "the preflight was answered with a redirect; preflights are never followed".to_string(),
        ErrorKind::PreflightStatus => format!(
            "the preflight's status is {}, not 200-299",
            response.map_or(0, |r| r.status)
        ),
        ErrorKind::InvalidAllowMethods => format!(
            "Access-Control-Allow-Methods {} has an element that is not a token",
            header_text(response, Cors::AllowMethods)
        ),
        ErrorKind::InvalidAllowHeaders => format!(
            "Access-Control-Allow-Headers {} has an element that is not a token",
            header_text(response, Cors::AllowHeaders)
        ),
        ErrorKind::MethodNotAllowed => format!(
            "the method is not in Access-Control-Allow-Methods ({}); methods match case-sensitively and `*` counts only without credentials",
            header_text(response, Cors::AllowMethods)
        ),
        ErrorKind::AuthorizationNotAllowed => format!(
            "the request has Authorization, which Access-Control-Allow-Headers ({}) must name explicitly: `*` never covers it in the standard",
            header_text(response, Cors::AllowHeaders)
        ),
        ErrorKind::HeaderNotAllowed => format!(
            "a CORS-unsafe request header is not in Access-Control-Allow-Headers ({}); `*` counts only without credentials",
            header_text(response, Cors::AllowHeaders)
        ),
        ErrorKind::PrivateNetworkNotAllowed => "the Private Network Access preflight lacks Access-Control-Allow-Private-Network: true".to_string(),
        other => format!("{other}"),
    };
    format!("{text} ({rule}: {kind}).")
}
