//! Why the middleware refused a request or withheld CORS headers from its response:
//! [`Refusal`], its [`RefusalKind`], and the `Cors-Refusal` header a development setup may
//! turn on.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use http::Response;

use crate::layer::RefusalReasons;

/// The response header that carries a [`Refusal`] under [`crate::RefusalReasons::Header`]:
/// `cors-refusal`.
///
/// ```
/// assert_eq!(corsproof_tower::REFUSAL_HEADER, "cors-refusal");
/// ```
pub const REFUSAL_HEADER: HeaderName = HeaderName::from_static("cors-refusal");

/// At most this many bytes of a value taken from the request (a method, a header name) are
/// kept in a [`Refusal`]; longer values are cut and marked truncated.
///
/// ```
/// assert_eq!(corsproof_tower::MAX_REQUEST_VALUE_BYTES, 64);
/// ```
pub const MAX_REQUEST_VALUE_BYTES: usize = 64;

/// A value the request sent (a method, a header name), copied into a fixed-size buffer: at
/// most [`MAX_REQUEST_VALUE_BYTES`] bytes, whatever the request sent, and no heap memory.
///
/// The bytes are the request's own, which need not be text: `Display` writes them with
/// non-printable bytes escaped (`\xNN`), [`Refusal::header_value`] writes them
/// percent-encoded.
///
/// ```
/// use corsproof_tower::{CorsLayer, RefusalKind, RefusalReasons, Refusal};
/// use tower::{service_fn, Layer, ServiceExt};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = CorsLayer::builder()
///     .allow_origins(["https://app.example.com"])
///     .build()?
///     .refusal_reasons(RefusalReasons::Extension);
/// let app = layer.layer(service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// }));
/// let long = "X".repeat(100);
/// let preflight = http::Request::options("/")
///     .header("origin", "https://app.example.com")
///     .header("access-control-request-method", long.as_str())
///     .body(String::new())?;
/// let res = app.oneshot(preflight).await?;
/// let refusal = res.extensions().get::<Refusal>().expect("a reason");
/// let RefusalKind::MethodNotAllowed { method } = refusal.kind() else { panic!("{refusal}") };
/// assert_eq!(method.as_bytes(), &long.as_bytes()[..64]);
/// assert!(method.is_truncated());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestValue {
    bytes: [u8; MAX_REQUEST_VALUE_BYTES],
    len: u8,
    truncated: bool,
}

impl RequestValue {
    /// The first [`MAX_REQUEST_VALUE_BYTES`] bytes of `bytes`.
    pub(crate) fn copy(bytes: &[u8]) -> RequestValue {
        let kept = &bytes[..bytes.len().min(MAX_REQUEST_VALUE_BYTES)];
        let mut value = RequestValue {
            bytes: [0; MAX_REQUEST_VALUE_BYTES],
            // At most 64: fits.
            len: kept.len() as u8,
            truncated: kept.len() < bytes.len(),
        };
        value.bytes[..kept.len()].copy_from_slice(kept);
        value
    }

    /// The bytes kept (all of the request's value unless [`RequestValue::is_truncated`]).
    ///
    /// See [`RequestValue`] for an example.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// True when the request's value was longer than [`MAX_REQUEST_VALUE_BYTES`] and only
    /// its beginning is kept.
    ///
    /// See [`RequestValue`] for an example.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Display for RequestValue {
    /// The bytes, non-printable ones, quotes and backslashes escaped (`\xNN`, `\"`, `\\`),
    /// followed by `...` when truncated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_bytes().escape_ascii())?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RequestValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// The policy route a [`Refusal`] is about: its name (if it has one) and its path prefix.
/// Cloning it increments a reference count.
///
/// ```
/// use corsproof_tower::{CorsLayer, Refusal, RefusalReasons};
/// use tower::{service_fn, Layer, ServiceExt};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = CorsLayer::builder()
///     .name("api")
///     .path("/api/")
///     .allow_origins(["https://app.example.com"])
///     .build()?
///     .refusal_reasons(RefusalReasons::Extension);
/// let app = layer.layer(service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// }));
/// let get = http::Request::get("/api/items")
///     .header("origin", "https://evil.example")
///     .body(String::new())?;
/// let res = app.oneshot(get).await?;
/// let route = res.extensions().get::<Refusal>().and_then(Refusal::route).expect("a route");
/// assert_eq!((route.name(), route.path(), route.label()), (Some("api"), "/api/", "api"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RouteRef(Arc<RouteNames>);

#[derive(PartialEq, Eq)]
struct RouteNames {
    name: Option<Box<str>>,
    path: Box<str>,
}

impl RouteRef {
    /// The route called `name` (if named) covering `path`.
    pub(crate) fn new(name: Option<&str>, path: &str) -> RouteRef {
        RouteRef(Arc::new(RouteNames {
            name: name.map(Into::into),
            path: path.into(),
        }))
    }

