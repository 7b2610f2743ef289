//! Request headers by class: CORS-safelisted pairs, unsafe pairs, forbidden pairs and names,
//! `Authorization`, client hints, values at the 128-byte limit, unsafe bytes; the names a
//! policy lists; and the raw header lines of requests sent without a browser.

/// (name, value) pairs that are CORS-safelisted request headers in every profile.
///
/// ```
/// let names: Vec<&str> = corsproof_testkit::headers::SAFELISTED.iter().map(|p| p.0).collect();
/// assert!(names.contains(&"Range"));
/// ```
pub const SAFELISTED: [(&str, &str); 11] = [
    ("Accept", "*/*"),
    ("Accept", "application/json, text/plain"),
    ("Accept-Language", "fr"),
    ("Accept-Language", "en-US,en;q=0.9"),
    ("Content-Language", "de-DE"),
    ("Content-Type", "text/plain"),
    ("Content-Type", "Text/Plain;charset=utf-8"),
    ("Content-Type", "application/x-www-form-urlencoded"),
    ("Content-Type", "multipart/form-data; boundary=x"),
    ("Range", "bytes=0-"),
    ("Range", "bytes=5-10"),
];

/// (name, value) pairs that are not CORS-safelisted under the standard's rules: safelisted
/// names with unsafe values (some of which Chromium accepts), custom names, `Authorization`,
/// client hints, method overrides.
///
/// ```
/// assert!(corsproof_testkit::headers::UNSAFE.contains(&("Content-Type", "application/json")));
/// ```
pub const UNSAFE: [(&str, &str); 22] = [
    ("Accept", "\"x\""),
    ("Accept-Language", "fr(ch)"),
    ("Content-Language", "de@x"),
    ("Content-Type", "application/json"),
    ("Content-Type", "text/html"),
    ("Content-Type", "text /plain"),
    ("Content-Type", "text/plain,text/plain"),
    ("Content-Type", "text/plain; charset=\"utf-8\""),
    ("Content-Type", ""),
    ("Range", "bytes=-500"),
    ("Range", "bytes=10-5"),
    ("Range", "Bytes=0-1"),
    ("Range", "BYTES=0-1"),
    ("Range", "bytes=0-1,2-3"),
    ("Range", "bytes 0-"),
    ("X-Request-Id", "1"),
    ("X-Trace", "a"),
    ("X-Custom-Header", "abc"),
    ("Authorization", "Bearer t"),
    ("DPR", "2"),
    ("Save-Data", "on"),
    ("X-HTTP-Method-Override", "GET"),
];

/// Forbidden request headers: the browser drops them silently (by name, by prefix, or a
/// method override naming a forbidden method).
///
/// ```
/// assert!(corsproof_testkit::headers::FORBIDDEN.contains(&("Cookie", "a=b")));
/// ```
pub const FORBIDDEN: [(&str, &str); 11] = [
    ("Cookie", "a=b"),
    ("Origin", "https://evil.test"),
    ("Sec-Fetch-Mode", "cors"),
    ("Proxy-Authorization", "x"),
    ("Host", "x"),
    ("X-HTTP-Method-Override", "TRACE"),
    ("X-Method-Override", "get, track"),
    ("Content-Length", "1"),
    ("Access-Control-Request-Headers", "x"),
    ("Referer", "https://x.test/"),
    ("Connection", "close"),
];

