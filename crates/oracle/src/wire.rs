//! The request on the wire (W1–W12): for the current state of a [`Fetch`] and a profile, the
//! HTTP/1.1 request a browser writes, line by line: method, request target, and the header
//! lines in the browser's order, as bytes.
//!
//! The lines come from three places, each cited step by step below:
//! - the Fetch Standard: the author's header list with one line per name (W2), `Accept` and
//!   `Accept-Language` (W3), `Content-Length` (W4), `Referer` (W5), `Origin` (R24–R27), the
//!   Fetch metadata headers (W6, W7), `User-Agent` (W8), `Accept-Encoding: identity` with a
//!   `Range` (W9), `Cookie` (W10) and, for a preflight, `Accept` with the
//!   `Access-Control-Request-*` headers (R29, W11);
//! - HTTP/1.1: `Host`, written first (W1);
//! - the browser: which other lines it adds and where every line goes, as data in
//!   [`Profile::wire`] ([`WireRules`]): `Connection`, Chromium's `sec-ch-ua*` client hints,
//!   Firefox's `Priority`, `Sec-Fetch-Storage-Access` (W12), the default values, and the
//!   order, which differs between preflights, `fetch()` and XHR, and after a redirect.
//!
//! The `fetch` profile writes what the standard itself appends, in its append order, with
//! `Host` first and no `Connection` (HTTP/1.1 is persistent by default); the values the
//! standard leaves to the user agent (`User-Agent`, `Accept-Language`) are fixed strings.
//!
//! `Host` is included: a browser writes it, first, and a client that sends these lines as
//! they are needs no header of its own. The value is the URL's host with `:port` when the
//! port is not the scheme's default (RFC 9112 section 3.2).
//!
//! Deliberately not modeled (also in spec/SPEC.md, section 2.15):
//! - anything below HTTP/1.1 framing: TLS (SNI, ALPN), HTTP/2 and HTTP/3 (pseudo-headers,
//!   HPACK/QPACK, priority frames; a `ReadableStream` body needs HTTP/2, so it is refused
//!   with [`WireError::StreamBody`]);
//! - the order of Chromium's renderer-side header map (the author's headers, `User-Agent`,
//!   the client hints and the default `Accept`): a hash table's iteration order, which
//!   depends on the set of names; the lines are written in a fixed order and
//!   [`WireRequest::unordered`] marks them ([`WireRules::unordered`]);
//! - the values of volatile lines: browser versions in `User-Agent` and `sec-ch-ua`, the
//!   platform, the `Accept-Language` locale, a `FormData` body's multipart boundary (the
//!   profile's values are those of the measured builds; [`Line::is_volatile`]);
//! - cookies: the caller says which cookie the browser holds for the URL ([`WireInput`]);
//!   cookies the page never set, cookie attributes (SameSite, partitioning) are not
//!   computed; `Sec-Fetch-Storage-Access` is only ever `none` (no storage access granted);
//! - headers of other features: `Sec-Fetch-User` and `Upgrade-Insecure-Requests`
//!   (navigations), `Cache-Control`/`Pragma`/conditional headers of cache modes and HTTP
//!   cache revalidation, `Authorization` from URL credentials or an authentication cache,
//!   proxies, `Sec-Purpose` (prefetch), `DNT`/`Sec-GPC` (off by default), Private Network
//!   Access's position (R67: written after `Access-Control-Request-Headers`, unmeasured);
//! - the site of two domains is judged on their last two labels, not with the public suffix
//!   list (`a.co.uk` and `b.co.uk` count as same-site).

use url::Url;

use crate::fetch::{Fetch, Next, OriginHeader};
use crate::grammar::eq_ignore_case;
use crate::origin::Origin as Org;
use crate::profile::Profile;
use crate::request::{Body, RequestMode};
use crate::RuleId;

/// Where a header line comes from, and so where a profile puts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Line {
    /// `Host` (W1).
    Host,
    /// `Connection` ([`WireRules::connection`]).
    Connection,
    /// `Content-Length` of a request with a body (W4).
    ContentLength,
    /// `Content-Length: 0` of a POST or PUT without a body (W4).
    EmptyContentLength,
    /// `User-Agent` (W8).
    UserAgent,
    /// The profile's client hints ([`WireRules::client_hints`]), in order.
    ClientHints,
    /// `Accept` (W3): the default, or the author's where [`WireRules::author_in_place`].
    Accept,
    /// `Accept-Language` (W3): the default, or the author's where
    /// [`WireRules::author_in_place`].
    AcceptLanguage,
    /// `Accept-Encoding` (W9).
    AcceptEncoding,
    /// The author's header list, one line per name (W2), the body's `Content-Type` included.
    Author,
    /// `Referer` (W5).
    Referer,
    /// `Origin` (R24–R27).
    Origin,
    /// `Origin` when the request did not carry it at its first URL, or after a redirect that
    /// changed the method (R58): Chromium writes it after the Fetch metadata headers then.
    /// In a profile without this line, such an `Origin` is written at [`Line::Origin`].
    LateOrigin,
    /// `Origin` of a CORS request (response tainting `cors`) only: Firefox writes it here
    /// after a redirect.
    CorsOrigin,
    /// `Origin` of any other request (same-origin or no-cors): Firefox writes it here after
    /// a redirect.
    NonCorsOrigin,
    /// The author's `Content-Type` of a request with a body, written apart from the other
    /// author lines (Firefox after a redirect, where the body is attached again).
    BodyContentType,
    /// An author `Range` of a GET request holding one byte range, normalized
    /// (`bytes=FIRST-LAST`), when [`WireRules::get_range_normalized`]: Chromium's HTTP cache
    /// takes it out of the header list and writes it back last.
    GetRange,
    /// `Sec-Fetch-Dest` (W6).
    SecFetchDest,
    /// `Sec-Fetch-Mode` (W6).
    SecFetchMode,
    /// `Sec-Fetch-Site` (W7).
    SecFetchSite,
    /// `Sec-Fetch-Storage-Access: none` (W12).
    SecFetchStorageAccess,
    /// `Priority` ([`WireRules::priority_fetch`] and the others).
    Priority,
    /// `Cookie` (W10).
    Cookie,
    /// `Access-Control-Request-Method` (R29).
    RequestMethod,
    /// `Access-Control-Request-Headers` (R29).
    RequestHeaders,
    /// `Access-Control-Request-Private-Network: true` (R67).
    RequestPrivateNetwork,
}

impl Line {
    /// Whether the line's value differs between builds, platforms or locales, or is drawn at
    /// random: `User-Agent`, the client hints, a default `Accept-Language`. (A `FormData`
    /// body's boundary, in an author line, is told by [`WireRequest::form_data_boundary`].)
    ///
    /// ```
    /// use corsproof_oracle::wire::Line;
    /// assert!(Line::UserAgent.is_volatile() && !Line::Origin.is_volatile());
    /// ```
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            Line::UserAgent | Line::ClientHints | Line::AcceptLanguage
        )
    }
}

