//! [`CorsLayer`]: the compiled policy plus the two knobs a policy file does not hold.

use std::sync::Arc;

use corsproof_policy::Policy;
use http::StatusCode;
use tower_layer::Layer;

use crate::build;
use crate::builder::CorsBuilder;
use crate::error::BuildError;
use crate::route::RouteTable;
use crate::service::Cors;

/// The status of a passed preflight answered by the middleware.
///
/// ```
/// use corsproof_tower::PreflightStatus;
/// assert_eq!(PreflightStatus::default(), PreflightStatus::NoContent);
/// assert_eq!(PreflightStatus::Ok.status_code(), http::StatusCode::OK);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreflightStatus {
    /// `204 No Content` (the default).
    #[default]
    NoContent,
    /// `200 OK`, for clients that mishandle 204.
    Ok,
}

impl PreflightStatus {
    /// The status code.
    ///
    /// ```
    /// assert_eq!(corsproof_tower::PreflightStatus::NoContent.status_code(), 204);
    /// ```
    pub fn status_code(self) -> StatusCode {
        match self {
            PreflightStatus::NoContent => StatusCode::NO_CONTENT,
            PreflightStatus::Ok => StatusCode::OK,
        }
    }
}

/// The status of a refused preflight answered by the middleware: `403 Forbidden`.
///
/// A browser fails a preflight without `Access-Control-Allow-Origin` whatever its status;
/// 403 makes the refusal plain in developer tools and logs, and, unlike a 2xx, cannot be
/// mistaken for a success by a non-browser client.
pub const REFUSED_PREFLIGHT_STATUS: StatusCode = StatusCode::FORBIDDEN;

/// What the middleware tells about the requests it refuses or withholds CORS headers from
/// (see the crate documentation, "Why was my request refused?").
///
/// ```
/// use corsproof_tower::{CorsLayer, RefusalReasons};
/// assert_eq!(RefusalReasons::default(), RefusalReasons::Off);
/// let layer = CorsLayer::builder()
///     .allow_origins(["http://localhost:5173"])
///     .build()?
///     .refusal_reasons(RefusalReasons::Header);
/// # let _ = layer;
/// # Ok::<(), corsproof_tower::BuildError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefusalReasons {
    /// Nothing (the default): a refusal costs no more than an allowed request, and no heap
    /// allocation.
    #[default]
    Off,
    /// A [`crate::Refusal`] in the extensions of each such response, and of the request when
    /// it goes on to the inner service. Nothing a client can see; each refusal allocates
    /// (3 to 7 times: the extension maps, their entries, the reason kept until the response
    /// comes), allowed requests never do.
    Extension,
    /// [`RefusalReasons::Extension`], and the [`crate::REFUSAL_HEADER`] (`Cors-Refusal`)
    /// header on each such response. For development only: it tells any client, attackers
    /// included, what the policy allows and refuses.
    Header,
    /// [`RefusalReasons::Header`], and a preflight refused for its method or its request
    /// headers is answered with the ok status of a passed one
    /// ([`CorsLayer::preflight_status`]) and the headers that get the browser past its
    /// origin check: `Access-Control-Allow-Origin` as for a passed preflight, and what the
    /// route really allows in `Access-Control-Allow-Methods` and `-Allow-Headers` (the
    /// latter left out for `authorization-not-covered`, as some browsers let
    /// `authorization` through a `*`). The browser then fails the preflight on the very
    /// check the middleware refused, and its console names the method or header ("Method
    /// PATCH is not allowed by Access-Control-Allow-Methods in preflight response") instead
    /// of a missing `Access-Control-Allow-Origin`.
    ///
    /// **For development only, and never a grant.** A debug answer never carries
    /// `Access-Control-Allow-Credentials`, `-Max-Age`, `-Expose-Headers` or
    /// `-Allow-Private-Network`, nor anything the route does not allow, so every browser
    /// still fails the preflight and never sends the actual request, as in production. For a
    /// request with credentials (`credentials: "include"`), browsers check
    /// `Access-Control-Allow-Credentials` before methods and headers, so their console names
    /// that header instead; the `Cors-Refusal` header of the preflight (network panel) names
    /// the real reason. Every other refusal is answered as under
    /// [`RefusalReasons::Header`]: a refused origin gets no CORS header (the browser's "No
    /// 'Access-Control-Allow-Origin' header" is then the right message). Like `Header`, it
    /// tells any client what the policy allows.
    ///
    /// ```
    /// use corsproof_tower::{CorsLayer, RefusalReasons};
    /// use tower::{service_fn, Layer, ServiceExt};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let layer = CorsLayer::builder()
    ///     .name("api")
    ///     .allow_origins(["http://localhost:5173"])
    ///     .allow_methods(["PUT"])
    ///     .allow_headers(["content-type"])
    ///     .allow_credentials(true)
    ///     .allow_risky(true) // plain http with credentials: a development server
    ///     .build()?
    ///     .refusal_reasons(RefusalReasons::Debug);
    /// let app = layer.layer(service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }));
    /// let preflight = http::Request::options("/items")
    ///     .header("origin", "http://localhost:5173")
    ///     .header("access-control-request-method", "PATCH")
    ///     .body(String::new())?;
    /// let res = app.oneshot(preflight).await?;
    /// assert_eq!(res.status(), 204);
    /// let h = res.headers();
    /// assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    /// // What the route allows, not what the preflight asked for: the browser fails on PATCH.
    /// assert_eq!(h["access-control-allow-methods"], "PUT");
    /// assert_eq!(h["access-control-allow-headers"], "content-type");
    /// assert!(h.get("access-control-allow-credentials").is_none());
    /// assert_eq!(h["cors-refusal"], r#"method-not-allowed; method="PATCH"; route="api""#);
    /// # Ok(())
    /// # }
    /// ```
    Debug,
}

