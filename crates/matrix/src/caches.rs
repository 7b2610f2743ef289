//! The cache columns of the matrix (`corsproof matrix --caches`): every target × policy cell
//! probed again behind each shared cache (Varnish, nginx `proxy_cache`, Apache `mod_cache`),
//! whose findings are transcripts of the cache serving one origin's CORS answer to another
//! (`missing-vary`, `missing-vary-denial`, with the cache's requests and responses).
//!
//! ```
//! use corsproof_matrix::{CacheCell, CacheOutcome, Caches};
//! let mut caches = Caches::default();
//! assert!(caches.is_empty());
//! caches.cells.push(CacheCell {
//!     target: "flask",
//!     policy: "p.toml".into(),
//!     cache: "varnish",
//!     outcome: CacheOutcome::Probed { findings: vec![], requests: 8, seconds: 0.1 },
//! });
//! assert_eq!(caches.cell("flask", "p.toml", "varnish").map(|c| c.cache), Some("varnish"));
//! assert_eq!(corsproof_matrix::caches::short(caches.cell("flask", "p.toml", "varnish")), "ok");
//! ```

use std::fmt::Write as _;

use corsproof_report::{CheckKind, Finding, Kind, Severity};
use serde::Serialize;

use crate::{policy_label, Matrix};

/// The caches of a run: which ran, which could not, and the probe of every cell.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Caches {
    /// The caches that ran, in column order.
    pub ran: Vec<CacheInfo>,
    /// The caches that could not run here, and why.
    pub skipped: Vec<SkippedCache>,
    /// One per target, policy and cache that ran (cells whose target ran).
    pub cells: Vec<CacheCell>,
    /// Wall-clock seconds the caches added to the run (start, probe, stop).
    pub seconds: f64,
}

/// A cache that ran.
#[derive(Debug, Clone, Serialize)]
pub struct CacheInfo {
    /// Its name on the command line (`varnish`, `nginx-cache`, `apache-cache`).
    pub cache: &'static str,
    /// The cache, for people.
    pub product: &'static str,
    /// The version found installed.
    pub version: String,
}

/// A cache that could not run.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedCache {
    /// Its name on the command line.
    pub cache: &'static str,
    /// Why (what is missing, with the Debian packages that provide it).
    pub reason: String,
}

/// One target and policy behind one cache.
#[derive(Debug, Clone, Serialize)]
pub struct CacheCell {
    /// The target's name.
    pub target: &'static str,
    /// The policy file.
    pub policy: String,
    /// The cache's name.
    pub cache: &'static str,
    /// What happened.
    pub outcome: CacheOutcome,
}

/// What became of one cache cell.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum CacheOutcome {
    /// The target ran behind the cache and was probed.
    Probed {
        /// The cache's replays that departed from the policy, with their transcripts.
        findings: Vec<Finding>,
        /// Requests sent (through the cache and to the target).
        requests: u64,
        /// Seconds the probe took.
        seconds: f64,
    },
    /// The target or the cache did not start, or the probe got no answer.
    Failed {
        /// What went wrong.
        why: String,
    },
}

impl Caches {
    /// Whether no cache was asked for.
    pub fn is_empty(&self) -> bool {
        self.ran.is_empty() && self.skipped.is_empty() && self.cells.is_empty()
    }

    /// The cell of `target` and `policy` behind `cache`.
    pub fn cell(&self, target: &str, policy: &str, cache: &str) -> Option<&CacheCell> {
        self.cells
            .iter()
            .find(|c| c.target == target && c.policy == policy && c.cache == cache)
    }

    /// The caches whose probe of `target` and `policy` demonstrates `finding` (a
    /// `missing-vary` or `missing-vary-denial` of the ordinary check): a finding of the same
    /// kind on the same route behind the cache.
    pub fn demonstrating(
        &self,
        target: &str,
        policy: &str,
        finding: &Finding,
    ) -> Vec<&'static str> {
        let Kind::Check(kind @ (CheckKind::MissingVary | CheckKind::MissingVaryDenial)) =
            finding.kind
        else {
            return Vec::new();
        };
        self.cells
            .iter()
            .filter(|c| c.target == target && c.policy == policy)
            .filter(|c| match &c.outcome {
                CacheOutcome::Probed { findings, .. } => findings
                    .iter()
                    .any(|f| f.kind == Kind::Check(kind) && f.route == finding.route),
                CacheOutcome::Failed { .. } => false,
            })
            .map(|c| c.cache)
            .collect()
    }

    /// The cells whose probe failed.
    pub fn failed(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| matches!(c.outcome, CacheOutcome::Failed { .. }))
            .count()
    }
}

