//! Request construction (R6–R14): what script asks for, and the request the browser builds
//! from it (normalized method, forbidden headers dropped, body-derived Content-Type, mode guards).

use crate::error::RuleId;
use url::Url;

use crate::error::{ErrorKind, Reason};
use crate::grammar::{cmp_lowercase, eq_ignore_case, is_http_whitespace, is_token, trim};
use crate::headers::{
    deviation_candidate, is_forbidden_request_header, safelisted_request_header,
    standard_safelisted, UnsafeNames,
};
use crate::method;
use crate::origin::Origin;
use crate::profile::Profile;

/// A request's credentials mode (R10, R23).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialsMode {
    /// `omit`
    Omit,
    /// `same-origin` (the default for `fetch()` and XHR without `withCredentials`).
    SameOrigin,
    /// `include`
    Include,
}

/// A request's mode (R9, R21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestMode {
    /// `cors` (the default for `fetch()` and XHR).
    Cors,
    /// `no-cors`
    NoCors,
    /// `same-origin`
    SameOrigin,
}

/// A request's redirect mode (R62).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RedirectMode {
    /// `follow` (the default).
    Follow,
    /// `error`
    Error,
    /// `manual`
    Manual,
}

/// The kind of body script passed (R11, R13).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Body {
    /// A string: `text/plain;charset=UTF-8`.
    Text,
    /// `URLSearchParams`: `application/x-www-form-urlencoded;charset=UTF-8`.
    UrlSearchParams,
    /// `FormData`: `multipart/form-data; boundary=...`.
    FormData,
    /// A `Blob` with this type (empty: no Content-Type).
    Blob(String),
    /// A `ReadableStream` (sets use-CORS-preflight, R13).
    Stream,
}

impl Body {
    /// The Content-Type that extracting the body produces (R11), if any.
    pub fn content_type(&self) -> Option<&str> {
        match self {
            Body::Text => Some("text/plain;charset=UTF-8"),
            Body::UrlSearchParams => Some("application/x-www-form-urlencoded;charset=UTF-8"),
            Body::FormData => Some("multipart/form-data; boundary=----corsproofboundary"),
            Body::Blob(t) if !t.is_empty() => Some(t),
            Body::Blob(_) | Body::Stream => None,
        }
    }
}

/// What script passed to `fetch()` / XHR, before the browser builds the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInit {
    /// The URL, parsed.
    pub url: Url,
    /// The requesting document's origin.
    pub origin: Origin,
    /// The method as script wrote it.
    pub method: String,
    /// Headers as script set them, in order, as bytes (isomorphic encoding of JS strings).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Credentials mode.
    pub credentials: CredentialsMode,
    /// Mode.
    pub mode: RequestMode,
    /// Redirect mode.
    pub redirect: RedirectMode,
    /// Body, if any.
    pub body: Option<Body>,
    /// XHR upload listeners registered before `send()` (R13).
    pub use_cors_preflight: bool,
    /// The target is in a more private address space than the initiator (R67).
    pub target_more_private: bool,
}

impl RequestInit {
    /// A `fetch(url)` from `origin` with every option at its default.
    ///
    /// ```
    /// use corsproof_oracle::{Origin, RequestInit, CredentialsMode};
    /// let init = RequestInit::new(
    ///     url::Url::parse("https://api.test/x").unwrap(),
    ///     Origin::parse_serialized("https://app.test").unwrap(),
    /// );
    /// assert_eq!(init.method, "GET");
    /// assert_eq!(init.credentials, CredentialsMode::SameOrigin);
    /// ```
    pub fn new(url: Url, origin: Origin) -> RequestInit {
        RequestInit {
            url,
            origin,
            method: "GET".to_string(),
            headers: Vec::new(),
            credentials: CredentialsMode::SameOrigin,
            mode: RequestMode::Cors,
            redirect: RedirectMode::Follow,
            body: None,
            use_cors_preflight: false,
            target_more_private: false,
        }
    }
}

