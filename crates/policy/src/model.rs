//! The policy data model (format version 1, `docs/policy.md`).
//!
//! These types are the *only* thing the oracle (`corsproof-oracle`) and the middleware
//! (`corsproof-tower`) share. They hold what a policy says, already validated and in
//! canonical form; they deliberately contain no matching logic: each consumer writes
//! its own.

/// A validated policy: what cross-origin access a deployment grants, per route.
///
/// ```
/// use corsproof_policy::{Policy, Route, Origins, OriginEntry, HeaderNames};
/// let policy = Policy {
///     version: 1,
///     routes: vec![Route {
///         name: Some("public".into()),
///         path: "/public/".into(),
///         origins: Origins::Any,
///         ..Route::same_origin_only("/public/")
///     }],
/// };
/// assert_eq!(policy.routes[0].origins, Origins::Any);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Format version; always 1 for now.
    pub version: u32,
    /// The routes, in file order. The longest matching `path` prefix wins.
    pub routes: Vec<Route>,
}

/// One `[[route]]` table.
///
/// ```
/// use corsproof_policy::{HeaderNames, Policy};
/// let policy = Policy::from_toml_str(r#"
/// version = 1
/// [[route]]
/// path = "/api/"
/// origins = ["https://app.example.com"]
/// request_headers = ["X-Request-Id"]
/// credentials = true
/// "#, "p.toml").unwrap();
/// let route = &policy.routes[0];
/// assert_eq!(route.request_headers, HeaderNames::List(vec!["x-request-id".into()]));
/// assert!(route.credentials && route.max_age.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Optional name used in reports.
    pub name: Option<String>,
    /// Path prefix, starts with `/`.
    pub path: String,
    /// Which origins may read cross-origin.
    pub origins: Origins,
    /// Methods beyond the CORS-safelisted GET, HEAD, POST, as written (method names are
    /// case-sensitive, see Fetch R6/R40). Deduplicated, file order.
    pub methods: Vec<String>,
    /// Non-safelisted request headers allowed.
    pub request_headers: HeaderNames,
    /// Response headers script may read beyond the safelisted ones.
    pub expose_headers: HeaderNames,
    /// Whether credentialed requests may read.
    pub credentials: bool,
    /// Seconds a browser may cache a passed preflight; `None`: no caching beyond the browser default.
    pub max_age: Option<u64>,
    /// Answer Private Network Access preflights positively.
    pub private_network: bool,
    /// Concrete paths that `check` must probe in this route.
    pub probe_paths: Vec<String>,
    /// The route opts in to risky-but-meaningful settings (`null` origin, `http:` origins on
    /// a credentialed route, very long `max_age`). Lint still warns; the middleware accepts them.
    pub allow_risky: bool,
}

impl Route {
    /// A route that grants nothing cross-origin (`origins = []`), with every other field at its default.
    ///
    /// ```
    /// let r = corsproof_policy::Route::same_origin_only("/admin/");
    /// assert!(r.origins.is_empty());
    /// ```
    pub fn same_origin_only(path: &str) -> Route {
        Route {
            name: None,
            path: path.to_string(),
            origins: Origins::List(Vec::new()),
            methods: Vec::new(),
            request_headers: HeaderNames::List(Vec::new()),
            expose_headers: HeaderNames::List(Vec::new()),
            credentials: false,
            max_age: None,
            private_network: false,
            probe_paths: Vec::new(),
            allow_risky: false,
        }
    }

    /// The route's name if it has one, else its path: what reports call it.
    ///
    /// ```
    /// let r = corsproof_policy::Route::same_origin_only("/admin/");
    /// assert_eq!(r.label(), "/admin/");
    /// ```
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.path)
    }
}

/// The `origins` field.
///
/// ```
/// use corsproof_policy::{Origins, Policy};
/// let p = Policy::from_toml_str("version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\n", "p.toml").unwrap();
/// assert_eq!(p.routes[0].origins, Origins::Any);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// `["*"]`: any origin (never with credentials).
    Any,
    /// A list of entries; empty means same-origin only.
    List(Vec<OriginEntry>),
}

