//! The browser's outcome against the policy's intent: each departure the oracle's judge
//! reports ([`Mismatch`]) becomes a draft finding of the kind that names it.

use corsproof_case::explain_reason;
use corsproof_oracle::intent::{Mismatch, Tri};
use corsproof_oracle::RequestInit;
use corsproof_report::CheckKind;

use super::draft::Draft;
use super::exchange::seen_pairs;
use super::play::Played;

/// The kind of finding a departure is: by what departed, and whether the browser granted more
/// or less than the policy.
pub(crate) fn kind_of(m: &Mismatch) -> CheckKind {
    match (m, m.grants()) {
        (Mismatch::Sent { .. }, true) => CheckKind::SentForbidden,
        (Mismatch::Sent { .. }, false) => CheckKind::SentBlocked,
        (Mismatch::Readable { .. }, true) => CheckKind::ReadGranted,
        (Mismatch::Readable { .. }, false) => CheckKind::ReadDenied,
        (Mismatch::Exposed { .. }, true) => CheckKind::HeaderExposed,
        (Mismatch::Exposed { .. }, false) => CheckKind::HeaderHidden,
        (Mismatch::Cache { .. }, _) => CheckKind::CacheTooLong,
    }
}

/// What the intent says and what the browser did, as the report words them.
fn expected_observed(m: &Mismatch) -> (String, String) {
    let observed = m.grants();
    match m {
        Mismatch::Sent { expected } => (
            format!("sent: {}", expected.as_str()),
            format!("sent: {observed}"),
        ),
        Mismatch::Readable { expected, .. } => (
            format!("readable: {}", expected.as_str()),
            format!("readable: {observed}"),
        ),
        Mismatch::Exposed { name, expected } => (
            format!("exposed {name}: {}", expected.as_str()),
            format!("exposed {name}: {observed}"),
        ),
        Mismatch::Cache {
            max_seconds,
            seconds,
        } => (
            format!("cache: at most {max_seconds} s"),
            format!("cache: {seconds} s"),
        ),
    }
}

/// What the policy says, as the second half of a finding's explanation (the first is what
/// the browser did and why).
fn intended(m: &Mismatch) -> String {
    match m {
        Mismatch::Sent { expected } if *expected == Tri::MustNot => {
            "The policy does not let this request pass its preflight".to_string()
        }
        Mismatch::Sent { .. } => "The policy lets this request pass its preflight".to_string(),
        Mismatch::Readable { expected, .. } if *expected == Tri::MustNot => {
            "The policy does not grant this origin a read".to_string()
        }
        Mismatch::Readable { .. } => "The policy grants this origin a read".to_string(),
        Mismatch::Exposed { name, expected } if *expected == Tri::MustNot => {
            format!("The policy does not expose {name}")
        }
        Mismatch::Exposed { name, .. } => format!("The policy exposes {name}"),
        Mismatch::Cache { max_seconds, .. } => {
            format!("The policy lets a browser cache this preflight for {max_seconds} s at most")
        }
    }
}

/// The drafts of one profile's play of `case`.
pub(crate) fn drafts(played: &Played, case: &RequestInit) -> Vec<Draft> {
    if played.mismatches.is_empty() {
        return Vec::new();
    }
    // Explained once per play: most plays conform and pay nothing.
    let why = explain_reason(
        played.reason,
        played.last(),
        Some(case.origin.serialization()),
    );
    played
        .mismatches
        .iter()
        .map(|m| {
            let kind = kind_of(m);
            let (expected, observed) = expected_observed(m);
            Draft {
                kind,
                profiles: vec![played.profile],
                exchanges: seen_pairs(&played.exchanges),
                expected,
                observed,
                rule: m.rule(),
                decided_by: Some(played.decided_by()),
                explanation: format!("{why} {} ({}).", intended(m), m.rule()),
            }
        })
        .collect()
}