/// Options that are not part of the policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) preflight_status: StatusCode,
    pub(crate) preflight_continue: bool,
    pub(crate) reasons: RefusalReasons,
}

/// A [`Layer`] that wraps services in the [`Cors`] middleware for a policy.
///
/// Build it with [`CorsLayer::from_policy`] or [`CorsLayer::builder`]; cloning it is cheap
/// (the compiled policy is shared).
///
/// ```
/// use corsproof_tower::{CorsLayer, PreflightStatus};
/// let layer = CorsLayer::builder()
///     .allow_origins(["https://app.example.com"])
///     .build()?
///     .preflight_status(PreflightStatus::Ok);
/// # let _ = layer;
/// # Ok::<(), corsproof_tower::BuildError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CorsLayer {
    pub(crate) routes: Arc<RouteTable>,
    pub(crate) options: Options,
}

impl CorsLayer {
    /// Validates `policy` and compiles it: every route, longest path prefix first.
    ///
    /// Fails with [`BuildError::Policy`] when `policy.validate()` fails, and with
    /// [`BuildError::Risky`] when a route without `allow_risky = true` trusts `null`, trusts
    /// an `http:` origin with credentials, or sets `max_age` above 86400.
    ///
    /// ```
    /// use corsproof_policy::Policy;
    /// use corsproof_tower::CorsLayer;
    /// let policy = Policy::from_toml_str(r#"
    /// version = 1
    /// [[route]]
    /// path = "/api/"
    /// origins = ["https://app.example.com", "https://*.partner.example"]
    /// methods = ["PUT", "DELETE"]
    /// request_headers = ["content-type", "x-request-id"]
    /// credentials = true
    /// max_age = 600
    /// "#, "policy.toml")?;
    /// let layer = CorsLayer::from_policy(&policy)?;
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_policy(policy: &Policy) -> Result<CorsLayer, BuildError> {
        Ok(CorsLayer {
            routes: Arc::new(build::compile(policy)?),
            options: Options {
                preflight_status: PreflightStatus::default().status_code(),
                preflight_continue: false,
                reasons: RefusalReasons::Off,
            },
        })
    }

    /// A builder for a single route written in code (see [`CorsBuilder`]).
    ///
    /// ```
    /// let layer = corsproof_tower::CorsLayer::builder().allow_any_origin().build()?;
    /// # let _ = layer;
    /// # Ok::<(), corsproof_tower::BuildError>(())
    /// ```
    pub fn builder() -> CorsBuilder {
        CorsBuilder::new()
    }

    /// The status of passed preflights answered by the middleware (default 204).
    ///
    /// ```
    /// use corsproof_tower::{CorsLayer, PreflightStatus};
    /// let layer = CorsLayer::builder().allow_any_origin().build()?.preflight_status(PreflightStatus::Ok);
    /// # let _ = layer;
    /// # Ok::<(), corsproof_tower::BuildError>(())
    /// ```
    pub fn preflight_status(mut self, status: PreflightStatus) -> CorsLayer {
        self.options.preflight_status = status.status_code();
        self
    }

    /// Pass preflights on to the inner service instead of answering them (default `false`).
    ///
    /// The inner service's response then gets the preflight's CORS headers (passed) or only
    /// `Vary` (refused); its status is the inner service's, and browsers need a 2xx.
    ///
    /// ```
    /// let layer = corsproof_tower::CorsLayer::builder().allow_any_origin().build()?.preflight_continue(true);
    /// # let _ = layer;
    /// # Ok::<(), corsproof_tower::BuildError>(())
    /// ```
    pub fn preflight_continue(mut self, on: bool) -> CorsLayer {
        self.options.preflight_continue = on;
        self
    }

    /// Whether and how the middleware says why it refused a request or withheld CORS
    /// headers (default [`RefusalReasons::Off`]): a [`crate::Refusal`] in the response's
    /// extensions, and with [`RefusalReasons::Header`] in a `Cors-Refusal` header too.
    ///
    /// The header is for development: it tells every client, attackers included, what the
    /// policy allows. The extension is seen only by the application.
    /// [`RefusalReasons::Debug`] also answers preflights refused for their method or headers
    /// so that the browser's console names what is missing; development only too.
    ///
    /// Independent of this setting, the middleware emits a `tracing` event for every
    /// refusal and grant (see [`crate::TRACING_TARGET`]).
    ///
    /// ```
    /// use corsproof_tower::{CorsLayer, RefusalReasons};
    /// let layer = CorsLayer::builder()
    ///     .allow_origins(["https://app.example.com"])
    ///     .build()?
    ///     .refusal_reasons(RefusalReasons::Extension);
    /// # let _ = layer;
    /// # Ok::<(), corsproof_tower::BuildError>(())
    /// ```
    pub fn refusal_reasons(mut self, reasons: RefusalReasons) -> CorsLayer {
        self.options.reasons = reasons;
        self
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            routes: Arc::clone(&self.routes),
            options: self.options,
        }
    }
}
