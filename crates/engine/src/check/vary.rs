//! Cache safety (H1): the case's actual request sent again from another origin (or with one
//! when it had none). When the CORS answers differ, a response without `Vary: Origin` that a
//! shared cache may store ([`shared_cache_may_store`], RFC 9111) can be replayed to the other
//! request; the oracle's CORS check (R31–R35) says what the browser then does, and the
//! policy's intent for that request says whether that is a leak (`missing-vary`: a refused
//! origin reads) or a denial (`missing-vary-denial`: an allowed origin cannot read). A
//! response no shared cache may store, or whose replay changes nothing the policy cares
//! about, is no hazard.

use corsproof_oracle::cors_check::cors_check;
use corsproof_oracle::intent::{intent, origin_matches, Tri};
use corsproof_oracle::{Origin, Profile, Request, RequestInit, Response, RuleId};
use corsproof_policy::{OriginEntry, Origins, Policy, Route};
use corsproof_report::{CheckKind, SentRequest};

use super::draft::Draft;
use super::exchange::{Answer, Exchanger};
use super::hygiene::CORS_HEADERS;
use crate::generate::instance;
use crate::storable::shared_cache_may_store;

/// The origin no policy allows, sent when a refused one is not available.
const STRANGER: &str = "https://sibling.corsproof.test";

/// What the cache-safety check knows of the case.
pub(crate) struct Scope<'a> {
    pub(crate) policy: &'a Policy,
    pub(crate) route: Option<&'a Route>,
    pub(crate) case: &'a RequestInit,
    pub(crate) profile: &'a Profile,
}

/// One of the two requests and its answer.
struct Side {
    sent: SentRequest,
    answer: Answer,
    /// Its `Origin`, parsed; `None` without one (no CORS check, nothing to replay to).
    origin: Option<Origin>,
}

/// The request the cache-safety check sends next to `sent` (a simple request on `route`), and
/// its origin: the same request from a page of the sibling origin, whose `Origin` and
/// `Referer` (the page's URL, here the origin's root) say so; every other line is kept in
/// place.
pub(crate) fn sibling(route: Option<&Route>, sent: &SentRequest) -> (SentRequest, String) {
    let current = sent
        .header_value("origin")
        .map(|o| String::from_utf8_lossy(o).into_owned());
    let sibling_origin = sibling_origin(route, current.as_deref());
    let mut sibling = sent.clone();
    let mut has_origin = false;
    for (name, value) in &mut sibling.headers {
        if name.eq_ignore_ascii_case(b"origin") {
            *value = sibling_origin.as_bytes().to_vec();
            has_origin = true;
        } else if name.eq_ignore_ascii_case(b"referer") {
            *value = format!("{sibling_origin}/").into_bytes();
        }
    }
    if !has_origin {
        sibling
            .headers
            .push((b"Origin".to_vec(), sibling_origin.as_bytes().to_vec()));
    }
    (sibling, sibling_origin)
}

/// The draft of the case whose last actual request (a simple one: no preflight) is `sent`,
/// if a cache's replay of one answer to the other request departs from the policy.
pub(crate) async fn draft(
    scope: &Scope<'_>,
    sent: &SentRequest,
    ex: &mut Exchanger<'_>,
) -> Option<Draft> {
    let current = sent
        .header_value("origin")
        .map(|o| String::from_utf8_lossy(o).into_owned());
    let (sibling, sibling_origin) = sibling(scope.route, sent);
    let (sibling, answer) = ex.send(sibling).await;
    let answer = answer?;
    let first = ex.answered(sent)?.clone();
    if cors_answer(&first.response) == cors_answer(&answer.response) {
        return None;
    }
    let a = Side {
        origin: current
            .as_deref()
            .and_then(|o| Origin::parse_serialized(o).ok()),
        sent: sent.clone(),
        answer: first,
    };
    let b = Side {
        origin: Origin::parse_serialized(&sibling_origin).ok(),
        sent: SentRequest::clone(&sibling),
        answer,
    };
    replay(scope, &a, &b).or_else(|| replay(scope, &b, &a))
}

