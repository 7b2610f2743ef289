//! Request and response header rules: forbidden request headers (R7), CORS-safelisted
//! request headers (R16, R17), CORS-unsafe request-header names (R18), the non-wildcard name
//! (R20), and the safelisted response-header names (R52).

use crate::error::RuleId;
use smallvec::SmallVec;

use crate::grammar::{decode_and_split, eq_ignore_case, is_http_whitespace, trim};
use crate::method;
use crate::profile::Profile;

/// Forbidden request-header names (R7, `#forbidden-request-header`), lowercase.
const FORBIDDEN_REQUEST_HEADERS: [&[u8]; 21] = [
    b"accept-charset",
    b"accept-encoding",
    b"access-control-request-headers",
    b"access-control-request-method",
    b"connection",
    b"content-length",
    b"cookie",
    b"cookie2",
    b"date",
    b"dnt",
    b"expect",
    b"host",
    b"keep-alive",
    b"origin",
    b"referer",
    b"set-cookie",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"via",
];

/// Forbidden request header (R7): a forbidden name, a `proxy-` or `sec-` prefix, or one of
/// the method-override headers whose value names a forbidden method.
///
/// ```
/// use corsproof_oracle::headers::is_forbidden_request_header;
/// assert!(is_forbidden_request_header(b"Cookie", b"a=b"));
/// assert!(is_forbidden_request_header(b"Sec-Foo", b"x"));
/// assert!(is_forbidden_request_header(b"X-HTTP-Method-Override", b"GET,track "));
/// assert!(!is_forbidden_request_header(b"X-HTTP-Method-Override", b"GETTRACE"));
/// ```
pub fn is_forbidden_request_header(name: &[u8], value: &[u8]) -> bool {
    // Step 1: a byte-case-insensitive match for one of the listed names.
    if FORBIDDEN_REQUEST_HEADERS
        .iter()
        .any(|f| eq_ignore_case(f, name))
    {
        return true;
    }
    // Step 2: starts with `proxy-` or `sec-`.
    let lower_starts = |p: &[u8]| name.len() >= p.len() && eq_ignore_case(&name[..p.len()], p);
    if lower_starts(b"proxy-") || lower_starts(b"sec-") {
        return true;
    }
    // Step 3: the method-override headers, when any value is a forbidden method.
    if [
        &b"x-http-method"[..],
        b"x-http-method-override",
        b"x-method-override",
    ]
    .iter()
    .any(|f| eq_ignore_case(f, name))
    {
        return decode_and_split(value)
            .iter()
            .any(|m| method::is_forbidden(m));
    }
    false
}

/// CORS-unsafe request-header byte (R17).
///
/// ```
/// use corsproof_oracle::headers::is_cors_unsafe_byte;
/// assert!(is_cors_unsafe_byte(b'"') && is_cors_unsafe_byte(0x7f) && !is_cors_unsafe_byte(b'\t'));
/// assert!(!is_cors_unsafe_byte(b',') && !is_cors_unsafe_byte(b'/'));
/// ```
#[inline]
pub fn is_cors_unsafe_byte(b: u8) -> bool {
    CORS_UNSAFE[usize::from(b)]
}

/// R17 as a table, built from the rule's definition.
const CORS_UNSAFE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        // A byte below 0x20 other than HT, or one of `"():<>?@[\]{}`, or DEL.
        table[i] = (b < 0x20 && b != b'\t')
            || matches!(
                b,
                b'"' | b'('
                    | b')'
                    | b':'
                    | b'<'
                    | b'>'
                    | b'?'
                    | b'@'
                    | b'['
                    | b'\\'
                    | b']'
                    | b'{'
                    | b'}'
                    | 0x7f
            );
        i += 1;
    }
    table
};

/// The type and subtype (as written; compare them case-insensitively) of a MIME type
/// parsed by the strict MIME Sniffing "parse a MIME type" algorithm, or `None` on failure
/// (R16d). Parameters never make parsing fail, so only the type and subtype are examined.
///
/// ```
/// use corsproof_oracle::headers::mime_type_and_subtype;
/// assert_eq!(mime_type_and_subtype(b"Text/Plain;charset=utf-8"), Some((&b"Text"[..], &b"Plain"[..])));
/// assert_eq!(mime_type_and_subtype(b"text /plain"), None);
/// assert_eq!(mime_type_and_subtype(b"text/plain,text/plain"), None);
/// ```
pub fn mime_type_and_subtype(value: &[u8]) -> Option<(&[u8], &[u8])> {
    // Step 1: remove leading and trailing HTTP whitespace.
    let input = trim(value, is_http_whitespace);
    // Steps 2-4: type = code points up to "/", a non-empty token.
    let slash = input.iter().position(|&b| b == b'/')?;
    let ty = &input[..slash];
    // HTTP token code points: isomorphic decoding maps bytes >= 0x80 to non-token code points.
    if !crate::grammar::is_token(ty) {
        return None;
    }
    // Steps 5-7: subtype = code points up to ";", trailing whitespace removed, non-empty token.
    let rest = &input[slash + 1..];
    let semicolon = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
    let subtype = trim(&rest[..semicolon], is_http_whitespace);
    if !crate::grammar::is_token(subtype) {
        return None;
    }
    // Step 8: the parser lower-cases type and subtype; callers compare case-insensitively.
    Some((ty, subtype))
}

