//! The `Vary` tokens this middleware adds, as precomputed static values, and their merging
//! with a `Vary` the inner service already set.

use http::header::{HeaderMap, HeaderValue, VARY};

/// `Origin`.
pub(crate) const ORIGIN: u8 = 1;
/// `Access-Control-Request-Method`.
pub(crate) const REQUEST_METHOD: u8 = 2;
/// `Access-Control-Request-Headers`.
pub(crate) const REQUEST_HEADERS: u8 = 4;
/// `Access-Control-Request-Private-Network`.
pub(crate) const REQUEST_PRIVATE_NETWORK: u8 = 8;

/// What a preflight's answer depends on (without Private Network Access).
pub(crate) const PREFLIGHT: u8 = ORIGIN | REQUEST_METHOD | REQUEST_HEADERS;

/// The token names, in bit order, lowercase (compared case-insensitively).
const NAMES: [&[u8]; 4] = [
    b"origin",
    b"access-control-request-method",
    b"access-control-request-headers",
    b"access-control-request-private-network",
];

/// The `Vary` value listing exactly the tokens in `mask`; `None` for an empty mask.
/// Every value is built at compile time (`const` blocks): no byte check runs per request,
/// and inserting it never allocates nor touches a reference count.
pub(crate) fn value(mask: u8) -> Option<HeaderValue> {
    let value = match mask & 0b1111 {
        0 => return None,
        1 => const { HeaderValue::from_static("Origin") },
        2 => const { HeaderValue::from_static("Access-Control-Request-Method") },
        3 => const { HeaderValue::from_static("Origin, Access-Control-Request-Method") },
        4 => const { HeaderValue::from_static("Access-Control-Request-Headers") },
        5 => const { HeaderValue::from_static("Origin, Access-Control-Request-Headers") },
        6 => {
            const {
                HeaderValue::from_static(
                    "Access-Control-Request-Method, Access-Control-Request-Headers",
                )
            }
        }
        7 => {
            const {
                HeaderValue::from_static(
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
                )
            }
        }
        8 => const { HeaderValue::from_static("Access-Control-Request-Private-Network") },
        9 => const { HeaderValue::from_static("Origin, Access-Control-Request-Private-Network") },
        10 => {
            const {
                HeaderValue::from_static(
                    "Access-Control-Request-Method, Access-Control-Request-Private-Network",
                )
            }
        }
        11 => {
            const {
                HeaderValue::from_static(
                    "Origin, Access-Control-Request-Method, Access-Control-Request-Private-Network",
                )
            }
        }
        12 => {
            const {
                HeaderValue::from_static(
                    "Access-Control-Request-Headers, Access-Control-Request-Private-Network",
                )
            }
        }
        13 => {
            const {
                HeaderValue::from_static("Origin, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
            }
        }
        14 => {
            const {
                HeaderValue::from_static("Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
            }
        }
        _ => {
            const {
                HeaderValue::from_static("Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
            }
        }
    };
    Some(value)
}

/// Adds the tokens in `wanted` to the `Vary` of `headers`:
/// - no `Vary` yet: one line with the tokens;
/// - a `Vary` containing `*`: left alone (it already varies on everything);
/// - otherwise: one more line with only the tokens not already present (compared
///   case-insensitively across every line), none if all are there.
///
/// Appending a second line is the only case that can allocate (the `http` crate's list of
/// extra values); it only happens when the inner service set a `Vary` of its own.
pub(crate) fn merge(headers: &mut HeaderMap, wanted: u8) {
    if wanted == 0 {
        return;
    }
    let mut present = 0u8;
    let mut any_line = false;
    for line in headers.get_all(VARY) {
        any_line = true;
        for token in line.as_bytes().split(|&b| b == b',') {
            let token = trim_ows(token);
            if token == b"*" {
                return;
            }
            for (bit, name) in NAMES.iter().enumerate() {
                if token.eq_ignore_ascii_case(name) {
                    present |= 1 << bit;
                }
            }
        }
    }
    let Some(value) = value(wanted & !present) else {
        return;
    };
    // A header map at its maximum size cannot take more; leaving `Vary` out is then the
    // only option that does not panic.
    if any_line {
        let _ = headers.try_append(VARY, value);
    } else {
        let _ = headers.try_insert(VARY, value);
    }
}

/// Strips optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mask_lists_its_tokens() {
        for mask in 1u8..16 {
            let v = value(mask).unwrap();
            let tokens: Vec<&[u8]> = v.as_bytes().split(|&b| b == b',').map(trim_ows).collect();
            assert_eq!(tokens.len(), mask.count_ones() as usize);
            for (bit, name) in NAMES.iter().enumerate() {
                let has = tokens.iter().any(|t| t.eq_ignore_ascii_case(name));
                assert_eq!(has, mask & (1 << bit) != 0, "mask {mask}");
            }
        }
        assert!(value(0).is_none());
    }
}
