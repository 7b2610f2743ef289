//! The oracle on `explain` inputs (`corsproof explain`'s JSON: one case or the steps form,
//! `spec/VECTORS.md`; the spec vectors are the seeds): every case is fetched with its own
//! answers per hop (the steps against one preflight cache over time) and its invariants hold
//! (`corsproof_fuzz::oracle::check`: the fetch ends, not sent ⇒ not readable for http(s)
//! URLs, a failed preflight ⇒ not sent, `Set-Cookie` never visible, nothing visible of an
//! unreadable response, `*` never grants a credentialed CORS read); `case::explain` of the
//! same input never panics and, where both evaluate it, agrees with this driver (sent,
//! readable, response type, error and rule). Bytes that are not such JSON are skipped.
//!
//! A target of its own, apart from `oracle` (which reads its input with `arbitrary`): the
//! JSON parser and `case::explain` stay out of `oracle`'s binary, whose executions would
//! otherwise pay for their instrumented code (libFuzzer's cost per execution grows with it),
//! and neither form's mutations are spent on the other form's inputs.
#![no_main]

use corsproof_case::{self as case, CaseJson, Explained, Output, ResponseJson};
use corsproof_fuzz::oracle::{check, fetch, Answers};
use corsproof_oracle::expose::ResponseType;
use corsproof_oracle::grammar::{is_token, isomorphic_encode};
use corsproof_oracle::{
    Body, CredentialsMode, Origin, PreflightCache, Profile, Reason, RedirectMode, Request,
    RequestInit, RequestMode, Response,
};
use libfuzzer_sys::fuzz_target;
use url::Url;

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
    if data.first() != Some(&b'{') {
        return;
    }
    if let Some(input) = std::str::from_utf8(data)
        .ok()
        .and_then(|text| case::Input::parse(text).ok())
    {
        json_input(&input);
    }
});