/// Fetch "parse a single range header value" with allowWhitespace false: `Some((start,
/// end))` on success (R16e). Start or end may be null, never both.
///
/// ```
/// use corsproof_oracle::headers::parse_single_range;
/// assert_eq!(parse_single_range(b"bytes=0-"), Some((Some(0), None)));
/// assert_eq!(parse_single_range(b"bytes=-500"), Some((None, Some(500))));
/// assert_eq!(parse_single_range(b"bytes=5-1"), None);
/// assert_eq!(parse_single_range(b"Bytes=0-1"), None);
/// ```
pub fn parse_single_range(value: &[u8]) -> Option<(Option<u64>, Option<u64>)> {
    // Steps 1-3: data starts with "bytes" (case-sensitive).
    let rest = value.strip_prefix(b"bytes")?;
    // Steps 5-6: "=".
    let rest = rest.strip_prefix(b"=")?;
    // Steps 8-9: rangeStart digits.
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let n = digits(rest);
    let start = crate::grammar::parse_delta_seconds(&rest[..n]);
    let rest = &rest[n..];
    // Steps 11-12: "-".
    let rest = rest.strip_prefix(b"-")?;
    // Steps 13-14: rangeEnd digits.
    let n = digits(rest);
    let end = crate::grammar::parse_delta_seconds(&rest[..n]);
    // Step 15: position must be past the end of data.
    if n != rest.len() {
        return None;
    }
    match (start, end) {
        // Step 16: both null.
        (None, None) => None,
        // Step 17: start greater than end.
        (Some(s), Some(e)) if s > e => None,
        other => Some(other),
    }
}

/// R16c: the bytes allowed in `accept-language` / `content-language` values.
const LANGUAGE_BYTES: [bool; 256] = crate::grammar::byte_table(b" *,-.;=", true);

/// Which safelist a decision used, for reporting deviations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safelisted {
    /// Not safelisted.
    No,
    /// Safelisted by the Fetch Standard.
    Standard,
    /// Safelisted only by a browser deviation (the id).
    Deviation(RuleId),
}

impl Safelisted {
    /// Whether the header counts as safelisted.
    pub fn is_safelisted(self) -> bool {
        !matches!(self, Safelisted::No)
    }
}

/// CORS-safelisted request-header (R16, `#cors-safelisted-request-header`) for one
/// (name, value), under a browser profile (D2, D3 add to the standard's list).
///
/// ```
/// use corsproof_oracle::{headers::safelisted_request_header, Profile};
/// let fetch = Profile::fetch();
/// assert!(safelisted_request_header(b"Content-Type", b"text/plain", &fetch).is_safelisted());
/// assert!(!safelisted_request_header(b"Content-Type", b"application/json", &fetch).is_safelisted());
/// assert!(!safelisted_request_header(b"DPR", b"2", &fetch).is_safelisted());
/// assert!(safelisted_request_header(b"DPR", b"2", &Profile::chromium()).is_safelisted());
/// ```
pub fn safelisted_request_header(name: &[u8], value: &[u8], profile: &Profile) -> Safelisted {
    if standard_safelisted(name, value) {
        Safelisted::Standard
    } else {
        deviation_safelisted(name, value, profile).map_or(Safelisted::No, Safelisted::Deviation)
    }
}

