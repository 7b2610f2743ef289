//! One case at a time against a running target, for the live fuzz targets (`fuzz/`): the
//! case is played, sent and judged exactly as [`check`](super::check) judges each of its
//! cases (the same play through the oracle's wire model, verdicts, hygiene, cache safety and,
//! with a second target, the differential), on one keep-alive connection per target, under
//! the one profile the caller names. Nothing is shared between cases: every case's requests
//! go to the target.
//!
//! Besides the findings, each case yields a fingerprint of what the target did
//! ([`LiveOutcome::behaviour`]), so that a fuzzer can tell a new behaviour of the server from
//! one it has seen, although the server's own code is invisible to its coverage.
//!
//! ```no_run
//! use corsproof_engine::check::live::Live;
//! use corsproof_oracle::{Origin, Profile, RequestInit};
//! use corsproof_policy::Policy;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::from_path("corpus/policies/public-api.toml")?;
//! let base = url::Url::parse("http://127.0.0.1:8080/")?;
//! let mut live = Live::new(&policy, &base, None, &[Profile::chromium()])?;
//! let case = RequestInit::new(base.join("/v1/items")?, Origin::parse_serialized("https://evil.example")?);
//! let outcome = live.play(&case, 0).await;
//! assert!(outcome.findings.is_empty(), "{:#?}", outcome.findings);
//! # Ok(())
//! # }
//! ```

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corsproof_client::Client;
use corsproof_oracle::defect::defects;
use corsproof_oracle::response::Cors;
use corsproof_oracle::{Profile, RequestInit, Response};
use corsproof_policy::Policy;
use corsproof_report::{Finding, SentRequest};
use url::Url;

use super::draft::Draft;
use super::exchange::{Answer, Shared};
use super::hygiene::CORS_HEADERS;
use super::play::Played;
use super::target::Target;
use super::vary::{cors_answer, varies_on_origin};
use super::{CheckError, Run, Sharing, STOP_AFTER_FAILURES};
use crate::retry::{self, Pace, RetryPolicy};
use crate::storable::shared_cache_may_store;

/// Per-request timeout of a live run.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A target (and optionally a second one, for the differential) that cases are played on one
/// at a time. Its connections belong to the tokio runtime of its first [`Live::play`]: play
/// every case on that runtime.
pub struct Live {
    /// One run per profile, each judging under that profile alone.
    runs: Vec<Run>,
    client: Client,
    other: Option<Client>,
}

/// What one case came to.
#[derive(Debug)]
pub struct LiveOutcome {
    /// The findings of the case, as `check` reports them (before grouping and shrinking).
    pub findings: Vec<Finding>,
    /// A fingerprint of what the target did (the answers' shapes, the browser's outcome,
    /// the cache decision and the findings' kinds): equal for two cases the target treated
    /// alike, different (but for hash collisions) otherwise.
    pub behaviour: u64,
    /// Requests sent, retries included.
    pub requests: u64,
    /// Requests that got no usable answer (a timeout, a closed connection, a malformed
    /// response): the case is not judged on them.
    pub target_errors: u64,
}

impl Live {
    /// Cases on `base` (and on `against`, for the differential) under any of `profiles`,
    /// judged against `policy`.
    pub fn new(
        policy: &Policy,
        base: &Url,
        against: Option<&Url>,
        profiles: &[Profile],
    ) -> Result<Live, CheckError> {
        let target = Target::new(base, None)?;
        let other = against.map(|u| Target::new(u, None)).transpose()?;
        let retry = RetryPolicy::default();
        // A live run has no end of its own: the fuzzer stops it.
        let deadline = retry::deadline(Instant::now(), Duration::MAX);
        let runs = profiles
            .iter()
            .map(|profile| Run {
                policy: policy.clone(),
                target: target.clone(),
                other: other.clone(),
                profiles: vec![profile.clone()],
                timeout: TIMEOUT,
                retry,
                pace: Pace::new(&retry, 0, STOP_AFTER_FAILURES),
                deadline,
                shared: Shared::new(Sharing::Identical, std::slice::from_ref(profile)),
                shared_other: Shared::new(Sharing::Identical, std::slice::from_ref(profile)),
            })
            .collect();
        Ok(Live {
            runs,
            client: target.client(TIMEOUT),
            other: other.map(|o| o.client(TIMEOUT)),
        })
    }

    /// The number of profiles (the valid `profile` indices of [`Live::play`]).
    pub fn profiles(&self) -> usize {
        self.runs.len()
    }

