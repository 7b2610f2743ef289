//! The HTML report: one self-contained page (inline style, inline SVG, a few lines of inline
//! script; no external asset), the matrix with cells coloured by their worst severity and
//! split into "inexpressible" and "diverges", a plot of findings per target and kind, and
//! every cell's findings with their curl lines and explanations.

use std::fmt::Write as _;

use corsproof_report::{Finding, Severity};

use crate::caches::{self, CacheCell, CacheOutcome};
use crate::known::KnownBehaviour;
use crate::{policy_label, Cell, Matrix, Outcome};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table.m{border-collapse:collapse}table.m th,table.m td{border:1px solid #bbb;padding:.35em .6em;text-align:left}
td.c a{display:flex;gap:.3em;text-decoration:none;color:#111}
.part{padding:.15em .45em;border-radius:3px;font-size:.9em;min-width:3.2em;text-align:center}
.violation{background:#e4514b;color:#fff}.breakage{background:#f0a030}.hygiene{background:#f4e07a}
.none{background:#8fd18b}.grey{background:#ccc}
pre{background:#f4f4f4;padding:.5em;white-space:pre-wrap;word-break:break-all;font-size:.8em}
details{margin:.4em 0;border:1px solid #ddd;padding:.3em .6em}details:target{border-color:#333}
.small{color:#555;font-size:.85em}h3{margin:.6em 0 .2em}";

const SCRIPT: &str = "function o(){var d=document.getElementById(location.hash.slice(1));if(d&&d.tagName=='DETAILS'){d.open=true;}}window.addEventListener('hashchange',o);o();";

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn class(sev: Option<Severity>) -> &'static str {
    sev.map_or("none", Severity::as_str)
}

fn cell_id(target: &str, policy: &str) -> String {
    let raw = format!("c-{target}-{}", policy_label(policy));
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The page.
pub fn html(matrix: &Matrix) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>corsproof matrix</title><style>{STYLE}</style></head><body>\n<h1>corsproof conformance matrix</h1>\n<p class=\"small\">{} target(s) × {} policies, seed {}, {} generated cases per check, {:.1} s. Each cell: <b>I</b> findings the library cannot be configured to avoid (announced by its emitter before the run) and <b>D</b> divergences from what it was configured to do, each coloured by its worst severity (<span class=\"part violation\">violation</span> <span class=\"part breakage\">breakage</span> <span class=\"part hygiene\">hygiene</span> <span class=\"part none\">none</span>). Click a cell for its findings.</p>\n",
        matrix.targets.len(),
        matrix.policies.len(),
        matrix.seed,
        matrix.cases,
        matrix.seconds
    );
    out.push_str(&table(matrix));
    out.push_str(&cache_table(matrix));
    out.push_str(
        "<h2>Findings per target: inexpressible (I) and diverging (D), by severity</h2>\n",
    );
    out.push_str(&crate::html_plot::plot(matrix));
    if !matrix.skipped.is_empty() {
        out.push_str("<h2>Skipped</h2><ul>");
        for s in &matrix.skipped {
            let _ = write!(out, "<li><b>{}</b>: {}</li>", esc(s.target), esc(&s.reason));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Cells</h2>\n");
    for cell in &matrix.cells {
        out.push_str(&details(matrix, cell));
    }
    if !matrix.caches.cells.is_empty() {
        out.push_str("<h2>Behind caches</h2>\n");
        for cell in &matrix.caches.cells {
            out.push_str(&cache_details(cell));
        }
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn table(matrix: &Matrix) -> String {
    let mut out = String::from("<table class=\"m\"><tr><th>target</th><th>version</th>");
    for p in &matrix.policies {
        let _ = write!(out, "<th>{}</th>", esc(policy_label(p)));
    }
    out.push_str("</tr>\n");
    for t in &matrix.targets {
        let _ = write!(
            out,
            "<tr><th>{}<div class=\"small\">{}</div></th><td class=\"small\">{}</td>",
            esc(t.target),
            esc(t.library),
            esc(&t.version)
        );
        for p in &matrix.policies {
            out.push_str(&cell_html(matrix.cell(t.target, p)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

fn cell_html(cell: Option<&Cell>) -> String {
    let Some(cell) = cell else {
        return "<td></td>".to_string();
    };
    let id = cell_id(cell.target, &cell.policy);
    let inner = match &cell.outcome {
        Outcome::Checked {
            inexpressible,
            diverges,
            ..
        } => {
            let (i, d) = cell.outcome.worst();
            format!(
                "<span class=\"part {}\">I {}</span><span class=\"part {}\">D {}</span>",
                class(i),
                inexpressible.len(),
                class(d),
                diverges.len()
            )
        }
        Outcome::Refused { .. } => "<span class=\"part grey\">refused</span>".to_string(),
        Outcome::Failed { .. } => "<span class=\"part grey\">failed</span>".to_string(),
    };
    format!("<td class=\"c\"><a href=\"#{id}\">{inner}</a></td>")
}

fn details(matrix: &Matrix, cell: &Cell) -> String {
    let version = matrix
        .targets
        .iter()
        .find(|t| t.target == cell.target)
        .map_or(String::new(), |t| t.version.clone());
    let mut out = format!(
        "<details id=\"{}\"><summary><b>{}</b> × <b>{}</b> <span class=\"small\">{}</span></summary>\n",
        cell_id(cell.target, &cell.policy),
        esc(cell.target),
        esc(policy_label(&cell.policy)),
        esc(&version)
    );
    match &cell.outcome {
        Outcome::Checked {
            announced,
            inexpressible,
            diverges,
            requests,
            seconds,
        } => {
            let _ = writeln!(
                out,
                "<p class=\"small\">{requests} requests in {seconds:.1} s, policy {}</p>",
                esc(&cell.policy)
            );
            if !announced.is_empty() {
                out.push_str(
                    "<h3>What the library cannot express (announced by the emitter)</h3><ul>",
                );
                for a in announced {
                    let effect = serde_json::to_value(a.effect)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    let _ = write!(
                        out,
                        "<li>route <code>{}</code>, field <code>{}</code> ({effect}): {}</li>",
                        esc(&a.route),
                        a.field,
                        esc(&a.why)
                    );
                }
                out.push_str("</ul>\n");
            }
            out.push_str(&findings(
                "Diverges from its configuration",
                diverges.iter().map(|d| (&d.finding, d.known)),
            ));
            out.push_str(&findings(
                "Inexpressible in this library",
                inexpressible.iter().map(|f| (f, None)),
            ));
            out.push_str(&cache_links(matrix, cell));
        }
        Outcome::Refused { why } | Outcome::Failed { why } => {
            let _ = write!(out, "<p>{}</p>", esc(why));
        }
    }
    out.push_str("</details>\n");
    out
}

type KnownRef = Option<&'static KnownBehaviour>;

fn findings<'a>(title: &str, items: impl Iterator<Item = (&'a Finding, KnownRef)>) -> String {
    let mut out = String::new();
    for (f, known) in items {
        if out.is_empty() {
            let _ = writeln!(out, "<h3>{}</h3>", esc(title));
        }
        let _ = write!(
            out,
            "<p><span class=\"part {}\">{}</span> <b>{}</b> on route <code>{}</code>: {}<br><span class=\"small\">expected {}; observed {}</span></p>",
            f.severity.as_str(),
            f.severity.as_str(),
            f.kind,
            esc(f.route.as_deref().unwrap_or("(none)")),
            esc(&f.explanation),
            esc(&f.expected),
            esc(&f.observed)
        );
        if let Some(k) = known {
            let _ = write!(
                out,
                "<p class=\"small\">known behaviour <b>{}</b>: {}{}</p>",
                esc(k.id.as_str()),
                esc(k.summary),
                k.reference
                    .map_or(String::new(), |r| format!(" ({})", esc(r)))
            );
        }
        let _ = writeln!(out, "<pre>{}</pre>", esc(&f.reproduce));
    }
    out
}

fn cache_id(target: &str, policy: &str, cache: &str) -> String {
    format!("k{}-{cache}", &cell_id(target, policy)[1..])
}

/// The table of the caches in front: one row per target and cache, one column per policy.
fn cache_table(matrix: &Matrix) -> String {
    let caches = &matrix.caches;
    if caches.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<h2>Caches in front</h2>\n<p class=\"small\">Each cell probed again behind each cache ({:.1} s in all): two origins ask one URL through the cache. <span class=\"part violation\">leak</span> a refused origin read an answer the cache stored for another request; <span class=\"part breakage\">denial</span> the allowed front end was refused with one. Caches: {}.</p>\n<table class=\"m\"><tr><th>target</th><th>behind</th>",
        caches.seconds,
        esc(&caches
            .ran
            .iter()
            .map(|c| format!("{} ({}, {})", c.cache, c.product, c.version))
            .collect::<Vec<_>>()
            .join("; "))
    );
    for p in &matrix.policies {
        let _ = write!(out, "<th>{}</th>", esc(policy_label(p)));
    }
    out.push_str("</tr>\n");
    for t in &matrix.targets {
        for c in &caches.ran {
            let _ = write!(
                out,
                "<tr><th>{}</th><td>{}</td>",
                esc(t.target),
                esc(c.cache)
            );
            for p in &matrix.policies {
                let cell = caches.cell(t.target, p, c.cache);
                let text = caches::short(cell);
                let sev = cell.and_then(|c| match &c.outcome {
                    CacheOutcome::Probed { findings, .. } => {
                        findings.iter().map(|f| f.severity).min()
                    }
                    CacheOutcome::Failed { .. } => None,
                });
                let class = if text == "failed" { "grey" } else { class(sev) };
                let _ = write!(
                    out,
                    "<td class=\"c\"><a href=\"#{}\"><span class=\"part {class}\">{}</span></a></td>",
                    cache_id(t.target, p, c.cache),
                    esc(&text)
                );
            }
            out.push_str("</tr>\n");
        }
    }
    out.push_str("</table>\n");
    for s in &caches.skipped {
        let _ = write!(
            out,
            "<p class=\"small\">skipped cache <b>{}</b>: {}</p>",
            esc(s.cache),
            esc(&s.reason)
        );
    }
    out
}

/// Links from a cell's `missing-vary` findings to the cache cells that show them.
fn cache_links(matrix: &Matrix, cell: &Cell) -> String {
    let Outcome::Checked {
        inexpressible,
        diverges,
        ..
    } = &cell.outcome
    else {
        return String::new();
    };
    let mut out = String::new();
    for f in diverges.iter().map(|d| &d.finding).chain(inexpressible) {
        let shown = matrix.caches.demonstrating(cell.target, &cell.policy, f);
        if shown.is_empty() {
            continue;
        }
        let links: Vec<String> = shown
            .iter()
            .map(|c| {
                format!(
                    "<a href=\"#{}\">{}</a>",
                    cache_id(cell.target, &cell.policy, c),
                    esc(c)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<p class=\"small\"><b>{}</b> on route <code>{}</code> shown behind a real cache: {}</p>",
            f.kind,
            esc(f.route.as_deref().unwrap_or("(none)")),
            links.join(", ")
        );
    }
    out
}

/// One cache cell: its findings, each with the transcript of the exchanges.
fn cache_details(cell: &CacheCell) -> String {
    let mut out = format!(
        "<details id=\"{}\"><summary><b>{}</b> × <b>{}</b> behind <b>{}</b></summary>\n",
        cache_id(cell.target, &cell.policy, cell.cache),
        esc(cell.target),
        esc(policy_label(&cell.policy)),
        esc(cell.cache)
    );
    match &cell.outcome {
        CacheOutcome::Probed {
            findings: list,
            requests,
            seconds,
        } => {
            let _ = writeln!(
                out,
                "<p class=\"small\">{requests} requests in {seconds:.1} s</p>"
            );
            if list.is_empty() {
                out.push_str("<p>No answer served to the wrong origin.</p>");
            }
            out.push_str(&findings(
                "Served to the wrong origin",
                list.iter().map(|f| (f, None)),
            ));
            for f in list {
                let _ = writeln!(
                    out,
                    "<p class=\"small\">transcript of {} on route <code>{}</code>:</p><pre>{}</pre>",
                    f.kind,
                    esc(f.route.as_deref().unwrap_or("(none)")),
                    esc(&transcript(f))
                );
            }
        }
        CacheOutcome::Failed { why } => {
            let _ = write!(out, "<p>{}</p>", esc(why));
        }
    }
    out.push_str("</details>\n");
    out
}

/// The exchanges of a finding as HTTP text: each request line and header lines, then the
/// status and header lines of its response.
pub(crate) fn transcript(f: &Finding) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut out = String::new();
    for (i, (sent, seen)) in f.exchanges.iter().enumerate() {
        let _ = writeln!(out, "#{} > {} {}", i + 1, sent.method, sent.url);
        for (n, v) in &sent.headers {
            let _ = writeln!(out, "> {}: {}", text(n), text(v));
        }
        let _ = writeln!(out, "< {}", seen.status);
        for (n, v) in &seen.headers {
            let _ = writeln!(out, "< {}: {}", text(n), text(v));
        }
        out.push('\n');
    }
    out
}