/// The Fetch Standard's verdict of [`safelisted_request_header`] (R16), the same under
/// every profile: a request can compute it once per header.
pub(crate) fn standard_safelisted(name: &[u8], value: &[u8]) -> bool {
    // Step 1: a value longer than 128 bytes is never safelisted.
    if value.len() > 128 {
        return false;
    }
    // The names of step 2 differ in length: dispatch on it before comparing bytes.
    let is = |listed: &[u8]| eq_ignore_case(name, listed);
    if name.len() == 6 && is(b"accept") {
        // Step 2, `accept`: no CORS-unsafe request-header byte.
        !value.iter().any(|&b| is_cors_unsafe_byte(b))
    } else if (name.len() == 15 && is(b"accept-language"))
        || (name.len() == 16 && is(b"content-language"))
    {
        // Step 2, `accept-language` / `content-language`.
        value.iter().all(|&b| LANGUAGE_BYTES[usize::from(b)])
    } else if name.len() == 12 && is(b"content-type") {
        // Step 2, `content-type`: no unsafe byte, strict MIME parse, one of three essences.
        !value.iter().any(|&b| is_cors_unsafe_byte(b))
            && mime_type_and_subtype(value).is_some_and(|(ty, sub)| {
                [
                    (&b"application"[..], &b"x-www-form-urlencoded"[..]),
                    (b"multipart", b"form-data"),
                    (b"text", b"plain"),
                ]
                .iter()
                .any(|(t, s)| eq_ignore_case(t, ty) && eq_ignore_case(s, sub))
            })
    } else if name.len() == 5 && is(b"range") {
        // Step 2, `range`: a single range with a non-null start.
        matches!(parse_single_range(value), Some((Some(_), _)))
    } else {
        false
    }
}

/// Whether some profile could safelist `(name, value)` where the standard does not (D2, D3):
/// when false, [`deviation_safelisted`] is `None` under every profile.
pub(crate) fn deviation_candidate(name: &[u8], value: &[u8]) -> bool {
    value.len() <= 128 && (eq_ignore_case(name, b"range") || is_chromium_client_hint_name(name))
}

/// The deviation (its id) under which `profile` safelists a request header the standard
/// does not (D2, D3), if any.
fn deviation_safelisted(name: &[u8], value: &[u8], profile: &Profile) -> Option<RuleId> {
    if value.len() > 128 {
        return None;
    }
    if profile.range_lowercased_before_parse && eq_ignore_case(name, b"range") {
        // D3: Chromium lower-cases the value before parsing.
        return match parse_single_range(&value.to_ascii_lowercase()) {
            Some((Some(_), _)) => Some(RuleId::D3),
            _ => None,
        };
    }
    if profile.client_hints_safelisted && chromium_client_hint(name, value) {
        return Some(RuleId::D2);
    }
    None
}

/// Chromium's extra safelisted request headers (D2): `intervention`, and client hints with
/// values of their expected shape (Chromium `cors.cc` IsCorsSafelistedHeader).
/// Whether a name is one of the client hints (or `intervention`) Chromium safelists (D2).
pub fn is_chromium_client_hint_name(name: &[u8]) -> bool {
    // Dispatch on the length first: most names are none of these.
    if !matches!(name.len(), 3 | 5 | 8 | 9 | 12 | 13 | 14) {
        return false;
    }
    [
        &b"intervention"[..],
        b"device-memory",
        b"dpr",
        b"downlink",
        b"width",
        b"viewport-width",
        b"rtt",
        b"ect",
        b"save-data",
    ]
    .iter()
    .any(|n| eq_ignore_case(name, n))
}

fn chromium_client_hint(name: &[u8], value: &[u8]) -> bool {
    let is = |n: &[u8]| eq_ignore_case(name, n);
    let int_like = |v: &[u8]| !v.is_empty() && v.iter().all(u8::is_ascii_digit);
    let double_like = |v: &[u8]| {
        !v.is_empty()
            && v.iter().all(|&b| b.is_ascii_digit() || b == b'.')
            && v.iter().filter(|&&b| b == b'.').count() <= 1
    };
    if is(b"intervention") {
        true
    } else if is(b"device-memory") || is(b"dpr") || is(b"downlink") {
        double_like(value)
    } else if is(b"width") || is(b"viewport-width") || is(b"rtt") {
        int_like(value)
    } else if is(b"ect") {
        matches!(value, b"slow-2g" | b"2g" | b"3g" | b"4g")
    } else if is(b"save-data") {
        eq_ignore_case(value, b"on")
    } else {
        false
    }
}

/// A header name and its (possibly combined) value.
type Entry<'a> = (&'a [u8], std::borrow::Cow<'a, [u8]>);

/// The CORS-unsafe request-header names of a header list (R18), borrowed from the list:
/// byte-lowercase order, deduplicated byte-case-insensitively. Use [`UnsafeNames::joined`]
/// for the `Access-Control-Request-Headers` value.
#[derive(Clone, Default)]
pub struct UnsafeNames<'a> {
    /// The names, when computed here.
    names: SmallVec<[&'a [u8]; 8]>,
    /// Or the names as positions in a request's header list (`names` is then empty): what a
    /// request whose classification no profile changes gives without copying a name.
    indexed: Indexed<'a>,
    /// Deviation ids that changed the result (a header safelisted only by a browser).
    pub deviations: SmallVec<[RuleId; 2]>,
}

