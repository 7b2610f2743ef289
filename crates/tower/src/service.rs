//! [`Cors`]: the middleware service.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{ACCESS_CONTROL_REQUEST_METHOD, ORIGIN};
use http::{Method, Request, Response};
use tower_service::Service;

use crate::answer::Additions;
use crate::future::ResponseFuture;
use crate::layer::{Options, RefusalReasons, REFUSED_PREFLIGHT_STATUS};
use crate::observe;
use crate::refusal::{RefusalKind, Report, RouteRef};
use crate::route::{Entry, PreflightGrant, RouteTable};

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
///
/// With [`crate::CorsLayer::refusal_reasons`] on, every refusal (and every withheld CORS
/// answer to a request with `Origin`) also gets its [`crate::Refusal`]; under
/// [`RefusalReasons::Debug`] a preflight refused for its method or headers is answered so
/// that the browser names them. Every refusal and grant is also a `tracing` event for the
/// subscribers that want it ([`crate::TRACING_TARGET`]).
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

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let reasons = self.options.reasons;
        let entry = self.routes.route(req.uri().path());
        let Some(Entry {
            id,
            cors: Some(route),
            ..
        }) = entry
        else {
            // Same-origin only (no route covers the path, or its route has `origins = []`):
            // passed through untouched. A request that carries `Origin` is told why its
            // response gets no CORS headers, when reasons are on or a subscriber listens.
            let report = if req.headers().contains_key(ORIGIN) && wanted(reasons) {
                let kind = match entry {
                    None => RefusalKind::NoRoute,
                    Some(_) => RefusalKind::SameOriginOnly,
                };
                tell(reasons, kind, entry.map(|e| &e.id), &req, false)
            } else {
                None
            };
            note(&mut req, report.as_ref());
            return ResponseFuture::inner(self.inner.call(req), None, report);
        };
        let is_options = req.method() == Method::OPTIONS;
        let headers = req.headers();
        if !(is_options
            && headers.contains_key(ORIGIN)
            && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD))
        {
            // Not a preflight: the inner service answers. A refused `Origin` (several lines,
            // not allowed) gets only `Vary`; why is looked up only when reasons are on or a
            // subscriber listens.
            let additions = route.actual(headers, is_options);
            let report = match additions.acao {
                None if wanted(reasons) => route
                    .refused_origin(headers)
                    .and_then(|kind| tell(reasons, kind, Some(id), &req, false)),
                None => None,
                // Allowed: a grant, for the subscribers that want grants.
                Some(_) => {
                    observe::grant(id, &req, false);
                    None
                }
            };
            note(&mut req, report.as_ref());
            return ResponseFuture::inner(self.inner.call(req), Some(additions), report);
        }
        let decision = route.preflight(headers);
        // A refusal is told when wanted (reasons on, or a subscriber listens), else silent.
        let report = match &decision {
            Err(refused) if wanted(reasons) => tell(reasons, refused.kind(), Some(id), &req, true),
            Err(_) => None,
            // Passed, but without the `Access-Control-Allow-Private-Network` the preflight
            // asks for, so the browser fails it: a refusal, looked up only when wanted.
            Ok(_) if wanted(reasons) && route.withholds_private_network(headers) => tell(
                reasons,
                RefusalKind::PrivateNetworkNotAllowed,
                Some(id),
                &req,
                true,
            ),
            // Passed: a grant, for the subscribers that want grants.
            Ok(_) => {
                observe::grant(id, &req, true);
                None
            }
        };
        // What the refusal borrowed from the request is no longer needed.
        let grant = match decision {
            Ok(grant) => Some(grant),
            // Under `RefusalReasons::Debug`, a preflight refused for its method or request
            // headers is answered like a passed one, with what the route allows and never
            // credentials, so that the browser fails it on that method or header and says
            // so (`CorsRoute::debug_answer`).
            Err(_) => match &report {
                Some(report) if reasons == RefusalReasons::Debug => {
                    route.debug_answer(req.headers(), report.refusal().kind())
                }
                _ => None,
            },
        };
        if self.options.preflight_continue {
            let additions = match grant {
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
            note(&mut req, report.as_ref());
            return ResponseFuture::inner(self.inner.call(req), Some(additions), report);
        }
        // Answer here. The request's header map becomes the response's: clearing keeps its
        // storage, so a preflight answer needs no new allocation.
        let (parts, _body) = req.into_parts();
        let mut headers = parts.headers;
        let (status, additions) = match grant {
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
        if let Some(report) = report {
            report.attach(&mut response);
        }
        ResponseFuture::ready(response)
    }
}

/// Whether a refusal is worth looking up: reasons are on, or a `tracing` subscriber wants
/// refusal events.
#[inline]
fn wanted(reasons: RefusalReasons) -> bool {
    reasons != RefusalReasons::Off || observe::refusals_wanted()
}

/// Tells of a refusal of `kind` about `route` for `req`: the `tracing` event, for the
/// subscribers that want it, and the report when reasons are on.
fn tell<B>(
    reasons: RefusalReasons,
    kind: RefusalKind,
    route: Option<&RouteRef>,
    req: &Request<B>,
    preflight: bool,
) -> Option<Report> {
    observe::refusal(&kind, route, req, preflight);
    reasons.report(kind, route)
}

/// Puts the refusal of `report`, if any, in the extensions of a request that goes on to the
/// inner service, for it to read.
fn note<B>(req: &mut Request<B>, report: Option<&Report>) {
    if let Some(report) = report {
        req.extensions_mut().insert(report.refusal().clone());
    }
}
