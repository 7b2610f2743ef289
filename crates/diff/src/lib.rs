//! # corsproof-diff
//!
//! What a change of policy grants or takes away: `corsproof diff OLD NEW`. The difference is
//! semantic, never textual: it is computed by asking the oracle's intent model
//! ([`corsproof_oracle::intent::intent`], P1–P11 of `spec/SPEC.md`) what each policy intends
//! for a set of representative browser requests, so a reordered, renamed or respelled policy
//! (`/%61pi/` for `/api/`) shows no change.
//!
//! The representative requests cover every class of request the intent model tells apart:
//!
//! - **paths**: each route path of either policy (and `/`), so every pair (route of the old
//!   policy, route of the new one) a request path can fall into is met once; routes are matched
//!   by path (P1), never by name or position;
//! - **origins**, per pair of routes: every exact origin either lists; for every subdomain
//!   pattern a host of one fresh DNS label under it (the class "any host under the pattern that
//!   no more specific entry names") and one whose label is not a DNS label (P4's open case);
//!   `null`; and an origin no entry names;
//! - for each origin and credentials mode (without, with): the read (P5, P8), a preflight of
//!   every non-safelisted method either route lists (P6, P7), of every request header either
//!   lists, `authorization` and one no route lists (P6), every response header either exposes
//!   and one neither does (P9), the Private Network Access preflight (P11), and the cache
//!   lifetime of a passed preflight (P10).
//!
//! The intent model joins these parts with "and" (a preflight passes when the origin, the
//! method, every header and the PNA answer each pass), so whenever the new policy grants any
//! request the old one refuses, one of these requests shows it: [`Diff::broadens`] is true
//! exactly when some browser request is granted more by the new policy (the property tests in
//! `tests/properties.rs` check both directions against generated policies and requests).
//!
//! ```
//! use corsproof_diff::{diff, Aspect, Direction, OriginClass, Severity};
//! use corsproof_policy::Policy;
//! let old = Policy::from_toml_str(r#"
//! version = 1
//! [[route]]
//! path = "/api/"
//! origins = ["https://app.example.com"]
//! credentials = true
//! "#, "old.toml")?;
//! let new = Policy::from_toml_str(r#"
//! version = 1
//! [[route]]
//! name = "renamed"
//! path = "/api/"
//! origins = ["https://app.example.com", "https://*.partner.example"]
//! credentials = true
//! "#, "new.toml")?;
//! let d = diff(&old, &new);
//! assert!(d.broadens());
//! let high: Vec<_> = d.changes.iter().filter(|c| c.severity == Severity::High).collect();
//! assert_eq!(high.len(), 1);
//! assert_eq!(high[0].aspect, Aspect::Read { credentialed: true });
//! assert_eq!(high[0].direction, Direction::Broadens);
//! assert_eq!(high[0].origins, [
//!     OriginClass::Pattern("https://*.partner.example".into()),
//!     OriginClass::PatternOddHost("https://*.partner.example".into()),
//! ]);
//! // The same policy, routes renamed: nothing changes.
//! assert!(diff(&new, &new).changes.is_empty());
//! # Ok::<(), corsproof_policy::PolicyError>(())
//! ```

#![deny(missing_docs)]

mod probe;
mod render;

pub use render::{Files, OutputFormat};

use corsproof_policy::Policy;

/// Whether a change grants more or less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// The new policy grants something the old one did not.
    Broadens,
    /// The new policy no longer grants something the old one did.
    Narrows,
}

impl Direction {
    /// `broadens` or `narrows`.
    ///
    /// ```
    /// assert_eq!(corsproof_diff::Direction::Narrows.as_str(), "narrows");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Broadens => "broadens",
            Direction::Narrows => "narrows",
        }
    }
}

/// How much a change deserves a reviewer's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// A new reader of credentialed responses (user data), or a credentialed request a new
    /// origin can now make with a non-safelisted method or header.
    High,
    /// A new uncredentialed reader, new Private Network Access, or a credentialed header now
    /// exposed.
    Medium,
    /// Methods or request headers on uncredentialed requests, exposed headers, a longer
    /// preflight cache.
    Low,
    /// A narrowing: nothing new is granted (a client may lose what it relied on).
    Info,
}

impl Severity {
    /// `high`, `medium`, `low` or `info`.
    ///
    /// ```
    /// assert_eq!(corsproof_diff::Severity::High.as_str(), "high");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

/// A class of requesting origins, as the policies tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OriginClass {
    /// One exact origin an entry of either policy names (serialized).
    Exact(String),
    /// The hosts of DNS labels under a subdomain pattern of either policy (as written,
    /// `https://*.example.com`), other than those a more specific entry names.
    Pattern(String),
    /// The hosts under a pattern's domain whose labels are not all DNS labels
    /// (`https://a_b.example.com`): the policy leaves granting them open (P4).
    PatternOddHost(String),
    /// The opaque origin, `null`.
    Null,
    /// Any origin no entry of either policy names.
    Other,
}

