//! # corsproof-matrix
//!
//! The conformance matrix: every target (a CORS implementation configured from a policy by
//! its emitter) checked against every policy, each cell's findings split in two:
//!
//! - **inexpressible**: findings that an item the emitter announced before anything ran
//!   explains (an [`Unsupported`] item of the same route whose [`Effect`] produces the
//!   finding's kind, [`explains`]): the library cannot be configured to do what the policy
//!   says;
//! - **diverges**: every other finding: the library does not do what it was configured to
//!   do. A divergence that is a known behaviour of the library ([`known::KNOWN`]) names it.
//!
//! Renderers: [`text()`], [`markdown()`], [`markdown_table()`] (the table alone, without
//! timings, as docs/implementations.md holds it), [`json()`] and [`html()`] (one
//! self-contained page with an inline SVG plot). [`expected`] holds the checked-in form of a
//! run's cells and compares a run with it.
//!
//! With shared caches in front ([`caches`]), every cell is probed again behind each cache, and
//! a `missing-vary` finding of the ordinary check links to the cache transcript that shows it
//! ([`Caches::demonstrating`]).
//!
//! ```
//! use corsproof_emit::{Effect, Unsupported};
//! use corsproof_matrix::explains;
//! use corsproof_report::CheckKind;
//! let u = Unsupported { route: "api".into(), field: "credentials", why: "…".into(), effect: Effect::Disclosure };
//! assert!(explains(&u, Some("api"), CheckKind::DisclosedToRefused));
//! assert!(!explains(&u, Some("api"), CheckKind::ReadGranted));
//! assert!(!explains(&u, Some("public"), CheckKind::DisclosedToRefused));
//! ```

#![deny(missing_docs)]

pub mod caches;
pub mod expected;
mod html;
mod html_plot;
pub mod known;
mod text;

pub use caches::{CacheCell, CacheInfo, CacheOutcome, Caches, SkippedCache};
pub use html::html;
pub use text::{markdown, markdown_table, text};

use corsproof_emit::{Effect, Unsupported};
use corsproof_report::{CheckKind, Finding, Kind, Severity};
use corsproof_targets::registry::Target;
use serde::Serialize;

use known::KnownBehaviour;

/// A whole matrix run.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    /// The seed of every check of the run.
    pub seed: u64,
    /// Generated cases per check, on top of each policy's baseline.
    pub cases: usize,
    /// The policy files, in column order.
    pub policies: Vec<String>,
    /// The targets that ran, in row order.
    pub targets: Vec<TargetInfo>,
    /// The targets that could not run here, and why.
    pub skipped: Vec<Skipped>,
    /// One cell per target and policy.
    pub cells: Vec<Cell>,
    /// Wall-clock seconds for the whole run.
    pub seconds: f64,
    /// The caches in front (`--caches`); absent from JSON without them.
    #[serde(skip_serializing_if = "Caches::is_empty")]
    pub caches: Caches,
}

/// A target that ran.
#[derive(Debug, Clone, Serialize)]
pub struct TargetInfo {
    /// Its name on the command line.
    pub target: &'static str,
    /// The implementation.
    pub library: &'static str,
    /// The versions found installed.
    pub version: String,
}

/// A target that could not run.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// Its name on the command line.
    pub target: &'static str,
    /// Why (what is missing, with the Debian packages that provide it).
    pub reason: String,
}

/// One target checked against one policy.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The target's name.
    pub target: &'static str,
    /// The policy file.
    pub policy: String,
    /// What happened.
    pub outcome: Outcome,
}

/// What became of one cell.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// The target ran and was checked.
    Checked {
        /// What the emitter announced the target cannot express.
        announced: Vec<Announced>,
        /// Findings an announced item explains.
        inexpressible: Vec<Finding>,
        /// The other findings.
        diverges: Vec<Divergence>,
        /// Requests sent.
        requests: u64,
        /// Seconds the check took.
        seconds: f64,
    },
    /// The target cannot implement the policy at all (its emitter refused it).
    Refused {
        /// The emitter's reason.
        why: String,
    },
    /// The target did not start, or the check gave no verdict.
    Failed {
        /// What went wrong.
        why: String,
    },
}

