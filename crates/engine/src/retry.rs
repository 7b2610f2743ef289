//! Overload answers retried, not judged.
//!
//! A rate limiter's `429 Too Many Requests` or an overloaded server's `503 Service
//! Unavailable` says nothing about the route's CORS behaviour. A request answered so is sent
//! again after a back-off ([`RetryPolicy`]): exponential, with jitter, at least what the
//! server's `Retry-After` asks ([`retry_after`]), at most [`RetryPolicy::max_backoff`], and
//! never past the run's deadline.
//!
//! - **429**: retried up to [`RetryPolicy::max_retries`] times; if it persists the request is
//!   a target error ([`SendError::Overloaded`]), never a CORS verdict.
//! - **503**: retried once. A 503 that the retry does not repeat was overload; a 503 that
//!   repeats is the route's real answer and is judged like any other (a route that always
//!   answers 503 without CORS headers is broken for the origins its policy grants).
//!
//! When a server asks to slow down (a 429, or a 503 with `Retry-After`), the whole run slows
//! down: the back-off is a pause shared by every worker of the run (`Pace`), each of which
//! resumes after it with a jitter of its own so that they do not all return at once. A streak
//! of `STREAK` overload answers in a row (429 or 503, across workers) without `Retry-After`
//! pauses the whole run for a back-off that doubles with each further one (up to what a
//! request's last retry waits), until an answer that is not an overload ends the streak. A
//! rate limit (`Bucket`, `--rate`) spaces every request of the run, retries included.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use corsproof_client::{Client, Error as ClientError, RawResponse, Request};
use corsproof_report::{Stats, TargetErrorKind, TargetErrors};

/// How overload answers (429, 503) are retried.
///
/// ```
/// use std::time::Duration;
/// use corsproof_engine::retry::RetryPolicy;
/// let p = RetryPolicy::default();
/// assert_eq!(p.max_retries, 4);
/// assert_eq!((p.backoff, p.max_backoff), (Duration::from_secs(1), Duration::from_secs(30)));
/// // Retry n waits between half and all of backoff × 2ⁿ (the jitter picks where), capped.
/// assert_eq!(p.backoff_for(0, 0.0), Duration::from_millis(500));
/// assert_eq!(p.backoff_for(3, 0.5), Duration::from_secs(6));
/// assert_eq!(p.backoff_for(10, 1.0), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The most retries of one request (0: overload answers are never retried; a 503 is then
    /// judged and a 429 is a target error at once).
    pub max_retries: u32,
    /// The back-off before the first retry; it doubles with each retry.
    pub backoff: Duration,
    /// The longest wait before one retry, a server's `Retry-After` included.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Four retries, from 1 s, at most 30 s each: 7.5 to 15 s of back-off for a request a
    /// rate limiter keeps refusing, more when its `Retry-After` asks for it.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The back-off before retry `retry` (0 for the first): `backoff × 2^retry`, its second
    /// half scaled by `jitter` (in `[0, 1]`), at most [`RetryPolicy::max_backoff`].
    pub fn backoff_for(&self, retry: u32, jitter: f64) -> Duration {
        let full = self
            .backoff
            .saturating_mul(1 << retry.min(31))
            .min(self.max_backoff);
        let half = full / 2;
        (half + (full - half).mul_f64(jitter.clamp(0.0, 1.0))).min(self.max_backoff)
    }

    /// The wait before retry `retry`: the back-off, or the server's `Retry-After` when it asks
    /// for longer; at most [`RetryPolicy::max_backoff`].
    fn wait(&self, retry: u32, jitter: f64, retry_after: Option<Duration>) -> Duration {
        self.backoff_for(retry, jitter)
            .max(retry_after.unwrap_or(Duration::ZERO))
            .min(self.max_backoff)
    }
}

/// Why a request got no usable answer.
///
/// ```
/// use corsproof_engine::retry::SendError;
/// use corsproof_report::TargetErrorKind;
/// let e = SendError::Overloaded { status: 429, attempts: 5 };
/// assert_eq!(e.to_string(), "429 Too Many Requests on each of 5 attempts");
/// assert_eq!(e.kind(), TargetErrorKind::Overloaded);
/// ```
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No response, or not a valid one.
    #[error(transparent)]
    Exchange(#[from] ClientError),
    /// The server answered that it is overloaded on every attempt.
    #[error("{} on each of {attempts} attempts", overload_status(*.status))]
    Overloaded {
        /// The last status (429).
        status: u16,
        /// Requests sent.
        attempts: u32,
    },
    /// The server answered that it is overloaded, and the back-off would pass the run's
    /// deadline.
    #[error("{} with no time left to retry before the run's deadline", overload_status(*.status))]
    Deadline {
        /// The status (429 or 503).
        status: u16,
    },
}

