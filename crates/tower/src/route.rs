//! The compiled routes: longest path prefix lookup, and per route the decision of what a
//! request gets.

use http::header::{
    HeaderMap, HeaderName, HeaderValue, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
};

use crate::acrh::{self, AllowedHeaders};
use crate::answer::{Additions, REQUEST_PRIVATE_NETWORK};
use crate::origin::{Grant, OriginSet};
use crate::vary;

/// All routes of a policy, longest path first.
#[derive(Debug)]
pub(crate) struct RouteTable {
    pub(crate) entries: Box<[Entry]>,
}

/// One route: its path prefix and, unless it is same-origin only, what it allows.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) path: Box<str>,
    pub(crate) cors: Option<CorsRoute>,
}

impl RouteTable {
    /// The route covering `path` (longest byte prefix), or `None` when it is same-origin
    /// only (no route covers it, or the covering route has `origins = []`).
    pub(crate) fn route(&self, path: &str) -> Option<&CorsRoute> {
        self.entries
            .iter()
            .find(|e| path.as_bytes().starts_with(e.path.as_bytes()))
            .and_then(|e| e.cors.as_ref())
    }
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

/// The only value of header `name`, or `None` when it is absent or sent more than once.
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    let mut all = headers.get_all(name).into_iter();
    let first = all.next()?;
    match all.next() {
        None => Some(first),
        Some(_) => None,
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

    /// The decision on a preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`); `None` when it is refused.
    pub(crate) fn preflight(&self, headers: &HeaderMap) -> Option<PreflightGrant> {
        let (acao, echo_request_origin) = match &self.origins {
            AllowedOrigins::Any => (Some(const { HeaderValue::from_static("*") }), false),
            AllowedOrigins::Set(set) => {
                match single(headers, &ORIGIN).map(|o| set.grant(o.as_bytes())) {
                    None | Some(Grant::Refused) => return None,
                    Some(Grant::Value(value)) => (Some(value), false),
                    Some(Grant::Request) => (None, true),
                }
            }
        };
        let method_ok = single(headers, &ACCESS_CONTROL_REQUEST_METHOD)
            .is_some_and(|m| self.allows_method(m.as_bytes()));
        if !method_ok
            || !acrh::allowed(
                headers.get_all(ACCESS_CONTROL_REQUEST_HEADERS),
                &self.request_headers,
            )
        {
            return None;
        }
        let acapn = self.private_network
            && single(headers, &REQUEST_PRIVATE_NETWORK).is_some_and(|v| v.as_bytes() == b"true");
        Some(PreflightGrant {
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

    /// CORS-safelisted methods always pass; others must be listed, byte for byte (method
    /// names are case-sensitive).
    fn allows_method(&self, method: &[u8]) -> bool {
        matches!(method, b"GET" | b"HEAD" | b"POST") || self.methods.iter().any(|m| **m == *method)
    }
}
