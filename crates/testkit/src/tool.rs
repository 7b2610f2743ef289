//! One way for a test to need a tool: run when it is there, fail in CI when it is missing,
//! skip saying why elsewhere.
//!
//! [`require`] looks a program up on `PATH`; [`require_any`] takes the first of several names
//! (`chromium` or `chromium-browser`); [`require_that`] takes a condition the test checked
//! itself (a Docker engine that answers, an image that is present). When the need is not met
//! and the environment variable `CI` is set to anything but the empty string, they panic with
//! a message naming the tool and the Debian package that provides it; otherwise they print
//! `SKIPPED <test name>: <reason>` to stderr and return `None` (or `false`), and the test
//! returns early:
//!
//! ```no_run
//! let Some(nginx) = corsproof_testkit::tool::require("nginx", "serves the emitted config") else {
//!     return;
//! };
//! # let _ = nginx;
//! ```

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// Debian packages of the programs the suites need, by program name.
///
/// ```
/// assert_eq!(corsproof_testkit::tool::package_of("pcre2grep"), Some("pcre2-utils"));
/// ```
pub const PACKAGES: [(&str, &str); 13] = [
    ("chromium", "chromium"),
    ("chromium-browser", "chromium"),
    ("firefox-esr", "firefox-esr"),
    ("firefox", "firefox-esr"),
    ("nginx", "nginx-light"),
    ("docker", "docker.io"),
    ("docker-compose", "docker-compose"),
    ("pcre2grep", "pcre2-utils"),
    ("openssl", "openssl"),
    ("curl", "curl"),
    ("certutil", "libnss3-tools"),
    ("varnishd", "varnish"),
    ("apache2", "apache2"),
];

/// The Debian package that provides `program`, if [`PACKAGES`] knows it.
///
/// ```
/// assert_eq!(corsproof_testkit::tool::package_of("nginx"), Some("nginx-light"));
/// assert_eq!(corsproof_testkit::tool::package_of("no-such-tool"), None);
/// ```
pub fn package_of(program: &str) -> Option<&'static str> {
    PACKAGES
        .iter()
        .find(|(name, _)| *name == program)
        .map(|(_, package)| *package)
}

/// What a lookup depends on: the `PATH` to search and the value of `CI`. [`Env::current`]
/// reads the process's; tests of this module build their own.
///
/// ```
/// use corsproof_testkit::tool::Env;
/// let env = Env { path: Some("/usr/bin:/bin".into()), ci: None };
/// assert!(!env.in_ci());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// The directories to search, as `PATH` spells them.
    pub path: Option<OsString>,
    /// The value of `CI`.
    pub ci: Option<OsString>,
}

impl Env {
    /// The process's `PATH` and `CI`.
    ///
    /// ```
    /// let env = corsproof_testkit::tool::Env::current();
    /// assert_eq!(env.ci.is_some(), std::env::var_os("CI").is_some());
    /// ```
    pub fn current() -> Env {
        Env {
            path: std::env::var_os("PATH"),
            ci: std::env::var_os("CI"),
        }
    }

    /// Whether `CI` is set to a non-empty value.
    ///
    /// ```
    /// use corsproof_testkit::tool::Env;
    /// assert!(Env { path: None, ci: Some("true".into()) }.in_ci());
    /// assert!(!Env { path: None, ci: Some("".into()) }.in_ci());
    /// ```
    pub fn in_ci(&self) -> bool {
        self.ci.as_deref().is_some_and(|v| !v.is_empty())
    }

    /// The first of `programs` found as a file in a directory of `path`.
    ///
    /// ```
    /// use corsproof_testkit::tool::Env;
    /// let env = Env { path: Some("/nonexistent".into()), ci: None };
    /// assert_eq!(env.find(&["sh"]), None);
    /// ```
    pub fn find(&self, programs: &[&str]) -> Option<PathBuf> {
        let path = self.path.as_deref().unwrap_or(OsStr::new(""));
        programs.iter().find_map(|program| {
            std::env::split_paths(path)
                .map(|dir| dir.join(program))
                .find(|candidate| candidate.is_file())
        })
    }
}

/// Why a need was not met, and what provides it: what [`decide`] reports.
///
/// ```
/// use corsproof_testkit::tool::Missing;
/// let m = Missing { tool: "nginx".into(), package: Some("nginx-light"), reason: "no nginx on PATH".into() };
/// assert!(m.ci_message("serves the config").contains("nginx-light"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The tool, as the test names it.
    pub tool: String,
    /// The Debian package that provides it, when known.
    pub package: Option<&'static str>,
    /// What was found missing.
    pub reason: String,
}

impl Missing {
    /// The panic message in CI: the tool, its package, the reason, and what the test needs
    /// it for.
    ///
    /// ```
    /// use corsproof_testkit::tool::Missing;
    /// let m = Missing { tool: "x".into(), package: None, reason: "no x on PATH".into() };
    /// assert!(m.ci_message("y").contains("no Debian package known"));
    /// ```
    pub fn ci_message(&self, why: &str) -> String {
        let package = match self.package {
            Some(p) => format!("install Debian's `{p}`"),
            None => "no Debian package known for it".to_string(),
        };
        format!(
            "{} is missing in CI ({}): {}; needed because it {why}",
            self.tool, self.reason, package
        )
    }

