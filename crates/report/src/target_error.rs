//! Target errors: the requests of a run that got no usable answer (no response, a malformed
//! one, or an overload answer that persisted after the retries). They are not findings: the
//! target's CORS behaviour on those requests is unknown, so a report lists them apart, with
//! the request as sent and how many times each went wrong, and a run with too many of them
//! ([`ErrorBudget`]) gives no verdict.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::finding::SentRequest;

/// What went wrong with a request that got no usable answer.
///
/// ```
/// use corsproof_report::TargetErrorKind;
/// assert_eq!(serde_json::to_string(&TargetErrorKind::TooLarge).unwrap(), "\"too-large\"");
/// assert_eq!(TargetErrorKind::Overloaded.as_str(), "overloaded");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetErrorKind {
    /// No complete response within the per-request timeout.
    Timeout,
    /// The connection was closed or reset before a complete response arrived.
    Closed,
    /// The response is not valid HTTP/1.1.
    Malformed,
    /// A part of the response exceeded its size limit.
    TooLarge,
    /// The TLS handshake failed.
    Tls,
    /// The connection could not be opened, or a read or write failed.
    Io,
    /// The request could not be written as HTTP/1.1.
    Unsendable,
    /// The target kept answering that it is overloaded (429 Too Many Requests, or a 503 that
    /// could not be retried in time) until the retries or the run's deadline ran out.
    Overloaded,
}

impl TargetErrorKind {
    /// Every kind, in the order reports list them.
    pub const ALL: &'static [TargetErrorKind] = &[
        TargetErrorKind::Timeout,
        TargetErrorKind::Closed,
        TargetErrorKind::Malformed,
        TargetErrorKind::TooLarge,
        TargetErrorKind::Tls,
        TargetErrorKind::Io,
        TargetErrorKind::Unsendable,
        TargetErrorKind::Overloaded,
    ];

    /// The stable word (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            TargetErrorKind::Timeout => "timeout",
            TargetErrorKind::Closed => "closed",
            TargetErrorKind::Malformed => "malformed",
            TargetErrorKind::TooLarge => "too-large",
            TargetErrorKind::Tls => "tls",
            TargetErrorKind::Io => "io",
            TargetErrorKind::Unsendable => "unsendable",
            TargetErrorKind::Overloaded => "overloaded",
        }
    }
}

impl fmt::Display for TargetErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One distinct target error: its kind, what went wrong, the request as sent, and how many
/// requests of the run failed the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetError {
    /// What kind of failure.
    pub kind: TargetErrorKind,
    /// What went wrong, in words.
    pub error: String,
    /// The request as sent (the first one that failed this way).
    pub request: SentRequest,
    /// How many requests of the run failed with this kind and error, on this method and URL.
    pub count: u64,
}

impl TargetError {
    /// Whether `self` stands for failures of `kind` with `error` on `request`'s method and URL.
    fn is(&self, kind: TargetErrorKind, error: &str, request: &SentRequest) -> bool {
        self.kind == kind
            && self.error == error
            && self.request.method == request.method
            && self.request.url == request.url
    }
}

/// The target errors of a run, bounded: at most [`TargetErrors::MAX_LISTED`] distinct ones
/// (same kind, error, method and URL) are listed, in order of first occurrence, each with its
/// count; the failures of the others are only counted ([`TargetErrors::unlisted`]).
///
/// ```
/// use corsproof_report::{SentRequest, TargetErrorKind, TargetErrors};
/// let get = SentRequest::new("GET", "http://127.0.0.1:8080/api/");
/// let mut errors = TargetErrors::default();
/// errors.record(TargetErrorKind::Timeout, "timed out after 1s", &get);
/// errors.record(TargetErrorKind::Timeout, "timed out after 1s", &get.clone().header("Origin", "https://a.test"));
/// assert_eq!((errors.listed.len(), errors.listed[0].count, errors.total()), (1, 2, 2));
/// let json = serde_json::to_value(&errors)?;
/// assert_eq!(json["listed"][0]["kind"], "timeout");
/// assert_eq!(json["unlisted"], 0);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TargetErrors {
    /// The distinct target errors, in order of first occurrence.
    pub listed: Vec<TargetError>,
    /// Failed requests not listed: their distinct error came after the list was full.
    pub unlisted: u64,
}

impl TargetErrors {
    /// The most distinct target errors a report lists.
    pub const MAX_LISTED: usize = 32;

    /// Counts one failed request.
    pub fn record(&mut self, kind: TargetErrorKind, error: &str, request: &SentRequest) {
        self.add(kind, error, request, 1);
    }

    /// Counts `count` failed requests of one distinct error.
    fn add(&mut self, kind: TargetErrorKind, error: &str, request: &SentRequest, count: u64) {
        if let Some(e) = self.listed.iter_mut().find(|e| e.is(kind, error, request)) {
            e.count += count;
        } else if self.listed.len() < Self::MAX_LISTED {
            self.listed.push(TargetError {
                kind,
                error: error.to_string(),
                request: request.clone(),
                count,
            });
        } else {
            self.unlisted += count;
        }
    }

    /// Adds the failures of `other` (after those of `self`, for the order of the list).
    ///
    /// ```
    /// use corsproof_report::{SentRequest, TargetErrorKind, TargetErrors};
    /// let mut a = TargetErrors::default();
    /// let mut b = TargetErrors::default();
    /// a.record(TargetErrorKind::Closed, "closed", &SentRequest::new("GET", "http://h/a"));
    /// b.record(TargetErrorKind::Closed, "closed", &SentRequest::new("GET", "http://h/a"));
    /// b.record(TargetErrorKind::Io, "refused", &SentRequest::new("GET", "http://h/b"));
    /// a.merge(b);
    /// assert_eq!(a.listed.iter().map(|e| e.count).collect::<Vec<_>>(), [2, 1]);
    /// ```
    pub fn merge(&mut self, other: TargetErrors) {
        for e in other.listed {
            self.add(e.kind, &e.error, &e.request, e.count);
        }
        self.unlisted += other.unlisted;
    }

