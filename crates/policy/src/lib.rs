//! # corsproof-policy
//!
//! The policy file of `docs/policy.md`: what cross-origin access a deployment
//! intends to grant, per route. This crate parses it (TOML, JSON), validates it (errors
//! that name file, line, route and field) and lints it (warnings for risky choices).
//! It contains no origin-matching logic: the oracle and the middleware each have their own.
//!
//! ## The format (version 1)
//!
//! ```toml
//! version = 1                       # required, must be 1
//!
//! [[route]]                         # zero or more; longest matching `path` prefix wins
//! name = "public"                   # optional; used in reports
//! path = "/public/"                 # required; starts with "/"; unique
//! origins = ["*"]                   # "*" alone, or origins / patterns / "null"; [] or absent: same-origin only
//! methods = ["GET"]                 # RFC 9110 tokens, case-sensitive, kept as written
//! request_headers = []              # header names (stored lowercase), or ["*"]
//! expose_headers = []               # header names (stored lowercase), or ["*"]
//! credentials = false
//! max_age = 600                     # optional; 0 ..= 2^31 seconds
//! private_network = false
//! probe_paths = ["/public/a.json"]  # optional; each starts with `path`
//! allow_risky = false               # extension: the middleware accepts risky choices on this route
//! ```
//!
//! JSON uses the same names: `{"version": 1, "route": [{"path": "/public/", ...}]}`.
//! Unknown fields are errors (typos never pass silently).
//!
//! `origins` entries are written exactly as browsers serialize origins: lowercase
//! `scheme://host[:port]` with scheme `http` or `https`, no path, no trailing slash, default
//! port omitted; the host is a DNS name (labels of `a-z 0-9 -`, 1 to 63 long, not starting or
//! ending with `-`, 253 in all; punycode `xn--` labels for internationalized names), a
//! dotted-decimal IPv4 address or a bracketed IPv6 address in compressed form. A subdomain
//! pattern is `scheme://*.domain[:port]`: `*` is only ever the whole first label and `domain`
//! is any valid DNS name, even a single label (`https://*.localhost`); single labels other
//! than `localhost` (`https://*.com`) get the `public-suffix-pattern` warning. Errors suggest
//! the canonical spelling where there is one.
//!
//! ```
//! use corsproof_policy::{parse_str, Format, Origins};
//! let parsed = parse_str(r#"
//! version = 1
//!
//! [[route]]
//! name = "api"
//! path = "/api/"
//! origins = ["https://app.example.com", "https://*.partner.example"]
//! methods = ["PUT", "DELETE"]
//! request_headers = ["Content-Type", "X-Request-Id"]
//! credentials = true
//! max_age = 600
//! "#, "policy.toml", Format::Toml)?;
//! let route = &parsed.policy.routes[0];
//! assert!(matches!(&route.origins, Origins::List(list) if list.len() == 2));
//! assert_eq!(route.label(), "api");
//! // A subdomain pattern on a credentialed route is worth a second look:
//! assert_eq!(parsed.warnings[0].code.as_str(), "credentialed-subdomain-pattern");
//! assert_eq!(parsed.warnings[0].line, Some(7));
//! # Ok::<(), corsproof_policy::PolicyError>(())
//! ```
//!
//! ## Errors
//!
//! [`PolicyError::Syntax`] stops at the first syntax problem; otherwise every problem is
//! reported in [`PolicyError::Invalid`] as a [`Diagnostic`] with a stable [`ErrorCode`]:
//!
//! | code | meaning |
//! |---|---|
//! | `io` | the file could not be read |
//! | `syntax` | not TOML/JSON, not UTF-8, unknown field, wrong type |
//! | `missing-field` | `version` or a route's `path` is absent |
//! | `unsupported-version` | `version` is not 1 |
//! | `invalid-name` | empty route name, or control characters in it |
//! | `invalid-path` | `path` not starting with `/`, or with characters that never occur in request paths |
//! | `duplicate-path` | two routes with the same `path` |
//! | `invalid-origin` | not an `http`/`https` origin |
//! | `non-canonical-origin` | an origin not spelled as browsers serialize it (the message suggests the fix) |
//! | `invalid-origin-pattern` | `*` anywhere but as the whole first label |
//! | `wildcard-origin-with-credentials` | `origins = ["*"]` with `credentials = true` |
//! | `wildcard-mixed` | `"*"` together with other entries in `origins`, `request_headers` or `expose_headers` |
//! | `invalid-header-name` | not an RFC 9110 token, or a name containing `*` |
//! | `forbidden-request-header` | a Fetch forbidden request-header name in `request_headers` |
//! | `wildcard-headers-with-credentials` | `request_headers = ["*"]` with `credentials = true` |
//! | `invalid-method` | not an RFC 9110 token, or `*` |
//! | `forbidden-method` | `CONNECT`, `TRACE`, `TRACK` (any case) |
//! | `max-age-out-of-range` | negative, or above [`MAX_AGE_LIMIT`] |
//! | `invalid-probe-path` | a probe path that is not a valid path starting with the route's `path` |
//! | `not-canonical` | ([`Policy::validate`] only) a policy built in code is not in canonical form |
//!
//! ## Warnings
//!
//! [`lint`] (and [`parse_str`] / [`parse_path`], which add lines) report [`Warning`]s with a
//! stable [`WarningCode`]. Risky ones ([`WarningCode::is_risky`]) are refused by the
//! middleware unless the route sets `allow_risky = true`.
//!
//! | code | risky | meaning |
//! |---|---|---|
//! | `null-origin` | yes | `"null"` in `origins`: sandboxed iframes and `file:` pages of any site send it |
//! | `http-origin-with-credentials` | yes | an `http:` origin or pattern on a credentialed route |
//! | `max-age-over-browser-cap` | yes | `max_age` > 86400: above Firefox's 24 h cap and Chromium's 2 h cap |
//! | `max-age-over-chromium-cap` | no | 7200 < `max_age` ≤ 86400: Chromium caps it at 2 h |
//! | `max-age-zero` | no | `max_age = 0` disables preflight caching |
//! | `public-suffix-pattern` | no | a subdomain pattern on one label other than `localhost` (`https://*.com`) |
//! | `credentialed-subdomain-pattern` | no | a subdomain pattern on a credentialed route: any taken-over subdomain reads with credentials |
//! | `expose-headers-wildcard` | no | `expose_headers = ["*"]`: everything, and only for uncredentialed reads |
//! | `request-headers-wildcard` | no | `request_headers = ["*"]`, which never covers `authorization` |
//! | `authorization-with-wildcard-origin` | no | `authorization` allowed with `origins = ["*"]` |
//! | `forbidden-response-header` | no | `set-cookie` / `set-cookie2` in `expose_headers`; never exposed |
//! | `lowercase-method` | no | `put`, `get`, ...: browsers send DELETE GET HEAD OPTIONS POST PUT uppercase |
//! | `safelisted-method` | no | GET, HEAD or POST listed: never preflighted, kept as intent |
//! | `ineffective-fields` | no | `origins = []` with other CORS fields set |
//! | `duplicate-entry` | no | an entry listed twice (dropped) |
//! | `duplicate-route-name` | no | two routes with the same `name` |
//! | `probe-path-shadowed` | no | a probe path covered by a longer route's `path` |
//! | `allow-risky-unused` | no | `allow_risky = true` on a route with nothing risky |

#![deny(missing_docs)]

mod emit;
mod error;
mod lint;
mod model;
mod origin_syntax;
mod parse;
mod punycode;
mod raw;
mod source;
mod token;
mod validate;

pub use error::{Diagnostic, ErrorCode, PolicyError};
pub use lint::{lint, Warning, WarningCode};
pub use model::{HeaderNames, OriginEntry, Origins, Policy, Route, Scheme};
pub use origin_syntax::OriginSyntaxError;
pub use parse::{parse_path, parse_str, Format, Parsed};

/// The largest accepted `max_age`, in seconds: 2^31, the value RFC 9111 (§1.2.2) tells
/// caches to use for any larger delta-seconds.
///
/// ```
/// let text = format!("version = 1\n[[route]]\npath = \"/\"\nmax_age = {}\n", corsproof_policy::MAX_AGE_LIMIT + 1);
/// assert!(corsproof_policy::Policy::from_toml_str(&text, "p.toml").is_err());
/// ```
pub const MAX_AGE_LIMIT: u64 = 1 << 31;
