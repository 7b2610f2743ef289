//! # corsproof-oracle: the oracle
//!
//! An executable model of the same-origin policy and CORS as the Fetch Standard defines them,
//! written to be obviously right rather than fast: each function transcribes one algorithm and
//! cites the rule ids of `spec/SPEC.md` (R1–R68 of the rule digest, deviations D1–D15, the
//! policy semantics P1–P11). Given a request and a server's real answers, it says what a
//! browser sends, lets script read and exposes, and why.
//!
//! - [`Request::construct`]: what script asked for becomes the request the browser builds.
//! - [`Fetch`]: the fetch algorithm, sans I/O: it says what to send, takes the answers.
//! - [`PreflightCache`]: the preflight cache as explicit state with time as input.
//! - [`Profile`]: the standard, Chromium and Firefox, deviations as data.
//! - [`intent`]: what a policy intends for a request (three-valued).
//! - [`case`]: the `explain` JSON shapes and their evaluation.
//!
//! ```
//! use corsproof_oracle::case::{explain_json, Input};
//! let input: Input = serde_json::from_str(r#"{
//!   "request": {"url": "https://api.test/x", "origin": "https://app.test", "method": "GET"},
//!   "response": {"status": 200, "headers": [["Access-Control-Allow-Origin", "https://app.test/"]]}
//! }"#).unwrap();
//! let out = explain_json(&input, None).unwrap();
//! assert_eq!(out["readable"], false);
//! assert_eq!(out["error"], "allow-origin-mismatch");
//! ```

#![deny(missing_docs)]

pub mod cache;
pub mod case;
pub mod cors_check;
pub mod error;
pub mod expose;
pub mod fetch;
pub mod grammar;
pub mod headers;
pub mod intent;
pub mod method;
pub mod origin;
pub mod preflight;
pub mod profile;
pub mod request;
pub mod response;

pub use cache::{PreflightCache, Seconds};
pub use error::{ErrorKind, Reason, RuleId};
pub use fetch::{Fetch, Next, Outcome};
pub use origin::Origin;
pub use profile::Profile;
pub use request::{Body, CredentialsMode, RedirectMode, Request, RequestInit, RequestMode};
pub use response::Response;