/// An announced [`Unsupported`] item, for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Announced {
    /// The route's label.
    pub route: String,
    /// The policy field.
    pub field: &'static str,
    /// What it does to browsers' grants.
    pub effect: EffectWord,
    /// What the target does instead.
    pub why: String,
}

/// [`Effect`] in reports (`broader`, `narrower`, `disclosure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EffectWord {
    /// [`Effect::Broader`].
    Broader,
    /// [`Effect::Narrower`].
    Narrower,
    /// [`Effect::Disclosure`].
    Disclosure,
}

impl From<&Unsupported> for Announced {
    fn from(u: &Unsupported) -> Announced {
        Announced {
            route: u.route.clone(),
            field: u.field,
            effect: match u.effect {
                Effect::Broader => EffectWord::Broader,
                Effect::Narrower => EffectWord::Narrower,
                Effect::Disclosure => EffectWord::Disclosure,
            },
            why: u.why.clone(),
        }
    }
}

/// A finding no announced item explains.
#[derive(Debug, Clone, Serialize)]
pub struct Divergence {
    /// The finding.
    pub finding: Finding,
    /// The known behaviour of the library it is an instance of, if any.
    pub known: Option<&'static KnownBehaviour>,
}

/// Whether an announced item explains a finding of `kind` on `route`: same route, and the
/// kind is one the item's effect produces (broader: reads, sends, exposures and cache times
/// beyond the policy; narrower: refusals of what it grants; disclosure: CORS headers to
/// refused origins, and on `private_network` the missing `Vary` entries too). An item on
/// `max_age` explains only the preflight cache's kinds.
pub fn explains(item: &Unsupported, route: Option<&str>, kind: CheckKind) -> bool {
    if route != Some(item.route.as_str()) {
        return false;
    }
    if item.field == "max_age" {
        return matches!(kind, CheckKind::MaxAgeMismatch | CheckKind::CacheTooLong);
    }
    match item.effect {
        Effect::Broader => matches!(
            kind,
            CheckKind::ReadGranted
                | CheckKind::SentForbidden
                | CheckKind::HeaderExposed
                | CheckKind::CacheTooLong
        ),
        Effect::Narrower => matches!(
            kind,
            CheckKind::ReadDenied | CheckKind::SentBlocked | CheckKind::HeaderHidden
        ),
        Effect::Disclosure => {
            kind == CheckKind::DisclosedToRefused
                || (item.field == "private_network"
                    && matches!(kind, CheckKind::MissingVary | CheckKind::MissingVaryDenial))
        }
    }
}

/// Splits a cell's findings: those an announced item explains, and the divergences (each
/// with the known behaviour of `target` it is an instance of, if any).
pub fn classify(
    target: Target,
    announced: &[Unsupported],
    findings: Vec<Finding>,
) -> (Vec<Finding>, Vec<Divergence>) {
    let mut inexpressible = Vec::new();
    let mut diverges = Vec::new();
    for finding in findings {
        let Kind::Check(kind) = finding.kind else {
            diverges.push(Divergence {
                finding,
                known: None,
            });
            continue;
        };
        if announced
            .iter()
            .any(|u| explains(u, finding.route.as_deref(), kind))
        {
            inexpressible.push(finding);
        } else {
            let known = known::find(target, kind, &finding.request.case);
            diverges.push(Divergence { finding, known });
        }
    }
    (inexpressible, diverges)
}

impl Outcome {
    /// The most severe finding's severity in each part (inexpressible, diverges).
    pub fn worst(&self) -> (Option<Severity>, Option<Severity>) {
        match self {
            Outcome::Checked {
                inexpressible,
                diverges,
                ..
            } => (
                inexpressible.iter().map(|f| f.severity).min(),
                diverges.iter().map(|d| d.finding.severity).min(),
            ),
            _ => (None, None),
        }
    }
}

impl Matrix {
    /// The cell of `target` and `policy`.
    pub fn cell(&self, target: &str, policy: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.target == target && c.policy == policy)
    }

    /// Findings no announced item and no known behaviour explains, over every cell: what a
    /// conformance test of the emitters fails on.
    pub fn unexplained(&self) -> Vec<(&Cell, &Finding)> {
        let mut out = Vec::new();
        for cell in &self.cells {
            if let Outcome::Checked { diverges, .. } = &cell.outcome {
                for d in diverges.iter().filter(|d| d.known.is_none()) {
                    out.push((cell, &d.finding));
                }
            }
        }
        out
    }
}

