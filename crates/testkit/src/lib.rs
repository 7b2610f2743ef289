//! # corsproof-testkit
//!
//! What the suites of corsproof generate their inputs from, written once: vocabularies of
//! origins, methods, headers and routes as plain data, proptest strategies built on them,
//! and one way to skip a test that needs a tool.
//!
//! | module | holds |
//! |---|---|
//! | [`origins`] | origins by class: listed exact origins and patterns, pattern instances, pages, strangers, odd spellings; the near-miss families that break allowlists ([`origins::Mutation`]: prefix, suffix, substring, unescaped dot, scheme flip, port, case, trailing slash, `null`, apex) |
//! | [`methods`] | methods by class: safelisted, forbidden, spellings Fetch normalizes, odd case, custom tokens; the pools routes list and raw requests send |
//! | [`headers`] | request headers by class: safelisted, unsafe, forbidden pairs and names, `Authorization`, client hints, values at the 128-byte limit, unsafe bytes; names routes list; raw header lines |
//! | [`responses`] | CORS response header values: ACAO, ACAC, ACAM, ACAH, ACEH, Max-Age; the headers around them, redirects, the inner service's `Vary` |
//! | [`routes`] | route prefixes, paths under and beside them, URLs, `max_age` seconds |
//! | [`tool`] | [`tool::require`]: a program on `PATH` (or a condition) for a test, a panic in CI when it is missing, `SKIPPED <test>: <reason>` elsewhere |
//! | `strategy` (feature `proptest`, on by default) | strategies: origins and `origins` fields, valid policies, script requests, responses, raw requests |
//!
//! The fuzz targets index some slices with bytes of their input; those are named `FUZZ_*`
//! (or `TEST_SITE_*`) and keep their order and length, which the checked-in corpora depend
//! on.
//!
//! The oracle (`corsproof-oracle`) and the middleware (`corsproof-tower`) are two independent
//! implementations, and the suites judge one with the other. The test kit only *generates*
//! their inputs: it depends on neither, and holds no matching or parsing logic that either
//! uses. It depends on `corsproof-policy` for the data model.
//!
//! ```
//! use corsproof_policy::OriginEntry;
//! use corsproof_testkit::origins::{Mutation, EXACT};
//!
//! let allowed: OriginEntry = EXACT[0].parse().unwrap();
//! let near_misses: Vec<String> = Mutation::SERIALIZED.iter().map(|m| m.apply(&allowed)).collect();
//! assert!(!near_misses.contains(&EXACT[0].to_string()));
//! ```
#![deny(missing_docs)]

pub mod headers;
pub mod methods;
pub mod origins;
pub mod responses;
pub mod routes;
#[cfg(feature = "proptest")]
pub mod strategy;
pub mod tool;
