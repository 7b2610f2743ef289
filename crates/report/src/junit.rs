//! The JUnit XML report, for CI systems.

use super::{distinct_routes, kind_entries, plural, KindEntry};
use crate::finding::{Finding, Report};

/// The JUnit XML report: one `<testsuite name="corsproof">` (inside a `<testsuites>` root)
/// with one `<testcase>` per kind — every `check` kind of
/// [`CheckKind::ALL`](crate::CheckKind::ALL), then every other kind present in the findings
/// (e.g. `audit` kinds). A testcase is named by its kind; its `classname` is the route of its
/// findings when they share one, else the target. A kind with findings fails: its
/// `<failure message=... type=SEVERITY>` lists them (route, profiles, rule, expected,
/// observed, explanation, reproduce lines). When requests got no usable answer, one more
/// testcase, `target-errors`, is in error: its `<error message=... type="target-error">` lists
/// each distinct target error (kind, count, request line, error, curl line).
///
/// Text is escaped for XML 1.0; characters XML 1.0 cannot hold (most C0 controls, U+FFFE,
/// U+FFFF) and the control characters it discourages (DEL, C1) are replaced visibly: a C0
/// control or DEL by its Unicode control picture (`\0` → `␀`, ESC → `␛`, DEL → `␡`), the
/// others by U+FFFD.
///
/// ```
/// use corsproof_report::{CheckKind, Report, Stats};
/// use corsproof_report::junit;
/// let r = Report { target: "http://127.0.0.1:8080".into(), policy: Some("p.toml".into()),
///     seed: 1, cases: 0, findings: vec![], target_errors: Default::default(), coverage: Default::default(), stats: Stats::default(), confirm: None };
/// let xml = junit(&r);
/// assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
/// assert!(xml.contains(&format!("<testsuite name=\"corsproof\" tests=\"{}\" failures=\"0\"",
///     CheckKind::ALL.len())));
/// assert!(xml.contains("<testcase name=\"read-granted\" classname=\"http://127.0.0.1:8080\"/>"));
/// ```
pub fn junit(report: &Report) -> String {
    let entries = kind_entries(report);
    let errors = usize::from(!report.target_errors.is_empty());
    let tests = entries.len() + errors;
    let failures = entries.iter().filter(|e| !e.findings.is_empty()).count();
    let time = seconds(report.stats.seconds);

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"corsproof\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time}\">\n"
    ));
    out.push_str(&format!(
        "  <testsuite name=\"corsproof\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{time}\">\n"
    ));

    out.push_str("    <properties>\n");
    let mut properties = vec![("target", report.target.clone())];
    if let Some(policy) = &report.policy {
        properties.push(("policy", policy.clone()));
    }
    properties.extend([
        ("seed", report.seed.to_string()),
        ("cases", report.cases.to_string()),
        ("requests", report.stats.requests.to_string()),
        ("failed-exchanges", report.stats.errors.to_string()),
        ("retries", report.stats.retries.to_string()),
    ]);
    for (name, value) in properties {
        out.push_str(&format!(
            "      <property name=\"{name}\" value=\"{}\"/>\n",
            escape(&value, true)
        ));
    }
    out.push_str("    </properties>\n");

    for entry in &entries {
        render_testcase(&mut out, entry, report);
    }
    if errors > 0 {
        render_target_errors(&mut out, report);
    }

    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// One kind's `<testcase>`.
fn render_testcase(out: &mut String, entry: &KindEntry<'_>, report: &Report) {
    let routes = distinct_routes(&entry.findings);
    let single_route = entry.findings.iter().all(|f| f.route.is_some()) && routes.len() == 1;
    let classname = match routes.first() {
        Some(route) if single_route => route,
        _ => report.target.as_str(),
    };
    let open = format!(
        "    <testcase name=\"{}\" classname=\"{}\"",
        escape(entry.kind.as_str(), true),
        escape(classname, true)
    );
    if entry.findings.is_empty() {
        out.push_str(&open);
        out.push_str("/>\n");
        return;
    }

    let mut message = plural(entry.findings.len() as u64, "finding");
    message.push_str(": ");
    message.push_str(entry.kind.meaning());
    let body: Vec<String> = entry.findings.iter().map(|f| describe(f)).collect();
    out.push_str(&open);
    out.push_str(">\n");
    out.push_str(&format!(
        "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
        escape(&message, true),
        entry.severity.as_str(),
        escape(&body.join("\n"), false)
    ));
    out.push_str("    </testcase>\n");
}

