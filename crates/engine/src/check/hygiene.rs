//! Hygiene: what is wrong with the target's answers beyond the browser's outcome, judged on
//! every exchange of a case in the order sent. Each check is one row of [`CHECKS`]; a case
//! reports each kind once, on the first exchange that shows it.
//!
//! | kind | rule | what |
//! |---|---|---|
//! | `duplicate-header` | the header's grammar (R33, R35, R43, R67) | a CORS header that is not a list sent on several lines, which browsers combine into a value they reject |
//! | `malformed-header` | the header's grammar (R33, R35, R38, R43, R53, R67) | a value the grammar rejects ([`corsproof_oracle::defect`]) |
//! | `disclosed-to-refused` | H2 | CORS headers in an answer to an origin the policy refuses, when the case is granted nowhere |
//! | `max-age-mismatch` | H3 | a preflight the browser passed, for an origin the policy does not refuse, with a Max-Age other than the policy's (a refused preflight owes no Max-Age) |

use corsproof_oracle::defect::{defects, DefectKind};
use corsproof_oracle::grammar::isomorphic_decode;
use corsproof_oracle::intent::{origin_match, Tri};
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::response::Cors;
use corsproof_oracle::{Origin, Response, RuleId};
use corsproof_policy::Route;
use corsproof_report::{CheckKind, SeenResponse, SentRequest};

use super::draft::Draft;

/// The CORS response headers, in the order findings name them.
pub(crate) const CORS_HEADERS: [Cors; 7] = [
    Cors::AllowOrigin,
    Cors::AllowCredentials,
    Cors::AllowMethods,
    Cors::AllowHeaders,
    Cors::ExposeHeaders,
    Cors::MaxAge,
    Cors::AllowPrivateNetwork,
];

/// What the hygiene checks know of the case.
pub(crate) struct Scope<'a> {
    /// The route covering the case's path (`None`: no route, same-origin only).
    pub(crate) route: Option<&'a Route>,
    /// The case's origin, parsed once.
    pub(crate) case_origin: &'a Origin,
    /// The target's own origin.
    pub(crate) target_origin: &'a Origin,
    /// Whether the case is granted anywhere (readable under some profile, or a violation):
    /// then its CORS headers are no disclosure.
    pub(crate) granted: bool,
    /// The preflights the browser passed under some profile.
    pub(crate) passed_preflights: &'a [&'a SentRequest],
}

/// One exchange as the checks see it.
pub(crate) struct Seen<'a> {
    sent: &'a SentRequest,
    response: &'a Response,
    /// The request's `Origin`, present on every exchange judged.
    origin: &'a [u8],
    /// Whether the policy refuses that origin on this route (P4, P2).
    refused: bool,
}

/// What a check found: expected, observed, the rule, why.
struct Found {
    expected: String,
    observed: String,
    rule: RuleId,
    why: String,
}

type Check = fn(&Scope<'_>, &Seen<'_>) -> Option<Found>;

/// The hygiene checks, in the order their findings are reported.
const CHECKS: [(CheckKind, Check); 4] = [
    (CheckKind::DuplicateHeader, duplicate),
    (CheckKind::MalformedHeader, malformed),
    (CheckKind::DisclosedToRefused, disclosed),
    (CheckKind::MaxAgeMismatch, max_age),
];

/// The hygiene drafts of a case's exchanges (each with its answer), in the order sent.
pub(crate) fn drafts<'a>(
    scope: &Scope<'_>,
    exchanges: impl Iterator<Item = (&'a SentRequest, &'a Response)>,
) -> Vec<Draft> {
    let mut out: Vec<Draft> = Vec::new();
    for (sent, response) in exchanges {
        let Some(origin) = sent.header_value("origin") else {
            continue;
        };
        let seen = Seen {
            sent,
            response,
            origin,
            refused: refused(scope, origin),
        };
        for (kind, check) in CHECKS {
            if out.iter().any(|d| d.kind == kind) {
                continue;
            }
            if let Some(found) = check(scope, &seen) {
                out.push(Draft {
                    kind,
                    profiles: vec![ProfileId::Fetch],
                    exchanges: vec![(
                        sent.clone(),
                        SeenResponse {
                            status: response.status,
                            headers: response.headers().to_vec(),
                        },
                    )],
                    expected: found.expected,
                    observed: found.observed,
                    rule: found.rule,
                    decided_by: None,
                    explanation: found.why,
                });
            }
        }
    }
    out
}

