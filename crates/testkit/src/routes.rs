//! What a route holds beyond origins, methods and headers (its path prefix, its `max_age`),
//! and where requests go: paths under and beside the prefixes, whole URLs (cross-origin, off
//! the beaten path).

/// Route path prefixes: `/api/admin/` and `/api/v1/` nest in `/api/`, which nests in `/api`;
/// `/caf%C3%A9/` is what browsers send for `/café/`.
///
/// ```
/// assert!(corsproof_testkit::routes::NESTED_PREFIXES.contains(&"/api/admin/"));
/// ```
pub const NESTED_PREFIXES: [&str; 7] = [
    "/api/",
    "/api/admin/",
    "/public/",
    "/device/",
    "/api/v1/",
    "/api",
    "/caf%C3%A9/",
];

/// Route path prefixes of a small site: the root, a file-like path and its directory.
///
/// ```
/// assert_eq!(corsproof_testkit::routes::SMALL_PREFIXES[0], "/");
/// ```
pub const SMALL_PREFIXES: [&str; 5] = ["/", "/items", "/api/", "/x", "/items/"];

/// What a request appends to a route's prefix: nothing, items, a query, nested paths.
///
/// ```
/// assert!(corsproof_testkit::routes::SUFFIXES.contains(&"a.json?x=1"));
/// ```
pub const SUFFIXES: [&str; 7] = [
    "",
    "items",
    "items/7",
    "a.json?x=1",
    "admin",
    "admin/users",
    "v1/x",
];

/// Paths beside [`NESTED_PREFIXES`] (covered only by a `/` route): near misses of the
/// prefixes, another case, and percent-encoded forms, which routes match after decoding
/// unreserved characters only (`/%61pi/items` is under `/api/` after all; `/api%2Fitems` and
/// `/caf%c3%a9/` are not under `/api/` and `/caf%C3%A9/`).
///
/// ```
/// assert!(corsproof_testkit::routes::UNCOVERED.contains(&"/API/items"));
/// ```
pub const UNCOVERED: [&str; 9] = [
    "/other",
    "/apix",
    "/api",
    "/API/items",
    "/api-docs/",
    "/device",
    "/%61pi/items",
    "/api%2Fitems",
    "/caf%c3%a9/",
];

/// Request targets of raw requests: paths under and beside the routes of the tests' policy,
/// the root.
///
/// ```
/// assert!(corsproof_testkit::routes::RAW.contains(&"/apix"));
/// ```
pub const RAW: [&str; 7] = [
    "/",
    "/api/",
    "/api/x",
    "/api/admin/x",
    "/public/",
    "/device/x",
    "/apix",
];

/// Request targets no browser sends: an invalid escape, `*`, an absolute URL, a dot segment.
///
/// ```
/// assert!(corsproof_testkit::routes::ODD_TARGETS.contains(&"*"));
/// ```
pub const ODD_TARGETS: [&str; 8] = [
    "/api/x",
    "/api/admin/",
    "/public/%ff",
    "/device/a?b=c",
    "/",
    "*",
    "https://api.example.com/api/x",
    "/api/../admin",
];

/// URLs cross-origin to every page of [`crate::origins::PAGES`] but the one with the same
/// origin: queries, ports, another site, localhost.
///
/// ```
/// assert!(corsproof_testkit::routes::CROSS_ORIGIN_URLS.contains(&"https://other.test/"));
/// ```
pub const CROSS_ORIGIN_URLS: [&str; 6] = [
    "https://api.example.com/items",
    "https://api.example.com/items?id=1&x=%20",
    "http://api.example.com:8080/x",
    "https://other.test/",
    "https://app.example.com:8443/items",
    "http://localhost:3001/api",
];

/// URLs off the beaten path: other schemes, IPv6, IDNA, odd ports, scheme-relative, upper
/// case.
///
/// ```
/// assert!(corsproof_testkit::routes::ODD_URLS.contains(&"about:blank"));
/// ```
pub const ODD_URLS: [&str; 17] = [
    "data:text/plain,x",
    "ftp://x.test/",
    "http://[::1]:8080/",
    "https://xn--nxasmq6b.com/",
    "https://ëxample.com/a",
    "http://127.0.0.1:80/",
    "blob:https://app.example.com/uuid",
    "file:///etc/passwd",
    "about:blank",
    "javascript:alert(1)",
    "ws://api.example.com/",
    "https://api.example.com:65535/",
    "//evil.test/x",
    "https://api.example.com:0/",
    "http://a.test:99999/",
    "https://app.example.com:8443/",
    "HTTPS://APP.EXAMPLE.COM/",
];

/// `max_age` seconds a route grants: zero, the browser default, typical, Chromium's cap,
/// Firefox's cap, and one above every cap (risky).
///
/// ```
/// assert_eq!(corsproof_testkit::routes::MAX_AGES.last(), Some(&100_000));
/// ```
pub const MAX_AGES: [u64; 6] = [0, 5, 600, 7200, 86400, 100_000];

/// URLs of the `oracle` fuzz target, on the `.test` site, non-HTTP ones too (picked by index:
/// order and length are part of the corpora's format).
///
/// ```
/// assert_eq!(corsproof_testkit::routes::FUZZ_URLS.len(), 7);
/// ```
pub const FUZZ_URLS: [&str; 7] = [
    "https://api.test/items",
    "http://api.test/items?q=1",
    "https://app.test/same",
    "http://127.0.0.1:8080/x",
    "https://api.test:8443/",
    "data:text/plain,hi",
    "ftp://api.test/file",
];

/// Route prefixes of a `middleware_vs_intent` policy (picked by index).
///
/// ```
/// assert_eq!(corsproof_testkit::routes::FUZZ_PREFIXES[0], "/");
/// ```
pub const FUZZ_PREFIXES: [&str; 4] = ["/", "/api/", "/api/admin/", "/public/"];

/// Request paths of `middleware_vs_intent` (picked by index): under and beside its prefixes.
///
/// ```
/// assert!(corsproof_testkit::routes::FUZZ_REQUESTS.contains(&"/other"));
/// ```
pub const FUZZ_REQUESTS: [&str; 6] = [
    "/",
    "/api/items?q=1",
    "/api/admin/x",
    "/public/a",
    "/other",
    "/api",
];

/// `max_age` of a `middleware_vs_intent` route (picked by index): none, then some of
/// [`MAX_AGES`].
///
/// ```
/// assert_eq!(corsproof_testkit::routes::FUZZ_MAX_AGES[0], None);
/// ```
pub const FUZZ_MAX_AGES: [Option<u64>; 5] = [None, Some(0), Some(5), Some(600), Some(86400)];
