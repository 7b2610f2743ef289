//! The plan of a run, before anything is sent: how many cases, and how many requests they
//! come to after sharing ([`Shared`]). A request after the first of a fetch depends on the
//! target's answer (an actual request goes out only after a passing preflight, a redirect
//! adds a hop), so the plan gives a range: the distinct first requests of every case and
//! profile (sent whatever the target answers), and those plus the actual request of every
//! preflight if it passes and the cache-safety check's sibling of every simple request (sent
//! when the target answers as a permissive server would). Redirects are not foreseen.

use std::collections::HashSet;

use corsproof_oracle::{Fetch, Next, PreflightCache, Profile, Request, RequestInit, Response};
use corsproof_policy::Policy;
use corsproof_report::SentRequest;

use super::exchange::{Key, Shared};
use super::play::on_the_wire;
use super::target::Target;
use super::vary;

/// What a run is about to send.
///
/// ```
/// use corsproof_engine::check::Plan;
/// let plan = Plan { cases: 10, fewest_requests: 12, most_requests: 30 };
/// assert!(plan.fewest_requests <= plan.most_requests);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plan {
    /// Cases to judge.
    pub cases: u64,
    /// Requests sent whatever the target answers: the distinct first request of every case
    /// under every profile (the reachability request aside).
    pub fewest_requests: u64,
    /// Requests sent when every preflight passes and no request is redirected; retries and
    /// shrinking aside.
    pub most_requests: u64,
}

/// The plan of judging `cases` under `profiles` on `target`, sharing as `shared` does.
pub(crate) fn plan(
    policy: &Policy,
    target: &Target,
    profiles: &[Profile],
    cases: &[RequestInit],
    shared: &Shared,
) -> Plan {
    let mut first: HashSet<Key> = HashSet::new();
    let mut then: HashSet<Key> = HashSet::new();
    for case in cases {
        let route =
            corsproof_oracle::intent::route_for(policy, case.url.path()).map(|i| &policy.routes[i]);
        for (i, profile) in profiles.iter().enumerate() {
            let Ok(request) = Request::construct(case.clone(), profile) else {
                continue;
            };
            let mut cache = PreflightCache::default();
            let mut fetch = Fetch::new(&request, profile);
            let next = fetch.start(&mut cache, 0.0);
            if next == Next::Done || !target.serves(fetch.current_url()) {
                continue;
            }
            let Some(sent) = on_the_wire(&fetch, profile) else {
                continue;
            };
            first.insert(shared.key(&sent));
            match next {
                Next::Preflight => {
                    let passing = permissive(&sent);
                    if fetch.on_preflight_response(&passing, &mut cache, 0.0) == Next::Request {
                        if let Some(actual) = on_the_wire(&fetch, profile) {
                            then.insert(shared.key(&actual));
                        }
                    }
                }
                // The cache-safety check plays the first profile's simple requests.
                _ if i == 0 => {
                    then.insert(shared.key(&vary::sibling(route, &sent).0));
                }
                _ => {}
            }
        }
    }
    let fewest = first.len() as u64;
    then.retain(|k| !first.contains(k));
    Plan {
        cases: cases.len() as u64,
        fewest_requests: fewest,
        most_requests: fewest + then.len() as u64,
    }
}

/// The answer of a server that lets the preflight `sent` pass: its origin, method and headers
/// allowed, with credentials and to a more private network.
fn permissive(sent: &SentRequest) -> Response {
    let mut headers = Vec::new();
    let mut allow = |name: &str, value: Vec<u8>| headers.push((name.as_bytes().to_vec(), value));
    allow(
        "Access-Control-Allow-Origin",
        sent.header_value("origin").unwrap_or(b"*").to_vec(),
    );
    allow("Access-Control-Allow-Credentials", b"true".to_vec());
    if let Some(m) = sent.header_value("access-control-request-method") {
        allow("Access-Control-Allow-Methods", m.to_vec());
    }
    if let Some(h) = sent.header_value("access-control-request-headers") {
        allow("Access-Control-Allow-Headers", h.to_vec());
    }
    allow("Access-Control-Allow-Private-Network", b"true".to_vec());
    Response::new(204, headers)
}