    /// The route's `name`, if the policy gives it one.
    ///
    /// See [`RouteRef`] for an example.
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// The route's `path` prefix.
    ///
    /// See [`RouteRef`] for an example.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// The name if the route has one, else its path: what reports call it.
    ///
    /// See [`RouteRef`] for an example.
    pub fn label(&self) -> &str {
        self.name().unwrap_or(self.path())
    }
}

impl fmt::Debug for RouteRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteRef")
            .field("name", &self.name())
            .field("path", &self.path())
            .finish()
    }
}

/// What the middleware decided against. Each kind has a stable word
/// ([`RefusalKind::word`]); see the crate documentation, "Why was my request refused?", for
/// when each one occurs.
///
/// ```
/// use corsproof_tower::RefusalKind;
/// assert_eq!(RefusalKind::OriginNotAllowed.word(), "origin-not-allowed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalKind {
    /// No route of the policy covers the request's path: it is same-origin only.
    NoRoute,
    /// The route covering the path has `origins = []`: same-origin only.
    SameOriginOnly,
    /// The request's `Origin` is not one the route allows.
    OriginNotAllowed,
    /// The request's `Origin` is `null` (sandboxed iframes, `file:` pages, `data:` URLs,
    /// cross-origin redirects) and the route does not list `"null"`.
    NullOrigin,
    /// The request has more than one `Origin` line (browsers send one).
    SeveralOrigins,
    /// The preflight has more than one `Access-Control-Request-Method` line.
    SeveralRequestMethods,
    /// The preflight asks for a method that is neither GET, HEAD nor POST nor listed in the
    /// route's `methods` (compared byte for byte: method names are case-sensitive).
    MethodNotAllowed {
        /// The method the preflight asked for.
        method: RequestValue,
    },
    /// The preflight asks for a request header the route's `request_headers` does not list.
    HeaderNotAllowed {
        /// The first such name in `Access-Control-Request-Headers`.
        name: RequestValue,
    },
    /// The preflight asks for `authorization`, which the route's `request_headers = ["*"]`
    /// does not cover (as in the Fetch Standard): it must be listed by name.
    AuthorizationNotCovered,
    /// An element of `Access-Control-Request-Headers` is not a header name (an RFC 9110
    /// token).
    InvalidHeaderName {
        /// The first such element.
        name: RequestValue,
    },
    /// `Access-Control-Request-Headers` has more than [`crate::MAX_ACRH_ELEMENTS`] names or
    /// lines, or more than [`crate::MAX_ACRH_BYTES`] bytes.
    RequestHeadersOverLimit,
    /// The preflight asks for private network access (`Access-Control-Request-Private-Network:
    /// true`) on a route without `private_network = true`. The preflight is otherwise
    /// answered as passed, without `Access-Control-Allow-Private-Network`, which the browser
    /// needs.
    PrivateNetworkNotAllowed,
}

