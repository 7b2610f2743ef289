//! `--confirm BROWSERS` of `check` and `audit`: after the run, each finding's example is
//! replayed in real headless browsers against the target (`corsproof_browser::confirm`).
//! A finding a browser contradicts is a defect of corsproof, and the run exits 4.

use std::time::Duration;

use anyhow::Context;
use corsproof_browser::confirm::{confirm, Options};
use corsproof_browser::launch::Browser;
use corsproof_report::{ConfirmBrowser, Report};

/// The exit status of a run in which a browser contradicted a finding.
pub const CONTRADICTED: u8 = 4;

/// A comma-separated list of browsers (`chromium,firefox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browsers(pub Vec<ConfirmBrowser>);

/// Parses `--confirm`'s value.
pub fn parse(text: &str) -> Result<Browsers, String> {
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim) {
        let b = ConfirmBrowser::by_name(word)
            .ok_or_else(|| format!("{word:?} is not a browser (chromium, firefox)"))?;
        if !out.contains(&b) {
            out.push(b);
        }
    }
    Ok(Browsers(out))
}

/// Fails early, before the run, when a browser asked for is not installed.
pub fn available(browsers: &Browsers) -> anyhow::Result<()> {
    for b in &browsers.0 {
        let browser = match b {
            ConfirmBrowser::Chromium => Browser::Chromium,
            ConfirmBrowser::Firefox => Browser::Firefox,
        };
        browser.find().context("--confirm")?;
    }
    Ok(())
}

/// Replays the report's findings in the browsers and records the results in the report;
/// whether some browser contradicted a finding.
pub fn run(
    report: &mut Report,
    browsers: &Browsers,
    timeout: Duration,
    quiet: bool,
) -> anyhow::Result<bool> {
    if !quiet {
        eprintln!(
            "corsproof: confirming {} finding(s) in {}",
            report.findings.len(),
            browsers
                .0
                .iter()
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let options = Options {
        timeout,
        ..Options::default()
    };
    let run = confirm(&mut report.findings, &browsers.0, &options).context("--confirm")?;
    let contradicted = run.contradicted > 0;
    if contradicted {
        eprintln!(
            "corsproof: {} finding(s) contradicted by a real browser: a defect of corsproof, not of the target (exit {CONTRADICTED}); the report lists what the browser did, what the oracle predicted and the explain input",
            run.contradicted
        );
    }
    report.confirm = Some(run);
    Ok(contradicted)
}
