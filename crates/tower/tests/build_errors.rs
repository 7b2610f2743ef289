//! Build-time validation: policy errors and risky settings, each naming route and field.

mod common;

use common::policy;
use corsproof_policy::{HeaderNames, Origins, Policy, Route};
use corsproof_tower::{BuildError, CorsLayer, Problem};

fn problems(toml: &str) -> (BuildError, Vec<Problem>) {
    let err = CorsLayer::from_policy(&policy(toml)).unwrap_err();
    let p = err.problems();
    (err, p)
}

fn summary(p: &Problem) -> (Option<usize>, Option<String>, Option<&str>, &'static str) {
    (
        p.route.as_ref().map(|r| r.0),
        p.route.as_ref().map(|r| r.1.clone()),
        p.field.as_deref(),
        p.code,
    )
}

#[test]
fn null_origin_is_refused_unless_allow_risky() {
    let (err, p) = problems(
        "version = 1\n[[route]]\nname = \"embed\"\npath = \"/embed/\"\norigins = [\"null\"]\n",
    );
    assert!(matches!(err, BuildError::Risky(_)));
    assert_eq!(p.len(), 1);
    assert_eq!(
        summary(&p[0]),
        (
            Some(0),
            Some("embed".into()),
            Some("origins"),
            "null-origin"
        )
    );
    let text = err.to_string();
    assert!(
        text.contains("route \"embed\" (#1), field `origins`"),
        "{text}"
    );
    assert!(text.contains("allow_risky"), "{text}");
    CorsLayer::from_policy(&policy(
        "version = 1\n[[route]]\npath = \"/\"\norigins = [\"null\"]\nallow_risky = true\n",
    ))
    .unwrap();
}

#[test]
fn http_origins_on_credentialed_routes_are_refused_unless_allow_risky() {
    let toml = "version = 1\n[[route]]\npath = \"/a/\"\n[[route]]\npath = \"/api/\"\norigins = [\"http://localhost:3000\", \"https://ok.example\"]\ncredentials = true\n";
    let (_, p) = problems(toml);
    assert_eq!(p.len(), 1);
    assert_eq!(
        summary(&p[0]),
        (
            Some(1),
            Some("/api/".into()),
            Some("origins"),
            "http-origin-with-credentials"
        )
    );
    // http without credentials is fine; so is allow_risky.
    CorsLayer::from_policy(&policy(
        "version = 1\n[[route]]\npath = \"/\"\norigins = [\"http://localhost:3000\"]\n",
    ))
    .unwrap();
    CorsLayer::from_policy(&policy(&format!("{toml}allow_risky = true\n"))).unwrap();
    // Patterns too.
    let (_, p) = problems("version = 1\n[[route]]\npath = \"/\"\norigins = [\"http://*.example.com\"]\ncredentials = true\n");
    assert_eq!(p[0].code, "http-origin-with-credentials");
}

#[test]
fn max_age_over_a_day_is_refused_unless_allow_risky() {
    let base =
        "version = 1\n[[route]]\nname = \"api\"\npath = \"/\"\norigins = [\"https://a.example\"]\n";
    CorsLayer::from_policy(&policy(&format!("{base}max_age = 86400\n"))).unwrap();
    let (_, p) = problems(&format!("{base}max_age = 86401\n"));
    assert_eq!(
        summary(&p[0]),
        (
            Some(0),
            Some("api".into()),
            Some("max_age"),
            "max-age-over-browser-cap"
        )
    );
    CorsLayer::from_policy(&policy(&format!(
        "{base}max_age = 86401\nallow_risky = true\n"
    )))
    .unwrap();
}

#[test]
fn every_risky_setting_is_reported_in_route_order() {
    let (_, p) = problems(
        r#"
version = 1
[[route]]
name = "one"
path = "/one/"
origins = ["null", "http://a.example"]
credentials = true
max_age = 100000
[[route]]
name = "two"
path = "/two/"
origins = ["https://b.example"]
max_age = 100000
allow_risky = true
[[route]]
name = "three"
path = "/three/"
origins = ["null"]
"#,
    );
    let got: Vec<_> = p.iter().map(summary).collect();
    assert_eq!(
        got,
        [
            (Some(0), Some("one".into()), Some("origins"), "null-origin"),
            (
                Some(0),
                Some("one".into()),
                Some("origins"),
                "http-origin-with-credentials"
            ),
            (
                Some(0),
                Some("one".into()),
                Some("max_age"),
                "max-age-over-browser-cap"
            ),
            (
                Some(2),
                Some("three".into()),
                Some("origins"),
                "null-origin"
            ),
        ]
    );
}