impl RefusalKind {
    /// The stable word for this kind: lowercase, hyphenated, the first element of the
    /// `Cors-Refusal` header.
    ///
    /// ```
    /// use corsproof_tower::RefusalKind;
    /// assert_eq!(RefusalKind::NoRoute.word(), "no-route");
    /// assert_eq!(RefusalKind::PrivateNetworkNotAllowed.word(), "private-network-not-allowed");
    /// ```
    pub fn word(&self) -> &'static str {
        match self {
            RefusalKind::NoRoute => "no-route",
            RefusalKind::SameOriginOnly => "same-origin-only",
            RefusalKind::OriginNotAllowed => "origin-not-allowed",
            RefusalKind::NullOrigin => "null-origin-not-allowed",
            RefusalKind::SeveralOrigins => "several-origins",
            RefusalKind::SeveralRequestMethods => "several-request-methods",
            RefusalKind::MethodNotAllowed { .. } => "method-not-allowed",
            RefusalKind::HeaderNotAllowed { .. } => "header-not-allowed",
            RefusalKind::AuthorizationNotCovered => "authorization-not-covered",
            RefusalKind::InvalidHeaderName { .. } => "invalid-header-name",
            RefusalKind::RequestHeadersOverLimit => "request-headers-over-limit",
            RefusalKind::PrivateNetworkNotAllowed => "private-network-not-allowed",
        }
    }
}

/// A refusal as a route decides it, before anything is copied: its kind is made, from the
/// request's value it names (empty for kinds that name none), only when it is reported, so
/// that refusing costs nothing more with reasons off.
#[derive(Clone, Copy)]
pub(crate) struct Refused<'h> {
    make: fn(RequestValue) -> RefusalKind,
    value: &'h [u8],
}

impl<'h> Refused<'h> {
    /// A refusal of a kind that names no request value.
    pub(crate) fn plain(make: fn(RequestValue) -> RefusalKind) -> Refused<'h> {
        Refused { make, value: &[] }
    }

    /// A refusal that names `value`, a value of the request.
    pub(crate) fn naming(value: &'h [u8], make: fn(RequestValue) -> RefusalKind) -> Refused<'h> {
        Refused { make, value }
    }

    /// The refusal of a single `Origin` value the route does not allow.
    pub(crate) fn origin(origin: &[u8]) -> Refused<'h> {
        if origin == b"null" {
            Refused::plain(|_| RefusalKind::NullOrigin)
        } else {
            Refused::plain(|_| RefusalKind::OriginNotAllowed)
        }
    }

    /// The kind, with its copy of the request's value.
    pub(crate) fn kind(self) -> RefusalKind {
        (self.make)(RequestValue::copy(self.value))
    }
}

/// Why the middleware refused a request or withheld CORS headers from its response: the
/// [`RefusalKind`] and the policy route it is about.
///
/// Under [`crate::RefusalReasons::Extension`] (or `Header`) the middleware puts one in the
/// extensions of every response it refuses or withholds CORS headers from, and of the
/// request when the request goes on to the inner service. `Display` writes a sentence,
/// [`Refusal::word`] the stable word, [`Refusal::header_value`] the `Cors-Refusal` form.
///
/// ```
/// use corsproof_tower::{CorsLayer, Refusal, RefusalKind, RefusalReasons};
/// use tower::{service_fn, Layer, ServiceExt};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = CorsLayer::builder()
///     .name("api")
///     .allow_origins(["https://app.example.com"])
///     .allow_methods(["PUT"])
///     .build()?
///     .refusal_reasons(RefusalReasons::Extension);
/// let app = layer.layer(service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// }));
/// let preflight = http::Request::options("/items")
///     .header("origin", "https://app.example.com")
///     .header("access-control-request-method", "PATCH")
///     .body(String::new())?;
/// let res = app.oneshot(preflight).await?;
/// let refusal = res.extensions().get::<Refusal>().expect("a reason");
/// assert!(matches!(refusal.kind(), RefusalKind::MethodNotAllowed { .. }));
/// assert_eq!(refusal.word(), "method-not-allowed");
/// assert_eq!(refusal.header_value(), r#"method-not-allowed; method="PATCH"; route="api""#);
/// assert_eq!(
///     refusal.to_string(),
///     "method \"PATCH\" is neither GET, HEAD, POST nor listed in the methods of route \"api\" \
///      (method names are case-sensitive)",
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    kind: RefusalKind,
    route: Option<RouteRef>,
}

