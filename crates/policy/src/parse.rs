//! Entry points: text or file in, validated policy (and its warnings) out.

use std::path::Path;

use crate::error::{Diagnostic, ErrorCode, PolicyError};
use crate::lint::{lint, Warning};
use crate::model::{Policy, Route};
use crate::raw::{Bare, RawPolicy, Spanned};
use crate::source::LineIndex;
use crate::validate::{validate, Validated};

/// The syntax a policy is written in.
///
/// ```
/// use corsproof_policy::Format;
/// use std::path::Path;
/// assert_eq!(Format::detect(Path::new("p.json"), ""), Format::Json);
/// assert_eq!(Format::detect(Path::new("policy"), "  {\"version\": 1}"), Format::Json);
/// assert_eq!(Format::detect(Path::new("policy"), "version = 1"), Format::Toml);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML, the primary format.
    Toml,
    /// JSON with the same field names (`{"version": 1, "route": [...]}`).
    Json,
}

impl Format {
    /// Chooses by extension (`.toml`, `.json`, any case); otherwise JSON if the text starts
    /// with `{` (which TOML never does), else TOML.
    ///
    /// ```
    /// use corsproof_policy::Format;
    /// assert_eq!(Format::detect("cors.TOML".as_ref(), "{"), Format::Toml);
    /// ```
    pub fn detect(path: &Path, text: &str) -> Format {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("toml") => Format::Toml,
            Some("json") => Format::Json,
            _ if strip_bom(text).trim_start().starts_with('{') => Format::Json,
            _ => Format::Toml,
        }
    }
}

/// A valid policy and its lint warnings (with file, line and column where known).
///
/// ```
/// let parsed = corsproof_policy::parse_str(
///     "version = 1\n\n[[route]]\npath = \"/\"\norigins = [\"https://a.example\"]\nmax_age = 0\n",
///     "p.toml",
///     corsproof_policy::Format::Toml,
/// ).unwrap();
/// assert_eq!(parsed.policy.routes.len(), 1);
/// assert_eq!(parsed.warnings[0].to_string(),
///     "p.toml:6:11: route \"/\" (#1), field `max_age`: max_age = 0 disables preflight caching: \
///      every non-simple request pays a preflight round trip; omit max_age for the browser \
///      default (5 seconds)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The validated policy.
    pub policy: Policy,
    /// Every warning: duplicate entries removed while parsing, then [`lint`]'s, in route order.
    pub warnings: Vec<Warning>,
    /// The 1-based line where each route of `policy.routes` starts in the text (`None` where
    /// the parser could not tell), for reports that point into the policy file.
    pub route_lines: Vec<Option<usize>>,
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parses, validates and lints policy text. `file` is only used in messages.
///
/// Syntax errors (including unknown fields and wrong types) stop at the first; validation
/// errors are all collected into [`PolicyError::Invalid`].
///
/// ```
/// use corsproof_policy::{parse_str, Format, PolicyError};
/// let text = r#"{"version": 1, "route": [{"path": "/", "origins": ["*"], "credentials": true}]}"#;
/// match parse_str(text, "p.json", Format::Json) {
///     Err(PolicyError::Invalid(diags)) => {
///         assert_eq!(diags[0].code.as_str(), "wildcard-origin-with-credentials");
///         assert_eq!(diags[0].field.as_deref(), Some("origins"));
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn parse_str(text: &str, file: &str, format: Format) -> Result<Parsed, PolicyError> {
    let text = strip_bom(text);
    // The line index is built once the text is known to parse (or for the position of a TOML
    // syntax error): most rejected inputs never need it.
    let doc = match format {
        Format::Toml => toml::from_str::<RawPolicy<Spanned>>(text)
            .map_err(|e| {
                let start = e.span().map(|span| span.start);
                let at = start.map(|offset| LineIndex::new(text).pos(offset));
                let mut message = e.message().trim_end().to_string();
                let written = start
                    .and_then(|offset| text.get(offset..))
                    .unwrap_or_default();
                if written.starts_with("[route]") {
                    message.push_str("; each route is an array-of-tables entry: write [[route]]");
                }
                PolicyError::Syntax {
                    file: file.to_string(),
                    line: at.map(|p| p.line),
                    column: at.map(|p| p.column),
                    message,
                }
            })?
            .locate(&LineIndex::new(text)),
        Format::Json => serde_json::from_str::<RawPolicy<Bare>>(text)
            .map_err(|e| json_syntax_error(&e, file))?
            .locate(&LineIndex::new(text)),
    };
    let Validated {
        policy,
        mut warnings,
        map,
    } = validate(doc, file).map_err(PolicyError::Invalid)?;
    for mut warning in lint(&policy) {
        if let Some((route, _)) = &warning.route {
            if let Some(at) = map.locate(*route, warning.field.as_deref()) {
                warning.line = Some(at.line);
                warning.column = Some(at.column);
            }
        }
        warnings.push(warning);
    }
    for warning in &mut warnings {
        warning.file = Some(file.to_string());
    }
    warnings.sort_by_key(|w| (w.route.as_ref().map(|r| r.0), w.line));
    let route_lines = (0..policy.routes.len())
        .map(|i| map.locate(i, None).map(|at| at.line))
        .collect();
    Ok(Parsed {
        policy,
        warnings,
        route_lines,
    })
}

