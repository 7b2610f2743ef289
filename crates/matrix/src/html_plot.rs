//! The inline SVG plot of the HTML report: per target, two horizontal bars (findings the
//! library cannot express, divergences) summed over the policies, each stacked by severity.

use std::fmt::Write as _;

use corsproof_report::Severity;

use crate::{Matrix, Outcome};

const SEVERITIES: [Severity; 3] = [Severity::Violation, Severity::Breakage, Severity::Hygiene];
const COLOURS: [&str; 3] = ["#e4514b", "#f0a030", "#e8cf4a"];

/// Findings of a target per part (0 inexpressible, 1 diverges) and severity.
fn counts(matrix: &Matrix, target: &str) -> [[usize; 3]; 2] {
    let mut out = [[0; 3]; 2];
    for cell in matrix.cells.iter().filter(|c| c.target == target) {
        if let Outcome::Checked {
            inexpressible,
            diverges,
            ..
        } = &cell.outcome
        {
            let parts = [
                inexpressible.iter().map(|f| f.severity).collect::<Vec<_>>(),
                diverges.iter().map(|d| d.finding.severity).collect(),
            ];
            for (p, sevs) in parts.iter().enumerate() {
                for s in sevs {
                    if let Some(i) = SEVERITIES.iter().position(|x| x == s) {
                        out[p][i] += 1;
                    }
                }
            }
        }
    }
    out
}

/// The SVG element.
pub(crate) fn plot(matrix: &Matrix) -> String {
    let rows: Vec<(&str, [[usize; 3]; 2])> = matrix
        .targets
        .iter()
        .map(|t| (t.target, counts(matrix, t.target)))
        .collect();
    let max = rows
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.iter().sum::<usize>()))
        .max()
        .unwrap_or(0)
        .max(1);
    let (label_w, bar_w, row_h) = (150.0, 520.0, 44.0);
    let height = 40.0 + row_h * rows.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" aria-label=\"findings per target\">\n",
        label_w + bar_w + 60.0
    );
    for (i, (name, sev)) in SEVERITIES
        .iter()
        .zip(COLOURS)
        .enumerate()
        .map(|(i, (s, c))| (i, (s.as_str(), c)))
    {
        let x = label_w + 110.0 * i as f64;
        let _ = writeln!(svg, "<rect x=\"{x}\" y=\"4\" width=\"12\" height=\"12\" fill=\"{sev}\"/><text x=\"{}\" y=\"14\">{name}</text>", x + 16.0);
    }
    for (r, (target, c)) in rows.iter().enumerate() {
        let y = 28.0 + row_h * r as f64;
        let _ = writeln!(svg, "<text x=\"0\" y=\"{}\">{target}</text>", y + 20.0);
        for (p, label) in ["I", "D"].iter().enumerate() {
            let by = y + 2.0 + 19.0 * p as f64;
            let _ = writeln!(
                svg,
                "<text x=\"{}\" y=\"{}\" fill=\"#555\">{label}</text>",
                label_w - 14.0,
                by + 12.0
            );
            let mut x = label_w;
            for (s, colour) in COLOURS.iter().enumerate() {
                let w = bar_w * c[p][s] as f64 / max as f64;
                if w > 0.0 {
                    let _ = writeln!(svg, "<rect x=\"{x:.1}\" y=\"{by}\" width=\"{w:.1}\" height=\"16\" fill=\"{colour}\"><title>{} {}</title></rect>", c[p][s], SEVERITIES[s].as_str());
                }
                x += w;
            }
            let total: usize = c[p].iter().sum();
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\">{total}</text>",
                x + 4.0,
                by + 12.0
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}
