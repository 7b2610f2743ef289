//! The report renderers against hostile reports: every string a target can influence carries
//! quotes, markup, control bytes, bidirectional overrides and non-ASCII text.
//!
//! - JUnit XML is parsed by an independent XML parser (`roxmltree`); counts and failures must
//!   match the findings, and every character XML 1.0 can hold must survive.
//! - SARIF is checked against the structure of the SARIF 2.1.0 schema by hand: the required
//!   properties, the allowed property names of every object used (the schema forbids others),
//!   the level enumeration, rule references and URI references.
//! - Text must group by kind in severity order and never let a control byte through, coloured
//!   or not.

use corsproof_case::RequestJson;
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::RuleId;
use corsproof_report::{
    json, junit, sarif, text, AuditKind, CheckKind, Coverage, Finding, Kind, Report, RouteCoverage,
    SeenResponse, SentRequest, Severity, Stats, Style, TargetError, TargetErrorKind, TargetErrors,
};
use proptest::prelude::*;
use serde_json::Value;

/// Everything that breaks naive renderers.
const HOSTILE: &str = "q\"uo'te <tag a=\"1\"> & amp; ]]> \u{0}\u{1}\u{7}\u{b}\u{c}\u{1b}[31m\u{7f}\u{9b}2J café ☕ 東京 \u{202e}evil\u{fffe}\u{ffff}\r\n\tend";
/// A route with markup characters.
const API: &str = "/api/<items>&\"q\"";
/// An `audit` kind, absent from `CheckKind::ALL`.
const AUDIT_KIND: Kind = Kind::Audit(AuditKind::OriginReflected);
/// A second `audit` kind, on a hostile route.
const OTHER_AUDIT_KIND: Kind = Kind::Audit(AuditKind::NullOrigin);
/// The check kinds as the renderers list them.
fn check_kinds() -> Vec<Kind> {
    CheckKind::ALL.iter().map(|k| Kind::Check(*k)).collect()
}
/// The target of the test reports.
const TARGET: &str = "http://127.0.0.1:8080";

fn finding(kind: Kind, severity: Severity, route: Option<&str>, profiles: &[ProfileId]) -> Finding {
    let url = format!("{TARGET}{}", route.unwrap_or("/"));
    let preflight = SentRequest::new("OPTIONS", url.clone())
        .header("Origin", "https://evil.test")
        .header("Access-Control-Request-Method", "PUT");
    let preflight_response = SeenResponse {
        status: 204,
        headers: vec![
            (
                b"Access-Control-Allow-Origin".to_vec(),
                b"https://evil.test\x1b[2J".to_vec(),
            ),
            (b"Access-Control-Allow-Methods".to_vec(), b"PUT".to_vec()),
            (b"Set-Cookie".to_vec(), b"session=secret".to_vec()),
        ],
    };
    let actual = SentRequest::new("PUT", url.clone()).header("Origin", "https://evil.test");
    let response = SeenResponse {
        status: 200,
        headers: vec![
            (b"access-control-allow-origin".to_vec(), latin1(HOSTILE)),
            (b"Vary".to_vec(), b"Accept-Encoding".to_vec()),
            (b"X-Request-Id".to_vec(), b"7".to_vec()),
        ],
    };
    let reproduce = format!("{}\n{}\n", preflight.curl(), actual.curl());
    let request = RequestJson {
        url,
        origin: "https://evil.test".into(),
        method: "PUT".into(),
        headers: vec![("X-Note".into(), HOSTILE.into())],
        credentials: None,
        mode: None,
        body: None,
        use_cors_preflight: false,
        redirect: None,
        private_network: false,
    };
    Finding {
        kind,
        severity,
        route: route.map(String::from),
        profiles: profiles.to_vec(),
        request: request.into(),
        exchanges: vec![(preflight, preflight_response), (actual, response.clone())],
        response,
        expected: format!("not readable <{kind}>"),
        observed: format!("readable & \"{kind}\""),
        rule: Some(RuleId::P5),
        decided_by: Some(RuleId::R33),
        reproduce,
        explanation: HOSTILE.into(),
        confirmed: Default::default(),
    }
}

/// The bytes of `text` where each character fits in one (Latin-1), else its UTF-8 bytes: a
/// hostile header value as a target could send it.
fn latin1(text: &str) -> Vec<u8> {
    corsproof_report::latin1::encode(text).unwrap_or_else(|_| text.as_bytes().to_vec())
}

/// Six findings of five kinds: two of one check kind on two routes, a breakage, a hygiene
/// finding, an `audit` kind and a kind with characters that need escaping; deliberately not
/// in severity order.
fn hostile_report() -> Report {
    Report {
        target: TARGET.into(),
        policy: Some("corpus/policies/a policy&<é>.toml".into()),
        seed: 42,
        cases: 1200,
        findings: vec![
            finding(
                Kind::Check(CheckKind::DuplicateHeader),
                Severity::Hygiene,
                Some(API),
                &[ProfileId::Fetch],
            ),
            finding(
                Kind::Check(CheckKind::ReadGranted),
                Severity::Violation,
                Some(API),
                &[ProfileId::Fetch, ProfileId::Chromium, ProfileId::Firefox],
            ),
            finding(
                Kind::Check(CheckKind::SentBlocked),
                Severity::Breakage,
                Some("/upload/"),
                &[ProfileId::Firefox],
            ),
            finding(
                Kind::Check(CheckKind::ReadGranted),
                Severity::Violation,
                Some("/admin/"),
                &[ProfileId::Chromium],
            ),
            finding(AUDIT_KIND, Severity::Violation, None, &[ProfileId::Fetch]),
            finding(
                OTHER_AUDIT_KIND,
                Severity::Hygiene,
                Some(HOSTILE),
                &[ProfileId::Firefox],
            ),
        ],
        target_errors: hostile_target_errors(),
        coverage: Default::default(),
        stats: Stats {
            cases: 1200,
            requests: 2400,
            seconds: 3.2,
            requests_per_second: 750.0,
            errors: 6,
            failing_cases: 9,
            retries: 4,
            skipped: 0,
        },
        confirm: None,
    }
}

