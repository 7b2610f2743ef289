//! What script sees of a response (R51–R54): the filtered response by tainting, and the
//! CORS-exposed header names.

use smallvec::SmallVec;

use crate::grammar::{eq_bytes, eq_ignore_case};
use crate::headers::{is_always_safelisted_response_header, is_forbidden_response_header};
use crate::request::CredentialsMode;
use crate::response::{Cors, Response};

/// The response tainting / filtered-response type (R51).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    /// Same-origin: every header but `Set-Cookie`/`Set-Cookie2`.
    Basic,
    /// CORS: safelisted and exposed headers.
    Cors,
    /// no-cors: nothing.
    Opaque,
    /// A manual redirect: nothing.
    OpaqueRedirect,
    /// A network error (or an exception).
    Error,
}

impl ResponseType {
    /// The word used in `explain` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseType::Basic => "basic",
            ResponseType::Cors => "cors",
            ResponseType::Opaque => "opaque",
            ResponseType::OpaqueRedirect => "opaqueredirect",
            ResponseType::Error => "error",
        }
    }
}

/// The CORS-exposed header-name list of a CORS response (R53), borrowed from the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExposedList<'a> {
    /// No ACEH, or one with an invalid element: nothing beyond the safelist.
    None,
    /// ACEH `*` without credentials: every header name of the response.
    All,
    /// The elements of a valid ACEH (every field line), to look names up in.
    Names(SmallVec<[&'a [u8]; 8]>),
}

impl<'a> ExposedList<'a> {
    /// Extracts ACEH as a `#field-name` list (R53): any element that is not a token makes
    /// the whole list fail; `*` without credentials means all.
    ///
    /// ```
    /// use corsproof_oracle::{expose::ExposedList, CredentialsMode, Response};
    /// let r = Response::new(200, [("Access-Control-Expose-Headers", ",bb-8"), ("bb-8", "x")]);
    /// assert!(ExposedList::of(&r, CredentialsMode::Omit).allows(b"BB-8"));
    /// let r = Response::new(200, [("Access-Control-Expose-Headers", "no no")]);
    /// assert_eq!(ExposedList::of(&r, CredentialsMode::Omit), ExposedList::None);
    /// ```
    pub fn of(response: &'a Response, credentials: CredentialsMode) -> ExposedList<'a> {
        // The response split ACEH and checked its elements once, at construction.
        if !response.cors_list_is_tokens(Cors::ExposeHeaders) {
            return ExposedList::None;
        }
        let mut elements = response.cors_list(Cors::ExposeHeaders);
        if credentials != CredentialsMode::Include
            && response
                .cors_list(Cors::ExposeHeaders)
                .any(|e| eq_bytes(e, b"*"))
        {
            return ExposedList::All;
        }
        let Some(first) = elements.next() else {
            return ExposedList::None;
        };
        // Built where it is returned, not moved there.
        let mut list = ExposedList::Names(SmallVec::new());
        if let ExposedList::Names(names) = &mut list {
            names.push(first);
            for element in elements {
                names.push(element);
            }
        }
        list
    }

    /// Whether `name` is in the list (byte-case-insensitive, R54).
    pub fn allows(&self, name: &[u8]) -> bool {
        match self {
            ExposedList::None => false,
            ExposedList::All => true,
            ExposedList::Names(names) => names.iter().any(|e| eq_ignore_case(e, name)),
        }
    }
}

/// Whether script can see a header named `name` of a response of type `ty` (R51, R52).
///
/// ```
/// use corsproof_oracle::expose::{is_visible, ExposedList, ResponseType};
/// assert!(is_visible(b"Content-Type", ResponseType::Cors, &ExposedList::None));
/// assert!(!is_visible(b"Set-Cookie", ResponseType::Cors, &ExposedList::All));
/// assert!(!is_visible(b"Date", ResponseType::Cors, &ExposedList::None));
/// assert!(is_visible(b"Date", ResponseType::Basic, &ExposedList::None));
/// ```
pub fn is_visible(name: &[u8], ty: ResponseType, exposed: &ExposedList<'_>) -> bool {
    match ty {
        ResponseType::Basic => !is_forbidden_response_header(name),
        ResponseType::Cors => {
            is_always_safelisted_response_header(name)
                || (exposed.allows(name) && !is_forbidden_response_header(name))
        }
        ResponseType::Opaque | ResponseType::OpaqueRedirect | ResponseType::Error => false,
    }
}
