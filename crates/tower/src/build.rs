//! From a policy to the route table: validation, refusal of risky settings, and every
//! response header value computed once.

use corsproof_policy::{lint, HeaderNames, OriginEntry, Origins, Policy, Route, Scheme};
use http::HeaderValue;

use crate::acrh::AllowedHeaders;
use crate::error::{BuildError, Problem};
use crate::origin::{OriginSet, Pattern};
use crate::refusal::RouteRef;
use crate::route::{AllowedOrigins, CorsRoute, Entry, RouteTable};
use crate::vary;

/// Validates `policy` and compiles it.
pub(crate) fn compile(policy: &Policy) -> Result<RouteTable, BuildError> {
    policy.validate()?;
    refuse_risky(policy)?;
    let entries = policy
        .routes
        .iter()
        .enumerate()
        .map(|(index, route)| {
            let cors = if route.origins.is_empty() {
                None
            } else {
                Some(compile_route(index, route)?)
            };
            Ok(Entry {
                path: route.path.clone().into_boxed_str(),
                id: RouteRef::new(route.name.as_deref(), &route.path),
                cors,
            })
        })
        .collect::<Result<Vec<_>, BuildError>>()?;
    Ok(RouteTable::new(entries))
}

/// The policy crate's risky warnings, on routes without `allow_risky`.
fn refuse_risky(policy: &Policy) -> Result<(), BuildError> {
    let problems: Vec<Problem> = lint(policy)
        .into_iter()
        .filter(|w| w.code.is_risky())
        .filter(|w| {
            w.route
                .as_ref()
                .and_then(|(index, _)| policy.routes.get(*index))
                .is_none_or(|route| !route.allow_risky)
        })
        .map(|w| Problem {
            route: w.route,
            field: w.field,
            code: w.code.as_str(),
            message: w.message,
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BuildError::Risky(problems))
    }
}

/// Names the route and field of a value that cannot be a header value.
struct Ctx<'r> {
    index: usize,
    route: &'r Route,
}

impl Ctx<'_> {
    /// A header value for `text`, shared so that cloning it per request never allocates.
    fn value(&self, field: &str, text: &str) -> Result<HeaderValue, BuildError> {
        let value = HeaderValue::from_str(text).map_err(|_| {
            BuildError::HeaderValue(Problem {
                route: Some((self.index, self.route.label().to_string())),
                field: Some(field.to_string()),
                code: "header-value",
                message: format!("{text:?} cannot be sent as an HTTP header value"),
            })
        })?;
        // `HeaderValue::from_str` copies into a uniquely owned buffer which `bytes` turns
        // into a shared one on its first clone, allocating then. Clone once here, at build
        // time, so that every per-request clone is a reference-count increment.
        drop(value.clone());
        Ok(value)
    }

    fn list(&self, field: &str, items: &[String]) -> Result<Option<HeaderValue>, BuildError> {
        if items.is_empty() {
            return Ok(None);
        }
        self.value(field, &items.join(", ")).map(Some)
    }

    fn names(&self, field: &str, names: &HeaderNames) -> Result<Option<HeaderValue>, BuildError> {
        match names {
            HeaderNames::Any => Ok(Some(HeaderValue::from_static("*"))),
            HeaderNames::List(list) => self.list(field, list),
        }
    }
}

fn scheme_prefix(scheme: Scheme) -> &'static [u8] {
    match scheme {
        Scheme::Http => b"http://",
        Scheme::Https => b"https://",
    }
}

fn compile_route(index: usize, route: &Route) -> Result<CorsRoute, BuildError> {
    let ctx = Ctx { index, route };
    let origins = match &route.origins {
        Origins::Any => AllowedOrigins::Any,
        Origins::List(list) => {
            let mut exact = Vec::new();
            let mut patterns = Vec::new();
            for entry in list {
                match entry {
                    OriginEntry::Exact { .. } | OriginEntry::Null => {
                        // Display writes the entry as browsers serialize it.
                        let text = entry.to_string();
                        let value = ctx.value("origins", &text)?;
                        exact.push((text.into_bytes().into_boxed_slice(), value));
                    }
                    OriginEntry::Subdomain {
                        scheme,
                        domain,
                        port,
                    } => patterns.push(Pattern::new(scheme_prefix(*scheme), domain, *port)),
                }
            }
            AllowedOrigins::Set(OriginSet::new(exact, patterns))
        }
    };
    let request_headers = match &route.request_headers {
        HeaderNames::Any => AllowedHeaders::Any,
        HeaderNames::List(list) => AllowedHeaders::List(
            list.iter()
                .map(|n| n.to_ascii_lowercase().into_bytes().into_boxed_slice())
                .collect(),
        ),
    };
    let preflight_vary = if route.private_network {
        vary::PREFLIGHT | vary::REQUEST_PRIVATE_NETWORK
    } else {
        vary::PREFLIGHT
    };
    Ok(CorsRoute {
        origins,
        credentials: route.credentials,
        methods: route.methods.iter().map(|m| m.as_bytes().into()).collect(),
        request_headers,
        private_network: route.private_network,
        acam: ctx.list("methods", &route.methods)?,
        acah: ctx.names("request_headers", &route.request_headers)?,
        aceh: ctx.names("expose_headers", &route.expose_headers)?,
        acma: route
            .max_age
            .map(|age| ctx.value("max_age", &age.to_string()))
            .transpose()?,
        preflight_vary,
    })
}