    /// Plays `case` under profile number `profile` (modulo [`Live::profiles`]).
    pub async fn play(&mut self, case: &RequestInit, profile: usize) -> LiveOutcome {
        let Some(run) = self.runs.get(profile % self.runs.len().max(1)) else {
            return LiveOutcome {
                findings: Vec::new(),
                behaviour: 0,
                requests: 0,
                target_errors: 0,
            };
        };
        run.shared.clear();
        run.shared_other.clear();
        let (result, behaviour) = run
            .evaluate_observed(case, &mut self.client, self.other.as_mut(), true)
            .await;
        LiveOutcome {
            findings: result.findings,
            behaviour: behaviour.unwrap_or_default(),
            requests: result.tally.requests,
            target_errors: result.tally.errors.total(),
        }
    }
}

/// The fingerprint of what the target did in one case: for every profile's play, the
/// browser's outcome (sent, readable, the deciding rule and error: the CORS check R31–R35,
/// the preflight's validation R37–R42, ...) and, for every exchange, whether it was a
/// preflight and passed, and the shape of the answer ([`answer_shape`]); the cache decision
/// on the first play's simple request (H1: may a shared cache store it, does it vary on
/// `Origin`, did the sibling request from another origin get another CORS answer); and the
/// kinds of the case's findings.
pub(crate) fn behaviour(
    played: &[Played],
    memo: &[(Arc<SentRequest>, Option<Answer>)],
    drafts: &[Draft],
) -> u64 {
    let mut h = DefaultHasher::new();
    played.len().hash(&mut h);
    for p in played {
        (p.profile, p.reason.rule, p.reason.error, p.sent, p.readable).hash(&mut h);
        p.exchanges.len().hash(&mut h);
        for (sent, answer) in &p.exchanges {
            let preflight = sent.method == "OPTIONS"
                && sent.header_value("access-control-request-method").is_some();
            let passed = p.passed_preflights.contains(sent);
            (preflight, passed).hash(&mut h);
            answer_shape(&answer.response, sent.header_value("origin")).hash(&mut h);
        }
    }
    cache_decision(played, memo).hash(&mut h);
    let mut kinds: Vec<_> = drafts.iter().map(|d| d.kind).collect();
    kinds.sort();
    kinds.hash(&mut h);
    h.finish()
}

/// How an `Access-Control-Allow-Origin` value relates to the request's `Origin`.
#[derive(Hash)]
enum AllowOrigin {
    Absent,
    Star,
    Null,
    /// Byte for byte the request's `Origin`.
    Reflected,
    Other,
}

/// What `Vary` says about `Origin`.
#[derive(Hash)]
enum VaryShape {
    Absent,
    /// Names `Origin` or is `*`.
    OnOrigin,
    /// Present, without `Origin`.
    Other,
}

/// The shape of an answer: its status class; for every CORS header, how many lines came
/// back (none, one, several) and whether the oracle finds them well formed; how the
/// `Access-Control-Allow-Origin` value relates to the request's `origin`; whether
/// `Access-Control-Allow-Credentials` is exactly `true`; and what `Vary` says.
fn answer_shape(r: &Response, origin: Option<&[u8]>) -> impl Hash {
    let headers: Vec<(usize, bool)> = CORS_HEADERS
        .iter()
        .map(|&c| {
            let lines = r.cors_values(c).take(2).count();
            (lines, lines > 0 && defects(r, c).is_empty())
        })
        .collect();
    let acao = match r.get_combined(Cors::AllowOrigin).as_deref() {
        None => AllowOrigin::Absent,
        Some(b"*") => AllowOrigin::Star,
        Some(b"null") => AllowOrigin::Null,
        Some(v) if Some(v) == origin => AllowOrigin::Reflected,
        Some(_) => AllowOrigin::Other,
    };
    let credentials = r.get_combined(Cors::AllowCredentials).as_deref() == Some(b"true");
    let vary = if varies_on_origin(r) {
        VaryShape::OnOrigin
    } else if r.values(b"vary").next().is_some() {
        VaryShape::Other
    } else {
        VaryShape::Absent
    };
    (r.status / 100, headers, acao, credentials, vary)
}

/// The cache-safety check's view of the first play, when it is one simple exchange: may a
/// shared cache store the answer, does it vary on `Origin`, and did the sibling request (the
/// last one of the memo, when it is not the play's own) get the same CORS answer.
fn cache_decision(
    played: &[Played],
    memo: &[(Arc<SentRequest>, Option<Answer>)],
) -> Option<(bool, bool, Option<bool>)> {
    let [(sent, answer)] = played.first()?.exchanges.as_slice() else {
        return None;
    };
    let r = &answer.response;
    let storable = shared_cache_may_store(
        &sent.method,
        sent.header_value("authorization").is_some(),
        r.status,
        r.headers(),
    );
    let sibling = memo
        .last()
        .filter(|(s, _)| s != sent)
        .and_then(|(_, a)| a.as_ref())
        .map(|a| cors_answer(&a.response) == cors_answer(r));
    Some((storable, varies_on_origin(r), sibling))
}