/// How `Sec-Fetch-Site` is computed once a request has been redirected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteAfterRedirect {
    /// W7: the least same of the request's origin against every URL of the URL list.
    Standard,
    /// D30 (Firefox): `same-origin` when every URL is same origin with the request's
    /// origin, else `cross-site`.
    CrossSiteUnlessSameOrigin,
}

/// A profile's wire data: which lines it writes, their order and their default values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRules {
    /// The order of a preflight's lines.
    pub preflight: &'static [Line],
    /// The order of a `fetch()` request's lines at its first URL.
    pub fetch: &'static [Line],
    /// ... after a redirect.
    pub fetch_redirected: &'static [Line],
    /// The order of an XHR request's lines at its first URL.
    pub xhr: &'static [Line],
    /// ... after a redirect.
    pub xhr_redirected: &'static [Line],
    /// Lines the browser writes in an order this model does not fix (consecutive in every
    /// order above): Chromium's renderer-side header map.
    pub unordered: &'static [Line],
    /// `Connection` value, if written.
    pub connection: Option<&'static str>,
    /// `User-Agent` value (volatile).
    pub user_agent: &'static str,
    /// Client hints written on actual requests to potentially trustworthy URLs (volatile).
    pub client_hints: &'static [(&'static str, &'static str)],
    /// The default `Accept-Language` (volatile: the locale).
    pub accept_language: &'static str,
    /// `Accept-Language` on a preflight.
    pub preflight_accept_language: bool,
    /// `Accept-Encoding` to a potentially trustworthy URL, if written.
    pub accept_encoding_trustworthy: Option<&'static str>,
    /// `Accept-Encoding` to any other URL, if written.
    pub accept_encoding_other: Option<&'static str>,
    /// An author `Accept` or `Accept-Language` replaces the default at its line
    /// ([`Line::Accept`], [`Line::AcceptLanguage`]) instead of staying among the author's
    /// lines.
    pub author_in_place: bool,
    /// `Priority` of a `fetch()` request.
    pub priority_fetch: Option<&'static str>,
    /// `Priority` of an XHR request.
    pub priority_xhr: Option<&'static str>,
    /// `Priority` of a preflight.
    pub priority_preflight: Option<&'static str>,
    /// `Sec-Fetch-Storage-Access: none` on a cross-site request that includes credentials.
    pub storage_access: bool,
    /// ... also on a preflight for a request whose credentials mode is `include`.
    pub storage_access_preflight: bool,
    /// ... also on an actual request after a redirect.
    pub storage_access_redirected: bool,
    /// A combined value is written without leading and trailing whitespace (W2); Firefox
    /// writes an XHR's combined value as it is (`a, ` when the last value was empty).
    pub combined_value_trimmed: bool,
    /// D29 (Firefox `fetch()`): names sent once with the last value set instead of the
    /// combined value (W2), lowercase.
    pub single_value_names: &'static [&'static str],
    /// An author `Range` of a GET request with one byte range is written at
    /// [`Line::GetRange`], normalized, instead of among the author's lines (Chromium).
    pub get_range_normalized: bool,
    /// D29 (Firefox `fetch()`): a request with a body sends the first `Content-Type` value.
    pub body_content_type_first: bool,
    /// D29 (Firefox `fetch()`): an empty value replaces what the name had, and a value set
    /// after an empty one replaces it, instead of being combined.
    pub empty_value_replaces: bool,
    /// `Sec-Fetch-Site` after a redirect (W7, D30).
    pub site_after_redirect: SiteAfterRedirect,
    /// D30 (Firefox): a preflight's `Sec-Fetch-Site` is judged on its own URL only, not on
    /// the URL list of the request it is for (W7).
    pub preflight_site_own_url: bool,
}

use Line::*;

impl WireRules {
    /// The Fetch Standard's own lines in its append order (W1–W11), `Host` first.
    pub const fn fetch() -> WireRules {
        // `fetch` appends Accept and Accept-Language after the author's list (W3);
        // HTTP-network-or-cache fetch then Content-Length, Referer, Origin, the metadata
        // headers, User-Agent, Accept-Encoding, and Cookie (W4-W10).
        const ACTUAL: &[Line] = &[
            Host,
            Author,
            Accept,
            AcceptLanguage,
            ContentLength,
            EmptyContentLength,
            Referer,
            Origin,
            SecFetchDest,
            SecFetchMode,
            SecFetchSite,
            UserAgent,
            AcceptEncoding,
            Cookie,
        ];
        // CORS-preflight fetch: Accept, ACRM, ACRH, then HTTP-network-or-cache fetch (W11).
        const PREFLIGHT: &[Line] = &[
            Host,
            Accept,
            RequestMethod,
            RequestHeaders,
            RequestPrivateNetwork,
            Referer,
            Origin,
            SecFetchDest,
            SecFetchMode,
            SecFetchSite,
            UserAgent,
        ];
        WireRules {
            preflight: PREFLIGHT,
            fetch: ACTUAL,
            fetch_redirected: ACTUAL,
            xhr: ACTUAL,
            xhr_redirected: ACTUAL,
            unordered: &[],
            connection: None,
            user_agent: "Mozilla/5.0 (corsproof; Fetch Standard)",
            client_hints: &[],
            accept_language: "en-US,en;q=0.9",
            preflight_accept_language: false,
            accept_encoding_trustworthy: None,
            accept_encoding_other: None,
            author_in_place: false,
            priority_fetch: None,
            priority_xhr: None,
            priority_preflight: None,
            storage_access: false,
            storage_access_preflight: false,
            storage_access_redirected: false,
            combined_value_trimmed: true,
            single_value_names: &[],
            body_content_type_first: false,
            get_range_normalized: false,
            empty_value_replaces: false,
            site_after_redirect: SiteAfterRedirect::Standard,
            preflight_site_own_url: false,
        }
    }

    /// Chromium 156 as measured by the browser differential.
    pub const fn chromium() -> WireRules {
        const ACTUAL: &[Line] = &[
            Host,
            Connection,
            ContentLength,
            EmptyContentLength,
            ClientHints,
            UserAgent,
            Author,
            Accept,
            Origin,
            SecFetchSite,
            SecFetchMode,
            SecFetchDest,
            LateOrigin,
            SecFetchStorageAccess,
            Referer,
            AcceptEncoding,
            AcceptLanguage,
            Cookie,
            GetRange,
        ];
        const PREFLIGHT: &[Line] = &[
            Host,
            Connection,
            Accept,
            RequestMethod,
            RequestHeaders,
            RequestPrivateNetwork,
            Origin,
            UserAgent,
            SecFetchMode,
            SecFetchSite,
            SecFetchDest,
            Referer,
            AcceptEncoding,
            AcceptLanguage,
        ];
        WireRules {
            preflight: PREFLIGHT,
            fetch: ACTUAL,
            fetch_redirected: ACTUAL,
            xhr: ACTUAL,
            xhr_redirected: ACTUAL,
            unordered: &[ClientHints, UserAgent, Author, Accept],
            connection: Some("keep-alive"),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36",
            client_hints: &[
                ("sec-ch-ua", "\"Not:A-Brand\";v=\"8\", \"Chromium\";v=\"156\""),
                ("sec-ch-ua-mobile", "?0"),
                ("sec-ch-ua-platform", "\"Linux\""),
            ],
            accept_language: "en-US,en;q=0.9",
            preflight_accept_language: true,
            accept_encoding_trustworthy: Some("gzip, deflate, br, zstd"),
            accept_encoding_other: Some("gzip, deflate"),
            author_in_place: false,
            priority_fetch: None,
            priority_xhr: None,
            priority_preflight: None,
            storage_access: true,
            storage_access_preflight: false,
            storage_access_redirected: true,
            combined_value_trimmed: true,
            single_value_names: &[],
            body_content_type_first: false,
            get_range_normalized: true,
            empty_value_replaces: false,
            site_after_redirect: SiteAfterRedirect::Standard,
            preflight_site_own_url: true,
        }
    }

