//! Configuration emitters: a policy turned into the configuration of another CORS
//! implementation, so that `corsproof check` can check that implementation against the same
//! policy.
//!
//! - [`nginx()`]: a map-based nginx configuration ([`nginx::NginxConfig`]), exact.
//! - [`kong()`]: a Kong DB-less declarative configuration using Kong's `cors` plugin
//!   ([`kong::KongConfig`]), with what the plugin cannot express listed as
//!   [`Unsupported`] items.
//! - [`apps`]: programs serving a demo response behind third-party CORS libraries
//!   (Express + cors, Flask + flask-cors, Starlette, Django + django-cors-headers), with
//!   the same [`Unsupported`] items.
//!
//! An emitter either implements the policy exactly or says where it does not: a part of
//! the policy it cannot write at all is refused with [`EmitError::Unsupported`]; a
//! translation that would make the target grant *more* than the policy allows is refused
//! with [`EmitError::Broader`] unless the caller opts in; narrower translations and
//! disclosures are returned as [`Unsupported`] items next to the configuration.
//!
//! ```
//! use corsproof_emit::{nginx, Upstream};
//! use corsproof_policy::Policy;
//! let policy = Policy::from_toml_str(
//!     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.example.com\"]\n",
//!     "p.toml",
//! )?;
//! let conf = nginx(&policy, &Upstream::demo())?;
//! assert!(conf.server_level.contains("location / {"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

pub mod apps;
pub mod kong;
pub mod nginx;

pub use kong::{kong, KongConfig, KongOptions};
pub use nginx::{nginx, NginxConfig, Upstream};

/// Why a policy could not be emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The target cannot express this part of the policy at all.
    #[error("route {route:?}, field `{field}`: {why}")]
    Unsupported {
        /// The route's name, or its path when it has none.
        route: String,
        /// The policy field (`path`, `methods`, ...).
        field: &'static str,
        /// What the target cannot do.
        why: String,
    },
    /// The translation would let the target grant more than the policy allows (the items
    /// with [`Effect::Broader`]); emitted only when the caller opts in.
    #[error("the target would grant more than the policy allows: {}", list(.0))]
    Broader(Vec<Unsupported>),
}

fn list(items: &[Unsupported]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// What an inexact translation does to what a browser is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// The target grants more than the policy allows (a violation waiting to happen):
    /// emitters refuse it unless the caller opts in.
    Broader,
    /// The target grants less than the policy allows (breakage: browsers are refused
    /// what the policy grants).
    Narrower,
    /// Grants are unchanged, but the target tells origins the policy refuses (or requests
    /// without `Origin`) more than it needs to, or omits a `Vary` entry: hygiene and
    /// cache-safety findings, never a read granted.
    Disclosure,
}

impl Effect {
    /// A stable lowercase word: `broader`, `narrower`, `disclosure`.
    ///
    /// ```
    /// assert_eq!(corsproof_emit::Effect::Broader.as_str(), "broader");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Broader => "broader",
            Effect::Narrower => "narrower",
            Effect::Disclosure => "disclosure",
        }
    }
}

/// One thing the target cannot express exactly, and what that does.
///
/// ```
/// use corsproof_emit::{Effect, Unsupported};
/// let u = Unsupported {
///     route: "api".into(),
///     field: "methods",
///     why: "PROPFIND is not a method Kong's cors plugin accepts".into(),
///     effect: Effect::Narrower,
/// };
/// assert_eq!(
///     u.to_string(),
///     "route \"api\", field `methods` (narrower): PROPFIND is not a method Kong's cors plugin accepts"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The route's name, or its path when it has none.
    pub route: String,
    /// The policy field concerned.
    pub field: &'static str,
    /// What the target does instead.
    pub why: String,
    /// What that does to browsers' grants.
    pub effect: Effect,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "route {:?}, field `{}` ({}): {}",
            self.route,
            self.field,
            self.effect.as_str(),
            self.why
        )
    }
}