impl SendError {
    /// The report's kind of this failure.
    pub fn kind(&self) -> TargetErrorKind {
        match self {
            SendError::Exchange(e) => match e {
                ClientError::Timeout(_) => TargetErrorKind::Timeout,
                ClientError::Closed { .. } => TargetErrorKind::Closed,
                ClientError::Malformed { .. } => TargetErrorKind::Malformed,
                ClientError::TooLarge { .. } => TargetErrorKind::TooLarge,
                ClientError::InvalidRequest { .. } => TargetErrorKind::Unsendable,
                ClientError::Tls { .. } => TargetErrorKind::Tls,
                ClientError::Io(_) => TargetErrorKind::Io,
            },
            SendError::Overloaded { .. } | SendError::Deadline { .. } => {
                TargetErrorKind::Overloaded
            }
        }
    }
}

/// An overload status with its reason phrase.
fn overload_status(status: u16) -> String {
    match status {
        429 => "429 Too Many Requests".to_string(),
        503 => "503 Service Unavailable".to_string(),
        other => format!("status {other}"),
    }
}

/// How long the `Retry-After` field of a response asks to wait, at `now`: delta-seconds, or
/// an HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms; a date in the past is
/// no wait). `None` without the field or when its value is neither.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use corsproof_engine::retry::retry_after;
/// let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
/// let field = |v: &str| vec![(b"retry-after".to_vec(), v.as_bytes().to_vec())];
/// assert_eq!(retry_after(&field("120"), now), Some(Duration::from_secs(120)));
/// assert_eq!(retry_after(&field("Sun, 06 Nov 1994 08:49:37 GMT"), now), Some(Duration::from_secs(7)));
/// assert_eq!(retry_after(&field("Sunday, 06-Nov-94 08:49:37 GMT"), now), Some(Duration::from_secs(7)));
/// assert_eq!(retry_after(&field("Sun Nov  6 08:49:37 1994"), now), Some(Duration::from_secs(7)));
/// assert_eq!(retry_after(&field("Sat, 05 Nov 1994 08:49:37 GMT"), now), Some(Duration::ZERO));
/// assert_eq!(retry_after(&field("soon"), now), None);
/// assert_eq!(retry_after(&field("-1"), now), None);
/// assert_eq!(retry_after(&[], now), None);
/// ```
pub fn retry_after(headers: &[(Vec<u8>, Vec<u8>)], now: SystemTime) -> Option<Duration> {
    let (_, value) = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(b"retry-after"))?;
    let text = std::str::from_utf8(value).ok()?.trim_matches([' ', '\t']);
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for a u64 is as good as forever: the wait is capped anyway.
        return Some(Duration::from_secs(text.parse().unwrap_or(u64::MAX)));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The most pauses a worker waits out before one request: each is at most
/// [`RetryPolicy::max_backoff`], so the wait is bounded.
const MAX_PAUSES_IN_A_ROW: usize = 16;

/// Overload answers in a row, across the run's workers, from which an overload answer without
/// `Retry-After` pauses the whole run whatever its status (a 503 included), for a back-off
/// that doubles with each more, up to what a request's last retry waits
/// ([`RetryPolicy::backoff_for`] of [`RetryPolicy::max_retries`]).
pub const STREAK: u32 = 3;

/// A rate limit shared by every connection of a run: requests go out on a schedule of one
/// every `1/rate` seconds (a token bucket holding one token), so that no second sees more
/// than `rate` requests, retries included.
///
/// ```
/// use corsproof_engine::retry::Bucket;
/// assert!(Bucket::new(0.0).is_none());
/// assert_eq!(Bucket::new(50.0).map(|b| b.interval()), Some(std::time::Duration::from_millis(20)));
/// ```
#[derive(Debug)]
pub struct Bucket {
    interval: Duration,
    /// When the next request may go out.
    next: Mutex<Option<Instant>>,
}

impl Bucket {
    /// A bucket of `rate` requests per second; `None` for a rate that is not positive and
    /// finite.
    pub fn new(rate: f64) -> Option<Bucket> {
        (rate.is_finite() && rate > 0.0).then(|| Bucket {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(None),
        })
    }

    /// The time between two requests.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this request's turn (never past `deadline`).
    async fn take(&self, deadline: Instant) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = slot.checked_add(self.interval);
            slot
        };
        if slot > Instant::now() {
            tokio::time::sleep_until(slot.min(deadline).into()).await;
        }
    }
}

