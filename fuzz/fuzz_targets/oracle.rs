//! The oracle on arbitrary requests and server answers: it never panics, every fetch ends,
//! and its invariants hold: not sent ⇒ not readable (http(s) URLs), a failed preflight ⇒ not
//! sent, `Set-Cookie` is never visible, nothing is visible of an unreadable response, and
//! `Access-Control-Allow-Origin: *` never grants a credentialed CORS read.
//!
//! Two input forms:
//! - bytes that parse as an `explain` input (`corsproof explain`'s JSON: one case or the
//!   steps form, `spec/VECTORS.md`): every case is fetched with its own answers per hop (the
//!   steps against one preflight cache over time) and checked as above; `case::explain` of the
//!   same input must not panic and, where both evaluate it, must agree with this driver
//!   (sent, readable, response type, error and rule). The spec vectors are seeds of this form.
//! - any other bytes, read with `arbitrary`: a request (origin pool incl. `null`, URL pool incl.
//!   non-HTTP, methods, headers, modes, body, PNA), one preflight answer for every hop, up to
//!   four responses then a fallback, and a profile.
#![no_main]

use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use corsproof_fuzz::{credentials, mode, HEADER_NAMES, METHODS, ORIGINS};
use corsproof_spec::case::{self, CaseJson, Explained, Output, ResponseJson};
use corsproof_spec::expose::{is_visible, ExposedList, ResponseType};
use corsproof_spec::grammar::{is_token, isomorphic_encode};
use corsproof_spec::response::Cors;
use corsproof_spec::{
    Body, CredentialsMode, Fetch, Next, Origin, PreflightCache, Profile, Reason, RedirectMode,
    Request, RequestInit, RequestMode, Response,
};
use libfuzzer_sys::fuzz_target;
use url::Url;

const URLS: [&str; 7] = [
    "https://api.test/items",
    "http://api.test/items?q=1",
    "https://app.test/same",
    "http://127.0.0.1:8080/x",
    "https://api.test:8443/",
    "data:text/plain,hi",
    "ftp://api.test/file",
];

/// Response header names: the CORS set and a few others.
const RESPONSE_NAMES: [&str; 14] = [
    "Access-Control-Allow-Origin",
    "access-control-allow-origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
    "Set-Cookie",
    "Set-Cookie2",
    "X-Request-Id",
    "Content-Type",
    "Location",
    "Vary",
];

/// Response values: interesting ones, or arbitrary Latin-1 bytes.
const RESPONSE_VALUES: [&str; 16] = [
    "*",
    "null",
    "true",
    "TRUE",
    "https://app.test",
    "https://app.test/",
    "http://app.test",
    "PUT, DELETE",
    "put",
    "*, authorization",
    "x-request-id, set-cookie",
    "600",
    "-1",
    "https://api.test/next",
    "/elsewhere",
    "",
];

const REQUEST_VALUES: [&str; 8] = [
    "application/json",
    "text/plain",
    "bytes=0-",
    "en",
    "Bearer x",
    "\"",
    "a=b",
    "1",
];

/// The constant pools, parsed once: URL parsing is a large share of an execution otherwise.
struct Pools {
    /// Each URL of `URLS`, and whether it is http(s).
    urls: Vec<(Url, bool)>,
    origins: Vec<Origin>,
    profiles: [Profile; 3],
    /// The answer to requests past the input's responses.
    fallback: Response,
}

static POOLS: LazyLock<Pools> = LazyLock::new(|| Pools {
    urls: URLS
        .iter()
        .map(|u| {
            let url = Url::parse(u).expect("pool URL");
            let http = matches!(url.scheme(), "http" | "https");
            (url, http)
        })
        .collect(),
    origins: ORIGINS
        .iter()
        .map(|o| Origin::parse_serialized(o).expect("pool origin"))
        .collect(),
    profiles: [Profile::fetch(), Profile::chromium(), Profile::firefox()],
    fallback: Response::new(200, [("Access-Control-Allow-Origin", "*")]),
});

/// An element of a pool by index.
fn pick<T>(pool: &[T], i: u8) -> &T {
    &pool[usize::from(i) % pool.len()]
}

#[derive(Arbitrary, Debug)]
enum Value {
    Known(u8),
    Bytes(Vec<u8>),
}