/// Two distinct target errors (one on a hostile request, with a hostile error) and three
/// failed requests not listed.
fn hostile_target_errors() -> TargetErrors {
    let hostile = SentRequest::new("GET", format!("{TARGET}{API}"))
        .header("Origin", "https://evil.test")
        .header("X-Note", latin1(HOSTILE));
    TargetErrors {
        listed: vec![
            TargetError {
                kind: TargetErrorKind::Malformed,
                error: HOSTILE.into(),
                request: hostile,
                count: 2,
            },
            TargetError {
                kind: TargetErrorKind::Overloaded,
                error: "429 Too Many Requests on each of 3 attempts".into(),
                request: SentRequest::new("OPTIONS", format!("{TARGET}/upload/"))
                    .header("Origin", "https://app.test"),
                count: 1,
            },
        ],
        unlisted: 3,
    }
}

/// Whether the JUnit report keeps `c`: XML 1.0 can hold it (its `Char` production) and it
/// is not a control character XML 1.0 discourages (DEL, C1; section 2.2).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// `parsed` is `original` with exactly the characters XML cannot hold replaced, each by one
/// visible (non-control) character.
fn survives_xml(original: &str, parsed: &str) -> Result<(), String> {
    let (o, p): (Vec<char>, Vec<char>) = (original.chars().collect(), parsed.chars().collect());
    if o.len() != p.len() {
        return Err(format!("{original:?} became {parsed:?}"));
    }
    for (a, b) in o.iter().zip(&p) {
        let ok = if xml_char(*a) {
            a == b
        } else {
            !b.is_control() && xml_char(*b)
        };
        if !ok {
            return Err(format!("{a:?} became {b:?} in {parsed:?}"));
        }
    }
    Ok(())
}

fn elements<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children()
        .filter(|n| n.is_element() && n.has_tag_name(name))
        .collect()
}

/// A `<testcase>` as parsed.
struct Case {
    name: String,
    classname: String,
    /// `message`, `type` and text of its `<failure>`, if any.
    failure: Option<Failure>,
    /// `message`, `type` and text of its `<error>`, if any.
    error: Option<Failure>,
}

/// A `<failure>` or `<error>` as parsed.
struct Failure {
    message: String,
    ty: String,
    text: String,
}

/// The testcases of the single testsuite, after checking the envelope and the counts.
fn junit_testcases(doc: &roxmltree::Document<'_>) -> Result<Vec<Case>, String> {
    let root = doc.root_element();
    if !root.has_tag_name("testsuites") {
        return Err(format!("root is <{}>", root.tag_name().name()));
    }
    let suites = elements(root, "testsuite");
    let [suite] = suites.as_slice() else {
        return Err(format!("{} testsuites", suites.len()));
    };
    if suite.attribute("name") != Some("corsproof") {
        return Err("testsuite not named corsproof".into());
    }
    let cases = elements(*suite, "testcase");
    let failing = cases
        .iter()
        .filter(|c| !elements(**c, "failure").is_empty())
        .count();
    let in_error = cases
        .iter()
        .filter(|c| !elements(**c, "error").is_empty())
        .count();
    for node in [root, *suite] {
        let count = |a: &str| node.attribute(a).and_then(|v| v.parse::<usize>().ok());
        if count("tests") != Some(cases.len())
            || count("failures") != Some(failing)
            || count("errors") != Some(in_error)
        {
            return Err(format!(
                "<{}> counts {:?}/{:?}, real {}/{failing}",
                node.tag_name().name(),
                node.attribute("tests"),
                node.attribute("failures"),
                cases.len()
            ));
        }
        let time = node.attribute("time").and_then(|t| t.parse::<f64>().ok());
        if !time.is_some_and(|t| t >= 0.0) {
            return Err("time is not a non-negative number".into());
        }
    }
    let mut out = Vec::new();
    for case in cases {
        let name = case.attribute("name").ok_or("testcase without name")?;
        let classname = case
            .attribute("classname")
            .ok_or("testcase without classname")?;
        let failure = outcome(case, "failure")?;
        let error = outcome(case, "error")?;
        if failure.is_some() && error.is_some() {
            return Err(format!("testcase {name:?} both fails and is in error"));
        }
        out.push(Case {
            name: name.to_string(),
            classname: classname.to_string(),
            failure,
            error,
        });
    }
    Ok(out)
}

/// The `<failure>` or `<error>` (`tag`) of a testcase, if any; at most one.
fn outcome(case: roxmltree::Node<'_, '_>, tag: &str) -> Result<Option<Failure>, String> {
    match elements(case, tag).as_slice() {
        [] => Ok(None),
        [f] => Ok(Some(Failure {
            message: f
                .attribute("message")
                .ok_or(format!("{tag} without message"))?
                .to_string(),
            ty: f
                .attribute("type")
                .ok_or(format!("{tag} without type"))?
                .to_string(),
            text: f.text().unwrap_or("").to_string(),
        })),
        _ => Err(format!("a testcase has several <{tag}>")),
    }
}

