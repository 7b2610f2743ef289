//! The text report, for people.

use std::borrow::Cow;
use std::io::IsTerminal;

use super::{distinct_profiles, distinct_routes, is_cors_header, kind_entries, plural};
use super::{severity_counts, KindEntry};
use crate::confirm::{ConfirmRun, Confirmation};
use crate::finding::{Coverage, Finding, Report, Severity};
use crate::latin1;

/// How [`text()`] renders.
///
/// `colour` turns on ANSI colour: red for violations, yellow for breakage, cyan for hygiene,
/// bold headings. The default is no colour.
///
/// ```
/// use corsproof_report::Style;
/// assert!(!Style::default().colour);
/// let style = Style { colour: true };
/// assert!(style.colour);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Whether to use ANSI colour escapes.
    pub colour: bool,
}

impl Style {
    /// Colour exactly when standard output is a terminal and the `NO_COLOR` environment
    /// variable is not set to a non-empty value (no-color.org: an empty value does not
    /// count).
    ///
    /// ```
    /// use corsproof_report::Style;
    /// let style = Style::detect();
    /// if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
    ///     assert!(!style.colour);
    /// }
    /// ```
    pub fn detect() -> Style {
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            colour: std::io::stdout().is_terminal() && !no_colour,
        }
    }

    /// `s` wrapped in the SGR `codes` when colour is on, else `s` unchanged.
    fn paint(self, codes: &str, s: &str) -> String {
        if self.colour {
            format!("\x1b[{codes}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// SGR code of bold.
const BOLD: &str = "1";
/// SGR code of green, for a clean verdict.
const GREEN: &str = "32";
/// SGR code of magenta, for target errors.
const MAGENTA: &str = "35";

/// The SGR colour code of a severity.
fn colour_of(severity: Severity) -> &'static str {
    match severity {
        Severity::Violation => "31",
        Severity::Breakage => "33",
        Severity::Hygiene => "36",
    }
}

/// The text report for people: a summary line; the findings grouped by kind, most severe
/// first, each with the decisive rule, expected versus observed, the exchanges (request lines,
/// the response's status and CORS header lines) and the curl lines reproducing them; the
/// target errors (requests that got no usable answer), each with its count, error and curl
/// line; a verdict line; and the `--seed` that replays the run.
///
/// Strings from the report are shown with control and bidirectional-formatting characters
/// escaped (`\x1b`, `\u{202e}`), so a hostile target cannot drive the terminal; a reproduce
/// line holding such a character is therefore not byte-exact.
///
/// ```
/// use corsproof_oracle::{profile::ProfileId, RuleId};
/// use corsproof_report::{text, CheckKind, Finding, Report, SeenResponse, Severity, Stats, Style};
/// let request: corsproof_case::RequestJson = serde_json::from_str(
///     r#"{"url": "http://127.0.0.1:8080/api/", "origin": "https://evil.test"}"#).unwrap();
/// let finding = Finding {
///     kind: CheckKind::ReadGranted.into(),
///     severity: Severity::Violation,
///     route: Some("/api/".into()),
///     profiles: vec![ProfileId::Fetch],
///     request: request.into(),
///     exchanges: vec![],
///     response: SeenResponse::default(),
///     expected: "not readable".into(),
///     observed: "readable".into(),
///     rule: Some(RuleId::P5),
///     decided_by: Some(RuleId::R33),
///     reproduce: "curl -si -H 'Origin: https://evil.test' http://127.0.0.1:8080/api/".into(),
///     explanation: "the origin is reflected".into(), confirmed: Default::default(),
/// };
/// let r = Report { target: "http://127.0.0.1:8080".into(), policy: Some("p.toml".into()),
///     seed: 42, cases: 10, findings: vec![finding], target_errors: Default::default(), coverage: Default::default(), stats: Stats::default(), confirm: None };
/// let out = text(&r, Style { colour: false });
/// assert!(out.contains("VIOLATION read-granted"));
/// assert!(out.trim_end().ends_with("--seed 42"));
/// assert!(!out.contains('\x1b'));
/// ```
pub fn text(report: &Report, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&summary(report));
    out.push('\n');

    let mut groups: Vec<KindEntry<'_>> = kind_entries(report)
        .into_iter()
        .filter(|e| !e.findings.is_empty())
        .collect();
    // Stable: within a severity, the order of `kind_entries` (kinds::ALL, then first seen).
    groups.sort_by_key(|g| g.severity);
    for group in &groups {
        out.push('\n');
        render_group(&mut out, group, style);
    }

    if !report.target_errors.is_empty() {
        out.push('\n');
        render_target_errors(&mut out, report, style);
    }

    if !report.coverage.is_empty() {
        out.push('\n');
        render_coverage(&mut out, &report.coverage);
    }

    if let Some(confirm) = &report.confirm {
        out.push('\n');
        render_confirm_run(&mut out, confirm);
    }

    out.push('\n');
    out.push_str(&verdict(report, style));
    out.push('\n');
    // `audit` (no policy) sends a fixed probe list: there is no seed to replay.
    if report.policy.is_some() {
        out.push_str(&format!("replay this run with --seed {}\n", report.seed));
    }
    out
}

/// What was checked: the profiles, and per route the cases judged, their origins, methods
/// and request headers; then the properties every case was held to.
fn render_coverage(out: &mut String, coverage: &Coverage) {
    let profiles: Vec<&str> = coverage.profiles.iter().map(|p| p.as_str()).collect();
    out.push_str(&format!("checked, under {}:\n", profiles.join(", ")));
    for r in &coverage.routes {
        let name = match &r.route {
            Some(route) => format!("route {}", clean(route)),
            None => "no route".to_string(),
        };
        let methods: Vec<&str> = r.methods.iter().map(String::as_str).collect();
        let headers = if r.request_headers.is_empty() {
            "no request header".to_string()
        } else {
            let names: Vec<&str> = r.request_headers.iter().map(String::as_str).collect();
            format!("request headers {}", clean_join(&names))
        };
        out.push_str(&format!(
            "  {name}: {} ({} credentialed) from {}; methods {}; {headers}\n",
            plural(r.cases, "case"),
            r.credentialed,
            plural(r.origins, "origin"),
            clean_join(&methods),
        ));
    }
    out.push_str(
        "  held to: what the browser sends, lets script read and exposes, and how long it caches \
         a preflight (P1-P11); cache safety (H1); no CORS details to refused origins (H2); the \
         policy's Max-Age (H3); the CORS headers' grammars\n",
    );
}

/// The first line: what was checked and how fast.
fn summary(report: &Report) -> String {
    let stats = &report.stats;
    let mut line = match &report.policy {
        Some(policy) => format!(
            "corsproof check of {} against policy {}",
            clean(&report.target),
            clean(policy)
        ),
        None => format!("corsproof audit of {}", clean(&report.target)),
    };
    if report.policy.is_some() {
        line.push_str(&format!(": seed {},", report.seed));
    } else {
        line.push(':');
    }
    line.push_str(&format!(
        " {}, {} in {} ({} req/s)",
        plural(report.cases, "case"),
        plural(stats.requests, "request"),
        number(stats.seconds, " s", 2),
        number(stats.requests_per_second, "", 1),
    ));
    if stats.errors > 0 {
        line.push_str(&format!(", {}", plural(stats.errors, "failed exchange")));
    }
    if stats.skipped > 0 {
        line.push_str(&format!(
            ", {} not started (deadline or request budget)",
            plural(stats.skipped, "case")
        ));
    }
    line
}

/// The confirm step: each browser with its version and cookie settings, and the time per
/// finding.
fn render_confirm_run(out: &mut String, run: &ConfirmRun) {
    out.push_str(&format!(
        "confirmed in real browsers: {} replayed in {} ({} per finding and browser)",
        plural(run.findings, "finding"),
        number(run.seconds, " s", 2),
        number(
            run.seconds / (run.findings.max(1) * run.browsers.len().max(1) as u64) as f64,
            " s",
            2
        ),
    ));
    if run.contradicted > 0 {
        out.push_str(&format!(", {} contradicted", run.contradicted));
    }
    out.push('\n');
    for b in &run.browsers {
        out.push_str(&format!(
            "  {}: {}; cookies: {}\n",
            b.browser,
            clean(&b.version),
            clean(&b.cookies)
        ));
    }
}

/// One kind's group: heading, routes and profiles, then each finding.
fn render_group(out: &mut String, group: &KindEntry<'_>, style: Style) {
    let colour = colour_of(group.severity);
    let severity = style.paint(
        &format!("{BOLD};{colour}"),
        &group.severity.as_str().to_ascii_uppercase(),
    );
    let kind = style.paint(BOLD, group.kind.as_str());
    let mut heading = format!(
        "{severity} {kind} ({})",
        plural(group.findings.len() as u64, "finding")
    );
    heading.push_str(": ");
    heading.push_str(group.kind.meaning());
    out.push_str(&heading);
    out.push('\n');

    let routes = distinct_routes(&group.findings);
    if !routes.is_empty() {
        let label = if routes.len() == 1 { "route" } else { "routes" };
        out.push_str(&format!("  {label}: {}\n", clean_join(&routes)));
    }
    let profiles = distinct_profiles(&group.findings);
    if !profiles.is_empty() {
        out.push_str(&format!("  profiles: {}\n", clean_join(&profiles)));
    }

    let total = group.findings.len();
    for (i, finding) in group.findings.iter().enumerate() {
        render_finding(out, finding, i + 1, total, style);
    }
}

/// One finding, indented under its group.
fn render_finding(out: &mut String, f: &Finding, n: usize, total: usize, style: Style) {
    let mut heading = format!("  [{n}/{total}]");
    match &f.route {
        Some(route) => heading.push_str(&format!(" route {}", clean(route))),
        None => heading.push_str(" no route"),
    }
    if !f.profiles.is_empty() {
        let profiles: Vec<&str> = f.profiles.iter().map(|p| p.as_str()).collect();
        heading.push_str(&format!(", profiles {}", clean_join(&profiles)));
    }
    out.push_str(&style.paint(BOLD, &heading));
    out.push('\n');

    match (f.rule, f.decided_by) {
        (Some(rule), Some(by)) => out.push_str(&format!(
            "      rule {rule} (browser rule {by}): {}\n",
            clean(&f.explanation)
        )),
        (Some(rule), None) => {
            out.push_str(&format!("      rule {rule}: {}\n", clean(&f.explanation)))
        }
        (None, _) => out.push_str(&format!("      why: {}\n", clean(&f.explanation))),
    }
    out.push_str(&format!("      expected: {}\n", clean(&f.expected)));
    out.push_str(&format!(
        "      observed: {}\n",
        style.paint(colour_of(f.severity), &clean(&f.observed))
    ));

    for (i, (request, response)) in f.exchanges.iter().enumerate() {
        out.push_str(&format!("      exchange {}:\n", i + 1));
        out.push_str(&format!(
            "        > {} {}\n",
            clean(&request.method),
            clean(&request.url)
        ));
        let mut hidden = 0;
        for (name, value) in &request.headers {
            if is_browser_line(name, value) {
                hidden += 1;
                continue;
            }
            out.push_str(&format!(
                "        > {}: {}\n",
                clean(&latin1::decode(name)),
                clean(&latin1::decode(value))
            ));
        }
        if hidden > 0 {
            out.push_str(&format!(
                "        > ({} the browser adds to every request: see the curl line)\n",
                plural(hidden, "more line")
            ));
        }
        out.push_str(&format!("        < {}\n", response.status));
        let mut cors = response
            .headers
            .iter()
            .filter(|(name, _)| is_cors_header(name))
            .peekable();
        if cors.peek().is_none() {
            out.push_str("        < (no CORS headers)\n");
        }
        for (name, value) in cors {
            out.push_str(&format!(
                "        < {}: {}\n",
                clean(&latin1::decode(name)),
                clean(&latin1::decode(value))
            ));
        }
    }

    let lines: Vec<&str> = f
        .reproduce
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    if !lines.is_empty() {
        out.push_str("      reproduce:\n");
        for line in lines {
            out.push_str(&format!("        {}\n", clean(line)));
        }
    }
    render_confirmations(out, f, style);
}

/// Each browser's result for the finding (`--confirm`); a contradiction with what the
/// browser did, what the oracle predicted and the `explain` input that reproduces it.
fn render_confirmations(out: &mut String, f: &Finding, style: Style) {
    for (name, c) in &f.confirmed {
        out.push_str(&format!("      {name}: {}\n", clean(&c.describe())));
        match c {
            Confirmation::Confirmed { browser } => {
                out.push_str(&format!("        browser: {}\n", clean(&browser.summary())));
            }
            Confirmation::Contradicted {
                browser,
                oracle,
                explain,
            } => {
                let defect = "CORSPROOF DEFECT: the browser contradicts the oracle (a bug of corsproof, not of the target: please report it with these lines)";
                out.push_str(&format!("        {}\n", style.paint(BOLD, defect)));
                out.push_str(&format!("        browser: {}\n", clean(&browser.summary())));
                out.push_str(&format!("        oracle:  {}\n", clean(&oracle.summary())));
                out.push_str(&format!(
                    "        differs in: {}\n",
                    browser.differences(oracle).join(", ")
                ));
                out.push_str(&format!(
                    "        reproduce the oracle's side: corsproof explain --browser {name} with {}\n",
                    clean(&explain.to_string())
                ));
            }
            Confirmation::NotReplayable(_) => {}
        }
    }
}

/// The target errors: each distinct one with its count, request line, error and curl line;
/// then how many failed requests are not listed.
fn render_target_errors(out: &mut String, report: &Report, style: Style) {
    let errors = &report.target_errors;
    let heading = format!(
        "TARGET ERRORS ({} got no usable answer and {} not judged)",
        plural(errors.total(), "request"),
        if errors.total() == 1 { "was" } else { "were" }
    );
    out.push_str(&style.paint(&format!("{BOLD};{MAGENTA}"), &heading));
    out.push('\n');
    let total = errors.listed.len();
    for (i, e) in errors.listed.iter().enumerate() {
        let line = format!(
            "  [{}/{total}] {} ({}): {} {}",
            i + 1,
            e.kind,
            plural(e.count, "time"),
            clean(&e.request.method),
            clean(&e.request.url)
        );
        out.push_str(&style.paint(BOLD, &line));
        out.push('\n');
        out.push_str(&format!("      error: {}\n", clean(&e.error)));
        out.push_str(&format!("      reproduce: {}\n", clean(&e.request.curl())));
    }
    if errors.unlisted > 0 {
        out.push_str(&format!(
            "  and {} not listed\n",
            plural(errors.unlisted, "more failed request")
        ));
    }
}

/// Whether a request line is one a browser adds to every request of its kind, which the text
/// report leaves out of an exchange (the curl line keeps every line): `Host`, `User-Agent`,
/// `Referer`, `Connection`, `Priority`, `Accept-Encoding`, `Accept-Language`, the default
/// `Accept: */*`, the Fetch metadata and client-hint headers.
fn is_browser_line(name: &[u8], value: &[u8]) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_slice(),
        b"host"
            | b"user-agent"
            | b"referer"
            | b"connection"
            | b"priority"
            | b"accept-encoding"
            | b"accept-language"
    ) || (name == b"accept" && value == b"*/*")
        || name.starts_with(b"sec-fetch-")
        || name.starts_with(b"sec-ch-ua")
}