/// Whether the policy refuses `origin` on the case's route: the route's origins say no (not
/// a host it leaves open, P4), or no route covers the path and `origin` is not the target's
/// own (P2).
fn refused(scope: &Scope<'_>, origin: &[u8]) -> bool {
    // Most exchanges carry the case's own origin, already parsed.
    let parsed = if origin == scope.case_origin.serialization().as_bytes() {
        Ok(scope.case_origin.clone())
    } else {
        Origin::parse_serialized(&isomorphic_decode(origin))
    };
    match (scope.route, parsed) {
        (Some(r), Ok(o)) => origin_match(&r.origins, &o) == Tri::MustNot,
        (None, Ok(o)) => !o.same_origin(scope.target_origin),
        _ => false,
    }
}

/// The header's name as reports spell it.
pub(crate) fn name(h: Cors) -> &'static str {
    match h {
        Cors::AllowOrigin => "Access-Control-Allow-Origin",
        Cors::AllowCredentials => "Access-Control-Allow-Credentials",
        Cors::AllowMethods => "Access-Control-Allow-Methods",
        Cors::AllowHeaders => "Access-Control-Allow-Headers",
        Cors::ExposeHeaders => "Access-Control-Expose-Headers",
        Cors::MaxAge => "Access-Control-Max-Age",
        Cors::AllowPrivateNetwork => "Access-Control-Allow-Private-Network",
        Cors::Location => "Location",
    }
}

fn duplicate(_: &Scope<'_>, seen: &Seen<'_>) -> Option<Found> {
    CORS_HEADERS.iter().find_map(|&h| {
        defects(seen.response, h).into_iter().find_map(|d| {
            let DefectKind::Repeated { lines } = d.kind else {
                return None;
            };
            let header = name(h);
            Some(Found {
                expected: format!("one {header} line"),
                observed: format!("{lines} lines"),
                rule: d.rule,
                why: format!(
                    "{header} is sent {lines} times; browsers combine the lines with \", \", which no CORS check accepts for this header ({})",
                    d.rule
                ),
            })
        })
    })
}

fn malformed(_: &Scope<'_>, seen: &Seen<'_>) -> Option<Found> {
    CORS_HEADERS.iter().find_map(|&h| {
        defects(seen.response, h).into_iter().find_map(|d| {
            let DefectKind::Malformed { value, element } = d.kind else {
                return None;
            };
            let header = name(h);
            let text = isomorphic_decode(value);
            let why = match (h, element) {
                (_, Some(e)) => format!(
                    "{header} element {:?} is not an HTTP token, which makes browsers reject the whole list ({})",
                    isomorphic_decode(e),
                    d.rule
                ),
                (Cors::AllowOrigin, None) => format!(
                    "{header} {text:?} is neither `*`, `null` nor a serialized origin (scheme://host[:port], lowercase, no path or trailing slash), so it matches no Origin byte for byte ({})",
                    d.rule
                ),
                (Cors::MaxAge, None) => format!(
                    "{header} {text:?} is not a non-negative integer ({})",
                    d.rule
                ),
                (_, None) => format!(
                    "{header} {text:?} is not exactly `true`, the only value browsers accept ({})",
                    d.rule
                ),
            };
            Some(Found {
                expected: format!("a valid {header}"),
                observed: format!("{header}: {text}"),
                rule: d.rule,
                why,
            })
        })
    })
}

fn disclosed(scope: &Scope<'_>, seen: &Seen<'_>) -> Option<Found> {
    if !seen.refused || scope.granted {
        return None;
    }
    let details: Vec<&str> = CORS_HEADERS
        .iter()
        .filter(|h| seen.response.has(**h))
        .map(|h| name(*h))
        .collect();
    if details.is_empty() {
        return None;
    }
    let origin = isomorphic_decode(seen.origin);
    Some(Found {
        expected: "no CORS headers besides Vary".to_string(),
        observed: details.join(", "),
        rule: RuleId::H2,
        why: format!(
            "origin {origin} is refused by the policy, yet the response carries {}: it tells an attacker what the server allows",
            details.join(", ")
        ),
    })
}

fn max_age(scope: &Scope<'_>, seen: &Seen<'_>) -> Option<Found> {
    let route = scope.route?;
    let passed = scope.passed_preflights.contains(&seen.sent);
    if !passed || seen.refused || !seen.response.has(Cors::AllowOrigin) {
        return None;
    }
    let got = seen
        .response
        .cors_values(Cors::MaxAge)
        .next()
        .map(isomorphic_decode);
    let want = route.max_age.map(|m| m.to_string());
    if got == want {
        return None;
    }
    let spell = |v: Option<String>| {
        v.map_or("no Access-Control-Max-Age".to_string(), |m| {
            format!("Access-Control-Max-Age: {m}")
        })
    };
    Some(Found {
        expected: spell(want),
        observed: spell(got),
        rule: RuleId::H3,
        why: "the preflight's Max-Age differs from the policy's max_age".to_string(),
    })
}
