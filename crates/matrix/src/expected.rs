//! The expected matrix: the findings of every cell in a compact, deterministic form that a
//! repository checks in (`corpus/matrix/expected.json`), and the comparison of a run with it,
//! cell by cell (`corsproof matrix --expect FILE`).
//!
//! A cell is recorded as the sorted list of its findings, each one [`Entry`]: which part of
//! the cell it is in (inexpressible or diverges), its kind, its route and the known behaviour
//! it is an instance of. Versions, timings, request counts and the requests themselves are
//! left out: they change without the outcome changing. A cell whose target refused the
//! policy is the string `"refused"`.
//!
//! ```
//! use corsproof_matrix::expected::Expected;
//! let text = r#"{"seed": 1, "cases": 5, "cells": {"flask": {"pna": [
//!   {"part": "diverges", "kind": "missing-vary-denial", "route": "api", "known": "vary-only-when-allowed"}
//! ]}}}"#;
//! let expected = Expected::parse(text)?;
//! assert_eq!(expected.cells["flask"]["pna"].entries().map(<[_]>::len), Some(1));
//! // Rendering is stable: parsing the rendered text gives the same matrix.
//! assert_eq!(Expected::parse(&expected.render())?, expected);
//! # Ok::<(), corsproof_matrix::expected::ExpectedError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use corsproof_report::Kind;
use serde::{Deserialize, Serialize};

use crate::known::Id;
use crate::{policy_label, Matrix, Outcome};

/// Which part of a cell a finding is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// Explained by an item the emitter announced.
    Inexpressible,
    /// Not explained by any announced item.
    Diverges,
}

impl Part {
    /// The kebab-case word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Part::Inexpressible => "inexpressible",
            Part::Diverges => "diverges",
        }
    }
}

/// One finding of a cell, as the expected matrix records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Inexpressible or diverges.
    pub part: Part,
    /// The finding's kind.
    pub kind: Kind,
    /// The route's label (`None` for a request under no route).
    pub route: Option<String>,
    /// The known behaviour a divergence is an instance of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<Id>,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} on route {}",
            self.part.as_str(),
            self.kind,
            self.route.as_deref().unwrap_or("(none)")
        )?;
        match self.known {
            Some(id) => write!(f, " (known: {id})"),
            None if self.part == Part::Diverges => f.write_str(" (not a known behaviour)"),
            None => Ok(()),
        }
    }
}

/// What one cell came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedCell {
    /// Checked, with these findings (sorted).
    Checked(Vec<Entry>),
    /// The target's emitter refused the policy.
    Refused,
}

impl ExpectedCell {
    /// The findings of a checked cell.
    pub fn entries(&self) -> Option<&[Entry]> {
        match self {
            ExpectedCell::Checked(entries) => Some(entries),
            ExpectedCell::Refused => None,
        }
    }
}

/// The expected matrix: seed and cases of the run it records, and per target and policy
/// (the policy file's stem, `mixed-routes`) the cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The seed of every check.
    pub seed: u64,
    /// Generated cases per check.
    pub cases: usize,
    /// Target name → policy label → cell.
    pub cells: BTreeMap<String, BTreeMap<String, ExpectedCell>>,
}