/// What the workers of a run share about the target's health: a pause every worker waits out
/// before its next request, the jitter of their retries, the overload answers in a row, the
/// rate limit, and whether the target has stopped answering (a number of requests in a row
/// without a usable answer; once stopped, always).
#[derive(Debug)]
pub(crate) struct Pace {
    /// When the run may send again.
    resume: Mutex<Option<Instant>>,
    /// Requests in a row, across workers, that got no usable answer.
    failing: AtomicU64,
    /// After how many the target has stopped answering, and whether it has.
    stop_after: u64,
    stopped: AtomicBool,
    /// The most a worker adds to a pause, so that workers do not all resume at once.
    spread: Duration,
    /// The seed of the jitter, and how many draws were made.
    seed: u64,
    draws: AtomicU64,
    /// Overload answers in a row, across workers.
    streak: AtomicU32,
    /// The run's rate limit.
    bucket: Option<Bucket>,
}

impl Pace {
    /// The pace of a run retrying with `policy`, its jitter drawn from `seed`, that stops after
    /// `stop_after` requests in a row without a usable answer.
    pub(crate) fn new(policy: &RetryPolicy, seed: u64, stop_after: u64) -> Pace {
        Pace {
            resume: Mutex::new(None),
            failing: AtomicU64::new(0),
            stop_after,
            stopped: AtomicBool::new(false),
            spread: policy.backoff / 2,
            seed,
            draws: AtomicU64::new(0),
            streak: AtomicU32::new(0),
            bucket: None,
        }
    }

    /// The pace with a rate limit of `rate` requests per second (`None`: none).
    pub(crate) fn with_rate(mut self, rate: Option<f64>) -> Pace {
        self.bucket = rate.and_then(Bucket::new);
        self
    }

    /// Counts an answer: an overload answer lengthens the streak, any other ends it. The
    /// streak so far.
    fn overloaded(&self, overload: bool) -> u32 {
        if overload {
            self.streak.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.streak.store(0, Ordering::Relaxed);
            0
        }
    }

    /// Pauses the run for `wait` from now (a pause already longer is kept).
    fn pause(&self, wait: Duration) {
        let Some(until) = Instant::now().checked_add(wait) else {
            return;
        };
        let mut resume = self.resume.lock().unwrap_or_else(PoisonError::into_inner);
        *resume = Some(resume.map_or(until, |r| r.max(until)));
    }

    /// Waits out the run's pause, if any, plus a jitter; never past `deadline`. A pause
    /// extended while a worker waits is waited out too (a bounded number of times).
    async fn wait(&self, deadline: Instant) {
        for _ in 0..MAX_PAUSES_IN_A_ROW {
            let resume = *self.resume.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(resume) = resume.filter(|r| *r > Instant::now()) else {
                return;
            };
            let until = resume
                .checked_add(self.spread.mul_f64(self.jitter()))
                .unwrap_or(deadline)
                .min(deadline);
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// Whether the target has stopped answering: once it has, a later answer (to a request
    /// already on the wire) does not undo it.
    pub(crate) fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Counts a request's outcome: a usable answer ends a run of failures.
    fn count(&self, usable: bool) {
        if usable {
            self.failing.store(0, Ordering::Relaxed);
        } else if self.failing.fetch_add(1, Ordering::Relaxed) + 1 >= self.stop_after {
            self.stopped.store(true, Ordering::Relaxed);
        }
    }

    /// A number in `[0, 1)`, from the seed and the count of draws (SplitMix64).
    fn jitter(&self) -> f64 {
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        let mut z = self
            .seed
            .wrapping_add(n.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `start + within`, or a century from `start` when that cannot be represented (no deadline).
pub(crate) fn deadline(start: Instant, within: Duration) -> Instant {
    start
        .checked_add(within)
        .unwrap_or_else(|| start + Duration::from_secs(100 * 365 * 86_400))
}

/// What sending cost: requests sent (retries included), retries, and the requests that got
/// no usable answer.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) requests: u64,
    pub(crate) retries: u64,
    pub(crate) errors: TargetErrors,
}

impl Tally {
    /// Counts a delivery of `attempts` requests.
    pub(crate) fn sent(&mut self, attempts: u32) {
        self.requests += u64::from(attempts);
        self.retries += u64::from(attempts.saturating_sub(1));
    }

    /// Adds `other` (its target errors after this one's).
    pub(crate) fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.retries += other.retries;
        self.errors.merge(other.errors);
    }

    /// The statistics of a run that sent this, judged `cases` cases (`failing` of them with
    /// findings) in `seconds`.
    pub(crate) fn stats(&self, cases: u64, failing: u64, seconds: f64) -> Stats {
        Stats {
            cases,
            requests: self.requests,
            seconds,
            requests_per_second: if seconds > 0.0 {
                self.requests as f64 / seconds
            } else {
                0.0
            },
            errors: self.errors.total(),
            failing_cases: failing,
            retries: self.retries,
            skipped: 0,
        }
    }
}

/// What sending one request came to: the usable answer or why there is none, and how many
/// requests went out for it.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) result: Result<RawResponse, SendError>,
    pub(crate) attempts: u32,
}

impl Delivery {
    fn answered(response: RawResponse, attempts: u32) -> Delivery {
        Delivery {
            result: Ok(response),
            attempts,
        }
    }

    fn failed(e: SendError, attempts: u32) -> Delivery {
        Delivery {
            result: Err(e),
            attempts,
        }
    }
}

/// Sends requests with the run's retry policy, shared pause and deadline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retrier<'a> {
    pub(crate) policy: &'a RetryPolicy,
    pub(crate) pace: &'a Pace,
    pub(crate) deadline: Instant,
}

impl Retrier<'_> {
    /// Sends `req` on `client` until it gets an answer that is not an overload, the retries
    /// run out, or the deadline leaves no time for the next one. Bounded: at most
    /// `max_retries + 1` requests, each within the client's timeout, and waits of at most
    /// `max_backoff` that end before the deadline.
    pub(crate) async fn send(&self, client: &mut Client, req: &Request) -> Delivery {
        let delivery = self.deliver(client, req).await;
        self.pace.count(delivery.result.is_ok());
        delivery
    }