    /// Firefox 153 ESR as measured by the browser differential.
    pub const fn firefox() -> WireRules {
        const FETCH: &[Line] = &[
            Host,
            UserAgent,
            Accept,
            AcceptLanguage,
            AcceptEncoding,
            Referer,
            Author,
            ContentLength,
            Origin,
            SecFetchStorageAccess,
            Connection,
            Cookie,
            SecFetchDest,
            SecFetchMode,
            SecFetchSite,
            Priority,
            EmptyContentLength,
        ];
        // After a redirect the body (with its Content-Type and Content-Length) is attached
        // first, then a CORS request's Origin, the other author lines, the Referer and a
        // non-CORS request's Origin.
        const REDIRECTED: &[Line] = &[
            Host,
            UserAgent,
            Accept,
            AcceptLanguage,
            AcceptEncoding,
            BodyContentType,
            ContentLength,
            CorsOrigin,
            Author,
            Referer,
            NonCorsOrigin,
            SecFetchStorageAccess,
            Connection,
            Cookie,
            SecFetchDest,
            SecFetchMode,
            SecFetchSite,
            Priority,
            EmptyContentLength,
        ];
        const XHR: &[Line] = &[
            Host,
            UserAgent,
            Accept,
            AcceptLanguage,
            AcceptEncoding,
            Author,
            ContentLength,
            Origin,
            SecFetchStorageAccess,
            Connection,
            Referer,
            Cookie,
            SecFetchDest,
            SecFetchMode,
            SecFetchSite,
            Priority,
            EmptyContentLength,
        ];
        const PREFLIGHT: &[Line] = &[
            Host,
            UserAgent,
            Accept,
            AcceptLanguage,
            AcceptEncoding,
            RequestMethod,
            RequestHeaders,
            RequestPrivateNetwork,
            Referer,
            Origin,
            SecFetchStorageAccess,
            Connection,
            SecFetchDest,
            SecFetchMode,
            SecFetchSite,
            Priority,
        ];
        WireRules {
            preflight: PREFLIGHT,
            fetch: FETCH,
            fetch_redirected: REDIRECTED,
            xhr: XHR,
            xhr_redirected: REDIRECTED,
            unordered: &[],
            connection: Some("keep-alive"),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0",
            client_hints: &[],
            accept_language: "en-US,en;q=0.9",
            preflight_accept_language: true,
            accept_encoding_trustworthy: Some("gzip, deflate, br, zstd"),
            accept_encoding_other: Some("gzip, deflate"),
            author_in_place: true,
            priority_fetch: Some("u=4"),
            priority_xhr: None,
            priority_preflight: Some("u=4"),
            storage_access: true,
            storage_access_preflight: true,
            storage_access_redirected: false,
            combined_value_trimmed: false,
            single_value_names: &["authorization", "content-type"],
            body_content_type_first: true,
            get_range_normalized: false,
            empty_value_replaces: true,
            site_after_redirect: SiteAfterRedirect::CrossSiteUnlessSameOrigin,
            preflight_site_own_url: true,
        }
    }
}

/// What the caller knows that the fetch does not.
#[derive(Debug, Clone, Copy, Default)]
pub struct WireInput<'a> {
    /// The `Cookie` value the browser holds for the current URL (`None`: no cookie). Sent
    /// only when the request includes credentials (W10).
    pub cookie: Option<&'a [u8]>,
    /// The body's bytes; `None`: [`canonical_body`] of the request's body kind.
    pub body: Option<&'a [u8]>,
    /// The requesting document's URL (the referrer, W5); `None`: the request origin's
    /// serialization followed by `/`.
    pub document_url: Option<&'a Url>,
}

/// Why no request can be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// [`Fetch::start`] has not been called, or the fetch is over.
    #[error("the fetch is not waiting for an answer: nothing to send")]
    NothingToSend,
    /// A `ReadableStream` body: streamed uploads need HTTP/2, which this model does not
    /// write.
    #[error("a ReadableStream body is streamed over HTTP/2 only; not an HTTP/1.1 request")]
    StreamBody,
    /// The cookie holds a byte no header value may (NUL, CR, LF).
    #[error("the cookie value contains NUL, CR or LF")]
    InvalidCookie,
}

/// A request as written on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// The method, as sent (R6: normalized for the six methods only).
    pub method: String,
    /// The request target, origin-form (path and query).
    pub target: String,
    /// The header lines in order, name and value as bytes.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// Where each header line comes from (the same length as `headers`).
    pub lines: Vec<Line>,
    /// Whether this is a preflight.
    pub preflight: bool,
    /// The body's bytes (empty for none).
    pub body: Vec<u8>,
    /// Lines whose order is not modeled: indices into `headers`, a consecutive range.
    pub unordered: std::ops::Range<usize>,
    /// The rules that decided values beyond the request line, in order of use.
    pub rules: Vec<RuleId>,
}

