//! Why a request was refused: each kind of refusal, the request that triggers it and the
//! reason expected, in the extensions of response and request and (under
//! `RefusalReasons::Header`) in the `Cors-Refusal` header; allowed requests carry none; by
//! default nothing is said; hostile request values still make valid header values. Each
//! test is a table of named cases (`common::table`).

mod common;

use std::collections::BTreeSet;

use common::table::{run, Case};
use common::*;
use corsproof_tower::{
    CorsLayer, Refusal, RefusalKind, RefusalReasons, MAX_ACRH_BYTES, MAX_ACRH_ELEMENTS,
    MAX_REQUEST_VALUE_BYTES,
};
use http::{HeaderValue, Request};

const APP: &str = "https://app.example.com";
const REFUSAL: &str = "cors-refusal";

/// One refusal: what it is about, the request, the status it gets and the expected reason
/// in its `Cors-Refusal` form.
struct Row {
    name: &'static str,
    request: Request<String>,
    status: u16,
    form: String,
}

fn row(name: &'static str, request: Request<String>, status: u16, form: &str) -> Row {
    Row {
        name,
        request,
        status,
        form: form.to_string(),
    }
}

/// A preflight from [`APP`] for PUT with `lines` of `Access-Control-Request-Headers`.
fn acrh_lines(path: &str, lines: &[&str]) -> Request<String> {
    let mut h = vec![("origin", APP), ("access-control-request-method", "PUT")];
    h.extend(lines.iter().map(|l| ("access-control-request-headers", *l)));
    req("OPTIONS", path, &h)
}

/// A preflight from [`APP`] whose `Access-Control-Request-Method` is the bytes `method`.
fn raw_method(method: &[u8]) -> Request<String> {
    let mut request = preflight("/api/x", APP, "GET", None);
    request.headers_mut().insert(
        "access-control-request-method",
        HeaderValue::from_bytes(method).unwrap(),
    );
    request
}

/// A preflight from [`APP`] for PUT whose `Access-Control-Request-Headers` is the bytes `acrh`.
fn raw_acrh(acrh: &[u8]) -> Request<String> {
    let mut request = preflight("/api/x", APP, "PUT", None);
    request.headers_mut().insert(
        "access-control-request-headers",
        HeaderValue::from_bytes(acrh).unwrap(),
    );
    request
}

