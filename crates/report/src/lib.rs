//! Report renderers: JSON (the contract of shared/design/cli.md), text for people, JUnit XML
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
//!     seed: 7, cases: 0, findings: vec![], stats: Stats::default() };
//! assert!(text(&r, Style { colour: false }).contains("conforms"));
//! assert!(junit(&r).contains("failures=\"0\""));
//! assert!(sarif(&r).contains("\"version\": \"2.1.0\""));
//! assert!(json(&r).contains("\"seed\": 7"));
//! ```

pub mod finding;
mod junit;
mod sarif;
mod text;

pub use self::junit::junit;
pub use self::sarif::{sarif, sarif_with_lines};
pub use self::text::{text, Style};

use crate::finding::{kinds, Finding, Report, Severity};

/// The JSON report (shared/design/cli.md, `check` JSON report).
///
/// ```
/// use corsproof_report::finding::{Report, Stats};
/// use corsproof_report::json;
/// let r = Report { target: "http://127.0.0.1:1".into(), policy: Some("p.toml".into()), seed: 1,
///     cases: 0, findings: vec![], stats: Stats::default() };
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
    /// The kind's stable word.
    kind: &'a str,
    /// Its severity: from [`kinds::ALL`] for a `check` kind, else the most severe of its
    /// findings.
    severity: Severity,
    /// Whether `severity` is the `check` kind's own (from [`kinds::ALL`]); otherwise it is
    /// the most severe of the findings seen so far.
    fixed_severity: bool,
    /// Its one-line meaning: from [`kinds::ALL`] for a `check` kind, from
    /// [`audit::kinds::ALL`](crate::finding::audit_kinds::ALL) for an `audit` kind, none for any
    /// other.
    meaning: Option<&'static str>,
    /// Its findings.
    findings: Vec<&'a Finding>,
}

/// Every `check` kind in [`kinds::ALL`] order, then every other kind present in the findings
/// (e.g. `audit` kinds) in order of first appearance, each with its findings.
fn kind_entries(report: &Report) -> Vec<KindEntry<'_>> {
    let mut entries: Vec<KindEntry<'_>> = kinds::ALL
        .iter()
        .map(|&(kind, severity, meaning)| KindEntry {
            kind,
            severity,
            fixed_severity: true,
            meaning: Some(meaning),
            findings: Vec::new(),
        })
        .collect();
    for finding in &report.findings {
        match entries.iter_mut().find(|e| e.kind == finding.kind) {
            Some(entry) => {
                if !entry.fixed_severity {
                    entry.severity = entry.severity.min(finding.severity);
                }
                entry.findings.push(finding);
            }
            None => entries.push(KindEntry {
                kind: &finding.kind,
                severity: finding.severity,
                fixed_severity: false,
                meaning: crate::finding::audit_kinds::ALL
                    .iter()
                    .find(|(kind, _, _)| *kind == finding.kind)
                    .map(|(_, _, meaning)| *meaning),
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
fn distinct_profiles<'a>(findings: &[&'a Finding]) -> Vec<&'a str> {
    let mut profiles: Vec<&str> = Vec::new();
    for profile in findings.iter().flat_map(|f| f.profiles.iter()) {
        if !profiles.contains(&profile.as_str()) {
            profiles.push(profile);
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
fn is_cors_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("access-control-") || lower == "vary"
}
