//! [`Cors`]: the middleware service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{ACCESS_CONTROL_REQUEST_METHOD, ORIGIN};
use http::{Method, Request, Response};
use tower_service::Service;

use crate::answer::Additions;
use crate::future::ResponseFuture;
use crate::layer::{Options, REFUSED_PREFLIGHT_STATUS};
use crate::route::{PreflightGrant, RouteTable};

/// The CORS middleware around an inner service `S`; made by [`crate::CorsLayer`].
///
/// Per request, it finds the route (longest path prefix), then:
/// - same-origin-only path (no route, or `origins = []`): passes the request and response
///   through untouched;
/// - preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`): answers it
///   itself, 204 (or 200) with the CORS headers when it passes, 403 with only `Vary` when it
///   does not, never calling the inner service (unless `preflight_continue`);
/// - any other request: calls the inner service and adds `Access-Control-Allow-Origin`
///   (+ `-Credentials`, `-Expose-Headers`) to its response, error responses included, when
///   the origin is allowed, and `Vary` as the answer requires.
#[derive(Debug, Clone)]
pub struct Cors<S> {
    pub(crate) inner: S,
    pub(crate) routes: Arc<RouteTable>,
    pub(crate) options: Options,
}

impl<S> Cors<S> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let Some(route) = self.routes.route(req.uri().path()) else {
            return ResponseFuture::inner(self.inner.call(req), None);
        };
        let is_options = req.method() == Method::OPTIONS;
        let headers = req.headers();
        if !(is_options
            && headers.contains_key(ORIGIN)
            && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD))
        {
            let additions = route.actual(headers, is_options);
            return ResponseFuture::inner(self.inner.call(req), Some(additions));
        }
        let decision = route.preflight(headers);
        if self.options.preflight_continue {
            let additions = match decision {
                None => Additions::vary_only(route.preflight_vary),
                Some(PreflightGrant {
                    mut additions,
                    echo_request_origin,
                }) => {
                    if echo_request_origin {
                        additions.acao = req.headers().get(ORIGIN).cloned();
                    }
                    additions
                }
            };
            return ResponseFuture::inner(self.inner.call(req), Some(additions));
        }
        // Answer here. The request's header map becomes the response's: clearing keeps its
        // storage, so a preflight answer needs no new allocation.
        let (parts, _body) = req.into_parts();
        let mut headers = parts.headers;
        let (status, additions) = match decision {
            None => (
                REFUSED_PREFLIGHT_STATUS,
                Additions::vary_only(route.preflight_vary),
            ),
            Some(PreflightGrant {
                mut additions,
                echo_request_origin,
            }) => {
                if echo_request_origin {
                    additions.acao = headers.remove(ORIGIN);
                }
                (self.options.preflight_status, additions)
            }
        };
        headers.clear();
        additions.apply(&mut headers);
        let mut response = Response::new(ResBody::default());
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        ResponseFuture::ready(response)
    }
}