#[test]
fn junit_is_well_formed_with_one_testcase_per_kind_and_right_failures() {
    let report = hostile_report();
    let xml = junit(&report);
    let doc = roxmltree::Document::parse(&xml).expect("JUnit report is well-formed XML");
    let cases = junit_testcases(&doc).expect("envelope and counts");

    // Every check kind, then the two other kinds, then the target errors, in that order.
    assert_eq!(cases.len(), CheckKind::ALL.len() + 3);
    for (kind, case) in CheckKind::ALL.iter().zip(&cases) {
        let severity = kind.severity();
        assert_eq!(case.name, kind.as_str());
        let expected_failing = [
            CheckKind::ReadGranted,
            CheckKind::SentBlocked,
            CheckKind::DuplicateHeader,
        ];
        assert_eq!(
            case.failure.is_some(),
            expected_failing.contains(kind),
            "{kind}"
        );
        if let Some(failure) = &case.failure {
            assert_eq!(failure.ty, severity.as_str(), "{kind}");
        }
        match *kind {
            CheckKind::SentBlocked => assert_eq!(case.classname, "/upload/"),
            CheckKind::DuplicateHeader => assert_eq!(case.classname, API),
            // Two routes, or none: the target.
            _ => assert_eq!(case.classname, TARGET, "{kind}"),
        }
    }

    let read_granted = cases[0].failure.as_ref().expect("read-granted fails");
    let (message, body) = (&read_granted.message, &read_granted.text);
    assert!(message.starts_with("2 findings"), "{message}");
    assert!(message.contains("script can read a response the policy does not grant"));
    assert!(body.contains(API) && body.contains("/admin/"), "{body}");
    assert!(body.contains("readable & \"read-granted\""));
    assert!(body.contains("curl -si -X OPTIONS"));
    // The explanation: every XML character kept, the others replaced visibly.
    for run in HOSTILE.split(|c| !xml_char(c)).filter(|r| !r.is_empty()) {
        assert!(body.contains(run), "{run:?} lost in {body:?}");
    }
    assert!(
        body.contains('\u{2400}') && body.contains('\u{241b}'),
        "{body:?}"
    );
    assert!(body.contains("\r\n\tend"), "carriage return lost: {body:?}");

    let audit = &cases[CheckKind::ALL.len()];
    assert_eq!(
        (audit.name.as_str(), audit.classname.as_str()),
        (AUDIT_KIND.as_str(), TARGET)
    );
    assert_eq!(
        audit.failure.as_ref().map(|f| f.ty.as_str()),
        Some("violation")
    );

    let weird = &cases[CheckKind::ALL.len() + 1];
    assert_eq!(weird.name, OTHER_AUDIT_KIND.as_str());
    survives_xml(HOSTILE, &weird.classname).expect("route survives in an attribute");
    assert_eq!(
        weird.failure.as_ref().map(|f| f.ty.as_str()),
        Some("hygiene")
    );

    // The target errors: one testcase in error, not a failure.
    let errors = &cases[CheckKind::ALL.len() + 2];
    assert_eq!(
        (errors.name.as_str(), errors.classname.as_str()),
        ("target-errors", TARGET)
    );
    assert!(errors.failure.is_none());
    let error = errors.error.as_ref().expect("target-errors is in error");
    assert_eq!(error.ty, "target-error");
    assert_eq!(
        error.message,
        "6 requests got no usable answer and could not be judged"
    );
    assert!(
        error
            .text
            .contains(&format!("[malformed] 2 times: GET {TARGET}{API}")),
        "{}",
        error.text
    );
    assert!(error.text.contains("[overloaded] 1 time: OPTIONS"));
    assert!(error
        .text
        .contains("429 Too Many Requests on each of 3 attempts"));
    assert!(error
        .text
        .contains("curl -si -X OPTIONS -H 'Origin: https://app.test'"));
    assert!(error.text.contains("and 3 more failed requests not listed"));
    for run in HOSTILE.split(|c| !xml_char(c)).filter(|r| !r.is_empty()) {
        assert!(error.text.contains(run), "{run:?} lost in {:?}", error.text);
    }

    // Properties: the target, policy and seed.
    let props: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("property"))
        .filter_map(|n| Some((n.attribute("name")?, n.attribute("value")?)))
        .collect();
    assert!(props.contains(&("policy", "corpus/policies/a policy&<é>.toml")));
    assert!(props.contains(&("seed", "42")));
    assert!(props.contains(&("failed-exchanges", "6")));
    assert!(props.contains(&("retries", "4")));
}

#[test]
fn junit_of_a_clean_run_passes_every_check_kind() {
    let report = Report {
        findings: vec![],
        target_errors: TargetErrors::default(),
        coverage: Default::default(),
        ..hostile_report()
    };
    let xml = junit(&report);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed");
    let cases = junit_testcases(&doc).expect("envelope and counts");
    assert_eq!(cases.len(), CheckKind::ALL.len());
    assert!(cases
        .iter()
        .all(|case| case.failure.is_none() && case.error.is_none()));
    assert!(xml.contains("failures=\"0\" errors=\"0\""));
}

/// Property names the SARIF 2.1.0 schema allows on the objects the report uses (each of them
/// has `additionalProperties: false`).
mod allowed {
    pub const LOG: &[&str] = &[
        "$schema",
        "version",
        "runs",
        "inlineExternalProperties",
        "properties",
    ];
    pub const RUN: &[&str] = &[
        "tool",
        "invocations",
        "conversion",
        "language",
        "versionControlProvenance",
        "originalUriBaseIds",
        "artifacts",
        "logicalLocations",
        "graphs",
        "results",
        "automationDetails",
        "runAggregates",
        "baselineGuid",
        "redactionReleases",
        "defaultEncoding",
        "defaultSourceLanguage",
        "newlineSequences",
        "columnKind",
        "externalPropertyFileReferences",
        "threadFlowLocations",
        "taxonomies",
        "addresses",
        "translations",
        "policies",
        "webRequests",
        "webResponses",
        "specialLocations",
        "properties",
    ];
    pub const TOOL: &[&str] = &["driver", "extensions", "properties"];
    pub const TOOL_COMPONENT: &[&str] = &[
        "guid",
        "name",
        "organization",
        "product",
        "productSuite",
        "shortDescription",
        "fullDescription",
        "fullName",
        "version",
        "semanticVersion",
        "dottedQuadFileVersion",
        "releaseDateUtc",
        "downloadUri",
        "informationUri",
        "globalMessageStrings",
        "notifications",
        "rules",
        "taxa",
        "locations",
        "language",
        "contents",
        "isComprehensive",
        "localizedDataSemanticVersion",
        "minimumRequiredLocalizedDataSemanticVersion",
        "associatedComponent",
        "translationMetadata",
        "supportedTaxonomies",
        "properties",
    ];
    pub const REPORTING_DESCRIPTOR: &[&str] = &[
        "id",
        "deprecatedIds",
        "guid",
        "deprecatedGuids",
        "name",
        "deprecatedNames",
        "shortDescription",
        "fullDescription",
        "messageStrings",
        "defaultConfiguration",
        "helpUri",
        "help",
        "relationships",
        "properties",
    ];
    pub const MULTIFORMAT_MESSAGE: &[&str] = &["text", "markdown", "properties"];
    pub const REPORTING_CONFIGURATION: &[&str] =
        &["enabled", "level", "rank", "parameters", "properties"];
    pub const RESULT: &[&str] = &[
        "guid",
        "correlationGuid",
        "ruleId",
        "ruleIndex",
        "rule",
        "taxa",
        "kind",
        "level",
        "message",
        "analysisTarget",
        "locations",
        "webRequest",
        "webResponse",
        "fingerprints",
        "partialFingerprints",
        "codeFlows",
        "graphs",
        "graphTraversals",
        "stacks",
        "relatedLocations",
        "suppressions",
        "baselineState",
        "rank",
        "attachments",
        "hostedViewerUri",
        "workItemUris",
        "provenance",
        "fixes",
        "occurrenceCount",
        "properties",
    ];
    pub const MESSAGE: &[&str] = &["text", "markdown", "id", "arguments", "properties"];
    pub const INVOCATION: &[&str] = &[
        "commandLine",
        "arguments",
        "responseFiles",
        "startTimeUtc",
        "endTimeUtc",
        "exitCode",
        "ruleConfigurationOverrides",
        "notificationConfigurationOverrides",
        "toolExecutionNotifications",
        "toolConfigurationNotifications",
        "exitCodeDescription",
        "exitSignalName",
        "exitSignalNumber",
        "processStartFailureMessage",
        "executionSuccessful",
        "machine",
        "account",
        "processId",
        "executableLocation",
        "workingDirectory",
        "environmentVariables",
        "stdin",
        "stdout",
        "stderr",
        "stdoutStderr",
        "properties",
    ];
    pub const NOTIFICATION: &[&str] = &[
        "locations",
        "message",
        "level",
        "threadId",
        "timeUtc",
        "exception",
        "descriptor",
        "associatedRule",
        "properties",
    ];
    pub const LOCATION: &[&str] = &[
        "id",
        "physicalLocation",
        "logicalLocations",
        "message",
        "annotations",
        "relationships",
        "properties",
    ];
    pub const PHYSICAL_LOCATION: &[&str] = &[
        "address",
        "artifactLocation",
        "region",
        "contextRegion",
        "properties",
    ];
    pub const ARTIFACT_LOCATION: &[&str] =
        &["uri", "uriBaseId", "index", "description", "properties"];
    pub const LOGICAL_LOCATION: &[&str] = &[
        "name",
        "index",
        "fullyQualifiedName",
        "decoratedName",
        "parentIndex",
        "kind",
        "properties",
    ];
    pub const LEVELS: &[&str] = &["none", "note", "warning", "error"];
}

