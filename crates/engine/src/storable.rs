//! Whether a shared cache may store a response (RFC 9111 §3): only such a response can be
//! replayed to a request it was not the answer to, so only its missing `Vary` is a hazard.
//!
//! A shared cache may store a response to a request unless the method is not cacheable (here:
//! anything but `GET` and `HEAD`), the status is not final or needs more than this model
//! knows (`206`, `304`), `Cache-Control` says `no-store` or `private`, or the request carried
//! `Authorization` and the response does not say `public`, `s-maxage` or `must-revalidate`
//! (§3.5); and it must give the cache a reason: explicit freshness (`Expires`, `max-age`,
//! `s-maxage`), `public`, or a status that is heuristically cacheable (RFC 9110 §15.1: 200,
//! 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501).

/// Statuses a cache may store without explicit freshness (RFC 9110 §15.1).
const HEURISTICALLY_CACHEABLE: [u16; 12] =
    [200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501];

/// Whether a shared cache may store the response (`status`, header `lines`) to a `method`
/// request that carried `Authorization` or not.
///
/// ```
/// use corsproof_engine::storable::shared_cache_may_store;
/// let lines = |l: &[(&str, &str)]| -> Vec<(Vec<u8>, Vec<u8>)> {
///     l.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())).collect()
/// };
/// assert!(shared_cache_may_store("GET", false, 200, &lines(&[])));
/// // A 403 without freshness: not heuristically cacheable, never stored.
/// assert!(!shared_cache_may_store("GET", false, 403, &lines(&[])));
/// assert!(shared_cache_may_store("GET", false, 403, &lines(&[("Cache-Control", "max-age=60")])));
/// assert!(!shared_cache_may_store("GET", false, 200, &lines(&[("Cache-Control", "private")])));
/// assert!(!shared_cache_may_store("POST", false, 200, &lines(&[])));
/// ```
pub fn shared_cache_may_store(
    method: &str,
    authorization: bool,
    status: u16,
    lines: &[(Vec<u8>, Vec<u8>)],
) -> bool {
    if !matches!(method, "GET" | "HEAD") || !(200..=599).contains(&status) {
        return false;
    }
    if matches!(status, 206 | 304) {
        return false;
    }
    let directives = cache_control(lines);
    let has = |name: &str| directives.iter().any(|(n, _)| n == name);
    if has("no-store") || has("private") {
        return false;
    }
    if authorization && !(has("public") || has("s-maxage") || has("must-revalidate")) {
        return false;
    }
    let expires = lines
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(b"expires"));
    expires
        || has("max-age")
        || has("s-maxage")
        || has("public")
        || HEURISTICALLY_CACHEABLE.contains(&status)
}

/// The `Cache-Control` directives of every field line: (lowercase name, value).
fn cache_control(lines: &[(Vec<u8>, Vec<u8>)]) -> Vec<(String, Option<String>)> {
    lines
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"cache-control"))
        .flat_map(|(_, v)| v.split(|&b| b == b','))
        .filter_map(|d| {
            let d = String::from_utf8_lossy(d.trim_ascii()).into_owned();
            if d.is_empty() {
                return None;
            }
            Some(match d.split_once('=') {
                Some((n, v)) => (
                    n.trim().to_ascii_lowercase(),
                    Some(v.trim().trim_matches('"').to_string()),
                ),
                None => (d.to_ascii_lowercase(), None),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(l: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        l.iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn rfc_9111_section_3() {
        for (method, auth, status, headers, stored) in [
            ("GET", false, 200, vec![], true),
            ("HEAD", false, 404, vec![], true),
            ("GET", false, 403, vec![], false),
            ("GET", false, 500, vec![], false),
            (
                "GET",
                false,
                503,
                vec![("Expires", "Thu, 01 Jan 2099 00:00:00 GMT")],
                true,
            ),
            ("GET", false, 403, vec![("cache-control", "Public")], true),
            (
                "GET",
                false,
                200,
                vec![("Cache-Control", "max-age=60, no-store")],
                false,
            ),
            ("GET", false, 200, vec![("Cache-Control", "no-cache")], true),
            ("GET", true, 200, vec![], false),
            (
                "GET",
                true,
                200,
                vec![("Cache-Control", "s-maxage=60")],
                true,
            ),
            ("GET", false, 206, vec![], false),
            ("GET", false, 304, vec![], false),
            ("OPTIONS", false, 204, vec![], false),
            (
                "PUT",
                false,
                200,
                vec![("Cache-Control", "max-age=60")],
                false,
            ),
        ] {
            assert_eq!(
                shared_cache_may_store(method, auth, status, &lines(&headers)),
                stored,
                "{method} {auth} {status} {headers:?}"
            );
        }
    }
}
