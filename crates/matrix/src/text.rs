//! The terminal table and the Markdown report.

use corsproof_report::Severity;

use crate::{policy_label, Cell, Matrix, Outcome};

/// A cell in a few characters: `ok`, `I2 D1 (violation)`, `refused`, `failed`.
pub(crate) fn short(cell: Option<&Cell>) -> String {
    let Some(cell) = cell else {
        return "-".to_string();
    };
    match &cell.outcome {
        Outcome::Checked {
            inexpressible,
            diverges,
            ..
        } => {
            if inexpressible.is_empty() && diverges.is_empty() {
                return "ok".to_string();
            }
            let worst = worst(&cell.outcome).map_or("", Severity::as_str);
            format!("I{} D{} {worst}", inexpressible.len(), diverges.len())
        }
        Outcome::Refused { .. } => "refused".to_string(),
        Outcome::Failed { .. } => "failed".to_string(),
    }
}

/// The most severe finding of a cell, both parts together.
pub(crate) fn worst(outcome: &Outcome) -> Option<Severity> {
    let (a, b) = outcome.worst();
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn header(matrix: &Matrix) -> String {
    format!(
        "corsproof matrix: {} target(s) x {} policies, seed {}, {} generated cases per check, {:.1} s\n",
        matrix.targets.len(),
        matrix.policies.len(),
        matrix.seed,
        matrix.cases,
        matrix.seconds
    )
}

/// The matrix for a terminal: one row per target, one column per policy; a cell is `ok`,
/// or `I<n> D<m> <worst severity>` (n findings the library cannot express, m where it
/// diverges from its configuration), then every divergence, then the targets skipped.
pub fn text(matrix: &Matrix) -> String {
    let mut rows = vec![{
        let mut r = vec!["target".to_string(), "version".to_string()];
        r.extend(matrix.policies.iter().map(|p| policy_label(p).to_string()));
        r
    }];
    for t in &matrix.targets {
        let mut r = vec![t.target.to_string(), t.version.clone()];
        r.extend(
            matrix
                .policies
                .iter()
                .map(|p| short(matrix.cell(t.target, p))),
        );
        rows.push(r);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut out = header(matrix);
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str("I: findings the library cannot be configured to avoid (announced by its emitter); D: divergences from what it was configured to do\n");
    out.push_str(&divergences(matrix, false));
    out.push_str(&crate::caches::table(matrix, false));
    for s in &matrix.skipped {
        out.push_str(&format!("skipped {}: {}\n", s.target, s.reason));
    }
    out
}

/// One line per divergence and per failed or refused cell (`md`: as a Markdown list).
fn divergences(matrix: &Matrix, md: bool) -> String {
    let mut out = String::new();
    let bullet = if md { "- " } else { "" };
    for cell in &matrix.cells {
        let name = policy_label(&cell.policy);
        match &cell.outcome {
            Outcome::Checked { diverges, .. } => {
                for d in diverges {
                    let f = &d.finding;
                    let mut known = d.known.map_or("not a known behaviour".to_string(), |k| {
                        format!("known: {}", k.id)
                    });
                    let shown = matrix.caches.demonstrating(cell.target, &cell.policy, f);
                    if !shown.is_empty() {
                        known.push_str(&format!("; shown behind {}", shown.join(", ")));
                    }
                    out.push_str(&format!(
                        "{bullet}{} / {name}: {} {} on route {} ({known})\n",
                        cell.target,
                        f.severity.as_str(),
                        f.kind,
                        f.route.as_deref().unwrap_or("(none)"),
                    ));
                }
            }
            Outcome::Refused { why } => out.push_str(&format!(
                "{bullet}{} / {name}: refused: {why}\n",
                cell.target
            )),
            Outcome::Failed { why } => out.push_str(&format!(
                "{bullet}{} / {name}: failed: {why}\n",
                cell.target
            )),
        }
    }
    out
}

/// The matrix as Markdown: the table, the divergences, the targets skipped.
pub fn markdown(matrix: &Matrix) -> String {
    let mut out = format!("{}\n", header(matrix).trim_end());
    out.push_str(&table(matrix));
    out.push_str("\n`I<n>`: findings the library cannot be configured to avoid (announced by its emitter); `D<m>`: divergences from what it was configured to do.\n");
    let list = divergences(matrix, true);
    if !list.is_empty() {
        out.push_str("\nDivergences:\n\n");
        out.push_str(&list);
    }
    out.push_str(&crate::caches::table(matrix, true));
    if !matrix.skipped.is_empty() {
        out.push_str("\nSkipped:\n\n");
        for s in &matrix.skipped {
            out.push_str(&format!("- {}: {}\n", s.target, s.reason));
        }
    }
    out
}

/// The Markdown table alone, with the run's seed and cases and nothing that changes from one
/// run to the next of the same tree on the same machine (no timings, no request counts): what
/// docs/implementations.md holds between its `matrix:begin` and `matrix:end` markers.
pub fn markdown_table(matrix: &Matrix) -> String {
    format!(
        "`corsproof matrix --cases {} --seed {}`:\n\n{}",
        matrix.cases,
        matrix.seed,
        table(matrix)
    )
}

/// The table: one row per target that ran (with its versions), one column per policy.
fn table(matrix: &Matrix) -> String {
    let mut out = String::from("| target | version |");
    for p in &matrix.policies {
        out.push_str(&format!(" {} |", policy_label(p)));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(matrix.policies.len()));
    out.push('\n');
    for t in &matrix.targets {
        out.push_str(&format!("| {} | {} |", t.target, t.version));
        for p in &matrix.policies {
            out.push_str(&format!(" {} |", short(matrix.cell(t.target, p))));
        }
        out.push('\n');
    }
    out
}