/// The `target-errors` testcase, in error.
fn render_target_errors(out: &mut String, report: &Report) {
    let errors = &report.target_errors;
    let message = format!(
        "{} got no usable answer and could not be judged",
        plural(errors.total(), "request")
    );
    let mut body: Vec<String> = errors
        .listed
        .iter()
        .map(|e| {
            format!(
                "[{}] {}: {} {}\n  error: {}\n  reproduce: {}\n",
                e.kind,
                plural(e.count, "time"),
                e.request.method,
                e.request.url,
                e.error,
                e.request.curl()
            )
        })
        .collect();
    if errors.unlisted > 0 {
        body.push(format!(
            "and {} not listed\n",
            plural(errors.unlisted, "more failed request")
        ));
    }
    out.push_str(&format!(
        "    <testcase name=\"target-errors\" classname=\"{}\">\n",
        escape(&report.target, true)
    ));
    out.push_str(&format!(
        "      <error message=\"{}\" type=\"target-error\">{}</error>\n",
        escape(&message, true),
        escape(&body.join("\n"), false)
    ));
    out.push_str("    </testcase>\n");
}

/// One finding as plain text lines.
fn describe(f: &Finding) -> String {
    let mut s = format!(
        "[{}] route {}",
        f.severity.as_str(),
        f.route.as_deref().unwrap_or("(none)")
    );
    if !f.profiles.is_empty() {
        let profiles: Vec<&str> = f.profiles.iter().map(|p| p.as_str()).collect();
        s.push_str(&format!(", profiles {}", profiles.join(", ")));
    }
    s.push('\n');
    if let Some(rule) = f.rule {
        s.push_str(&format!("  rule: {rule}"));
        if let Some(by) = f.decided_by {
            s.push_str(&format!(" (browser rule {by})"));
        }
        s.push('\n');
    }
    s.push_str(&format!("  expected: {}\n", f.expected));
    s.push_str(&format!("  observed: {}\n", f.observed));
    s.push_str(&format!("  why: {}\n", f.explanation));
    let lines: Vec<&str> = f
        .reproduce
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    if !lines.is_empty() {
        s.push_str("  reproduce:\n");
        for line in lines {
            s.push_str(&format!("    {line}\n"));
        }
    }
    for (browser, c) in &f.confirmed {
        s.push_str(&format!("  {browser}: {}\n", c.describe()));
        if let crate::Confirmation::Contradicted {
            browser: b,
            oracle,
            explain,
        } = c
        {
            s.push_str(&format!("    CORSPROOF DEFECT: browser {}\n", b.summary()));
            s.push_str(&format!("    oracle {}\n", oracle.summary()));
            s.push_str(&format!("    explain input: {explain}\n"));
        }
    }
    s
}

/// Seconds as JUnit wants them: a non-negative decimal number.
fn seconds(x: f64) -> String {
    if x.is_finite() && x >= 0.0 {
        format!("{x:.3}")
    } else {
        "0.000".to_string()
    }
}

/// `s` escaped for XML 1.0 element text (`attribute == false`) or a double-quoted attribute
/// value (`attribute == true`, where tab, line feed and carriage return are written as
/// character references so that attribute-value normalization keeps them).
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            // Not a Char of XML 1.0 (not even as a reference): shown as its control picture.
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            // Legal but discouraged (XML 1.0, 2.2) and invisible: DEL and the C1 controls.
            '\u{7f}' => out.push('\u{2421}'),
            '\u{80}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_handles_markup_and_controls() {
        assert_eq!(escape("a<b>&\"'", false), "a&lt;b&gt;&amp;\"'");
        assert_eq!(escape("a<b>&\"'", true), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(
            escape("\0\x1b\x7f\u{9b}", false),
            "\u{2400}\u{241b}\u{2421}\u{fffd}"
        );
        assert_eq!(escape("a\tb\nc\rd", true), "a&#9;b&#10;c&#13;d");
        assert_eq!(escape("a\tb\nc\rd", false), "a\tb\nc&#13;d");
        assert_eq!(escape("]]>", false), "]]&gt;");
        assert_eq!(escape("\u{fffe}\u{ffff}é", false), "\u{fffd}\u{fffd}é");
    }
}