fn object<'v>(
    v: &'v Value,
    what: &str,
    allowed: &[&str],
) -> Result<&'v serde_json::Map<String, Value>, String> {
    let map = v
        .as_object()
        .ok_or_else(|| format!("{what} is not an object: {v}"))?;
    if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("{what} has property {key:?}, not in the schema"));
    }
    Ok(map)
}

fn string<'v>(v: &'v Value, what: &str) -> Result<&'v str, String> {
    v.as_str()
        .ok_or_else(|| format!("{what} is not a string: {v}"))
}

fn array<'v>(v: &'v Value, what: &str) -> Result<&'v Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what} is not an array: {v}"))
}

/// A property bag: an object whose `tags`, if any, are distinct strings.
fn property_bag(v: &Value, what: &str) -> Result<(), String> {
    let map = v
        .as_object()
        .ok_or_else(|| format!("{what} is not an object"))?;
    if let Some(tags) = map.get("tags") {
        let tags = array(tags, "tags")?;
        let mut seen: Vec<&str> = Vec::new();
        for t in tags {
            let t = string(t, "tag")?;
            if seen.contains(&t) {
                return Err(format!("{what}: duplicate tag {t:?}"));
            }
            seen.push(t);
        }
    }
    Ok(())
}

/// An RFC 3986 URI reference: only URI characters, every `%` starting an escape.
fn uri_reference(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    for (i, c) in b.iter().enumerate() {
        let ok = c.is_ascii_alphanumeric()
            || b"-._~:/?#[]@!$&'()*+,;=".contains(c)
            || (*c == b'%'
                && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        if !ok {
            return Err(format!("{s:?} is not a URI reference (byte {i})"));
        }
    }
    Ok(())
}

fn level_of(severity: Severity) -> &'static str {
    match severity {
        Severity::Violation => "error",
        Severity::Breakage => "warning",
        Severity::Hygiene => "note",
    }
}

