//! Every lint code: which route and field it names, and on which line.

use corsproof_policy::{lint, parse_str, Format, Policy, Warning, WarningCode};

/// One route named "r" whose fields start on line 5.
fn warnings(fields: &str) -> Vec<Warning> {
    let text = format!("version = 1\n\n[[route]]\nname = \"r\"\n{fields}");
    parse_str(&text, "p.toml", Format::Toml)
        .unwrap_or_else(|e| panic!("{e}"))
        .warnings
}

fn codes(fields: &str) -> Vec<&'static str> {
    warnings(fields).iter().map(|w| w.code.as_str()).collect()
}

#[track_caller]
fn single(fields: &str, code: WarningCode, field: &str, line: usize) -> Warning {
    let mut all = warnings(fields);
    assert_eq!(all.len(), 1, "{all:#?}");
    let w = all.remove(0);
    assert_eq!(w.code, code, "{w}");
    assert_eq!(w.route, Some((0, "r".to_string())));
    assert_eq!(w.field.as_deref(), Some(field), "{w}");
    assert_eq!(w.line, Some(line), "{w}");
    assert_eq!(w.file.as_deref(), Some("p.toml"));
    w
}

const API: &str = "path = \"/api/\"\norigins = [\"https://app.example.com\"]\n";

#[test]
fn null_origin_is_risky() {
    let w = single(
        "path = \"/\"\norigins = [\"null\"]\n",
        WarningCode::NullOrigin,
        "origins",
        6,
    );
    assert!(w.code.is_risky());
    assert!(
        w.message
            .contains("unless the route sets allow_risky = true"),
        "{w}"
    );
    let w = single(
        "path = \"/\"\norigins = [\"null\"]\nallow_risky = true\n",
        WarningCode::NullOrigin,
        "origins",
        6,
    );
    assert!(w.message.contains("accepted"), "{w}");
}

#[test]
fn http_origin_with_credentials() {
    let w = single(
        "path = \"/\"\norigins = [\"https://a.example\", \"http://a.example\"]\ncredentials = true\n",
        WarningCode::HttpOriginWithCredentials,
        "origins",
        6,
    );
    assert!(w.message.contains("\"http://a.example\""), "{w}");
    assert!(codes("path = \"/\"\norigins = [\"http://a.example\"]\n").is_empty());
}

#[test]
fn max_age_caps() {
    let w = single(
        &format!("{API}max_age = 86401\n"),
        WarningCode::MaxAgeOverBrowserCap,
        "max_age",
        7,
    );
    assert!(
        w.message.contains("Firefox") && w.message.contains("Chromium"),
        "{w}"
    );
    assert!(w.code.is_risky());
    let w = single(
        &format!("{API}max_age = 86400\n"),
        WarningCode::MaxAgeOverChromiumCap,
        "max_age",
        7,
    );
    assert!(w.message.contains("7200"), "{w}");
    assert!(codes(&format!("{API}max_age = 7200\n")).is_empty());
    single(
        &format!("{API}max_age = 0\n"),
        WarningCode::MaxAgeZero,
        "max_age",
        7,
    );
}

#[test]
fn subdomain_patterns() {
    single(
        "path = \"/\"\norigins = [\"https://*.com\"]\n",
        WarningCode::PublicSuffixPattern,
        "origins",
        6,
    );
    assert!(codes("path = \"/\"\norigins = [\"http://*.localhost\"]\n").is_empty());
    single(
        "path = \"/\"\norigins = [\"https://*.example.com\"]\ncredentials = true\n",
        WarningCode::CredentialedSubdomainPattern,
        "origins",
        6,
    );
}

#[test]
fn header_wildcards_and_authorization() {
    let w = single(
        "path = \"/\"\norigins = [\"*\"]\nexpose_headers = [\"*\"]\n",
        WarningCode::ExposeHeadersWildcard,
        "expose_headers",
        7,
    );
    assert!(w.message.contains("every response header"), "{w}");
    let w = single(
        &format!("{API}credentials = true\nexpose_headers = [\"*\"]\n"),
        WarningCode::ExposeHeadersWildcard,
        "expose_headers",
        8,
    );
    assert!(w.message.contains("uncredentialed reads only"), "{w}");
    single(
        "path = \"/\"\norigins = [\"*\"]\nrequest_headers = [\"*\"]\n",
        WarningCode::RequestHeadersWildcard,
        "request_headers",
        7,
    );
    single(
        "path = \"/\"\norigins = [\"*\"]\nrequest_headers = [\"Authorization\"]\n",
        WarningCode::AuthorizationWithWildcardOrigin,
        "request_headers",
        7,
    );
    assert!(codes(&format!("{API}request_headers = [\"Authorization\"]\n")).is_empty());
    single(
        &format!("{API}expose_headers = [\"Set-Cookie\"]\n"),
        WarningCode::ForbiddenResponseHeader,
        "expose_headers",
        7,
    );
}

