//! Known behaviours: ways a library departs from what it was configured to do, observed by
//! the matrix and reproduced by tests (`crates/cli/tests/matrix.rs`), each with what triggers
//! it and, where one exists, the upstream issue or advisory. A divergence that is an
//! instance of one names it; docs/implementations.md describes each.
//!
//! ```
//! use corsproof_case::RequestJson;
//! use corsproof_matrix::known;
//! use corsproof_report::CheckKind;
//! use corsproof_targets::registry::Target;
//! let request = |url: &str| -> RequestJson {
//!     serde_json::from_value(serde_json::json!({"url": url, "origin": "https://evil.example"})).unwrap()
//! };
//! let k = known::find(Target::Flask, CheckKind::ReadGranted, &request("http://127.0.0.1:1/public%2Fx"));
//! assert_eq!(k.map(|k| k.id), Some(known::Id::WsgiDecodedPath));
//! assert_eq!(known::Id::WsgiDecodedPath.to_string(), "wsgi-decoded-path");
//! assert!(known::find(Target::Flask, CheckKind::ReadGranted, &request("http://127.0.0.1:1/public/x")).is_none());
//! ```

use corsproof_case::RequestJson;
use corsproof_report::CheckKind;
use corsproof_targets::registry::Target;
use serde::{Deserialize, Serialize};

/// The stable short name of a known behaviour, written in kebab-case (`wsgi-decoded-path`)
/// in every report and in the expected matrix; one id may name the same behaviour of several
/// libraries.
///
/// ```
/// use corsproof_matrix::known::Id;
/// assert_eq!(Id::VaryOnlyWhenAllowed.to_string(), "vary-only-when-allowed");
/// assert_eq!("decoded-path".parse::<Id>(), Ok(Id::DecodedPath));
/// assert!("no-such-behaviour".parse::<Id>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Id {
    /// The route is chosen on WSGI's fully percent-decoded `PATH_INFO`.
    WsgiDecodedPath,
    /// The route is chosen on the fully percent-decoded path (Rack).
    DecodedPath,
    /// A trailing slash is dropped before the route is chosen.
    CleanPathTrailingSlash,
    /// `Vary: Origin` only on answers that name an allowed origin.
    VaryOnlyWhenAllowed,
    /// A preflight asking for `OPTIONS` always passes.
    OptionsAlwaysAllowed,
    /// No `Vary: Origin` on a route open to every origin, when the request has no `Origin`.
    NoVaryForAnyOrigin,
    /// An encoded slash in the path is refused before the CORS filter runs.
    EncodedSlashRejected,
}

impl Id {
    /// Every id.
    pub const ALL: [Id; 7] = [
        Id::WsgiDecodedPath,
        Id::DecodedPath,
        Id::CleanPathTrailingSlash,
        Id::VaryOnlyWhenAllowed,
        Id::OptionsAlwaysAllowed,
        Id::NoVaryForAnyOrigin,
        Id::EncodedSlashRejected,
    ];

    /// The kebab-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Id::WsgiDecodedPath => "wsgi-decoded-path",
            Id::DecodedPath => "decoded-path",
            Id::CleanPathTrailingSlash => "clean-path-trailing-slash",
            Id::VaryOnlyWhenAllowed => "vary-only-when-allowed",
            Id::OptionsAlwaysAllowed => "options-always-allowed",
            Id::NoVaryForAnyOrigin => "no-vary-for-any-origin",
            Id::EncodedSlashRejected => "encoded-slash-rejected",
        }
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no known behaviour's id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not the id of a known behaviour")]
pub struct UnknownId(pub String);

impl std::str::FromStr for Id {
    type Err = UnknownId;

    fn from_str(s: &str) -> Result<Id, UnknownId> {
        Id::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| UnknownId(s.to_string()))
    }
}

/// What must hold of a finding's request for a behaviour to explain it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// Any request.
    Any,
    /// The request's URL path holds a percent-escape.
    PercentEncodedPath,
    /// The script's request uses this method.
    Method(&'static str),
    /// The request's URL path ends with `/`.
    TrailingSlash,
}

/// One known behaviour of one library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnownBehaviour {
    /// Its stable short name.
    pub id: Id,
    /// The target whose library behaves so.
    #[serde(skip)]
    pub target: Target,
    /// The finding kinds it produces.
    pub kinds: &'static [CheckKind],
    /// What triggers it.
    pub trigger: Trigger,
    /// What the library does, in one sentence.
    pub summary: &'static str,
    /// The upstream issue, advisory or documentation, where one exists.
    pub reference: Option<&'static str>,
}

const DECODED: &[CheckKind] = &[
    CheckKind::ReadGranted,
    CheckKind::ReadDenied,
    CheckKind::SentForbidden,
    CheckKind::SentBlocked,
    CheckKind::HeaderExposed,
    CheckKind::HeaderHidden,
    CheckKind::DisclosedToRefused,
];

const DECODED_SUMMARY: &str = "the route is chosen on the fully percent-decoded path (WSGI's PATH_INFO): /public%2Fx is treated as /public/x, where the policy (and the browser's URL) keep %2F as one path segment's byte";

