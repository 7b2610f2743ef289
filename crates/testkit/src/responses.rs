//! CORS response header values by header: ACAO, ACAC, ACAM, ACAH and ACEH elements, Max-Age,
//! the other response headers around them, `Location` targets, the inner service's `Vary`.

/// `Access-Control-Allow-Origin` values that do not depend on the request's origin: `*` and
/// its broken spellings, `null`, a stranger, nothing. [`acao_forms`] gives the ones that do.
///
/// ```
/// assert!(corsproof_testkit::responses::ACAO_FIXED.contains(&"*, *"));
/// ```
pub const ACAO_FIXED: [&str; 5] = ["null", "https://evil.test", "", " * ", "*, *"];

/// `Access-Control-Allow-Origin` values derived from the request's `origin`: echoed with a
/// trailing slash, in upper case, after a tab, twice in one line.
///
/// ```
/// let forms = corsproof_testkit::responses::acao_forms("https://a.example");
/// assert_eq!(forms[0], "https://a.example/");
/// assert_eq!(forms[3], "https://a.example, https://a.example");
/// ```
pub fn acao_forms(origin: &str) -> [String; 4] {
    [
        format!("{origin}/"),
        origin.to_ascii_uppercase(),
        format!("\t{origin}"),
        format!("{origin}, {origin}"),
    ]
}

/// `Access-Control-Allow-Credentials` values: `true` and its near misses.
///
/// ```
/// assert_eq!(corsproof_testkit::responses::ACAC[0], "true");
/// ```
pub const ACAC: [&str; 7] = [
    "true",
    "True",
    "TRUE",
    "\"true\"",
    "false",
    "true, true",
    "1",
];

/// `Access-Control-Allow-Methods` elements: methods in both cases, `*`, custom tokens, a
/// non-token, nothing.
///
/// ```
/// assert!(corsproof_testkit::responses::ACAM_ELEMENTS.contains(&"Bad value"));
/// ```
pub const ACAM_ELEMENTS: [&str; 15] = [
    "GET",
    "PUT",
    "put",
    "DELETE",
    "PATCH",
    "patch",
    "POST",
    "*",
    "NEW",
    "purge",
    "OPTIONS",
    "M-SEARCH",
    "get",
    "Bad value",
    "",
];

/// `Access-Control-Allow-Headers` elements: names in both cases, `*`, safelisted names,
/// client hints, a non-token, nothing.
///
/// ```
/// assert!(corsproof_testkit::responses::ACAH_ELEMENTS.contains(&"Authorization"));
/// ```
pub const ACAH_ELEMENTS: [&str; 18] = [
    "x-request-id",
    "X-Request-Id",
    "x-trace",
    "content-type",
    "Content-Type",
    "authorization",
    "Authorization",
    "*",
    "x-custom-header",
    "range",
    "accept",
    "accept-language",
    "content-language",
    "dpr",
    "save-data",
    "x-http-method-override",
    "Bad value",
    "",
];

/// `Access-Control-Expose-Headers` elements: custom names, `*`, forbidden response headers,
/// safelisted ones, non-tokens, nothing.
///
/// ```
/// assert!(corsproof_testkit::responses::ACEH_ELEMENTS.contains(&"Set-Cookie2"));
/// ```
pub const ACEH_ELEMENTS: [&str; 11] = [
    "x-request-id",
    "X-Custom",
    "*",
    "set-cookie",
    "Set-Cookie2",
    "date",
    "server",
    "content-type",
    "no no",
    "\"bb-8\"",
    "",
];

/// `Access-Control-Max-Age` values: around the browsers' caps (7200, 86400), zero, and ones
/// that are no delta-seconds.
///
/// ```
/// assert!(corsproof_testkit::responses::MAX_AGE_VALUES.contains(&"1.5"));
/// ```
pub const MAX_AGE_VALUES: [&str; 16] = [
    "0", "5", "600", "7199", "7200", "7201", "86399", "86400", "86401", "100000", "-1", "", "abc",
    "1.5", " 600 ", "0600",
];

/// Max-Age seconds on both sides of the caps, to combine with numbers drawn at random.
///
/// ```
/// assert!(corsproof_testkit::responses::MAX_AGE_EDGES.contains(&86401));
/// ```
pub const MAX_AGE_EDGES: [u64; 8] = [599, 600, 7199, 7200, 7201, 86399, 86400, 86401];

/// Separators between list elements of a response header.
///
/// ```
/// assert_eq!(corsproof_testkit::responses::LIST_SEPARATORS.len(), 3);
/// ```
pub const LIST_SEPARATORS: [&str; 3] = [", ", ",", " , "];

/// Response headers around the CORS ones: safelisted, custom, cookies, a `*` name.
///
/// ```
/// assert!(corsproof_testkit::responses::OTHER.contains(&("Set-Cookie", "a=b")));
/// ```
pub const OTHER: [(&str, &str); 10] = [
    ("Content-Type", "text/plain"),
    ("X-Request-Id", "1"),
    ("X-Custom", "v"),
    ("Set-Cookie", "a=b"),
    ("set-cookie2", "a=b"),
    ("Date", "Tue, 01 Jul 2025 00:00:00 GMT"),
    ("Server", "x"),
    ("Cache-Control", "no-cache"),
    ("Content-Length", "3"),
    ("*", "star"),
];

/// `Location` targets of redirects: same and other origins, relative, `data:`, credentials in
/// the URL, an unparsable one.
///
/// ```
/// assert!(corsproof_testkit::responses::LOCATIONS.contains(&"http://[bad"));
/// ```
pub const LOCATIONS: [&str; 7] = [
    "https://api.example.com/next",
    "/relative?x=1",
    "https://app.example.com/back",
    "http://other.test:8080/",
    "data:text/plain,x",
    "https://u:p@api.example.com/",
    "http://[bad",
];

/// Statuses of redirects.
///
/// ```
/// assert!(corsproof_testkit::responses::REDIRECTS.contains(&308));
/// ```
pub const REDIRECTS: [u16; 5] = [301, 302, 303, 307, 308];

/// The inner service's own `Vary`: usually `Accept-Encoding`; `origin` already named; the
/// CORS request headers in odd case; `*`.
///
/// ```
/// assert_eq!(corsproof_testkit::responses::VARY[3], "*");
/// ```
pub const VARY: [&str; 4] = [
    "Accept-Encoding",
    "origin",
    "Accept-Encoding, ORIGIN, access-control-request-method",
    "*",
];

/// Response-header names of the `oracle` fuzz target: the CORS set (ACAO in two cases) and a
/// few others (picked by index: order and length are part of the corpora's format).
///
/// ```
/// assert_eq!(corsproof_testkit::responses::FUZZ_NAMES.len(), 14);
/// ```
pub const FUZZ_NAMES: [&str; 14] = [
    "Access-Control-Allow-Origin",
    "access-control-allow-origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
    "Set-Cookie",
    "Set-Cookie2",
    "X-Request-Id",
    "Content-Type",
    "Location",
    "Vary",
];

/// Response-header values of the `oracle` fuzz target, on the `.test` site (picked by index).
///
/// ```
/// assert!(corsproof_testkit::responses::FUZZ_VALUES.contains(&"*, authorization"));
/// ```
pub const FUZZ_VALUES: [&str; 16] = [
    "*",
    "null",
    "true",
    "TRUE",
    "https://app.test",
    "https://app.test/",
    "http://app.test",
    "PUT, DELETE",
    "put",
    "*, authorization",
    "x-request-id, set-cookie",
    "600",
    "-1",
    "https://api.test/next",
    "/elsewhere",
    "",
];