/// A request as the browser built it: the input to the fetch algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The URL.
    pub url: Url,
    /// The requesting document's origin.
    pub origin: Origin,
    /// The URL's origin.
    pub url_origin: Origin,
    /// The normalized method (R6).
    pub method: String,
    /// The header list after the Headers guard (R7, R9) and the body's Content-Type (R11);
    /// read it with [`Request::headers`].
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The indices of `headers` in byte-lowercase name order, each with its standard
    /// CORS-safelisted verdict (R16): what every fetch of the request needs for its
    /// CORS-unsafe request-header names (R18), computed once. `headers` is private so that
    /// the two cannot disagree.
    classified: Vec<(usize, bool)>,
    /// Whether a name occurs twice (case aside): D16 then judges combined values.
    duplicate_names: bool,
    /// Whether the CORS-unsafe request-header names (R18) are the same under every profile:
    /// no name twice (D16, D21), no header only a browser safelists (D2, D3), and at most
    /// 1024 bytes of safelisted values (D22). They are then the headers the standard does
    /// not safelist, in `classified` order, with no deviation.
    profile_neutral: bool,
    /// When `profile_neutral`, the indices of `headers` the standard does not safelist, in
    /// `classified` order: the CORS-unsafe request-header names (R18) by position.
    neutral_unsafe: Vec<usize>,
    /// Whether the header list has `Authorization` (R41), found once.
    has_authorization: bool,
    /// Script-set headers the guard dropped silently (R7, R9), for explanations.
    pub dropped_headers: Vec<Vec<u8>>,
    /// Credentials mode.
    pub credentials: CredentialsMode,
    /// Mode.
    pub mode: RequestMode,
    /// Redirect mode.
    pub redirect: RedirectMode,
    /// Body, if any.
    pub body: Option<Body>,
    /// The use-CORS-preflight flag (R13).
    pub use_cors_preflight: bool,
    /// Made with XHR (a case with upload listeners), not `fetch()` (D17 differs).
    pub xhr: bool,
    /// The target is in a more private address space (R67).
    pub target_more_private: bool,
}

