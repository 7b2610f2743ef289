//! Bounded, linear-time checking of `Access-Control-Request-Headers` against a route's
//! allowed request headers.

use http::header::GetAll;
use http::HeaderValue;

use crate::refusal::{RefusalKind, Refused};
use crate::vary::trim_ows;

/// At most this many non-empty header names (and this many `Access-Control-Request-Headers`
/// lines) are read; a preflight asking for more is refused.
pub const MAX_ACRH_ELEMENTS: usize = 64;

/// At most this many bytes of `Access-Control-Request-Headers` (all lines together) are read;
/// a preflight sending more is refused. Browsers send at most about 1 KiB of safelisted
/// values, so real lists are far shorter.
pub const MAX_ACRH_BYTES: usize = 4096;

/// A route's `request_headers`.
#[derive(Debug)]
pub(crate) enum AllowedHeaders {
    /// `["*"]` (never with credentials): any name but `authorization`.
    Any,
    /// Lowercase names.
    List(Box<[Box<[u8]>]>),
}

impl AllowedHeaders {
    fn allows(&self, name: &[u8]) -> bool {
        match self {
            // The Fetch Standard's `*` never covers Authorization, and browsers that let it
            // (Chromium, Firefox) would otherwise grant what the policy refuses.
            AllowedHeaders::Any => !name.eq_ignore_ascii_case(b"authorization"),
            AllowedHeaders::List(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }

    /// Why the header name `name` (a token these headers do not allow) is refused.
    fn refusal<'h>(&self, name: &'h [u8]) -> Refused<'h> {
        match self {
            AllowedHeaders::Any => Refused::plain(|_| RefusalKind::AuthorizationNotCovered),
            AllowedHeaders::List(_) => {
                Refused::naming(name, |name| RefusalKind::HeaderNotAllowed { name })
            }
        }
    }
}

/// `Ok` iff every name listed in the request's `Access-Control-Request-Headers` lines is
/// allowed, else why not (the first name refused). Tolerates optional whitespace around
/// names, empty elements, any letter case and several lines; refuses names that are not
/// tokens and lists over [`MAX_ACRH_ELEMENTS`] or [`MAX_ACRH_BYTES`]. Each byte is looked at
/// a bounded number of times.
pub(crate) fn check<'h>(
    lines: GetAll<'h, HeaderValue>,
    allowed: &AllowedHeaders,
) -> Result<(), Refused<'h>> {
    let mut bytes = 0usize;
    let mut names = 0usize;
    for (index, line) in lines.into_iter().enumerate() {
        let value = line.as_bytes();
        bytes += value.len();
        if index >= MAX_ACRH_ELEMENTS || bytes > MAX_ACRH_BYTES {
            return Err(Refused::plain(|_| RefusalKind::RequestHeadersOverLimit));
        }
        for element in value.split(|&b| b == b',') {
            let name = trim_ows(element);
            if name.is_empty() {
                continue;
            }
            names += 1;
            if names > MAX_ACRH_ELEMENTS {
                return Err(Refused::plain(|_| RefusalKind::RequestHeadersOverLimit));
            }
            if !is_token(name) {
                return Err(Refused::naming(name, |name| {
                    RefusalKind::InvalidHeaderName { name }
                }));
            }
            if !allowed.allows(name) {
                return Err(allowed.refusal(name));
            }
        }
    }
    Ok(())
}

/// RFC 9110 `token`: one or more `tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}
