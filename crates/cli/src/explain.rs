//! `corsproof explain [FILE]`: the oracle as a tool.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use corsproof_case::{explain, Explained, Input, Output};

use crate::{Done, Format};

fn read_input(file: Option<&Path>) -> anyhow::Result<(String, String)> {
    match file {
        None => read_stdin(),
        Some(p) if p.as_os_str() == "-" => read_stdin(),
        Some(p) => Ok((
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
            p.display().to_string(),
        )),
    }
}

fn read_stdin() -> anyhow::Result<(String, String)> {
    use std::io::Read;
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read standard input")?;
    Ok((s, "<stdin>".to_string()))
}

/// Runs `explain`: exit 0 with the outcome, or an error (exit 2) naming what is wrong.
pub fn run(
    file: Option<&Path>,
    har: bool,
    origin: Option<&str>,
    browser: Option<&str>,
    format: Format,
) -> anyhow::Result<Done> {
    let (text, name) = read_input(file)?;
    let input = if har {
        corsproof_case::har::har_to_input(&text, origin)
            .with_context(|| format!("{name}: not a usable HAR file"))?
    } else {
        Input::parse(&text).with_context(|| format!("{name}: not an explain case"))?
    };
    let explained = explain(&input, browser).with_context(|| name.clone())?;
    let profile = browser.or(input.browser()).unwrap_or("fetch");
    let output = match format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&explained)?),
        Format::Text => match &explained {
            Explained::Case(out) => text_case(out, profile),
            Explained::Steps { steps } => {
                let mut s = String::new();
                let times = match &input {
                    Input::Steps(st) => st
                        .steps
                        .iter()
                        .map(|c| c.at_seconds.unwrap_or(0.0))
                        .collect(),
                    Input::Case(_) => Vec::new(),
                };
                for (i, out) in steps.iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "step {} at {} s",
                        i + 1,
                        times.get(i).copied().unwrap_or(0.0)
                    );
                    for line in text_case(out, profile).lines() {
                        let _ = writeln!(s, "  {line}");
                    }
                }
                s
            }
        },
    };
    Ok(Done { code: 0, output })
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The human form: what went out, what came back, the verdict and the deciding rule.
fn text_case(out: &Output, profile: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "browser profile: {profile}");
    for (i, hop) in out.hops.iter().enumerate() {
        let label = if i == 0 {
            "request".to_string()
        } else {
            format!("redirect {i}")
        };
        let _ = writeln!(
            s,
            "{label}: {}  (Origin: {})",
            hop.url,
            hop.origin_header.as_deref().unwrap_or("none")
        );
        if hop.cache_lookup == Some("undetermined") {
            let _ = writeln!(
                s,
                "  preflight cache: undetermined (D31): the browser may have evicted the entry; shown {}",
                if hop.preflight_cached {
                    "as if it is still there"
                } else {
                    "as if it was evicted"
                }
            );
        }
        match &hop.preflight {
            None if hop.preflight_cached => {
                let _ = writeln!(s, "  preflight: answered from the preflight cache (R28)");
            }
            None => {
                let _ = writeln!(s, "  preflight: none needed (R21: same-origin, no-cors, or safelisted method and headers)");
            }
            Some(p) => {
                let headers: Vec<String> = p
                    .request_headers
                    .iter()
                    .map(|(n, v)| format!("{n}: {v}"))
                    .collect();
                let _ = writeln!(s, "  preflight: OPTIONS with {}", headers.join(", "));
                match p.error {
                    None => {
                        let _ = writeln!(
                            s,
                            "    passed ({}); cached for {} s",
                            p.rule, p.cache_seconds
                        );
                    }
                    Some(e) => {
                        let _ = writeln!(s, "    FAILED: {e} ({})", p.rule);
                    }
                }
            }
        }
        let _ = writeln!(s, "  actual request sent: {}", yes_no(hop.sent));
    }
    if out.hops.is_empty() {
        let _ = writeln!(
            s,
            "request: not made: fetch() throws before anything is sent"
        );
    }
    let _ = writeln!(s, "credentials sent: {}", yes_no(out.credentials_sent));
    let _ = writeln!(s, "response type: {}", out.response_type);
    match out.error {
        None => {
            let _ = writeln!(
                s,
                "readable by script: {} ({})",
                yes_no(out.readable),
                out.rule
            );
        }
        Some(e) => {
            let _ = writeln!(s, "readable by script: no: {e} ({})", out.rule);
        }
    }
    let _ = writeln!(s, "why: {}", out.explanation);
    if out.readable {
        let _ = writeln!(
            s,
            "headers script can see: {}",
            if out.exposed_headers.is_empty() {
                "none".to_string()
            } else {
                out.exposed_headers.join(", ")
            }
        );
    }
    if let Some(u) = &out.undetermined {
        let _ = writeln!(
            s,
            "undetermined ({}): {} outcomes are possible; the one above has every entry the browser may have evicted still there",
            u.rule,
            u.outcomes.len()
        );
    }
    if !out.deviations.is_empty() {
        let _ = writeln!(
            s,
            "deviations from the standard applied: {}",
            out.deviations
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}
