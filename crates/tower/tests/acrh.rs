//! `Access-Control-Request-Headers` parsing: whitespace, empty elements, case, several
//! lines, the element and byte caps, non-token elements.

mod common;

use common::*;
use corsproof_tower::{MAX_ACRH_BYTES, MAX_ACRH_ELEMENTS};

const LISTED: &str = "version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\nrequest_headers = [\"content-type\", \"x-request-id\"]\n";
const ANY: &str = "version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\nrequest_headers = [\"*\"]\n";

fn status(policy: &str, acrh_lines: &[&str]) -> u16 {
    let mut h = vec![
        ("origin", "https://a.example"),
        ("access-control-request-method", "GET"),
    ];
    for line in acrh_lines {
        h.push(("access-control-request-headers", line));
    }
    send(&layer(policy), &Inner::new(), req("OPTIONS", "/", &h))
        .status()
        .as_u16()
}

#[test]
fn tolerant_of_whitespace_empty_elements_and_case() {
    for line in [
        "content-type,x-request-id",
        "content-type, x-request-id",
        "  content-type ,\tx-request-id\t ",
        ",content-type,,x-request-id,",
        ", , ,",
        "",
        " ",
        "Content-Type,X-Request-ID",
        "CONTENT-TYPE",
        "x-request-id,content-type",
        "content-type,content-type",
    ] {
        assert_eq!(status(LISTED, &[line]), 204, "{line:?}");
    }
}

#[test]
fn several_lines_are_one_list() {
    assert_eq!(status(LISTED, &["content-type", "x-request-id"]), 204);
    assert_eq!(status(LISTED, &["content-type", "", "X-Request-Id,"]), 204);
    assert_eq!(status(LISTED, &["content-type", "x-other"]), 403);
    assert_eq!(status(LISTED, &["x-other", "content-type"]), 403);
}

#[test]
fn unlisted_and_malformed_names_are_refused() {
    for line in [
        "x-other",
        "content-type,x-other",
        "content-type x-request-id",
        "content-type;x-request-id",
        "\"content-type\"",
        "content-type,x@y",
        "content-typ",
        "content-type-",
        "authorization",
    ] {
        assert_eq!(status(LISTED, &[line]), 403, "{line:?}");
    }
    for line in ["x y", "x@y", "a,(b)", "a,\"b\""] {
        assert_eq!(status(ANY, &[line]), 403, "{line:?}");
    }
}

#[test]
fn element_cap() {
    let names: Vec<String> = (0..=MAX_ACRH_ELEMENTS).map(|i| format!("x-h{i}")).collect();
    let at_cap = names[..MAX_ACRH_ELEMENTS].join(",");
    let over_cap = names.join(",");
    assert_eq!(status(ANY, &[&at_cap]), 204);
    assert_eq!(status(ANY, &[&over_cap]), 403);
    // Spread over lines, the same count.
    let lines: Vec<&str> = names[..MAX_ACRH_ELEMENTS]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(status(ANY, &lines), 204);
    let lines: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(status(ANY, &lines), 403);
    // Empty elements do not count, but lines do.
    let many_empty = ",".repeat(1000) + "x-a";
    assert_eq!(status(ANY, &[&many_empty]), 204);
    let empty_lines = vec![""; MAX_ACRH_ELEMENTS + 1];
    assert_eq!(status(ANY, &empty_lines), 403);
}

#[test]
fn byte_cap() {
    let pad = |n: usize| format!("x-a{}", " ".repeat(n - 3));
    assert_eq!(status(ANY, &[&pad(MAX_ACRH_BYTES)]), 204);
    assert_eq!(status(ANY, &[&pad(MAX_ACRH_BYTES + 1)]), 403);
    // Counted across lines.
    let half = pad(MAX_ACRH_BYTES / 2);
    assert_eq!(status(ANY, &[&half, &half]), 204);
    assert_eq!(status(ANY, &[&half, &half, "x"]), 403);
    // One long name.
    let long = "x".repeat(MAX_ACRH_BYTES + 1);
    assert_eq!(status(ANY, &[&long]), 403);
}

#[test]
fn huge_inputs_are_refused_quickly() {
    let start = std::time::Instant::now();
    let huge = "x-a,".repeat(250_000);
    for _ in 0..100 {
        assert_eq!(status(ANY, &[&huge]), 403);
    }
    // The cap is checked before the value is scanned.
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}
