//! Cache safety (H1): the case's actual request sent again from another origin (or with one
//! when it had none); when the CORS answers differ, both responses must `Vary: Origin`, or a
//! shared cache keyed on the URL alone can replay one origin's answer to the other.

use corsproof_oracle::intent::origin_matches;
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::{Origin, Response, RuleId};
use corsproof_policy::{OriginEntry, Origins, Route};
use corsproof_report::{CheckKind, SentRequest};

use super::draft::Draft;
use super::exchange::Exchanger;
use super::hygiene::CORS_HEADERS;

/// The origin no policy allows, sent when a refused one is not available.
const STRANGER: &str = "https://sibling.corsproof.test";

/// The `missing-vary` draft of the case whose last actual request under `profile` is `sent`,
/// if its CORS answer changes with `Origin` and a response lacks `Vary: Origin`.
pub(crate) async fn draft(
    route: Option<&Route>,
    profile: ProfileId,
    sent: &SentRequest,
    ex: &mut Exchanger<'_>,
) -> Option<Draft> {
    let current = sent
        .header_value("origin")
        .map(|o| String::from_utf8_lossy(o).into_owned());
    let sibling_origin = sibling_origin(route, current.as_deref());
    let mut sibling = sent.clone();
    sibling
        .headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case(b"origin"));
    sibling
        .headers
        .push((b"Origin".to_vec(), sibling_origin.as_bytes().to_vec()));
    let answer = ex.send(&sibling).await?;
    let first = ex.answered(sent)?.clone();
    if cors_answer(&first.response) == cors_answer(&answer.response) {
        return None;
    }
    let missing: Vec<&SentRequest> = [(sent, &first), (&sibling, &answer)]
        .into_iter()
        .filter(|(_, a)| !varies_on_origin(&a.response))
        .map(|(s, _)| s)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let who: Vec<String> = missing
        .iter()
        .map(|s| {
            s.header_value("origin")
                .map_or("no Origin".to_string(), |o| {
                    String::from_utf8_lossy(o).into_owned()
                })
        })
        .collect();
    Some(Draft {
        kind: CheckKind::MissingVary,
        profiles: vec![profile],
        exchanges: vec![(sent.clone(), first.seen()), (sibling, answer.seen())],
        expected: "Vary: Origin on both responses".to_string(),
        observed: format!("no Vary: Origin on the response to {}", who.join(" and ")),
        rule: RuleId::H1,
        decided_by: None,
        explanation: format!(
            "the CORS headers differ between {} and {sibling_origin}, so a shared cache keyed on the URL alone can replay one origin's answer to the other (RFC 9111 section 4.1, Fetch CORS protocol and HTTP caches)",
            current.as_deref().unwrap_or("a request without Origin")
        ),
    })
}

/// An origin whose answer should differ from `current`'s: an allowed one when `current` is
/// refused or absent, else a stranger.
fn sibling_origin(route: Option<&Route>, current: Option<&str>) -> String {
    let Some(route) = route else {
        return STRANGER.to_string();
    };
    let allowed = match &route.origins {
        Origins::Any => return STRANGER.to_string(),
        Origins::List(entries) => entries.iter().find_map(|e| match e {
            OriginEntry::Exact { .. } => Some(e.to_string()),
            OriginEntry::Subdomain {
                scheme,
                domain,
                port,
            } => Some(match port {
                Some(p) => format!("{}://a1.{domain}:{p}", scheme.as_str()),
                None => format!("{}://a1.{domain}", scheme.as_str()),
            }),
            OriginEntry::Null => None,
        }),
    };
    let current_allowed = current
        .and_then(|c| Origin::parse_serialized(c).ok())
        .is_some_and(|o| origin_matches(&route.origins, &o));
    match allowed {
        Some(a) if !current_allowed && Some(a.as_str()) != current => a,
        _ => STRANGER.to_string(),
    }
}

/// The CORS header lines of a response, by header.
fn cors_answer(r: &Response) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, h) in CORS_HEADERS.iter().enumerate() {
        for v in r.cors_values(*h) {
            out.push((i, v.to_vec()));
        }
    }
    out
}

/// Whether the response's `Vary` names `Origin` or is `*`.
fn varies_on_origin(r: &Response) -> bool {
    r.values(b"vary")
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .any(|e| e == b"*" || e.eq_ignore_ascii_case(b"origin"))
}