/// Every kind of refusal the middleware decides, on [`POLICY`].
fn refusals() -> Vec<Row> {
    let many_names = vec!["content-type"; MAX_ACRH_ELEMENTS + 1].join(",");
    let long_list = format!("content-type,{}", " ".repeat(MAX_ACRH_BYTES));
    let many_lines = vec!["content-type"; MAX_ACRH_ELEMENTS + 1];
    vec![
        row(
            "GET to a path no route covers",
            req("GET", "/other", &[("origin", APP)]),
            200,
            "no-route",
        ),
        row(
            "preflight to a path no route covers",
            preflight("/other", APP, "PUT", None),
            200,
            "no-route",
        ),
        row(
            "GET to a same-origin-only route",
            req("GET", "/api/admin/users", &[("origin", APP)]),
            200,
            r#"same-origin-only; route="admin""#,
        ),
        row(
            "GET from an unlisted origin",
            req("GET", "/api/x", &[("origin", "https://evil.example")]),
            200,
            r#"origin-not-allowed; route="api""#,
        ),
        row(
            "preflight from an unlisted origin",
            preflight("/api/x", "https://evil.example", "PUT", None),
            403,
            r#"origin-not-allowed; route="api""#,
        ),
        row(
            "GET from null",
            req("GET", "/api/x", &[("origin", "null")]),
            200,
            r#"null-origin-not-allowed; route="api""#,
        ),
        row(
            "preflight from null",
            preflight("/api/x", "null", "PUT", None),
            403,
            r#"null-origin-not-allowed; route="api""#,
        ),
        row(
            "GET with two Origin lines",
            req("GET", "/api/x", &[("origin", APP), ("origin", APP)]),
            200,
            r#"several-origins; route="api""#,
        ),
        row(
            "preflight with two Origin lines",
            req(
                "OPTIONS",
                "/api/x",
                &[
                    ("origin", APP),
                    ("origin", APP),
                    ("access-control-request-method", "PUT"),
                ],
            ),
            403,
            r#"several-origins; route="api""#,
        ),
        row(
            "preflight with two ACRM lines",
            req(
                "OPTIONS",
                "/api/x",
                &[
                    ("origin", APP),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-method", "PUT"),
                ],
            ),
            403,
            r#"several-request-methods; route="api""#,
        ),
        // Only "patch" is listed: method names are case-sensitive.
        row(
            "preflight for PATCH",
            preflight("/api/x", APP, "PATCH", None),
            403,
            r#"method-not-allowed; method="PATCH"; route="api""#,
        ),
        row(
            "preflight for CONNECT",
            preflight("/api/x", APP, "CONNECT", None),
            403,
            r#"method-not-allowed; method="CONNECT"; route="api""#,
        ),
        // The first name refused, as the request spelled it.
        row(
            "preflight asking for an unlisted header",
            preflight("/api/x", APP, "PUT", Some("content-type, X-Other ,x-third")),
            403,
            r#"header-not-allowed; header="X-Other"; route="api""#,
        ),
        row(
            "preflight asking for authorization on a list",
            preflight("/api/x", APP, "PUT", Some("authorization")),
            403,
            r#"header-not-allowed; header="authorization"; route="api""#,
        ),
        row(
            "preflight asking for authorization under *",
            preflight("/public/x", APP, "GET", Some("x-a,Authorization")),
            403,
            r#"authorization-not-covered; route="public""#,
        ),
        row(
            "preflight asking for a header that is not a token",
            preflight("/api/x", APP, "PUT", Some("content-type,x a")),
            403,
            r#"invalid-header-name; header="x a"; route="api""#,
        ),
        row(
            "preflight asking for too many headers",
            acrh_lines("/api/x", &[&many_names]),
            403,
            r#"request-headers-over-limit; route="api""#,
        ),
        row(
            "preflight with too many ACRH lines",
            acrh_lines("/api/x", &many_lines),
            403,
            r#"request-headers-over-limit; route="api""#,
        ),
        row(
            "preflight with too long an ACRH",
            acrh_lines("/api/x", &[&long_list]),
            403,
            r#"request-headers-over-limit; route="api""#,
        ),
        // Passed, but without the Access-Control-Allow-Private-Network the browser needs.
        row(
            "PNA preflight on a route without private_network",
            req(
                "OPTIONS",
                "/api/x",
                &[
                    ("origin", APP),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-private-network", "true"),
                ],
            ),
            204,
            r#"private-network-not-allowed; route="api""#,
        ),
    ]
}

#[test]
fn every_refusal_is_named_in_the_extensions_and_only_they_by_default() {
    let rows = refusals();
    // Every kind of refusal is in the table.
    let words: BTreeSet<&str> = rows
        .iter()
        .map(|r| r.form.split(';').next().unwrap())
        .collect();
    let kinds = [
        RefusalKind::NoRoute,
        RefusalKind::SameOriginOnly,
        RefusalKind::OriginNotAllowed,
        RefusalKind::NullOrigin,
        RefusalKind::SeveralOrigins,
        RefusalKind::SeveralRequestMethods,
        RefusalKind::AuthorizationNotCovered,
        RefusalKind::RequestHeadersOverLimit,
        RefusalKind::PrivateNetworkNotAllowed,
    ];
    let mut all: BTreeSet<&str> = kinds.iter().map(RefusalKind::word).collect();
    all.extend([
        "method-not-allowed",
        "header-not-allowed",
        "invalid-header-name",
    ]);
    assert_eq!(words, all);

    let with = |reasons| layer(POLICY).refusal_reasons(reasons);
    let extension = rows
        .iter()
        .map(|r| {
            Case::new(r.name, r.request.clone())
                .status(r.status)
                .refusal(&r.form)
                .absent(REFUSAL)
        })
        .collect();
    run(&with(RefusalReasons::Extension), extension);
    let header = rows
        .iter()
        .map(|r| {
            Case::new(r.name, r.request.clone())
                .status(r.status)
                .refusal(&r.form)
                .header(REFUSAL, &r.form)
        })
        .collect();
    run(&with(RefusalReasons::Header), header);
    // The default says nothing, to the client or the application.
    let silent = rows
        .into_iter()
        .map(|r| {
            Case::new(r.name, r.request)
                .status(r.status)
                .no_refusal()
                .absent(REFUSAL)
        })
        .collect();
    run(&layer(POLICY), silent);
}

