//! Playing one case under one browser profile: the oracle's sans-IO [`Fetch`] says what the
//! browser sends; the requests go to the target through the case's [`Exchanger`]; the answers
//! go back to the oracle, until the fetch is done. Then the policy's intent judges the
//! outcome.

use std::sync::Arc;

use corsproof_oracle::expose::{is_visible, ExposedList, ResponseType};
use corsproof_oracle::grammar::isomorphic_decode;
use corsproof_oracle::intent::{intent, Mismatch};
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::{
    wire, CredentialsMode, Fetch, Next, PreflightCache, Profile, Reason, Request, RequestInit,
    Response, RuleId,
};
use corsproof_policy::Policy;
use corsproof_report::SentRequest;

use super::exchange::{Answer, Exchanger};

/// At most this many requests per fetch (preflights and redirect hops included).
const MAX_HOPS: usize = 8;

/// The cookie the browser holds for the target: sent when credentials are included.
const COOKIE: &[u8] = b"corsproof=1";

/// One profile's play of a case: what went on the wire, what the browser did, and how that
/// departs from the policy's intent.
pub(crate) struct Played {
    pub(crate) profile: ProfileId,
    pub(crate) exchanges: Vec<(Arc<SentRequest>, Answer)>,
    /// The preflights of `exchanges` that passed the browser's validation (R37–R42).
    pub(crate) passed_preflights: Vec<Arc<SentRequest>>,
    /// Departures from the intent, in the order the oracle's judge lists them.
    pub(crate) mismatches: Vec<Mismatch>,
    /// The oracle's decisive reason for the outcome.
    pub(crate) reason: Reason,
    pub(crate) sent: bool,
    pub(crate) readable: bool,
    /// The type of the filtered response script got (R51).
    pub(crate) response_type: ResponseType,
    /// The request's credentials mode, which decides what `*` exposes (R53).
    pub(crate) credentials: CredentialsMode,
}

impl Played {
    /// The final response the outcome was computed from.
    pub(crate) fn last(&self) -> Option<&Response> {
        self.exchanges.last().map(|(_, a)| a.response.as_ref())
    }

    /// Every header name of the final response (lowercase) and whether script can see it.
    pub(crate) fn visible(&self) -> Vec<(String, bool)> {
        let Some(last) = self.last() else {
            return Vec::new();
        };
        let exposed = ExposedList::of(last, self.credentials);
        last.headers()
            .iter()
            .map(|(n, _)| {
                let name = isomorphic_decode(n).to_ascii_lowercase();
                let seen = self.readable && is_visible(n, self.response_type, &exposed);
                (name, seen)
            })
            .collect()
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
        let sent = on_the_wire(&fetch, profile)?;
        let (sent, answer) = ex.send(sent).await;
        let answer = answer?;
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
    Some(Played {
        profile: profile.id,
        exchanges,
        passed_preflights,
        mismatches,
        reason: outcome.reason,
        sent: outcome.sent(),
        readable: outcome.readable,
        response_type: outcome.response_type,
        credentials: request.credentials,
    })
}

/// What the browser of `profile` writes for the request the fetch is at, preflight or not:
/// every header line it sends, in its order (the oracle's `wire` module, W1–W12), with a
/// cookie when credentials are included (W10). `None` for a request no HTTP/1.1 client can
/// send as the browser does (a streamed body).
pub(crate) fn on_the_wire(fetch: &Fetch<'_>, profile: &Profile) -> Option<SentRequest> {
    let w = wire::request(fetch, profile, Some(COOKIE)).ok()?;
    let mut sent = SentRequest::new(w.method, fetch.current_url().as_str());
    sent.headers = w.headers;
    sent.body = w.body;
    Some(sent)
}