/// The verdict line, coloured by the worst severity found; with target errors, how many
/// requests it does not cover.
fn verdict(report: &Report, style: Style) -> String {
    let mut line = verdict_words(report, style);
    let failed = report.target_errors.total();
    if failed > 0 {
        line.push_str(&format!(
            "; {} not judged (target errors)",
            plural(failed, "request")
        ));
    }
    line
}

/// The verdict on the findings.
fn verdict_words(report: &Report, style: Style) -> String {
    let (violations, breakage, hygiene) = severity_counts(report);
    let total = report.findings.len();
    if total == 0 {
        let words = if report.policy.is_some() {
            "verdict: conforms, no findings"
        } else {
            "verdict: nothing found"
        };
        return style.paint(&format!("{BOLD};{GREEN}"), words);
    }
    let worst = report
        .findings
        .iter()
        .map(|f| f.severity)
        .min()
        .unwrap_or(Severity::Hygiene);
    let head = if report.policy.is_some() {
        "verdict: does not conform"
    } else {
        "verdict: dangerous CORS behaviour found"
    };
    let words = format!(
        "{head}, {} ({violations} violation, {breakage} breakage, {hygiene} hygiene)",
        plural(total as u64, "finding")
    );
    style.paint(&format!("{BOLD};{}", colour_of(worst)), &words)
}

/// A float with `decimals` decimals and a unit, or `?` when it is not a finite number.
fn number(x: f64, unit: &str, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}{unit}")
    } else {
        format!("?{unit}")
    }
}

/// The items, each cleaned, joined by `, `.
fn clean_join(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| clean(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `c` must not reach a terminal as is: C0 and C1 controls, DEL, the Unicode
/// bidirectional formatting characters that reorder what is displayed, the line and paragraph
/// separators, zero-width characters, and the non-characters U+FFFE and U+FFFF.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fffe}'
                | '\u{ffff}'
        )
}

/// `s` with every unsafe character escaped: `\xNN` below U+0100, `\u{NNNN}` above.
fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_escapes_terminal_controls() {
        assert_eq!(clean("a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(clean("\u{9b}2J"), "\\x9b2J");
        assert_eq!(clean("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(
            clean("\u{2028}\u{feff}\u{ffff}"),
            "\\u{2028}\\u{feff}\\u{ffff}"
        );
        assert_eq!(clean("café ☕"), "café ☕");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn numbers_that_are_not_finite_show_as_unknown() {
        assert_eq!(number(f64::NAN, " s", 2), "? s");
        assert_eq!(number(1.5, " s", 2), "1.50 s");
    }
}
