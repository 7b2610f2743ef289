//! The SARIF 2.1.0 report, for code-scanning dashboards.

use serde_json::{json, Map, Value};

use super::kind_entries;
use crate::finding::{Finding, Report, Severity};

/// The `$schema` of the SARIF 2.1.0 log.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of the fingerprint stable per (kind, route) in `partialFingerprints`.
const FINGERPRINT_KEY: &str = "corsproofKindRoute/v1";

/// The SARIF 2.1.0 log: one run of the tool `corsproof` whose rules are every kind (every
/// `check` kind of [`CheckKind::ALL`](crate::CheckKind::ALL), then every other kind present
/// in the findings), each with a short description and a default level (violation → `error`,
/// breakage → `warning`, hygiene → `note`); one result per finding, whose `ruleId` is its kind.
///
/// A result's location is the policy file (as a relative URI reference) with a logical
/// location naming the route ([`sarif_with_lines`] adds the route's line); without a policy
/// (`audit`), the target URL. Its
/// `partialFingerprints` hold a hash of (kind, route) only, so a finding keeps its identity
/// across runs, seeds and targets. The run's `properties` carry the target, policy, seed and
/// statistics; a result's `properties` carry its severity, browser profiles, decisive rule and
/// reproduce lines.
///
/// Target errors (requests that got no usable answer) are not results: the run's one
/// `invocation` lists each distinct one as a `toolExecutionNotification` of level `error`
/// (its message names the kind, count, request line and error; its `properties` carry the
/// kind, count, request and curl line), then one for the failed requests not listed.
///
/// ```
/// use corsproof_report::{CheckKind, Report, Stats};
/// use corsproof_report::sarif;
/// let r = Report { target: "http://127.0.0.1:8080".into(), policy: Some("p.toml".into()),
///     seed: 1, cases: 0, findings: vec![], target_errors: Default::default(), coverage: Default::default(), stats: Stats::default(), confirm: None };
/// let log: serde_json::Value = serde_json::from_str(&sarif(&r))?;
/// assert_eq!(log["version"], "2.1.0");
/// assert_eq!(log["runs"][0]["tool"]["driver"]["name"], "corsproof");
/// let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().map_or(0, Vec::len);
/// assert_eq!(rules, CheckKind::ALL.len());
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn sarif(report: &Report) -> String {
    sarif_with_lines(report, |_| None)
}

/// [`sarif`], with each result's physical location also carrying the line of its route in
/// the policy file (`region.startLine`) where `route_line` knows it: `route_line` gets a
/// finding's route (its name or path) and returns the 1-based line where that route starts.
///
/// ```
/// use corsproof_report::finding::{Finding, Report, Severity, Stats};
/// use corsproof_report::sarif_with_lines;
/// let r = Report { target: "http://127.0.0.1:8080".into(), policy: Some("p.toml".into()),
///     seed: 1, cases: 0, findings: vec![], target_errors: Default::default(), coverage: Default::default(), stats: Stats::default(), confirm: None };
/// let log: serde_json::Value = serde_json::from_str(&sarif_with_lines(&r, |route| (route == "/api/").then_some(7)))?;
/// assert_eq!(log["version"], "2.1.0");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn sarif_with_lines(report: &Report, route_line: impl Fn(&str) -> Option<usize>) -> String {
    let entries = kind_entries(report);

    let rules: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let description = capitalized(entry.kind.meaning());
            let mut properties = json!({ "tags": ["cors", entry.severity.as_str()] });
            if entry.severity == Severity::Violation {
                properties["security-severity"] = json!("8.0");
            }
            json!({
                "id": entry.kind.as_str(),
                "name": entry.kind.as_str(),
                "shortDescription": { "text": description },
                "defaultConfiguration": { "level": level(entry.severity) },
                "properties": properties,
            })
        })
        .collect();

    let artifact_uri = match &report.policy {
        Some(policy) => path_uri(policy),
        None => uri_reference(&report.target, true),
    };
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = entries.iter().position(|e| e.kind == f.kind).unwrap_or(0);
            let line = report
                .policy
                .as_ref()
                .and(f.route.as_deref())
                .and_then(&route_line);
            result(f, index, &artifact_uri, line)
        })
        .collect();

    let mut run_properties = Map::new();
    run_properties.insert("target".into(), json!(report.target));
    if let Some(policy) = &report.policy {
        run_properties.insert("policy".into(), json!(policy));
    }
    // A string: JSON readers that use doubles would round a large seed.
    run_properties.insert("seed".into(), json!(report.seed.to_string()));
    run_properties.insert("cases".into(), json!(report.cases));
    run_properties.insert("stats".into(), stats(report));

    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "corsproof",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "invocations": [invocation(report)],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": Value::Object(run_properties),
        }],
    });
    let mut out = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| format!("{{\"error\": {}}}", json!(e.to_string())));
    out.push('\n');
    out
}

