//! The browser's outcome against the policy's intent: each departure the oracle's judge
//! reports ([`Mismatch`]) becomes a draft finding of the kind that names it.

use corsproof_case::explain_reason;
use corsproof_oracle::intent::Mismatch;
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
                explanation: format!(
                    "{} (policy rule {}; decisive browser rule {}: {why})",
                    kind.meaning(),
                    m.rule(),
                    played.decided_by()
                ),
            }
        })
        .collect()
}
