//! What script asks a browser for: a method, request headers of every class (spelled in
//! several cases, padded with whitespace, at the value limit), credentials and mode
//! ([`ScriptRequest`]).

use proptest::collection::vec;
use proptest::prelude::*;

use crate::headers::{long_value, AT_THE_LIMIT, FORBIDDEN, SAFELISTED, UNSAFE};
use crate::strategy::{pick, weighted};

/// The credentials mode script asks for.
///
/// ```
/// assert_ne!(corsproof_testkit::strategy::request::Credentials::Omit,
///            corsproof_testkit::strategy::request::Credentials::Include);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// `omit`.
    Omit,
    /// `same-origin` (the default).
    SameOrigin,
    /// `include`.
    Include,
}

/// The request mode script asks for.
///
/// ```
/// let _ = corsproof_testkit::strategy::request::Mode::NoCors;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `cors` (the default of `fetch()`).
    Cors,
    /// `no-cors`.
    NoCors,
    /// `same-origin`.
    SameOrigin,
}

/// The header name as written, lower-cased or upper-cased (2 : 1 : 1).
///
/// ```
/// use corsproof_testkit::strategy::request::cased;
/// use proptest::prelude::*;
/// let n = corsproof_testkit::strategy::sample(&cased("Accept".into()), 1).remove(0);
/// assert!(n.eq_ignore_ascii_case("accept"));
/// ```
pub fn cased(name: String) -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(name.clone()),
        1 => Just(name.to_ascii_lowercase()),
        1 => Just(name.to_ascii_uppercase()),
    ]
}

/// A header value, one time in five padded with HTTP whitespace (which parsing strips).
///
/// ```
/// use corsproof_testkit::strategy::request::padded;
/// use proptest::prelude::*;
/// let v = corsproof_testkit::strategy::sample(&padded("x".into()), 1).remove(0);
/// assert_eq!(v.trim(), "x");
/// ```
pub fn padded(value: String) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(value.clone()),
        1 => Just(format!(" {value}\t")),
    ]
}

/// A pair of `pool`, its name [`cased`] and its value [`padded`].
///
/// ```
/// use corsproof_testkit::strategy::request::pair_from;
/// use proptest::prelude::*;
/// let (n, _) = corsproof_testkit::strategy::sample(&pair_from(&corsproof_testkit::headers::FORBIDDEN), 1).remove(0);
/// assert!(!n.is_empty());
/// ```
pub fn pair_from(
    pool: &'static [(&'static str, &'static str)],
) -> impl Strategy<Value = (String, String)> {
    proptest::sample::select(pool)
        .prop_flat_map(|(n, v)| (cased(n.to_string()), padded(v.to_string())))
}

/// A header of [`AT_THE_LIMIT`]: a value at, just over or far over the 128-byte limit.
///
/// ```
/// use proptest::prelude::*;
/// let (_, v) = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::request::long_header(), 1).remove(0);
/// assert!(v.len() >= 128);
/// ```
pub fn long_header() -> impl Strategy<Value = (String, String)> {
    proptest::sample::select(&AT_THE_LIMIT[..]).prop_map(|row| {
        let (name, value) = long_value(row);
        (name.to_string(), value)
    })
}

/// One request header of any class: safelisted, unsafe, forbidden, long (4 : 5 : 2 : 1).
///
/// ```
/// use proptest::prelude::*;
/// let (n, _) = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::request::request_header(), 1).remove(0);
/// assert!(!n.is_empty());
/// ```
pub fn request_header() -> BoxedStrategy<(String, String)> {
    prop_oneof![
        4 => pair_from(&SAFELISTED),
        5 => pair_from(&UNSAFE),
        2 => pair_from(&FORBIDDEN),
        1 => long_header(),
    ]
    .boxed()
}

/// A header list: up to five [`request_header`]s, or (1 in 9) eight to ten 120-byte `Accept`
/// values, enough safelisted bytes to pass the 1024-byte total, with a few others.
///
/// ```
/// use proptest::prelude::*;
/// let h = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::request::request_headers(), 1).remove(0);
/// assert!(h.len() <= 12);
/// ```
pub fn request_headers() -> BoxedStrategy<Vec<(String, String)>> {
    let many_safelisted = (
        vec((cased("Accept".to_string()), Just("a".repeat(120))), 8..11),
        vec(request_header(), 0..3),
    )
        .prop_map(|(mut a, b)| {
            a.extend(b);
            a
        });
    prop_oneof![
        8 => vec(request_header(), 0..6),
        1 => many_safelisted,
    ]
    .boxed()
}

