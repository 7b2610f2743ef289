//! # corsproof-targets
//!
//! Starting a CORS implementation configured from a policy, so that `check` can test it, and
//! stopping it again: only processes and containers this crate started, each by its own id.
//!
//! - [`launch`]: a local process on a loopback port: nginx with the configuration of
//!   [`corsproof_emit::nginx()`], or any program that prints `listening on http://ADDR`
//!   (`corsproof serve`).
//! - [`registry`]: every target by name, with its Debian packages, version detection,
//!   emitter and launcher (`run`, `lint --target` and `matrix` use it).
//! - [`cache`]: a shared HTTP cache (Varnish, nginx `proxy_cache`, Apache `mod_cache`) in
//!   front of a running target, on a loopback port of its own.
//! - [`relay`]: a loopback TCP relay that can be pointed at one target after another, so that
//!   caches started once serve a whole run.
//! - [`container`]: the same targets as Docker containers driven through the `docker`
//!   command (images built without a registry by `cargo xtask images`), Kong in front of an
//!   upstream on a network of its own, or a user's own image.

#![deny(missing_docs)]

pub mod cache;
pub mod container;
pub mod launch;
pub mod registry;
pub mod relay;
