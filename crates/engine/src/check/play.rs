//! Playing one case under one browser profile: the oracle's sans-IO [`Fetch`] says what the
//! browser sends; the requests go to the target through the case's [`Exchanger`]; the answers
//! go back to the oracle, until the fetch is done. Then the policy's intent judges the
//! outcome.

use std::sync::Arc;

use corsproof_oracle::expose::{is_visible, ExposedList};
use corsproof_oracle::fetch::OriginHeader;
use corsproof_oracle::grammar::isomorphic_decode;
use corsproof_oracle::intent::{intent, Mismatch};
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::{
    Fetch, Next, PreflightCache, Profile, Reason, Request, RequestInit, Response, RuleId,
};
use corsproof_policy::Policy;
use corsproof_report::SentRequest;

use super::exchange::{Answer, Exchanger};

/// At most this many requests per fetch (preflights and redirect hops included).
const MAX_HOPS: usize = 8;

/// The cookie a credentialed request carries.
const COOKIE: (&[u8], &[u8]) = (b"Cookie", b"corsproof=1");

/// One profile's play of a case: what went on the wire, what the browser did, and how that
/// departs from the policy's intent.
pub(crate) struct Played {
    pub(crate) profile: ProfileId,
    pub(crate) exchanges: Vec<(SentRequest, Answer)>,
    /// The preflights of `exchanges` that passed the browser's validation (R37–R42).
    pub(crate) passed_preflights: Vec<SentRequest>,
    /// Departures from the intent, in the order the oracle's judge lists them.
    pub(crate) mismatches: Vec<Mismatch>,
    /// The oracle's decisive reason for the outcome.
    pub(crate) reason: Reason,
    pub(crate) sent: bool,
    pub(crate) readable: bool,
    /// Every response header name (lowercase) and whether script can see it.
    pub(crate) visible: Vec<(String, bool)>,
}

impl Played {
    /// The final response the outcome was computed from.
    pub(crate) fn last(&self) -> Option<&Response> {
        self.exchanges.last().map(|(_, a)| a.response.as_ref())
    }

    /// The browser rule that decided the outcome.
    pub(crate) fn decided_by(&self) -> RuleId {
        self.reason.rule
    }
}

/// Plays `init` under `profile`. `None` when the request cannot be constructed (the browser
/// would throw), leaves the target (a redirect elsewhere), runs past [`MAX_HOPS`], or an
/// exchange failed.
pub(crate) async fn play(
    policy: &Policy,
    init: &RequestInit,
    profile: &Profile,
    ex: &mut Exchanger<'_>,
) -> Option<Played> {
    let request = Request::construct(init.clone(), profile).ok()?;
    let mut cache = PreflightCache::default();
    let mut fetch = Fetch::new(&request, profile);
    let mut next = fetch.start(&mut cache, 0.0);
    let mut last = Arc::new(Response::default());
    let mut exchanges = Vec::new();
    let mut passed_preflights = Vec::new();
    for _ in 0..MAX_HOPS {
        if next == Next::Done {
            break;
        }
        if !ex.target().serves(fetch.current_url()) {
            return None;
        }
        let sent = match next {
            Next::Preflight => preflight_request(&fetch)?,
            _ => actual_request(&fetch),
        };
        let answer = ex.send(&sent).await?;
        last = answer.response.clone();
        next = match next {
            Next::Preflight => {
                let after = fetch.on_preflight_response(&last, &mut cache, 0.0);
                let passed = fetch
                    .current_hop()
                    .and_then(|h| h.preflight.as_ref())
                    .is_some_and(|p| p.ok);
                if passed {
                    passed_preflights.push(sent.clone());
                }
                after
            }
            _ => fetch.on_response(&last, &mut cache, 0.0),
        };
        exchanges.push((sent, answer));
    }
    if next != Next::Done {
        return None;
    }
    let outcome = fetch.outcome();
    let mismatches = intent(policy, &request, profile).judge(outcome, &last, request.credentials);
    let exposed = ExposedList::of(&last, request.credentials);
    let visible = last
        .headers()
        .iter()
        .map(|(n, _)| {
            let name = isomorphic_decode(n).to_ascii_lowercase();
            (
                name,
                outcome.readable && is_visible(n, outcome.response_type, &exposed),
            )
        })
        .collect();
    Some(Played {
        profile: profile.id,
        exchanges,
        passed_preflights,
        mismatches,
        reason: outcome.reason,
        sent: outcome.sent(),
        readable: outcome.readable,
        visible,
    })
}

/// The preflight the fetch is at (R27, R29, R67).
fn preflight_request(fetch: &Fetch<'_>) -> Option<SentRequest> {
    let preflight = fetch.current_hop()?.preflight.as_ref()?;
    let mut sent = SentRequest::new("OPTIONS", fetch.current_url().as_str())
        .header("Origin", fetch.serialized_origin())
        .header("Access-Control-Request-Method", preflight.method);
    let acrh = preflight.headers.joined();
    if !acrh.is_empty() {
        sent = sent.header("Access-Control-Request-Headers", acrh.as_bytes());
    }
    if preflight.private_network {
        sent = sent.header("Access-Control-Request-Private-Network", "true");
    }
    Some(sent)
}

/// The actual request the fetch is at: the request's headers, `Origin` as the hop says
/// (R24–R27), a cookie when credentials are included (R23).
fn actual_request(fetch: &Fetch<'_>) -> SentRequest {
    let mut sent = SentRequest::new(fetch.method(), fetch.current_url().as_str());
    sent.headers = fetch.headers().cloned().collect();
    match fetch
        .current_hop()
        .map_or(OriginHeader::Absent, |h| h.origin_header)
    {
        OriginHeader::Absent => {}
        OriginHeader::Null => sent = sent.header("Origin", "null"),
        OriginHeader::RequestOrigin => sent = sent.header("Origin", fetch.serialized_origin()),
    }
    if fetch.includes_credentials() {
        sent = sent.header(COOKIE.0, COOKIE.1);
    }
    sent
}
