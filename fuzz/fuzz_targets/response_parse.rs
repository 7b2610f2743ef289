//! Arbitrary bytes as an HTTP/1.1 response from a hostile target: the response reader of
//! `corsproof-client` returns a response or an error, never panics, and stays within its
//! limits.
//!
//! Checked for every input, under small limits so that the limits are reached often:
//! - a parsed response respects `Limits` (header count, body size) and consumed at most the
//!   bytes given;
//! - the reader is incremental: no strict prefix of a parsed response parses as a response
//!   (while the connection is open), and the response's own bytes parse to the same response;
//! - every header name is a token and no value has a CR, LF or NUL, or leading or trailing
//!   whitespace (what the reader promises to the oracle).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use corsproof_client::{parse_response_with, Limits, ParseError, ResponseContext};
use libfuzzer_sys::fuzz_target;

/// The first nine bytes of an input; the rest are the response's bytes, as they are (the
/// seeds are real responses behind such a prefix).
#[derive(Debug, Arbitrary)]
struct Input {
    head_request: bool,
    eof: bool,
    /// Limits, kept small: (header bytes, header count, body bytes).
    limits: (u16, u8, u16),
    /// Where to cut the bytes for the prefix check.
    cut: u16,
}

fn is_token(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    let bytes = u.take_rest();
    let limits = Limits {
        max_header_bytes: 16 + usize::from(input.limits.0 % 8192),
        max_headers: 1 + usize::from(input.limits.1 % 64),
        max_body: usize::from(input.limits.2 % 8192),
    };
    let ctx = ResponseContext {
        head_request: input.head_request,
        eof: input.eof,
    };
    let (response, used) = match parse_response_with(bytes, limits, ctx) {
        Ok(parsed) => parsed,
        Err(
            ParseError::Incomplete | ParseError::Malformed { .. } | ParseError::TooLarge { .. },
        ) => return,
    };
    assert!(
        used <= bytes.len(),
        "consumed {used} of {} bytes",
        bytes.len()
    );
    assert!(
        (100..=999).contains(&response.status),
        "status {}",
        response.status
    );
    assert!(response.headers.len() <= limits.max_headers);
    assert!(response.body.len() <= limits.max_body);
    for (name, value) in &response.headers {
        assert!(is_token(name), "header name {name:?}");
        assert!(
            !value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "header value {value:?}"
        );
        assert!(
            !value.first().is_some_and(|b| matches!(b, b' ' | b'\t'))
                && !value.last().is_some_and(|b| matches!(b, b' ' | b'\t')),
            "untrimmed header value {value:?}"
        );
    }
    // Determinism on exactly the response's bytes.
    let again = parse_response_with(&bytes[..used], limits, ctx);
    assert_eq!(
        again,
        Ok((response, used)),
        "re-parse of the consumed bytes differs"
    );
    // Incrementality: while the connection is open, a strict prefix is never a response.
    if used > 0 {
        let open = ResponseContext { eof: false, ..ctx };
        let cut = usize::from(input.cut) % used;
        if let Ok((early, n)) = parse_response_with(&bytes[..cut], limits, open) {
            panic!("prefix of {cut} bytes parsed as a response of {n} bytes: {early:?}");
        }
    }
});