/// Checks `log` against the SARIF 2.1.0 schema's structure and against `report`.
fn validate_sarif(log: &Value, report: &Report) -> Result<(), String> {
    let top = object(log, "log", allowed::LOG)?;
    if top.get("version") != Some(&Value::from("2.1.0")) {
        return Err("version is not 2.1.0".into());
    }
    if top.get("$schema")
        != Some(&Value::from(
            "https://json.schemastore.org/sarif-2.1.0.json",
        ))
    {
        return Err("wrong $schema".into());
    }
    let runs = array(top.get("runs").ok_or("no runs")?, "runs")?;
    let [run] = runs.as_slice() else {
        return Err(format!("{} runs", runs.len()));
    };
    let run = object(run, "run", allowed::RUN)?;
    if let Some(kind) = run.get("columnKind") {
        let kind = string(kind, "columnKind")?;
        if !["utf16CodeUnits", "unicodeCodePoints"].contains(&kind) {
            return Err(format!("columnKind {kind}"));
        }
    }
    if let Some(p) = run.get("properties") {
        property_bag(p, "run.properties")?;
    }
    let tool = object(
        run.get("tool").ok_or("run without tool")?,
        "tool",
        allowed::TOOL,
    )?;
    let driver = object(
        tool.get("driver").ok_or("tool without driver")?,
        "driver",
        allowed::TOOL_COMPONENT,
    )?;
    if string(driver.get("name").ok_or("driver without name")?, "name")? != "corsproof" {
        return Err("driver is not corsproof".into());
    }
    if driver.get("version").and_then(Value::as_str) != Some(env!("CARGO_PKG_VERSION")) {
        return Err("driver version".into());
    }
    let info = string(
        driver.get("informationUri").ok_or("no informationUri")?,
        "informationUri",
    )?;
    url::Url::parse(info).map_err(|e| format!("informationUri {info:?}: {e}"))?;

    // Rules: every check kind, then the other kinds, in order, with distinct ids.
    let mut expected_ids: Vec<(&str, Severity)> = CheckKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.severity()))
        .collect();
    for f in &report.findings {
        if !expected_ids.iter().any(|(k, _)| *k == f.kind.as_str()) {
            expected_ids.push((f.kind.as_str(), f.severity));
        }
    }
    let rules = array(driver.get("rules").ok_or("driver without rules")?, "rules")?;
    let mut ids = Vec::new();
    for (rule, (kind, severity)) in rules.iter().zip(&expected_ids) {
        let rule = object(rule, "rule", allowed::REPORTING_DESCRIPTOR)?;
        let id = string(rule.get("id").ok_or("rule without id")?, "rule id")?;
        if id != *kind {
            return Err(format!("rule {id:?} where {kind:?} was expected"));
        }
        let short = object(
            rule.get("shortDescription").ok_or("no shortDescription")?,
            "shortDescription",
            allowed::MULTIFORMAT_MESSAGE,
        )?;
        if string(
            short.get("text").ok_or("shortDescription without text")?,
            "text",
        )?
        .is_empty()
        {
            return Err("empty shortDescription".into());
        }
        let config = object(
            rule.get("defaultConfiguration")
                .ok_or("no defaultConfiguration")?,
            "defaultConfiguration",
            allowed::REPORTING_CONFIGURATION,
        )?;
        let level = string(config.get("level").ok_or("no level")?, "level")?;
        if level != level_of(*severity) {
            return Err(format!("rule {id}: level {level}"));
        }
        if let Some(p) = rule.get("properties") {
            property_bag(p, "rule.properties")?;
        }
        ids.push(id);
    }
    if rules.len() != expected_ids.len() {
        return Err(format!(
            "{} rules, {} kinds",
            rules.len(),
            expected_ids.len()
        ));
    }

    let results = array(run.get("results").ok_or("no results")?, "results")?;
    if results.len() != report.findings.len() {
        return Err(format!(
            "{} results for {} findings",
            results.len(),
            report.findings.len()
        ));
    }
    for (result, finding) in results.iter().zip(&report.findings) {
        let result = object(result, "result", allowed::RESULT)?;
        let message = object(
            result.get("message").ok_or("result without message")?,
            "message",
            allowed::MESSAGE,
        )?;
        let text = string(
            message.get("text").ok_or("message without text")?,
            "message text",
        )?;
        for part in [&finding.observed, &finding.expected, &finding.explanation] {
            if !text.contains(part.as_str()) {
                return Err(format!("message {text:?} lacks {part:?}"));
            }
        }
        let rule_id = string(result.get("ruleId").ok_or("no ruleId")?, "ruleId")?;
        if rule_id != finding.kind.as_str() || !ids.contains(&rule_id) {
            return Err(format!("ruleId {rule_id:?}"));
        }
        if let Some(index) = result.get("ruleIndex") {
            let index = index.as_u64().ok_or("ruleIndex not an integer")?;
            if usize::try_from(index).ok().and_then(|i| ids.get(i)) != Some(&rule_id) {
                return Err(format!("ruleIndex {index} does not name {rule_id}"));
            }
        }
        let level = string(result.get("level").ok_or("no level")?, "level")?;
        if !allowed::LEVELS.contains(&level) || level != level_of(finding.severity) {
            return Err(format!("level {level}"));
        }
        let locations = array(result.get("locations").ok_or("no locations")?, "locations")?;
        let [location] = locations.as_slice() else {
            return Err(format!("{} locations", locations.len()));
        };
        let location = object(location, "location", allowed::LOCATION)?;
        let physical = object(
            location
                .get("physicalLocation")
                .ok_or("no physicalLocation")?,
            "physicalLocation",
            allowed::PHYSICAL_LOCATION,
        )?;
        let artifact = object(
            physical
                .get("artifactLocation")
                .ok_or("no artifactLocation")?,
            "artifactLocation",
            allowed::ARTIFACT_LOCATION,
        )?;
        let uri = string(artifact.get("uri").ok_or("no uri")?, "uri")?;
        uri_reference(uri)?;
        match &finding.route {
            Some(route) => {
                let logical = array(
                    location
                        .get("logicalLocations")
                        .ok_or("no logicalLocations")?,
                    "logicalLocations",
                )?;
                let [logical] = logical.as_slice() else {
                    return Err("not one logical location".into());
                };
                let logical = object(logical, "logicalLocation", allowed::LOGICAL_LOCATION)?;
                if logical.get("name").and_then(Value::as_str) != Some(route.as_str()) {
                    return Err("logical location does not name the route".into());
                }
            }
            None if location.contains_key("logicalLocations") => {
                return Err("logical location without a route".into());
            }
            None => {}
        }
        let prints = result
            .get("partialFingerprints")
            .and_then(Value::as_object)
            .ok_or("no partialFingerprints")?;
        if prints.is_empty() || !prints.values().all(Value::is_string) {
            return Err("partialFingerprints must be non-empty strings".into());
        }
        if let Some(p) = result.get("properties") {
            property_bag(p, "result.properties")?;
        }
    }
    validate_invocations(run, report)
}

/// The run's invocations: one, that ran to completion, with a notification of level `error`
/// per distinct target error and one for the unlisted ones.
fn validate_invocations(
    run: &serde_json::Map<String, Value>,
    report: &Report,
) -> Result<(), String> {
    let invocations = array(
        run.get("invocations").ok_or("no invocations")?,
        "invocations",
    )?;
    let [invocation] = invocations.as_slice() else {
        return Err(format!("{} invocations", invocations.len()));
    };
    let invocation = object(invocation, "invocation", allowed::INVOCATION)?;
    if invocation.get("executionSuccessful") != Some(&Value::Bool(true)) {
        return Err("executionSuccessful is not true".into());
    }
    let errors = &report.target_errors;
    let expected = errors.listed.len() + usize::from(errors.unlisted > 0);
    let notifications = match invocation.get("toolExecutionNotifications") {
        Some(n) => array(n, "toolExecutionNotifications")?.as_slice(),
        None => &[],
    };
    if notifications.len() != expected {
        return Err(format!(
            "{} notifications for {expected} target errors",
            notifications.len()
        ));
    }
    for (i, n) in notifications.iter().enumerate() {
        let n = object(n, "notification", allowed::NOTIFICATION)?;
        let message = object(
            n.get("message").ok_or("notification without message")?,
            "message",
            allowed::MESSAGE,
        )?;
        let text = string(message.get("text").ok_or("message without text")?, "text")?;
        if let Some(e) = errors.listed.get(i) {
            for part in [&e.error, &e.request.url, &e.request.method] {
                if !text.contains(part.as_str()) {
                    return Err(format!("notification {text:?} lacks {part:?}"));
                }
            }
        }
        if n.get("level").and_then(Value::as_str) != Some("error") {
            return Err(format!("notification level {:?}", n.get("level")));
        }
        if let Some(p) = n.get("properties") {
            property_bag(p, "notification.properties")?;
        }
    }
    Ok(())
}

fn parse_sarif(report: &Report) -> Value {
    serde_json::from_str(&sarif(report)).expect("SARIF is JSON")
}

