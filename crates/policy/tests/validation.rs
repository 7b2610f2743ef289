//! Every validation rule: the error names the right code, route, field and line.

use corsproof_policy::{Diagnostic, ErrorCode, Policy, PolicyError};

/// Two routes; text appended to it belongs to the second ("api", index 1) from line 10 on.
const HEAD: &str = "version = 1\n\n[[route]]\nname = \"first\"\npath = \"/first/\"\n\n[[route]]\nname = \"api\"\npath = \"/api/\"\n";
const FIRST_FIELD_LINE: usize = 10;

fn errors_in(text: &str) -> Vec<Diagnostic> {
    match Policy::from_toml_str(text, "policy.toml") {
        Err(PolicyError::Invalid(diagnostics)) => diagnostics,
        other => panic!("expected validation errors, got {other:?}"),
    }
}

/// The single error of the second route once `fields` is appended.
fn error(fields: &str) -> Diagnostic {
    let mut all = errors_in(&format!("{HEAD}{fields}"));
    assert_eq!(all.len(), 1, "{all:#?}");
    all.remove(0)
}

#[track_caller]
fn assert_at(d: &Diagnostic, code: ErrorCode, field: &str, line_offset: usize) {
    assert_eq!(d.code, code, "{d}");
    assert_eq!(d.file, "policy.toml");
    assert_eq!(d.route, Some((1, "api".to_string())), "{d}");
    assert_eq!(d.field.as_deref(), Some(field), "{d}");
    assert_eq!(d.line, Some(FIRST_FIELD_LINE + line_offset), "{d}");
    assert!(d.column.is_some(), "{d}");
}

