//! `Vary` merging with the inner service's `Vary`: tables of named cases
//! (`common::table`), each an inner `Vary` and a request, and the `Vary` lines of the answer.

mod common;

use common::table::{run, Case};
use common::*;

fn get(origin: &str) -> http::Request<String> {
    req("GET", "/api/x", &[("origin", origin)])
}

/// The inner service with one `Vary` line per element of `lines`.
fn varying(lines: &[&'static str]) -> Inner {
    lines
        .iter()
        .fold(Inner::new(), |inner, line| inner.header("vary", line))
}

#[test]
fn a_foreign_vary_gets_a_second_line() {
    let cases = ["https://app.example.com", "https://evil.example"]
        .into_iter()
        .map(|origin| {
            Case::new(format!("GET from {origin}"), get(origin))
                .inner(varying(&["Accept-Encoding"]))
                .vary(&["Accept-Encoding", "Origin"])
        })
        .collect();
    run(&layer(POLICY), cases);
}

#[test]
fn tokens_already_present_are_not_repeated() {
    let rows: [&[&'static str]; 5] = [
        &["origin"],
        &["Origin"],
        &["Accept-Encoding, ORIGIN"],
        &["Accept-Encoding", " origin "],
        &["accept,,origin,"],
    ];
    let cases = rows
        .into_iter()
        .map(|existing| {
            Case::new(
                format!("inner Vary {existing:?}"),
                get("https://app.example.com"),
            )
            .inner(varying(existing))
            .vary(existing)
        })
        .collect();
    run(&layer(POLICY), cases);
}

#[test]
fn vary_star_stays_star() {
    let mut cases = Vec::new();
    for existing in ["*", "Accept-Encoding, *", " * "] {
        cases.push(
            Case::new(
                format!("allowed origin, inner Vary {existing:?}"),
                get("https://app.example.com"),
            )
            .inner(varying(&[existing]))
            .vary(&[existing]),
        );
        // A refused origin too.
        cases.push(
            Case::new(
                format!("refused origin, inner Vary {existing:?}"),
                get("https://evil.example"),
            )
            .inner(varying(&[existing]))
            .vary(&[existing]),
        );
    }
    run(&layer(POLICY), cases);
}

#[test]
fn only_missing_tokens_are_added_on_options() {
    run(
        &layer(POLICY),
        vec![Case::new(
            "OPTIONS without ACRM",
            req(
                "OPTIONS",
                "/api/x",
                &[("origin", "https://app.example.com")],
            ),
        )
        .inner(varying(&["Origin, Access-Control-Request-Headers"]))
        .vary(&[
            "Origin, Access-Control-Request-Headers",
            "Access-Control-Request-Method",
        ])],
    );
}

#[test]
fn continued_preflights_merge_with_the_inner_vary() {
    run(
        &layer(POLICY).preflight_continue(true),
        vec![
            Case::new(
                "allowed origin",
                preflight("/api/x", "https://app.example.com", "PUT", None),
            )
            .inner(varying(&["accept-encoding, access-control-request-method"]))
            .vary(&[
                "accept-encoding, access-control-request-method",
                "Origin, Access-Control-Request-Headers",
            ]),
            Case::new(
                "refused origin, inner Vary *",
                preflight("/api/x", "https://evil.example", "PUT", None),
            )
            .inner(varying(&["*"]))
            .vary(&["*"]),
        ],
    );
}

#[test]
fn wildcard_routes_leave_the_inner_vary_alone_on_actual_requests() {
    run(
        &layer(POLICY),
        vec![Case::new(
            "GET on the * route",
            req("GET", "/public/x", &[("origin", "https://a.example")]),
        )
        .inner(varying(&["Accept-Encoding"]))
        .vary(&["Accept-Encoding"])],
    );
}

#[test]
fn same_origin_paths_leave_the_inner_vary_alone() {
    run(
        &layer(POLICY),
        vec![Case::new(
            "GET on the same-origin route",
            req(
                "GET",
                "/api/admin/x",
                &[("origin", "https://app.example.com")],
            ),
        )
        .inner(varying(&["Accept-Encoding"]))
        .vary(&["Accept-Encoding"])],
    );
}