impl Refusal {
    /// A refusal of `kind` about `route` (`None` only for [`RefusalKind::NoRoute`]).
    pub(crate) fn new(kind: RefusalKind, route: Option<RouteRef>) -> Refusal {
        Refusal { kind, route }
    }

    /// What was refused. See [`Refusal`] for an example.
    pub fn kind(&self) -> &RefusalKind {
        &self.kind
    }

    /// The policy route the refusal is about; `None` only for [`RefusalKind::NoRoute`]. See
    /// [`RouteRef`] for an example.
    pub fn route(&self) -> Option<&RouteRef> {
        self.route.as_ref()
    }

    /// The stable word of the kind ([`RefusalKind::word`]). See [`Refusal`] for an example.
    pub fn word(&self) -> &'static str {
        self.kind.word()
    }

    /// The refusal as the `Cors-Refusal` header writes it: an RFC 8941 structured-field item,
    /// the word as a token followed by string parameters, e.g.
    /// `header-not-allowed; header="x-trace"; route="api"`:
    ///
    /// - `method` ([`RefusalKind::MethodNotAllowed`]) or `header`
    ///   ([`RefusalKind::HeaderNotAllowed`], [`RefusalKind::InvalidHeaderName`]): the
    ///   request's value, then the bare parameter `truncated` when it was cut;
    /// - `route`: the route's name, or its path when it has none (absent for
    ///   [`RefusalKind::NoRoute`]).
    ///
    /// In the strings, `"` and `\` are escaped with a backslash, and bytes outside printable
    /// ASCII, as well as `%` itself, are written `%XX` (uppercase hex): whatever the request
    /// sent, the value is a valid header value of visible ASCII and spaces, at most 243 bytes
    /// plus three per byte of the route's label.
    ///
    /// ```
    /// use corsproof_tower::{CorsLayer, Refusal, RefusalReasons};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let layer = CorsLayer::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .build()?
    ///     .refusal_reasons(RefusalReasons::Extension);
    /// let app = layer.layer(service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }));
    /// let preflight = http::Request::options("/")
    ///     .header("origin", "https://app.example.com")
    ///     .header("access-control-request-method", "GET")
    ///     .header("access-control-request-headers", "x\"b\\%")
    ///     .body(String::new())?;
    /// let res = app.oneshot(preflight).await?;
    /// let refusal = res.extensions().get::<Refusal>().expect("a reason");
    /// assert_eq!(refusal.header_value(), r#"invalid-header-name; header="x\"b\\%25"; route="/""#);
    /// # Ok(())
    /// # }
    /// ```
    pub fn header_value(&self) -> HeaderValue {
        let form = HeaderForm(self);
        // Sized first, so that the one buffer becomes the value without a copy.
        let mut length = Length(0);
        let _ = write!(length, "{form}");
        let mut text = String::with_capacity(length.0);
        let _ = write!(text, "{form}");
        // The form is visible ASCII and spaces only (see above), always a valid value; the
        // bare word is the fallback that cannot fail.
        HeaderValue::try_from(text.into_bytes())
            .unwrap_or_else(|_| HeaderValue::from_static(self.word()))
    }
}

impl fmt::Display for Refusal {
    /// One sentence, naming the route and the request's value where there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Sentence {
            kind: &self.kind,
            route: self.route.as_ref(),
        }
        .fmt(f)
    }
}

/// The sentence of a refusal of `kind` about `route` ([`Refusal`]'s `Display`), written from
/// borrowed parts: the `tracing` events need no [`Refusal`].
pub(crate) struct Sentence<'a> {
    pub(crate) kind: &'a RefusalKind,
    pub(crate) route: Option<&'a RouteRef>,
}