fn valid(fields: &str) -> Policy {
    Policy::from_toml_str(&format!("{HEAD}{fields}"), "policy.toml")
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn wildcard_origin_with_credentials() {
    let d = error("origins = [\"*\"]\ncredentials = true\n");
    assert_at(&d, ErrorCode::WildcardOriginWithCredentials, "origins", 0);
    assert!(d.message.contains("credentials = true"));
}

#[test]
fn wildcard_origin_mixed_with_others() {
    let d = error("origins = [\"https://a.example\", \"*\"]\n");
    assert_at(&d, ErrorCode::WildcardMixed, "origins", 0);
    assert!(d.message.contains("\"https://a.example\""), "{d}");
}

#[test]
fn non_canonical_origin_message_suggests_the_fix() {
    let d = error("credentials = true\norigins = [\n  \"https://app.example.com\",\n  \"https://App.example.com\",\n]\n");
    assert_at(&d, ErrorCode::NonCanonicalOrigin, "origins", 3);
    assert_eq!(
        d.to_string(),
        "policy.toml:13:3: route \"api\" (#2), field `origins`: \"https://App.example.com\" is not \
         lowercase; did you mean \"https://app.example.com\"?"
    );
    for (origin, fix) in [
        ("https://example.com:443", "\"https://example.com\""),
        ("https://example.com/", "\"https://example.com\""),
        ("http://[0::1]", "\"http://[::1]\""),
    ] {
        let d = error(&format!("origins = [\"{origin}\"]\n"));
        assert_at(&d, ErrorCode::NonCanonicalOrigin, "origins", 0);
        assert!(d.message.ends_with(&format!("did you mean {fix}?")), "{d}");
    }
}

#[test]
fn malformed_origins() {
    for (origin, needle) in [
        ("https://example.com/api", "has a path"),
        ("ftp://example.com", "only http and https"),
        ("https://user@example.com", "user info"),
        ("https://example.com?q", "query"),
        ("https://exa_mple.com", "'_'"),
        ("https://bücher.example", "punycode"),
        ("app.example.com", "expected scheme://host"),
        ("https://example.com:70000", "65535"),
    ] {
        let d = error(&format!("origins = [\"{origin}\"]\n"));
        assert_at(&d, ErrorCode::InvalidOrigin, "origins", 0);
        assert!(d.message.contains(needle), "{d}");
    }
    let d = error("origins = [\"https://bücher.example\"]\n");
    assert!(
        d.message
            .contains("did you mean \"https://xn--bcher-kva.example\"?"),
        "{d}"
    );
}

#[test]
fn malformed_subdomain_patterns() {
    for pattern in [
        "https://a*.b.com",
        "https://*b.example.com",
        "https://x.*.example.com",
        "https://*",
        "https://*.1.2.3.4",
    ] {
        let d = error(&format!("origins = [\"{pattern}\"]\n"));
        assert_at(&d, ErrorCode::InvalidOriginPattern, "origins", 0);
    }
    valid(
        "origins = [\"https://*.example.com\", \"http://*.localhost:3000\", \"https://*.com\"]\n",
    );
}

#[test]
fn null_origin_is_accepted() {
    valid("origins = [\"null\"]\n");
}

#[test]
fn wildcard_request_headers_with_credentials() {
    let d =
        error("origins = [\"https://a.example\"]\ncredentials = true\nrequest_headers = [\"*\"]\n");
    assert_at(
        &d,
        ErrorCode::WildcardHeadersWithCredentials,
        "request_headers",
        2,
    );
    // Exposing `*` with credentials is meaningful (it covers uncredentialed reads): a warning.
    valid("origins = [\"https://a.example\"]\ncredentials = true\nexpose_headers = [\"*\"]\n");
}

#[test]
fn wildcard_headers_mixed_with_names() {
    let d = error("request_headers = [\"*\", \"x-a\"]\n");
    assert_at(&d, ErrorCode::WildcardMixed, "request_headers", 0);
    let d = error("expose_headers = [\"ETag\", \"*\"]\n");
    assert_at(&d, ErrorCode::WildcardMixed, "expose_headers", 0);
}

#[test]
fn invalid_header_names() {
    for name in ["X Request", "x-a:b", "", "é", "x-*"] {
        let d = error(&format!("request_headers = [\"{name}\"]\n"));
        assert_at(&d, ErrorCode::InvalidHeaderName, "request_headers", 0);
        let d = error(&format!("expose_headers = [\"{name}\"]\n"));
        assert_at(&d, ErrorCode::InvalidHeaderName, "expose_headers", 0);
    }
}

#[test]
fn forbidden_request_headers() {
    for name in [
        "cookie",
        "Host",
        "Sec-Fetch-Mode",
        "proxy-authorization",
        "Access-Control-Request-Method",
        "DNT",
    ] {
        let d = error(&format!("request_headers = [\"x-ok\",\n  \"{name}\"]\n"));
        assert_at(&d, ErrorCode::ForbiddenRequestHeader, "request_headers", 1);
        assert!(d.message.contains(name), "{d}");
    }
    // Only request headers are restricted; set-cookie in expose_headers is a lint warning.
    valid("expose_headers = [\"set-cookie\"]\n");
}

#[test]
fn invalid_and_forbidden_methods() {
    for method in ["GET POST", "", "*", "PÜT"] {
        let d = error(&format!("methods = [\"{method}\"]\n"));
        assert_at(&d, ErrorCode::InvalidMethod, "methods", 0);
    }
    for method in ["CONNECT", "trace", "Track"] {
        let d = error(&format!("methods = [\"PUT\", \"{method}\"]\n"));
        assert_at(&d, ErrorCode::ForbiddenMethod, "methods", 0);
    }
    let policy = valid("methods = [\"GET\", \"put\", \"PATCH\"]\n");
    assert_eq!(policy.routes[1].methods, ["GET", "put", "PATCH"]);
}

#[test]
fn duplicate_paths() {
    let text = format!("{HEAD}\n[[route]]\npath = \"/api/\"\n");
    let all = errors_in(&text);
    assert_eq!(all.len(), 1, "{all:#?}");
    let d = &all[0];
    assert_eq!(d.code, ErrorCode::DuplicatePath);
    assert_eq!(d.route, Some((2, "/api/".to_string())));
    assert_eq!(d.field.as_deref(), Some("path"));
    assert_eq!(d.line, Some(12));
    assert!(d.message.contains("route \"api\" (#2)"), "{d}");
}

#[test]
fn version_missing_or_unsupported() {
    let all = errors_in("[[route]]\npath = \"/\"\n");
    assert_eq!(all[0].code, ErrorCode::MissingField);
    assert_eq!(all[0].field.as_deref(), Some("version"));
    assert_eq!(all[0].route, None);
    for v in ["0", "2", "-1", "9223372036854775807"] {
        let all = errors_in(&format!("\nversion = {v}\n"));
        assert_eq!(all[0].code, ErrorCode::UnsupportedVersion);
        assert_eq!(all[0].line, Some(2));
    }
}

#[test]
fn max_age_out_of_range() {
    let d = error("max_age = -1\n");
    assert_at(&d, ErrorCode::MaxAgeOutOfRange, "max_age", 0);
    assert!(d.message.contains("negative"));
    let d = error("max_age = 9223372036854775807\n");
    assert_at(&d, ErrorCode::MaxAgeOutOfRange, "max_age", 0);
    let d = Policy::from_json_str(
        r#"{"version": 1, "route": [{"path": "/", "max_age": 18446744073709551615}]}"#,
        "p.json",
    )
    .unwrap_err()
    .diagnostics()
    .remove(0);
    assert_eq!(d.code, ErrorCode::MaxAgeOutOfRange);
    valid(&format!("max_age = {}\n", corsproof_policy::MAX_AGE_LIMIT));
}

#[test]
fn probe_paths_must_be_under_the_route() {
    let d = error("probe_paths = [\"/api/ok\", \"/other\"]\n");
    assert_at(&d, ErrorCode::InvalidProbePath, "probe_paths", 0);
    assert!(d.message.contains("\"/api/\""), "{d}");
    let d = error("probe_paths = [\"/api/a b\"]\n");
    assert_at(&d, ErrorCode::InvalidProbePath, "probe_paths", 0);
    assert!(d.message.contains("\"/api/a%20b\""), "{d}");
}

#[test]
fn route_paths() {
    let all = errors_in("version = 1\n\n[[route]]\nname = \"nameless\"\n");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].code, ErrorCode::MissingField);
    assert_eq!(all[0].route, Some((0, "nameless".to_string())));
    assert_eq!(all[0].field.as_deref(), Some("path"));
    assert_eq!(all[0].line, Some(3)); // the route's `[[route]]` line
    for (path, needle) in [
        ("api/", "did you mean \"/api/\""),
        ("/a?b", "query"),
        ("/a/../b", "segment"),
        ("/ä", "%C3%A4"),
    ] {
        let all = errors_in(&format!("version = 1\n[[route]]\npath = \"{path}\"\n"));
        assert_eq!(all[0].code, ErrorCode::InvalidPath);
        assert_eq!(all[0].route, Some((0, path.to_string())));
        assert_eq!(all[0].line, Some(3));
        assert!(all[0].message.contains(needle), "{}", all[0]);
    }
}

