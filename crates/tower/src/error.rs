//! Why a policy could not be turned into a middleware.

use std::fmt;

use corsproof_policy::PolicyError;

/// One reason a policy was refused, naming the route and field it is about.
///
/// ```
/// use corsproof_tower::Problem;
/// let p = Problem {
///     route: Some((0, "api".into())),
///     field: Some("origins".into()),
///     code: "null-origin",
///     message: "\"null\" is trusted".into(),
/// };
/// assert_eq!(p.to_string(), "route \"api\" (#1), field `origins`: \"null\" is trusted [null-origin]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The route: 0-based index into `Policy::routes` and its label (name, else path).
    pub route: Option<(usize, String)>,
    /// The field, e.g. `origins` or `max_age`.
    pub field: Option<String>,
    /// Stable kind: a `corsproof-policy` error or warning code, or `header-value`.
    pub code: &'static str,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl fmt::Display for Problem {
    /// `route "label" (#n), field `f`: message [code]`; unknown parts are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((index, label)) = &self.route {
            write!(f, "route {label:?} (#{})", index + 1)?;
            if self.field.is_some() {
                f.write_str(", ")?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`")?;
        }
        if self.route.is_some() || self.field.is_some() {
            f.write_str(": ")?;
        }
        write!(f, "{} [{}]", self.message, self.code)
    }
}

/// Why [`crate::CorsLayer::from_policy`] (or [`crate::CorsBuilder::build`]) refused a policy.
///
/// Every variant names route and field; [`BuildError::problems`] lists them uniformly.
///
/// ```
/// use corsproof_policy::Policy;
/// use corsproof_tower::{BuildError, CorsLayer};
/// let policy = Policy::from_toml_str(r#"
/// version = 1
/// [[route]]
/// name = "embed"
/// path = "/embed/"
/// origins = ["null"]
/// "#, "p.toml")?;
/// let err = CorsLayer::from_policy(&policy).unwrap_err();
/// assert!(matches!(err, BuildError::Risky(_)));
/// let p = &err.problems()[0];
/// assert_eq!((p.route.clone(), p.field.as_deref(), p.code), (Some((0, "embed".to_string())), Some("origins"), "null-origin"));
/// # Ok::<(), corsproof_policy::PolicyError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The policy itself is invalid (`Policy::validate` failed): every diagnostic names file,
    /// route and field.
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    /// Risky-but-meaningful settings (`null` origin, `http:` origins on a credentialed route,
    /// `max_age` above 86400) on routes that do not set `allow_risky = true`; one problem each.
    #[error("risky settings refused (set allow_risky = true on the route to accept them): {}", ProblemList(.0))]
    Risky(Vec<Problem>),
    /// A policy value that cannot be sent as an HTTP header value. A validated policy never
    /// produces one; this exists so that building never panics.
    #[error("{0}")]
    HeaderValue(Problem),
}

impl BuildError {
    /// Every problem, with route and field where known, in route order.
    ///
    /// ```
    /// use corsproof_tower::CorsLayer;
    /// let err = CorsLayer::builder().allow_origins(["https://App.example.com"]).build().unwrap_err();
    /// let problems = err.problems();
    /// assert_eq!(problems[0].field.as_deref(), Some("origins"));
    /// assert_eq!(problems[0].code, "non-canonical-origin");
    /// ```
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            BuildError::Policy(err) => err
                .diagnostics()
                .into_iter()
                .map(|d| Problem {
                    route: d.route,
                    field: d.field,
                    code: d.code.as_str(),
                    message: d.message,
                })
                .collect(),
            BuildError::Risky(list) => list.clone(),
            BuildError::HeaderValue(problem) => vec![problem.clone()],
        }
    }
}

/// Displays problems separated by "; ".
struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}
