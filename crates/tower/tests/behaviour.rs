//! What each kind of request gets: preflights (passed, refused, continued), actual
//! requests (allowed, refused, without Origin), routes, PNA. Each test is a table of named
//! cases (`common::table`): a request, and what its answer must hold.

mod common;

use common::table::{run, Case};
use common::*;
use corsproof_tower::{CorsLayer, PreflightStatus};

const ACAO: &str = "access-control-allow-origin";
const ACAC: &str = "access-control-allow-credentials";
const ACAM: &str = "access-control-allow-methods";
const ACAH: &str = "access-control-allow-headers";
const ACEH: &str = "access-control-expose-headers";
const ACMA: &str = "access-control-max-age";
const ACAPN: &str = "access-control-allow-private-network";
const APP: &str = "https://app.example.com";

/// A preflight with `Access-Control-Request-Private-Network: value` for a GET from [`APP`].
fn pna(path: &str, origin: &str, value: &str) -> http::Request<String> {
    req(
        "OPTIONS",
        path,
        &[
            ("origin", origin),
            ("access-control-request-method", "GET"),
            ("access-control-request-private-network", value),
        ],
    )
}

#[test]
fn passed_preflight_is_answered_by_the_middleware() {
    let request = preflight("/api/items", APP, "PUT", Some("content-type,x-request-id"));
    run(
        &layer(POLICY),
        vec![
            Case::new("credentialed PUT with two listed headers", request)
                .status(204)
                .calls(0)
                .header(ACAO, APP)
                .header(ACAC, "true")
                .header(ACAM, "PUT, DELETE, patch")
                .header(ACAH, "content-type, x-request-id")
                .header(ACMA, "600")
                .absent(ACEH)
                .absent(ACAPN)
                .header("vary", PREFLIGHT_VARY)
                .body("")
                // Nothing of the request is echoed back.
                .absent("origin")
                .absent("access-control-request-method"),
        ],
    );
}

#[test]
fn preflight_status_can_be_200() {
    run(
        &layer(POLICY).preflight_status(PreflightStatus::Ok),
        vec![
            Case::new("passed DELETE", preflight("/api/x", APP, "DELETE", None))
                .status(200)
                .header(ACAO, APP),
        ],
    );
}

#[test]
fn safelisted_methods_pass_without_being_listed() {
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\n");
    let mut cases = Vec::new();
    for m in ["GET", "HEAD", "POST"] {
        // Nothing to list: no ACAM, no ACAH, no ACMA, no ACAC.
        cases.push(
            Case::new(
                format!("safelisted {m}"),
                preflight("/x", "https://a.example", m, None),
            )
            .status(204)
            .cors_names(&[ACAO]),
        );
    }
    for m in ["PUT", "get", "OPTIONS", "", "GET, PUT"] {
        cases.push(
            Case::new(
                format!("unlisted {m:?}"),
                preflight("/x", "https://a.example", m, None),
            )
            .status(403),
        );
    }
    run(&l, cases);
}

#[test]
fn refused_preflights_get_403_and_only_vary() {
    let rows = [
        (
            "unlisted origin",
            preflight("/api/x", "https://evil.example", "PUT", None),
        ),
        // Only "patch" is listed.
        (
            "PATCH in upper case",
            preflight("/api/x", APP, "PATCH", None),
        ),
        ("put in lower case", preflight("/api/x", APP, "put", None)),
        (
            "forbidden CONNECT",
            preflight("/api/x", APP, "CONNECT", None),
        ),
        (
            "unlisted header",
            preflight("/api/x", APP, "PUT", Some("x-other")),
        ),
        (
            "unlisted authorization",
            preflight("/api/x", APP, "PUT", Some("content-type,authorization")),
        ),
        (
            "origin with a trailing slash",
            preflight("/api/x", "https://app.example.com/", "PUT", None),
        ),
        ("null origin", preflight("/api/x", "null", "PUT", None)),
        (
            "two Origin lines",
            req(
                "OPTIONS",
                "/api/x",
                &[
                    ("origin", APP),
                    ("origin", APP),
                    ("access-control-request-method", "PUT"),
                ],
            ),
        ),
        (
            "two ACRM lines",
            req(
                "OPTIONS",
                "/api/x",
                &[
                    ("origin", APP),
                    ("access-control-request-method", "PUT"),
                    ("access-control-request-method", "PUT"),
                ],
            ),
        ),
    ];
    let cases = rows
        .into_iter()
        .map(|(name, request)| {
            Case::new(name, request)
                .status(403)
                .calls(0)
                .no_cors()
                .header("vary", PREFLIGHT_VARY)
        })
        .collect();
    run(&layer(POLICY), cases);
}

