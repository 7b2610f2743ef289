//! Errors: why a policy was rejected, with file, line, route and field.

use std::fmt;
use std::path::PathBuf;

/// Stable identifier of an error kind; [`ErrorCode::as_str`] gives the string used in reports.
///
/// ```
/// use corsproof_policy::ErrorCode;
/// assert_eq!(ErrorCode::WildcardOriginWithCredentials.as_str(), "wildcard-origin-with-credentials");
/// assert_eq!(ErrorCode::ForbiddenMethod.to_string(), "forbidden-method");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `io`: the file could not be read.
    Io,
    /// `syntax`: not well-formed TOML/JSON, not UTF-8, an unknown field or a value of the wrong type.
    Syntax,
    /// `missing-field`: `version`, or a route's `path`, is absent.
    MissingField,
    /// `unsupported-version`: `version` is not 1.
    UnsupportedVersion,
    /// `invalid-name`: a route `name` is empty or contains control characters.
    InvalidName,
    /// `invalid-path`: a route `path` does not start with `/`, or cannot occur in a request path.
    InvalidPath,
    /// `duplicate-path`: two routes have the same `path`.
    DuplicatePath,
    /// `invalid-origin`: an `origins` entry is not an origin (`scheme://host[:port]`).
    InvalidOrigin,
    /// `non-canonical-origin`: an `origins` entry is an origin but not written the way browsers
    /// serialize it (uppercase, default port, trailing slash, ...); the message has the fix.
    NonCanonicalOrigin,
    /// `invalid-origin-pattern`: `*` used other than as `scheme://*.domain[:port]`.
    InvalidOriginPattern,
    /// `wildcard-origin-with-credentials`: `origins = ["*"]` with `credentials = true`.
    WildcardOriginWithCredentials,
    /// `wildcard-mixed`: `"*"` listed together with other entries.
    WildcardMixed,
    /// `invalid-header-name`: a header name that is not an RFC 9110 token (or contains `*`).
    InvalidHeaderName,
    /// `forbidden-request-header`: a forbidden request-header name (`cookie`, `host`, `sec-*`, ...) in `request_headers`.
    ForbiddenRequestHeader,
    /// `wildcard-headers-with-credentials`: `request_headers = ["*"]` with `credentials = true`.
    WildcardHeadersWithCredentials,
    /// `invalid-method`: a method that is not an RFC 9110 token, or `*`.
    InvalidMethod,
    /// `forbidden-method`: `CONNECT`, `TRACE` or `TRACK` (any case).
    ForbiddenMethod,
    /// `max-age-out-of-range`: `max_age` is negative or above [`crate::MAX_AGE_LIMIT`].
    MaxAgeOutOfRange,
    /// `invalid-probe-path`: a `probe_paths` entry is not a valid path under the route's `path`.
    InvalidProbePath,
    /// `not-canonical`: a policy built in code differs from what parsing its own serialization
    /// gives (see [`crate::Policy::validate`]).
    NotCanonical,
}

impl ErrorCode {
    /// The stable string form.
    ///
    /// ```
    /// assert_eq!(corsproof_policy::ErrorCode::DuplicatePath.as_str(), "duplicate-path");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Io => "io",
            ErrorCode::Syntax => "syntax",
            ErrorCode::MissingField => "missing-field",
            ErrorCode::UnsupportedVersion => "unsupported-version",
            ErrorCode::InvalidName => "invalid-name",
            ErrorCode::InvalidPath => "invalid-path",
            ErrorCode::DuplicatePath => "duplicate-path",
            ErrorCode::InvalidOrigin => "invalid-origin",
            ErrorCode::NonCanonicalOrigin => "non-canonical-origin",
            ErrorCode::InvalidOriginPattern => "invalid-origin-pattern",
            ErrorCode::WildcardOriginWithCredentials => "wildcard-origin-with-credentials",
            ErrorCode::WildcardMixed => "wildcard-mixed",
            ErrorCode::InvalidHeaderName => "invalid-header-name",
            ErrorCode::ForbiddenRequestHeader => "forbidden-request-header",
            ErrorCode::WildcardHeadersWithCredentials => "wildcard-headers-with-credentials",
            ErrorCode::InvalidMethod => "invalid-method",
            ErrorCode::ForbiddenMethod => "forbidden-method",
            ErrorCode::MaxAgeOutOfRange => "max-age-out-of-range",
            ErrorCode::InvalidProbePath => "invalid-probe-path",
            ErrorCode::NotCanonical => "not-canonical",
        }
    }
}