/// Every known behaviour.
pub const KNOWN: &[KnownBehaviour] = &[
    KnownBehaviour {
        id: Id::WsgiDecodedPath,
        target: Target::Flask,
        kinds: DECODED,
        trigger: Trigger::PercentEncodedPath,
        summary: DECODED_SUMMARY,
        reference: Some("PEP 3333 (PATH_INFO is decoded); flask-cors matches resources on unquote(request.path)"),
    },
    KnownBehaviour {
        id: Id::WsgiDecodedPath,
        target: Target::Django,
        kinds: DECODED,
        trigger: Trigger::PercentEncodedPath,
        summary: DECODED_SUMMARY,
        reference: Some("PEP 3333 (PATH_INFO is decoded); django-cors-headers matches CORS_URLS_REGEX on request.path_info"),
    },
    KnownBehaviour {
        id: Id::DecodedPath,
        target: Target::Rack,
        kinds: DECODED,
        trigger: Trigger::PercentEncodedPath,
        summary: "the resource is chosen on Rack::Utils.unescape_path(PATH_INFO), the fully percent-decoded path: /public%2Fx is treated as /public/x",
        reference: Some("rack-cors 1.1 cors.rb evaluate_path"),
    },
    KnownBehaviour {
        id: Id::CleanPathTrailingSlash,
        target: Target::Rack,
        kinds: &[
            CheckKind::ReadDenied,
            CheckKind::SentBlocked,
            CheckKind::HeaderHidden,
        ],
        trigger: Trigger::TrailingSlash,
        summary: "the path is passed through Rack::Utils.clean_path_info, which drops a trailing slash: a request for /api/ itself is matched as /api, outside a resource written for /api/",
        reference: Some("rack-cors 1.1 cors.rb evaluate_path"),
    },
    KnownBehaviour {
        id: Id::VaryOnlyWhenAllowed,
        target: Target::Flask,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "Vary: Origin is added only to answers that name an allowed origin: the answer to a refused origin, or to a request without Origin, carries none, so a shared cache can replay it to an allowed origin",
        reference: Some("flask-cors core.py get_cors_headers (returns before adding Vary when the origin does not match)"),
    },
    KnownBehaviour {
        id: Id::VaryOnlyWhenAllowed,
        target: Target::Starlette,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "Vary: Origin is added only when the answer names the request's origin: refused origins and requests without Origin get no Vary (with allow_origins=[\"*\"] no answer has one), so a shared cache can replay a denial to an allowed origin",
        reference: Some("starlette/middleware/cors.py simple_response"),
    },
    KnownBehaviour {
        id: Id::VaryOnlyWhenAllowed,
        target: Target::Gorilla,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "Vary: Origin is added only to answers to an allowed origin, and only when more than one origin is configured with AllowedOrigins (never with \"*\" or AllowedOriginValidator): a shared cache can replay a denial to an allowed origin",
        reference: Some("gorilla/handlers cors.go ServeHTTP (`if len(ch.allowedOrigins) > 1`)"),
    },
    KnownBehaviour {
        id: Id::VaryOnlyWhenAllowed,
        target: Target::Jetty,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "Vary: Origin is added only to answers that grant the request's origin (with allowedOrigins=* too, where the origin is reflected): refused origins and requests without Origin get no Vary, so a shared cache can replay a denial to an allowed origin",
        reference: Some("jetty-servlets 9.4 CrossOriginFilter handleSimpleResponse (the only place Vary is added)"),
    },
    KnownBehaviour {
        id: Id::NoVaryForAnyOrigin,
        target: Target::Tomcat,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "with cors.allowed.origins=* a CORS request is answered Access-Control-Allow-Origin: *, but a request without Origin (not CORS to CorsFilter) gets neither that header nor Vary: Origin, so a shared cache can replay the bare answer to a cross-origin reader",
        reference: Some("Tomcat 10.1 CorsFilter handleNonCORS (Vary: Origin only when not every origin is allowed)"),
    },
    KnownBehaviour {
        id: Id::EncodedSlashRejected,
        target: Target::Tomcat,
        kinds: &[
            CheckKind::ReadDenied,
            CheckKind::SentBlocked,
            CheckKind::HeaderHidden,
        ],
        trigger: Trigger::PercentEncodedPath,
        summary: "the connector answers 400, before any filter runs, to a path holding %2F (encodedSolidusHandling defaults to reject): a route that grants such a path answers it without CORS headers",
        reference: Some("Tomcat HTTP connector attribute encodedSolidusHandling (default reject, since CVE-2007-0450)"),
    },
    KnownBehaviour {
        id: Id::OptionsAlwaysAllowed,
        target: Target::RsCors,
        kinds: &[CheckKind::SentForbidden, CheckKind::ReadGranted],
        trigger: Trigger::Method("OPTIONS"),
        summary: "a preflight asking for the OPTIONS method passes whatever AllowedMethods says (isMethodAllowed returns true for OPTIONS), so a script's OPTIONS request is sent and its answer read",
        reference: Some("rs/cors 1.7 cors.go isMethodAllowed (\"Always allow preflight requests\")"),
    },
];

/// The known behaviour of `target` producing `kind` for the script's `request`, if any.
pub fn find(
    target: Target,
    kind: CheckKind,
    request: &RequestJson,
) -> Option<&'static KnownBehaviour> {
    KNOWN.iter().find(|k| {
        k.target == target
            && k.kinds.contains(&kind)
            && match k.trigger {
                Trigger::Any => true,
                Trigger::PercentEncodedPath => path_of(&request.url).contains('%'),
                Trigger::Method(m) => request.method == m,
                Trigger::TrailingSlash => path_of(&request.url).ends_with('/'),
            }
    })
}

/// The path of an absolute URL (without query), or the text after the authority.
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_their_names_and_every_id_names_a_behaviour() {
        for id in Id::ALL {
            assert_eq!(
                serde_json::to_value(id).ok(),
                Some(serde_json::Value::String(id.as_str().to_string()))
            );
            assert_eq!(id.as_str().parse::<Id>(), Ok(id));
            assert!(KNOWN.iter().any(|k| k.id == id), "{id} is used");
        }
    }
}
