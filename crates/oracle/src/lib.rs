//! # corsproof-oracle
//!
//! An executable model of the same-origin policy and CORS as the Fetch Standard defines them,
//! written to be obviously right rather than fast: each function transcribes one algorithm and
//! cites the rule ids `spec/SPEC.md` defines (R1–R68, the rules of the Fetch Standard's CORS
//! algorithms, <https://fetch.spec.whatwg.org/>; the browser deviations D1–D33, the request on
//! the wire W1–W12, the policy semantics P1–P11). Given a request and a server's real answers,
//! it says what a browser sends, lets script read and exposes, and why. It is pure: no I/O, no
//! clock, no file formats (the JSON case format is `corsproof-case`).
//!
//! - [`Request::construct`]: what script asked for becomes the request the browser builds.
//! - [`Fetch`]: the fetch algorithm, sans I/O: it says what to send, takes the answers.
//! - [`PreflightCache`]: the preflight cache as explicit state with time as input.
//! - [`Profile`]: the standard, Chromium and Firefox, deviations as data.
//! - [`wire`]: the request a browser writes on the wire for a [`Fetch`] state (W1–W12).
//! - [`intent`]: what a policy intends for a request (three-valued).
//!
//! ```
//! use corsproof_oracle::{Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response};
//! let init = RequestInit::new(
//!     url::Url::parse("https://api.test/x").unwrap(),
//!     Origin::parse_serialized("https://app.test").unwrap(),
//! );
//! let profile = Profile::fetch();
//! let request = Request::construct(init, &profile).unwrap();
//! let mut cache = PreflightCache::default();
//! let mut fetch = Fetch::new(&request, &profile);
//! // A simple GET: no preflight, the request itself goes out.
//! assert_eq!(fetch.start(&mut cache, 0.0), Next::Request);
//! // The server names the origin with a trailing slash: no byte-for-byte match (R33).
//! let response = Response::new(200, [("Access-Control-Allow-Origin", "https://app.test/")]);
//! assert_eq!(fetch.on_response(&response, &mut cache, 0.0), Next::Done);
//! assert!(!fetch.outcome().readable);
//! ```

#![deny(missing_docs)]

pub mod cache;
pub mod cors_check;
pub mod defect;
pub mod error;
pub mod expose;
pub mod fetch;
pub mod grammar;
pub mod headers;
pub mod intent;
pub mod method;
pub mod origin;
#[cfg(feature = "planted-defect")]
pub mod planted;
pub mod preflight;
pub mod profile;
pub mod request;
pub mod response;
pub mod wire;

pub use cache::{PreflightCache, Seconds};
pub use error::{ErrorKind, Reason, RuleId};
pub use fetch::{Fetch, Next, Outcome};
pub use origin::Origin;
pub use profile::Profile;
pub use request::{Body, CredentialsMode, RedirectMode, Request, RequestInit, RequestMode};
pub use response::Response;