impl WireRequest {
    /// The request head as bytes: request line, header lines, blank line (no body).
    ///
    /// ```
    /// # use corsproof_oracle::{Fetch, PreflightCache, Profile, Request, RequestInit, Origin};
    /// # let init = RequestInit::new(url::Url::parse("http://api.test/x").unwrap(),
    /// #     Origin::parse_serialized("http://app.test").unwrap());
    /// # let profile = Profile::fetch();
    /// # let request = Request::construct(init, &profile).unwrap();
    /// # let mut fetch = Fetch::new(&request, &profile);
    /// # fetch.start(&mut PreflightCache::default(), 0.0);
    /// let wire = corsproof_oracle::wire::request(&fetch, &profile, None).unwrap();
    /// assert!(wire.head().starts_with(b"GET /x HTTP/1.1\r\nHost: api.test\r\n"));
    /// assert!(wire.head().ends_with(b"\r\n\r\n"));
    /// ```
    pub fn head(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (n, v) in &self.headers {
            out.extend_from_slice(n);
            out.extend_from_slice(b": ");
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| eq_ignore_case(n, name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// Whether the body is a `FormData` multipart body, whose boundary is the browser's
    /// (random) choice: the `Content-Type` value's `boundary=` parameter and the body.
    pub fn form_data_boundary(&self) -> bool {
        self.header("content-type")
            .is_some_and(|v| v.starts_with(FORM_DATA_PREFIX.as_bytes()))
            && !self.body.is_empty()
    }
}

const FORM_DATA_PREFIX: &str = "multipart/form-data; boundary=";

/// The body bytes of a body kind when the caller gives none: a string `x`, the
/// `URLSearchParams` `a=b`, a `FormData` with the field `a` = `b` (boundary as in
/// [`Body::content_type`]), a `Blob` `x`; `None` for a stream.
///
/// ```
/// use corsproof_oracle::{wire::canonical_body, Body};
/// assert_eq!(canonical_body(&Body::UrlSearchParams).unwrap(), b"a=b");
/// assert!(canonical_body(&Body::Stream).is_none());
/// ```
pub fn canonical_body(body: &Body) -> Option<Vec<u8>> {
    match body {
        Body::Text | Body::Blob(_) => Some(b"x".to_vec()),
        Body::UrlSearchParams => Some(b"a=b".to_vec()),
        Body::FormData => {
            let boundary = Body::FormData
                .content_type()
                .and_then(|ct| ct.strip_prefix(FORM_DATA_PREFIX))
                .unwrap_or("corsproof");
            Some(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--{boundary}--\r\n"
                )
                .into_bytes(),
            )
        }
        Body::Stream => None,
    }
}

/// The request the browser writes for the state of `fetch` (after [`Fetch::start`],
/// [`Fetch::on_preflight_response`] or [`Fetch::on_response`] returned [`Next::Preflight`]
/// or [`Next::Request`]) under `profile`, with `cookie` the `Cookie` value the browser holds
/// for the current URL. The body is [`canonical_body`]; [`request_with`] takes more.
///
/// ```
/// use corsproof_oracle::{wire, Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit};
/// let mut init = RequestInit::new(
///     url::Url::parse("https://api.test/items?id=1").unwrap(),
///     Origin::parse_serialized("https://app.test").unwrap(),
/// );
/// init.method = "put".into();
/// init.headers.push((b"Authorization".to_vec(), b"Bearer corsproof".to_vec()));
/// init.headers.push((b"Authorization".to_vec(), b"1".to_vec()));
/// let profile = Profile::chromium();
/// let request = Request::construct(init, &profile).unwrap();
/// let mut fetch = Fetch::new(&request, &profile);
/// assert_eq!(fetch.start(&mut PreflightCache::default(), 0.0), Next::Preflight);
/// let preflight = wire::request(&fetch, &profile, None).unwrap();
/// assert_eq!((preflight.method.as_str(), preflight.target.as_str()), ("OPTIONS", "/items?id=1"));
/// assert_eq!(preflight.header("access-control-request-headers"), Some(&b"authorization"[..]));
/// assert_eq!(preflight.header("origin"), Some(&b"https://app.test"[..]));
/// // Once the preflight passed, the PUT: one Authorization line, values combined (W2), and
/// // Content-Length: 0 for a PUT without a body (W4).
/// # let answer = corsproof_oracle::Response::new(204, [("Access-Control-Allow-Origin", "https://app.test"),
/// #     ("Access-Control-Allow-Methods", "PUT"), ("Access-Control-Allow-Headers", "authorization")]);
/// # assert_eq!(fetch.on_preflight_response(&answer, &mut PreflightCache::default(), 0.0), Next::Request);
/// let put = wire::request(&fetch, &profile, Some(b"session=1")).unwrap();
/// assert_eq!(put.method, "PUT");
/// let auth: Vec<_> = put.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(b"authorization")).collect();
/// assert_eq!(auth, [&(b"Authorization".to_vec(), b"Bearer corsproof, 1".to_vec())]);
/// assert_eq!(put.header("content-length"), Some(&b"0"[..]));
/// assert_eq!(put.header("cookie"), None); // credentials mode same-origin, cross-origin URL
/// ```
pub fn request(
    fetch: &Fetch<'_>,
    profile: &Profile,
    cookie: Option<&[u8]>,
) -> Result<WireRequest, WireError> {
    request_with(
        fetch,
        profile,
        &WireInput {
            cookie,
            ..WireInput::default()
        },
    )
}

/// [`request`] with the body's bytes and the document's URL given too.
///
/// ```
/// use corsproof_oracle::{wire, Body, Fetch, Origin, PreflightCache, Profile, Request, RequestInit};
/// let mut init = RequestInit::new(
///     url::Url::parse("https://api.test/upload").unwrap(),
///     Origin::parse_serialized("https://app.test").unwrap(),
/// );
/// init.method = "POST".into();
/// init.body = Some(Body::Text);
/// let profile = Profile::firefox();
/// let request = Request::construct(init, &profile).unwrap();
/// let mut fetch = Fetch::new(&request, &profile);
/// fetch.start(&mut PreflightCache::default(), 0.0);
/// let doc = url::Url::parse("https://app.test/page?q").unwrap();
/// let input = wire::WireInput { body: Some(b"hello"), document_url: Some(&doc), ..Default::default() };
/// let w = wire::request_with(&fetch, &profile, &input).unwrap();
/// assert_eq!(w.header("content-type"), Some(&b"text/plain;charset=UTF-8"[..]));
/// assert_eq!(w.header("content-length"), Some(&b"5"[..]));
/// // strict-origin-when-cross-origin: the origin only, to another origin (W5).
/// assert_eq!(w.header("referer"), Some(&b"https://app.test/"[..]));
/// ```
pub fn request_with(
    fetch: &Fetch<'_>,
    profile: &Profile,
    input: &WireInput<'_>,
) -> Result<WireRequest, WireError> {
    let rules = &profile.wire;
    let preflight = match (fetch.current_hop(), fetch.awaiting()) {
        (Some(_), Next::Preflight) => true,
        (Some(_), Next::Request) => false,
        _ => return Err(WireError::NothingToSend),
    };
    let request = fetch.request();
    let url = fetch.current_url();
    let redirected = !fetch.redirect_urls().is_empty();
    let xhr = request.xhr;
    // About twenty lines at most: room for them and their kinds at once.
    let mut w = Writer {
        headers: Vec::with_capacity(24),
        lines: Vec::with_capacity(24),
        ..Writer::default()
    };

    // R58: a method-changing redirect dropped the body (the method is then GET).
    let body_kind = request
        .body
        .as_ref()
        .filter(|_| !preflight && fetch.method() == request.method);
    let body: Vec<u8> = match (body_kind, input.body) {
        (None, _) => Vec::new(),
        (Some(_), Some(bytes)) => bytes.to_vec(),
        (Some(kind), None) => canonical_body(kind).ok_or(WireError::StreamBody)?,
    };
    if body_kind == Some(&Body::Stream) {
        return Err(WireError::StreamBody);
    }
    if let Some(c) = input.cookie {
        if c.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n')) {
            return Err(WireError::InvalidCookie);
        }
    }

    // W2: the author's header list at this hop (R58, R59, D26 removed some), one line per
    // name: at the first line's position, with the first name's case, values combined.
    let author = if preflight {
        Vec::new()
    } else {
        author_lines(fetch, rules, xhr, body_kind.is_some(), &mut w.rules)
    };
    let author_has = |name: &str| {
        author
            .iter()
            .any(|(n, _)| eq_ignore_case(n, name.as_bytes()))
    };
    let trustworthy = potentially_trustworthy(url);
    // Chromium's HTTP cache: a GET's single byte range, normalized, written last.
    let get_range: Option<Vec<u8>> = if rules.get_range_normalized && fetch.method() == "GET" {
        author
            .iter()
            .find(|(n, _)| eq_ignore_case(n, b"range"))
            .and_then(|(_, v)| normalized_byte_range(v))
    } else {
        None
    };

    let order = if preflight {
        rules.preflight
    } else {
        match (xhr, redirected) {
            (false, false) => rules.fetch,
            (false, true) => rules.fetch_redirected,
            (true, false) => rules.xhr,
            (true, true) => rules.xhr_redirected,
        }
    };
    // The Origin value (R24-R27): a preflight is always made for an origin (R29, D28); an
    // actual request carries what the fetch decided for this hop.
    let origin: Option<&str> = if preflight {
        Some(fetch.preflight_serialized_origin())
    } else {
        match fetch.current_hop().map(|h| h.origin_header) {
            Some(OriginHeader::Null) => Some("null"),
            Some(OriginHeader::RequestOrigin) => Some(request.origin.serialization()),
            _ => None,
        }
    };
    let first_hop_origin = fetch
        .outcome()
        .hops
        .first()
        .is_some_and(|h| h.origin_header != OriginHeader::Absent);
    // Chromium writes Origin after the metadata headers when the request did not carry it
    // at its first URL, or when a redirect changed the method (R58) and so rewrote it.
    let origin_late = !preflight
        && order.contains(&LateOrigin)
        && (!first_hop_origin || fetch.method() != request.method);
    let site = sec_fetch_site(
        fetch,
        rules.site_after_redirect,
        rules.preflight_site_own_url,
        preflight,
    );
    // W12: judged on the sites themselves (W7 as the standard computes it).
    let really_cross_site = sec_fetch_site(fetch, SiteAfterRedirect::Standard, false, preflight)
        == FetchSite::CrossSite;
    let includes_credentials = !preflight && fetch.includes_credentials();

    for &line in order {
        if rules.unordered.contains(&line) && w.unordered_start.is_none() {
            w.unordered_start = Some(w.headers.len());
        }
        match line {
            Host => {
                // W1: Host first, the port only when not the scheme's default.
                // The URL's serialization holds the port only when it is not the default.
                let value = &url[url::Position::BeforeHost..url::Position::AfterPort];
                w.push(line, "Host", value.as_bytes(), RuleId::W1);
            }
            Connection => w.push_some(line, "Connection", rules.connection),
            ContentLength => {
                // W4: the body's length.
                if body_kind.is_some() {
                    w.push(
                        line,
                        "Content-Length",
                        body.len().to_string().as_bytes(),
                        RuleId::W4,
                    );
                }
            }
            EmptyContentLength => {
                // W4: a null body with POST or PUT: `0`.
                let method = if preflight { "OPTIONS" } else { fetch.method() };
                if body_kind.is_none() && (method == "POST" || method == "PUT") {
                    w.push(line, "Content-Length", b"0", RuleId::W4);
                }
            }
            UserAgent => {
                // W8: the default User-Agent unless the author's list has one.
                if !author_has("user-agent") {
                    w.push(line, "User-Agent", rules.user_agent.as_bytes(), RuleId::W8);
                }
            }
            ClientHints => {
                if !preflight && trustworthy {
                    for (n, v) in rules.client_hints {
                        if !author_has(n) {
                            w.push_plain(line, n, v.as_bytes());
                        }
                    }
                }
            }
            Accept => {
                // R29: a preflight's `Accept: */*`; W3: the default of every other request
                // unless the author set one (written here where the browser does so).
                if preflight {
                    w.push(line, "Accept", b"*/*", RuleId::R29);
                } else {
                    w.author_or_default(&author, "Accept", b"*/*", rules.author_in_place, line);
                }
            }
            AcceptLanguage => {
                // W3: `fetch` appends one unless the author set one; a preflight has it
                // only in the browsers (not through `fetch`).
                if preflight {
                    if rules.preflight_accept_language {
                        w.push(
                            line,
                            "Accept-Language",
                            rules.accept_language.as_bytes(),
                            RuleId::W3,
                        );
                    }
                } else {
                    w.author_or_default(
                        &author,
                        "Accept-Language",
                        rules.accept_language.as_bytes(),
                        rules.author_in_place,
                        line,
                    );
                }
            }
            AcceptEncoding => {
                // W9: `identity` when the header list has Range; else the browser's value.
                if !preflight && author_has("range") {
                    w.push(line, "Accept-Encoding", b"identity", RuleId::W9);
                } else {
                    let v = if trustworthy {
                        rules.accept_encoding_trustworthy
                    } else {
                        rules.accept_encoding_other
                    };
                    w.push_some(line, "Accept-Encoding", v);
                }
            }
            BodyContentType => {
                if body_kind.is_some() {
                    for (n, v) in author
                        .iter()
                        .filter(|(n, _)| eq_ignore_case(n, b"content-type"))
                    {
                        w.headers.push((n.clone(), v.clone()));
                        w.lines.push(line);
                    }
                }
            }
            Author => {
                let apart = body_kind.is_some() && order.contains(&BodyContentType);
                for (n, v) in &author {
                    let in_place = rules.author_in_place
                        && (eq_ignore_case(n, b"accept") || eq_ignore_case(n, b"accept-language"));
                    let content_type = apart && eq_ignore_case(n, b"content-type");
                    let range = get_range.is_some() && eq_ignore_case(n, b"range");
                    if !in_place && !content_type && !range {
                        w.headers.push((n.clone(), v.clone()));
                        w.lines.push(line);
                    }
                }
            }
            Referer => {
                if let Some(r) = referrer(input.document_url, &request.origin, url) {
                    w.push(line, "Referer", r.as_bytes(), RuleId::W5);
                }
            }
            Origin => {
                if let Some(o) = origin.filter(|_| !origin_late) {
                    w.push(line, "Origin", o.as_bytes(), RuleId::R24);
                }
            }
            GetRange => {
                if let Some(v) = &get_range {
                    w.push_plain(line, "Range", v);
                }
            }
            CorsOrigin | NonCorsOrigin => {
                let cors = preflight || fetch.cors_tainted();
                if let Some(o) = origin.filter(|_| cors == (line == CorsOrigin)) {
                    w.push(line, "Origin", o.as_bytes(), RuleId::R24);
                }
            }
            LateOrigin => {
                if let Some(o) = origin.filter(|_| origin_late) {
                    w.push(line, "Origin", o.as_bytes(), RuleId::R24);
                }
            }
            SecFetchDest => {
                if trustworthy {
                    w.push(line, "Sec-Fetch-Dest", b"empty", RuleId::W6);
                }
            }
            SecFetchMode => {
                if trustworthy {
                    let mode = match (preflight, request.mode) {
                        (true, _) | (false, RequestMode::Cors) => "cors",
                        (false, RequestMode::NoCors) => "no-cors",
                        (false, RequestMode::SameOrigin) => "same-origin",
                    };
                    w.push(line, "Sec-Fetch-Mode", mode.as_bytes(), RuleId::W6);
                }
            }
            SecFetchSite => {
                if trustworthy {
                    w.push(line, "Sec-Fetch-Site", site.as_str().as_bytes(), RuleId::W7);
                }
            }
            SecFetchStorageAccess => {
                let credentials = if preflight {
                    rules.storage_access_preflight
                        && request.credentials == crate::request::CredentialsMode::Include
                } else {
                    includes_credentials && (rules.storage_access_redirected || !redirected)
                };
                if rules.storage_access && trustworthy && credentials && really_cross_site {
                    w.push(line, "Sec-Fetch-Storage-Access", b"none", RuleId::W12);
                }
            }
            Priority => {
                let v = if preflight {
                    rules.priority_preflight
                } else if xhr {
                    rules.priority_xhr
                } else {
                    rules.priority_fetch
                };
                w.push_some(line, "Priority", v);
            }
            Cookie => {
                // W10: with credentials included, the cookies the browser holds.
                if let Some(c) = input.cookie.filter(|_| includes_credentials) {
                    w.push(line, "Cookie", c, RuleId::W10);
                }
            }
            RequestMethod => {
                if preflight {
                    w.push(
                        line,
                        "Access-Control-Request-Method",
                        fetch.method().as_bytes(),
                        RuleId::R29,
                    );
                }
            }
            RequestHeaders => {
                if let Some(p) = fetch.current_hop().and_then(|h| h.preflight.as_ref()) {
                    if preflight && !p.headers.is_empty() {
                        w.push(
                            line,
                            "Access-Control-Request-Headers",
                            p.headers.joined().as_bytes(),
                            RuleId::R29,
                        );
                    }
                }
            }
            RequestPrivateNetwork => {
                if let Some(p) = fetch.current_hop().and_then(|h| h.preflight.as_ref()) {
                    if preflight && p.private_network {
                        w.push(
                            line,
                            "Access-Control-Request-Private-Network",
                            b"true",
                            RuleId::R67,
                        );
                    }
                }
            }
        }
        if rules.unordered.contains(&line) {
            w.unordered_end = w.headers.len();
        }
    }
    let unordered = match w.unordered_start {
        Some(s) => s..w.unordered_end.max(s),
        None => 0..0,
    };
    Ok(WireRequest {
        method: if preflight {
            "OPTIONS".to_string()
        } else {
            fetch.method().to_string()
        },
        target: target(url),
        headers: w.headers,
        lines: w.lines,
        preflight,
        body,
        unordered,
        rules: w.rules,
    })
}

#[derive(Default)]
struct Writer {
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    lines: Vec<Line>,
    rules: Vec<RuleId>,
    unordered_start: Option<usize>,
    unordered_end: usize,
}

impl Writer {
    fn push(&mut self, line: Line, name: &str, value: &[u8], rule: RuleId) {
        self.push_plain(line, name, value);
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
    }

