//! # corsproof-report
//!
//! The finding model of `check` and `audit` ([`finding`], [`kind`]) and its renderers: JSON
//! (the report contract of `docs/cli.md`), text for people, JUnit XML
//! and SARIF 2.1.0 for CI systems and code-scanning dashboards.
//!
//! Every renderer is a pure function of a [`Report`]: no I/O, no clock, so the same report
//! always renders to the same bytes. Every string in a report may come from a hostile target
//! (header values are whatever the server sent); each renderer keeps its output well-formed
//! and, for [`text()`], safe to print on a terminal.
//!
//! ```
//! use corsproof_report::finding::{Report, Stats};
//! use corsproof_report::{json, junit, sarif, text, Style};
//! let r = Report { target: "http://127.0.0.1:8080".into(), policy: Some("p.toml".into()),
//!     seed: 7, cases: 0, findings: vec![], target_errors: Default::default(), coverage: Default::default(), stats: Stats::default(), confirm: None };
//! assert!(text(&r, Style { colour: false }).contains("conforms"));
//! assert!(junit(&r).contains("failures=\"0\""));
//! assert!(sarif(&r).contains("\"version\": \"2.1.0\""));
//! assert!(json(&r).contains("\"seed\": 7"));
//! ```

#![deny(missing_docs)]

pub mod baseline;
pub mod confirm;
pub mod finding;
mod junit;
pub mod kind;
pub mod latin1;
mod sarif;
pub mod target_error;
mod text;

pub use self::junit::junit;
pub use self::sarif::{sarif, sarif_with_lines};
pub use self::text::{text, Style};
pub use confirm::{
    ConfirmBrowser, ConfirmRun, Confirmation, Confirmations, NotReplayable, Observed,
};
pub use finding::{
    Coverage, Finding, FindingRequest, Report, RouteCoverage, SeenResponse, SentRequest, Stats,
};
pub use kind::{AuditKind, CheckKind, Kind, Severity};
pub use target_error::{BudgetError, ErrorBudget, TargetError, TargetErrorKind, TargetErrors};

/// The JSON report (the `check` JSON report of `docs/cli.md`).
///
/// ```
/// use corsproof_report::finding::{Report, Stats};
/// use corsproof_report::json;
/// let r = Report { target: "http://127.0.0.1:1".into(), policy: Some("p.toml".into()), seed: 1,
///     cases: 0, findings: vec![], target_errors: Default::default(), coverage: Default::default(), stats: Stats::default(), confirm: None };
/// assert!(json(&r).contains("\"policy\": \"p.toml\""));
/// ```
pub fn json(report: &Report) -> String {
    let mut out =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}

/// One kind as the renderers show it, with the findings of that kind in report order.
struct KindEntry<'a> {
    kind: Kind,
    /// For a `check` kind its own severity; otherwise the most severe of its findings.
    severity: Severity,
    /// Its findings.
    findings: Vec<&'a Finding>,
}

/// Every `check` kind in [`CheckKind::ALL`] order, then every other kind present in the
/// findings (`audit` kinds) in order of first appearance, each with its findings.
fn kind_entries(report: &Report) -> Vec<KindEntry<'_>> {
    let mut entries: Vec<KindEntry<'_>> = CheckKind::ALL
        .iter()
        .map(|&kind| KindEntry {
            kind: Kind::Check(kind),
            severity: kind.severity(),
            findings: Vec::new(),
        })
        .collect();
    for finding in &report.findings {
        match entries.iter_mut().find(|e| e.kind == finding.kind) {
            Some(entry) => {
                if let Kind::Audit(_) = entry.kind {
                    entry.severity = entry.severity.min(finding.severity);
                }
                entry.findings.push(finding);
            }
            None => entries.push(KindEntry {
                kind: finding.kind,
                severity: finding.severity,
                findings: vec![finding],
            }),
        }
    }
    entries
}

/// The distinct routes of `findings`, in order of first appearance (findings without a route
/// are skipped).
fn distinct_routes<'a>(findings: &[&'a Finding]) -> Vec<&'a str> {
    let mut routes: Vec<&str> = Vec::new();
    for route in findings.iter().filter_map(|f| f.route.as_deref()) {
        if !routes.contains(&route) {
            routes.push(route);
        }
    }
    routes
}

/// The distinct browser profiles of `findings`, in order of first appearance.
fn distinct_profiles(findings: &[&Finding]) -> Vec<&'static str> {
    let mut profiles: Vec<&'static str> = Vec::new();
    for profile in findings.iter().flat_map(|f| f.profiles.iter()) {
        if !profiles.contains(&profile.as_str()) {
            profiles.push(profile.as_str());
        }
    }
    profiles
}

/// How many findings of each severity: (violation, breakage, hygiene).
fn severity_counts(report: &Report) -> (usize, usize, usize) {
    report
        .findings
        .iter()
        .fold((0, 0, 0), |(v, b, h), f| match f.severity {
            Severity::Violation => (v + 1, b, h),
            Severity::Breakage => (v, b + 1, h),
            Severity::Hygiene => (v, b, h + 1),
        })
}

/// `n` followed by `word`, with an `s` when `n` is not 1.
fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Whether a response header is one a CORS reader cares about: `Access-Control-*` and `Vary`.
fn is_cors_header(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with(b"access-control-") || lower == b"vary"
}