#[test]
fn route_names() {
    let all = errors_in("version = 1\n[[route]]\nname = \"\"\npath = \"/\"\n");
    assert_eq!(all[0].code, ErrorCode::InvalidName);
    assert_eq!(all[0].route, Some((0, "/".to_string())));
    assert_eq!(all[0].line, Some(3));
}

#[test]
fn every_error_is_reported_in_file_order() {
    let text = "version = 1\n[[route]]\npath = \"/a/\"\norigins = [\"*\"]\ncredentials = true\nmethods = [\"TRACE\"]\n[[route]]\npath = \"/a/\"\nrequest_headers = [\"cookie\"]\n";
    let codes: Vec<_> = errors_in(text)
        .iter()
        .map(|d| (d.code.as_str(), d.line))
        .collect();
    assert_eq!(
        codes,
        [
            ("wildcard-origin-with-credentials", Some(4)),
            ("forbidden-method", Some(6)),
            ("duplicate-path", Some(8)),
            ("forbidden-request-header", Some(9)),
        ]
    );
    let err = Policy::from_toml_str(text, "p.toml").unwrap_err();
    assert_eq!(err.to_string().lines().count(), 4);
}

#[test]
fn json_validation_errors_name_route_and_field_without_lines() {
    let text = r#"{"version": 1, "route": [{"name": "x", "path": "/", "methods": ["CONNECT"]}]}"#;
    let d = Policy::from_json_str(text, "p.json")
        .unwrap_err()
        .diagnostics()
        .remove(0);
    assert_eq!(d.code, ErrorCode::ForbiddenMethod);
    assert_eq!(d.route, Some((0, "x".to_string())));
    assert_eq!(d.field.as_deref(), Some("methods"));
    assert_eq!(d.line, None);
    assert!(d
        .to_string()
        .starts_with("p.json: route \"x\" (#1), field `methods`: "));
}