#[test]
fn patch_lowercase_is_matched_exactly() {
    run(
        &layer(POLICY),
        vec![Case::new("listed patch", preflight("/api/x", APP, "patch", None)).status(204)],
    );
}

#[test]
fn pattern_matched_origins_are_echoed() {
    run(
        &layer(POLICY),
        vec![
            Case::new(
                "preflight from two labels deep",
                preflight("/api/x", "https://a.b.partner.example", "PUT", None),
            )
            .status(204)
            .header(ACAO, "https://a.b.partner.example"),
            Case::new(
                "GET from one label deep",
                req("GET", "/api/x", &[("origin", "https://eu.partner.example")]),
            )
            .header(ACAO, "https://eu.partner.example")
            .header(ACAC, "true"),
        ],
    );
}

#[test]
fn wildcard_route_answers_star_and_never_covers_authorization() {
    let mut cases = vec![Case::new(
        "any headers",
        preflight(
            "/public/a",
            "https://any.example",
            "POST",
            Some("x-anything,content-type"),
        ),
    )
    .status(204)
    .header(ACAO, "*")
    .header(ACAH, "*")
    .absent(ACAC)
    .absent(ACAM)
    .header("vary", PREFLIGHT_VARY)];
    for acrh in ["authorization", "x-a,Authorization", " AUTHORIZATION "] {
        cases.push(
            Case::new(
                format!("authorization under * ({acrh:?})"),
                preflight("/public/a", "https://any.example", "GET", Some(acrh)),
            )
            .status(403)
            .no_cors(),
        );
    }
    run(&layer(POLICY), cases);
    // Listed explicitly, authorization is allowed.
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\nrequest_headers = [\"authorization\"]\n");
    run(
        &l,
        vec![Case::new(
            "authorization listed",
            preflight("/", "https://any.example", "GET", Some("authorization")),
        )
        .status(204)
        .header(ACAH, "authorization")],
    );
}

#[test]
fn wildcard_route_actual_requests_get_star_without_vary() {
    let rows = [
        ("an origin", vec![("origin", "https://any.example")]),
        ("null", vec![("origin", "null")]),
        ("no Origin", vec![]),
    ];
    let cases = rows
        .into_iter()
        .map(|(name, headers)| {
            Case::new(name, req("GET", "/public/a", &headers))
                .header(ACAO, "*")
                .header(ACEH, "*")
                .absent(ACAC)
                .absent("vary")
        })
        .collect();
    run(&layer(POLICY), cases);
}

#[test]
fn allowed_actual_requests_get_cors_headers_on_the_inner_response() {
    let cases = [200, 201, 204, 301, 400, 401, 403, 404, 500, 503]
        .into_iter()
        .map(|status| {
            Case::new(
                format!("inner status {status}"),
                req("POST", "/api/items", &[("origin", APP)]),
            )
            .inner(Inner::new().status(status).header("x-total-count", "3"))
            .calls(1)
            .status(status)
            .body("inner")
            .header(ACAO, APP)
            .header(ACAC, "true")
            .header(ACEH, "x-total-count, x-request-id")
            .absent(ACAM)
            .absent(ACMA)
            .header("vary", "Origin")
            .header("x-total-count", "3")
        })
        .collect();
    run(&layer(POLICY), cases);
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
    let cases = origins
        .into_iter()
        .map(|origin| {
            let headers: Vec<_> = origin.map(|o| ("origin", o)).into_iter().collect();
            Case::new(
                format!("Origin {origin:?}"),
                req("GET", "/api/items", &headers),
            )
            .inner(Inner::new().status(500))
            .calls(1)
            .status(500)
            .no_cors()
            .header("vary", "Origin")
        })
        .collect();
    run(&layer(POLICY), cases);
}

