//! Methods (R6, R15): normalization, forbidden and CORS-safelisted methods.

use crate::grammar::eq_ignore_case;

/// The methods Fetch upper-cases when they match byte-case-insensitively (R6).
const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// Normalizes a method (R6, `#concept-method-normalize`): a byte-case-insensitive match of
/// DELETE, GET, HEAD, OPTIONS, POST or PUT becomes upper case; any other method keeps its case.
///
/// ```
/// use corsproof_oracle::method::normalize;
/// assert_eq!(normalize("put"), "PUT");
/// assert_eq!(normalize("patch"), "patch");
/// ```
pub fn normalize(method: &str) -> std::borrow::Cow<'_, str> {
    match NORMALIZED
        .iter()
        .find(|m| eq_ignore_case(m.as_bytes(), method.as_bytes()))
    {
        Some(m) => std::borrow::Cow::Borrowed(m),
        None => std::borrow::Cow::Borrowed(method),
    }
}

/// Forbidden method (R6, `#forbidden-method`): CONNECT, TRACE, TRACK, any case.
///
/// ```
/// assert!(corsproof_oracle::method::is_forbidden(b"track"));
/// assert!(!corsproof_oracle::method::is_forbidden(b"GETTRACE"));
/// ```
pub fn is_forbidden(method: &[u8]) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|m| eq_ignore_case(m.as_bytes(), method))
}

/// CORS-safelisted method (R15): exactly `GET`, `HEAD`, `POST` (after normalization).
///
/// ```
/// assert!(corsproof_oracle::method::is_cors_safelisted(b"POST"));
/// assert!(!corsproof_oracle::method::is_cors_safelisted(b"post"));
/// ```
pub fn is_cors_safelisted(method: &[u8]) -> bool {
    matches!(method, b"GET" | b"HEAD" | b"POST")
}
