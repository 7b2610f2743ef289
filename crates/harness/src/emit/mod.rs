//! Configuration emitters: a policy turned into the configuration of another CORS
//! implementation, so that the harness can check that implementation against the same policy.
//!
//! - [`nginx()`]: a map-based nginx configuration ([`nginx::NginxConfig`]).
//!
//! An emitter either implements the policy exactly or refuses with
//! [`EmitError::Unsupported`], naming the route and field it cannot express.
//!
//! ```
//! use corsproof_harness::emit::{nginx, Upstream};
//! use corsproof_policy::Policy;
//! let policy = Policy::from_toml_str(
//!     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.example.com\"]\n",
//!     "p.toml",
//! )?;
//! let conf = nginx(&policy, &Upstream::demo())?;
//! assert!(conf.server_level.contains("location ^~ \"/api/\""));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod nginx;

pub use nginx::{nginx, NginxConfig, Upstream};

/// Why a policy could not be emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// The target cannot express this part of the policy exactly.
    #[error("route {route:?}, field `{field}`: {why}")]
    Unsupported {
        /// The route's name, or its path when it has none.
        route: String,
        /// The policy field (`path`, `methods`, ...).
        field: &'static str,
        /// What the target cannot do.
        why: String,
    },
}