    /// Failed requests in all, listed or not.
    pub fn total(&self) -> u64 {
        self.listed.iter().map(|e| e.count).sum::<u64>() + self.unlisted
    }

    /// Whether no request failed.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }
}

/// How many failed requests a run may have and still give a verdict: a count, or a percentage
/// of the requests it tried. Written `N` or `P%` (`5`, `0.5%`).
///
/// ```
/// use corsproof_report::ErrorBudget;
/// let budget: ErrorBudget = "1%".parse()?;
/// assert!(!budget.exceeded(10, 1000));
/// assert!(budget.exceeded(11, 1000));
/// let none: ErrorBudget = "0".parse()?;
/// assert!(none.exceeded(1, 1_000_000) && !none.exceeded(0, 10));
/// assert_eq!(budget.to_string(), "1%");
/// assert!("-1".parse::<ErrorBudget>().is_err() && "101%".parse::<ErrorBudget>().is_err());
/// # Ok::<(), corsproof_report::BudgetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ErrorBudget {
    /// At most this many failed requests.
    Count(u64),
    /// At most this percentage (0 to 100) of the requests tried.
    Percent(f64),
}

impl ErrorBudget {
    /// Whether `failed` of `tried` requests is more than the budget allows.
    pub fn exceeded(self, failed: u64, tried: u64) -> bool {
        match self {
            ErrorBudget::Count(n) => failed > n,
            ErrorBudget::Percent(p) => failed as f64 > tried as f64 * p / 100.0,
        }
    }
}

impl Default for ErrorBudget {
    /// 1 % of the requests tried.
    fn default() -> Self {
        ErrorBudget::Percent(1.0)
    }
}

impl fmt::Display for ErrorBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorBudget::Count(n) => write!(f, "{n}"),
            ErrorBudget::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Why a text is not an [`ErrorBudget`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// Neither a whole number nor a percentage.
    #[error("{0:?} is not a number of requests (N) or a percentage (P%)")]
    NotANumber(String),
    /// A percentage outside 0 to 100.
    #[error("{0:?} is not a percentage from 0% to 100%")]
    OutOfRange(String),
}

impl FromStr for ErrorBudget {
    type Err = BudgetError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let not_a_number = || BudgetError::NotANumber(s.to_string());
        match text.strip_suffix('%') {
            Some(p) => {
                // Digits and at most one dot only: no sign, exponent, `inf` or `NaN`.
                let plain = !p.is_empty()
                    && p.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && p.bytes().filter(|&b| b == b'.').count() <= 1
                    && p != ".";
                if !plain {
                    return Err(not_a_number());
                }
                let p: f64 = p.parse().map_err(|_| not_a_number())?;
                if p > 100.0 {
                    return Err(BudgetError::OutOfRange(s.to_string()));
                }
                Ok(ErrorBudget::Percent(p))
            }
            None => text
                .parse()
                .map(ErrorBudget::Count)
                .map_err(|_| not_a_number()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_bounded_and_counts_the_rest() {
        let mut errors = TargetErrors::default();
        for i in 0..TargetErrors::MAX_LISTED + 10 {
            let request = SentRequest::new("GET", format!("http://h/{i}"));
            errors.record(TargetErrorKind::Closed, "closed", &request);
            errors.record(TargetErrorKind::Closed, "closed", &request);
        }
        assert_eq!(errors.listed.len(), TargetErrors::MAX_LISTED);
        assert_eq!(errors.unlisted, 20);
        assert_eq!(errors.total(), 2 * (TargetErrors::MAX_LISTED as u64 + 10));
    }

    #[test]
    fn distinct_means_kind_error_method_and_url() {
        let mut errors = TargetErrors::default();
        let get = SentRequest::new("GET", "http://h/a");
        errors.record(TargetErrorKind::Closed, "closed", &get);
        errors.record(TargetErrorKind::Timeout, "closed", &get);
        errors.record(TargetErrorKind::Closed, "reset", &get);
        errors.record(
            TargetErrorKind::Closed,
            "closed",
            &SentRequest::new("PUT", "http://h/a"),
        );
        errors.record(
            TargetErrorKind::Closed,
            "closed",
            &SentRequest::new("GET", "http://h/b"),
        );
        errors.record(
            TargetErrorKind::Closed,
            "closed",
            &get.clone().header("X", "1"),
        );
        assert_eq!(errors.listed.len(), 5);
        assert_eq!(errors.listed[0].count, 2);
    }

    #[test]
    fn budgets_parse_strictly() {
        assert_eq!("5".parse(), Ok(ErrorBudget::Count(5)));
        assert_eq!(" 0.5% ".parse(), Ok(ErrorBudget::Percent(0.5)));
        assert_eq!("100%".parse(), Ok(ErrorBudget::Percent(100.0)));
        for bad in [
            "", "%", ".%", "x", "-1", "1.5", "+1%", "1e2%", "inf%", "NaN%", "1..2%",
        ] {
            assert!(
                matches!(bad.parse::<ErrorBudget>(), Err(BudgetError::NotANumber(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "100.1%".parse::<ErrorBudget>(),
            Err(BudgetError::OutOfRange(_))
        ));
        assert!(!ErrorBudget::Percent(100.0).exceeded(0, 0));
        assert!(!ErrorBudget::Percent(100.0).exceeded(10, 10));
        assert!(ErrorBudget::Percent(0.0).exceeded(1, 10));
    }
}