impl std::fmt::Display for OriginClass {
    /// ```
    /// use corsproof_diff::OriginClass;
    /// assert_eq!(OriginClass::Pattern("https://*.a.example".into()).to_string(), "https://*.a.example");
    /// assert_eq!(OriginClass::Other.to_string(), "any other origin");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OriginClass::Exact(o) | OriginClass::Pattern(o) => f.write_str(o),
            OriginClass::PatternOddHost(p) => write!(f, "non-DNS hosts under {p}"),
            OriginClass::Null => f.write_str("null"),
            OriginClass::Other => f.write_str("any other origin"),
        }
    }
}

/// A request or response header name in a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Name {
    /// A name either policy lists (lowercase).
    Listed(String),
    /// Any name neither policy lists (what `["*"]` grants).
    Other,
}

impl std::fmt::Display for Name {
    /// ```
    /// use corsproof_diff::Name;
    /// assert_eq!(Name::Listed("x-a".into()).to_string(), "x-a");
    /// assert_eq!(Name::Other.to_string(), "* (any other name)");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Name::Listed(n) => f.write_str(n),
            Name::Other => f.write_str("* (any other name)"),
        }
    }
}

/// What a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Aspect {
    /// Script can read the response (P5, P8): a simple read without credentials, a
    /// credentialed read with them.
    Read {
        /// Whether the request carries credentials.
        credentialed: bool,
    },
    /// Non-safelisted methods whose preflight passes (P6).
    Methods {
        /// Whether the request carries credentials.
        credentialed: bool,
        /// The methods, as a browser sends them.
        methods: Vec<String>,
    },
    /// Non-safelisted request headers whose preflight passes (P6).
    RequestHeaders {
        /// Whether the request carries credentials.
        credentialed: bool,
        /// The names.
        names: Vec<Name>,
    },
    /// Response headers script sees beyond the safelisted ones (P9).
    ExposedHeaders {
        /// Whether the request carries credentials.
        credentialed: bool,
        /// The names.
        names: Vec<Name>,
    },
    /// A request to a more private address space passes its Private Network Access preflight
    /// (P11).
    PrivateNetwork {
        /// Whether the request carries credentials.
        credentialed: bool,
    },
    /// How long a passed preflight may be cached, in seconds (P10).
    MaxAge {
        /// The old bound.
        old: u64,
        /// The new bound.
        new: u64,
    },
}

/// The kind of an [`Aspect`], without its data: the rule id of a SARIF result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AspectKind {
    /// [`Aspect::Read`] without credentials.
    SimpleRead,
    /// [`Aspect::Read`] with credentials.
    CredentialedRead,
    /// [`Aspect::Methods`].
    Methods,
    /// [`Aspect::RequestHeaders`].
    RequestHeaders,
    /// [`Aspect::ExposedHeaders`].
    ExposedHeaders,
    /// [`Aspect::PrivateNetwork`].
    PrivateNetwork,
    /// [`Aspect::MaxAge`].
    MaxAge,
}

impl AspectKind {
    /// Every kind.
    pub const ALL: [AspectKind; 7] = [
        AspectKind::CredentialedRead,
        AspectKind::SimpleRead,
        AspectKind::Methods,
        AspectKind::RequestHeaders,
        AspectKind::ExposedHeaders,
        AspectKind::PrivateNetwork,
        AspectKind::MaxAge,
    ];

    /// The kebab-case word: `simple-read`, `credentialed-read`, `methods`, ...
    ///
    /// ```
    /// assert_eq!(corsproof_diff::AspectKind::CredentialedRead.as_str(), "credentialed-read");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            AspectKind::SimpleRead => "simple-read",
            AspectKind::CredentialedRead => "credentialed-read",
            AspectKind::Methods => "methods",
            AspectKind::RequestHeaders => "request-headers",
            AspectKind::ExposedHeaders => "exposed-headers",
            AspectKind::PrivateNetwork => "private-network",
            AspectKind::MaxAge => "max-age",
        }
    }
}

impl Aspect {
    /// The aspect's kind.
    ///
    /// ```
    /// use corsproof_diff::{Aspect, AspectKind};
    /// assert_eq!(Aspect::Read { credentialed: false }.kind(), AspectKind::SimpleRead);
    /// ```
    pub fn kind(&self) -> AspectKind {
        match self {
            Aspect::Read {
                credentialed: false,
            } => AspectKind::SimpleRead,
            Aspect::Read { credentialed: true } => AspectKind::CredentialedRead,
            Aspect::Methods { .. } => AspectKind::Methods,
            Aspect::RequestHeaders { .. } => AspectKind::RequestHeaders,
            Aspect::ExposedHeaders { .. } => AspectKind::ExposedHeaders,
            Aspect::PrivateNetwork { .. } => AspectKind::PrivateNetwork,
            Aspect::MaxAge { .. } => AspectKind::MaxAge,
        }
    }