fn fingerprints(log: &Value) -> Vec<(String, String)> {
    log["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or("").to_string(),
                r["partialFingerprints"].to_string(),
            )
        })
        .collect()
}

#[test]
fn sarif_has_the_structure_of_sarif_2_1_0() {
    let report = hostile_report();
    let log = parse_sarif(&report);
    validate_sarif(&log, &report).expect("valid SARIF");

    // The policy file is the artifact, percent-encoded.
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "corpus/policies/a%20policy&%3C%C3%A9%3E.toml");
    // Hostile text survives JSON exactly.
    assert_eq!(
        log["runs"][0]["results"][5]["locations"][0]["logicalLocations"][0]["name"],
        HOSTILE
    );
    assert_eq!(log["runs"][0]["properties"]["seed"], "42");
    // An `audit` kind's rule is described by its meaning.
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let description = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["shortDescription"]["text"].clone())
    };
    assert_eq!(
        description(AUDIT_KIND.as_str()),
        Some(Value::from(
            "Any origin is trusted (the Origin is reflected)"
        ))
    );
    assert_eq!(
        description(OTHER_AUDIT_KIND.as_str()),
        Some(Value::from(
            "The `null` origin (sandboxed iframes, data: documents) is trusted"
        ))
    );
}

#[test]
fn sarif_without_a_policy_locates_findings_at_the_target() {
    let report = Report {
        policy: None,
        target: "http://[::1]:8080/base path?x=1".into(),
        ..hostile_report()
    };
    let log = parse_sarif(&report);
    validate_sarif(&log, &report).expect("valid SARIF");
    let uri = log["runs"][0]["results"][4]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .expect("uri");
    assert_eq!(uri, "http://[::1]:8080/base%20path?x=1");
    url::Url::parse(uri).expect("an absolute URL");
}

#[test]
fn sarif_fingerprints_are_stable_per_kind_and_route() {
    let report = hostile_report();
    let prints = fingerprints(&parse_sarif(&report));

    // Another run: other seed, target, order, wording: same (kind, route), same fingerprint.
    let mut other = hostile_report();
    other.seed = 7;
    other.target = "http://127.0.0.1:9999".into();
    other.findings.reverse();
    for f in &mut other.findings {
        f.explanation = "reworded".into();
        f.profiles = vec![ProfileId::Firefox];
    }
    let mut other_prints = fingerprints(&parse_sarif(&other));
    other_prints.reverse();
    assert_eq!(prints, other_prints);

    // Distinct (kind, route) pairs, distinct fingerprints.
    let mut distinct: Vec<&(String, String)> = prints.iter().collect();
    distinct.sort();
    distinct.dedup_by(|a, b| a.1 == b.1);
    assert_eq!(distinct.len(), prints.len(), "{prints:?}");
}

#[test]
fn sarif_of_a_clean_run_lists_every_rule_and_no_result() {
    let report = Report {
        findings: vec![],
        ..hostile_report()
    };
    let log = parse_sarif(&report);
    validate_sarif(&log, &report).expect("valid SARIF");
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .map(Vec::len),
        Some(CheckKind::ALL.len())
    );
}

/// Position of `needle` in `haystack`, failing the test when absent.
fn at(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{haystack}"))
}

#[test]
fn text_says_what_a_clean_run_checked() {
    let report = Report {
        findings: vec![],
        target_errors: TargetErrors::default(),
        coverage: Coverage {
            profiles: vec![ProfileId::Fetch, ProfileId::Chromium, ProfileId::Firefox],
            routes: vec![
                RouteCoverage {
                    route: Some("api".into()),
                    cases: 1800,
                    origins: 25,
                    methods: vec!["DELETE".into(), "GET".into()],
                    request_headers: vec!["x-request-id".into()],
                    credentialed: 900,
                },
                RouteCoverage {
                    route: None,
                    cases: 200,
                    origins: 5,
                    methods: vec!["GET".into()],
                    request_headers: vec![],
                    credentialed: 100,
                },
            ],
        },
        ..hostile_report()
    };
    let out = text(&report, Style { colour: false });
    for line in [
        "checked, under fetch, chromium, firefox:",
        "  route api: 1800 cases (900 credentialed) from 25 origins; methods DELETE, GET; request headers x-request-id",
        "  no route: 200 cases (100 credentialed) from 5 origins; methods GET; no request header",
        "verdict: conforms, no findings",
    ] {
        assert!(out.contains(line), "{line:?} not in\n{out}");
    }
    assert!(at(&out, "checked, under") < at(&out, "verdict:"));
    // JSON carries it; an audit (no coverage) leaves the field out.
    let v: Value = serde_json::from_str(&json(&report)).expect("JSON");
    assert_eq!(v["coverage"]["routes"][0]["origins"], 25);
    let audit = Report {
        coverage: Coverage::default(),
        ..report
    };
    assert!(!json(&audit).contains("\"coverage\""));
}

#[test]
fn text_groups_by_kind_most_severe_first() {
    let report = hostile_report();
    let out = text(&report, Style { colour: false });

    let first = out.lines().next().unwrap_or("");
    for part in [
        TARGET,
        "a policy&<é>.toml",
        "seed 42",
        "1200 cases",
        "2400 requests",
        "3.20 s",
        "750.0 req/s",
    ] {
        assert!(first.contains(part), "{part:?} not in summary {first:?}");
    }

    let order = [
        "VIOLATION read-granted (2 findings): script can read a response the policy does not grant",
        "VIOLATION origin-reflected (1 finding): any origin is trusted (the Origin is reflected)",
        "BREAKAGE sent-blocked (1 finding): a request the policy allows is blocked",
        "HYGIENE duplicate-header (1 finding): a CORS response header sent more than once",
        "HYGIENE null-origin (1 finding): the `null` origin (sandboxed iframes, data: documents) is trusted",
    ];
    let positions: Vec<usize> = order.iter().map(|h| at(&out, h)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{positions:?}\n{out}"
    );

    let group = &out[positions[0]..positions[1]];
    assert!(
        group.contains(&format!("routes: {API}, /admin/")),
        "{group}"
    );
    assert!(
        group.contains("profiles: fetch, chromium, firefox"),
        "{group}"
    );
    assert!(
        group.contains(
            "rule P5 (browser rule R33): q\"uo'te <tag a=\"1\"> & amp; ]]> \\x00\\x01\\x07"
        ),
        "{group}"
    );
    assert!(group.contains("expected: not readable <read-granted>"));
    assert!(group.contains("observed: readable & \"read-granted\""));
    assert!(group.contains(&format!("> OPTIONS {TARGET}{API}")));
    assert!(group.contains("> Access-Control-Request-Method: PUT"));
    assert!(group.contains("< 204"));
    assert!(group.contains("< Access-Control-Allow-Origin: https://evil.test\\x1b[2J"));
    assert!(group.contains("< Vary: Accept-Encoding"));
    assert!(
        !group.contains("Set-Cookie") && !group.contains("X-Request-Id"),
        "{group}"
    );
    assert!(
        group.contains("reproduce:\n        curl -si -X OPTIONS"),
        "{group}"
    );
    // Bidirectional overrides and C1 controls are escaped as well.
    assert!(
        group.contains("\\u{202e}evil") && group.contains("\\x9b2J"),
        "{group}"
    );

    let lines: Vec<&str> = out.lines().collect();
    let verdict = lines[lines.len() - 2];
    assert!(
        verdict.contains("does not conform, 6 findings (3 violation, 1 breakage, 2 hygiene)"),
        "{verdict}"
    );
    assert!(lines[lines.len() - 1].contains("--seed 42"));
}