    /// A line whose value the profile's data gives, if it gives one.
    fn push_some(&mut self, line: Line, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.push_plain(line, name, v.as_bytes());
        }
    }

    /// A line the profile's data decides (no Fetch rule).
    fn push_plain(&mut self, line: Line, name: &str, value: &[u8]) {
        self.headers
            .push((name.as_bytes().to_vec(), value.to_vec()));
        self.lines.push(line);
    }

    /// W3: the author's value at the default's line when the profile writes it there, the
    /// default when the author set none.
    fn author_or_default(
        &mut self,
        author: &[(Vec<u8>, Vec<u8>)],
        name: &str,
        default: &[u8],
        in_place: bool,
        line: Line,
    ) {
        match author
            .iter()
            .find(|(n, _)| eq_ignore_case(n, name.as_bytes()))
        {
            Some((_, v)) if in_place => {
                // The default's line, its name as the browser writes it, the author's value.
                self.headers.push((name.as_bytes().to_vec(), v.clone()));
                self.lines.push(line);
            }
            Some(_) => {}
            None => self.push(line, name, default, RuleId::W3),
        }
    }
}

/// W2 (and D29): the author's header list, one line per name.
fn author_lines(
    fetch: &Fetch<'_>,
    rules: &WireRules,
    xhr: bool,
    has_body: bool,
    used: &mut Vec<RuleId>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut deviated = false;
    for (name, value) in fetch.sent_headers() {
        let Some((_, combined)) = out.iter_mut().find(|(n, _)| eq_ignore_case(n, name)) else {
            out.push((name.clone(), value.clone()));
            continue;
        };
        let single = !xhr
            && rules
                .single_value_names
                .iter()
                .any(|s| eq_ignore_case(s.as_bytes(), name));
        let body_type = !xhr
            && has_body
            && rules.body_content_type_first
            && eq_ignore_case(name, b"content-type");
        let empty = !xhr && rules.empty_value_replaces && (value.is_empty() || combined.is_empty());
        if body_type {
            // D29: the first Content-Type of a request with a body.
            deviated = true;
        } else if empty || single {
            // D29: the empty value, a value set after an empty one, or the last value of a
            // single-value name replaces.
            deviated = true;
            *combined = value.clone();
        } else {
            // W2: combine, `a, b`.
            combined.extend_from_slice(b", ");
            combined.extend_from_slice(value);
        }
    }
    // W2: a field value has no leading or trailing whitespace (a combined value ending in
    // an empty one loses its trailing space).
    for (_, v) in out.iter_mut().filter(|_| rules.combined_value_trimmed) {
        let trimmed = crate::grammar::trim(v, crate::grammar::is_http_whitespace);
        if trimmed.len() != v.len() {
            *v = trimmed.to_vec();
        }
    }
    if !out.is_empty() {
        used.push(RuleId::W2);
    }
    if deviated {
        used.push(RuleId::D29);
    }
    out
}