    /// The line printed when the test is skipped.
    ///
    /// ```
    /// use corsproof_testkit::tool::Missing;
    /// let m = Missing { tool: "x".into(), package: Some("x-utils"), reason: "no x on PATH".into() };
    /// assert_eq!(m.skip_line("t", "runs x"), "SKIPPED t: no x on PATH (Debian package x-utils); the test runs x");
    /// ```
    pub fn skip_line(&self, test: &str, why: &str) -> String {
        let package = self
            .package
            .map(|p| format!(" (Debian package {p})"))
            .unwrap_or_default();
        format!("SKIPPED {test}: {}{package}; the test {why}", self.reason)
    }
}

/// What a test does about a need: go on, skip (with the line to print), or fail (with the
/// panic message).
///
/// ```
/// use corsproof_testkit::tool::{decide, Decision, Env, Missing};
/// let missing = Missing { tool: "x".into(), package: None, reason: "no x".into() };
/// let env = Env { path: None, ci: None };
/// assert!(matches!(decide::<()>(Err(missing), "t", "runs x", &env), Decision::Skip(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<T> {
    /// The need is met.
    Run(T),
    /// Not met outside CI: the `SKIPPED` line.
    Skip(String),
    /// Not met in CI: the panic message.
    Fail(String),
}

/// The decision for `found` (the tool, or why it is missing) of the test `test` that needs it
/// because it does `why`, under `env`.
///
/// ```
/// use corsproof_testkit::tool::{decide, Decision, Env, Missing};
/// let missing = Missing { tool: "x".into(), package: None, reason: "no x".into() };
/// let ci = Env { path: None, ci: Some("1".into()) };
/// assert!(matches!(decide::<()>(Err(missing), "t", "runs x", &ci), Decision::Fail(_)));
/// assert_eq!(decide(Ok(7), "t", "runs x", &ci), Decision::Run(7));
/// ```
pub fn decide<T>(found: Result<T, Missing>, test: &str, why: &str, env: &Env) -> Decision<T> {
    match found {
        Ok(value) => Decision::Run(value),
        Err(missing) if env.in_ci() => Decision::Fail(missing.ci_message(why)),
        Err(missing) => Decision::Skip(missing.skip_line(test, why)),
    }
}

/// The first of `programs` on `env`'s `PATH`, or what is missing (named after the first).
///
/// ```
/// use corsproof_testkit::tool::{lookup, Env};
/// let env = Env { path: Some("/nonexistent".into()), ci: None };
/// let missing = lookup(&["chromium", "chromium-browser"], &env).unwrap_err();
/// assert_eq!(missing.package, Some("chromium"));
/// ```
pub fn lookup(programs: &[&str], env: &Env) -> Result<PathBuf, Missing> {
    env.find(programs).ok_or_else(|| {
        let tool = programs.first().copied().unwrap_or_default();
        Missing {
            tool: tool.to_string(),
            package: programs.iter().find_map(|p| package_of(p)),
            reason: format!("none of {programs:?} is on PATH"),
        }
    })
}

/// The name of the running test: libtest names each test's thread after it.
///
/// ```
/// let name = corsproof_testkit::tool::test_name();
/// assert!(!name.is_empty());
/// ```
pub fn test_name() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("<this test>")
        .to_string()
}

/// Carries out a decision: the value to run with, `None` after printing the skip line, or a
/// panic in CI.
fn carry_out<T>(decision: Decision<T>) -> Option<T> {
    match decision {
        Decision::Run(value) => Some(value),
        Decision::Skip(line) => {
            eprintln!("{line}");
            None
        }
        Decision::Fail(message) => panic!("{message}"),
    }
}

/// `program` on `PATH`; else, in CI, a panic naming it and its Debian package, and outside
/// CI `None` after `SKIPPED <test name>: <reason>` on stderr. `why` says what the test does
/// with it.
///
/// ```no_run
/// let Some(pcre2grep) = corsproof_testkit::tool::require("pcre2grep", "runs the emitted regexes") else {
///     return;
/// };
/// # let _ = pcre2grep;
/// ```
pub fn require(program: &str, why: &str) -> Option<PathBuf> {
    require_any(&[program], why)
}

/// The first of `programs` on `PATH` (one tool under several names), as [`require`] does.
///
/// ```no_run
/// let chromium = corsproof_testkit::tool::require_any(&["chromium", "chromium-browser"], "replays cases");
/// # let _ = chromium;
/// ```
pub fn require_any(programs: &[&str], why: &str) -> Option<PathBuf> {
    let env = Env::current();
    carry_out(decide(lookup(programs, &env), &test_name(), why, &env))
}

/// A condition the test checked itself: `check` is `Err(reason)` when `tool` cannot serve
/// (a Docker engine that does not answer, an image that is missing). `true` when it can;
/// otherwise as [`require`] (the package is looked up by `tool`).
///
/// ```no_run
/// let answers = std::process::Command::new("docker").arg("info").output();
/// let check = match answers {
///     Ok(o) if o.status.success() => Ok(()),
///     _ => Err("the Docker engine does not answer".to_string()),
/// };
/// if !corsproof_testkit::tool::require_that("docker", check, "runs nginx in a container") {
///     return;
/// }
/// ```
pub fn require_that(tool: &str, check: Result<(), String>, why: &str) -> bool {
    let env = Env::current();
    let found = check.map_err(|reason| Missing {
        tool: tool.to_string(),
        package: package_of(tool),
        reason,
    });
    carry_out(decide(found, &test_name(), why, &env)).is_some()
}
