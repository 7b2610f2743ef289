//! # corsproof-browser: the oracle checked against real browsers
//!
//! Replays cases in headless Chromium and Firefox ESR and compares what the browser does with
//! what the oracle (`corsproof-oracle`) says for the browser's profile:
//!
//! - a page on one loopback origin ([`page`]) pulls batches of jobs and runs them with
//!   `fetch()` (XHR with an upload listener where the case sets `use_cors_preflight`, R13),
//!   then posts what script saw (resolved, type, readable, header names) back;
//! - scripted servers on other loopback origins ([`server`]) answer each case's preflight and
//!   request with exactly the bytes it prescribes ([`wire`]) and record what reached them (the
//!   preflight and its `Access-Control-Request-*` headers, the request and its `Origin`);
//! - cases come from proptest strategies ([`generate`]), the spec vectors ([`vectors`]),
//!   cache sequences in the over-time form of `explain`, and capacity sequences over more URLs
//!   than the browser's preflight cache holds (D31);
//! - [`run`] compares per step and hop, and reports each disagreement as an `explain` input
//!   with both outcomes.
//!
//! The binary `corsproof-browser` (`cargo xtask browser`) drives it.
//!
//! ```no_run
//! use corsproof_browser::{launch::Browser, run::{run, Options}};
//! let summary = run(&Options {
//!     browser: Browser::Chromium, cases: 100, sequences: 10, capacity_sequences: 1, seed: 1,
//!     vectors: Some("spec/vectors".into()), batch: 100, seq_batch: 100, session_jobs: 400,
//!     stall: std::time::Duration::from_secs(60),
//! }).unwrap();
//! assert!(summary.disagreements.is_empty());
//! ```

#![deny(missing_docs)]

pub mod confirm;
pub mod error;
pub mod generate;
pub mod launch;
pub mod page;
pub mod replay;
pub mod run;
pub mod server;
pub mod vectors;
pub mod wire;

pub use error::Error;
