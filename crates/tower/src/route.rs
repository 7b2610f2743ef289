//! The compiled routes: longest path prefix lookup, and per route the decision of what a
//! request gets.

use http::header::{
    HeaderMap, HeaderName, HeaderValue, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
};

use crate::acrh::{self, AllowedHeaders};
use crate::answer::{Additions, REQUEST_PRIVATE_NETWORK};
use crate::origin::{Grant, OriginSet};
use crate::refusal::{RefusalKind, Refused, RouteRef};
use crate::vary;

/// All routes of a policy, longest path first.
#[derive(Debug)]
pub(crate) struct RouteTable {
    pub(crate) entries: Box<[Entry]>,
}

/// One route: its path prefix, its name and path for refusals, and, unless it is same-origin
/// only, what it allows.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) path: Box<str>,
    pub(crate) id: RouteRef,
    pub(crate) cors: Option<CorsRoute>,
}

impl RouteTable {
    /// The table of `entries` (in policy order): each path with its percent-encoded
    /// unreserved characters decoded, longest first. Two paths equal once decoded
    /// (`/api/` and `/%61pi/`) keep their policy order, so the first one wins.
    pub(crate) fn new(entries: Vec<Entry>) -> RouteTable {
        let mut entries: Vec<Entry> = entries
            .into_iter()
            .map(|e| Entry {
                path: decode_unreserved(&e.path).into_boxed_str(),
                id: e.id,
                cors: e.cors,
            })
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.path.len()));
        RouteTable {
            entries: entries.into_boxed_slice(),
        }
    }

    /// The route covering `path`, or `None` when no route covers it; its `cors` is `None`
    /// when it has `origins = []`. A route covers a path when its (decoded)
    /// path is a byte prefix of the request path with percent-encoded unreserved characters
    /// decoded (RFC 3986 section 6.2.2.2: `/%61pi/x` is under `/api/`; `/api%2Fx`, `/api`
    /// and `/API/` are not); the longest wins. No allocation: the request path is decoded
    /// while it is compared.
    pub(crate) fn route(&self, path: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| starts_with_decoded(path.as_bytes(), e.path.as_bytes()))
    }
}

/// The value of an ASCII hex digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986's unreserved characters: `A-Z a-z 0-9 - . _ ~`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// The bytes of a path with every percent-encoded unreserved character decoded (one pass:
/// `%2561` stays `%2561`); every other byte, other triplets included, as it is.
struct Decoded<'a> {
    rest: &'a [u8],
}

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, tail) = self.rest.split_first()?;
        if first == b'%' {
            if let [high, low, after @ ..] = tail {
                if let (Some(high), Some(low)) = (hex(*high), hex(*low)) {
                    let byte = high * 16 + low;
                    if is_unreserved(byte) {
                        self.rest = after;
                        return Some(byte);
                    }
                }
            }
        }
        self.rest = tail;
        Some(first)
    }
}

/// Whether `prefix` (already decoded) is a byte prefix of `path` once decoded.
fn starts_with_decoded(path: &[u8], prefix: &[u8]) -> bool {
    let mut decoded = Decoded { rest: path };
    prefix.iter().all(|b| decoded.next() == Some(*b))
}

/// `path` with its percent-encoded unreserved characters decoded.
fn decode_unreserved(path: &str) -> String {
    let bytes: Vec<u8> = Decoded {
        rest: path.as_bytes(),
    }
    .collect();
    // Decoding replaces an ASCII triplet by one ASCII byte: the bytes stay UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| path.to_string())
}

/// A route's `origins`.
#[derive(Debug)]
pub(crate) enum AllowedOrigins {
    /// `["*"]`, never with credentials: the answer does not depend on the origin.
    Any,
    /// Exact origins and patterns.
    Set(OriginSet),
}

/// A route that grants cross-origin access, with every response value precomputed.
#[derive(Debug)]
pub(crate) struct CorsRoute {
    pub(crate) origins: AllowedOrigins,
    pub(crate) credentials: bool,
    /// Methods beyond GET, HEAD, POST, compared byte for byte.
    pub(crate) methods: Box<[Box<[u8]>]>,
    pub(crate) request_headers: AllowedHeaders,
    pub(crate) private_network: bool,
    pub(crate) acam: Option<HeaderValue>,
    pub(crate) acah: Option<HeaderValue>,
    pub(crate) aceh: Option<HeaderValue>,
    pub(crate) acma: Option<HeaderValue>,
    /// `Vary` tokens of every `OPTIONS` response on this route.
    pub(crate) preflight_vary: u8,
}

/// What a passed preflight gets.
#[derive(Debug)]
pub(crate) struct PreflightGrant {
    /// The headers of the answer.
    pub(crate) additions: Additions,
    /// `Access-Control-Allow-Origin` is still to be filled in with the request's own `Origin`
    /// value (a subdomain-pattern match).
    pub(crate) echo_request_origin: bool,
}

