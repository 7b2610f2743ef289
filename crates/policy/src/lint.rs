//! Risk warnings: choices that are valid and meaningful but deserve a second look.

use std::fmt;

use crate::error::write_location;
use crate::model::{HeaderNames, OriginEntry, Origins, Policy, Route, Scheme};
use crate::token;

/// Chromium's cap on preflight caching, in seconds (2 hours).
const CHROMIUM_MAX_AGE_CAP: u64 = 7200;
/// Firefox's cap on preflight caching, in seconds (24 hours).
const FIREFOX_MAX_AGE_CAP: u64 = 86400;

/// Stable identifier of a warning kind; [`WarningCode::as_str`] gives the string used in reports.
///
/// ```
/// use corsproof_policy::WarningCode;
/// assert_eq!(WarningCode::NullOrigin.as_str(), "null-origin");
/// assert!(WarningCode::NullOrigin.is_risky());
/// assert!(!WarningCode::SafelistedMethod.is_risky());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WarningCode {
    /// `null-origin`: `origins` lists `"null"`, which sandboxed iframes and `file:` pages of
    /// any site send. Risky.
    NullOrigin,
    /// `http-origin-with-credentials`: an `http:` origin or pattern on a credentialed route;
    /// a network attacker can impersonate it. Risky.
    HttpOriginWithCredentials,
    /// `max-age-over-browser-cap`: `max_age` above 86400 s, more than any browser caches a
    /// preflight (Firefox 24 h, Chromium 2 h). Risky.
    MaxAgeOverBrowserCap,
    /// `max-age-over-chromium-cap`: `max_age` above 7200 s; Chromium caps it at 2 h.
    MaxAgeOverChromiumCap,
    /// `max-age-zero`: `max_age = 0` disables preflight caching.
    MaxAgeZero,
    /// `public-suffix-pattern`: a subdomain pattern on a single label (`https://*.com`).
    PublicSuffixPattern,
    /// `credentialed-subdomain-pattern`: a subdomain pattern on a credentialed route.
    CredentialedSubdomainPattern,
    /// `expose-headers-wildcard`: `expose_headers = ["*"]`.
    ExposeHeadersWildcard,
    /// `request-headers-wildcard`: `request_headers = ["*"]`, which never covers `authorization`.
    RequestHeadersWildcard,
    /// `authorization-with-wildcard-origin`: `authorization` allowed from any origin.
    AuthorizationWithWildcardOrigin,
    /// `forbidden-response-header`: `set-cookie`/`set-cookie2` in `expose_headers`; browsers never expose them.
    ForbiddenResponseHeader,
    /// `lowercase-method`: a lowercase spelling of DELETE, GET, HEAD, OPTIONS, POST or PUT,
    /// which browsers send uppercase.
    LowercaseMethod,
    /// `safelisted-method`: GET, HEAD or POST listed; they never need a preflight.
    SafelistedMethod,
    /// `ineffective-fields`: `origins = []` with other CORS fields set; they have no effect.
    IneffectiveFields,
    /// `duplicate-entry`: the same entry listed twice in a list (the duplicate is dropped).
    DuplicateEntry,
    /// `duplicate-route-name`: two routes share a `name`, so reports are ambiguous.
    DuplicateRouteName,
    /// `probe-path-shadowed`: a probe path that a longer route's `path` covers.
    ProbePathShadowed,
    /// `allow-risky-unused`: `allow_risky = true` on a route with nothing risky.
    AllowRiskyUnused,
}