impl fmt::Display for ErrorCode {
    /// Writes [`ErrorCode::as_str`].
    ///
    /// ```
    /// assert_eq!(corsproof_policy::ErrorCode::Syntax.to_string(), "syntax");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a policy was rejected.
///
/// `route` is the route's 0-based index into [`crate::Policy::routes`] (file order) and its
/// label (its `name`, else its `path`, else empty); messages show the index 1-based (`#1`).
///
/// ```
/// use corsproof_policy::{Diagnostic, ErrorCode};
/// let d = Diagnostic {
///     file: "policy.toml".into(),
///     line: Some(12),
///     column: Some(1),
///     route: Some((0, "public".into())),
///     field: Some("origins".into()),
///     message: r#""https://App.example.com" is not lowercase; did you mean "https://app.example.com"?"#.into(),
///     code: ErrorCode::NonCanonicalOrigin,
/// };
/// assert_eq!(
///     d.to_string(),
///     r#"policy.toml:12:1: route "public" (#1), field `origins`: "https://App.example.com" is not lowercase; did you mean "https://app.example.com"?"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name given to the parser.
    pub file: String,
    /// 1-based line, when known (always for TOML route and field errors; not for JSON validation errors).
    pub line: Option<usize>,
    /// 1-based column in characters, when known.
    pub column: Option<usize>,
    /// The route: 0-based index and label (name, else path).
    pub route: Option<(usize, String)>,
    /// The field, e.g. `origins`.
    pub field: Option<String>,
    /// What is wrong, with a suggested fix where there is one.
    pub message: String,
    /// Stable kind.
    pub code: ErrorCode,
}

impl fmt::Display for Diagnostic {
    /// `file:line:column: route "name" (#n), field `f`: message`; unknown parts are left out.
    ///
    /// ```
    /// use corsproof_policy::{Diagnostic, ErrorCode};
    /// let d = Diagnostic { file: "p.json".into(), line: None, column: None, route: None,
    ///     field: Some("version".into()), message: "is missing".into(), code: ErrorCode::MissingField };
    /// assert_eq!(d.to_string(), "p.json: field `version`: is missing");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_location(
            f,
            Some(&self.file),
            self.line,
            self.column,
            self.route.as_ref(),
            self.field.as_deref(),
        )?;
        f.write_str(&self.message)
    }
}

/// Writes `file:line:column: route "label" (#n), field `f`: ` (each part only when known).
pub(crate) fn write_location(
    f: &mut fmt::Formatter<'_>,
    file: Option<&str>,
    line: Option<usize>,
    column: Option<usize>,
    route: Option<&(usize, String)>,
    field: Option<&str>,
) -> fmt::Result {
    match (file, line) {
        (Some(file), _) => f.write_str(file)?,
        (None, Some(_)) => f.write_str("line")?,
        (None, None) => {}
    }
    if let Some(line) = line {
        let sep = if file.is_some() { ":" } else { " " };
        write!(f, "{sep}{line}")?;
        if let Some(column) = column {
            write!(f, ":{column}")?;
        }
    }
    if file.is_some() || line.is_some() {
        f.write_str(": ")?;
    }
    if let Some((index, label)) = route {
        if label.is_empty() {
            write!(f, "route #{}", index + 1)?;
        } else {
            write!(f, "route {label:?} (#{})", index + 1)?;
        }
    }
    if let Some(field) = field {
        if route.is_some() {
            f.write_str(", ")?;
        }
        write!(f, "field `{field}`")?;
    }
    if route.is_some() || field.is_some() {
        f.write_str(": ")?;
    }
    Ok(())
}

/// Why a policy could not be loaded.
///
/// ```
/// let err = corsproof_policy::Policy::from_toml_str("version = 2", "p.toml").unwrap_err();
/// assert_eq!(err.to_string(), "p.toml:1:11: field `version`: unsupported version 2; this build reads version 1");
/// assert_eq!(err.diagnostics()[0].code.as_str(), "unsupported-version");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{}: cannot read the policy: {source}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not well-formed TOML/JSON for a policy (bad syntax, not UTF-8, unknown
    /// field, wrong type). Parsing stops at the first one.
    #[error("{}", syntax_diagnostic(file, *line, *column, message))]
    Syntax {
        /// The file name given to the parser.
        file: String,
        /// 1-based line, when the parser reported a position.
        line: Option<usize>,
        /// 1-based column in characters, when the parser reported a position.
        column: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// The policy parsed but cannot mean what it says: every problem found, in file order.
    #[error("{}", DiagnosticList(.0))]
    Invalid(Vec<Diagnostic>),
}

impl PolicyError {
    /// Every problem as a [`Diagnostic`] (one for `Io` and `Syntax`), for uniform reporting.
    ///
    /// ```
    /// let err = corsproof_policy::Policy::from_json_str("{", "p.json").unwrap_err();
    /// let d = &err.diagnostics()[0];
    /// assert_eq!((d.code.as_str(), d.line), ("syntax", Some(1)));
    /// ```
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            PolicyError::Io { path, source } => vec![Diagnostic {
                file: path.display().to_string(),
                line: None,
                column: None,
                route: None,
                field: None,
                message: format!("cannot read the policy: {source}"),
                code: ErrorCode::Io,
            }],
            PolicyError::Syntax {
                file,
                line,
                column,
                message,
            } => vec![syntax_diagnostic(file, *line, *column, message)],
            PolicyError::Invalid(list) => list.clone(),
        }
    }
}

fn syntax_diagnostic(
    file: &str,
    line: Option<usize>,
    column: Option<usize>,
    message: &str,
) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line,
        column,
        route: None,
        field: None,
        message: message.to_string(),
        code: ErrorCode::Syntax,
    }
}

/// Displays diagnostics one per line.
struct DiagnosticList<'a>(&'a [Diagnostic]);

impl fmt::Display for DiagnosticList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}