#[test]
fn text_without_colour_has_no_escape_or_control_byte() {
    let out = text(&hostile_report(), Style { colour: false });
    let bad: Vec<char> = out
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert!(!out.contains('\u{202e}'));
}

/// The SGR sequences the text report may emit.
const SGR: &[&str] = &[
    "\x1b[0m",
    "\x1b[1m",
    "\x1b[1;31m",
    "\x1b[1;33m",
    "\x1b[1;36m",
    "\x1b[1;32m",
    "\x1b[1;35m",
    "\x1b[31m",
    "\x1b[33m",
    "\x1b[36m",
];

#[test]
fn text_with_colour_paints_severities_and_nothing_else() {
    let out = text(&hostile_report(), Style { colour: true });
    assert!(at(&out, "\x1b[1;31mVIOLATION") < at(&out, "\x1b[1;33mBREAKAGE"));
    assert!(at(&out, "\x1b[1;33mBREAKAGE") < at(&out, "\x1b[1;36mHYGIENE"));
    assert!(out.contains("\x1b[1mread-granted\x1b[0m"));
    let mut stripped = out.clone();
    for s in SGR {
        stripped = stripped.replace(s, "");
    }
    assert!(
        !stripped.chars().any(|c| c.is_control() && c != '\n'),
        "{stripped:?}"
    );
    assert_eq!(stripped, text(&hostile_report(), Style { colour: false }));
}

#[test]
fn text_of_clean_runs() {
    let check = Report {
        findings: vec![],
        ..hostile_report()
    };
    let out = text(&check, Style { colour: false });
    assert!(out.contains("verdict: conforms, no findings"));
    assert!(!out.contains("VIOLATION") && !out.contains("HYGIENE"));
    assert!(out.trim_end().ends_with("--seed 42"));

    let audit = Report {
        policy: None,
        ..check
    };
    let out = text(&audit, Style { colour: false });
    assert!(out.starts_with(&format!("corsproof audit of {TARGET}")));
    assert!(out.contains("verdict: nothing found"));
}

#[test]
fn text_lists_target_errors_apart_from_findings() {
    let out = text(&hostile_report(), Style { colour: false });
    let section = &out[at(&out, "TARGET ERRORS")..at(&out, "verdict:")];
    assert!(section
        .starts_with("TARGET ERRORS (6 requests got no usable answer and were not judged)\n"));
    assert!(
        section.contains(&format!("[1/2] malformed (2 times): GET {TARGET}{API}")),
        "{section}"
    );
    assert!(section.contains("error: q\"uo'te <tag a=\"1\"> & amp; ]]> \\x00"));
    assert!(section.contains(
        "[2/2] overloaded (1 time): OPTIONS http://127.0.0.1:8080/upload/\n      error: 429 Too Many Requests on each of 3 attempts\n      reproduce: curl -si -X OPTIONS -H 'Origin: https://app.test' http://127.0.0.1:8080/upload/\n"
    ), "{section}");
    assert!(section.contains("and 3 more failed requests not listed"));
    // The findings come first, and the verdict says what it does not cover.
    assert!(at(&out, "HYGIENE null-origin") < at(&out, "TARGET ERRORS"));
    assert!(out.contains(
        "verdict: does not conform, 6 findings (3 violation, 1 breakage, 2 hygiene); 6 requests not judged (target errors)"
    ));
    let coloured = text(&hostile_report(), Style { colour: true });
    assert!(coloured.contains("\x1b[1;35mTARGET ERRORS"));

    let clean = Report {
        target_errors: TargetErrors::default(),
        coverage: Default::default(),
        ..hostile_report()
    };
    let out = text(&clean, Style { colour: false });
    assert!(!out.contains("TARGET ERRORS") && !out.contains("not judged"));
}

#[test]
fn json_adds_target_errors_and_keeps_every_field() {
    let report = hostile_report();
    let value: Value = serde_json::from_str(&json(&report)).expect("JSON");
    // Every field of the contract, and the new one (serde_json's maps are sorted).
    let keys: Vec<&str> = value
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "cases",
            "findings",
            "policy",
            "seed",
            "stats",
            "target",
            "target_errors"
        ]
    );
    let first = &value["target_errors"]["listed"][0];
    assert_eq!(first["kind"], "malformed");
    assert_eq!(first["count"], 2);
    assert_eq!(first["error"], HOSTILE);
    assert_eq!(first["request"]["method"], "GET");
    assert_eq!(
        first["request"]["headers"][0],
        serde_json::json!(["Origin", "https://evil.test"])
    );
    assert_eq!(value["target_errors"]["unlisted"], 3);
    for field in [
        "cases",
        "requests",
        "seconds",
        "requests_per_second",
        "errors",
        "failing_cases",
        "retries",
    ] {
        assert!(value["stats"].get(field).is_some(), "stats.{field}");
    }

    // A report written without the target errors and retries reads as having none.
    let mut old = value.clone();
    if let Some(map) = old.as_object_mut() {
        map.remove("target_errors");
    }
    if let Some(stats) = old["stats"].as_object_mut() {
        stats.remove("retries");
    }
    let back: Report = serde_json::from_value(old).expect("an older report parses");
    assert!(back.target_errors.is_empty());
    assert_eq!(back.stats.retries, 0);
    assert_eq!(back.findings, report.findings);
}