impl Request {
    /// Builds the request as `new Request(url, init)` would (R6–R14): `Err` is the
    /// exception script sees (nothing is sent).
    ///
    /// ```
    /// use corsproof_oracle::{Origin, Profile, Request, RequestInit, ErrorKind};
    /// let mut init = RequestInit::new(
    ///     url::Url::parse("https://api.test/x").unwrap(),
    ///     Origin::parse_serialized("https://app.test").unwrap(),
    /// );
    /// init.method = "put".into();
    /// init.headers.push((b"Cookie".to_vec(), b"a=b".to_vec()));
    /// let req = Request::construct(init.clone(), &Profile::fetch()).unwrap();
    /// assert_eq!(req.method, "PUT");
    /// assert!(req.headers().is_empty()); // Cookie is forbidden: dropped silently (R7)
    /// init.method = "TRACE".into();
    /// assert_eq!(Request::construct(init, &Profile::fetch()).unwrap_err().error, Some(ErrorKind::ForbiddenMethod));
    /// ```
    pub fn construct(init: RequestInit, profile: &Profile) -> Result<Request, Reason> {
        // R14: a URL with credentials throws.
        if !init.url.username().is_empty() || init.url.password().is_some() {
            return Err(Reason::fail(ErrorKind::UrlCredentials, RuleId::R14));
        }
        // R6: the method must be a token and not forbidden; then it is normalized.
        if !is_token(init.method.as_bytes()) {
            return Err(Reason::fail(ErrorKind::InvalidMethod, RuleId::R6));
        }
        if method::is_forbidden(init.method.as_bytes()) {
            return Err(Reason::fail(ErrorKind::ForbiddenMethod, RuleId::R6));
        }
        let method = method::normalize(&init.method).into_owned();
        // R9: no-cors allows only GET, HEAD, POST, redirect mode follow, and no stream body.
        if init.mode == RequestMode::NoCors {
            if !method::is_cors_safelisted(method.as_bytes()) {
                return Err(Reason::fail(ErrorKind::NoCorsMethod, RuleId::R9));
            }
            if init.body == Some(Body::Stream) {
                return Err(Reason::fail(ErrorKind::NoCorsRequest, RuleId::R13));
            }
        }
        // R13 (XHR): `send()` drops the body of a GET or HEAD request, and the upload
        // listener flag is set only when the body is not null (xhr.spec `send()` steps 4 and
        // 11.2, the upload complete flag); `use_cors_preflight` in a case stands for XHR
        // upload listeners. Found by the browser differential: an XHR with upload listeners
        // and no body is not preflighted (Chromium and Firefox).
        let mut init = init;
        if init.use_cors_preflight
            && (method == "GET" || method == "HEAD")
            && init.body != Some(Body::Stream)
        {
            init.body = None;
        }
        // D23: Firefox sets the flag for upload listeners whatever the body.
        let xhr_upload_listener =
            init.use_cors_preflight && (init.body.is_some() || !profile.upload_listeners_need_body);
        // R11: a body with GET or HEAD throws.
        if init.body.is_some() && (method == "GET" || method == "HEAD") {
            return Err(Reason::fail(ErrorKind::BodyWithGetOrHead, RuleId::R11));
        }
        // R8: validate and normalize each header, then append through the guard.
        let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(init.headers.len() + 1);
        let mut dropped = Vec::new();
        let no_cors = init.mode == RequestMode::NoCors;
        for (name, value) in &init.headers {
            let value = trim(value, is_http_whitespace);
            if !is_token(name) || value.iter().any(|&b| matches!(b, 0 | b'\n' | b'\r')) {
                return Err(Reason::fail(ErrorKind::InvalidHeader, RuleId::R8));
            }
            if !append_guarded(&mut headers, name, value, no_cors, profile) {
                dropped.push(name.clone());
            }
        }
        // XHR (a case with upload listeners is an XHR): setRequestHeader() combines a
        // repeated name into one header, `a, b` (xhr.spec "combine"), so the request carries
        // one header per name. Found by the browser differential (Firefox lists one ACRH name
        // per fetch() header line, but one per name for XHR).
        if init.use_cors_preflight {
            let mut combined: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(headers.len());
            for (n, v) in headers {
                match combined.iter_mut().find(|(m, _)| eq_ignore_case(m, &n)) {
                    Some((_, c)) => {
                        c.extend_from_slice(b", ");
                        c.extend_from_slice(&v);
                    }
                    None => combined.push((n, v)),
                }
            }
            headers = combined;
        }
        // R11: the body's Content-Type, if script set none.
        if let Some(ct) = init.body.as_ref().and_then(Body::content_type) {
            if !headers
                .iter()
                .any(|(n, _)| eq_ignore_case(n, b"content-type"))
            {
                let _ = append_guarded(
                    &mut headers,
                    b"Content-Type",
                    ct.as_bytes(),
                    no_cors,
                    profile,
                );
            }
        }
        let use_cors_preflight = xhr_upload_listener || init.body == Some(Body::Stream);
        let mut classified: Vec<(usize, bool)> = headers
            .iter()
            .enumerate()
            .map(|(i, (name, value))| (i, standard_safelisted(name, value)))
            .collect();
        // A stable sort: among names equal but for case, the first written comes first.
        classified.sort_by(|a, b| cmp_lowercase(&headers[a.0].0, &headers[b.0].0));
        let duplicate_names = classified
            .windows(2)
            .any(|w| eq_ignore_case(&headers[w[0].0].0, &headers[w[1].0].0));
        let safelisted_value_bytes: usize = classified
            .iter()
            .filter(|&&(_, standard)| standard)
            .filter_map(|&(i, _)| headers.get(i))
            .map(|(_, v)| v.len())
            .sum();
        let profile_neutral = !duplicate_names
            && safelisted_value_bytes <= 1024
            && !classified.iter().any(|&(i, standard)| {
                !standard
                    && headers
                        .get(i)
                        .is_some_and(|(n, v)| deviation_candidate(n, v))
            });
        let neutral_unsafe = if profile_neutral {
            classified
                .iter()
                .filter(|&&(_, standard)| !standard)
                .map(|&(i, _)| i)
                .collect()
        } else {
            Vec::new()
        };
        let has_authorization = headers
            .iter()
            .any(|(n, _)| eq_ignore_case(n, b"authorization"));
        Ok(Request {
            url_origin: Origin::of_url(&init.url),
            url: init.url,
            origin: init.origin,
            method,
            headers,
            classified,
            duplicate_names,
            profile_neutral,
            neutral_unsafe,
            has_authorization,
            dropped_headers: dropped,
            credentials: init.credentials,
            mode: init.mode,
            redirect: init.redirect,
            body: init.body,
            use_cors_preflight,
            xhr: init.use_cors_preflight,
            target_more_private: init.target_more_private,
        })
    }
}