/// A `Range` value holding one byte range (`bytes` in any case, whitespace around the
/// tokens allowed), written back as `bytes=FIRST-[LAST]` or `bytes=-SUFFIX`; `None` for
/// anything else (several ranges, a last before the first, another unit).
fn normalized_byte_range(value: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(value).ok()?;
    let (unit, spec) = text.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (digits(first), digits(last)) {
        (true, true) => {
            let (f, l) = (first.parse::<u64>().ok()?, last.parse::<u64>().ok()?);
            (f <= l).then(|| format!("bytes={f}-{l}").into_bytes())
        }
        (true, false) if last.is_empty() => {
            Some(format!("bytes={}-", first.parse::<u64>().ok()?).into_bytes())
        }
        (false, true) if first.is_empty() => {
            Some(format!("bytes=-{}", last.parse::<u64>().ok()?).into_bytes())
        }
        _ => None,
    }
}

/// The value of `Sec-Fetch-Site`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FetchSite {
    SameOrigin,
    SameSite,
    CrossSite,
}

impl FetchSite {
    fn as_str(self) -> &'static str {
        match self {
            FetchSite::SameOrigin => "same-origin",
            FetchSite::SameSite => "same-site",
            FetchSite::CrossSite => "cross-site",
        }
    }
}

/// W7: `same-origin`, lowered to `same-site` by a URL of the URL list that is not same
/// origin with the request's origin, and to `cross-site` by one that is not same site.
/// A preflight's URL list is the request's (W11); D30 under Firefox.
fn sec_fetch_site(
    fetch: &Fetch<'_>,
    after_redirect: SiteAfterRedirect,
    preflight_own_url: bool,
    preflight: bool,
) -> FetchSite {
    let request = fetch.request();
    let own_url_only = preflight && preflight_own_url;
    // The URL list: the request's URL and every redirect's, or the current URL alone.
    let (first, rest): (Option<&Url>, &[Url]) = if own_url_only {
        (None, std::slice::from_ref(fetch.current_url()))
    } else {
        (Some(&request.url), fetch.redirect_urls())
    };
    let count = usize::from(first.is_some()) + rest.len();
    let mut site = FetchSite::SameOrigin;
    for url in first.into_iter().chain(rest) {
        if request.origin.is_origin_of(url) {
            continue;
        }
        site = site.max(FetchSite::SameSite);
        if !url_same_site(url, &request.origin) {
            site = FetchSite::CrossSite;
            break;
        }
    }
    if !own_url_only
        && count > 1
        && site != FetchSite::SameOrigin
        && after_redirect == SiteAfterRedirect::CrossSiteUnlessSameOrigin
    {
        site = FetchSite::CrossSite;
    }
    site
}