/// One finding as a SARIF result.
fn result(f: &Finding, rule_index: usize, artifact_uri: &str, line: Option<usize>) -> Value {
    let mut text = f.kind.as_str().to_string();
    if let Some(route) = &f.route {
        text.push_str(&format!(" on route {route}"));
    }
    text.push_str(&format!(
        ": observed {}; expected {}. {}",
        f.observed, f.expected, f.explanation
    ));
    if let Some(rule) = f.rule {
        text.push_str(&format!(" (rule {rule}"));
        if let Some(by) = f.decided_by {
            text.push_str(&format!("; browser rule {by}"));
        }
        text.push(')');
    }

    let mut location = json!({
        "physicalLocation": { "artifactLocation": { "uri": artifact_uri } },
    });
    if let Some(line) = line {
        location["physicalLocation"]["region"] = json!({ "startLine": line });
    }
    if let Some(route) = &f.route {
        location["logicalLocations"] = json!([{
            "name": route,
            "fullyQualifiedName": route,
            "kind": "resource",
        }]);
    }

    let mut properties = json!({
        "severity": f.severity.as_str(),
        "profiles": f.profiles,
        "reproduce": f.reproduce.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>(),
    });
    if let Some(rule) = f.rule {
        properties["rule"] = json!(rule);
    }
    if let Some(by) = f.decided_by.or(f.rule) {
        properties["decisiveRule"] = json!(by);
    }
    if !f.confirmed.is_empty() {
        properties["confirmed"] = json!(f.confirmed);
        let words: Vec<String> = f
            .confirmed
            .iter()
            .map(|(b, c)| format!("{b} {}", c.describe()))
            .collect();
        text.push_str(&format!(" Browsers: {}.", words.join("; ")));
    }

    json!({
        "ruleId": f.kind.as_str(),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": {
            FINGERPRINT_KEY: fingerprint(f.kind.as_str(), f.route.as_deref()),
        },
        "properties": properties,
    })
}

/// The run's invocation: it ran to completion (a target error is the target's failure, not
/// the tool's), with one notification per distinct target error and one for those not listed.
fn invocation(report: &Report) -> Value {
    let errors = &report.target_errors;
    let mut notifications: Vec<Value> = errors
        .listed
        .iter()
        .map(|e| {
            let times = if e.count == 1 { "time" } else { "times" };
            json!({
                "level": "error",
                "message": {
                    "text": format!(
                        "Target error ({}, {} {times}): {} {}: {}",
                        e.kind, e.count, e.request.method, e.request.url, e.error
                    ),
                },
                "properties": {
                    "kind": e.kind,
                    "count": e.count,
                    "request": e.request,
                    "reproduce": e.request.curl(),
                },
            })
        })
        .collect();
    if errors.unlisted > 0 {
        notifications.push(json!({
            "level": "error",
            "message": {
                "text": format!("{} more failed requests are not listed", errors.unlisted),
            },
            "properties": { "count": errors.unlisted },
        }));
    }
    let mut invocation = json!({ "executionSuccessful": true });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }
    invocation
}