impl WarningCode {
    /// The stable string form.
    ///
    /// ```
    /// assert_eq!(corsproof_policy::WarningCode::MaxAgeZero.as_str(), "max-age-zero");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::NullOrigin => "null-origin",
            WarningCode::HttpOriginWithCredentials => "http-origin-with-credentials",
            WarningCode::MaxAgeOverBrowserCap => "max-age-over-browser-cap",
            WarningCode::MaxAgeOverChromiumCap => "max-age-over-chromium-cap",
            WarningCode::MaxAgeZero => "max-age-zero",
            WarningCode::PublicSuffixPattern => "public-suffix-pattern",
            WarningCode::CredentialedSubdomainPattern => "credentialed-subdomain-pattern",
            WarningCode::ExposeHeadersWildcard => "expose-headers-wildcard",
            WarningCode::RequestHeadersWildcard => "request-headers-wildcard",
            WarningCode::AuthorizationWithWildcardOrigin => "authorization-with-wildcard-origin",
            WarningCode::ForbiddenResponseHeader => "forbidden-response-header",
            WarningCode::LowercaseMethod => "lowercase-method",
            WarningCode::SafelistedMethod => "safelisted-method",
            WarningCode::IneffectiveFields => "ineffective-fields",
            WarningCode::DuplicateEntry => "duplicate-entry",
            WarningCode::DuplicateRouteName => "duplicate-route-name",
            WarningCode::ProbePathShadowed => "probe-path-shadowed",
            WarningCode::AllowRiskyUnused => "allow-risky-unused",
        }
    }

    /// Whether this is one of the risky-but-meaningful choices of `policy.md` (`null`,
    /// `http:` origins on a credentialed route, very long `max_age`) that the middleware
    /// refuses unless the route sets `allow_risky = true`.
    ///
    /// ```
    /// assert!(corsproof_policy::WarningCode::MaxAgeOverBrowserCap.is_risky());
    /// assert!(!corsproof_policy::WarningCode::MaxAgeOverChromiumCap.is_risky());
    /// ```
    pub fn is_risky(self) -> bool {
        matches!(
            self,
            WarningCode::NullOrigin
                | WarningCode::HttpOriginWithCredentials
                | WarningCode::MaxAgeOverBrowserCap
        )
    }
}

impl fmt::Display for WarningCode {
    /// Writes [`WarningCode::as_str`].
    ///
    /// ```
    /// assert_eq!(corsproof_policy::WarningCode::LowercaseMethod.to_string(), "lowercase-method");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lint warning. `route` is the 0-based index into [`Policy::routes`] and the route's label.
/// `file`, `line` and `column` are filled in when the policy was parsed from text
/// ([`crate::parse_str`], [`crate::parse_path`]); [`lint`] alone leaves them `None`.
///
/// ```
/// use corsproof_policy::{lint, Policy, WarningCode};
/// let policy = Policy::from_toml_str(
///     "version = 1\n[[route]]\npath = \"/\"\norigins = [\"null\"]\n", "p.toml").unwrap();
/// let warnings = lint(&policy);
/// assert_eq!(warnings[0].code, WarningCode::NullOrigin);
/// assert!(warnings[0].to_string().starts_with("route \"/\" (#1), field `origins`: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Stable kind.
    pub code: WarningCode,
    /// The file name given to the parser, if any.
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column in characters, when known.
    pub column: Option<usize>,
    /// The route: 0-based index and label (name, else path).
    pub route: Option<(usize, String)>,
    /// The field, e.g. `max_age`.
    pub field: Option<String>,
    /// What the choice means and what to do about it.
    pub message: String,
}

impl fmt::Display for Warning {
    /// `[file:line:column: ]route "name" (#n), field `f`: message`.
    ///
    /// ```
    /// use corsproof_policy::{Warning, WarningCode};
    /// let w = Warning { code: WarningCode::MaxAgeZero, file: Some("p.toml".into()), line: Some(9),
    ///     column: Some(11), route: Some((1, "api".into())), field: Some("max_age".into()),
    ///     message: "disables caching".into() };
    /// assert_eq!(w.to_string(), "p.toml:9:11: route \"api\" (#2), field `max_age`: disables caching");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_location(
            f,
            self.file.as_deref(),
            self.line,
            self.column,
            self.route.as_ref(),
            self.field.as_deref(),
        )?;
        f.write_str(&self.message)
    }
}

/// Lints a policy: every risky or probably unintended choice, in route order.
///
/// See the crate documentation for the table of codes. Warnings that only the file can show
/// (duplicate entries, which parsing removes) come from [`crate::parse_str`] instead.
///
/// ```
/// use corsproof_policy::{lint, Policy, WarningCode};
/// let policy = Policy::from_toml_str(r#"
/// version = 1
/// [[route]]
/// path = "/api/"
/// origins = ["https://app.example.com"]
/// methods = ["put"]
/// max_age = 100000
/// "#, "p.toml").unwrap();
/// let codes: Vec<&str> = lint(&policy).iter().map(|w| w.code.as_str()).collect();
/// assert_eq!(codes, ["lowercase-method", "max-age-over-browser-cap"]);
/// ```
pub fn lint(policy: &Policy) -> Vec<Warning> {
    let mut out = Vec::new();
    for (index, route) in policy.routes.iter().enumerate() {
        let mut linter = RouteLinter {
            index,
            route,
            out: Vec::new(),
        };
        linter.run(policy);
        out.append(&mut linter.out);
    }
    out
}