fn json_syntax_error(e: &serde_json::Error, file: &str) -> PolicyError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    let known = e.line() > 0;
    PolicyError::Syntax {
        file: file.to_string(),
        line: known.then(|| e.line()),
        column: known.then(|| e.column()),
        message,
    }
}

/// Reads a policy file, choosing the format with [`Format::detect`], then parses, validates
/// and lints it. Messages name the file as the path was given.
///
/// ```
/// let dir = std::env::temp_dir().join("corsproof-policy-doc-parse-path");
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("p.toml");
/// std::fs::write(&file, "version = 1\n").unwrap();
/// let parsed = corsproof_policy::parse_path(&file).unwrap();
/// assert!(parsed.policy.routes.is_empty());
/// assert!(corsproof_policy::parse_path(dir.join("missing.toml")).is_err());
/// ```
pub fn parse_path(path: impl AsRef<Path>) -> Result<Parsed, PolicyError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(e.as_bytes().get(..valid).unwrap_or_default());
            let at = LineIndex::new(&prefix).pos(prefix.len());
            return Err(PolicyError::Syntax {
                file,
                line: Some(at.line),
                column: Some(at.column),
                message: "the file is not valid UTF-8".to_string(),
            });
        }
    };
    parse_str(&text, &file, Format::detect(path, &text))
}

impl Policy {
    /// Parses and validates a TOML policy; `file` is only used in messages.
    ///
    /// ```
    /// use corsproof_policy::{Origins, Policy};
    /// let p = Policy::from_toml_str("version = 1\n[[route]]\npath = \"/public/\"\norigins = [\"*\"]\n", "p.toml")?;
    /// assert_eq!(p.routes[0].origins, Origins::Any);
    /// # Ok::<(), corsproof_policy::PolicyError>(())
    /// ```
    pub fn from_toml_str(text: &str, file: &str) -> Result<Policy, PolicyError> {
        parse_str(text, file, Format::Toml).map(|p| p.policy)
    }

    /// Parses and validates a JSON policy; `file` is only used in messages.
    ///
    /// ```
    /// let p = corsproof_policy::Policy::from_json_str(r#"{"version": 1, "route": [{"path": "/"}]}"#, "p.json")?;
    /// assert!(p.routes[0].origins.is_empty());
    /// # Ok::<(), corsproof_policy::PolicyError>(())
    /// ```
    pub fn from_json_str(text: &str, file: &str) -> Result<Policy, PolicyError> {
        parse_str(text, file, Format::Json).map(|p| p.policy)
    }

