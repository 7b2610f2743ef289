//! `tracing` events for every refusal (DEBUG) and every grant (TRACE), target
//! [`TRACING_TARGET`]; see the crate documentation, "Logging refusals and grants".
//!
//! Each function first asks `tracing` whether a subscriber wants the event (a load and a
//! compare when none does) and only then reads the request. Without the `tracing` feature
//! they do nothing and the compiler removes them.

#[cfg(feature = "tracing")]
use std::fmt;

#[cfg(feature = "tracing")]
use http::header::ORIGIN;
use http::Request;

#[cfg(feature = "tracing")]
use crate::refusal::Sentence;
use crate::refusal::{RefusalKind, RouteRef};

/// The target of the middleware's `tracing` events: `corsproof_tower`. Refusals are at
/// DEBUG, grants at TRACE, so a filter such as `corsproof_tower=debug` shows the refusals
/// only.
///
/// ```
/// use tracing_subscriber::filter::Targets;
/// assert_eq!(corsproof_tower::TRACING_TARGET, "corsproof_tower");
/// // What a subscriber would be given to see every refusal and nothing else of the crate:
/// let filter = Targets::new().with_target(corsproof_tower::TRACING_TARGET, tracing::Level::DEBUG);
/// # let _ = filter;
/// ```
pub const TRACING_TARGET: &str = "corsproof_tower";

/// At most this many bytes of the request's method, path and `Origin` go into an event,
/// escaped: an event stays short whatever the request sent.
#[cfg(feature = "tracing")]
const LOGGED_BYTES: usize = 200;

/// True when a subscriber wants refusal events (DEBUG on [`TRACING_TARGET`]).
#[inline]
pub(crate) fn refusals_wanted() -> bool {
    #[cfg(feature = "tracing")]
    {
        tracing::enabled!(target: TRACING_TARGET, tracing::Level::DEBUG)
    }
    #[cfg(not(feature = "tracing"))]
    {
        false
    }
}

/// The DEBUG event of a refusal of `kind` about `route`, for the request `req`: the sentence
/// as the message; `kind` (the stable word), `route` (its name, else its path; absent for
/// `no-route`), the request's `method`, `path` and first `origin`, and whether it is a
/// `preflight`, as fields.
#[inline]
pub(crate) fn refusal<B>(
    kind: &RefusalKind,
    route: Option<&RouteRef>,
    req: &Request<B>,
    preflight: bool,
) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        target: TRACING_TARGET,
        kind = kind.word(),
        route = route.map(RouteRef::label),
        method = %Bounded(req.method().as_str().as_bytes()),
        path = %Bounded(req.uri().path().as_bytes()),
        origin = req.headers().get(ORIGIN).map(|o| tracing::field::display(Bounded(o.as_bytes()))),
        preflight,
        "CORS refused: {}",
        Sentence { kind, route },
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (kind, route, req, preflight);
}

/// The TRACE event of a grant on `route`: a preflight passed, or a response that gets
/// `Access-Control-Allow-Origin`. Only for requests with `Origin` (an `origins = ["*"]`
/// route answers requests without one too, which are not cross-origin). Fields as for
/// [`refusal`], without `kind`.
#[inline]
pub(crate) fn grant<B>(route: &RouteRef, req: &Request<B>, preflight: bool) {
    #[cfg(feature = "tracing")]
    if tracing::enabled!(target: TRACING_TARGET, tracing::Level::TRACE) {
        if let Some(origin) = req.headers().get(ORIGIN) {
            tracing::trace!(
                target: TRACING_TARGET,
                route = route.label(),
                method = %Bounded(req.method().as_str().as_bytes()),
                path = %Bounded(req.uri().path().as_bytes()),
                origin = %Bounded(origin.as_bytes()),
                preflight,
                "CORS granted",
            );
        }
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (route, req, preflight);
}

/// The first [`LOGGED_BYTES`] of a request value, non-printable bytes, quotes and
/// backslashes escaped, followed by `...` when cut.
#[cfg(feature = "tracing")]
struct Bounded<'a>(&'a [u8]);

#[cfg(feature = "tracing")]
impl fmt::Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = &self.0[..self.0.len().min(LOGGED_BYTES)];
        write!(f, "{}", kept.escape_ascii())?;
        if kept.len() < self.0.len() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use super::*;

    #[test]
    fn logged_values_are_bounded_and_escaped() {
        assert_eq!(Bounded(b"/api/x").to_string(), "/api/x");
        assert_eq!(Bounded(b"a\"b\n\xff").to_string(), "a\\\"b\\n\\xff");
        let long = vec![b'a'; LOGGED_BYTES + 1];
        assert_eq!(
            Bounded(&long).to_string(),
            format!("{}...", "a".repeat(LOGGED_BYTES))
        );
    }
}