#[test]
fn json_round_trips() {
    let report = hostile_report();
    let back: Report = serde_json::from_str(&json(&report)).expect("JSON report parses");
    assert_eq!(back, report);
}

/// Every finding kind, `check`'s then `audit`'s.
fn all_kinds() -> Vec<Kind> {
    let mut all = check_kinds();
    all.extend(AuditKind::ALL.iter().map(|k| Kind::Audit(*k)));
    all
}

/// Strings heavy in the characters that break renderers.
fn nasty() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '<', '>', '&', '"', '\'', '\0', '\x1b', '\r', '\n', '\t', '\u{7f}', '\u{9b}', '\u{fffe}',
        '\u{ffff}', '\u{202e}', ']', 'é', '東',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), special], 0..24).prop_map(String::from_iter)
}

proptest! {
    #[test]
    fn every_renderer_survives_any_string(
        kind in prop::sample::select(all_kinds()), route in nasty(), text_field in nasty(), target in nasty(), policy in nasty(),
    ) {
        let mut f = finding(kind, Severity::Hygiene, Some(&route), &[ProfileId::Fetch]);
        f.explanation = text_field.clone();
        f.observed = text_field.clone();
        f.reproduce = text_field.clone();
        f.exchanges[0].1.headers.push((b"Access-Control-Allow-Headers".to_vec(), latin1(&text_field)));
        let mut target_errors = TargetErrors::default();
        let failed = SentRequest::new(text_field.clone(), route.clone()).header("X-Note", latin1(&text_field));
        target_errors.record(TargetErrorKind::Closed, &text_field, &failed);
        let report = Report {
            target,
            policy: Some(policy),
            seed: u64::MAX,
            cases: 1,
            findings: vec![f.clone(), f],
            target_errors,
            coverage: Coverage {
                profiles: vec![ProfileId::Fetch],
                routes: vec![RouteCoverage {
                    route: Some(route.clone()),
                    cases: 1,
                    origins: 1,
                    methods: vec![text_field.clone()],
                    request_headers: vec![text_field.clone()],
                    credentialed: 0,
                }],
            },
            stats: Stats { seconds: f64::NAN, requests_per_second: f64::INFINITY, ..Stats::default() },
            confirm: None,
        };

        let xml = junit(&report);
        let doc = roxmltree::Document::parse(&xml).map_err(|e| TestCaseError::fail(format!("{e}: {xml}")))?;
        let cases = junit_testcases(&doc).map_err(TestCaseError::fail)?;
        let failing: Vec<&Case> = cases.iter().filter(|c| c.failure.is_some()).collect();
        prop_assert_eq!(failing.len(), 1);
        prop_assert_eq!(failing[0].name.as_str(), kind.as_str());
        survives_xml(&route, &failing[0].classname).map_err(TestCaseError::fail)?;

        let log: Value = serde_json::from_str(&sarif(&report)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        validate_sarif(&log, &report).map_err(TestCaseError::fail)?;

        let plain = text(&report, Style { colour: false });
        prop_assert!(!plain.chars().any(|c| c.is_control() && c != '\n'), "{:?}", plain);
        let mut coloured = text(&report, Style { colour: true });
        for s in SGR {
            coloured = coloured.replace(s, "");
        }
        prop_assert_eq!(coloured, plain);
    }
}

/// `--confirm`'s results: each renderer shows each browser's result, a contradiction as a
/// corsproof defect with both sides, and the JSON round-trips them typed.
#[test]
fn confirmations_show_in_every_format() {
    use corsproof_report::{ConfirmBrowser, ConfirmRun, Confirmation, NotReplayable, Observed};
    let mut report = hostile_report();
    let browser = Observed {
        request_sent: true,
        origin_sent: Some("https://evil.test".into()),
        cookie_sent: true,
        ..Observed::default()
    };
    let oracle = Observed {
        readable: true,
        ..browser.clone()
    };
    let f = &mut report.findings[0];
    f.confirmed.insert(
        ConfirmBrowser::Chromium,
        Confirmation::Contradicted {
            browser: browser.clone(),
            oracle,
            explain: serde_json::json!({"request": {"url": TARGET, "origin": "https://evil.test"}}),
        },
    );
    f.confirmed.insert(
        ConfirmBrowser::Firefox,
        Confirmation::NotReplayable(NotReplayable::SharedCache),
    );
    report.findings[1]
        .confirmed
        .insert(ConfirmBrowser::Firefox, Confirmation::Confirmed { browser });
    report.confirm = Some(ConfirmRun {
        browsers: Vec::new(),
        findings: 2,
        seconds: 1.5,
        contradicted: 1,
    });
    let text = corsproof_report::text(&report, corsproof_report::Style { colour: false });
    assert!(text.contains("chromium: contradicted"), "{text}");
    assert!(text.contains("CORSPROOF DEFECT"), "{text}");
    assert!(text.contains("differs in: readable"), "{text}");
    assert!(
        text.contains("firefox: not-replayable (needs a shared cache"),
        "{text}"
    );
    assert!(text.contains("firefox: confirmed"), "{text}");
    assert!(text.contains("2 findings replayed in 1.50 s"), "{text}");
    let junit = corsproof_report::junit(&report);
    assert!(junit.contains("chromium: contradicted"), "{junit}");
    assert!(junit.contains("CORSPROOF DEFECT"), "{junit}");
    let sarif: Value = serde_json::from_str(&corsproof_report::sarif(&report)).expect("SARIF");
    let confirmed: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["properties"].get("confirmed"))
        .collect();
    assert_eq!(confirmed.len(), 2, "{sarif:#}");
    let json = corsproof_report::json(&report);
    let back: Report = serde_json::from_str(&json).expect("the JSON report reads back");
    assert_eq!(back.findings[0].confirmed, report.findings[0].confirmed);
    assert_eq!(back.confirm, report.confirm);
    let value: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(
        value["findings"][0]["confirmed"]["chromium"]["result"],
        "contradicted"
    );
    assert_eq!(
        value["findings"][0]["confirmed"]["firefox"]["reason"],
        "shared-cache"
    );
    // Without --confirm the report has neither field.
    let plain = corsproof_report::json(&hostile_report());
    assert!(!plain.contains("\"confirmed\"") && !plain.contains("\"confirm\""));
}