#[test]
fn a_reason_changes_nothing_else_in_the_answer() {
    for r in refusals() {
        let answers: Vec<_> = [
            RefusalReasons::Off,
            RefusalReasons::Extension,
            RefusalReasons::Header,
        ]
        .into_iter()
        .map(|reasons| {
            let inner = Inner::new();
            let mut res = send(
                &layer(POLICY).refusal_reasons(reasons),
                &inner,
                r.request.clone(),
            );
            res.headers_mut().remove(REFUSAL);
            (res.status(), res.headers().clone(), inner.calls())
        })
        .collect();
        assert!(
            answers.windows(2).all(|w| w[0] == w[1]),
            "{}: {answers:?}",
            r.name
        );
    }
}

#[test]
fn continued_preflights_carry_the_reason_to_the_handler_and_back() {
    let l = layer(POLICY)
        .preflight_continue(true)
        .refusal_reasons(RefusalReasons::Header);
    let form = r#"method-not-allowed; method="PATCH"; route="api""#;
    run(
        &l,
        vec![
            Case::new("refused", preflight("/api/x", APP, "PATCH", None))
                .calls(1)
                .status(200)
                .no_cors()
                .refusal(form)
                .header(REFUSAL, form),
            Case::new("passed", preflight("/api/x", APP, "PUT", None))
                .calls(1)
                .header("access-control-allow-origin", APP)
                .no_refusal()
                .absent(REFUSAL),
        ],
    );
}

#[test]
fn allowed_requests_carry_no_reason() {
    let requests = [
        (
            "allowed preflight",
            preflight("/api/x", APP, "PUT", Some("content-type")),
        ),
        (
            "allowed preflight from a pattern",
            preflight("/api/x", "https://a.partner.example", "patch", None),
        ),
        (
            "allowed preflight on a * route",
            preflight("/public/x", "https://any.example", "GET", Some("x-a")),
        ),
        (
            "PNA preflight on a PNA route",
            req(
                "OPTIONS",
                "/device/x",
                &[
                    ("origin", APP),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-private-network", "true"),
                ],
            ),
        ),
        (
            "PNA asked with false on a route without it",
            req(
                "OPTIONS",
                "/api/x",
                &[
                    ("origin", APP),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-private-network", "false"),
                ],
            ),
        ),
        ("allowed GET", req("GET", "/api/x", &[("origin", APP)])),
        (
            "GET on a * route from anywhere",
            req("GET", "/public/x", &[("origin", "null")]),
        ),
        (
            "OPTIONS with Origin, no ACRM",
            req("OPTIONS", "/api/x", &[("origin", APP)]),
        ),
        // Not cross-origin requests: nothing to refuse.
        ("GET without Origin", req("GET", "/api/x", &[])),
        (
            "GET without Origin to a path no route covers",
            req("GET", "/other", &[]),
        ),
        (
            "GET without Origin to a same-origin-only route",
            req("GET", "/api/admin/x", &[]),
        ),
        (
            "OPTIONS with ACRM, no Origin",
            req(
                "OPTIONS",
                "/api/x",
                &[("access-control-request-method", "PUT")],
            ),
        ),
    ];
    for reasons in [
        RefusalReasons::Off,
        RefusalReasons::Extension,
        RefusalReasons::Header,
    ] {
        let cases = requests
            .iter()
            .map(|(name, request)| {
                Case::new(format!("{name} ({reasons:?})"), request.clone())
                    .no_refusal()
                    .absent(REFUSAL)
            })
            .collect();
        run(&layer(POLICY).refusal_reasons(reasons), cases);
    }
}

