//! # corsproof-tower
//!
//! A strict, fast CORS middleware for [`tower`](https://docs.rs/tower) services (hyper,
//! axum, tonic, ...), built from a corsproof policy file
//! ([`corsproof_policy::Policy`]) or from one route written in code ([`CorsBuilder`]).
//!
//! - **Validated at build time.** [`CorsLayer::from_policy`] runs the policy crate's
//!   validation and refuses risky settings (`null` origin, `http:` origins on a credentialed
//!   route, `max_age` above 86400) unless the route says `allow_risky = true`. Errors
//!   ([`BuildError`]) name route and field.
//! - **Every route.** The longest path prefix wins, compared byte for byte on the request
//!   path as sent with percent-encoded unreserved characters decoded (`/%61pi/x` is under
//!   `/api/`; `/api%2Fx`, `/api` and `/API/` are not); a path no route covers, or a route
//!   with `origins = []`, is same-origin only and passes through untouched.
//! - **Fetch-Standard behaviour**, summarised below, and **no heap allocation** per request
//!   inside the middleware: every header value is computed when the layer is built.
//!
//! ## Example (plain tower)
//!
//! ```
//! use std::convert::Infallible;
//! use corsproof_policy::Policy;
//! use corsproof_tower::CorsLayer;
//! use http::{Request, Response, StatusCode};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::from_toml_str(r#"
//! version = 1
//!
//! [[route]]
//! name = "api"
//! path = "/api/"
//! origins = ["https://app.example.com", "https://*.partner.example"]
//! methods = ["PUT", "DELETE"]
//! request_headers = ["content-type", "x-request-id"]
//! expose_headers = ["x-total-count"]
//! credentials = true
//! max_age = 600
//! "#, "policy.toml")?;
//!
//! let handler = service_fn(|_req: Request<String>| async {
//!     Ok::<_, Infallible>(Response::new(String::from("hello")))
//! });
//! let app = ServiceBuilder::new()
//!     .layer(CorsLayer::from_policy(&policy)?)
//!     .service(handler);
//!
//! // A preflight is answered by the middleware; the handler never sees it.
//! let preflight = Request::options("/api/items/7")
//!     .header("origin", "https://app.example.com")
//!     .header("access-control-request-method", "PUT")
//!     .header("access-control-request-headers", "content-type,x-request-id")
//!     .body(String::new())?;
//! let res = app.clone().oneshot(preflight).await?;
//! assert_eq!(res.status(), StatusCode::NO_CONTENT);
//! assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example.com");
//! assert_eq!(res.headers()["access-control-allow-credentials"], "true");
//! assert_eq!(res.headers()["access-control-allow-methods"], "PUT, DELETE");
//! assert_eq!(res.headers()["access-control-max-age"], "600");
//!
//! // An actual request from an allowed origin gets the handler's response plus CORS headers.
//! let get = Request::get("/api/items/7")
//!     .header("origin", "https://eu.partner.example")
//!     .body(String::new())?;
//! let res = app.clone().oneshot(get).await?;
//! assert_eq!(res.headers()["access-control-allow-origin"], "https://eu.partner.example");
//! assert_eq!(res.headers()["access-control-expose-headers"], "x-total-count");
//! assert_eq!(res.headers()["vary"], "Origin");
//!
//! // Another origin gets the response without CORS headers (only `Vary`).
//! let get = Request::get("/api/items/7")
//!     .header("origin", "https://evil.example")
//!     .body(String::new())?;
//! let res = app.oneshot(get).await?;
//! assert!(res.headers().get("access-control-allow-origin").is_none());
//! assert_eq!(res.headers()["vary"], "Origin");
//! # Ok(())
//! # }
//! ```
//!
//! ## Example (axum)
//!
//! Add the layer to the whole router (`Router::layer`), not to individual routes: a route
//! layer only sees requests for methods the route has, and `OPTIONS` preflights would be
//! rejected with 405 before reaching it (see Pitfalls). axum's bodies implement `Default`,
//! so `Cors` fits as is.
//!
//! ```
//! use axum::{body::Body, routing::get, Router};
//! use corsproof_policy::Policy;
//! use corsproof_tower::CorsLayer;
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::from_path("../../corpus/policies/spa-credentialed.toml")
//!     .or_else(|_| Policy::from_toml_str(
//!         "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.example.com\"]\n",
//!         "inline.toml",
//!     ))?;
//! let app = Router::new()
//!     .route("/api/items", get(|| async { "[]" }))
//!     .layer(CorsLayer::from_policy(&policy)?);
//!
//! // A route with only GET: the preflight still reaches the middleware, which answers it.
//! let preflight = Request::options("/api/items")
//!     .header("origin", "https://evil.example")
//!     .header("access-control-request-method", "GET")
//!     .body(Body::empty())?;
//! let res = app.oneshot(preflight).await?;
//! assert_eq!(res.status(), StatusCode::FORBIDDEN); // refused origin: no CORS headers
//! assert!(res.headers().get("access-control-allow-origin").is_none());
//! # Ok(())
//! # }
//! ```
//!
//! ## Behaviour
//!
//! For a request to a path whose route allows cross-origin access:
//!
//! | request | response |
//! |---|---|
//! | preflight (`OPTIONS` + `Origin` + `Access-Control-Request-Method`) that passes | 204 (or 200, [`CorsLayer::preflight_status`]) from the middleware: `Access-Control-Allow-Origin`, `-Allow-Credentials: true` on credentialed routes, `-Allow-Methods` and `-Allow-Headers` listing the policy's methods and headers (`*` for `request_headers = ["*"]`), `-Max-Age` if the policy sets `max_age`, `-Allow-Private-Network: true` when the route sets `private_network` and the request asks with `Access-Control-Request-Private-Network: true`; `Vary` |
//! | preflight that does not pass | [`REFUSED_PREFLIGHT_STATUS`] (403) from the middleware, no CORS header but `Vary` |
//! | any other request from an allowed origin | the inner service's response (whatever its status) plus `Access-Control-Allow-Origin`, `-Allow-Credentials: true` on credentialed routes, `-Expose-Headers` per policy; `Vary` |
//! | any other request, origin refused or no `Origin` | the inner service's response, only `Vary` added |
//!
//! A preflight passes iff the origin is allowed (exactly one `Origin` line), the single
//! `Access-Control-Request-Method` is GET, HEAD, POST or a listed method (case-sensitive),
//! and every name in `Access-Control-Request-Headers` is allowed (case-insensitive;
//! `authorization` is never covered by `["*"]`, which browsers would otherwise let through).
//! A refused preflight gets no CORS header at all, so nothing about the policy leaks to an
//! origin that does not pass, and 403 rather than a 2xx so that the refusal is plain in
//! logs and developer tools; a browser fails the preflight either way. With
//! [`CorsLayer::preflight_continue`] preflights go on to the inner service instead, and its
//! response gets the same headers.
//!
//! `Access-Control-Allow-Origin` echoes the request's origin; it is `*` only on routes with
//! `origins = ["*"]` (never credentialed), and then on every response of the route but
//! refused preflights, with or without `Origin`. `Access-Control-Allow-Credentials` is only ever `true`. Headers the
//! middleware sets replace values of the same name from the inner service.
//!
//! ### `Vary`
//!
//! - `Origin` on every non-`OPTIONS` response of a route that lists origins (the answer
//!   depends on the origin), whether the origin was allowed, refused or absent. Not on
//!   `origins = ["*"]` routes (the answer is the same for everyone) nor on same-origin-only
//!   paths (no CORS headers for anyone).
//! - `Origin, Access-Control-Request-Method, Access-Control-Request-Headers` on every
//!   `OPTIONS` response of a cross-origin route, preflight or not, passed or refused (whether
//!   a request is a preflight, and how it is answered, depend on all three), plus
//!   `Access-Control-Request-Private-Network` when the route sets `private_network`.
//! - Merged with the inner service's `Vary`: tokens already present (any case, any line) are
//!   not repeated, the missing ones go on one more line, and `Vary: *` stays as it is.
//!
//! ## Robustness and cost
//!
//! `Access-Control-Request-Headers` may come as several lines, with optional whitespace and
//! empty elements, in any case; more than [`MAX_ACRH_ELEMENTS`] names or lines, or more than
//! [`MAX_ACRH_BYTES`] bytes, or an element that is not a token, refuses the preflight. Each
//! request costs time linear in its relevant header bytes, and nothing panics on any input.
//!
//! Origins are matched against a precompiled set of the allowed serialized origins (byte
//! equality, as browsers compare) and against subdomain patterns by label: `https://*.example.com`
//! accepts one or more DNS labels (`a-z 0-9 -`, 1 to 63 bytes, no leading or trailing
//! hyphen) in front of `.example.com`, with the same scheme and port, and never the apex
//! itself. No regular expressions.
//!
//! The middleware performs no heap allocation per request: header values are shared
//! (cloning one is a reference-count increment), `Vary` values are static, an echoed
//! pattern-matched origin is the request's own value, and a preflight answer reuses the
//! request's header map. What remains is the `http` crate's: inserting into a response
//! header map that is full grows it, and a second `Vary` line (only when the inner service
//! set one) goes into its list of extra values.
//!
//! ## Pitfalls
//!
//! - **Authentication in front of CORS.** Preflights never carry credentials (no cookies, no
//!   `Authorization`), so an authentication layer that runs first rejects every preflight
//!   with 401, and browsers report a CORS failure. Put the CORS layer outermost, before
//!   authentication, rate limiting and the like, so that it answers preflights itself and
//!   adds CORS headers to their error responses too (browsers hide the error response from
//!   script without them).
//! - **Routers that reject `OPTIONS`.** A router that answers 405 to `OPTIONS` on routes
//!   without an `OPTIONS` handler does so before a per-route layer sees the preflight. Wrap
//!   the whole router, not single routes.
//! - **Caches that ignore `Vary`.** The answer differs per origin; a cache (CDN, reverse
//!   proxy) that keys only on the URL hands one origin's `Access-Control-Allow-Origin` to
//!   another, breaking the second and leaking the first. Make sure caches honour `Vary`, or
//!   keep CORS responses out of them.
//! - **Echoing `Origin` without a policy.** Reflecting any request's `Origin` (with
//!   credentials, especially) grants every site on the web read access. This middleware only
//!   echoes origins the policy lists; do not put another layer or handler after it that sets
//!   CORS headers of its own.

#![deny(missing_docs)]

mod acrh;
mod answer;
mod build;
mod builder;
mod error;
mod future;
mod layer;
mod origin;
mod route;
mod service;
mod vary;

pub use acrh::{MAX_ACRH_BYTES, MAX_ACRH_ELEMENTS};
pub use builder::CorsBuilder;
pub use error::{BuildError, Problem};
pub use future::ResponseFuture;
pub use layer::{CorsLayer, PreflightStatus, REFUSED_PREFLIGHT_STATUS};
pub use service::Cors;