impl fmt::Display for Sentence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let route = RoutePhrase(self.route);
        match self.kind {
            RefusalKind::NoRoute => f.write_str(
                "no route of the policy covers this path, so it is same-origin only and gets \
                 no CORS headers",
            ),
            RefusalKind::SameOriginOnly => write!(
                f,
                "{route} has origins = [], so its paths are same-origin only and get no CORS \
                 headers"
            ),
            RefusalKind::OriginNotAllowed => {
                write!(f, "the request's Origin is not one {route} allows")
            }
            RefusalKind::NullOrigin => write!(
                f,
                "the request's Origin is \"null\" (a sandboxed iframe, a file: page, a data: \
                 URL or a redirect across origins) and {route} does not list \"null\""
            ),
            RefusalKind::SeveralOrigins => write!(
                f,
                "the request has more than one Origin line (a browser sends one), which \
                 {route} refuses"
            ),
            RefusalKind::SeveralRequestMethods => write!(
                f,
                "the preflight has more than one Access-Control-Request-Method line, which \
                 {route} refuses"
            ),
            RefusalKind::MethodNotAllowed { method } => write!(
                f,
                "method \"{method}\" is neither GET, HEAD, POST nor listed in the methods of \
                 {route} (method names are case-sensitive)"
            ),
            RefusalKind::HeaderNotAllowed { name } => write!(
                f,
                "request header \"{name}\" is not listed in the request_headers of {route}"
            ),
            RefusalKind::AuthorizationNotCovered => write!(
                f,
                "request header \"authorization\" is not covered by request_headers = [\"*\"] \
                 of {route}; it must be listed by name"
            ),
            RefusalKind::InvalidHeaderName { name } => write!(
                f,
                "Access-Control-Request-Headers lists \"{name}\", which is not a header name; \
                 {route} refuses the preflight"
            ),
            RefusalKind::RequestHeadersOverLimit => write!(
                f,
                "Access-Control-Request-Headers has more than {} names or lines or more than \
                 {} bytes; {route} refuses the preflight",
                crate::MAX_ACRH_ELEMENTS,
                crate::MAX_ACRH_BYTES
            ),
            RefusalKind::PrivateNetworkNotAllowed => write!(
                f,
                "the preflight asks for private network access and {route} does not set \
                 private_network = true"
            ),
        }
    }
}

/// `route "label"`, or `the route` when there is none.
struct RoutePhrase<'a>(Option<&'a RouteRef>);

impl fmt::Display for RoutePhrase<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(route) => write!(f, "route {:?}", route.label()),
            None => f.write_str("the route"),
        }
    }
}

/// The `Cors-Refusal` form of a refusal (see [`Refusal::header_value`]).
struct HeaderForm<'a>(&'a Refusal);

impl fmt::Display for HeaderForm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refusal = self.0;
        f.write_str(refusal.word())?;
        let value = match &refusal.kind {
            RefusalKind::MethodNotAllowed { method } => Some(("method", method)),
            RefusalKind::HeaderNotAllowed { name } | RefusalKind::InvalidHeaderName { name } => {
                Some(("header", name))
            }
            _ => None,
        };
        if let Some((key, value)) = value {
            write!(f, "; {key}=")?;
            sf_string(f, value.as_bytes())?;
            if value.is_truncated() {
                f.write_str("; truncated")?;
            }
        }
        if let Some(route) = &refusal.route {
            f.write_str("; route=")?;
            sf_string(f, route.label().as_bytes())?;
        }
        Ok(())
    }
}

/// `bytes` as an RFC 8941 string: quoted, `"` and `\` backslash-escaped, bytes outside
/// printable ASCII and `%` percent-encoded.
fn sf_string(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_char('"')?;
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                f.write_char('\\')?;
                f.write_char(char::from(b))?;
            }
            b'%' => f.write_str("%25")?,
            b' '..=b'~' => f.write_char(char::from(b))?,
            _ => write!(f, "%{b:02X}")?,
        }
    }
    f.write_char('"')
}

/// Counts the bytes written to it.
struct Length(usize);

