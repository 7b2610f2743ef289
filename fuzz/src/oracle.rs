//! The oracle's driver, shared by the `oracle` (arbitrary requests and answers) and
//! `oracle_json` (`explain` inputs) targets: a sans-IO fetch answered hop by hop from the
//! input, and the invariants every ended fetch must hold.

use corsproof_oracle::expose::{is_visible, ExposedList, ResponseType};
use corsproof_oracle::response::Cors;
use corsproof_oracle::{CredentialsMode, Fetch, Next, PreflightCache, Profile, Request, Response};

/// What a server answers at each hop (the first URL is hop 0): a preflight answer and a
/// response, `None` when the input gives none.
pub struct Answers<'a> {
    pub hops: Vec<(Option<&'a Response>, Option<&'a Response>)>,
    /// The answers past `hops`.
    pub rest: (Option<&'a Response>, Option<&'a Response>),
}

impl<'a> Answers<'a> {
    pub fn at(&self, hop: usize) -> (Option<&'a Response>, Option<&'a Response>) {
        self.hops.get(hop).copied().unwrap_or(self.rest)
    }
}

/// Fetches `request` against `answers`, with `cache` at time `now`: the ended fetch and the
/// last response the browser received, `None` when the browser needs an answer `answers`
/// lacks. At most 20 redirects (R56), each with a preflight: the fetch must end well within
/// 48 steps.
pub fn fetch<'r, 'a>(
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
pub fn check(request: &Request, http_url: bool, fetch: &Fetch<'_>, last: Option<&Response>) {
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
