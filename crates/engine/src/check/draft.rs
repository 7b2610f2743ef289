//! A finding in the making: what one check found on one case, before it becomes a report's
//! [`Finding`] (with the case's request and route) or is merged into a group.

use corsproof_case::RequestJson;
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::{RequestInit, RuleId};
use corsproof_report::{CheckKind, Finding, SeenResponse, SentRequest};

/// What one check found on one case.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) kind: CheckKind,
    /// The profiles under which this case shows it.
    pub(crate) profiles: Vec<ProfileId>,
    pub(crate) exchanges: Vec<(SentRequest, SeenResponse)>,
    pub(crate) expected: String,
    pub(crate) observed: String,
    /// The rule departed from: one of [`CheckKind::rules`].
    pub(crate) rule: RuleId,
    /// The browser rule that decided the outcome, for findings about the browser's outcome.
    pub(crate) decided_by: Option<RuleId>,
    pub(crate) explanation: String,
}

impl Draft {
    /// The report's finding of this draft on `case`, under `route`.
    pub(crate) fn finding(self, case: &RequestInit, route: Option<String>) -> Finding {
        debug_assert!(
            self.kind.rules().contains(&self.rule),
            "{} cites {}",
            self.kind,
            self.rule
        );
        let response = self
            .exchanges
            .last()
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        let reproduce = self
            .exchanges
            .iter()
            .map(|(s, _)| s.curl())
            .collect::<Vec<_>>()
            .join("\n");
        let mut profiles = self.profiles;
        profiles.sort();
        Finding {
            kind: self.kind.into(),
            severity: self.kind.severity(),
            route,
            profiles,
            request: RequestJson::from_init(case).into(),
            exchanges: self.exchanges,
            response,
            expected: self.expected,
            observed: self.observed,
            rule: Some(self.rule),
            decided_by: self.decided_by.filter(|by| *by != self.rule),
            reproduce,
            explanation: self.explanation,
            confirmed: Default::default(),
        }
    }
}

/// Adds `draft` to `drafts`, unless one of the same kind and expectation is there: then only
/// its profiles are added to that one's.
pub(crate) fn add(drafts: &mut Vec<Draft>, draft: Draft) {
    match drafts
        .iter_mut()
        .find(|d| d.kind == draft.kind && d.expected == draft.expected)
    {
        Some(kept) => {
            for p in draft.profiles {
                if !kept.profiles.contains(&p) {
                    kept.profiles.push(p);
                }
            }
        }
        None => drafts.push(draft),
    }
}