/// Request-header names forbidden whatever their value, lowercase.
///
/// ```
/// assert!(corsproof_testkit::headers::FORBIDDEN_NAMES.contains(&"cookie"));
/// ```
pub const FORBIDDEN_NAMES: [&str; 21] = [
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// Prefixes that make a request-header name forbidden.
///
/// ```
/// assert_eq!(corsproof_testkit::headers::FORBIDDEN_PREFIXES, ["sec-", "proxy-"]);
/// ```
pub const FORBIDDEN_PREFIXES: [&str; 2] = ["sec-", "proxy-"];

/// Client hints script may set, with plausible values (Chromium safelists some of them).
///
/// ```
/// assert!(corsproof_testkit::headers::CLIENT_HINTS.iter().any(|(n, _)| *n == "Save-Data"));
/// ```
pub const CLIENT_HINTS: [(&str, &str); 5] = [
    ("DPR", "2"),
    ("Save-Data", "on"),
    ("Viewport-Width", "1280"),
    ("Width", "640"),
    ("Device-Memory", "8"),
];

/// A safelisted value is at most this many bytes long.
///
/// ```
/// assert_eq!(corsproof_testkit::headers::VALUE_LIMIT, 128);
/// ```
pub const VALUE_LIMIT: usize = 128;

/// Values around [`VALUE_LIMIT`]: (name, filler byte, length, prefix). The value is `prefix`
/// followed by `filler` up to `length` bytes in all: one byte over, far over and exactly at
/// the limit for safelisted names, and a long custom header.
///
/// ```
/// use corsproof_testkit::headers::{long_value, AT_THE_LIMIT};
/// let (name, value) = long_value(AT_THE_LIMIT[4]);
/// assert_eq!((name, value.len()), ("Accept", 128));
/// ```
pub const AT_THE_LIMIT: [(&str, u8, usize, &str); 5] = [
    ("Accept", b'a', 129, ""),
    ("Accept-Language", b'a', 200, ""),
    ("Content-Type", b'a', 141, "text/plain;"),
    ("X-Long", b'x', 300, ""),
    ("Accept", b'b', 128, ""),
];

/// The (name, value) of an [`AT_THE_LIMIT`] row.
///
/// ```
/// let (_, v) = corsproof_testkit::headers::long_value(("Content-Type", b'a', 141, "text/plain;"));
/// assert!(v.starts_with("text/plain;aaa") && v.len() == 141);
/// ```
pub fn long_value(
    (name, filler, length, prefix): (&'static str, u8, usize, &'static str),
) -> (&'static str, String) {
    let fill = length.saturating_sub(prefix.len());
    let filler = char::from(filler).to_string().repeat(fill);
    (name, format!("{prefix}{filler}"))
}

/// Bytes that make a safelisted header's value CORS-unsafe.
///
/// ```
/// assert!(corsproof_testkit::headers::UNSAFE_BYTES.contains(&b'"'));
/// ```
pub const UNSAFE_BYTES: [u8; 15] = [
    b'"', b'(', b')', b':', b'<', b'>', b'?', b'@', b'[', b'\\', b']', b'{', b'}', 0x7f, 0x01,
];

/// Headers script sets most: safelisted ones (mostly) and CORS-unsafe ones, a name in two
/// cases.
///
/// ```
/// assert!(corsproof_testkit::headers::COMMON.contains(&("x-custom", "2")));
/// ```
pub const COMMON: [(&str, &str); 11] = [
    ("Accept", "application/json"),
    ("Accept", "*/*"),
    ("Content-Type", "text/plain"),
    ("Content-Type", "text/plain;charset=UTF-8"),
    ("Accept-Language", "de-CH"),
    ("Content-Type", "application/json"),
    ("X-Request-Id", "42"),
    ("X-Custom", "1"),
    ("x-custom", "2"),
    ("Authorization", "Bearer t0k3n"),
    ("Accept-Language", "en"),
];

/// Request-header names a route lists (`request_headers`), with `authorization`.
///
/// ```
/// assert!(corsproof_testkit::headers::LISTED.contains(&"authorization"));
/// ```
pub const LISTED: [&str; 4] = ["x-request-id", "content-type", "authorization", "x-custom"];

/// Request-header names a route lists, a wider pool: the names of [`UNSAFE`] and a client
/// hint.
///
/// ```
/// assert!(corsproof_testkit::headers::LISTED_WIDE.contains(&"dpr"));
/// ```
pub const LISTED_WIDE: [&str; 8] = [
    "x-request-id",
    "x-trace",
    "content-type",
    "authorization",
    "x-custom-header",
    "range",
    "dpr",
    "x-http-method-override",
];

/// Response-header names a route exposes (`expose_headers`), `set-cookie` among them.
///
/// ```
/// assert!(corsproof_testkit::headers::EXPOSED.contains(&"set-cookie"));
/// ```
pub const EXPOSED: [&str; 4] = ["x-request-id", "x-total-count", "date", "set-cookie"];

/// Response-header names a route exposes, without `set-cookie`.
///
/// ```
/// assert!(!corsproof_testkit::headers::EXPOSED_PLAIN.contains(&"set-cookie"));
/// ```
pub const EXPOSED_PLAIN: [&str; 4] = ["x-request-id", "x-custom", "date", "content-type"];

/// Names of the header lines a raw request carries: the CORS request headers, `Vary`, a
/// custom one.
///
/// ```
/// assert_eq!(corsproof_testkit::headers::RAW_NAMES[0], "origin");
/// ```
pub const RAW_NAMES: [&str; 6] = [
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "access-control-request-private-network",
    "vary",
    "x-junk",
];

/// Values of `Access-Control-Request-Headers` a raw preflight carries: listed names, odd
/// spacing and empty elements, an unknown name, a non-token, a comma alone.
///
/// ```
/// assert!(corsproof_testkit::headers::ACRH.contains(&"bad header"));
/// ```
pub const ACRH: [&str; 9] = [
    "",
    "x-request-id",
    "content-type,x-custom",
    "authorization",
    "X-Custom , ,x-request-id",
    "x-unknown",
    "bad header",
    "content-type,authorization,x-request-id,x-custom",
    ",",
];

/// Values of `Access-Control-Request-Private-Network`.
///
/// ```
/// assert_eq!(corsproof_testkit::headers::ACRPN, ["true", "false"]);
/// ```
pub const ACRPN: [&str; 2] = ["true", "false"];

/// Values that look right on a raw header line: origins allowed or nearly, `null`, methods,
/// name lists, `*`, `true`, empty and blank, two origins in one line.
///
/// ```
/// assert!(corsproof_testkit::headers::PLAUSIBLE.contains(&"https://a..example.com"));
/// ```
pub const PLAUSIBLE: [&str; 19] = [
    "https://app.example.com",
    "https://a.example.com",
    "https://a..example.com",
    "https://.example.com",
    "https://a.partner.example",
    "https://partner.example",
    "null",
    "PUT",
    "patch",
    "true",
    "x-request-id, content-type",
    "content-type, x-request-id",
    "authorization",
    "*",
    "",
    " ",
    "https://app.example.com, https://app.example.com",
    "Origin",
    "Accept-Encoding",
];

/// Pieces that long raw values are repeated from.
///
/// ```
/// assert!(corsproof_testkit::headers::PIECES.contains(&&b"\xff\xfe"[..]));
/// ```
pub const PIECES: [&[u8]; 9] = [
    b"a",
    b"x-request-id,",
    b" ,\t,",
    b",",
    b"*",
    b"\xff\xfe",
    b"https://a.",
    b"authorization, ",
    b"x-custom",
];

/// Request-header names of the fuzz targets, mixed case on purpose, response-side names
/// among them (picked by index: order and length are part of the corpora's format).
///
/// ```
/// assert_eq!(corsproof_testkit::headers::FUZZ_NAMES.len(), 24);
/// ```
pub const FUZZ_NAMES: [&str; 24] = [
    "Origin",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
    "access-control-request-headers",
    "Content-Type",
    "Content-Language",
    "Accept",
    "Accept-Language",
    "Range",
    "Authorization",
    "Cookie",
    "Set-Cookie",
    "Set-Cookie2",
    "X-Request-Id",
    "x-total-count",
    "Vary",
    "Location",
    "Date",
    "*",
];

/// Request-header values of the `oracle` fuzz target (picked by index).
///
/// ```
/// assert!(corsproof_testkit::headers::FUZZ_VALUES.contains(&"bytes=0-"));
/// ```
pub const FUZZ_VALUES: [&str; 8] = [
    "application/json",
    "text/plain",
    "bytes=0-",
    "en",
    "Bearer x",
    "\"",
    "a=b",
    "1",
];

/// Request headers of the `middleware_vs_intent` fuzz target (picked by index).
///
/// ```
/// assert_eq!(corsproof_testkit::headers::FUZZ_PAIRS[8], ("Range", "bytes=0-"));
/// ```
pub const FUZZ_PAIRS: [(&str, &str); 9] = [
    ("Content-Type", "application/json"),
    ("Content-Type", "text/plain"),
    ("X-Request-Id", "1"),
    ("Authorization", "Bearer x"),
    ("Accept-Language", "en"),
    ("Accept-Language", "\""),
    ("X-Custom", "v"),
    ("x-other", "v"),
    ("Range", "bytes=0-"),
];

/// Names a `middleware_vs_intent` policy lists or exposes (bit `i` picks name `i`).
///
/// ```
/// assert!(corsproof_testkit::headers::FUZZ_LISTED.contains(&"accept-language"));
/// ```
pub const FUZZ_LISTED: [&str; 6] = [
    "x-request-id",
    "content-type",
    "authorization",
    "x-custom",
    "x-total-count",
    "accept-language",
];

/// Names a `header_lists` policy allows and its ACRH elements (bit `i` picks name `i`; `*`
/// last).
///
/// ```
/// assert_eq!(corsproof_testkit::headers::FUZZ_ACRH_NAMES[7], "*");
/// ```
pub const FUZZ_ACRH_NAMES: [&str; 8] = [
    "x-a",
    "x-request-id",
    "content-type",
    "authorization",
    "accept",
    "x-b",
    "x-custom-header",
    "*",
];

/// Separators between ACRH elements: commas with and without optional whitespace, an empty
/// element.
///
/// ```
/// assert!(corsproof_testkit::headers::LIST_SEPARATORS.contains(&",,"));
/// ```
pub const LIST_SEPARATORS: [&str; 6] = [",", ", ", " ,", ",,", "\t,\t", " , "];