impl fmt::Write for Length {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// A refusal on its way to a response, and whether it also goes into the `Cors-Refusal`
/// header.
#[derive(Debug)]
pub(crate) struct Report {
    refusal: Refusal,
    header: bool,
}

impl RefusalReasons {
    /// The report of `kind` about `route`, or `None` when reasons are off.
    pub(crate) fn report(self, kind: RefusalKind, route: Option<&RouteRef>) -> Option<Report> {
        let header = match self {
            RefusalReasons::Off => return None,
            RefusalReasons::Extension => false,
            RefusalReasons::Header | RefusalReasons::Debug => true,
        };
        Some(Report {
            refusal: Refusal::new(kind, route.cloned()),
            header,
        })
    }
}

impl Report {
    /// The refusal, for the request's extensions.
    pub(crate) fn refusal(&self) -> &Refusal {
        &self.refusal
    }

    /// Puts the refusal in `response`'s extensions and, if asked, its header (replacing a
    /// `Cors-Refusal` the inner service set).
    pub(crate) fn attach<B>(self, response: &mut Response<B>) {
        if self.header {
            // Only a header map at its maximum size refuses; the extension still tells.
            let _ = response
                .headers_mut()
                .try_insert(REFUSAL_HEADER, self.refusal.header_value());
        }
        response.extensions_mut().insert(self.refusal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_values_keep_at_most_the_bound() {
        for len in [0, 1, MAX_REQUEST_VALUE_BYTES - 1, MAX_REQUEST_VALUE_BYTES] {
            let bytes = vec![b'a'; len];
            let v = RequestValue::copy(&bytes);
            assert_eq!((v.as_bytes(), v.is_truncated()), (&bytes[..], false));
        }
        let bytes: Vec<u8> = (0..=255).collect();
        let v = RequestValue::copy(&bytes);
        assert_eq!(v.as_bytes(), &bytes[..MAX_REQUEST_VALUE_BYTES]);
        assert!(v.is_truncated());
        assert!(v.to_string().ends_with("..."));
    }

    #[test]
    fn header_form_escapes_every_byte_it_cannot_carry() {
        let bytes: Vec<u8> = (0..=255).collect();
        for chunk in bytes.chunks(MAX_REQUEST_VALUE_BYTES) {
            let refusal = Refusal::new(
                RefusalKind::HeaderNotAllowed {
                    name: RequestValue::copy(chunk),
                },
                Some(RouteRef::new(Some("caf\u{e9} \"x\""), "/")),
            );
            let value = refusal.header_value();
            let text = value.to_str().expect("visible ASCII");
            assert!(text.bytes().all(|b| matches!(b, b' '..=b'~')), "{text}");
            assert!(text.ends_with(r#"; route="caf%C3%A9 \"x\"""#), "{text}");
            // Decoding the parameter gives the request's bytes back.
            let quoted = text
                .strip_prefix("header-not-allowed; header=\"")
                .and_then(|t| t.strip_suffix(r#""; route="caf%C3%A9 \"x\"""#))
                .expect(text);
            assert_eq!(decode(quoted), chunk, "{text}");
        }
    }

    #[test]
    fn header_form_is_at_most_243_bytes_plus_three_per_label_byte() {
        let label = "\u{e9}\u{e9}";
        let worst = Refusal::new(
            RefusalKind::InvalidHeaderName {
                name: RequestValue::copy(&[0xff; MAX_REQUEST_VALUE_BYTES + 1]),
            },
            Some(RouteRef::new(Some(label), "/")),
        );
        assert_eq!(worst.header_value().len(), 243 + 3 * label.len());
    }

    /// The inverse of `sf_string`'s escaping, inside the quotes.
    fn decode(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut bytes = s.bytes();
        while let Some(b) = bytes.next() {
            match b {
                b'\\' => out.extend(bytes.next()),
                b'%' => {
                    let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                    let hex = std::str::from_utf8(&hex).expect("hex");
                    out.push(u8::from_str_radix(hex, 16).expect("hex"));
                }
                _ => out.push(b),
            }
        }
        out
    }
}
