//! What each kind of request gets: preflights (passed, refused, continued), actual
//! requests (allowed, refused, without Origin), routes, PNA.

mod common;

use common::*;
use corsproof_tower::{CorsLayer, PreflightStatus};

#[test]
fn passed_preflight_is_answered_by_the_middleware() {
    let inner = Inner::new();
    let res = send(
        &layer(POLICY),
        &inner,
        preflight(
            "/api/items",
            "https://app.example.com",
            "PUT",
            Some("content-type,x-request-id"),
        ),
    );
    assert_eq!(res.status(), 204);
    assert_eq!(inner.calls(), 0);
    let h = res.headers();
    assert_eq!(
        one(h, "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(
        one(h, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        one(h, "access-control-allow-methods").as_deref(),
        Some("PUT, DELETE, patch")
    );
    assert_eq!(
        one(h, "access-control-allow-headers").as_deref(),
        Some("content-type, x-request-id")
    );
    assert_eq!(one(h, "access-control-max-age").as_deref(), Some("600"));
    assert_eq!(one(h, "access-control-expose-headers"), None);
    assert_eq!(one(h, "access-control-allow-private-network"), None);
    assert_eq!(one(h, "vary").as_deref(), Some(PREFLIGHT_VARY));
    assert!(res.body().is_empty());
    // Nothing of the request is echoed back.
    assert!(h.get("origin").is_none() && h.get("access-control-request-method").is_none());
}

#[test]
fn preflight_status_can_be_200() {
    let l = layer(POLICY).preflight_status(PreflightStatus::Ok);
    let res = send(
        &l,
        &Inner::new(),
        preflight("/api/x", "https://app.example.com", "DELETE", None),
    );
    assert_eq!(res.status(), 200);
    assert_eq!(
        one(res.headers(), "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
}

#[test]
fn safelisted_methods_pass_without_being_listed() {
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\n");
    for m in ["GET", "HEAD", "POST"] {
        let res = send(
            &l,
            &Inner::new(),
            preflight("/x", "https://a.example", m, None),
        );
        assert_eq!(res.status(), 204, "{m}");
        // Nothing to list: no ACAM, no ACAH, no ACMA, no ACAC.
        assert_eq!(
            cors_headers(res.headers()),
            ["access-control-allow-origin"],
            "{m}"
        );
    }
    for m in ["PUT", "get", "OPTIONS", "", "GET, PUT"] {
        let res = send(
            &l,
            &Inner::new(),
            preflight("/x", "https://a.example", m, None),
        );
        assert_eq!(res.status(), 403, "{m:?}");
    }
}

#[test]
fn refused_preflights_get_403_and_only_vary() {
    let cases = [
        preflight("/api/x", "https://evil.example", "PUT", None),
        preflight("/api/x", "https://app.example.com", "PATCH", None), // only "patch" is listed
        preflight("/api/x", "https://app.example.com", "put", None),
        preflight("/api/x", "https://app.example.com", "CONNECT", None),
        preflight("/api/x", "https://app.example.com", "PUT", Some("x-other")),
        preflight(
            "/api/x",
            "https://app.example.com",
            "PUT",
            Some("content-type,authorization"),
        ),
        preflight("/api/x", "https://app.example.com/", "PUT", None),
        preflight("/api/x", "null", "PUT", None),
        req(
            "OPTIONS",
            "/api/x",
            &[
                ("origin", "https://app.example.com"),
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "PUT"),
            ],
        ),
        req(
            "OPTIONS",
            "/api/x",
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "PUT"),
                ("access-control-request-method", "PUT"),
            ],
        ),
    ];
    for (i, r) in cases.into_iter().enumerate() {
        let inner = Inner::new();
        let res = send(&layer(POLICY), &inner, r);
        assert_eq!(res.status(), 403, "case {i}");
        assert_eq!(inner.calls(), 0, "case {i}");
        assert!(
            cors_headers(res.headers()).is_empty(),
            "case {i}: {:?}",
            res.headers()
        );
        assert_eq!(
            one(res.headers(), "vary").as_deref(),
            Some(PREFLIGHT_VARY),
            "case {i}"
        );
    }
}

#[test]
fn patch_lowercase_is_matched_exactly() {
    let res = send(
        &layer(POLICY),
        &Inner::new(),
        preflight("/api/x", "https://app.example.com", "patch", None),
    );
    assert_eq!(res.status(), 204);
}

#[test]
fn pattern_matched_origins_are_echoed() {
    let l = layer(POLICY);
    let res = send(
        &l,
        &Inner::new(),
        preflight("/api/x", "https://a.b.partner.example", "PUT", None),
    );
    assert_eq!(res.status(), 204);
    assert_eq!(
        one(res.headers(), "access-control-allow-origin").as_deref(),
        Some("https://a.b.partner.example")
    );
    let res = send(
        &l,
        &Inner::new(),
        req("GET", "/api/x", &[("origin", "https://eu.partner.example")]),
    );
    assert_eq!(
        one(res.headers(), "access-control-allow-origin").as_deref(),
        Some("https://eu.partner.example")
    );
    assert_eq!(
        one(res.headers(), "access-control-allow-credentials").as_deref(),
        Some("true")
    );
}

#[test]
fn wildcard_route_answers_star_and_never_covers_authorization() {
    let l = layer(POLICY);
    let res = send(
        &l,
        &Inner::new(),
        preflight(
            "/public/a",
            "https://any.example",
            "POST",
            Some("x-anything,content-type"),
        ),
    );
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(one(h, "access-control-allow-origin").as_deref(), Some("*"));
    assert_eq!(one(h, "access-control-allow-headers").as_deref(), Some("*"));
    assert_eq!(one(h, "access-control-allow-credentials"), None);
    assert_eq!(one(h, "access-control-allow-methods"), None);
    assert_eq!(one(h, "vary").as_deref(), Some(PREFLIGHT_VARY));
    for acrh in ["authorization", "x-a,Authorization", " AUTHORIZATION "] {
        let res = send(
            &l,
            &Inner::new(),
            preflight("/public/a", "https://any.example", "GET", Some(acrh)),
        );
        assert_eq!(res.status(), 403, "{acrh}");
        assert!(cors_headers(res.headers()).is_empty());
    }
    // Listed explicitly, authorization is allowed.
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\nrequest_headers = [\"authorization\"]\n");
    let res = send(
        &l,
        &Inner::new(),
        preflight("/", "https://any.example", "GET", Some("authorization")),
    );
    assert_eq!(res.status(), 204);
    assert_eq!(
        one(res.headers(), "access-control-allow-headers").as_deref(),
        Some("authorization")
    );
}

#[test]
fn wildcard_route_actual_requests_get_star_without_vary() {
    let l = layer(POLICY);
    for headers in [
        vec![("origin", "https://any.example")],
        vec![("origin", "null")],
        vec![],
    ] {
        let res = send(&l, &Inner::new(), req("GET", "/public/a", &headers));
        let h = res.headers();
        assert_eq!(one(h, "access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(
            one(h, "access-control-expose-headers").as_deref(),
            Some("*")
        );
        assert_eq!(one(h, "access-control-allow-credentials"), None);
        assert_eq!(one(h, "vary"), None, "{headers:?}");
    }
}

#[test]
fn allowed_actual_requests_get_cors_headers_on_the_inner_response() {
    for status in [200, 201, 204, 301, 400, 401, 403, 404, 500, 503] {
        let inner = Inner::new().status(status).header("x-total-count", "3");
        let res = send(
            &layer(POLICY),
            &inner,
            req(
                "POST",
                "/api/items",
                &[("origin", "https://app.example.com")],
            ),
        );
        assert_eq!(inner.calls(), 1);
        assert_eq!(res.status(), status);
        assert_eq!(res.body(), "inner");
        let h = res.headers();
        assert_eq!(
            one(h, "access-control-allow-origin").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            one(h, "access-control-allow-credentials").as_deref(),
            Some("true")
        );
        assert_eq!(
            one(h, "access-control-expose-headers").as_deref(),
            Some("x-total-count, x-request-id")
        );
        assert_eq!(one(h, "access-control-allow-methods"), None);
        assert_eq!(one(h, "access-control-max-age"), None);
        assert_eq!(one(h, "vary").as_deref(), Some("Origin"));
        assert_eq!(one(h, "x-total-count").as_deref(), Some("3"));
    }
}

#[test]
fn refused_origins_and_requests_without_origin_get_only_vary() {
    let origins = [
        Some("https://evil.example"),
        Some("https://app.example.com.evil.test"),
        Some("https://APP.example.com"),
        Some("https://app.example.com:443"),
        Some("http://app.example.com"),
        Some("null"),
        Some(""),
        None,
    ];
    for origin in origins {
        let inner = Inner::new().status(500);
        let headers: Vec<_> = origin.map(|o| ("origin", o)).into_iter().collect();
        let res = send(&layer(POLICY), &inner, req("GET", "/api/items", &headers));
        assert_eq!(inner.calls(), 1);
        assert_eq!(res.status(), 500);
        assert!(cors_headers(res.headers()).is_empty(), "{origin:?}");
        assert_eq!(
            one(res.headers(), "vary").as_deref(),
            Some("Origin"),
            "{origin:?}"
        );
    }
}

#[test]
fn two_origin_lines_are_refused_on_actual_requests() {
    let res = send(
        &layer(POLICY),
        &Inner::new(),
        req(
            "GET",
            "/api/x",
            &[
                ("origin", "https://app.example.com"),
                ("origin", "https://app.example.com"),
            ],
        ),
    );
    assert!(cors_headers(res.headers()).is_empty());
}

#[test]
fn inner_cors_headers_are_replaced_not_duplicated() {
    let inner = Inner::new()
        .header("access-control-allow-origin", "*")
        .header("access-control-allow-origin", "https://other.example")
        .header("access-control-expose-headers", "x-secret");
    let res = send(
        &layer(POLICY),
        &inner,
        req("GET", "/api/x", &[("origin", "https://app.example.com")]),
    );
    assert_eq!(
        all(res.headers(), "access-control-allow-origin"),
        ["https://app.example.com"]
    );
    assert_eq!(
        all(res.headers(), "access-control-expose-headers"),
        ["x-total-count, x-request-id"]
    );
}

#[test]
fn uncovered_and_same_origin_paths_pass_through_untouched() {
    let l = layer(POLICY);
    for path in ["/", "/other", "/ap", "/api", "/api/admin/users", "/API/x"] {
        let inner = Inner::new();
        let res = send(
            &l,
            &inner,
            preflight(path, "https://app.example.com", "PUT", Some("x-request-id")),
        );
        assert_eq!(inner.calls(), 1, "{path}");
        assert_eq!(res.status(), 200, "{path}");
        assert!(cors_headers(res.headers()).is_empty(), "{path}");
        assert_eq!(one(res.headers(), "vary"), None, "{path}");
        let res = send(
            &l,
            &inner,
            req("GET", path, &[("origin", "https://app.example.com")]),
        );
        assert!(cors_headers(res.headers()).is_empty(), "{path}");
        assert_eq!(one(res.headers(), "vary"), None, "{path}");
    }
}

#[test]
fn longest_prefix_wins() {
    let l = layer(
        r#"
version = 1
[[route]]
path = "/"
origins = ["https://root.example"]
[[route]]
path = "/a/"
origins = ["https://a.example"]
[[route]]
path = "/a/b"
origins = ["https://ab.example"]
"#,
    );
    let cases = [
        ("/x", "https://root.example", true),
        ("/x", "https://a.example", false),
        ("/a/x", "https://a.example", true),
        ("/a/x", "https://root.example", false),
        ("/a/b", "https://ab.example", true),
        ("/a/bc/d", "https://ab.example", true),
        ("/a/bc/d", "https://a.example", false),
        ("/a", "https://root.example", true),
    ];
    for (path, origin, allowed) in cases {
        let res = send(&l, &Inner::new(), req("GET", path, &[("origin", origin)]));
        assert_eq!(
            res.headers().contains_key("access-control-allow-origin"),
            allowed,
            "{path} {origin}"
        );
        let res = send(&l, &Inner::new(), preflight(path, origin, "GET", None));
        assert_eq!(res.status() == 204, allowed, "preflight {path} {origin}");
    }
}

#[test]
fn query_strings_do_not_affect_route_matching() {
    let res = send(
        &layer(POLICY),
        &Inner::new(),
        req("GET", "/public?x=/api/", &[("origin", "https://a.example")]),
    );
    assert!(res.headers().get("access-control-allow-origin").is_none());
    let res = send(
        &layer(POLICY),
        &Inner::new(),
        req(
            "GET",
            "/public/?x=/api/",
            &[("origin", "https://a.example")],
        ),
    );
    assert_eq!(
        one(res.headers(), "access-control-allow-origin").as_deref(),
        Some("*")
    );
}

#[test]
fn options_without_request_method_is_an_actual_request() {
    let inner = Inner::new();
    let res = send(
        &layer(POLICY),
        &inner,
        req(
            "OPTIONS",
            "/api/x",
            &[("origin", "https://app.example.com")],
        ),
    );
    assert_eq!(inner.calls(), 1);
    assert_eq!(
        one(res.headers(), "access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(one(res.headers(), "access-control-allow-methods"), None);
    assert_eq!(one(res.headers(), "vary").as_deref(), Some(PREFLIGHT_VARY));
    // And without Origin: passed on, only Vary.
    let inner = Inner::new();
    let res = send(
        &layer(POLICY),
        &inner,
        req(
            "OPTIONS",
            "/api/x",
            &[("access-control-request-method", "PUT")],
        ),
    );
    assert_eq!(inner.calls(), 1);
    assert!(cors_headers(res.headers()).is_empty());
    assert_eq!(one(res.headers(), "vary").as_deref(), Some(PREFLIGHT_VARY));
    // A non-OPTIONS request carrying ACRM is an actual request.
    let inner = Inner::new();
    let res = send(
        &layer(POLICY),
        &inner,
        req(
            "PUT",
            "/api/x",
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "PUT"),
            ],
        ),
    );
    assert_eq!(inner.calls(), 1);
    assert_eq!(one(res.headers(), "vary").as_deref(), Some("Origin"));
}

#[test]
fn preflight_continue_passes_preflights_on() {
    let l = layer(POLICY).preflight_continue(true);
    let inner = Inner::new().status(200);
    let res = send(
        &l,
        &inner,
        preflight(
            "/api/x",
            "https://a.partner.example",
            "PUT",
            Some("x-request-id"),
        ),
    );
    assert_eq!(inner.calls(), 1);
    assert_eq!(res.status(), 200);
    assert_eq!(res.body(), "inner");
    let h = res.headers();
    assert_eq!(
        one(h, "access-control-allow-origin").as_deref(),
        Some("https://a.partner.example")
    );
    assert_eq!(
        one(h, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(
        one(h, "access-control-allow-methods").as_deref(),
        Some("PUT, DELETE, patch")
    );
    assert_eq!(one(h, "access-control-max-age").as_deref(), Some("600"));
    assert_eq!(one(h, "vary").as_deref(), Some(PREFLIGHT_VARY));

    let inner = Inner::new().status(204);
    let res = send(
        &l,
        &inner,
        preflight("/api/x", "https://evil.example", "PUT", None),
    );
    assert_eq!(inner.calls(), 1);
    assert_eq!(res.status(), 204);
    assert!(cors_headers(res.headers()).is_empty());
    assert_eq!(one(res.headers(), "vary").as_deref(), Some(PREFLIGHT_VARY));
}

#[test]
fn private_network_access_is_answered_only_where_allowed() {
    let l = layer(POLICY);
    let pna = |path: &str, value: &str| {
        req(
            "OPTIONS",
            path,
            &[
                ("origin", "https://app.example.com"),
                ("access-control-request-method", "GET"),
                ("access-control-request-private-network", value),
            ],
        )
    };
    let res = send(&l, &Inner::new(), pna("/device/x", "true"));
    assert_eq!(res.status(), 204);
    assert_eq!(
        one(res.headers(), "access-control-allow-private-network").as_deref(),
        Some("true")
    );
    assert_eq!(one(res.headers(), "vary").as_deref(), Some(PNA_VARY));
    // Not asked: not answered; the Vary still names it.
    let res = send(
        &l,
        &Inner::new(),
        preflight("/device/x", "https://app.example.com", "PUT", None),
    );
    assert_eq!(res.status(), 204);
    assert_eq!(
        one(res.headers(), "access-control-allow-private-network"),
        None
    );
    assert_eq!(one(res.headers(), "vary").as_deref(), Some(PNA_VARY));
    let res = send(&l, &Inner::new(), pna("/device/x", "false"));
    assert_eq!(
        one(res.headers(), "access-control-allow-private-network"),
        None
    );
    // Refused origin: refused preflight, no PNA answer.
    let res = send(
        &l,
        &Inner::new(),
        req(
            "OPTIONS",
            "/device/x",
            &[
                ("origin", "https://evil.example"),
                ("access-control-request-method", "GET"),
                ("access-control-request-private-network", "true"),
            ],
        ),
    );
    assert_eq!(res.status(), 403);
    assert!(cors_headers(res.headers()).is_empty());
    assert_eq!(one(res.headers(), "vary").as_deref(), Some(PNA_VARY));
    // A route without private_network never answers it, and its Vary does not name it.
    let res = send(&l, &Inner::new(), pna("/api/x", "true"));
    assert_eq!(res.status(), 204);
    assert_eq!(
        one(res.headers(), "access-control-allow-private-network"),
        None
    );
    assert_eq!(one(res.headers(), "vary").as_deref(), Some(PREFLIGHT_VARY));
}

#[test]
fn null_origin_with_allow_risky_is_echoed() {
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"null\"]\ncredentials = true\nallow_risky = true\n");
    let res = send(&l, &Inner::new(), req("GET", "/", &[("origin", "null")]));
    assert_eq!(
        one(res.headers(), "access-control-allow-origin").as_deref(),
        Some("null")
    );
    assert_eq!(
        one(res.headers(), "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let res = send(&l, &Inner::new(), preflight("/", "null", "GET", None));
    assert_eq!(res.status(), 204);
    assert_eq!(
        one(res.headers(), "access-control-allow-origin").as_deref(),
        Some("null")
    );
}

#[test]
fn expose_headers_wildcard_and_empty() {
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\ncredentials = true\nexpose_headers = [\"*\"]\n");
    let res = send(
        &l,
        &Inner::new(),
        req("GET", "/", &[("origin", "https://a.example")]),
    );
    assert_eq!(
        one(res.headers(), "access-control-expose-headers").as_deref(),
        Some("*")
    );
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\n");
    let res = send(
        &l,
        &Inner::new(),
        req("GET", "/", &[("origin", "https://a.example")]),
    );
    assert_eq!(cors_headers(res.headers()), ["access-control-allow-origin"]);
}

#[test]
fn builder_routes_cover_their_path_only() {
    let l = CorsLayer::builder()
        .path("/v1/")
        .allow_origins(["https://a.example"])
        .allow_methods(["PUT"])
        .allow_headers(["X-Token"])
        .build()
        .unwrap();
    let res = send(
        &l,
        &Inner::new(),
        preflight("/v1/x", "https://a.example", "PUT", Some("x-token")),
    );
    assert_eq!(res.status(), 204);
    assert_eq!(
        one(res.headers(), "access-control-allow-headers").as_deref(),
        Some("x-token")
    );
    let inner = Inner::new();
    let res = send(
        &l,
        &inner,
        preflight("/v2/x", "https://a.example", "PUT", None),
    );
    assert_eq!(inner.calls(), 1);
    assert!(cors_headers(res.headers()).is_empty());
}