#[test]
fn two_origin_lines_are_refused_on_actual_requests() {
    run(
        &layer(POLICY),
        vec![Case::new(
            "two Origin lines",
            req("GET", "/api/x", &[("origin", APP), ("origin", APP)]),
        )
        .no_cors()],
    );
}

#[test]
fn inner_cors_headers_are_replaced_not_duplicated() {
    let inner = Inner::new()
        .header("access-control-allow-origin", "*")
        .header("access-control-allow-origin", "https://other.example")
        .header("access-control-expose-headers", "x-secret");
    run(
        &layer(POLICY),
        vec![Case::new(
            "inner ACAO and ACEH",
            req("GET", "/api/x", &[("origin", APP)]),
        )
        .inner(inner)
        .header(ACAO, APP)
        .header(ACEH, "x-total-count, x-request-id")],
    );
}

#[test]
fn uncovered_and_same_origin_paths_pass_through_untouched() {
    let mut cases = Vec::new();
    for path in ["/", "/other", "/ap", "/api", "/api/admin/users", "/API/x"] {
        cases.push(
            Case::new(
                format!("preflight to {path}"),
                preflight(path, APP, "PUT", Some("x-request-id")),
            )
            .calls(1)
            .status(200)
            .no_cors()
            .absent("vary"),
        );
        cases.push(
            Case::new(format!("GET {path}"), req("GET", path, &[("origin", APP)]))
                .no_cors()
                .absent("vary"),
        );
    }
    run(&layer(POLICY), cases);
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
    let rows = [
        ("/x", "https://root.example", true),
        ("/x", "https://a.example", false),
        ("/a/x", "https://a.example", true),
        ("/a/x", "https://root.example", false),
        ("/a/b", "https://ab.example", true),
        ("/a/bc/d", "https://ab.example", true),
        ("/a/bc/d", "https://a.example", false),
        ("/a", "https://root.example", true),
    ];
    let mut cases = Vec::new();
    for (path, origin, allowed) in rows {
        let get = Case::new(
            format!("GET {path} from {origin}"),
            req("GET", path, &[("origin", origin)]),
        );
        let pre = Case::new(
            format!("preflight {path} from {origin}"),
            preflight(path, origin, "GET", None),
        );
        if allowed {
            cases.push(get.header(ACAO, origin));
            cases.push(pre.status(204));
        } else {
            cases.push(get.absent(ACAO));
            cases.push(pre.status(403));
        }
    }
    run(&l, cases);
}

#[test]
fn query_strings_do_not_affect_route_matching() {
    let origin = [("origin", "https://a.example")];
    run(
        &layer(POLICY),
        vec![
            Case::new(
                "/public with /api/ in the query",
                req("GET", "/public?x=/api/", &origin),
            )
            .absent(ACAO),
            Case::new(
                "/public/ with /api/ in the query",
                req("GET", "/public/?x=/api/", &origin),
            )
            .header(ACAO, "*"),
        ],
    );
}

