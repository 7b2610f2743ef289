//! # corsproof-policy
//!
//! The policy file of `shared/design/policy.md`: what cross-origin access a deployment
//! intends to grant, per route. This crate parses it (TOML, JSON), validates it (errors
//! that name file, line, route and field) and lints it (warnings for risky choices).
//! It contains no origin-matching logic: the oracle and the middleware each have their own.

#![deny(missing_docs)]

mod model;

pub use model::{HeaderNames, OriginEntry, Origins, Policy, Route, Scheme};
