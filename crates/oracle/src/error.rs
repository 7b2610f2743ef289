//! The stable error-kind vocabulary (spec/ERRORS.md) and the reason attached to each decision.

/// A rule id: `R1`–`R68` and `D1`–`D15` of the rule digest, `P1`–`P11` of the policy
/// semantics (spec/SPEC.md).
pub type RuleId = &'static str;

/// Why a request failed or a read was refused. The words are stable: `check` findings use them.
///
/// ```
/// use corsproof_oracle::ErrorKind;
/// assert_eq!(ErrorKind::AllowOriginMismatch.as_str(), "allow-origin-mismatch");
/// assert_eq!(ErrorKind::parse("header-not-allowed"), Some(ErrorKind::HeaderNotAllowed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// CONNECT, TRACE or TRACK (R6).
    ForbiddenMethod,
    /// A method that is not a token (R6).
    InvalidMethod,
    /// A header name that is not a token, or a value with NUL, CR or LF (R8).
    InvalidHeader,
    /// The URL has a username or password (R14).
    UrlCredentials,
    /// No-cors mode with a method other than GET, HEAD, POST (R9).
    NoCorsMethod,
    /// No-cors mode with a redirect mode other than `follow`, or with a stream body (R9, R13).
    NoCorsRequest,
    /// A body with GET or HEAD (R11).
    BodyWithGetOrHead,
    /// Mode `same-origin` with a cross-origin URL (R21).
    SameOriginMode,
    /// A cross-origin URL that is not http(s) (R21).
    UnsupportedScheme,
    /// The preflight was answered with a redirect (R30).
    PreflightRedirect,
    /// The preflight's status is not 200-299 (R37).
    PreflightStatus,
    /// No `Access-Control-Allow-Origin` (R31).
    MissingAllowOrigin,
    /// ACAO `*` with credentials (R32, R33).
    WildcardWithCredentials,
    /// More than one ACAO value (R33).
    MultipleAllowOrigin,
    /// One ACAO value that is not the request's serialized origin (R33, R34).
    AllowOriginMismatch,
    /// ACAC missing or not exactly `true` with credentials (R35).
    AllowCredentialsNotTrue,
    /// An ACAM element that is not a token (R38).
    InvalidAllowMethods,
    /// An ACAH element that is not a token (R38).
    InvalidAllowHeaders,
    /// The method is not allowed by the preflight (R40).
    MethodNotAllowed,
    /// `Authorization` not named by ACAH (R41).
    AuthorizationNotAllowed,
    /// A CORS-unsafe request header not allowed by the preflight (R42).
    HeaderNotAllowed,
    /// PNA preflight without `Access-Control-Allow-Private-Network: true` (R67).
    PrivateNetworkNotAllowed,
    /// `Location` does not parse (R56).
    RedirectLocationInvalid,
    /// A redirect to a scheme other than http(s) (R56).
    RedirectScheme,
    /// More than 20 redirects (R56).
    TooManyRedirects,
    /// A CORS redirect to a URL with credentials (R57).
    RedirectCredentials,
    /// A redirect with redirect mode `error` (R62).
    RedirectModeError,
    /// A non-303 redirect of a request with a stream body (R62).
    RedirectStreamBody,
}

const ALL: [(ErrorKind, &str); 28] = [
    (ErrorKind::ForbiddenMethod, "forbidden-method"),
    (ErrorKind::InvalidMethod, "invalid-method"),
    (ErrorKind::InvalidHeader, "invalid-header"),
    (ErrorKind::UrlCredentials, "url-credentials"),
    (ErrorKind::NoCorsMethod, "no-cors-method"),
    (ErrorKind::NoCorsRequest, "no-cors-request"),
    (ErrorKind::BodyWithGetOrHead, "body-with-get-or-head"),
    (ErrorKind::SameOriginMode, "same-origin-mode"),
    (ErrorKind::UnsupportedScheme, "unsupported-scheme"),
    (ErrorKind::PreflightRedirect, "preflight-redirect"),
    (ErrorKind::PreflightStatus, "preflight-status"),
    (ErrorKind::MissingAllowOrigin, "missing-allow-origin"),
    (
        ErrorKind::WildcardWithCredentials,
        "wildcard-with-credentials",
    ),
    (ErrorKind::MultipleAllowOrigin, "multiple-allow-origin"),
    (ErrorKind::AllowOriginMismatch, "allow-origin-mismatch"),
    (
        ErrorKind::AllowCredentialsNotTrue,
        "allow-credentials-not-true",
    ),
    (ErrorKind::InvalidAllowMethods, "invalid-allow-methods"),
    (ErrorKind::InvalidAllowHeaders, "invalid-allow-headers"),
    (ErrorKind::MethodNotAllowed, "method-not-allowed"),
    (
        ErrorKind::AuthorizationNotAllowed,
        "authorization-not-allowed",
    ),
    (ErrorKind::HeaderNotAllowed, "header-not-allowed"),
    (
        ErrorKind::PrivateNetworkNotAllowed,
        "private-network-not-allowed",
    ),
    (
        ErrorKind::RedirectLocationInvalid,
        "redirect-location-invalid",
    ),
    (ErrorKind::RedirectScheme, "redirect-scheme"),
    (ErrorKind::TooManyRedirects, "too-many-redirects"),
    (ErrorKind::RedirectCredentials, "redirect-credentials"),
    (ErrorKind::RedirectModeError, "redirect-mode-error"),
    (ErrorKind::RedirectStreamBody, "redirect-stream-body"),
];

impl ErrorKind {
    /// Every kind, in the order of spec/ERRORS.md.
    pub fn all() -> impl Iterator<Item = ErrorKind> {
        ALL.iter().map(|(k, _)| *k)
    }

    /// The stable word.
    pub fn as_str(self) -> &'static str {
        ALL.iter()
            .find(|(k, _)| *k == self)
            .map_or("unknown", |(_, s)| s)
    }

    /// The kind for a stable word.
    pub fn parse(word: &str) -> Option<ErrorKind> {
        ALL.iter().find(|(_, s)| *s == word).map(|(k, _)| *k)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision's reason: the error (if the decision is a refusal) and the rule that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    /// The error kind, `None` when the decision grants.
    pub error: Option<ErrorKind>,
    /// The deciding rule id.
    pub rule: RuleId,
}

impl Reason {
    /// A granting decision made by `rule`.
    pub const fn ok(rule: RuleId) -> Reason {
        Reason { error: None, rule }
    }

    /// A refusal of kind `error` made by `rule`.
    pub const fn fail(error: ErrorKind, rule: RuleId) -> Reason {
        Reason {
            error: Some(error),
            rule,
        }
    }
}