impl Origins {
    /// True for `[]` (same-origin only).
    ///
    /// ```
    /// assert!(corsproof_policy::Origins::List(vec![]).is_empty());
    /// assert!(!corsproof_policy::Origins::Any.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, Origins::List(v) if v.is_empty())
    }
}

/// A URL scheme allowed in an origin entry.
///
/// ```
/// use corsproof_policy::{OriginEntry, Scheme};
/// let entry: OriginEntry = "http://localhost:3000".parse().unwrap();
/// assert!(matches!(entry, OriginEntry::Exact { scheme: Scheme::Http, .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http`
    Http,
    /// `https`
    Https,
}

impl Scheme {
    /// The scheme's name, lowercase.
    ///
    /// ```
    /// assert_eq!(corsproof_policy::Scheme::Https.as_str(), "https");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The scheme's default port (80 or 443).
    ///
    /// ```
    /// assert_eq!(corsproof_policy::Scheme::Http.default_port(), 80);
    /// ```
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// One entry of `origins`, parsed into its parts. Canonical: lowercase host, default
/// port stored as `None`.
///
/// ```
/// use corsproof_policy::{OriginEntry, Scheme};
/// let entry: OriginEntry = "https://[2001:db8::1]:8443".parse().unwrap();
/// assert_eq!(entry, OriginEntry::Exact { scheme: Scheme::Https, host: "[2001:db8::1]".into(), port: Some(8443) });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OriginEntry {
    /// An exact serialized origin, `scheme://host[:port]`.
    Exact {
        /// Scheme.
        scheme: Scheme,
        /// Host as serialized: lowercase DNS name, dotted IPv4, or bracketed IPv6.
        host: String,
        /// Port, `None` when it is the scheme's default.
        port: Option<u16>,
    },
    /// `scheme://*.domain[:port]`: one or more DNS labels in front of `domain`, never `domain` itself.
    Subdomain {
        /// Scheme.
        scheme: Scheme,
        /// The domain after `*.`, lowercase, no leading dot.
        domain: String,
        /// Port, `None` when it is the scheme's default.
        port: Option<u16>,
    },
    /// `"null"`: the opaque origin.
    Null,
}

impl std::fmt::Display for OriginEntry {
    /// Writes the entry exactly as it is spelled in a policy file.
    ///
    /// ```
    /// use corsproof_policy::{OriginEntry, Scheme};
    /// let e = OriginEntry::Subdomain { scheme: Scheme::Https, domain: "example.com".into(), port: Some(8443) };
    /// assert_eq!(e.to_string(), "https://*.example.com:8443");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OriginEntry::Exact { scheme, host, port } => {
                write!(f, "{}://{}", scheme.as_str(), host)?;
                if let Some(p) = port {
                    write!(f, ":{p}")?;
                }
                Ok(())
            }
            OriginEntry::Subdomain {
                scheme,
                domain,
                port,
            } => {
                write!(f, "{}://*.{}", scheme.as_str(), domain)?;
                if let Some(p) = port {
                    write!(f, ":{p}")?;
                }
                Ok(())
            }
            OriginEntry::Null => f.write_str("null"),
        }
    }
}

/// `request_headers` / `expose_headers`.
///
/// ```
/// use corsproof_policy::{HeaderNames, Policy};
/// let p = Policy::from_toml_str(
///     "version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\nexpose_headers = [\"*\"]\n", "p.toml").unwrap();
/// assert_eq!(p.routes[0].expose_headers, HeaderNames::Any);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderNames {
    /// `["*"]`.
    Any,
    /// Header names, lowercase, deduplicated, file order.
    List(Vec<String>),
}

impl HeaderNames {
    /// True for an empty list.
    ///
    /// ```
    /// assert!(corsproof_policy::HeaderNames::List(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, HeaderNames::List(v) if v.is_empty())
    }
}
