//! Errors of the browser differential.

use std::path::PathBuf;

/// What went wrong while replaying cases in a browser: never a disagreement (those are
/// results), always something that stopped the run or made an input unusable.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A loopback listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The browser binary is not installed.
    #[error("browser {browser:?} not found: none of {candidates:?} is on PATH (install Debian's `chromium` / `firefox-esr`)")]
    BrowserMissing {
        /// The browser asked for.
        browser: String,
        /// The executables looked for.
        candidates: Vec<String>,
    },
    /// The browser could not be started.
    #[error("cannot start {program}: {source}")]
    Launch {
        /// The program.
        program: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The browser exited or stopped reporting before every case was run.
    #[error("the browser stopped reporting: {0}")]
    BrowserStalled(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A vector file is not of the vector shape.
    #[error("{path}: not a vector file: {reason}")]
    VectorFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The oracle rejected a case as input (a harness bug: generated cases must be valid).
    #[error("{label}: the oracle rejects the case: {source}")]
    Case {
        /// Which case.
        label: String,
        /// The oracle's reason.
        source: corsproof_case::CaseError,
    },
    /// The page reported something that is not of the report shape.
    #[error("malformed report from the page: {0}")]
    Report(String),
    /// The run's certificate could not be made or given to the browser's profile.
    #[error("certificate: {0}")]
    Certificate(String),
}