/// The lines of one request header.
enum Lines<'h> {
    Absent,
    One(&'h HeaderValue),
    Several,
}

/// How many lines of header `name` the request has, and the value if one.
fn lines<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Lines<'h> {
    let mut all = headers.get_all(name).into_iter();
    let Some(first) = all.next() else {
        return Lines::Absent;
    };
    match all.next() {
        None => Lines::One(first),
        Some(_) => Lines::Several,
    }
}

/// The only value of header `name`, or `None` when it is absent or sent more than once.
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    match lines(headers, name) {
        Lines::One(value) => Some(value),
        Lines::Absent | Lines::Several => None,
    }
}

impl CorsRoute {
    /// The headers a non-preflight request gets on the inner service's response.
    pub(crate) fn actual(&self, headers: &HeaderMap, is_options: bool) -> Additions {
        let (acao, vary) = match &self.origins {
            AllowedOrigins::Any => (Some(const { HeaderValue::from_static("*") }), 0),
            AllowedOrigins::Set(set) => {
                let acao = single(headers, &ORIGIN).and_then(|origin| {
                    match set.grant(origin.as_bytes()) {
                        Grant::Refused => None,
                        Grant::Value(value) => Some(value),
                        Grant::Request => Some(origin.clone()),
                    }
                });
                (acao, vary::ORIGIN)
            }
        };
        // An OPTIONS response depends on whether the request was a preflight.
        let vary = if is_options {
            self.preflight_vary
        } else {
            vary
        };
        match acao {
            None => Additions::vary_only(vary),
            Some(acao) => Additions {
                acao: Some(acao),
                acac: self.credentials,
                aceh: self.aceh.clone(),
                vary,
                ..Additions::default()
            },
        }
    }

    /// Why [`CorsRoute::actual`] gave a request no `Access-Control-Allow-Origin` (only an
    /// `origins` list refuses, and only through `Origin`): several lines, or the one value
    /// is not allowed; `None` without `Origin`, which is no cross-origin request.
    pub(crate) fn refused_origin(&self, headers: &HeaderMap) -> Option<RefusalKind> {
        match lines(headers, &ORIGIN) {
            Lines::Absent => None,
            Lines::Several => Some(RefusalKind::SeveralOrigins),
            Lines::One(origin) => Some(Refused::origin(origin.as_bytes()).kind()),
        }
    }

    /// The decision on a preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`), or why it is refused. The request has both headers
    /// (`Cors::call` sends nothing else here), so a header that has no single line has
    /// several.
    pub(crate) fn preflight<'h>(
        &self,
        headers: &'h HeaderMap,
    ) -> Result<PreflightGrant, Refused<'h>> {
        let (acao, echo_request_origin) = self.preflight_origin(headers)?;
        let Some(method) = single(headers, &ACCESS_CONTROL_REQUEST_METHOD) else {
            return Err(Refused::plain(|_| RefusalKind::SeveralRequestMethods));
        };
        if !self.allows_method(method.as_bytes()) {
            return Err(Refused::naming(method.as_bytes(), |method| {
                RefusalKind::MethodNotAllowed { method }
            }));
        }
        acrh::check(
            headers.get_all(ACCESS_CONTROL_REQUEST_HEADERS),
            &self.request_headers,
        )?;
        let acapn = self.private_network && asks_private_network(headers);
        Ok(PreflightGrant {
            additions: Additions {
                acao,
                acac: self.credentials,
                acam: self.acam.clone(),
                acah: self.acah.clone(),
                acma: self.acma.clone(),
                aceh: None,
                acapn,
                vary: self.preflight_vary,
            },
            echo_request_origin,
        })
    }

    /// The `Access-Control-Allow-Origin` of a preflight's answer, or `None` and `true` when
    /// it is the request's own `Origin` (a subdomain-pattern match); or why the origin is
    /// refused.
    fn preflight_origin<'h>(
        &self,
        headers: &'h HeaderMap,
    ) -> Result<(Option<HeaderValue>, bool), Refused<'h>> {
        match &self.origins {
            AllowedOrigins::Any => Ok((Some(const { HeaderValue::from_static("*") }), false)),
            AllowedOrigins::Set(set) => {
                let Some(origin) = single(headers, &ORIGIN) else {
                    return Err(Refused::plain(|_| RefusalKind::SeveralOrigins));
                };
                match set.grant(origin.as_bytes()) {
                    Grant::Refused => Err(Refused::origin(origin.as_bytes())),
                    Grant::Value(value) => Ok((Some(value), false)),
                    Grant::Request => Ok((None, true)),
                }
            }
        }
    }

    /// The answer of `RefusalReasons::Debug` to a preflight [`CorsRoute::preflight`] refused
    /// as `kind`: for a method or request header refusal, the origin as a passed preflight
    /// gets it and the route's own methods and request headers (no request headers for
    /// `authorization-not-covered`: a `*` lets `authorization` through in some browsers),
    /// nothing else, so that the browser fails on that method or header; `None` for every
    /// other refusal (origins, malformed or oversized requests), which keeps its 403.
    pub(crate) fn debug_answer(
        &self,
        headers: &HeaderMap,
        kind: &RefusalKind,
    ) -> Option<PreflightGrant> {
        let acah = match kind {
            RefusalKind::MethodNotAllowed { .. } | RefusalKind::HeaderNotAllowed { .. } => {
                self.acah.clone()
            }
            RefusalKind::AuthorizationNotCovered => None,
            _ => return None,
        };
        // These kinds are decided after the origin passed, so it passes again here.
        let (acao, echo_request_origin) = self.preflight_origin(headers).ok()?;
        Some(PreflightGrant {
            additions: Additions {
                acao,
                acam: self.acam.clone(),
                acah,
                vary: self.preflight_vary,
                // Never `Access-Control-Allow-Credentials`: a debug answer grants nothing.
                ..Additions::default()
            },
            echo_request_origin,
        })
    }

    /// True when a passed preflight asks for private network access that this route does not
    /// grant (the answer lacks `Access-Control-Allow-Private-Network`).
    pub(crate) fn withholds_private_network(&self, headers: &HeaderMap) -> bool {
        !self.private_network && asks_private_network(headers)
    }

    /// CORS-safelisted methods always pass; others must be listed, byte for byte (method
    /// names are case-sensitive).
    fn allows_method(&self, method: &[u8]) -> bool {
        matches!(method, b"GET" | b"HEAD" | b"POST") || self.methods.iter().any(|m| **m == *method)
    }
}