impl Value {
    fn bytes<'a>(&'a self, pool: &[&'static str]) -> &'a [u8] {
        match self {
            Value::Known(i) => pick(pool, *i).as_bytes(),
            Value::Bytes(b) => b,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Token(String),
}

#[derive(Arbitrary, Debug)]
struct FuzzResponse {
    status: u16,
    headers: Vec<(u8, Value)>,
}

impl FuzzResponse {
    fn to_response(&self) -> Response {
        Response::new(
            100 + self.status % 900,
            self.headers.iter().take(16).map(|(n, v)| {
                (
                    pick(&RESPONSE_NAMES, *n).as_bytes(),
                    v.bytes(&RESPONSE_VALUES),
                )
            }),
        )
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    origin: u8,
    url: u8,
    method: Name,
    headers: Vec<(Name, Value)>,
    credentials: u8,
    mode: u8,
    manual_redirect: u8,
    body: u8,
    use_cors_preflight: bool,
    target_more_private: bool,
    profile: u8,
    preflight: FuzzResponse,
    responses: Vec<FuzzResponse>,
}

/// What a server answers at each hop (the first URL is hop 0): a preflight answer and a
/// response, `None` when the input gives none.
struct Answers<'a> {
    hops: Vec<(Option<&'a Response>, Option<&'a Response>)>,
    /// The answers past `hops`.
    rest: (Option<&'a Response>, Option<&'a Response>),
}

impl<'a> Answers<'a> {
    fn at(&self, hop: usize) -> (Option<&'a Response>, Option<&'a Response>) {
        self.hops.get(hop).copied().unwrap_or(self.rest)
    }
}

/// Fetches `request` against `answers`, with `cache` at time `now`: the ended fetch and the
/// last response the browser received, `None` when the browser needs an answer `answers`
/// lacks. At most 20 redirects (R56), each with a preflight: the fetch must end well within
/// 48 steps.
fn fetch<'r, 'a>(
    request: &'r Request,
    profile: &'r Profile,
    answers: &Answers<'a>,
    cache: &mut PreflightCache,
    now: f64,
) -> Option<(Fetch<'r>, Option<&'a Response>)> {
    let mut fetch = Fetch::new(request, profile);
    let mut next = fetch.start(cache, now);
    let mut last = None;
    for _ in 0..48 {
        let hop = fetch.outcome().hops.len().saturating_sub(1);
        let (preflight, response) = answers.at(hop);
        next = match next {
            Next::Done => break,
            Next::Preflight => match preflight {
                Some(p) => fetch.on_preflight_response(p, cache, now),
                None => return None,
            },
            Next::Request => match response {
                Some(r) => {
                    last = Some(r);
                    fetch.on_response(r, cache, now)
                }
                None => return None,
            },
        };
    }
    assert_eq!(next, Next::Done, "the fetch did not end");
    Some((fetch, last))
}

/// The invariants of one ended fetch whose last response was `last`.
fn check(request: &Request, http_url: bool, fetch: &Fetch<'_>, last: Option<&Response>) {
    let outcome = fetch.outcome();
    if http_url && !outcome.sent() {
        assert!(!outcome.readable, "readable but never sent: {outcome:?}");
    }
    for hop in &outcome.hops {
        if hop.preflight.as_ref().is_some_and(|p| !p.ok) {
            assert!(!hop.sent, "sent after a failed preflight: {outcome:?}");
        }
    }
    let Some(response) = last else {
        return;
    };
    let exposed = ExposedList::of(response, request.credentials);
    for name in [&b"set-cookie"[..], b"Set-Cookie", b"SET-COOKIE2"] {
        assert!(
            !is_visible(name, outcome.response_type, &exposed),
            "{name:?} visible: {outcome:?}"
        );
    }
    if !outcome.readable {
        for (name, _) in response.headers() {
            assert!(
                !is_visible(name, outcome.response_type, &exposed),
                "visible on an unreadable response: {outcome:?}"
            );
        }
    }
    if outcome.readable
        && outcome.response_type == ResponseType::Cors
        && request.credentials == CredentialsMode::Include
    {
        let acao = response.get_combined(Cors::AllowOrigin);
        assert!(
            acao.as_deref() != Some(&b"*"[..]),
            "`*` granted a credentialed read: {outcome:?}"
        );
    }
}

/// The arbitrary form.
fn arbitrary_input(input: &Input) {
    let pools = &*POOLS;
    let profile = pick(&pools.profiles, input.profile);
    let (url, http_url) = pick(&pools.urls, input.url);
    let mut init = RequestInit::new(url.clone(), pick(&pools.origins, input.origin).clone());
    init.method = match &input.method {
        Name::Known(i) => pick(&METHODS, *i).to_string(),
        Name::Token(s) => s.clone(),
    };
    init.headers = input
        .headers
        .iter()
        .take(12)
        .map(|(n, v)| {
            let name = match n {
                Name::Known(i) => pick(&HEADER_NAMES, *i).as_bytes(),
                Name::Token(s) => s.as_bytes(),
            };
            (name.to_vec(), v.bytes(&REQUEST_VALUES).to_vec())
        })
        .collect();
    init.credentials = credentials(input.credentials);
    init.mode = mode(input.mode);
    init.redirect = match input.manual_redirect % 4 {
        0 => RedirectMode::Manual,
        1 => RedirectMode::Error,
        _ => RedirectMode::Follow,
    };
    init.body = match input.body % 7 {
        0 => Some(Body::Text),
        1 => Some(Body::UrlSearchParams),
        2 => Some(Body::FormData),
        3 => Some(Body::Blob("application/json".into())),
        4 => Some(Body::Stream),
        _ => None,
    };
    init.use_cors_preflight = input.use_cors_preflight;
    init.target_more_private = input.target_more_private;
    let Ok(request) = Request::construct(init, profile) else {
        return;
    };

    let preflight = input.preflight.to_response();
    let responses: Vec<Response> = input
        .responses
        .iter()
        .take(4)
        .map(FuzzResponse::to_response)
        .collect();
    let answers = Answers {
        hops: responses
            .iter()
            .map(|r| (Some(&preflight), Some(r)))
            .collect(),
        rest: (Some(&preflight), Some(&pools.fallback)),
    };
    let mut cache = PreflightCache::default();
    let ran = fetch(&request, profile, &answers, &mut cache, 0.0);
    let (fetch, last) = ran.expect("every hop is answered");
    check(&request, *http_url, &fetch, last);
}

/// Header pairs of JSON strings as bytes, `None` unless every character is at most U+00FF.
fn header_bytes(headers: &[(String, String)]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    headers
        .iter()
        .map(|(n, v)| Some((isomorphic_encode(n)?, isomorphic_encode(v)?)))
        .collect()
}

/// A JSON response as the oracle's, `None` where `explain` refuses it (status outside
/// 100–999, a name that is not a token, a value with CR or LF, a character above U+00FF).
fn json_response(r: &ResponseJson) -> Option<Response> {
    let headers = header_bytes(&r.headers)?;
    let valid = (100..=999).contains(&r.status)
        && headers
            .iter()
            .all(|(n, v)| is_token(n) && !v.iter().any(|&b| matches!(b, b'\r' | b'\n')));
    valid.then(|| Response::new(r.status, headers))
}

/// A JSON request as the oracle's init, `None` where `explain` refuses it.
fn json_init(case: &CaseJson) -> Option<RequestInit> {
    let r = &case.request;
    let mut init = RequestInit::new(
        Url::parse(&r.url).ok()?,
        Origin::parse_serialized(&r.origin).ok()?,
    );
    init.method = r.method.clone();
    init.headers = header_bytes(&r.headers)?;
    init.credentials = match r.credentials {
        None | Some(case::CredentialsJson::SameOrigin) => CredentialsMode::SameOrigin,
        Some(case::CredentialsJson::Omit) => CredentialsMode::Omit,
        Some(case::CredentialsJson::Include) => CredentialsMode::Include,
    };
    init.mode = match r.mode {
        None | Some(case::ModeJson::Cors) => RequestMode::Cors,
        Some(case::ModeJson::NoCors) => RequestMode::NoCors,
        Some(case::ModeJson::SameOrigin) => RequestMode::SameOrigin,
    };
    init.redirect = match r.redirect {
        None | Some(case::RedirectJson::Follow) => RedirectMode::Follow,
        Some(case::RedirectJson::Error) => RedirectMode::Error,
        Some(case::RedirectJson::Manual) => RedirectMode::Manual,
    };
    init.body = match r.body.as_deref() {
        None => None,
        Some("text") => Some(Body::Text),
        Some("urlsearchparams") => Some(Body::UrlSearchParams),
        Some("formdata") => Some(Body::FormData),
        Some("blob") => Some(Body::Blob(String::new())),
        Some("stream") => Some(Body::Stream),
        Some(b) => Some(Body::Blob(b.strip_prefix("blob:")?.to_string())),
    };
    init.use_cors_preflight = r.use_cors_preflight;
    init.target_more_private = r.private_network;
    Some(init)
}

/// What this driver concluded of one case, to compare with `explain`'s output.
enum Verdict {
    Refused(Reason),
    Done {
        sent: bool,
        readable: bool,
        reason: Reason,
        response_type: ResponseType,
    },
}

/// Fetches and checks one case; `None` when `explain` would refuse the case (bad input, a
/// missing answer).
fn json_case(
    case: &CaseJson,
    profile: &Profile,
    cache: &mut PreflightCache,
    now: f64,
) -> Option<Verdict> {
    let init = json_init(case)?;
    let convert = |r: &Option<ResponseJson>| match r {
        None => Some(None),
        Some(r) => json_response(r).map(Some),
    };
    let mut owned = vec![(convert(&case.preflight_response)?, convert(&case.response)?)];
    for hop in &case.redirects {
        owned.push((convert(&hop.preflight_response)?, convert(&hop.response)?));
    }
    let answers = Answers {
        hops: owned
            .iter()
            .map(|(p, r)| (p.as_ref(), r.as_ref()))
            .collect(),
        rest: (None, None),
    };
    let http_url = matches!(init.url.scheme(), "http" | "https");
    let request = match Request::construct(init, profile) {
        Ok(request) => request,
        Err(reason) => return Some(Verdict::Refused(reason)),
    };
    let ran = fetch(&request, profile, &answers, cache, now);
    let (fetch, last) = ran?;
    check(&request, http_url, &fetch, last);
    let outcome = fetch.outcome();
    Some(Verdict::Done {
        sent: outcome.sent(),
        readable: outcome.readable,
        reason: outcome.reason,
        response_type: outcome.response_type,
    })
}

/// `explain`'s output agrees with this driver's verdict.
fn agree(out: &Output, verdict: &Verdict) {
    let (sent, readable, reason, response_type) = match verdict {
        Verdict::Refused(reason) => (false, false, *reason, ResponseType::Error),
        Verdict::Done {
            sent,
            readable,
            reason,
            response_type,
        } => (*sent, *readable, *reason, *response_type),
    };
    assert_eq!(out.sent, sent, "explain: sent differs: {out:?}");
    assert_eq!(out.readable, readable, "explain: readable differs: {out:?}");
    assert_eq!(
        out.error,
        reason.error.map(|e| e.as_str()),
        "explain: error differs: {out:?}"
    );
    assert_eq!(out.rule, reason.rule, "explain: rule differs: {out:?}");
    assert_eq!(
        out.response_type,
        response_type.as_str(),
        "explain: response type differs: {out:?}"
    );
}

/// The JSON form: one case, or steps against one cache over time.
fn json_input(input: &case::Input) {
    let Some(profile) = Profile::by_name(input.browser().unwrap_or("fetch")) else {
        return;
    };
    let mut cache = PreflightCache::default();
    let verdicts: Vec<Option<Verdict>> = match input {
        case::Input::Case(c) => vec![json_case(c, &profile, &mut cache, 0.0)],
        case::Input::Steps(s) => {
            let mut verdicts = Vec::with_capacity(s.steps.len());
            let mut last = 0.0;
            for step in &s.steps {
                let at = step.at_seconds.unwrap_or(last);
                if !at.is_finite() || at < last {
                    break;
                }
                last = at;
                verdicts.push(json_case(step, &profile, &mut cache, at));
            }
            verdicts
        }
    };
    // `explain` never panics; where both evaluated every case, they agree.
    let Ok(explained) = case::explain(input, None) else {
        return;
    };
    let outputs: Vec<&Output> = match &explained {
        Explained::Case(out) => vec![out],
        Explained::Steps { steps } => steps.iter().collect(),
    };
    if verdicts.len() != outputs.len() {
        return;
    }
    for (out, verdict) in outputs.iter().zip(&verdicts) {
        match verdict {
            Some(verdict) => agree(out, verdict),
            // Later steps depend on the cache this one would have filled.
            None => return,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        if let Some(input) = std::str::from_utf8(data)
            .ok()
            .and_then(|text| case::Input::parse(text).ok())
        {
            json_input(&input);
            return;
        }
    }
    if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) {
        arbitrary_input(&input);
    }
});