/// Why an expected matrix could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExpectedError {
    /// Not JSON, or not the expected matrix's shape.
    #[error("not an expected matrix ({{\"seed\", \"cases\", \"cells\"}}): {0}")]
    Shape(serde_json::Error),
    /// A cell is neither a list of findings nor `"refused"`.
    #[error("cell {target} x {policy}: {why}")]
    Cell {
        /// The target.
        target: String,
        /// The policy label.
        policy: String,
        /// What is wrong with it.
        why: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    seed: u64,
    cases: usize,
    cells: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

impl Expected {
    /// The expected form of a run: every checked or refused cell (a failed cell has no
    /// expected form and is left out).
    pub fn from_matrix(matrix: &Matrix) -> Expected {
        let mut cells: BTreeMap<String, BTreeMap<String, ExpectedCell>> = BTreeMap::new();
        for cell in &matrix.cells {
            let Some(expected) = of_outcome(&cell.outcome) else {
                continue;
            };
            cells
                .entry(cell.target.to_string())
                .or_default()
                .insert(policy_label(&cell.policy).to_string(), expected);
        }
        Expected {
            seed: matrix.seed,
            cases: matrix.cases,
            cells,
        }
    }

    /// Reads the JSON form ([`Expected::render`]).
    pub fn parse(text: &str) -> Result<Expected, ExpectedError> {
        let raw: Raw = serde_json::from_str(text).map_err(ExpectedError::Shape)?;
        let mut cells: BTreeMap<String, BTreeMap<String, ExpectedCell>> = BTreeMap::new();
        for (target, row) in raw.cells {
            for (policy, value) in row {
                let bad = |why: String| ExpectedError::Cell {
                    target: target.clone(),
                    policy: policy.clone(),
                    why,
                };
                let cell = match value {
                    serde_json::Value::String(s) if s == "refused" => ExpectedCell::Refused,
                    serde_json::Value::Array(_) => {
                        let mut entries: Vec<Entry> = serde_json::from_value(value)
                            .map_err(|e| bad(format!("a finding is malformed: {e}")))?;
                        entries.sort();
                        ExpectedCell::Checked(entries)
                    }
                    other => {
                        return Err(bad(format!(
                            "expected a list of findings or \"refused\", found {other}"
                        )))
                    }
                };
                cells
                    .entry(target.clone())
                    .or_default()
                    .insert(policy, cell);
            }
        }
        Ok(Expected {
            seed: raw.seed,
            cases: raw.cases,
            cells,
        })
    }

    /// The JSON form: sorted targets, policies and findings, one finding per line.
    pub fn render(&self) -> String {
        let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
        let mut out = format!(
            "{{\n  \"seed\": {},\n  \"cases\": {},\n  \"cells\": {{",
            self.seed, self.cases
        );
        for (t, (target, row)) in self.cells.iter().enumerate() {
            out.push_str(if t == 0 { "\n" } else { ",\n" });
            out.push_str(&format!("    {}: {{", q(target)));
            for (p, (policy, cell)) in row.iter().enumerate() {
                out.push_str(if p == 0 { "\n" } else { ",\n" });
                out.push_str(&format!("      {}: ", q(policy)));
                match cell {
                    ExpectedCell::Refused => out.push_str(&q("refused")),
                    ExpectedCell::Checked(entries) if entries.is_empty() => out.push_str("[]"),
                    ExpectedCell::Checked(entries) => {
                        let lines: Vec<String> = entries
                            .iter()
                            .map(|e| format!("        {}", entry_line(e)))
                            .collect();
                        out.push_str(&format!("[\n{}\n      ]", lines.join(",\n")));
                    }
                }
            }
            out.push_str(if row.is_empty() { "}" } else { "\n    }" });
        }
        out.push_str(if self.cells.is_empty() {
            "}\n}\n"
        } else {
            "\n  }\n}\n"
        });
        out
    }

    /// This matrix with the rows of `old` for `targets` (the targets a run could not start
    /// here), so that updating the file on a machine without them keeps what they gave.
    pub fn keeping(mut self, old: &Expected, targets: &[&str]) -> Expected {
        for target in targets {
            if let Some(row) = old.cells.get(*target) {
                self.cells.insert(target.to_string(), row.clone());
            }
        }
        self
    }

    /// Compares a run with this matrix: every cell of every target that ran, and every
    /// expected cell of those targets. Targets the run did not choose are not compared;
    /// targets it could not start are listed in [`Comparison::skipped`] when this matrix
    /// has cells for them.
    pub fn compare(&self, matrix: &Matrix) -> Comparison {
        let mut diffs = Vec::new();
        for info in &matrix.targets {
            let row = self.cells.get(info.target);
            let mut seen = Vec::new();
            for cell in matrix.cells.iter().filter(|c| c.target == info.target) {
                let policy = policy_label(&cell.policy).to_string();
                let expected = row.and_then(|r| r.get(&policy));
                seen.push(policy.clone());
                if let Some(diff) = cell_diff(expected, &cell.outcome) {
                    diffs.push(CellDiff {
                        target: info.target.to_string(),
                        policy,
                        diff,
                    });
                }
            }
            for (policy, cell) in row.into_iter().flatten() {
                if !seen.contains(policy) {
                    diffs.push(CellDiff {
                        target: info.target.to_string(),
                        policy: policy.clone(),
                        diff: Diff::NotRun(cell.clone()),
                    });
                }
            }
        }
        let skipped = matrix
            .skipped
            .iter()
            .filter(|s| self.cells.contains_key(s.target))
            .map(|s| (s.target.to_string(), s.reason.clone()))
            .collect();
        Comparison { diffs, skipped }
    }
}

/// One entry as a one-line JSON object (`known` only when there is one).
fn entry_line(e: &Entry) -> String {
    let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    let route = e.route.as_deref().map_or("null".to_string(), q);
    let known = e.known.map_or(String::new(), |id| {
        format!(", \"known\": {}", q(id.as_str()))
    });
    format!(
        "{{\"part\": {}, \"kind\": {}, \"route\": {route}{known}}}",
        q(e.part.as_str()),
        q(e.kind.as_str())
    )
}

/// The expected form of an outcome (`None` for a failed cell).
fn of_outcome(outcome: &Outcome) -> Option<ExpectedCell> {
    match outcome {
        Outcome::Checked {
            inexpressible,
            diverges,
            ..
        } => {
            let mut entries: Vec<Entry> = inexpressible
                .iter()
                .map(|f| Entry {
                    part: Part::Inexpressible,
                    kind: f.kind,
                    route: f.route.clone(),
                    known: None,
                })
                .chain(diverges.iter().map(|d| Entry {
                    part: Part::Diverges,
                    kind: d.finding.kind,
                    route: d.finding.route.clone(),
                    known: d.known.map(|k| k.id),
                }))
                .collect();
            entries.sort();
            Some(ExpectedCell::Checked(entries))
        }
        Outcome::Refused { .. } => Some(ExpectedCell::Refused),
        Outcome::Failed { .. } => None,
    }
}

/// How a cell of the run differs from its expected form, if it does.
fn cell_diff(expected: Option<&ExpectedCell>, outcome: &Outcome) -> Option<Diff> {
    if let Outcome::Failed { why } = outcome {
        return Some(Diff::Failed(why.clone()));
    }
    let actual = of_outcome(outcome)?;
    let Some(expected) = expected else {
        return Some(Diff::NotExpected(actual));
    };
    match (expected, &actual) {
        (ExpectedCell::Checked(old), ExpectedCell::Checked(new)) => {
            let added = minus(new, old);
            let removed = minus(old, new);
            (!added.is_empty() || !removed.is_empty()).then_some(Diff::Findings { added, removed })
        }
        (ExpectedCell::Refused, ExpectedCell::Refused) => None,
        _ => Some(Diff::Status {
            expected: expected.clone(),
            actual,
        }),
    }
}

/// The entries of `a` not matched one for one in `b` (both sorted).
fn minus(a: &[Entry], b: &[Entry]) -> Vec<Entry> {
    let mut rest: Vec<&Entry> = b.iter().collect();
    let mut out = Vec::new();
    for e in a {
        match rest.iter().position(|r| *r == e) {
            Some(i) => {
                rest.remove(i);
            }
            None => out.push(e.clone()),
        }
    }
    out
}

/// A run compared with the expected matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The cells that differ.
    pub diffs: Vec<CellDiff>,
    /// Targets with expected cells that could not run here, and why.
    pub skipped: Vec<(String, String)>,
}