struct RouteLinter<'p> {
    index: usize,
    route: &'p Route,
    out: Vec<Warning>,
}

impl RouteLinter<'_> {
    fn warn(&mut self, code: WarningCode, field: &str, message: String) {
        let message = if !code.is_risky() {
            message
        } else if self.route.allow_risky {
            format!("{message} (accepted: the route sets allow_risky = true)")
        } else {
            format!(
                "{message}. The middleware refuses this unless the route sets allow_risky = true"
            )
        };
        self.out.push(Warning {
            code,
            file: None,
            line: None,
            column: None,
            route: Some((self.index, self.route.label().to_string())),
            field: Some(field.to_string()),
            message,
        });
    }

    fn run(&mut self, policy: &Policy) {
        self.duplicate_name(policy);
        if self.route.origins.is_empty() {
            self.ineffective_fields();
        } else {
            self.origins();
            self.methods();
            self.headers();
            self.max_age();
        }
        self.probe_paths(policy);
        if self.route.allow_risky && !self.out.iter().any(|w| w.code.is_risky()) {
            self.warn(
                WarningCode::AllowRiskyUnused,
                "allow_risky",
                "allow_risky = true but nothing on this route is risky; remove it so that a \
                 risky change later is noticed"
                    .to_string(),
            );
        }
    }

    fn duplicate_name(&mut self, policy: &Policy) {
        let Some(name) = &self.route.name else {
            return;
        };
        let first = policy
            .routes
            .iter()
            .position(|r| r.name.as_ref() == Some(name));
        if let Some(first) = first.filter(|&first| first < self.index) {
            let message = format!(
                "route #{} is also named {name:?}; reports will not tell them apart",
                first + 1
            );
            self.warn(WarningCode::DuplicateRouteName, "name", message);
        }
    }

    fn ineffective_fields(&mut self) {
        let r = self.route;
        let set: Vec<&str> = [
            (!r.methods.is_empty(), "methods"),
            (!r.request_headers.is_empty(), "request_headers"),
            (!r.expose_headers.is_empty(), "expose_headers"),
            (r.credentials, "credentials"),
            (r.max_age.is_some(), "max_age"),
            (r.private_network, "private_network"),
        ]
        .into_iter()
        .filter_map(|(is_set, field)| is_set.then_some(field))
        .collect();
        if !set.is_empty() {
            let message = format!(
                "origins = [] makes this route same-origin only, so {} has no effect; add the \
                 origins that should have access, or remove the other fields",
                set.join(", ")
            );
            self.warn(WarningCode::IneffectiveFields, "origins", message);
        }
    }

    fn origins(&mut self) {
        let r = self.route;
        let Origins::List(entries) = &r.origins else {
            return;
        };
        if entries.contains(&OriginEntry::Null) {
            self.warn(
                WarningCode::NullOrigin,
                "origins",
                "\"null\" is the origin of sandboxed iframes, file: pages and some redirects, on \
                 any site: trusting it trusts everyone who can make a page send it"
                    .to_string(),
            );
        }
        let http: Vec<String> = entries
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    OriginEntry::Exact {
                        scheme: Scheme::Http,
                        ..
                    } | OriginEntry::Subdomain {
                        scheme: Scheme::Http,
                        ..
                    }
                )
            })
            .map(|e| format!("{:?}", e.to_string()))
            .collect();
        if r.credentials && !http.is_empty() {
            let message = format!(
                "{} {} plain http on a credentialed route: anyone on the network path can \
                 impersonate {} and read responses with the user's cookies",
                http.join(", "),
                if http.len() == 1 { "is" } else { "are" },
                if http.len() == 1 { "it" } else { "them" },
            );
            self.warn(WarningCode::HttpOriginWithCredentials, "origins", message);
        }
        for entry in entries {
            let OriginEntry::Subdomain { domain, .. } = entry else {
                continue;
            };
            if !domain.contains('.') && domain != "localhost" {
                let message = format!(
                    "{:?} trusts every site under the top-level label {domain:?}, which anyone \
                     can register names under; name your own domain instead",
                    entry.to_string()
                );
                self.warn(WarningCode::PublicSuffixPattern, "origins", message);
            }
            if r.credentials {
                let message = format!(
                    "{:?} on a credentialed route: any subdomain (a forgotten DNS record taken \
                     over, user-generated content) gets credentialed reads",
                    entry.to_string()
                );
                self.warn(
                    WarningCode::CredentialedSubdomainPattern,
                    "origins",
                    message,
                );
            }
        }
    }

    fn methods(&mut self) {
        for method in &self.route.methods {
            if let Some(upper) = token::normalized_method(method).filter(|u| u != method) {
                let message = format!(
                    "browsers normalize {method:?} to {upper:?} before sending, and method names \
                     are case-sensitive, so this entry never matches a browser request; did you \
                     mean {upper:?}?"
                );
                self.warn(WarningCode::LowercaseMethod, "methods", message);
            } else if token::is_safelisted_method(method) {
                let message = format!(
                    "{method} is CORS-safelisted and never needs a preflight; listing it only \
                     documents intent"
                );
                self.warn(WarningCode::SafelistedMethod, "methods", message);
            }
        }
    }

    fn headers(&mut self) {
        let r = self.route;
        match &r.request_headers {
            HeaderNames::Any => self.warn(
                WarningCode::RequestHeadersWildcard,
                "request_headers",
                "[\"*\"] allows any request header except authorization, which `*` never \
                 covers; list authorization explicitly if clients send it"
                    .to_string(),
            ),
            HeaderNames::List(names) => {
                if r.origins == Origins::Any && names.iter().any(|n| n == "authorization") {
                    self.warn(
                        WarningCode::AuthorizationWithWildcardOrigin,
                        "request_headers",
                        "authorization is allowed from any origin: any site holding a token \
                         can use it from the browser; fine for public token-based APIs, \
                         dangerous if tokens are ever ambient"
                            .to_string(),
                    );
                }
            }
        }
        match &r.expose_headers {
            HeaderNames::Any => {
                let message = if r.credentials {
                    "[\"*\"] exposes every response header to uncredentialed reads only; \
                     credentialed reads see just the safelisted headers, so list the names \
                     they need"
                } else {
                    "[\"*\"] exposes every response header (internal ones included) to every \
                     origin allowed to read"
                };
                self.warn(
                    WarningCode::ExposeHeadersWildcard,
                    "expose_headers",
                    message.to_string(),
                );
            }
            HeaderNames::List(names) => {
                for name in names
                    .iter()
                    .filter(|n| token::is_forbidden_response_header(n))
                {
                    let message = format!(
                        "{name:?} is never exposed to script, whatever the server says; \
                         remove it"
                    );
                    self.warn(
                        WarningCode::ForbiddenResponseHeader,
                        "expose_headers",
                        message,
                    );
                }
            }
        }
    }

    fn max_age(&mut self) {
        let Some(max_age) = self.route.max_age else {
            return;
        };
        if max_age == 0 {
            self.warn(
                WarningCode::MaxAgeZero,
                "max_age",
                "max_age = 0 disables preflight caching: every non-simple request pays a \
                 preflight round trip; omit max_age for the browser default (5 seconds)"
                    .to_string(),
            );
        } else if max_age > FIREFOX_MAX_AGE_CAP {
            let message = format!(
                "max_age = {max_age} is longer than any browser caches a preflight: Firefox caps \
                 it at {FIREFOX_MAX_AGE_CAP} s (24 h) and Chromium at {CHROMIUM_MAX_AGE_CAP} s \
                 (2 h); a value this long suggests policy changes were not meant to take effect"
            );
            self.warn(WarningCode::MaxAgeOverBrowserCap, "max_age", message);
        } else if max_age > CHROMIUM_MAX_AGE_CAP {
            let message = format!(
                "max_age = {max_age}: Chromium-based browsers cap preflight caching at \
                 {CHROMIUM_MAX_AGE_CAP} s (2 h) and use that instead; Firefox honours up to \
                 {FIREFOX_MAX_AGE_CAP} s (24 h)"
            );
            self.warn(WarningCode::MaxAgeOverChromiumCap, "max_age", message);
        }
    }

    fn probe_paths(&mut self, policy: &Policy) {
        for probe in &self.route.probe_paths {
            let shadow = policy
                .routes
                .iter()
                .enumerate()
                .filter(|(_, other)| {
                    other.path.len() > self.route.path.len() && probe.starts_with(&other.path)
                })
                .max_by_key(|(_, other)| other.path.len());
            if let Some((other_index, other)) = shadow {
                let message = format!(
                    "{probe:?} is covered by route {:?} (#{}), whose path {:?} is longer, so \
                     it does not probe this route",
                    other.label(),
                    other_index + 1,
                    other.path
                );
                self.warn(WarningCode::ProbePathShadowed, "probe_paths", message);
            }
        }
    }
}