/// Up to `max` headers of `pool`, as they are.
///
/// ```
/// use proptest::prelude::*;
/// let s = corsproof_testkit::strategy::request::headers_of(&corsproof_testkit::headers::COMMON, 2);
/// assert!(corsproof_testkit::strategy::sample(&s, 1).remove(0).len() <= 2);
/// ```
pub fn headers_of(
    pool: &'static [(&'static str, &'static str)],
    max: usize,
) -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    vec(proptest::sample::select(pool), 0..=max)
}

/// Weights of the credentials modes: unset (the default applies), `omit`, `same-origin`,
/// `include`.
///
/// ```
/// let w = corsproof_testkit::strategy::request::CredentialsWeights::UNIFORM;
/// assert_eq!(w.unset, 0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CredentialsWeights {
    /// Weight of no explicit mode.
    pub unset: u32,
    /// Weight of `omit`.
    pub omit: u32,
    /// Weight of `same-origin`.
    pub same_origin: u32,
    /// Weight of `include`.
    pub include: u32,
}

impl CredentialsWeights {
    /// Each mode as likely, always explicit.
    pub const UNIFORM: CredentialsWeights = CredentialsWeights {
        unset: 0,
        omit: 1,
        same_origin: 1,
        include: 1,
    };
    /// Unset now and then, `include` twice as likely as each other mode.
    pub const INCLUDE_TWICE: CredentialsWeights = CredentialsWeights {
        unset: 1,
        omit: 1,
        same_origin: 1,
        include: 2,
    };
}

/// A credentials mode, `None` for unset.
///
/// ```
/// use corsproof_testkit::strategy::request::{credentials, CredentialsWeights};
/// use proptest::prelude::*;
/// let c = corsproof_testkit::strategy::sample(&credentials(CredentialsWeights::UNIFORM), 1).remove(0);
/// assert!(c.is_some());
/// ```
pub fn credentials(w: CredentialsWeights) -> BoxedStrategy<Option<Credentials>> {
    weighted(vec![
        (w.unset, Just(None).boxed()),
        (w.omit, Just(Some(Credentials::Omit)).boxed()),
        (w.same_origin, Just(Some(Credentials::SameOrigin)).boxed()),
        (w.include, Just(Some(Credentials::Include)).boxed()),
    ])
}

/// A request mode, mostly unset or `cors` (10 : 4 : 1 : 1).
///
/// ```
/// use proptest::prelude::*;
/// let _ = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::request::mode(), 1).remove(0);
/// ```
pub fn mode() -> impl Strategy<Value = Option<Mode>> {
    prop_oneof![
        10 => Just(None),
        4 => Just(Some(Mode::Cors)),
        1 => Just(Some(Mode::NoCors)),
        1 => Just(Some(Mode::SameOrigin)),
    ]
}

/// What script passes to `fetch()` besides the URL and the body.
///
/// ```
/// use corsproof_testkit::strategy::request::script_request;
/// use proptest::prelude::*;
/// let r = corsproof_testkit::strategy::sample(&script_request(&corsproof_testkit::methods::SPELLINGS), 1).remove(0);
/// assert!(!r.method.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptRequest {
    /// The method as written.
    pub method: String,
    /// Header lines in order, names and values as written.
    pub headers: Vec<(String, String)>,
    /// The credentials mode, `None` when unset.
    pub credentials: Option<Credentials>,
    /// The request mode, `None` when unset.
    pub mode: Option<Mode>,
}

/// A [`ScriptRequest`]: a method of `methods`, [`request_headers`], credentials
/// ([`CredentialsWeights::INCLUDE_TWICE`]) and [`mode`].
///
/// ```
/// use corsproof_testkit::strategy::request::script_request;
/// use proptest::prelude::*;
/// let r = corsproof_testkit::strategy::sample(&script_request(&corsproof_testkit::methods::SAFELISTED), 1).remove(0);
/// assert!(["GET", "HEAD", "POST"].contains(&r.method.as_str()));
/// ```
pub fn script_request(methods: &'static [&'static str]) -> BoxedStrategy<ScriptRequest> {
    (
        pick(methods),
        request_headers(),
        credentials(CredentialsWeights::INCLUDE_TWICE),
        mode(),
    )
        .prop_map(|(method, headers, credentials, mode)| ScriptRequest {
            method,
            headers,
            credentials,
            mode,
        })
        .boxed()
}