/// One cell that differs from the expected matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellDiff {
    /// The target.
    pub target: String,
    /// The policy label.
    pub policy: String,
    /// How it differs.
    pub diff: Diff,
}

/// How a cell differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    /// Findings appeared or disappeared.
    Findings {
        /// Found now, not expected.
        added: Vec<Entry>,
        /// Expected, not found now.
        removed: Vec<Entry>,
    },
    /// Checked where refused was expected, or the reverse.
    Status {
        /// The expected cell.
        expected: ExpectedCell,
        /// The cell of the run.
        actual: ExpectedCell,
    },
    /// The cell failed (its target did not start or gave no verdict).
    Failed(String),
    /// The cell is not in the expected matrix.
    NotExpected(ExpectedCell),
    /// The expected cell's policy was not run.
    NotRun(ExpectedCell),
}

fn describe(cell: &ExpectedCell) -> String {
    match cell {
        ExpectedCell::Refused => "refused".to_string(),
        ExpectedCell::Checked(entries) => format!("checked, {} finding(s)", entries.len()),
    }
}

impl fmt::Display for Comparison {
    /// One block per differing cell (`+` a finding found and not expected, `-` one expected
    /// and not found), then the expected targets skipped here.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diffs {
            write!(f, "{} x {}: ", d.target, d.policy)?;
            match &d.diff {
                Diff::Findings { added, removed } => {
                    writeln!(f, "{} added, {} removed", added.len(), removed.len())?;
                    for e in added {
                        writeln!(f, "  + {e}")?;
                    }
                    for e in removed {
                        writeln!(f, "  - {e}")?;
                    }
                }
                Diff::Status { expected, actual } => writeln!(
                    f,
                    "{} where {} was expected",
                    describe(actual),
                    describe(expected)
                )?,
                Diff::Failed(why) => writeln!(f, "failed: {why}")?,
                Diff::NotExpected(cell) => {
                    writeln!(f, "not in the expected matrix ({})", describe(cell))?;
                    for e in cell.entries().into_iter().flatten() {
                        writeln!(f, "  + {e}")?;
                    }
                }
                Diff::NotRun(cell) => writeln!(f, "expected ({}) but not run", describe(cell))?,
            }
        }
        for (target, reason) in &self.skipped {
            writeln!(f, "{target}: expected, skipped here: {reason}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cell, Divergence, Skipped, TargetInfo};
    use corsproof_report::Finding;

    fn finding(kind: &str, route: &str) -> Finding {
        serde_json::from_value(serde_json::json!({
            "kind": kind, "severity": "violation", "route": route, "profiles": ["fetch"],
            "request": {"url": "http://h/x", "origin": "https://evil.example", "method": "GET"},
            "exchanges": [], "response": {"status": 200, "headers": []},
            "expected": "e", "observed": "o", "rule": null, "reproduce": "curl", "explanation": "x"
        }))
        .expect("a finding")
    }

    fn matrix(cells: Vec<(&'static str, &str, Outcome)>, skipped: &[&'static str]) -> Matrix {
        let mut targets: Vec<TargetInfo> = Vec::new();
        for (t, _, _) in &cells {
            if !targets.iter().any(|i| i.target == *t) {
                targets.push(TargetInfo {
                    target: t,
                    library: "lib",
                    version: "1".into(),
                });
            }
        }
        Matrix {
            seed: 1,
            cases: 5,
            caches: Default::default(),
            policies: vec![],
            targets,
            skipped: skipped
                .iter()
                .map(|t| Skipped {
                    target: t,
                    reason: "not installed".into(),
                })
                .collect(),
            cells: cells
                .into_iter()
                .map(|(target, policy, outcome)| Cell {
                    target,
                    policy: format!("corpus/policies/{policy}.toml"),
                    outcome,
                })
                .collect(),
            seconds: 1.0,
        }
    }

    fn checked(inexpressible: &[(&str, &str)], diverges: &[(&str, &str)]) -> Outcome {
        Outcome::Checked {
            announced: vec![],
            inexpressible: inexpressible.iter().map(|(k, r)| finding(k, r)).collect(),
            diverges: diverges
                .iter()
                .map(|(k, r)| Divergence {
                    finding: finding(k, r),
                    known: None,
                })
                .collect(),
            requests: 10,
            seconds: 0.5,
        }
    }

    #[test]
    fn the_written_form_is_sorted_one_finding_a_line_and_reads_back() {
        let m = matrix(
            vec![
                (
                    "rack",
                    "pna",
                    checked(&[("sent-forbidden", "api")], &[("read-denied", "api")]),
                ),
                ("nginx", "pna", checked(&[], &[])),
                ("express", "pna", Outcome::Refused { why: "no".into() }),
            ],
            &[],
        );
        let e = Expected::from_matrix(&m);
        let text = e.render();
        assert_eq!(
            text,
            r#"{
  "seed": 1,
  "cases": 5,
  "cells": {
    "express": {
      "pna": "refused"
    },
    "nginx": {
      "pna": []
    },
    "rack": {
      "pna": [
        {"part": "inexpressible", "kind": "sent-forbidden", "route": "api"},
        {"part": "diverges", "kind": "read-denied", "route": "api"}
      ]
    }
  }
}
"#
        );
        assert_eq!(Expected::parse(&text).expect("reads back"), e);
        assert!(e.compare(&m).diffs.is_empty());
    }

    #[test]
    fn a_changed_cell_shows_what_was_added_and_removed() {
        let expected = Expected::from_matrix(&matrix(
            vec![
                ("flask", "pna", checked(&[], &[("missing-vary", "api")])),
                ("flask", "public-api", checked(&[], &[])),
            ],
            &[],
        ));
        let run = matrix(
            vec![
                ("flask", "pna", checked(&[], &[("read-granted", "api")])),
                (
                    "flask",
                    "public-api",
                    Outcome::Failed {
                        why: "did not start".into(),
                    },
                ),
                ("tomcat", "pna", checked(&[], &[])),
            ],
            &[],
        );
        let c = expected.compare(&run);
        assert_eq!(c.diffs.len(), 3, "{c}");
        let text = c.to_string();
        assert!(text.contains("flask x pna: 1 added, 1 removed\n  + diverges read-granted on route api (not a known behaviour)\n  - diverges missing-vary on route api"), "{text}");
        assert!(
            text.contains("flask x public-api: failed: did not start"),
            "{text}"
        );
        assert!(
            text.contains("tomcat x pna: not in the expected matrix (checked, 0 finding(s))"),
            "{text}"
        );
    }

    #[test]
    fn skipped_targets_are_reported_only_when_expected_and_kept_on_update() {
        let old = Expected::from_matrix(&matrix(
            vec![("rack", "pna", checked(&[], &[("read-denied", "api")]))],
            &[],
        ));
        let run = matrix(vec![("nginx", "pna", checked(&[], &[]))], &["rack", "kong"]);
        let c = old.compare(&run);
        assert!(c.diffs.iter().any(|d| d.target == "nginx"));
        assert_eq!(c.skipped.len(), 1);
        assert_eq!(c.skipped[0].0, "rack");
        let updated = Expected::from_matrix(&run).keeping(&old, &["rack", "kong"]);
        assert_eq!(updated.cells.len(), 2);
        assert_eq!(updated.cells["rack"], old.cells["rack"]);
        assert!(updated.compare(&run).diffs.is_empty());
    }

    #[test]
    fn a_duplicate_finding_counts() {
        let expected = Expected::from_matrix(&matrix(
            vec![("flask", "pna", checked(&[], &[("missing-vary", "api")]))],
            &[],
        ));
        let run = matrix(
            vec![(
                "flask",
                "pna",
                checked(&[], &[("missing-vary", "api"), ("missing-vary", "api")]),
            )],
            &[],
        );
        let c = expected.compare(&run);
        assert!(
            matches!(&c.diffs[0].diff, Diff::Findings { added, removed } if added.len() == 1 && removed.is_empty())
        );
    }

    #[test]
    fn malformed_files_name_what_is_wrong() {
        let err = |text: &str| Expected::parse(text).expect_err("malformed").to_string();
        assert!(err("[]").contains("not an expected matrix"));
        assert!(err(r#"{"seed": 1, "cases": 5, "cells": {}, "extra": 1}"#).contains("extra"));
        let e = err(r#"{"seed": 1, "cases": 5, "cells": {"flask": {"pna": 3}}}"#);
        assert!(
            e.contains("cell flask x pna") && e.contains("found 3"),
            "{e}"
        );
        let e = err(
            r#"{"seed": 1, "cases": 5, "cells": {"flask": {"pna": [{"part": "diverges", "kind": "nope", "route": null}]}}}"#,
        );
        assert!(e.contains("unknown finding kind \"nope\""), "{e}");
        let e = err(
            r#"{"seed": 1, "cases": 5, "cells": {"flask": {"pna": [{"part": "diverges", "kind": "read-granted", "route": null, "known": "made-up"}]}}}"#,
        );
        assert!(e.contains("made-up"), "{e}");
    }
}
