//! The stable error-kind vocabulary (spec/ERRORS.md) and the reason attached to each decision.

/// A rule id of `spec/SPEC.md`: `R1`–`R68` (the Fetch Standard's CORS rules), `D1`–`D32` (the
/// browsers' deviations from them), `W1`–`W12` (the request on the wire), `P1`–`P11` (what a
/// corsproof policy intends) and `H1`–`H3`
/// (the properties `check` holds a deployment to beyond the browser's outcome: cache safety,
/// no disclosure to refused origins, the policy's Max-Age).
///
/// The set is closed: a value is one of the associated constants, so a rule id that
/// `spec/SPEC.md` does not define cannot be written (a test reads the document and checks the
/// two agree).
///
/// ```
/// use corsproof_oracle::RuleId;
/// assert_eq!(RuleId::R33.as_str(), "R33");
/// assert_eq!(RuleId::parse("P6"), Some(RuleId::P6));
/// assert_eq!(RuleId::parse("R99"), None);
/// assert_eq!(serde_json::to_string(&RuleId::D6).unwrap(), "\"D6\"");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(&'static str);

macro_rules! rule_ids {
    ($($family:literal => [$($id:ident),* $(,)?]),* $(,)?) => {
        impl RuleId {
            $($(
                #[doc = concat!("`", stringify!($id), "`: ", $family, " (spec/SPEC.md).")]
                pub const $id: RuleId = RuleId(stringify!($id));
            )*)*

            /// Every rule id, in the order of `spec/SPEC.md`.
            pub const ALL: &'static [RuleId] = &[$($(RuleId::$id),*),*];
        }
    };
}

rule_ids! {
    "a rule of the Fetch Standard" => [
        R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, R13, R14, R15, R16, R17, R18, R19,
        R20, R21, R22, R23, R24, R25, R26, R27, R28, R29, R30, R31, R32, R33, R34, R35, R36,
        R37, R38, R39, R40, R41, R42, R43, R44, R45, R46, R47, R48, R49, R50, R51, R52, R53,
        R54, R55, R56, R57, R58, R59, R60, R61, R62, R63, R64, R65, R66, R67, R68,
    ],
    "a browser deviation" => [
        D1, D2, D3, D4, D5, D6, D7, D8, D9, D10, D11, D12, D13, D14, D15, D16, D17, D18, D19,
        D20, D21, D22, D23, D24, D25, D26, D27, D28, D29, D30, D31, D32, D33,
    ],
    "a rule of the request on the wire (Fetch, Fetch Metadata, Referrer Policy, HTTP)" => [
        W1, W2, W3, W4, W5, W6, W7, W8, W9, W10, W11, W12,
    ],
    "a policy semantics rule" => [P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11],
    "a deployment property beyond the browser outcome" => [H1, H2, H3],
}

impl RuleId {
    /// The id as written in `spec/SPEC.md`.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The rule id spelled `word`, if `spec/SPEC.md` defines one.
    pub fn parse(word: &str) -> Option<RuleId> {
        RuleId::ALL.iter().copied().find(|r| r.0 == word)
    }
}

impl std::fmt::Debug for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        RuleId::parse(&word).ok_or_else(|| {
            serde::de::Error::custom(format!("{word:?} is not a rule id of spec/SPEC.md"))
        })
    }
}

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
