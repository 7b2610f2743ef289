//! # corsproof-engine
//!
//! The engine that checks a running server: it generates browser requests, plays each one
//! the way a browser would (the oracle, `corsproof-oracle`, says what goes on the wire and
//! what script may read), sends them with `corsproof-client`, and turns every departure from
//! the policy's intent into a finding of `corsproof-report`'s model.
//!
//! - [`generate`]: the deterministic baseline and the proptest strategies of browser requests.
//! - [`check`]: the policy-driven conformance check (`corsproof check`).
//! - [`audit`]: the policy-less scan for dangerous CORS behaviour (`corsproof audit`).
//! - [`cache_probe`]: a target behind a real shared cache, asked by two origins at one URL:
//!   the transcript of a cache serving one origin's CORS answer to another.
//! - [`storable`]: whether a shared cache may store a response (RFC 9111), for the `Vary`
//!   properties of both.
//! - [`retry`]: overload answers (429, 503) retried with a back-off the run's workers share.

#![deny(missing_docs)]

pub mod audit;
pub mod cache_probe;
pub mod check;
pub mod generate;
pub mod infer;
pub mod retry;
pub mod storable;
