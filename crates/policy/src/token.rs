//! Syntax of header names and methods (RFC 9110 tokens) and the Fetch Standard's
//! forbidden and safelisted names.

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Why `s` is not an RFC 9110 token, or `None` when it is one.
pub(crate) fn token_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("is empty".to_string());
    }
    s.chars()
        .find(|&c| !is_tchar(c))
        .map(|c| format!("contains {c:?}, which is not allowed in a token (RFC 9110)"))
}

/// Forbidden request-header names (Fetch), lowercase; `proxy-*` and `sec-*` are forbidden too.
const FORBIDDEN_REQUEST_HEADERS: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// Whether a lowercase header name is one script can never set.
pub(crate) fn is_forbidden_request_header(lower: &str) -> bool {
    FORBIDDEN_REQUEST_HEADERS.contains(&lower)
        || lower.starts_with("proxy-")
        || lower.starts_with("sec-")
}

/// Response headers browsers never expose to script (Fetch forbidden response-header names).
pub(crate) fn is_forbidden_response_header(lower: &str) -> bool {
    matches!(lower, "set-cookie" | "set-cookie2")
}

/// Whether a method can never be used from script (compared case-insensitively).
pub(crate) fn is_forbidden_method(method: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|m| m.eq_ignore_ascii_case(method))
}

/// The uppercase spelling browsers normalize `method` to, if they normalize it at all
/// (Fetch normalizes DELETE, GET, HEAD, OPTIONS, POST and PUT case-insensitively).
pub(crate) fn normalized_method(method: &str) -> Option<&'static str> {
    ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(method))
}

/// Whether a method (exact spelling) is CORS-safelisted.
pub(crate) fn is_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(token_problem("X-Request-Id"), None);
        assert_eq!(token_problem("!#$%&'*+-.^_`|~09azAZ"), None);
        assert!(token_problem("").is_some());
        assert!(token_problem("a b").unwrap().contains("' '"));
        assert!(token_problem("a:b").is_some());
        assert!(token_problem("é").is_some());
    }

    #[test]
    fn forbidden_names() {
        assert!(is_forbidden_request_header("cookie"));
        assert!(is_forbidden_request_header("sec-fetch-mode"));
        assert!(is_forbidden_request_header("proxy-authorization"));
        assert!(!is_forbidden_request_header("authorization"));
        assert!(!is_forbidden_request_header("x-sec-thing"));
        assert!(is_forbidden_method("track"));
        assert!(!is_forbidden_method("PATCH"));
    }

    #[test]
    fn normalization() {
        assert_eq!(normalized_method("put"), Some("PUT"));
        assert_eq!(normalized_method("patch"), None);
        assert!(is_safelisted_method("GET"));
        assert!(!is_safelisted_method("get"));
    }
}
