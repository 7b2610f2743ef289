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
//! - **Says why.** Every refusal is a `tracing` event at DEBUG, every grant one at TRACE
//!   (target [`TRACING_TARGET`], free when no subscriber wants them): see "Logging refusals
//!   and grants". With [`CorsLayer::refusal_reasons`], every refusal also carries a typed
//!   [`Refusal`] (route, kind, the request's offending value) in the response's extensions,
//!   and for development a `Cors-Refusal` header and preflight answers that make the
//!   browser's console name what is missing: see "Why was my request refused?".
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
//! | preflight that does not pass | [`REFUSED_PREFLIGHT_STATUS`] (403) from the middleware, no CORS header but `Vary` (and `Cors-Refusal` when asked, see "Why was my request refused?"; under [`RefusalReasons::Debug`], a refusal for the method or request headers gets the debug answer instead) |
//! | any other request from an allowed origin | the inner service's response (whatever its status) plus `Access-Control-Allow-Origin`, `-Allow-Credentials: true` on credentialed routes, `-Expose-Headers` per policy; `Vary` |
//! | any other request, origin refused or no `Origin` | the inner service's response, only `Vary` added (and `Cors-Refusal` for a refused origin, when asked) |
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
//! The middleware performs no heap allocation per request (with refusal reasons off, the
//! default; see below for their cost): header values are shared
//! (cloning one is a reference-count increment), `Vary` values are static, an echoed
//! pattern-matched origin is the request's own value, and a preflight answer reuses the
//! request's header map. What remains is the `http` crate's: inserting into a response
//! header map that is full grows it, and a second `Vary` line (only when the inner service
//! set one) goes into its list of extra values.
//!
//! ## Why was my request refused?
//!
//! A browser reports a CORS failure in the page's console only; the server sees nothing of
//! it, and by default the middleware refuses silently. [`CorsLayer::refusal_reasons`] makes
//! it say why:
//!
//! - [`RefusalReasons::Extension`]: every response the middleware refuses or withholds CORS
//!   headers from carries a [`Refusal`] in its extensions, for a logging layer; so does the
//!   request when it goes on to the inner service, for the handler. Clients see nothing.
//! - [`RefusalReasons::Header`]: the same, plus a `Cors-Refusal` response header
//!   ([`REFUSAL_HEADER`]) that the browser's network panel shows, e.g.
//!   `method-not-allowed; method="PATCH"; route="api"` ([`Refusal::header_value`] gives its
//!   syntax). **For development only**: it tells every client, attackers included, what the
//!   policy allows (that an origin is refused, which methods and headers a route lacks).
//! - [`RefusalReasons::Debug`]: `Header`, and a preflight refused for its method or its
//!   request headers is answered with the ok status and what gets the browser past its origin
//!   check (see below). **For development only**, like `Header`.
//! - [`RefusalReasons::Off`], the default: nothing, at no cost.
//!
//! ```
//! use std::convert::Infallible;
//! use corsproof_policy::Policy;
//! use corsproof_tower::{CorsLayer, Refusal, RefusalKind, RefusalReasons};
//! use http::{Request, Response, StatusCode};
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::from_toml_str(r#"
//! version = 1
//! [[route]]
//! name = "api"
//! path = "/api/"
//! origins = ["http://localhost:5173"]
//! methods = ["PUT"]
//! request_headers = ["content-type"]
//! "#, "policy.toml")?;
//! let handler = service_fn(|_req: Request<String>| async {
//!     Ok::<_, Infallible>(Response::new(String::from("hello")))
//! });
//! let app = ServiceBuilder::new()
//!     // A logging layer outside the middleware reads the reason of each refusal.
//!     .map_response(|res: Response<String>| {
//!         if let Some(refusal) = res.extensions().get::<Refusal>() {
//!             eprintln!("CORS refused [{}]: {refusal}", refusal.word());
//!         }
//!         res
//!     })
//!     .layer(CorsLayer::from_policy(&policy)?.refusal_reasons(RefusalReasons::Header))
//!     .service(handler);
//!
//! // The front end asks for PATCH, which the route does not list.
//! let preflight = Request::options("/api/items/7")
//!     .header("origin", "http://localhost:5173")
//!     .header("access-control-request-method", "PATCH")
//!     .body(String::new())?;
//! let res = app.clone().oneshot(preflight).await?;
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert_eq!(res.headers()["cors-refusal"], r#"method-not-allowed; method="PATCH"; route="api""#);
//! let refusal = res.extensions().get::<Refusal>().expect("a reason");
//! assert!(matches!(refusal.kind(), RefusalKind::MethodNotAllowed { method } if method.as_bytes() == b"PATCH"));
//! assert_eq!(refusal.route().map(|r| r.path()), Some("/api/"));
//!
//! // The page runs on another port than the policy lists: the response still goes to the
//! // browser (which hides it from script), and says why it has no CORS headers.
//! let get = Request::get("/api/items/7")
//!     .header("origin", "http://localhost:3000")
//!     .body(String::new())?;
//! let res = app.clone().oneshot(get).await?;
//! assert_eq!(res.body(), "hello");
//! assert_eq!(res.headers()["cors-refusal"], r#"origin-not-allowed; route="api""#);
//!
//! // Allowed requests carry no reason.
//! let get = Request::get("/api/items/7")
//!     .header("origin", "http://localhost:5173")
//!     .body(String::new())?;
//! let res = app.oneshot(get).await?;
//! assert!(res.headers().get("cors-refusal").is_none());
//! assert!(res.extensions().get::<Refusal>().is_none());
//! # Ok(())
//! # }
//! ```
//!
//! The reasons ([`RefusalKind`]), by their word:
//!
//! | word | when | the response |
//! |---|---|---|
//! | `no-route` | no route covers the path | the inner service's, untouched |
//! | `same-origin-only` | the route has `origins = []` | the inner service's, untouched |
//! | `origin-not-allowed` | the `Origin` is not one the route allows | refused preflight; actual: no CORS headers |
//! | `null-origin-not-allowed` | the `Origin` is `null` and the route does not list it | as above |
//! | `several-origins` | more than one `Origin` line | as above |
//! | `several-request-methods` | a preflight with more than one `Access-Control-Request-Method` line | refused preflight |
//! | `method-not-allowed` | a preflight for a method neither safelisted nor listed (case-sensitive), named in `method` | refused preflight |
//! | `header-not-allowed` | a preflight for a request header not listed, the first one named in `header` | refused preflight |
//! | `authorization-not-covered` | a preflight for `authorization` on a route with `request_headers = ["*"]` | refused preflight |
//! | `invalid-header-name` | `Access-Control-Request-Headers` lists something that is not a header name, named in `header` | refused preflight |
//! | `request-headers-over-limit` | `Access-Control-Request-Headers` over [`MAX_ACRH_ELEMENTS`] or [`MAX_ACRH_BYTES`] | refused preflight |
//! | `private-network-not-allowed` | a preflight asks for private network access on a route without `private_network = true` | passed preflight without `Access-Control-Allow-Private-Network`, which the browser fails |
//!
//! A request without `Origin` is not a cross-origin request and never gets a reason. Browsers
//! also send `Origin` on same-origin requests other than GET and HEAD; the middleware cannot
//! tell them apart, and a reason on one is harmless (it needs no CORS headers). Values from
//! the request (`method`, `header`) are kept to their first [`MAX_REQUEST_VALUE_BYTES`] bytes
//! and escaped in the header, so a reason neither grows with the request nor makes an
//! invalid header.
//!
//! ### The debug answer to a refused preflight
//!
//! A browser that gets a refused preflight (403, no CORS header) reports in its console that
//! the preflight response has no `Access-Control-Allow-Origin`, whatever the real reason: a
//! missing method looks like a refused origin. Under [`RefusalReasons::Debug`], a preflight
//! refused for its method (`method-not-allowed`) or its request headers
//! (`header-not-allowed`, `authorization-not-covered`) gets instead:
//!
//! - the status of a passed preflight ([`CorsLayer::preflight_status`], 204 by default);
//! - `Access-Control-Allow-Origin` as a passed preflight from that origin gets it;
//! - `Access-Control-Allow-Methods` and `-Allow-Headers` listing what the route allows, not
//!   what the preflight asked for (no `-Allow-Headers` for `authorization-not-covered`:
//!   Chromium and Firefox let `authorization` through a `*`);
//! - `Vary` and `Cors-Refusal` as always;
//! - never `Access-Control-Allow-Credentials`, `-Max-Age`, `-Expose-Headers` or
//!   `-Allow-Private-Network`.
//!
//! The browser passes its origin check and then fails the preflight on the very method or
//! header the middleware refused, and says so: "Method PURGE is not allowed by
//! Access-Control-Allow-Methods in preflight response", "Request header field x-trace is not
//! allowed by Access-Control-Allow-Headers in preflight response". The actual request is
//! still never sent, as in production: a debug answer grants nothing (the conformance
//! property of `tests/conformance.rs` checks it under every browser profile). Answering with
//! the requested method and headers instead would make the browser send the actual request
//! and, the origin being allowed, succeed: the page would work in development and fail in
//! production, with no error anywhere.
//!
//! With credentials (`fetch(url, { credentials: "include" })`, cookies, `withCredentials`),
//! browsers check `Access-Control-Allow-Credentials` before methods and headers, so their
//! console names the missing `Access-Control-Allow-Credentials` instead, even on a route with
//! `credentials = true`; the preflight's `Cors-Refusal` header (network panel) and the
//! `tracing` event name the real reason. Every other refusal keeps its 403 without CORS
//! headers: for a refused origin the browser's "No 'Access-Control-Allow-Origin' header" is
//! the right message, and browsers never send the malformed or oversized requests the other
//! kinds are about. Actual requests are answered as under `Header`.
//!
//! What the middleware cannot see, it cannot name: whether the browser sends credentials
//! (a credentialed request fails in the browser on a route without `credentials = true`, and
//! on an `origins = ["*"]` route, though the middleware answered), and which response
//! headers script will try to read (`expose_headers`). `corsproof explain` and
//! `corsproof check` judge those.
//!
//! Cost: allowed requests cost the same, and allocate nothing, whatever the setting. With
//! reasons on, a refusal allocates 3 times for the response's extensions; 4 more when the
//! request goes on to the inner service (its extensions, and the reason kept until the
//! response comes); and once more for the header value. The `Cors-Refusal` header depends on the request like the CORS headers do, but on
//! same-origin-only paths, which get no `Vary`, a cache that ignores the request headers may
//! replay it to others: one more reason to keep it to development.
//!
//! ## Logging refusals and grants
//!
//! Whatever [`CorsLayer::refusal_reasons`] says, the middleware emits a
//! [`tracing`](https://docs.rs/tracing) event with target [`TRACING_TARGET`]
//! (`corsproof_tower`):
//!
//! - every refusal, at **DEBUG**: the message `CORS refused: ` and the reason in words
//!   ([`Refusal`]'s sentence); fields `kind` (the stable word of the table above), `route`
//!   (the route's name, else its path; absent for `no-route`), the request's `method`,
//!   `path` and `origin` (at most 200 bytes each, escaped) and `preflight`;
//! - every grant to a request with `Origin`, at **TRACE**: the message `CORS granted`, fields
//!   `route`, `method`, `path`, `origin`, `preflight`.
//!
//! Refusals are at DEBUG, not INFO or WARN, because any page on the web can cause them, as
//! many as it likes: at a level on by default they would let anyone fill the logs. Turn them
//! on while investigating (`corsproof_tower=debug`); grants, one per cross-origin request, are
//! at TRACE.
//!
//! When no subscriber wants an event (none installed, or one whose level or filter leaves
//! the target out), it costs a load and a compare: the middleware asks `tracing` before it
//! looks up why or reads the request, and allocates nothing (`tests/alloc.rs` measures it
//! under such subscribers). The Cargo feature `tracing`, on by default, can be turned off
//! (`default-features = false`) to remove the events and the dependency altogether.
//!
//! ```
//! use std::convert::Infallible;
//! use corsproof_tower::{CorsLayer, TRACING_TARGET};
//! use http::{Request, Response};
//! use tower::{service_fn, Layer, ServiceExt};
//! use tracing_subscriber::{filter::Targets, layer::SubscriberExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Print the middleware's refusals to standard error, nothing else of it.
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
//!     .with(Targets::new().with_target(TRACING_TARGET, tracing::Level::DEBUG));
//! let _guard = tracing::subscriber::set_default(subscriber);
//!
//! let layer = CorsLayer::builder().name("api").allow_origins(["http://localhost:5173"]).build()?;
//! let app = layer.layer(service_fn(|_req: Request<String>| async {
//!     Ok::<_, Infallible>(Response::new(String::new()))
//! }));
//! let get = Request::get("/items").header("origin", "http://localhost:3000").body(String::new())?;
//! // Prints: DEBUG corsproof_tower: CORS refused: the request's Origin is not one route "api"
//! // allows kind="origin-not-allowed" route="api" method=GET path=/items origin=http://localhost:3000 preflight=false
//! let res = app.oneshot(get).await?;
//! assert!(res.headers().get("access-control-allow-origin").is_none());
//! # Ok(())
//! # }
//! ```
//!
//! `examples/axum.rs` is an axum application that does this with a policy file:
//! `cargo run -p corsproof-tower --example axum -- --policy examples/deployed.toml`.
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
mod observe;
mod origin;
mod refusal;
mod route;
mod service;
mod vary;

pub use acrh::{MAX_ACRH_BYTES, MAX_ACRH_ELEMENTS};
pub use builder::CorsBuilder;
pub use error::{BuildError, Problem};
pub use future::ResponseFuture;
pub use layer::{CorsLayer, PreflightStatus, RefusalReasons, REFUSED_PREFLIGHT_STATUS};
pub use observe::TRACING_TARGET;
pub use refusal::{
    Refusal, RefusalKind, RequestValue, RouteRef, MAX_REQUEST_VALUE_BYTES, REFUSAL_HEADER,
};
pub use service::Cors;