#[test]
fn methods() {
    let w = single(
        &format!("{API}methods = [\"put\"]\n"),
        WarningCode::LowercaseMethod,
        "methods",
        7,
    );
    assert!(w.message.contains("did you mean \"PUT\"?"), "{w}");
    assert!(codes(&format!("{API}methods = [\"patch\"]\n")).is_empty());
    single(
        &format!("{API}methods = [\"GET\"]\n"),
        WarningCode::SafelistedMethod,
        "methods",
        7,
    );
}

#[test]
fn same_origin_routes_with_cors_fields() {
    let w = single(
        "path = \"/admin/\"\norigins = []\nmethods = [\"put\"]\ncredentials = true\n",
        WarningCode::IneffectiveFields,
        "origins",
        6,
    );
    assert!(w.message.contains("methods, credentials"), "{w}");
    // Absent origins: reported at the route.
    single(
        "path = \"/admin/\"\nmax_age = 5\n",
        WarningCode::IneffectiveFields,
        "origins",
        3,
    );
    assert!(codes("path = \"/admin/\"\norigins = []\n").is_empty());
}

#[test]
fn duplicate_entries_are_dropped_with_a_warning() {
    let parsed = parse_str(
        "version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\",\n \"https://a.example\"]\nrequest_headers = [\"X-A\", \"x-a\"]\n",
        "p.toml",
        Format::Toml,
    )
    .unwrap();
    let found: Vec<_> = parsed
        .warnings
        .iter()
        .map(|w| (w.code, w.field.as_deref(), w.line))
        .collect();
    assert_eq!(
        found,
        [
            (WarningCode::DuplicateEntry, Some("origins"), Some(5)),
            (
                WarningCode::DuplicateEntry,
                Some("request_headers"),
                Some(6)
            ),
        ]
    );
    assert_eq!(
        parsed.policy.routes[0].request_headers,
        corsproof_policy::HeaderNames::List(vec!["x-a".into()])
    );
}

#[test]
fn route_level_checks() {
    let text = "version = 1\n[[route]]\nname = \"api\"\npath = \"/api/\"\norigins = [\"*\"]\nprobe_paths = [\"/api/admin/x\", \"/api/y\"]\n[[route]]\nname = \"api\"\npath = \"/api/admin/\"\n";
    let parsed = parse_str(text, "p.toml", Format::Toml).unwrap();
    let found: Vec<_> = parsed
        .warnings
        .iter()
        .map(|w| (w.code.as_str(), w.route.clone().map(|r| r.0), w.line))
        .collect();
    assert_eq!(
        found,
        [
            ("probe-path-shadowed", Some(0), Some(6)),
            ("duplicate-route-name", Some(1), Some(8)),
        ]
    );
    single(
        &format!("{API}allow_risky = true\n"),
        WarningCode::AllowRiskyUnused,
        "allow_risky",
        7,
    );
}

#[test]
fn lint_without_a_file_has_no_positions() {
    let policy = Policy::from_toml_str(
        "version = 1\n[[route]]\npath = \"/\"\norigins = [\"null\"]\n",
        "p.toml",
    )
    .unwrap();
    let warnings = lint(&policy);
    assert_eq!(warnings.len(), 1);
    assert_eq!((warnings[0].file.as_ref(), warnings[0].line), (None, None));
}

#[test]
fn codes_are_unique_and_kebab_case() {
    use WarningCode::*;
    let all = [
        NullOrigin,
        HttpOriginWithCredentials,
        MaxAgeOverBrowserCap,
        MaxAgeOverChromiumCap,
        MaxAgeZero,
        PublicSuffixPattern,
        CredentialedSubdomainPattern,
        ExposeHeadersWildcard,
        RequestHeadersWildcard,
        AuthorizationWithWildcardOrigin,
        ForbiddenResponseHeader,
        LowercaseMethod,
        SafelistedMethod,
        IneffectiveFields,
        DuplicateEntry,
        DuplicateRouteName,
        ProbePathShadowed,
        AllowRiskyUnused,
    ];
    let strings: std::collections::HashSet<_> = all.iter().map(|c| c.as_str()).collect();
    assert_eq!(strings.len(), all.len());
    assert!(strings
        .iter()
        .all(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
    let docs = include_str!("../src/lib.rs");
    for s in strings {
        assert!(
            docs.contains(&format!("| `{s}` |")),
            "{s} missing from the crate docs table"
        );
    }
}