impl Request {
    /// The header list after the Headers guard (R7, R9) and the body's Content-Type (R11),
    /// in order.
    ///
    /// ```
    /// use corsproof_oracle::{Origin, Profile, Request, RequestInit};
    /// let mut init = RequestInit::new(
    ///     url::Url::parse("https://api.test/x").unwrap(),
    ///     Origin::parse_serialized("https://app.test").unwrap(),
    /// );
    /// init.headers.push((b"X-Test".to_vec(), b" 1 ".to_vec()));
    /// let req = Request::construct(init, &Profile::fetch()).unwrap();
    /// assert_eq!(req.headers(), [(b"X-Test".to_vec(), b"1".to_vec())]);
    /// ```
    pub fn headers(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.headers
    }

    /// The CORS-unsafe request-header names of the whole header list under `profile` (R18):
    /// the same as [`UnsafeNames::of`] on [`Request::headers`], from the classification made
    /// at construction.
    ///
    /// ```
    /// use corsproof_oracle::{Origin, Profile, Request, RequestInit};
    /// let mut init = RequestInit::new(
    ///     url::Url::parse("https://api.test/x").unwrap(),
    ///     Origin::parse_serialized("https://app.test").unwrap(),
    /// );
    /// init.headers.push((b"X-B".to_vec(), b"1".to_vec()));
    /// init.headers.push((b"Content-Type".to_vec(), b"text/plain".to_vec()));
    /// init.headers.push((b"x-a".to_vec(), b"1".to_vec()));
    /// let req = Request::construct(init, &Profile::fetch()).unwrap();
    /// assert_eq!(req.unsafe_names(&Profile::fetch()).joined(), "x-a,x-b");
    /// ```
    pub fn unsafe_names(&self, profile: &Profile) -> UnsafeNames<'_> {
        if self.profile_neutral {
            let mut out = UnsafeNames::default();
            self.unsafe_names_into(profile, &mut out);
            return out;
        }
        if self.duplicate_names && profile.combined_request_header_values {
            // D16 judges the combined value of a repeated name: the general path.
            return UnsafeNames::of(&self.headers, profile);
        }
        UnsafeNames::of_sorted(
            self.classified.iter().filter_map(|&(i, standard)| {
                let (name, value) = self.headers.get(i)?;
                Some((name.as_slice(), value.as_slice(), standard))
            }),
            profile,
        )
    }
}

impl<'a> Request {
    /// Whether the header list has `Authorization` (R41).
    pub(crate) fn has_authorization(&self) -> bool {
        self.has_authorization
    }

    /// [`Request::unsafe_names`] written into `out`, in place: a fetch keeps one
    /// [`UnsafeNames`] and refills it at each hop.
    pub(crate) fn unsafe_names_into(&'a self, profile: &Profile, out: &mut UnsafeNames<'a>) {
        if self.profile_neutral {
            out.set_indexed(&self.headers, &self.neutral_unsafe);
        } else {
            *out = self.unsafe_names(profile);
        }
    }
}

/// Headers "append" with guard `request` or `request-no-cors` (R7, R9). Returns whether the
/// header was kept.
fn append_guarded(
    headers: &mut Vec<(Vec<u8>, Vec<u8>)>,
    name: &[u8],
    value: &[u8],
    no_cors: bool,
    profile: &Profile,
) -> bool {
    // Guard "request": forbidden request headers are ignored (R7).
    if is_forbidden_request_header(name, value) {
        return false;
    }
    if no_cors {
        // Guard "request-no-cors" (R9): only no-CORS-safelisted names, judged on the
        // combined value the header would have after this append.
        let allowed = [
            &b"accept"[..],
            b"accept-language",
            b"content-language",
            b"content-type",
        ];
        if !allowed.iter().any(|n| eq_ignore_case(n, name)) {
            return false;
        }
        let mut combined: Vec<u8> = Vec::new();
        let existing = headers.iter().filter(|(n, _)| eq_ignore_case(n, name));
        for (_, v) in existing {
            combined.extend_from_slice(v);
            combined.extend_from_slice(b", ");
        }
        combined.extend_from_slice(value);
        if !safelisted_request_header(name, &combined, profile).is_safelisted() {
            return false;
        }
    }
    // "append": the name takes the case of the first header of that name already present.
    let name = headers
        .iter()
        .find(|(n, _)| eq_ignore_case(n, name))
        .map_or_else(|| name.to_vec(), |(n, _)| n.clone());
    headers.push((name, value.to_vec()));
    true
}