#[test]
fn syntax_errors_stop_with_a_position() {
    for (text, line, needle) in [
        (
            "version = 1\n[[route]]\npath = \"/\"\norigin = [\"*\"]\n",
            4,
            "unknown field `origin`",
        ),
        (
            "version = 1\n[[route]]\npath = \"/\"\ncredentials = \"yes\"\n",
            4,
            "expected a boolean",
        ),
        (
            "version = 1\n[[route]]\npath = \"/\"\norigins = \"*\"\n",
            4,
            "expected a sequence",
        ),
        ("version = 1\nrouts = []\n", 2, "unknown field `routs`"),
        ("version = 1\n[[route]\n", 2, ""),
        ("version = 1.0\n", 1, "expected an integer"),
        (
            "version = 1\n[[route]]\npath = \"/\"\nmax_age = 99999999999999999999\n",
            4,
            "",
        ),
    ] {
        match Policy::from_toml_str(text, "p.toml") {
            Err(PolicyError::Syntax {
                file,
                line: l,
                column,
                message,
            }) => {
                assert_eq!(file, "p.toml");
                assert_eq!(l, Some(line), "{text}: {message}");
                assert!(column.is_some());
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn hostile_inputs_give_errors_not_panics() {
    let deep = format!("version = {}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Policy::from_toml_str(&deep, "p").is_err());
    let deep = format!("x = {}", "{a=".repeat(100_000));
    assert!(Policy::from_toml_str(&deep, "p").is_err());
    let deep = format!("{{\"version\": {}", "[".repeat(100_000));
    assert!(Policy::from_json_str(&deep, "p").is_err());
    assert!(Policy::from_json_str("{\"version\": 1e999}", "p").is_err());
    assert!(Policy::from_json_str("", "p").is_err());
    assert!(Policy::from_toml_str("\u{0}\u{feff}\u{10ffff}", "p").is_err());
    let long = format!(
        "version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://{}.com\"]\n",
        "a".repeat(1 << 20)
    );
    assert!(Policy::from_toml_str(&long, "p").is_err());
}

#[test]
fn a_single_bracket_route_table_gets_a_hint() {
    let err = Policy::from_toml_str("version = 1\n[route]\npath = \"/\"\n", "p.toml").unwrap_err();
    let d = err.diagnostics().remove(0);
    assert_eq!((d.code, d.line), (ErrorCode::Syntax, Some(2)));
    assert!(d.message.ends_with("write [[route]]"), "{d}");
}

#[test]
fn errors_within_a_line_are_ordered_by_column() {
    let all = errors_in(
        "version = 1\n[[route]]\npath = \"/\"\norigins = [\"HTTPS://a.example\", \"*\", \"https://b.example/\"]\n",
    );
    let found: Vec<_> = all.iter().map(|d| (d.code.as_str(), d.column)).collect();
    assert_eq!(
        found,
        [
            ("non-canonical-origin", Some(12)),
            ("wildcard-mixed", Some(33)),
            ("non-canonical-origin", Some(38)),
        ]
    );
}

#[test]
fn policies_built_in_code_are_validated() {
    use corsproof_policy::{HeaderNames, Origins, Route};
    let mut route = Route::same_origin_only("/api/");
    route.methods = vec!["PUT".into(), "PUT".into()];
    let policy = Policy {
        version: 1,
        routes: vec![route.clone()],
    };
    let d = policy.validate().unwrap_err().diagnostics().remove(0);
    assert_eq!(d.code, ErrorCode::NotCanonical);
    assert_eq!(d.route, Some((0, "/api/".to_string())));
    assert_eq!(d.field.as_deref(), Some("methods"));

    route.methods.clear();
    route.origins = Origins::Any;
    route.credentials = true;
    route.request_headers = HeaderNames::Any;
    route.max_age = Some(u64::MAX);
    let policy = Policy {
        version: 1,
        routes: vec![route],
    };
    let codes: Vec<_> = policy
        .validate()
        .unwrap_err()
        .diagnostics()
        .iter()
        .map(|d| (d.code.as_str(), d.line))
        .collect();
    assert_eq!(
        codes,
        [
            ("wildcard-origin-with-credentials", None),
            ("wildcard-headers-with-credentials", None),
            ("max-age-out-of-range", None),
        ]
    );
}