/// `Access-Control-Request-Private-Network: true`, on one line.
fn asks_private_network(headers: &HeaderMap) -> bool {
    single(headers, &REQUEST_PRIVATE_NETWORK).is_some_and(|v| v.as_bytes() == b"true")
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsproof_policy::Policy;

    /// The routes of `paths` (`*` origins, but `/api/admin/` same-origin only): the index of
    /// the route covering each path, by the address of its compiled route.
    fn covering(paths: &[&str], request: &str) -> Option<usize> {
        let mut toml = String::from("version = 1\n");
        for p in paths {
            let origins = if *p == "/api/admin/" { "[]" } else { "[\"*\"]" };
            toml.push_str(&format!(
                "[[route]]\npath = \"{p}\"\norigins = {origins}\nmax_age = {}\n",
                p.len()
            ));
        }
        let policy = Policy::from_toml_str(&toml, "p.toml").expect("a policy");
        let table = crate::build::compile(&policy).expect("compiles");
        let found = table.route(request)?.cors.as_ref()?;
        let max_age = found.acma.as_ref()?.to_str().ok()?.parse::<usize>().ok()?;
        paths.iter().position(|p| p.len() == max_age)
    }

    #[test]
    fn routes_match_the_path_with_unreserved_characters_decoded() {
        let paths = ["/api/", "/api/admin/", "/pub", "/%7Euser/", "/x%2Fy/"];
        let table: &[(&str, Option<usize>)] = &[
            ("/api/", Some(0)),
            ("/api/x", Some(0)),
            ("/api//x", Some(0)),
            ("/api", None),
            ("/apifoo", None),
            ("/api-v2", None),
            ("/api.json", None),
            ("/api_x", None),
            ("/API/", None),
            ("/%61pi/", Some(0)),
            ("/%61%70%69/x", Some(0)),
            ("/%41pi/", None),
            ("/api%2Fx", None),
            ("/api%2fx", None),
            ("/%2561pi/", None),
            // Same-origin only: covered, but no CORS route.
            ("/api/admin/users", None),
            ("/api/%61dmin/", None),
            ("/api/admin%2Fx", Some(0)),
            ("/pub", Some(2)),
            ("/public", Some(2)),
            ("/pu%62", Some(2)),
            ("/pu%6", None),
            ("/pu%", None),
            ("/~user/x", Some(3)),
            ("/%7euser/", Some(3)),
            ("/x%2Fy/z", Some(4)),
            ("/x%2fy/z", None),
            ("/x/y/z", None),
            ("//api/x", None),
        ];
        for (request, expected) in table {
            assert_eq!(covering(&paths, request), *expected, "{request}");
        }
    }

    #[test]
    fn decoding_is_one_pass() {
        assert_eq!(decode_unreserved("/%61%2D%2e%5F%7e%30"), "/a-._~0");
        assert_eq!(
            decode_unreserved("/%2F%3a%20%25%2561"),
            "/%2F%3a%20%25%2561"
        );
        assert_eq!(decode_unreserved("/%6"), "/%6");
        assert!(starts_with_decoded(b"/%61pi/x", b"/api/"));
        assert!(!starts_with_decoded(b"/%61pi", b"/api/"));
    }
}