    async fn deliver(&self, client: &mut Client, req: &Request) -> Delivery {
        let mut attempts = 0;
        let mut unavailable = false;
        loop {
            self.pace.wait(self.deadline).await;
            if let Some(bucket) = &self.pace.bucket {
                bucket.take(self.deadline).await;
            }
            attempts += 1;
            let response = match client.send(req).await {
                Ok(r) => r,
                Err(e) => return Delivery::failed(e.into(), attempts),
            };
            let status = response.status;
            let streak = self.pace.overloaded(matches!(status, 429 | 503));
            // A 503 once retried is the route's answer.
            if !(status == 429 || (status == 503 && !unavailable)) {
                return Delivery::answered(response, attempts);
            }
            if attempts > self.policy.max_retries {
                return match status {
                    429 => Delivery::failed(SendError::Overloaded { status, attempts }, attempts),
                    _ => Delivery::answered(response, attempts),
                };
            }
            let asked = retry_after(&response.headers, SystemTime::now());
            let mut wait = self.policy.wait(attempts - 1, self.pace.jitter(), asked);
            // A streak of overload answers: the target is overloaded, not one request. A server
            // that says when to come back (Retry-After) is taken at its word.
            let streaking = streak >= STREAK && asked.is_none();
            if streaking {
                // At most what a request's last retry waits.
                let doublings = (streak - STREAK).min(self.policy.max_retries);
                let longer = self.policy.backoff_for(doublings, self.pace.jitter());
                wait = wait.max(longer);
            }
            let in_time = Instant::now()
                .checked_add(wait)
                .is_some_and(|t| t < self.deadline);
            if !in_time {
                return Delivery::failed(SendError::Deadline { status }, attempts);
            }
            unavailable |= status == 503;
            if status == 429 || asked.is_some() || streaking {
                self.pace.pause(wait);
            } else {
                tokio::time::sleep(wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 10,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
        };
        assert_eq!(p.backoff_for(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff_for(0, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff_for(2, 0.5), Duration::from_millis(300));
        assert_eq!(p.backoff_for(9, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff_for(u32::MAX, 1.0), Duration::from_millis(1000));
        // Retry-After wins when longer, within the cap.
        let asked = Some(Duration::from_millis(700));
        assert_eq!(p.wait(0, 0.0, asked), Duration::from_millis(700));
        assert_eq!(
            p.wait(0, 0.0, Some(Duration::from_secs(3600))),
            p.max_backoff
        );
        assert_eq!(
            p.wait(3, 1.0, Some(Duration::ZERO)),
            Duration::from_millis(800)
        );
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let pace = Pace::new(&RetryPolicy::default(), 7, 3);
        let draws: Vec<f64> = (0..1000).map(|_| pace.jitter()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }

    #[test]
    fn a_target_that_stopped_answering_stays_stopped() {
        let pace = Pace::new(&RetryPolicy::default(), 0, 3);
        for usable in [false, false, true, false, false] {
            pace.count(usable);
        }
        assert!(!pace.stopped(), "an answer ends a run of failures");
        pace.count(false);
        assert!(pace.stopped());
        pace.count(true);
        assert!(pace.stopped(), "stopped is for good");
    }

    #[test]
    fn retry_after_takes_the_first_field_and_odd_values_are_ignored() {
        let now = SystemTime::UNIX_EPOCH;
        let headers = vec![
            (b"Retry-After".to_vec(), b" 3 ".to_vec()),
            (b"retry-after".to_vec(), b"9".to_vec()),
        ];
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3)));
        let odd = |v: &[u8]| retry_after(&[(b"Retry-After".to_vec(), v.to_vec())], now);
        assert_eq!(
            odd(b"99999999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(odd(b"\xff"), None);
        assert_eq!(odd(b"1.5"), None);
        assert_eq!(odd(b""), None);
    }
}