/// The draft when `from`'s answer, replayed by a cache to `to`'s request, departs from the
/// policy's intent for `to`.
fn replay(scope: &Scope<'_>, from: &Side, to: &Side) -> Option<Draft> {
    let response = &from.answer.response;
    let authorization = from.sent.header_value("authorization").is_some();
    if varies_on_origin(response)
        || !shared_cache_may_store(
            &from.sent.method,
            authorization,
            response.status,
            response.headers(),
        )
    {
        return None;
    }
    let origin = to.origin.as_ref()?;
    let mut init = scope.case.clone();
    init.origin = origin.clone();
    let request = Request::construct(init, scope.profile).ok()?;
    let wanted = intent(scope.policy, &request, scope.profile).readable;
    let check = cors_check(response, origin.serialization(), request.credentials);
    let grants = check.error.is_none();
    let kind = match (grants, wanted) {
        (true, Tri::MustNot) => CheckKind::MissingVary,
        (false, Tri::Must) => CheckKind::MissingVaryDenial,
        _ => return None,
    };
    let asker = |s: &Side| {
        s.origin
            .as_ref()
            .map_or("a request without Origin".to_string(), |o| {
                o.serialization().to_string()
            })
    };
    let (from_origin, to_origin) = (asker(from), asker(to));
    let effect = if grants {
        format!("lets {to_origin} read it, which the policy refuses")
    } else {
        format!("denies {to_origin} the read the policy grants")
    };
    Some(Draft {
        kind,
        profiles: vec![scope.profile.id],
        exchanges: vec![
            (from.sent.clone(), from.answer.seen()),
            (to.sent.clone(), to.answer.seen()),
        ],
        expected: "Vary: Origin on a response whose CORS headers depend on the Origin".to_string(),
        observed: format!(
            "no Vary: Origin on the answer to {from_origin}; replayed to {to_origin} by a cache, it {effect} ({})",
            check.rule
        ),
        rule: RuleId::H1,
        decided_by: Some(check.rule),
        explanation: format!(
            "the CORS headers differ between {from_origin} and {to_origin}, and a shared cache may store the answer to {from_origin} (RFC 9111 section 3) and, keyed on the URL alone, replay it (section 4.1; Fetch, CORS protocol and HTTP caches): the browser at {to_origin} then {}",
            if grants { "reads a response the policy refuses it" } else { "cannot read a response the policy grants it" }
        ),
    })
}

/// An origin whose answer should differ from `current`'s: an allowed one when `current` is
/// refused, else a stranger (also for a request without Origin: a cache that replays its
/// answer to a stranger is the hazard worth knowing).
fn sibling_origin(route: Option<&Route>, current: Option<&str>) -> String {
    let Some(route) = route else {
        return STRANGER.to_string();
    };
    let allowed = match &route.origins {
        Origins::Any => return STRANGER.to_string(),
        Origins::List(entries) => entries
            .iter()
            .filter(|e| !matches!(e, OriginEntry::Null))
            .find_map(instance)
            .map(|o| o.serialization().to_string()),
    };
    let Some(current) = current else {
        return STRANGER.to_string();
    };
    let current_allowed =
        Origin::parse_serialized(current).is_ok_and(|o| origin_matches(&route.origins, &o));
    match allowed {
        Some(a) if !current_allowed && a != current => a,
        _ => STRANGER.to_string(),
    }
}

/// The CORS header lines of a response, by header.
pub(crate) fn cors_answer(r: &Response) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, h) in CORS_HEADERS.iter().enumerate() {
        for v in r.cors_values(*h) {
            out.push((i, v.to_vec()));
        }
    }
    out
}

/// Whether the response's `Vary` names `Origin` or is `*`.
pub(crate) fn varies_on_origin(r: &Response) -> bool {
    r.values(b"vary")
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .any(|e| e == b"*" || e.eq_ignore_ascii_case(b"origin"))
}
