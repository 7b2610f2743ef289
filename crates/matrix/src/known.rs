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
//! assert_eq!(k.map(|k| k.id), Some("wsgi-decoded-path"));
//! assert!(known::find(Target::Flask, CheckKind::ReadGranted, &request("http://127.0.0.1:1/public/x")).is_none());
//! ```

use corsproof_case::RequestJson;
use corsproof_report::CheckKind;
use corsproof_targets::registry::Target;
use serde::Serialize;

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
    /// A stable short name.
    pub id: &'static str,
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
        id: "wsgi-decoded-path",
        target: Target::Flask,
        kinds: DECODED,
        trigger: Trigger::PercentEncodedPath,
        summary: DECODED_SUMMARY,
        reference: Some("PEP 3333 (PATH_INFO is decoded); flask-cors matches resources on unquote(request.path)"),
    },
    KnownBehaviour {
        id: "wsgi-decoded-path",
        target: Target::Django,
        kinds: DECODED,
        trigger: Trigger::PercentEncodedPath,
        summary: DECODED_SUMMARY,
        reference: Some("PEP 3333 (PATH_INFO is decoded); django-cors-headers matches CORS_URLS_REGEX on request.path_info"),
    },
    KnownBehaviour {
        id: "decoded-path",
        target: Target::Rack,
        kinds: DECODED,
        trigger: Trigger::PercentEncodedPath,
        summary: "the resource is chosen on Rack::Utils.unescape_path(PATH_INFO), the fully percent-decoded path: /public%2Fx is treated as /public/x",
        reference: Some("rack-cors 1.1 cors.rb evaluate_path"),
    },
    KnownBehaviour {
        id: "clean-path-trailing-slash",
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
        id: "vary-only-when-allowed",
        target: Target::Flask,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "Vary: Origin is added only to answers that name an allowed origin: the answer to a refused origin, or to a request without Origin, carries none, so a shared cache can replay it to an allowed origin",
        reference: Some("flask-cors core.py get_cors_headers (returns before adding Vary when the origin does not match)"),
    },
    KnownBehaviour {
        id: "vary-only-when-allowed",
        target: Target::Starlette,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "Vary: Origin is added only when the answer names the request's origin: refused origins and requests without Origin get no Vary (with allow_origins=[\"*\"] no answer has one), so a shared cache can replay a denial to an allowed origin",
        reference: Some("starlette/middleware/cors.py simple_response"),
    },
    KnownBehaviour {
        id: "vary-only-when-allowed",
        target: Target::Gorilla,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "Vary: Origin is added only to answers to an allowed origin, and only when more than one origin is configured with AllowedOrigins (never with \"*\" or AllowedOriginValidator): a shared cache can replay a denial to an allowed origin",
        reference: Some("gorilla/handlers cors.go ServeHTTP (`if len(ch.allowedOrigins) > 1`)"),
    },
    KnownBehaviour {
        id: "vary-only-when-allowed",
        target: Target::Jetty,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "Vary: Origin is added only to answers that grant the request's origin (with allowedOrigins=* too, where the origin is reflected): refused origins and requests without Origin get no Vary, so a shared cache can replay a denial to an allowed origin",
        reference: Some("jetty-servlets 9.4 CrossOriginFilter handleSimpleResponse (the only place Vary is added)"),
    },
    KnownBehaviour {
        id: "no-vary-for-any-origin",
        target: Target::Tomcat,
        kinds: &[CheckKind::MissingVaryDenial, CheckKind::MissingVary],
        trigger: Trigger::Any,
        summary: "with cors.allowed.origins=* a CORS request is answered Access-Control-Allow-Origin: *, but a request without Origin (not CORS to CorsFilter) gets neither that header nor Vary: Origin, so a shared cache can replay the bare answer to a cross-origin reader",
        reference: Some("Tomcat 10.1 CorsFilter handleNonCORS (Vary: Origin only when not every origin is allowed)"),
    },
    KnownBehaviour {
        id: "encoded-slash-rejected",
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
        id: "options-always-allowed",
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
