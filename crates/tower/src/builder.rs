//! [`CorsBuilder`]: one route written in code, validated exactly like a policy file.

use corsproof_policy::{
    Diagnostic, ErrorCode, HeaderNames, OriginEntry, Origins, Policy, PolicyError, Route,
};

use crate::error::BuildError;
use crate::layer::CorsLayer;

/// Builds a [`CorsLayer`] for one route (path `/` unless [`CorsBuilder::path`] says
/// otherwise; other paths are same-origin only). Nothing is allowed until you say so.
///
/// [`CorsBuilder::build`] turns the settings into a one-route [`Policy`] and calls
/// [`CorsLayer::from_policy`], so every rule of the policy format applies: origins written
/// as browsers serialize them, no `*` with credentials, no forbidden methods or headers, and
/// risky settings only with [`CorsBuilder::allow_risky`].
///
/// ```
/// use corsproof_tower::CorsLayer;
/// let layer = CorsLayer::builder()
///     .allow_origins(["https://app.example.com", "https://*.app.example.com"])
///     .allow_methods(["PUT", "DELETE"])
///     .allow_headers(["Content-Type", "X-Request-Id"])
///     .expose_headers(["X-Total-Count"])
///     .allow_credentials(true)
///     .max_age(600)
///     .build()?;
/// # let _ = layer;
/// # Ok::<(), corsproof_tower::BuildError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CorsBuilder {
    route: Route,
    origins: Vec<String>,
    any_origin: bool,
}

impl Default for CorsBuilder {
    fn default() -> Self {
        CorsBuilder::new()
    }
}

impl CorsBuilder {
    /// A builder that allows nothing, for path `/`.
    pub fn new() -> CorsBuilder {
        CorsBuilder {
            route: Route::same_origin_only("/"),
            origins: Vec::new(),
            any_origin: false,
        }
    }

    /// The path prefix the route covers (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.route.path = path.into();
        self
    }

    /// A name for error messages.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.route.name = Some(name.into());
        self
    }

    /// Allows these origins: exact serialized origins (`https://app.example.com`,
    /// `http://localhost:3000`), subdomain patterns (`https://*.example.com`) or `null`.
    /// Adds to earlier calls.
    pub fn allow_origins<I, T>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.origins.extend(origins.into_iter().map(Into::into));
        self
    }

    /// Allows any origin (`origins = ["*"]`); cannot be combined with credentials or with
    /// listed origins.
    pub fn allow_any_origin(mut self) -> Self {
        self.any_origin = true;
        self
    }

    /// Allows these methods beyond GET, HEAD and POST (case-sensitive). Adds to earlier calls.
    pub fn allow_methods<I, T>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        for m in methods.into_iter().map(Into::into) {
            if !self.route.methods.contains(&m) {
                self.route.methods.push(m);
            }
        }
        self
    }

    /// Allows these request headers (any case). Adds to earlier calls.
    pub fn allow_headers<I, T>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        add_names(&mut self.route.request_headers, names);
        self
    }

    /// Allows any request header but `authorization` (`request_headers = ["*"]`); not with
    /// credentials.
    pub fn allow_any_header(mut self) -> Self {
        self.route.request_headers = HeaderNames::Any;
        self
    }

    /// Exposes these response headers to script (any case). Adds to earlier calls.
    pub fn expose_headers<I, T>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        add_names(&mut self.route.expose_headers, names);
        self
    }

    /// Exposes every response header to uncredentialed reads (`expose_headers = ["*"]`).
    pub fn expose_any_header(mut self) -> Self {
        self.route.expose_headers = HeaderNames::Any;
        self
    }

    /// Allows credentialed requests (cookies, HTTP authentication).
    pub fn allow_credentials(mut self, on: bool) -> Self {
        self.route.credentials = on;
        self
    }

    /// Lets browsers cache a passed preflight for `seconds`.
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.route.max_age = Some(seconds);
        self
    }

    /// Answers Private Network Access preflights positively.
    pub fn allow_private_network(mut self, on: bool) -> Self {
        self.route.private_network = on;
        self
    }

    /// Accepts risky settings (`null` origin, `http:` origins with credentials, `max_age`
    /// above 86400).
    pub fn allow_risky(mut self, on: bool) -> Self {
        self.route.allow_risky = on;
        self
    }

    /// The one-route policy these settings describe, or the origins that do not parse.
    pub fn to_policy(&self) -> Result<Policy, BuildError> {
        let mut route = self.route.clone();
        let mut entries: Vec<OriginEntry> = Vec::new();
        let mut errors = Vec::new();
        for text in &self.origins {
            match text.parse::<OriginEntry>() {
                Ok(entry) if entries.contains(&entry) => {}
                Ok(entry) => entries.push(entry),
                Err(err) => errors.push(Diagnostic {
                    file: "<builder>".into(),
                    line: None,
                    column: None,
                    route: Some((0, route.label().to_string())),
                    field: Some("origins".into()),
                    message: err.to_string(),
                    code: err.code(),
                }),
            }
        }
        if self.any_origin && !self.origins.is_empty() {
            errors.push(Diagnostic {
                file: "<builder>".into(),
                line: None,
                column: None,
                route: Some((0, route.label().to_string())),
                field: Some("origins".into()),
                message: "allow_any_origin cannot be combined with listed origins".into(),
                code: ErrorCode::WildcardMixed,
            });
        }
        if !errors.is_empty() {
            return Err(BuildError::Policy(PolicyError::Invalid(errors)));
        }
        route.origins = if self.any_origin {
            Origins::Any
        } else {
            Origins::List(entries)
        };
        Ok(Policy {
            version: 1,
            routes: vec![route],
        })
    }

    /// Validates the settings and builds the layer.
    ///
    /// ```
    /// use corsproof_tower::CorsLayer;
    /// let err = CorsLayer::builder().allow_any_origin().allow_credentials(true).build().unwrap_err();
    /// assert_eq!(err.problems()[0].code, "wildcard-origin-with-credentials");
    /// ```
    pub fn build(&self) -> Result<CorsLayer, BuildError> {
        CorsLayer::from_policy(&self.to_policy()?)
    }
}

/// Adds lowercase names not yet listed (canonical form: lowercase, deduplicated, in order).
fn add_names<I, T>(names: &mut HeaderNames, new: I)
where
    I: IntoIterator<Item = T>,
    T: Into<String>,
{
    let mut list = match std::mem::replace(names, HeaderNames::List(Vec::new())) {
        HeaderNames::Any => {
            *names = HeaderNames::Any;
            return;
        }
        HeaderNames::List(list) => list,
    };
    for name in new.into_iter().map(|n| n.into().to_ascii_lowercase()) {
        if !list.contains(&name) {
            list.push(name);
        }
    }
    *names = HeaderNames::List(list);
}