#[test]
fn hostile_request_values_make_valid_bounded_header_values() {
    let long = "A".repeat(MAX_REQUEST_VALUE_BYTES + 100);
    let kept = &long[..MAX_REQUEST_VALUE_BYTES];
    let rows = [
        (
            "quotes, backslash, separators in a method",
            raw_method(br#"PU"T\; x=1, y"#),
            r#"method-not-allowed; method="PU\"T\\; x=1, y"; route="api""#.to_string(),
        ),
        (
            "percent, tab and obs-text in a method",
            raw_method(b"%41\tP\xff\x80"),
            r#"method-not-allowed; method="%2541%09P%FF%80"; route="api""#.to_string(),
        ),
        (
            "a method longer than the bound",
            raw_method(long.as_bytes()),
            format!(r#"method-not-allowed; method="{kept}"; truncated; route="api""#),
        ),
        (
            "a header name longer than the bound",
            raw_acrh(format!("content-type,x-{long}").as_bytes()),
            format!(
                r#"header-not-allowed; header="x-{}"; truncated; route="api""#,
                &long[..MAX_REQUEST_VALUE_BYTES - 2]
            ),
        ),
        (
            "quotes, semicolons and obs-text in a header list",
            raw_acrh(b"x-a\"; route=\"evil\xc3\xa9"),
            r#"invalid-header-name; header="x-a\"; route=\"evil%C3%A9"; route="api""#.to_string(),
        ),
    ];
    let cases = rows
        .into_iter()
        .map(|(name, request, form)| {
            Case::new(name, request)
                .status(403)
                .refusal(&form)
                .header(REFUSAL, form)
        })
        .collect();
    run(
        &layer(POLICY).refusal_reasons(RefusalReasons::Header),
        cases,
    );
}

#[test]
fn reasons_are_typed_and_name_their_route() {
    let l = layer(POLICY).refusal_reasons(RefusalReasons::Extension);
    let refusal = |request| {
        send(&l, &Inner::new(), request)
            .extensions()
            .get::<Refusal>()
            .cloned()
            .expect("a refusal")
    };
    let r = refusal(preflight("/api/x", APP, "put", None));
    match r.kind() {
        RefusalKind::MethodNotAllowed { method } => {
            assert_eq!(
                (method.as_bytes(), method.is_truncated()),
                (&b"put"[..], false)
            )
        }
        other => panic!("{other:?}"),
    }
    let route = r.route().expect("a route");
    assert_eq!((route.name(), route.path()), (Some("api"), "/api/"));
    assert_eq!(
        r.to_string(),
        "method \"put\" is neither GET, HEAD, POST nor listed in the methods of route \"api\" \
         (method names are case-sensitive)"
    );

    let r = refusal(preflight("/api/x", APP, "PUT", Some("x-secret")));
    match r.kind() {
        RefusalKind::HeaderNotAllowed { name } => assert_eq!(name.as_bytes(), b"x-secret"),
        other => panic!("{other:?}"),
    }
    assert!(r.to_string().contains("\"x-secret\""), "{r}");

    let r = refusal(req("GET", "/elsewhere", &[("origin", APP)]));
    assert_eq!((r.kind(), r.route()), (&RefusalKind::NoRoute, None));
    assert!(
        r.to_string().starts_with("no route of the policy covers"),
        "{r}"
    );

    // An unnamed route is called by its path.
    let unnamed = CorsLayer::builder()
        .path("/v1/")
        .allow_origins([APP])
        .build()
        .unwrap()
        .refusal_reasons(RefusalReasons::Extension);
    let res = send(
        &unnamed,
        &Inner::new(),
        req("GET", "/v1/x", &[("origin", "null")]),
    );
    let r = res.extensions().get::<Refusal>().expect("a refusal");
    assert_eq!(r.kind(), &RefusalKind::NullOrigin);
    let route = r.route().expect("a route");
    assert_eq!((route.name(), route.label()), (None, "/v1/"));
    assert!(r.to_string().contains("route \"/v1/\""), "{r}");
}
