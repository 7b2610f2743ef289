//! Request methods by class: CORS-safelisted, normalized by Fetch in any spelling, odd case
//! (`patch` is not normalized), custom tokens, forbidden; and the pools the suites draw from.

/// The CORS-safelisted methods.
///
/// ```
/// assert_eq!(corsproof_testkit::methods::SAFELISTED, ["GET", "HEAD", "POST"]);
/// ```
pub const SAFELISTED: [&str; 3] = ["GET", "HEAD", "POST"];

/// Methods Fetch refuses (forbidden methods), in any case.
///
/// ```
/// assert!(corsproof_testkit::methods::FORBIDDEN.contains(&"TRACE"));
/// ```
pub const FORBIDDEN: [&str; 3] = ["CONNECT", "TRACE", "TRACK"];

/// The safelisted methods in several spellings (Fetch normalizes them to upper case).
///
/// ```
/// use corsproof_testkit::methods::SAFELISTED_SPELLINGS;
/// assert!(SAFELISTED_SPELLINGS.iter().all(|m| ["GET", "HEAD", "POST"].contains(&&*m.to_ascii_uppercase())));
/// ```
pub const SAFELISTED_SPELLINGS: [&str; 9] = [
    "GET", "HEAD", "POST", "get", "Get", "head", "HeAd", "post", "Post",
];

/// What script passes as a method, in every spelling class: normalized ones in upper, lower
/// and mixed case, `PATCH` and `patch` (not normalized), `OPTIONS`, custom tokens.
///
/// ```
/// assert!(corsproof_testkit::methods::SPELLINGS.contains(&"pUt"));
/// ```
pub const SPELLINGS: [&str; 21] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "get", "Get", "head", "post", "Post", "put",
    "pUt", "delete", "patch", "Patch", "OPTIONS", "options", "NEW", "purge", "M-SEARCH",
];

/// What script uses most: `GET` and `POST` twice as often as the rest, a lowercase `patch`
/// and a custom token.
///
/// ```
/// let m = corsproof_testkit::methods::COMMON;
/// assert_eq!(m.iter().filter(|x| **x == "GET").count(), 2);
/// ```
pub const COMMON: [&str; 12] = [
    "GET", "GET", "HEAD", "POST", "POST", "PUT", "PUT", "DELETE", "PATCH", "patch", "PURGE",
    "OPTIONS",
];

/// Methods a route lists in the tests: beyond the safelisted, a custom token and `OPTIONS`.
///
/// ```
/// assert!(corsproof_testkit::methods::LISTED.contains(&"PURGE"));
/// ```
pub const LISTED: [&str; 6] = ["PUT", "DELETE", "PATCH", "POST", "PURGE", "OPTIONS"];

/// Methods a route lists where case matters: `PATCH` and `patch` both, safelisted ones, a
/// custom token.
///
/// ```
/// assert!(corsproof_testkit::methods::LISTED_CASED.contains(&"patch"));
/// ```
pub const LISTED_CASED: [&str; 7] = ["PUT", "DELETE", "PATCH", "patch", "NEW", "POST", "GET"];

/// Methods a policy file may spell: upper and lower case, `OPTIONS`, a WebDAV method.
///
/// ```
/// assert!(corsproof_testkit::methods::WRITTEN.contains(&"PROPFIND"));
/// ```
pub const WRITTEN: [&str; 7] = [
    "GET", "PUT", "DELETE", "PATCH", "put", "OPTIONS", "PROPFIND",
];

/// Methods of requests sent without a browser (besides `OPTIONS`): odd case and custom
/// tokens, `M-SEARCH` with its dash.
///
/// ```
/// assert!(!corsproof_testkit::methods::RAW.contains(&"OPTIONS"));
/// ```
pub const RAW: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "patch", "PURGE", "M-SEARCH",
];

/// Values of `Access-Control-Request-Method` a raw preflight carries, the empty one too.
///
/// ```
/// assert!(corsproof_testkit::methods::ACRM.contains(&""));
/// ```
pub const ACRM: [&str; 9] = [
    "GET", "POST", "PUT", "DELETE", "PATCH", "patch", "PURGE", "OPTIONS", "",
];

/// Script methods of the fuzz targets (picked by index: order and length are part of the
/// corpora's format).
///
/// ```
/// assert_eq!(corsproof_testkit::methods::FUZZ_SCRIPT.len(), 11);
/// ```
pub const FUZZ_SCRIPT: [&str; 11] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "patch", "put", "PURGE", "OPTIONS", "get",
];

/// Methods a `middleware_vs_intent` policy lists (bit `i` picks method `i`).
///
/// ```
/// assert_eq!(corsproof_testkit::methods::FUZZ_LISTED[3], "patch");
/// ```
pub const FUZZ_LISTED: [&str; 6] = ["PUT", "DELETE", "PATCH", "patch", "PURGE", "GET"];

/// Methods a `header_lists` policy lists (bit `i` picks method `i`): valid, non-forbidden
/// tokens.
///
/// ```
/// assert!(corsproof_testkit::methods::FUZZ_LISTED_TOKENS.contains(&"X-Custom"));
/// ```
pub const FUZZ_LISTED_TOKENS: [&str; 8] = [
    "PUT", "DELETE", "PATCH", "patch", "PURGE", "GET", "X-Custom", "OPTIONS",
];