#[test]
fn options_without_request_method_is_an_actual_request() {
    run(
        &layer(POLICY),
        vec![
            Case::new(
                "OPTIONS with Origin, no ACRM",
                req("OPTIONS", "/api/x", &[("origin", APP)]),
            )
            .calls(1)
            .header(ACAO, APP)
            .absent(ACAM)
            .header("vary", PREFLIGHT_VARY),
            // Without Origin: passed on, only Vary.
            Case::new(
                "OPTIONS with ACRM, no Origin",
                req(
                    "OPTIONS",
                    "/api/x",
                    &[("access-control-request-method", "PUT")],
                ),
            )
            .calls(1)
            .no_cors()
            .header("vary", PREFLIGHT_VARY),
            // A non-OPTIONS request carrying ACRM is an actual request.
            Case::new(
                "PUT with ACRM",
                req(
                    "PUT",
                    "/api/x",
                    &[("origin", APP), ("access-control-request-method", "PUT")],
                ),
            )
            .calls(1)
            .header("vary", "Origin"),
        ],
    );
}

#[test]
fn preflight_continue_passes_preflights_on() {
    run(
        &layer(POLICY).preflight_continue(true),
        vec![
            Case::new(
                "passed preflight",
                preflight(
                    "/api/x",
                    "https://a.partner.example",
                    "PUT",
                    Some("x-request-id"),
                ),
            )
            .inner(Inner::new().status(200))
            .calls(1)
            .status(200)
            .body("inner")
            .header(ACAO, "https://a.partner.example")
            .header(ACAC, "true")
            .header(ACAM, "PUT, DELETE, patch")
            .header(ACMA, "600")
            .header("vary", PREFLIGHT_VARY),
            Case::new(
                "refused preflight",
                preflight("/api/x", "https://evil.example", "PUT", None),
            )
            .inner(Inner::new().status(204))
            .calls(1)
            .status(204)
            .no_cors()
            .header("vary", PREFLIGHT_VARY),
        ],
    );
}

#[test]
fn private_network_access_is_answered_only_where_allowed() {
    run(
        &layer(POLICY),
        vec![
            Case::new("asked on a PNA route", pna("/device/x", APP, "true"))
                .status(204)
                .header(ACAPN, "true")
                .header("vary", PNA_VARY),
            // Not asked: not answered; the Vary still names it.
            Case::new(
                "not asked on a PNA route",
                preflight("/device/x", APP, "PUT", None),
            )
            .status(204)
            .absent(ACAPN)
            .header("vary", PNA_VARY),
            Case::new("asked with false", pna("/device/x", APP, "false")).absent(ACAPN),
            // Refused origin: refused preflight, no PNA answer.
            Case::new(
                "refused origin",
                pna("/device/x", "https://evil.example", "true"),
            )
            .status(403)
            .no_cors()
            .header("vary", PNA_VARY),
            // A route without private_network never answers it, and its Vary does not name it.
            Case::new("asked on another route", pna("/api/x", APP, "true"))
                .status(204)
                .absent(ACAPN)
                .header("vary", PREFLIGHT_VARY),
        ],
    );
}

#[test]
fn null_origin_with_allow_risky_is_echoed() {
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"null\"]\ncredentials = true\nallow_risky = true\n");
    run(
        &l,
        vec![
            Case::new("GET from null", req("GET", "/", &[("origin", "null")]))
                .header(ACAO, "null")
                .header(ACAC, "true"),
            Case::new("preflight from null", preflight("/", "null", "GET", None))
                .status(204)
                .header(ACAO, "null"),
        ],
    );
}

#[test]
fn expose_headers_wildcard_and_empty() {
    let get = || req("GET", "/", &[("origin", "https://a.example")]);
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\ncredentials = true\nexpose_headers = [\"*\"]\n");
    run(&l, vec![Case::new("expose *", get()).header(ACEH, "*")]);
    let l = layer("version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\n");
    run(
        &l,
        vec![Case::new("expose nothing", get()).cors_names(&[ACAO])],
    );
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
    run(
        &l,
        vec![
            Case::new(
                "inside the route",
                preflight("/v1/x", "https://a.example", "PUT", Some("x-token")),
            )
            .status(204)
            .header(ACAH, "x-token"),
            Case::new(
                "outside the route",
                preflight("/v2/x", "https://a.example", "PUT", None),
            )
            .calls(1)
            .no_cors(),
        ],
    );
}
