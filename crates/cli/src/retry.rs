//! The retry flags of `check`, `run` and `audit`: how overload answers (429 Too Many Requests,
//! 503 Service Unavailable) are retried before they count as target errors.

use std::time::Duration;

use corsproof_engine::retry::RetryPolicy;

/// How overload answers are retried (`corsproof_engine::retry`).
#[derive(Debug, Clone, clap::Args)]
pub struct RetryFlags {
    /// Retries of a request answered 429 Too Many Requests or 503 Service Unavailable. A 429
    /// that persists is a target error, never a CORS verdict; a 503 is retried once, and one
    /// that repeats is the route's answer and is judged. A server asking to slow down pauses
    /// the whole run.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Back-off before the first retry, in milliseconds; it doubles with each retry (with
    /// jitter), is at least what the server's Retry-After asks, and at most 30 s.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=30_000))]
    pub backoff_ms: u64,
}

impl RetryFlags {
    /// The engine's retry policy.
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.retries,
            backoff: Duration::from_millis(self.backoff_ms),
            ..RetryPolicy::default()
        }
    }
}