/// A cache cell in a few characters: `ok`, `leak 1` (a refused origin reads), `denial 2`
/// (the allowed front end is refused), both, `failed`; `-` for none.
pub fn short(cell: Option<&CacheCell>) -> String {
    let Some(cell) = cell else {
        return "-".to_string();
    };
    match &cell.outcome {
        CacheOutcome::Probed { findings, .. } => {
            let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
            let (leaks, denials) = (count(Severity::Violation), count(Severity::Breakage));
            match (leaks, denials) {
                (0, 0) => "ok".to_string(),
                (l, 0) => format!("leak {l}"),
                (0, d) => format!("denial {d}"),
                (l, d) => format!("leak {l} denial {d}"),
            }
        }
        CacheOutcome::Failed { .. } => "failed".to_string(),
    }
}

/// The cache table as text rows (`md`: Markdown): one row per target and cache, one column per
/// policy; then every failed cell and the caches skipped. Empty when no cache was asked for.
pub(crate) fn table(matrix: &Matrix, md: bool) -> String {
    let caches = &matrix.caches;
    if caches.is_empty() {
        return String::new();
    }
    let mut rows = vec![{
        let mut r = vec!["target".to_string(), "behind".to_string()];
        r.extend(matrix.policies.iter().map(|p| policy_label(p).to_string()));
        r
    }];
    for t in &matrix.targets {
        for c in &caches.ran {
            let mut r = vec![t.target.to_string(), c.cache.to_string()];
            r.extend(
                matrix
                    .policies
                    .iter()
                    .map(|p| short(caches.cell(t.target, p, c.cache))),
            );
            rows.push(r);
        }
    }
    let mut out = format!(
        "\n{}caches in front ({:.1} s): {}\n",
        if md { "" } else { "corsproof matrix: " },
        caches.seconds,
        caches
            .ran
            .iter()
            .map(|c| format!("{} ({})", c.cache, c.version))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if md {
        out.push('\n');
    }
    out.push_str(&render_rows(&rows, md));
    let bullet = if md { "- " } else { "" };
    if md {
        out.push('\n');
    }
    out.push_str("leak: a refused origin read an answer the cache stored for another request; denial: the allowed front end was refused with one\n");
    for cell in &caches.cells {
        if let CacheOutcome::Failed { why } = &cell.outcome {
            let _ = writeln!(
                out,
                "{bullet}{} / {} behind {}: failed: {why}",
                cell.target,
                policy_label(&cell.policy),
                cell.cache
            );
        }
    }
    for s in &caches.skipped {
        let _ = writeln!(out, "{bullet}skipped cache {}: {}", s.cache, s.reason);
    }
    out
}

fn render_rows(rows: &[Vec<String>], md: bool) -> String {
    let mut out = String::new();
    if md {
        for (i, r) in rows.iter().enumerate() {
            let _ = writeln!(out, "| {} |", r.join(" | "));
            if i == 0 {
                let _ = writeln!(out, "|{}", "---|".repeat(r.len()));
            }
        }
        return out;
    }
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cell, Divergence, Outcome, TargetInfo};

    fn finding(kind: &str, route: &str, exchanges: serde_json::Value) -> Finding {
        serde_json::from_value(serde_json::json!({
            "kind": kind, "severity": "breakage", "route": route, "profiles": ["fetch"],
            "request": {"url": "http://h/api/x", "origin": "https://app.example.com", "method": "GET"},
            "exchanges": exchanges, "response": {"status": 200, "headers": []},
            "expected": "e", "observed": "o", "rule": "H1", "reproduce": "curl", "explanation": "x"
        }))
        .expect("a finding")
    }

    fn matrix() -> Matrix {
        let ordinary = finding("missing-vary-denial", "api", serde_json::json!([]));
        let transcript = serde_json::json!([
            [{"method": "GET", "url": "http://c/api/k", "headers": [["Origin", "https://attacker.test"]]},
             {"status": 200, "headers": [["X-Evil", "<script>x</script>"]]}],
            [{"method": "GET", "url": "http://c/api/k", "headers": [["Origin", "https://app.example.com"]]},
             {"status": 200, "headers": [["X-Varnish", "3 2"]]}]
        ]);
        let behind = finding("missing-vary-denial", "api", transcript);
        let other_route = finding("missing-vary-denial", "public", serde_json::json!([]));
        Matrix {
            seed: 1,
            cases: 0,
            policies: vec!["p.toml".into()],
            targets: vec![TargetInfo {
                target: "flask",
                library: "Flask",
                version: "1".into(),
            }],
            skipped: vec![],
            cells: vec![Cell {
                target: "flask",
                policy: "p.toml".into(),
                outcome: Outcome::Checked {
                    announced: vec![],
                    inexpressible: vec![],
                    diverges: vec![
                        Divergence {
                            finding: ordinary,
                            known: None,
                        },
                        Divergence {
                            finding: other_route,
                            known: None,
                        },
                    ],
                    requests: 1,
                    seconds: 0.0,
                },
            }],
            seconds: 0.0,
            caches: Caches {
                ran: vec![CacheInfo {
                    cache: "varnish",
                    product: "Varnish",
                    version: "7".into(),
                }],
                skipped: vec![SkippedCache {
                    cache: "apache-cache",
                    reason: "no apache2".into(),
                }],
                cells: vec![CacheCell {
                    target: "flask",
                    policy: "p.toml".into(),
                    cache: "varnish",
                    outcome: CacheOutcome::Probed {
                        findings: vec![behind],
                        requests: 9,
                        seconds: 0.0,
                    },
                }],
                seconds: 0.5,
            },
        }
    }

    #[test]
    fn a_cache_cell_shows_the_ordinary_finding_of_its_kind_and_route_only() {
        let m = matrix();
        let Outcome::Checked { diverges, .. } = &m.cells[0].outcome else {
            panic!("checked");
        };
        assert_eq!(
            m.caches
                .demonstrating("flask", "p.toml", &diverges[0].finding),
            ["varnish"]
        );
        assert!(m
            .caches
            .demonstrating("flask", "p.toml", &diverges[1].finding)
            .is_empty());
        assert!(m
            .caches
            .demonstrating("rack", "p.toml", &diverges[0].finding)
            .is_empty());
        assert_eq!(
            short(m.caches.cell("flask", "p.toml", "varnish")),
            "denial 1"
        );
        assert_eq!(m.caches.failed(), 0);
    }

    #[test]
    fn every_format_carries_the_cache_cells() {
        let m = matrix();
        let text = crate::text(&m);
        assert!(
            text.contains("route api (not a known behaviour; shown behind varnish)"),
            "{text}"
        );
        assert!(
            !text.contains("route public (not a known behaviour; shown"),
            "{text}"
        );
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().eq(["flask", "varnish", "denial", "1"])),
            "{text}"
        );
        assert!(
            text.contains("skipped cache apache-cache: no apache2"),
            "{text}"
        );
        let md = crate::markdown(&m);
        assert!(md.contains("| flask | varnish | denial 1 |"), "{md}");
        let json: serde_json::Value = serde_json::from_str(&crate::json(&m)).expect("JSON");
        assert_eq!(json["caches"]["cells"][0]["outcome"]["status"], "probed");
        assert_eq!(
            json["caches"]["cells"][0]["outcome"]["findings"][0]["kind"],
            "missing-vary-denial"
        );
        let page = crate::html(&m);
        assert!(page.contains("href=\"#k-flask-p-varnish\""), "{page}");
        assert!(page.contains("<details id=\"k-flask-p-varnish\">"));
        assert!(page.contains("&lt; X-Varnish: 3 2"));
        assert!(page.contains("&lt; X-Evil: &lt;script&gt;x&lt;/script&gt;"));
        assert!(!page.contains("<script>x"));
    }

    #[test]
    fn without_caches_the_outputs_do_not_change() {
        let mut m = matrix();
        m.caches = Caches::default();
        assert!(!crate::json(&m).contains("\"caches\""));
        assert!(!crate::text(&m).contains("behind"));
        assert!(!crate::html(&m).contains("Caches in front"));
    }
}