/// Schemeful same site (HTML): equal schemes, and equal hosts or hosts with the same
/// registrable domain, here approximated by the last two labels of a domain.
fn same_site(a: &Org, b: &Org) -> bool {
    match (a.scheme(), a.host()) {
        (Some(scheme), Some(host)) => same_site_as(scheme, host, b),
        _ => false,
    }
}

/// [`same_site`] of a URL's origin and `b`. An http(s) or ws(s) URL's origin is its scheme,
/// host and port as the URL holds them, read without building the origin.
fn url_same_site(url: &Url, b: &Org) -> bool {
    match (url.scheme(), url.host_str()) {
        (scheme @ ("http" | "https" | "ws" | "wss"), Some(host)) => same_site_as(scheme, host, b),
        _ => same_site(&Org::of_url(url), b),
    }
}

/// [`same_site`] of the origin of scheme `sa` and host `ha`, and `b`.
fn same_site_as(sa: &str, ha: &str, b: &Org) -> bool {
    let (Some(sb), Some(hb)) = (b.scheme(), b.host()) else {
        return false;
    };
    if sa != sb {
        return false;
    }
    if ha == hb {
        return true;
    }
    let is_ip = |h: &str| h.starts_with('[') || h.parse::<std::net::Ipv4Addr>().is_ok();
    if is_ip(ha) || is_ip(hb) {
        return false;
    }
    site_of(ha) == site_of(hb)
}

/// The last two labels of a domain (all of it when it has fewer), a trailing dot dropped.
fn site_of(host: &str) -> &str {
    let host = host.trim_end_matches('.');
    let Some(last_dot) = host.rfind('.') else {
        return host;
    };
    match host[..last_dot].rfind('.') {
        Some(dot) => &host[dot + 1..],
        None => host,
    }
}

/// Secure Contexts "potentially trustworthy URL": https or wss, or a loopback host.
fn potentially_trustworthy(url: &Url) -> bool {
    trustworthy(url.scheme(), url.host_str())
}

/// [`potentially_trustworthy`] of a URL's scheme and host (as `Url::host_str` writes it: an
/// IPv6 address in brackets), which an origin's tuple holds too.
fn trustworthy(scheme: &str, host: Option<&str>) -> bool {
    match scheme {
        "https" | "wss" => return true,
        "http" | "ws" => {}
        _ => return false,
    }
    let Some(host) = host else {
        return false;
    };
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    }
    if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
        return ip.is_loopback();
    }
    let d = host.trim_end_matches('.').as_bytes();
    let tail = d.len().checked_sub(b".localhost".len()).map(|at| &d[at..]);
    d.eq_ignore_ascii_case(b"localhost")
        || tail.is_some_and(|t| t.eq_ignore_ascii_case(b".localhost"))
}

/// W5: the `Referer` under the default policy, strict-origin-when-cross-origin, of the
/// document's URL (fragment and userinfo stripped) for the current URL. Without a document
/// URL the document is the origin's root, `ORIGIN/`.
fn referrer(document: Option<&Url>, origin: &Org, current: &Url) -> Option<String> {
    let Some(document) = document else {
        // An opaque origin has no URL to refer from; a tuple's root URL is its serialization
        // and `/`, whether the current URL is same origin (the full URL) or not (the origin).
        let scheme = origin.scheme()?;
        if !origin.is_origin_of(current)
            && trustworthy(scheme, origin.host())
            && !potentially_trustworthy(current)
        {
            return None;
        }
        return Some(format!("{}/", origin.serialization()));
    };
    let doc_origin = Org::of_url(document);
    if doc_origin.serialization() == "null" {
        return None;
    }
    if doc_origin.is_origin_of(current) {
        let mut full = document.clone();
        full.set_fragment(None);
        let _ = full.set_username("");
        let _ = full.set_password(None);
        return Some(full.to_string());
    }
    if potentially_trustworthy(document) && !potentially_trustworthy(current) {
        return None;
    }
    Some(format!("{}/", doc_origin.serialization()))
}

