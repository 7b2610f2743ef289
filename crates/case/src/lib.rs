//! # corsproof-case
//!
//! The case format: a browser request and a server's answers as JSON (the input of
//! `corsproof explain`, of the spec vectors and of saved `check` cases), their evaluation by
//! the oracle, the output shapes with a sentence for people, and the import of HAR captures.
//! The oracle (`corsproof-oracle`) is the model and knows nothing of files or JSON; this crate
//! is where its inputs and outputs get a spelling.
//!
//! - [`Input`], [`CaseJson`], [`RequestJson`], [`ResponseJson`]: the JSON shapes (one case, or
//!   steps against one preflight cache over time).
//! - [`explain`] / [`explain_json`]: what a browser does with a case, and why.
//! - [`explain_reason`]: the sentence for an oracle decision.
//! - [`har`]: HAR 1.2 captures (browsers' developer tools) turned into cases.
//!
//! ```
//! use corsproof_case::{explain_json, Input};
//! let input: Input = serde_json::from_str(r#"{
//!   "request": {"url": "https://api.test/x", "origin": "https://app.test", "method": "GET"},
//!   "response": {"status": 200, "headers": [["Access-Control-Allow-Origin", "https://app.test/"]]}
//! }"#).unwrap();
//! let out = explain_json(&input, None).unwrap();
//! assert_eq!(out["readable"], false);
//! assert_eq!(out["error"], "allow-origin-mismatch");
//! ```

#![deny(missing_docs)]

mod explain;
pub mod har;

pub use explain::*;