/// Names by position: the names of `headers[i]` for each `i` of `order`, in that order.
#[derive(Clone, Copy, Default)]
struct Indexed<'a> {
    headers: &'a [(Vec<u8>, Vec<u8>)],
    order: &'a [usize],
}

impl PartialEq for UnsafeNames<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter()) && self.deviations == other.deviations
    }
}

impl Eq for UnsafeNames<'_> {}

impl std::fmt::Debug for UnsafeNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Names<'n, 'a>(&'n UnsafeNames<'a>);
        impl std::fmt::Debug for Names<'_, '_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list().entries(self.0.iter()).finish()
            }
        }
        f.debug_struct("UnsafeNames")
            .field("names", &Names(self))
            .field("deviations", &self.deviations)
            .finish()
    }
}

impl<'a> UnsafeNames<'a> {
    /// Computes the CORS-unsafe request-header names of `headers` (R18,
    /// `#cors-unsafe-request-header-names`).
    ///
    /// ```
    /// use corsproof_oracle::{headers::UnsafeNames, Profile};
    /// let h: Vec<(Vec<u8>, Vec<u8>)> = vec![
    ///     (b"X-B".to_vec(), b"1".to_vec()), (b"content-type".to_vec(), b"application/json".to_vec()),
    ///     (b"x-b".to_vec(), b"2".to_vec()), (b"Accept".to_vec(), b"*/*".to_vec()),
    /// ];
    /// assert_eq!(UnsafeNames::of(&h, &Profile::fetch()).joined(), "content-type,x-b");
    /// ```
    pub fn of<I>(headers: I, profile: &Profile) -> UnsafeNames<'a>
    where
        I: IntoIterator<Item = &'a (Vec<u8>, Vec<u8>)>,
    {
        let headers: SmallVec<[&'a (Vec<u8>, Vec<u8>); 8]> = headers.into_iter().collect();
        Self::of_list(&headers, profile)
    }

    /// [`UnsafeNames::of`]'s work, not generic: compiled once, in this crate, whoever calls
    /// (a fuzz build instruments it here even when the caller's crate is not instrumented).
    fn of_list(headers: &[&'a (Vec<u8>, Vec<u8>)], profile: &Profile) -> UnsafeNames<'a> {
        let entries = headers
            .iter()
            .map(|(n, v)| (n.as_slice(), std::borrow::Cow::Borrowed(v.as_slice()), None));
        let standard = Self::collect(entries, false, profile);
        if !profile.combined_request_header_values
            || !headers
                .iter()
                .enumerate()
                .any(|(i, (n, _))| headers[..i].iter().any(|(m, _)| eq_ignore_case(m, n)))
        {
            return standard;
        }
        // D16: the browser keeps one header per name, duplicates combined with `, `, and
        // judges the combined value.
        let mut combined: SmallVec<[Entry<'a>; 8]> = SmallVec::new();
        for (n, v) in headers.iter() {
            match combined.iter_mut().find(|(m, _)| eq_ignore_case(m, n)) {
                Some((_, c)) => {
                    let c = c.to_mut();
                    c.extend_from_slice(b", ");
                    c.extend_from_slice(v);
                }
                None => combined.push((n.as_slice(), std::borrow::Cow::Borrowed(v.as_slice()))),
            }
        }
        let mut out = Self::collect(
            combined.into_iter().map(|(n, v)| (n, v, None)),
            false,
            profile,
        );
        if out.names != standard.names && !out.deviations.contains(&RuleId::D16) {
            out.deviations.push(RuleId::D16);
            out.deviations.sort_unstable();
        }
        out
    }

    /// [`UnsafeNames::of`] for a header list already in byte-lowercase name order, with no
    /// name twice (D16 does not apply), each header with its standard verdict
    /// ([`standard_safelisted`]) computed beforehand: what a [`crate::Request`] keeps of its
    /// header list so that each fetch of it does not classify and sort again.
    pub(crate) fn of_sorted<I>(headers: I, profile: &Profile) -> UnsafeNames<'a>
    where
        I: IntoIterator<Item = (&'a [u8], &'a [u8], bool)>,
    {
        let entries = headers
            .into_iter()
            .map(|(n, v, standard)| (n, std::borrow::Cow::Borrowed(v), Some(standard)));
        Self::collect(entries, true, profile)
    }

    /// Steps 1-4 over (name, value, standard verdict if already known).
    fn collect<I>(headers: I, sorted: bool, profile: &Profile) -> UnsafeNames<'a>
    where
        I: IntoIterator<Item = (&'a [u8], std::borrow::Cow<'a, [u8]>, Option<bool>)>,
    {
        let mut names: SmallVec<[&'a [u8]; 8]> = SmallVec::new();
        let mut deviations = SmallVec::new();
        let mut safelisted_value_bytes = 0usize;
        let mut all: SmallVec<[&'a [u8]; 8]> = SmallVec::new();
        // Steps 1-3: every header that is not a CORS-safelisted request-header is unsafe;
        // sum the value lengths of the ones that are.
        for (name, value, standard) in headers {
            all.push(name);
            let standard = standard.unwrap_or_else(|| standard_safelisted(name, &value));
            let safelisted = standard || {
                let deviation = deviation_safelisted(name, &value, profile);
                if let Some(id) = deviation {
                    if !deviations.contains(&id) {
                        deviations.push(id);
                    }
                }
                deviation.is_some()
            };
            if safelisted {
                safelisted_value_bytes += value.len();
            } else {
                names.push(name);
            }
        }
        // Step 3.2: more than 1024 bytes of safelisted values makes them all unsafe (D22:
        // Firefox has no such total).
        if safelisted_value_bytes > 1024 {
            if profile.safelisted_total_limit {
                names = all;
            } else if !deviations.contains(&RuleId::D22) {
                deviations.push(RuleId::D22);
            }
        }
        // Step 4: convert to a sorted-lowercase set (D21: Firefox keeps one per line).
        if !sorted {
            names.sort_by(|a, b| crate::grammar::cmp_lowercase(a, b));
        }
        if profile.acrh_deduplicated {
            names.dedup_by(|a, b| eq_ignore_case(a, b));
        }
        // The deviation ids in a canonical order, whatever the order of the headers.
        deviations.sort_unstable();
        UnsafeNames {
            names,
            indexed: Indexed::default(),
            deviations,
        }
    }

    /// Sets `self` to the names of `headers[i]` for each `i` of `order` (already in
    /// byte-lowercase order, no name twice) with no deviation, in place and without copying
    /// a name: what a request whose classification no profile can change
    /// ([`crate::Request::unsafe_names`]) gives.
    pub(crate) fn set_indexed(&mut self, headers: &'a [(Vec<u8>, Vec<u8>)], order: &'a [usize]) {
        self.names.clear();
        self.indexed = Indexed { headers, order };
        self.deviations.clear();
    }

    /// True when there is no unsafe name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.indexed.order.is_empty()
    }

    /// The names as they appear in the header list (case as written), in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        let Indexed { headers, order } = self.indexed;
        order
            .iter()
            .filter_map(move |&i| headers.get(i).map(|(n, _)| n.as_slice()))
            .chain(self.names.iter().copied())
    }

    /// The `Access-Control-Request-Headers` value: lowercase names joined by `,` (R29).
    pub fn joined(&self) -> String {
        let mut out = String::new();
        self.write_joined(&mut out);
        out
    }

    /// Writes [`UnsafeNames::joined`] into `out` (no allocation once `out` is large enough).
    pub fn write_joined(&self, out: &mut String) {
        for (i, n) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.extend(n.iter().map(|&b| char::from(b.to_ascii_lowercase())));
        }
    }
}

/// CORS non-wildcard request-header name (R20): `Authorization`.
pub fn is_non_wildcard_request_header(name: &[u8]) -> bool {
    eq_ignore_case(name, b"authorization")
}

/// Forbidden response-header names (R51): `Set-Cookie`, `Set-Cookie2`.
pub fn is_forbidden_response_header(name: &[u8]) -> bool {
    match name.len() {
        10 => eq_ignore_case(name, b"set-cookie"),
        11 => eq_ignore_case(name, b"set-cookie2"),
        _ => false,
    }
}

/// The response-header names always CORS-safelisted (R52).
pub fn is_always_safelisted_response_header(name: &[u8]) -> bool {
    let is = |listed: &[u8]| eq_ignore_case(name, listed);
    // Dispatch on the length first: most names are none of these.
    match name.len() {
        6 => is(b"pragma"),
        7 => is(b"expires"),
        12 => is(b"content-type"),
        13 => is(b"cache-control") || is(b"last-modified"),
        14 => is(b"content-length"),
        16 => is(b"content-language"),
        _ => false,
    }
}
