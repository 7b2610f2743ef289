//! `corsproof audit URL [--origin ORIGIN]`: the policy-less scan for dangerous CORS behaviour
//! (probes and kinds: `corsproof_engine::audit`). Reports in text, JSON (a `Report` with
//! `policy: null`), JUnit XML or SARIF; exit 0 nothing found, 1 findings not waived with
//! `--allow`, 2 usage or input error, 3 target unreachable, not speaking HTTP, or the audit
//! left incomplete by failed probes.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use corsproof_client::Tls;
use corsproof_engine::audit::{self, Options};
use corsproof_report::{self as report, AuditKind};

/// Report formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people, grouped by kind (colour on a terminal unless NO_COLOR is set).
    Text,
    /// The JSON report (docs/cli.md), with `policy: null`.
    Json,
    /// JUnit XML, one test case per finding kind.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
}

/// The flags of `audit`.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    /// The site's own front-end origin, whose neighbours are probed (default: https://HOST
    /// of the URL).
    #[arg(long)]
    pub origin: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Waive findings of this kind (repeatable): they leave the report and do not fail the run.
    #[arg(long = "allow", value_name = "KIND", value_parser = crate::kind_parser::<AuditKind>("an audit"))]
    pub allow: Vec<AuditKind>,
    /// For an https:// URL, also trust the CA certificates of this PEM file (a private CA or
    /// a self-signed certificate; Mozilla's roots are always trusted).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// After the audit, replay each finding in real headless browsers against the URL, from
    /// the finding's own origin (a comma list: chromium,firefox); a finding a browser
    /// contradicts is a defect of corsproof (exit 4).
    #[arg(long, value_name = "BROWSERS", value_parser = crate::confirm::parse)]
    pub confirm: Option<crate::confirm::Browsers>,
    #[command(flatten)]
    pub retry: crate::retry::RetryFlags,
}

/// The trust store of https targets with `--cacert FILE` added, or `None` (the default
/// roots) without it; an unreadable or empty file is an input error (exit 2).
pub fn trust(cacert: Option<&std::path::Path>) -> anyhow::Result<Option<Tls>> {
    cacert
        .map(|file| Tls::webpki_roots().with_ca_pem_file(file))
        .transpose()
        .context("--cacert")
}

/// Runs `corsproof audit URL`: the exit code, or an input error (exit 2).
pub fn run(url: &str, flags: &Flags) -> anyhow::Result<u8> {
    let options = Options {
        origin: flags.origin.clone(),
        timeout: Duration::from_secs(flags.timeout),
        deadline: None,
        tls: trust(flags.cacert.as_deref())?,
        retry: flags.retry.policy(),
    };
    let https = url
        .trim_start()
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if let (Some(file), false) = (&flags.cacert, https) {
        eprintln!(
            "corsproof audit: --cacert {} has no effect: {url} is not an https:// URL",
            file.display()
        );
    }
    if let Some(browsers) = &flags.confirm {
        if let Err(e) = crate::confirm::available(browsers) {
            eprintln!("corsproof audit: {e:#}");
            return Ok(2);
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut report = match runtime.block_on(audit::audit(url, &options)) {
        Ok(report) => report,
        Err(e) if e.is_target_error() => {
            eprintln!("corsproof audit: {:#}", anyhow::Error::from(e));
            return Ok(3);
        }
        Err(e) => return Err(e.into()),
    };
    let before = report.findings.len();
    report
        .findings
        .retain(|f| !flags.allow.iter().any(|k| f.kind == *k));
    let waived = before - report.findings.len();
    let contradicted = match &flags.confirm {
        Some(browsers) => crate::confirm::run(
            &mut report,
            browsers,
            Duration::from_secs(flags.timeout),
            false,
        )?,
        None => false,
    };
    let output = match flags.format {
        Format::Json => report::json(&report),
        Format::Junit => report::junit(&report),
        Format::Sarif => report::sarif(&report),
        Format::Text => {
            let style = if flags.output.is_some() {
                report::Style { colour: false }
            } else {
                report::Style::detect()
            };
            without_replay_line(report::text(&report, style))
        }
    };
    crate::emit(&output, flags.output.as_ref())?;
    if waived > 0 {
        eprintln!("corsproof audit: {waived} finding(s) waived with --allow");
    }
    let errors = report.stats.errors;
    if errors > 0 {
        eprintln!(
            "corsproof audit: {errors} of {} probes got no usable answer; the audit is incomplete",
            report.cases
        );
    }
    Ok(match (report.findings.is_empty(), errors) {
        _ if contradicted => crate::confirm::CONTRADICTED,
        (false, _) => 1,
        (true, 0) => 0,
        (true, _) => 3,
    })
}

/// The text report without its closing `replay this run with --seed N` line: `audit` sends a
/// fixed probe list and has no `--seed`.
fn without_replay_line(text: String) -> String {
    let trimmed = text.trim_end_matches('\n');
    match trimmed.rsplit_once('\n') {
        Some((head, last)) if last.starts_with("replay this run with --seed") => {
            format!("{head}\n")
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::without_replay_line;

    #[test]
    fn drops_only_the_replay_line() {
        assert_eq!(
            without_replay_line("a\nverdict\nreplay this run with --seed 0\n".into()),
            "a\nverdict\n"
        );
        assert_eq!(without_replay_line("a\nverdict\n".into()), "a\nverdict\n");
    }
}