/// The matrix as JSON (the shape of docs/cli.md).
pub fn json(matrix: &Matrix) -> String {
    serde_json::to_string_pretty(matrix).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        + "\n"
}

/// The file name of a policy path, without directory and extension (`mixed-routes`).
pub fn policy_label(path: &str) -> &str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(route: &str, field: &'static str, effect: Effect) -> Unsupported {
        Unsupported {
            route: route.into(),
            field,
            why: "w".into(),
            effect,
        }
    }

    fn finding(kind: &str, route: Option<&str>, url: &str, method: &str) -> Finding {
        serde_json::from_value(serde_json::json!({
            "kind": kind, "severity": "violation", "route": route, "profiles": ["fetch"],
            "request": {"url": url, "origin": "https://evil.example", "method": method},
            "exchanges": [], "response": {"status": 200, "headers": []},
            "expected": "e", "observed": "o", "rule": null, "reproduce": "curl", "explanation": "x"
        }))
        .expect("a finding")
    }

    #[test]
    fn effects_explain_their_own_kinds_only() {
        let broader = item("r", "request_headers", Effect::Broader);
        assert!(explains(&broader, Some("r"), CheckKind::SentForbidden));
        assert!(!explains(&broader, Some("r"), CheckKind::SentBlocked));
        let narrower = item("r", "methods", Effect::Narrower);
        assert!(explains(&narrower, Some("r"), CheckKind::SentBlocked));
        assert!(!explains(&narrower, Some("r"), CheckKind::ReadGranted));
        assert!(!explains(&narrower, None, CheckKind::SentBlocked));
        let max_age = item("r", "max_age", Effect::Narrower);
        assert!(explains(&max_age, Some("r"), CheckKind::MaxAgeMismatch));
        assert!(!explains(&max_age, Some("r"), CheckKind::ReadDenied));
        let disclosure = item("r", "credentials", Effect::Disclosure);
        assert!(!explains(
            &disclosure,
            Some("r"),
            CheckKind::MissingVaryDenial
        ));
        let pna = item("r", "private_network", Effect::Disclosure);
        assert!(explains(&pna, Some("r"), CheckKind::MissingVary));
    }

    #[test]
    fn findings_split_into_inexpressible_known_and_unexplained() {
        let announced = [item("api", "request_headers", Effect::Broader)];
        let findings = vec![
            finding("sent-forbidden", Some("api"), "http://h/api/x", "GET"),
            finding("read-granted", None, "http://h/api%2Fx", "GET"),
            finding("read-granted", None, "http://h/other", "GET"),
        ];
        let (inexpressible, diverges) = classify(Target::Flask, &announced, findings);
        assert_eq!(inexpressible.len(), 1);
        assert_eq!(diverges.len(), 2);
        assert_eq!(
            diverges[0].known.map(|k| k.id),
            Some(known::Id::WsgiDecodedPath)
        );
        assert!(diverges[1].known.is_none());
        let m = Matrix {
            seed: 1,
            cases: 0,
            policies: vec!["p.toml".into()],
            targets: vec![],
            skipped: vec![],
            cells: vec![Cell {
                target: "flask",
                policy: "p.toml".into(),
                outcome: Outcome::Checked {
                    announced: vec![],
                    inexpressible,
                    diverges,
                    requests: 3,
                    seconds: 0.1,
                },
            }],
            seconds: 0.1,
            caches: Caches::default(),
        };
        assert_eq!(m.unexplained().len(), 1);
        let (i, d) = m.cells[0].outcome.worst();
        assert_eq!(
            (i, d),
            (Some(Severity::Violation), Some(Severity::Violation))
        );
    }

    #[test]
    fn the_html_page_escapes_what_the_target_sent() {
        let mut f = finding("read-granted", Some("<r>"), "http://h/", "GET");
        f.explanation = "<script>alert(1)</script>".into();
        let m = Matrix {
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
                    diverges: vec![Divergence {
                        finding: f,
                        known: None,
                    }],
                    requests: 1,
                    seconds: 0.0,
                },
            }],
            seconds: 0.0,
            caches: Caches::default(),
        };
        let page = html(&m);
        assert!(!page.contains("<script>alert(1)"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("<code>&lt;r&gt;</code>"));
    }
}
