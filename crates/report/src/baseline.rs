//! Drift against a saved report (`check --baseline REPORT.json`): the findings a run has that
//! the saved one had not, and how many of the saved ones went away.

use std::collections::BTreeSet;

use corsproof_case::CredentialsJson;

use crate::finding::{Finding, Report};
use crate::kind::Kind;

/// What makes two findings of different runs the same finding: its kind, its route, and the
/// essentials of its browser request: the origin, the method, the URL's path, whether it
/// carries credentials, the names of the headers script set (lowercase, sorted) and whether it
/// goes to a more private address space. Header values, the target's host and port, the
/// answers and the seed are left out, so a finding keeps its identity across deployments of
/// the same routes; a run with the same `--seed` shrinks a defect to the same request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingId {
    /// The kind.
    pub kind: Kind,
    /// The route's name or path.
    pub route: Option<String>,
    /// The requesting origin.
    pub origin: String,
    /// The method as script wrote it.
    pub method: String,
    /// The URL's path and query.
    pub path: String,
    /// `credentials: "include"`.
    pub credentialed: bool,
    /// The names of the headers script set, lowercase, sorted, deduplicated.
    pub headers: Vec<String>,
    /// Sent to a more private address space.
    pub private_network: bool,
}

impl FindingId {
    /// The identity of `finding`.
    ///
    /// ```
    /// use corsproof_report::baseline::FindingId;
    /// # use corsproof_report::finding::Finding;
    /// # fn check(a: &Finding) {
    /// assert_eq!(FindingId::of(a), FindingId::of(&a.clone()));
    /// # }
    /// ```
    pub fn of(finding: &Finding) -> FindingId {
        let case = &finding.request.case;
        let headers: BTreeSet<String> = case
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        FindingId {
            kind: finding.kind,
            route: finding.route.clone(),
            origin: case.origin.clone(),
            method: case.method.clone(),
            path: path_of(&case.url).to_string(),
            credentialed: case.credentials == Some(CredentialsJson::Include),
            headers: headers.into_iter().collect(),
            private_network: case.private_network,
        }
    }
}

/// The path (and query) of a URL: what follows its authority.
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("/", |at| &rest[at..])
}

/// What `--baseline` keeps of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drift {
    /// Findings of the run the baseline already had (left out of the report).
    pub known: usize,
    /// Findings of the baseline the run no longer has.
    pub gone: usize,
}

/// Keeps in `report` only the findings whose [`FindingId`] the `baseline` report has not, and
/// counts those left out and the baseline's findings the run no longer has.
///
/// ```
/// use corsproof_report::baseline::{drift, Drift};
/// use corsproof_report::finding::{Report, Stats};
/// let empty = Report { target: "http://127.0.0.1:1".into(), policy: None, seed: 1, cases: 0,
///     findings: vec![], target_errors: Default::default(), coverage: Default::default(),
///     stats: Stats::default(), confirm: None };
/// let mut run = empty.clone();
/// assert_eq!(drift(&mut run, &empty), Drift { known: 0, gone: 0 });
/// ```
pub fn drift(report: &mut Report, baseline: &Report) -> Drift {
    let saved: BTreeSet<FindingId> = baseline.findings.iter().map(FindingId::of).collect();
    let now: BTreeSet<FindingId> = report.findings.iter().map(FindingId::of).collect();
    let before = report.findings.len();
    report
        .findings
        .retain(|f| !saved.contains(&FindingId::of(f)));
    Drift {
        known: before - report.findings.len(),
        gone: saved.difference(&now).count(),
    }
}