#[test]
fn invalid_policies_built_in_code_are_refused_with_route_and_field() {
    let mut route = Route::same_origin_only("/api/");
    route.origins = Origins::Any;
    route.credentials = true;
    let err = CorsLayer::from_policy(&Policy {
        version: 1,
        routes: vec![Route::same_origin_only("/"), route],
    })
    .unwrap_err();
    assert!(matches!(err, BuildError::Policy(_)));
    let p = err.problems();
    assert_eq!(
        summary(&p[0]),
        (
            Some(1),
            Some("/api/".into()),
            Some("origins"),
            "wildcard-origin-with-credentials"
        )
    );

    let mut route = Route::same_origin_only("/");
    route.origins = Origins::Any;
    route.request_headers = HeaderNames::List(vec!["X-Upper".into()]);
    let err = CorsLayer::from_policy(&Policy {
        version: 1,
        routes: vec![route],
    })
    .unwrap_err();
    assert_eq!(
        summary(&err.problems()[0]),
        (
            Some(0),
            Some("/".into()),
            Some("request_headers"),
            "not-canonical"
        )
    );

    let mut route = Route::same_origin_only("/");
    route.origins = Origins::Any;
    route.methods = vec!["TRACE".into()];
    let err = CorsLayer::from_policy(&Policy {
        version: 1,
        routes: vec![route],
    })
    .unwrap_err();
    assert_eq!(
        summary(&err.problems()[0]),
        (
            Some(0),
            Some("/".into()),
            Some("methods"),
            "forbidden-method"
        )
    );

    let err = CorsLayer::from_policy(&Policy {
        version: 1,
        routes: vec![Route::same_origin_only("/"), Route::same_origin_only("/")],
    })
    .unwrap_err();
    assert_eq!(err.problems()[0].code, "duplicate-path");
    assert_eq!(err.problems()[0].field.as_deref(), Some("path"));
}

#[test]
fn builder_errors_name_the_field() {
    let cases: Vec<(corsproof_tower::CorsBuilder, &str, &str)> = vec![
        (
            CorsLayer::builder().allow_origins(["https://app.example.com/"]),
            "origins",
            "non-canonical-origin",
        ),
        (
            CorsLayer::builder().allow_origins(["ftp://a.example"]),
            "origins",
            "invalid-origin",
        ),
        (
            CorsLayer::builder().allow_origins(["https://a.*.example"]),
            "origins",
            "invalid-origin-pattern",
        ),
        (
            CorsLayer::builder()
                .allow_any_origin()
                .allow_origins(["https://a.example"]),
            "origins",
            "wildcard-mixed",
        ),
        (
            CorsLayer::builder()
                .allow_any_origin()
                .allow_credentials(true),
            "origins",
            "wildcard-origin-with-credentials",
        ),
        (
            CorsLayer::builder()
                .allow_origins(["https://a.example"])
                .allow_any_header()
                .allow_credentials(true),
            "request_headers",
            "wildcard-headers-with-credentials",
        ),
        (
            CorsLayer::builder()
                .allow_origins(["https://a.example"])
                .allow_methods(["CONNECT"]),
            "methods",
            "forbidden-method",
        ),
        (
            CorsLayer::builder()
                .allow_origins(["https://a.example"])
                .allow_headers(["Cookie"]),
            "request_headers",
            "forbidden-request-header",
        ),
        (
            CorsLayer::builder()
                .allow_origins(["https://a.example"])
                .allow_headers(["bad header"]),
            "request_headers",
            "invalid-header-name",
        ),
        (
            CorsLayer::builder().allow_origins(["null"]),
            "origins",
            "null-origin",
        ),
        (
            CorsLayer::builder()
                .allow_origins(["https://a.example"])
                .max_age(90_000),
            "max_age",
            "max-age-over-browser-cap",
        ),
        (
            CorsLayer::builder().path("api").allow_any_origin(),
            "path",
            "invalid-path",
        ),
    ];
    for (builder, field, code) in cases {
        let err = builder.build().unwrap_err();
        let p = &err.problems()[0];
        assert_eq!((p.field.as_deref(), p.code), (Some(field), code), "{err}");
        assert_eq!(p.route.as_ref().map(|r| r.0), Some(0), "{err}");
    }
    CorsLayer::builder()
        .allow_origins(["null"])
        .allow_risky(true)
        .build()
        .unwrap();
}
