//! `RefusalReasons::Debug`: a preflight refused for its method or its request headers gets
//! the ok status, the origin as a passed preflight gets it and what the route allows (never
//! `Access-Control-Allow-Credentials`, `-Max-Age`, `-Expose-Headers` nor
//! `-Allow-Private-Network`), and its `Cors-Refusal`; every other refusal is answered as under
//! `RefusalReasons::Header`; allowed requests are answered exactly as with reasons off; the
//! mode is off by default. That a debug answer never lets a browser do more than the policy
//! intends is proven by the conformance property, which runs with it too
//! (`tests/conformance.rs`).

mod common;

use common::table::{run, Case};
use common::*;
use corsproof_tower::{CorsLayer, PreflightStatus, RefusalReasons};
use http::{Request, Response};

const APP: &str = "https://app.example.com";
const ACAO: &str = "access-control-allow-origin";
const ACAC: &str = "access-control-allow-credentials";
const ACAM: &str = "access-control-allow-methods";
const ACAH: &str = "access-control-allow-headers";
const REFUSAL: &str = "cors-refusal";

fn debug_layer() -> CorsLayer {
    layer(POLICY).refusal_reasons(RefusalReasons::Debug)
}

#[test]
fn method_and_header_refusals_get_an_ok_status_and_what_the_route_allows() {
    run(
        &debug_layer(),
        vec![
            Case::new(
                "method not listed (credentialed route: no ACAC)",
                preflight("/api/x", APP, "PATCH", None),
            )
            .status(204)
            .calls(0)
            .cors_names(&[ACAO, ACAM, ACAH])
            .header(ACAO, APP)
            .header(ACAM, "PUT, DELETE, patch")
            .header(ACAH, "content-type, x-request-id")
            .vary(&[PREFLIGHT_VARY])
            .header(
                REFUSAL,
                r#"method-not-allowed; method="PATCH"; route="api""#,
            )
            .refusal(r#"method-not-allowed; method="PATCH"; route="api""#),
            Case::new(
                "method not listed, pattern origin echoed",
                preflight("/api/x", "https://eu.partner.example", "PURGE", None),
            )
            .status(204)
            .cors_names(&[ACAO, ACAM, ACAH])
            .header(ACAO, "https://eu.partner.example")
            .header(
                REFUSAL,
                r#"method-not-allowed; method="PURGE"; route="api""#,
            ),
            Case::new(
                "request header not listed",
                preflight("/api/x", APP, "PUT", Some("content-type,x-secret")),
            )
            .status(204)
            .calls(0)
            .cors_names(&[ACAO, ACAM, ACAH])
            .header(ACAO, APP)
            .header(ACAM, "PUT, DELETE, patch")
            .header(ACAH, "content-type, x-request-id")
            .header(
                REFUSAL,
                r#"header-not-allowed; header="x-secret"; route="api""#,
            ),
            Case::new(
                "authorization under request_headers = [\"*\"]: no ACAH at all",
                preflight("/public/x", APP, "GET", Some("authorization,x-a")),
            )
            .status(204)
            .cors_names(&[ACAO])
            .header(ACAO, "*")
            .absent(ACAH)
            .header(REFUSAL, r#"authorization-not-covered; route="public""#),
        ],
    );
}

#[test]
fn other_refusals_keep_their_403_without_cors_headers() {
    let over_limit = vec!["content-type"; corsproof_tower::MAX_ACRH_ELEMENTS + 1].join(",");
    run(
        &debug_layer(),
        vec![
            Case::new(
                "origin not allowed",
                preflight("/api/x", "https://evil.example", "PATCH", None),
            )
            .status(403)
            .no_cors()
            .header(REFUSAL, r#"origin-not-allowed; route="api""#),
            Case::new(
                "null origin",
                preflight("/api/x", "null", "PUT", Some("x-secret")),
            )
            .status(403)
            .no_cors()
            .header(REFUSAL, r#"null-origin-not-allowed; route="api""#),
            Case::new(
                "two Origin lines",
                req(
                    "OPTIONS",
                    "/api/x",
                    &[
                        ("origin", APP),
                        ("origin", APP),
                        ("access-control-request-method", "PATCH"),
                    ],
                ),
            )
            .status(403)
            .no_cors()
            .header(REFUSAL, r#"several-origins; route="api""#),
            Case::new(
                "two request-method lines",
                req(
                    "OPTIONS",
                    "/api/x",
                    &[
                        ("origin", APP),
                        ("access-control-request-method", "PATCH"),
                        ("access-control-request-method", "PUT"),
                    ],
                ),
            )
            .status(403)
            .no_cors()
            .header(REFUSAL, r#"several-request-methods; route="api""#),
            Case::new(
                "not a header name",
                preflight("/api/x", APP, "PUT", Some("x(y)")),
            )
            .status(403)
            .no_cors(),
            Case::new(
                "over the limit of names",
                preflight("/public/x", APP, "GET", Some(over_limit.as_str())),
            )
            .status(403)
            .no_cors()
            .header(REFUSAL, r#"request-headers-over-limit; route="public""#),
        ],
    );
}

/// Every CORS header line of `res` and its status, with `Cors-Refusal`.
fn answer(res: &Response<String>) -> (u16, Vec<(String, String)>) {
    let mut lines: Vec<(String, String)> = res
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    lines.sort();
    (res.status().as_u16(), lines)
}

/// Requests allowed by [`POLICY`], preflights and not, on every kind of route.
fn allowed() -> Vec<(&'static str, Request<String>)> {
    vec![
        (
            "preflight, exact origin",
            preflight("/api/x", APP, "PUT", Some("content-type")),
        ),
        (
            "preflight, pattern origin",
            preflight("/api/x", "https://eu.partner.example", "patch", None),
        ),
        (
            "preflight, any origin",
            preflight("/public/x", APP, "GET", Some("x-a")),
        ),
        (
            "preflight, private network",
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
            "GET, exact origin",
            req("GET", "/api/x", &[("origin", APP)]),
        ),
        ("GET, no origin", req("GET", "/api/x", &[])),
        (
            "GET, any origin",
            req("GET", "/public/x", &[("origin", APP)]),
        ),
    ]
}

#[test]
fn allowed_requests_are_answered_as_with_reasons_off() {
    let off = layer(POLICY);
    for (name, request) in allowed() {
        let plain = send(&off, &Inner::new(), request.clone());
        let debug = send(&debug_layer(), &Inner::new(), request);
        assert_eq!(answer(&debug), answer(&plain), "{name}");
    }
}

#[test]
fn actual_requests_are_answered_as_under_header() {
    let header = layer(POLICY).refusal_reasons(RefusalReasons::Header);
    let requests = [
        req("GET", "/api/x", &[("origin", "https://evil.example")]),
        req("PATCH", "/api/x", &[("origin", APP)]),
        req("GET", "/elsewhere", &[("origin", APP)]),
        req("GET", "/api/admin/x", &[("origin", APP)]),
    ];
    for request in requests {
        let name = format!("{} {}", request.method(), request.uri());
        let want = send(&header, &Inner::new(), request.clone());
        let got = send(&debug_layer(), &Inner::new(), request);
        assert_eq!(answer(&got), answer(&want), "{name}");
    }
}

#[test]
fn no_debug_answer_ever_carries_credentials_or_more_than_the_route_allows() {
    // Every refusal a preflight can get on the credentialed route, from each kind of origin.
    let origins = [APP, "https://eu.partner.example", "http://localhost:3000"];
    let asks: [(&str, Option<&str>); 5] = [
        ("PATCH", None),
        ("PUT", Some("x-secret")),
        ("DELETE", Some("content-type, authorization")),
        ("get", Some("x-request-id")),
        ("PUT", Some("cookie")),
    ];
    for origin in origins {
        for (method, acrh) in asks {
            for status in [PreflightStatus::NoContent, PreflightStatus::Ok] {
                let layer = debug_layer().preflight_status(status);
                let res = send(
                    &layer,
                    &Inner::new(),
                    preflight("/api/x", origin, method, acrh),
                );
                let what = format!("{origin} {method} {acrh:?} {status:?}");
                assert_eq!(res.status(), status.status_code(), "{what}");
                let names = cors_headers(res.headers());
                assert_eq!(names, [ACAO, ACAM, ACAH], "{what}");
                assert!(res.headers().get(ACAC).is_none(), "{what}");
                assert_eq!(one(res.headers(), ACAO).as_deref(), Some(origin), "{what}");
                assert!(res.headers().contains_key(REFUSAL), "{what}");
            }
        }
    }
}

#[test]
fn preflights_passed_on_get_the_debug_headers_on_the_inner_response() {
    let layer = debug_layer().preflight_continue(true);
    run(
        &layer,
        vec![
            Case::new("method not listed", preflight("/api/x", APP, "PATCH", None))
                .status(200)
                .calls(1)
                .body("inner")
                .cors_names(&[ACAO, ACAM, ACAH])
                .header(ACAO, APP)
                .header(
                    REFUSAL,
                    r#"method-not-allowed; method="PATCH"; route="api""#,
                )
                .refusal(r#"method-not-allowed; method="PATCH"; route="api""#),
            Case::new(
                "origin not allowed",
                preflight("/api/x", "https://evil.example", "PUT", None),
            )
            .status(200)
            .calls(1)
            .no_cors(),
        ],
    );
}

#[test]
fn off_by_default() {
    assert_eq!(RefusalReasons::default(), RefusalReasons::Off);
    for layer in [
        layer(POLICY),
        layer(POLICY).refusal_reasons(RefusalReasons::Extension),
        layer(POLICY).refusal_reasons(RefusalReasons::Header),
    ] {
        run(
            &layer,
            vec![
                Case::new("method not listed", preflight("/api/x", APP, "PATCH", None))
                    .status(403)
                    .no_cors(),
                Case::new(
                    "request header not listed",
                    preflight("/api/x", APP, "PUT", Some("x-secret")),
                )
                .status(403)
                .no_cors(),
            ],
        );
    }
}