    /// Reads, parses and validates a policy file (see [`parse_path`], which also returns warnings).
    ///
    /// ```
    /// let err = corsproof_policy::Policy::from_path("/nonexistent/policy.toml").unwrap_err();
    /// assert!(matches!(err, corsproof_policy::PolicyError::Io { .. }));
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        parse_path(path).map(|p| p.policy)
    }

    /// Checks a policy built in code: it must be valid and in the canonical form parsing
    /// produces (lowercase header names, no duplicates, ...), so that
    /// `from_toml_str(to_toml_string())` gives it back. Diagnostics carry route and field
    /// but no line, and name the file `<policy>`.
    ///
    /// ```
    /// use corsproof_policy::{HeaderNames, Policy, Route};
    /// let mut route = Route::same_origin_only("/api/");
    /// route.request_headers = HeaderNames::List(vec!["X-Token".into()]);
    /// let policy = Policy { version: 1, routes: vec![route] };
    /// let err = policy.validate().unwrap_err();
    /// assert_eq!(err.diagnostics()[0].code.as_str(), "not-canonical");
    /// assert_eq!(err.diagnostics()[0].field.as_deref(), Some("request_headers"));
    /// ```
    pub fn validate(&self) -> Result<(), PolicyError> {
        // JSON, not TOML: it carries every u64, so an out-of-range max_age is reported as
        // such rather than as unparsable text.
        let file = "<policy>";
        match Policy::from_json_str(&self.to_json_string(), file) {
            Ok(parsed) if parsed == *self => Ok(()),
            Ok(parsed) => Err(PolicyError::Invalid(differences(self, &parsed, file))),
            Err(PolicyError::Invalid(diagnostics)) => Err(PolicyError::Invalid(diagnostics)),
            Err(other) => Err(PolicyError::Invalid(vec![Diagnostic {
                file: file.to_string(),
                line: None,
                column: None,
                route: None,
                field: None,
                message: format!("the policy does not serialize to a valid file: {other}"),
                code: ErrorCode::NotCanonical,
            }])),
        }
    }
}

/// One diagnostic per field where `given` differs from its canonical form `canonical`.
fn differences(given: &Policy, canonical: &Policy, file: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (index, (g, c)) in given.routes.iter().zip(&canonical.routes).enumerate() {
        let fields: [(Option<&str>, bool, String); 6] = [
            (
                Some("origins"),
                g.origins != c.origins,
                format!("{:?}", c.origins),
            ),
            (
                Some("methods"),
                g.methods != c.methods,
                format!("{:?}", c.methods),
            ),
            (
                Some("request_headers"),
                g.request_headers != c.request_headers,
                format!("{:?}", c.request_headers),
            ),
            (
                Some("expose_headers"),
                g.expose_headers != c.expose_headers,
                format!("{:?}", c.expose_headers),
            ),
            (
                Some("probe_paths"),
                g.probe_paths != c.probe_paths,
                format!("{:?}", c.probe_paths),
            ),
            (None, !same_scalars(g, c), format!("{c:?}")),
        ];
        for (field, differs, expected) in fields {
            if differs {
                out.push(Diagnostic {
                    file: file.to_string(),
                    line: None,
                    column: None,
                    route: Some((index, g.label().to_string())),
                    field: field.map(str::to_string),
                    message: format!("is not in canonical form; expected {expected}"),
                    code: ErrorCode::NotCanonical,
                });
            }
        }
    }
    out
}

fn same_scalars(a: &Route, b: &Route) -> bool {
    (
        &a.name,
        &a.path,
        a.credentials,
        a.max_age,
        a.private_network,
        a.allow_risky,
    ) == (
        &b.name,
        &b.path,
        b.credentials,
        b.max_age,
        b.private_network,
        b.allow_risky,
    )
}