/// The run's statistics, with non-finite numbers left out (JSON cannot hold them).
fn stats(report: &Report) -> Value {
    let s = &report.stats;
    let mut map = Map::new();
    map.insert("cases".into(), json!(s.cases));
    map.insert("requests".into(), json!(s.requests));
    if s.seconds.is_finite() {
        map.insert("seconds".into(), json!(s.seconds));
    }
    if s.requests_per_second.is_finite() {
        map.insert("requestsPerSecond".into(), json!(s.requests_per_second));
    }
    map.insert("failedExchanges".into(), json!(s.errors));
    map.insert("failingCases".into(), json!(s.failing_cases));
    map.insert("retries".into(), json!(s.retries));
    Value::Object(map)
}

/// The SARIF level of a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Violation => "error",
        Severity::Breakage => "warning",
        Severity::Hygiene => "note",
    }
}

/// `s` with its first letter upper-cased.
fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A hash of (kind, route), hex: 64-bit FNV-1a over the kind, a NUL, and the route (or
/// nothing). Fixed by definition, unlike `std`'s hashers.
fn fingerprint(kind: &str, route: Option<&str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = kind.bytes().chain([0u8]).chain(route.unwrap_or("").bytes());
    for b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// A file path as a URI reference: backslashes become slashes, a Windows drive path becomes a
/// `file:` URI, a first segment with a colon gets `./` so that it is not read as a scheme, and
/// every character a URI cannot hold is percent-encoded.
fn path_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    let drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if drive {
        return format!("file:///{}", uri_reference(&path, false));
    }
    let first_segment = path.split('/').next().unwrap_or("");
    let encoded = uri_reference(&path, false);
    if first_segment.contains(':') {
        format!("./{encoded}")
    } else {
        encoded
    }
}

/// `s` with every byte that cannot appear in a URI reference percent-encoded. With `url`,
/// `?`, `#`, `[` and `]` keep their URI meaning (query, fragment, IPv6 host); without, they
/// are encoded (as in a file name). A `%` already followed by two hex digits is kept.
fn uri_reference(s: &str, url: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &b) in bytes.iter().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=:@/".contains(&b)
            || (url && b"?#[]".contains(&b))
            || (b == b'%'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_valid_references() {
        assert_eq!(
            path_uri("corpus/policies/a b.toml"),
            "corpus/policies/a%20b.toml"
        );
        assert_eq!(path_uri("C:\\p\\x.toml"), "file:///C:/p/x.toml");
        assert_eq!(path_uri("a:b.toml"), "./a:b.toml");
        assert_eq!(path_uri("dir:x/p.toml"), "./dir:x/p.toml");
        assert_eq!(path_uri("/abs/é?#.toml"), "/abs/%C3%A9%3F%23.toml");
        assert_eq!(
            uri_reference("http://h/a b?q=1#f%2", true),
            "http://h/a%20b?q=1#f%252"
        );
        assert_eq!(uri_reference("http://h/%41", true), "http://h/%41");
        assert_eq!(uri_reference("http://[::1]:80/", true), "http://[::1]:80/");
        assert_eq!(path_uri("[x].toml"), "%5Bx%5D.toml");
    }

    #[test]
    fn fingerprints_depend_on_kind_and_route_only() {
        assert_eq!(fingerprint("a", Some("/x")), fingerprint("a", Some("/x")));
        assert_ne!(fingerprint("a", Some("/x")), fingerprint("a", Some("/y")));
        assert_ne!(fingerprint("a", Some("/x")), fingerprint("b", Some("/x")));
        // FNV-1a 64 test vector: a single NUL byte.
        assert_eq!(fingerprint("", None), "af63bd4c8601b7df");
        assert_eq!(fingerprint("a", Some("/x")), "ac2aed820e0709cb");
    }
}
