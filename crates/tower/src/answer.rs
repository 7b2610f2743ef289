//! The CORS headers one response gets, decided from the request before the response exists.

use http::header::{
    HeaderMap, HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_CREDENTIALS,
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
};

use crate::vary;

/// `Access-Control-Allow-Private-Network` (not in `http`'s constants).
pub(crate) const ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");
/// `Access-Control-Request-Private-Network`.
pub(crate) const REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");

/// Headers to add; every value is precomputed (or the request's own `Origin`), so applying
/// them only moves values into the map.
#[derive(Debug, Default)]
pub(crate) struct Additions {
    /// `Access-Control-Allow-Origin`.
    pub(crate) acao: Option<HeaderValue>,
    /// `Access-Control-Allow-Credentials: true`.
    pub(crate) acac: bool,
    /// `Access-Control-Allow-Methods`.
    pub(crate) acam: Option<HeaderValue>,
    /// `Access-Control-Allow-Headers`.
    pub(crate) acah: Option<HeaderValue>,
    /// `Access-Control-Max-Age`.
    pub(crate) acma: Option<HeaderValue>,
    /// `Access-Control-Expose-Headers`.
    pub(crate) aceh: Option<HeaderValue>,
    /// `Access-Control-Allow-Private-Network: true`.
    pub(crate) acapn: bool,
    /// `Vary` tokens (bits of [`crate::vary`]).
    pub(crate) vary: u8,
}

impl Additions {
    /// Only `Vary`: what refused origins, requests without `Origin` and refused preflights get.
    pub(crate) fn vary_only(vary: u8) -> Additions {
        Additions {
            vary,
            ..Additions::default()
        }
    }

    /// Writes the headers into `headers`, replacing values of the same names (so there is
    /// never a second `Access-Control-Allow-Origin`) and merging `Vary`.
    pub(crate) fn apply(self, headers: &mut HeaderMap) {
        // `try_insert` only fails on a map at its maximum size (32768 entries); dropping a
        // header is then the only way not to panic.
        if let Some(v) = self.acao {
            let _ = headers.try_insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        if self.acac {
            let _ = headers.try_insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                const { HeaderValue::from_static("true") },
            );
        }
        if let Some(v) = self.acam {
            let _ = headers.try_insert(ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        if let Some(v) = self.acah {
            let _ = headers.try_insert(ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        if let Some(v) = self.acma {
            let _ = headers.try_insert(ACCESS_CONTROL_MAX_AGE, v);
        }
        if let Some(v) = self.aceh {
            let _ = headers.try_insert(ACCESS_CONTROL_EXPOSE_HEADERS, v);
        }
        if self.acapn {
            let _ = headers.try_insert(
                ALLOW_PRIVATE_NETWORK,
                const { HeaderValue::from_static("true") },
            );
        }
        vary::merge(headers, self.vary);
    }
}
