//! `Vary` merging with the inner service's `Vary`.

mod common;

use common::*;

fn get(origin: &str) -> http::Request<String> {
    req("GET", "/api/x", &[("origin", origin)])
}

#[test]
fn a_foreign_vary_gets_a_second_line() {
    for origin in ["https://app.example.com", "https://evil.example"] {
        let inner = Inner::new().header("vary", "Accept-Encoding");
        let res = send(&layer(POLICY), &inner, get(origin));
        assert_eq!(
            all(res.headers(), "vary"),
            ["Accept-Encoding", "Origin"],
            "{origin}"
        );
    }
}

#[test]
fn tokens_already_present_are_not_repeated() {
    for existing in [
        vec!["origin"],
        vec!["Origin"],
        vec!["Accept-Encoding, ORIGIN"],
        vec!["Accept-Encoding", " origin "],
        vec!["accept,,origin,"],
    ] {
        let mut inner = Inner::new();
        for v in &existing {
            inner = inner.header("vary", v);
        }
        let res = send(&layer(POLICY), &inner, get("https://app.example.com"));
        let expected: Vec<String> = existing.iter().map(|s| s.to_string()).collect();
        assert_eq!(all(res.headers(), "vary"), expected);
    }
}

#[test]
fn vary_star_stays_star() {
    for existing in ["*", "Accept-Encoding, *", " * "] {
        let inner = Inner::new().header("vary", existing);
        let res = send(&layer(POLICY), &inner, get("https://app.example.com"));
        assert_eq!(all(res.headers(), "vary"), [existing]);
        // A refused origin too.
        let res = send(&layer(POLICY), &inner, get("https://evil.example"));
        assert_eq!(all(res.headers(), "vary"), [existing]);
    }
}

#[test]
fn only_missing_tokens_are_added_on_options() {
    let inner = Inner::new().header("vary", "Origin, Access-Control-Request-Headers");
    let res = send(
        &layer(POLICY),
        &inner,
        req(
            "OPTIONS",
            "/api/x",
            &[("origin", "https://app.example.com")],
        ),
    );
    assert_eq!(
        all(res.headers(), "vary"),
        [
            "Origin, Access-Control-Request-Headers",
            "Access-Control-Request-Method"
        ]
    );
}

#[test]
fn continued_preflights_merge_with_the_inner_vary() {
    let l = layer(POLICY).preflight_continue(true);
    let inner = Inner::new().header("vary", "accept-encoding, access-control-request-method");
    let res = send(
        &l,
        &inner,
        preflight("/api/x", "https://app.example.com", "PUT", None),
    );
    assert_eq!(
        all(res.headers(), "vary"),
        [
            "accept-encoding, access-control-request-method",
            "Origin, Access-Control-Request-Headers"
        ]
    );
    let inner = Inner::new().header("vary", "*");
    let res = send(
        &l,
        &inner,
        preflight("/api/x", "https://evil.example", "PUT", None),
    );
    assert_eq!(all(res.headers(), "vary"), ["*"]);
}

#[test]
fn wildcard_routes_leave_the_inner_vary_alone_on_actual_requests() {
    let inner = Inner::new().header("vary", "Accept-Encoding");
    let res = send(
        &layer(POLICY),
        &inner,
        req("GET", "/public/x", &[("origin", "https://a.example")]),
    );
    assert_eq!(all(res.headers(), "vary"), ["Accept-Encoding"]);
}

#[test]
fn same_origin_paths_leave_the_inner_vary_alone() {
    let inner = Inner::new().header("vary", "Accept-Encoding");
    let res = send(
        &layer(POLICY),
        &inner,
        req(
            "GET",
            "/api/admin/x",
            &[("origin", "https://app.example.com")],
        ),
    );
    assert_eq!(all(res.headers(), "vary"), ["Accept-Encoding"]);
}