    /// Whether the aspect is about credentialed requests (`false` for the cache lifetime,
    /// which does not depend on them).
    pub fn credentialed(&self) -> bool {
        match self {
            Aspect::Read { credentialed }
            | Aspect::Methods { credentialed, .. }
            | Aspect::RequestHeaders { credentialed, .. }
            | Aspect::ExposedHeaders { credentialed, .. }
            | Aspect::PrivateNetwork { credentialed } => *credentialed,
            Aspect::MaxAge { .. } => false,
        }
    }

    /// The severity of this aspect changing in `direction`.
    ///
    /// ```
    /// use corsproof_diff::{Aspect, Direction, Severity};
    /// assert_eq!(Aspect::Read { credentialed: true }.severity(Direction::Broadens), Severity::High);
    /// assert_eq!(Aspect::Read { credentialed: true }.severity(Direction::Narrows), Severity::Info);
    /// ```
    pub fn severity(&self, direction: Direction) -> Severity {
        if direction == Direction::Narrows {
            return Severity::Info;
        }
        match self.kind() {
            AspectKind::CredentialedRead => Severity::High,
            AspectKind::Methods | AspectKind::RequestHeaders if self.credentialed() => {
                Severity::High
            }
            AspectKind::SimpleRead | AspectKind::PrivateNetwork => Severity::Medium,
            AspectKind::ExposedHeaders if self.credentialed() => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

/// One route of a policy as a change names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteRef {
    /// The route's index in its policy (file order).
    pub index: usize,
    /// Its `path`.
    pub path: String,
    /// Its `name`, if any.
    pub name: Option<String>,
}

/// Where a change applies: the request paths that fall into one route of the old policy (or
/// none) and one of the new (or none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// A request path of the class (the longer of the two routes' paths).
    pub path: String,
    /// The old policy's route for it; `None`: same-origin only (P2).
    pub old: Option<RouteRef>,
    /// The new policy's route for it; `None`: same-origin only (P2).
    pub new: Option<RouteRef>,
}

/// A browser request that shows a change: granted by one policy and not the other.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Example {
    /// The requesting origin (serialized).
    pub origin: String,
    /// The request path.
    pub path: String,
    /// The method.
    pub method: String,
    /// A request header set by script, if any.
    pub header: Option<String>,
    /// `credentials: "include"`.
    pub credentialed: bool,
    /// Sent to a more private address space (a PNA preflight comes first).
    pub private_network: bool,
    /// An XHR sending a text body with upload listeners: preflighted whatever the method
    /// and headers (R13).
    pub preflight: bool,
}

/// One semantic change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Where.
    pub scope: Scope,
    /// For which requesting origins.
    pub origins: Vec<OriginClass>,
    /// What.
    pub aspect: Aspect,
    /// Grants more, or less.
    pub direction: Direction,
    /// How much attention it deserves.
    pub severity: Severity,
    /// A request that shows it (for the first origin).
    pub example: Example,
}

/// The semantic difference between two policies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diff {
    /// Every change, broadening first, then by severity and path.
    pub changes: Vec<Change>,
}

impl Diff {
    /// Whether anything broadens.
    pub fn broadens(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.direction == Direction::Broadens)
    }

    /// How many changes broaden, how many narrow.
    pub fn counts(&self) -> (usize, usize) {
        let b = self
            .changes
            .iter()
            .filter(|c| c.direction == Direction::Broadens)
            .count();
        (b, self.changes.len() - b)
    }
}

/// The semantic difference from `old` to `new` (see the crate documentation).
///
/// ```
/// use corsproof_policy::{Origins, Policy, Route};
/// let old = Policy { version: 1, routes: vec![Route::same_origin_only("/")] };
/// let mut open = Route::same_origin_only("/");
/// open.origins = Origins::Any;
/// let new = Policy { version: 1, routes: vec![open] };
/// let d = corsproof_diff::diff(&old, &new);
/// assert!(d.broadens());
/// assert!(!corsproof_diff::diff(&new, &old).broadens());
/// ```
pub fn diff(old: &Policy, new: &Policy) -> Diff {
    let mut changes = probe::changes(old, new);
    changes.sort_by(|a, b| {
        (a.direction, a.severity, &a.scope.path, &a.aspect).cmp(&(
            b.direction,
            b.severity,
            &b.scope.path,
            &b.aspect,
        ))
    });
    Diff { changes }
}