/// The origin-form request target: path and query.
fn target(url: &Url) -> String {
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    if path.is_empty() {
        "/".to_string()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CredentialsMode, PreflightCache, Request, RequestInit, Response};

    fn fetch_of<'r>(request: &'r Request, profile: &'r Profile) -> Fetch<'r> {
        let mut f = Fetch::new(request, profile);
        f.start(&mut PreflightCache::default(), 0.0);
        f
    }

    fn init(url: &str, origin: &str) -> RequestInit {
        RequestInit::new(
            Url::parse(url).expect("url"),
            Org::parse_serialized(origin).expect("origin"),
        )
    }

    fn names(w: &WireRequest) -> Vec<String> {
        w.headers
            .iter()
            .map(|(n, _)| String::from_utf8_lossy(n).into_owned())
            .collect()
    }

    #[test]
    fn fetch_profile_follows_the_standards_append_order() {
        let p = Profile::fetch();
        let mut i = init("https://api.test/x", "https://app.test");
        i.method = "POST".into();
        i.body = Some(Body::UrlSearchParams);
        i.credentials = CredentialsMode::Include;
        i.headers.push((b"X-B".to_vec(), b"1".to_vec()));
        let r = Request::construct(i, &p).expect("request");
        let mut f = Fetch::new(&r, &p);
        assert_eq!(
            f.start(&mut PreflightCache::default(), 0.0),
            Next::Preflight
        );
        let pf = request(&f, &p, Some(b"a=1")).expect("preflight");
        assert_eq!(
            names(&pf),
            [
                "Host",
                "Accept",
                "Access-Control-Request-Method",
                "Access-Control-Request-Headers",
                "Referer",
                "Origin",
                "Sec-Fetch-Dest",
                "Sec-Fetch-Mode",
                "Sec-Fetch-Site",
                "User-Agent"
            ]
        );
        assert_eq!(pf.header("cookie"), None, "no credentials on a preflight");
        assert_eq!(pf.header("sec-fetch-site"), Some(&b"cross-site"[..]));
        let ok = Response::new(
            204,
            [
                ("Access-Control-Allow-Origin", "https://app.test"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Allow-Headers", "x-b"),
            ],
        );
        f.on_preflight_response(&ok, &mut PreflightCache::default(), 0.0);
        let w = request(&f, &p, Some(b"a=1")).expect("request");
        assert_eq!(
            names(&w),
            [
                "Host",
                "X-B",
                "Content-Type",
                "Accept",
                "Accept-Language",
                "Content-Length",
                "Referer",
                "Origin",
                "Sec-Fetch-Dest",
                "Sec-Fetch-Mode",
                "Sec-Fetch-Site",
                "User-Agent",
                "Cookie"
            ]
        );
        assert_eq!(w.header("content-length"), Some(&b"3"[..]));
        assert_eq!(w.header("cookie"), Some(&b"a=1"[..]));
        assert!(w.unordered.is_empty());
    }

    #[test]
    fn duplicates_are_combined_or_replaced_per_profile() {
        let mut i = init("http://127.0.0.1:81/x", "http://127.0.0.1");
        i.headers
            .push((b"Authorization".to_vec(), b"Bearer corsproof".to_vec()));
        i.headers.push((b"X-A".to_vec(), b"1".to_vec()));
        i.headers.push((b"authorization".to_vec(), b"1".to_vec()));
        for (p, auth) in [
            (Profile::chromium(), &b"Bearer corsproof, 1"[..]),
            (Profile::firefox(), &b"1"[..]),
        ] {
            let r = Request::construct(i.clone(), &p).expect("request");
            let mut f = fetch_of(&r, &p);
            let ok = Response::new(
                204,
                [
                    ("Access-Control-Allow-Origin", "http://127.0.0.1"),
                    ("Access-Control-Allow-Headers", "authorization, x-a"),
                ],
            );
            f.on_preflight_response(&ok, &mut PreflightCache::default(), 0.0);
            let w = request(&f, &p, None).expect("request");
            let lines: Vec<_> = w
                .headers
                .iter()
                .filter(|(n, _)| eq_ignore_case(n, b"authorization"))
                .collect();
            assert_eq!(
                lines,
                [&(b"Authorization".to_vec(), auth.to_vec())],
                "{}",
                p.name()
            );
            assert_eq!(w.rules.contains(&RuleId::D29), p.name() == "firefox");
        }
    }

    #[test]
    fn chromium_marks_its_hashed_header_map_unordered() {
        let p = Profile::chromium();
        let mut i = init("http://127.0.0.1:81/x", "http://127.0.0.1");
        i.headers
            .push((b"Accept-Language".to_vec(), b"de".to_vec()));
        let r = Request::construct(i, &p).expect("request");
        let f = fetch_of(&r, &p);
        let w = request(&f, &p, None).expect("request");
        let span: Vec<Line> = w.lines[w.unordered.clone()].to_vec();
        assert!(span.contains(&Line::ClientHints) && span.contains(&Line::Author));
        assert!(!span.contains(&Line::Origin));
        // The author's Accept-Language replaces the default, which Chromium writes last.
        let al: Vec<_> = w
            .headers
            .iter()
            .filter(|(n, _)| eq_ignore_case(n, b"accept-language"))
            .collect();
        assert_eq!(al, [&(b"Accept-Language".to_vec(), b"de".to_vec())]);
        assert_eq!(w.header("sec-fetch-site"), Some(&b"same-site"[..]));
    }

    #[test]
    fn untrustworthy_urls_get_no_fetch_metadata_and_downgrades_no_referer() {
        let p = Profile::chromium();
        let r =
            Request::construct(init("http://api.test/x", "https://app.test"), &p).expect("request");
        let f = fetch_of(&r, &p);
        let w = request(&f, &p, None).expect("request");
        assert_eq!(w.header("sec-fetch-mode"), None);
        assert_eq!(w.header("sec-ch-ua"), None);
        assert_eq!(w.header("referer"), None);
        assert_eq!(w.header("accept-encoding"), Some(&b"gzip, deflate"[..]));
        assert_eq!(w.header("host"), Some(&b"api.test"[..]));
    }

    #[test]
    fn nothing_to_send_before_start_or_after_the_end() {
        let p = Profile::fetch();
        let r = Request::construct(init("https://a.test/", "https://a.test"), &p).expect("request");
        let mut f = Fetch::new(&r, &p);
        assert_eq!(request(&f, &p, None), Err(WireError::NothingToSend));
        f.start(&mut PreflightCache::default(), 0.0);
        let w = request(&f, &p, Some(b"k=v")).expect("request");
        // Same origin, credentials same-origin: the cookie goes; no Origin for a GET.
        assert_eq!(w.header("cookie"), Some(&b"k=v"[..]));
        assert_eq!(w.header("origin"), None);
        assert_eq!(w.header("referer"), Some(&b"https://a.test/"[..]));
        f.on_response(
            &Response::new(200, [("a", "b")]),
            &mut PreflightCache::default(),
            0.0,
        );
        assert_eq!(request(&f, &p, None), Err(WireError::NothingToSend));
        assert_eq!(
            request(&f, &p, Some(b"a\r\nb")).unwrap_err(),
            WireError::NothingToSend
        );
    }

    #[test]
    fn a_cookie_with_a_line_break_is_refused() {
        let p = Profile::fetch();
        let r = Request::construct(init("https://a.test/", "https://a.test"), &p).expect("request");
        let f = fetch_of(&r, &p);
        assert_eq!(
            request(&f, &p, Some(b"a\r\nb")),
            Err(WireError::InvalidCookie)
        );
    }

    #[test]
    fn site_helpers() {
        let o = |s: &str| Org::parse_serialized(s).expect("origin");
        assert!(same_site(
            &o("https://a.example.com"),
            &o("https://b.example.com")
        ));
        assert!(!same_site(
            &o("http://a.example.com"),
            &o("https://a.example.com")
        ));
        assert!(!same_site(&o("http://127.0.0.1"), &o("http://localhost")));
        assert!(same_site(
            &o("http://127.0.0.1:1"),
            &o("http://127.0.0.1:2")
        ));
        assert!(potentially_trustworthy(
            &Url::parse("http://a.localhost/").expect("u")
        ));
        assert!(!potentially_trustworthy(
            &Url::parse("http://10.0.0.1/").expect("u")
        ));
        assert_eq!(
            target(&Url::parse("http://a.test/p?q#f").expect("u")),
            "/p?q"
        );
    }
}
