//! One finding in one browser: what the browser did, what the oracle predicts for the
//! answers the browser got, and the verdict.

use std::collections::BTreeSet;

use corsproof_case::{run_case, CaseJson, HopJson, RequestJson, ResponseJson};
use corsproof_oracle::{PreflightCache, Profile};
use corsproof_report::{Confirmation, Finding, NotReplayable, Observed};

use super::proxy::Exchange;
use crate::replay::StepResult;

/// What one replay of a finding's case left.
pub struct Replayed<'a> {
    /// The case.
    pub case: &'a RequestJson,
    /// What script saw (`None`: the page never reported it).
    pub step: Option<&'a StepResult>,
    /// What reached the target, with the answers, in order.
    pub exchanges: &'a [Exchange],
    /// When the case started, seconds since the browser started.
    pub at_seconds: f64,
    /// The hosts the run set its cookie for.
    pub cookie_hosts: &'a BTreeSet<String>,
}

/// The verdict of one browser on one finding. The oracle runs on `cache`, the run's one
/// preflight cache (the browser's is kept across findings too).
pub fn judge(
    finding: &Finding,
    replayed: &Replayed<'_>,
    profile: &Profile,
    cache: &mut PreflightCache,
) -> Confirmation {
    let Some(step) = replayed.step else {
        return Confirmation::NotReplayable(NotReplayable::NoResult(
            "the page did not report the case in time".into(),
        ));
    };
    if let Some(e) = replayed.exchanges.iter().find_map(|e| e.error.as_ref()) {
        return Confirmation::NotReplayable(NotReplayable::NoResult(format!(
            "the target did not answer the browser's request: {e}"
        )));
    }
    let browser = observed(replayed, step);
    let case = case_json(replayed, profile);
    let out = match run_case(&case, profile, cache, replayed.at_seconds, "") {
        Ok(out) => out,
        Err(e) => {
            return Confirmation::NotReplayable(NotReplayable::NoResult(format!(
                "the oracle rejects the answers the browser got: {e}"
            )))
        }
    };
    let host = url::Url::parse(&replayed.case.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string));
    let oracle = Observed {
        preflight_sent: out.hops.iter().any(|h| h.preflight.is_some()),
        request_sent: out.hops.iter().any(|h| h.sent),
        origin_sent: if out.hops.iter().any(|h| h.sent) {
            out.origin_header.clone()
        } else {
            None
        },
        readable: out.readable,
        exposed_headers: if out.readable {
            out.exposed_headers.clone()
        } else {
            Vec::new()
        },
        cookie_sent: out.credentials_sent
            && out.hops.iter().any(|h| h.sent)
            && host.is_some_and(|h| replayed.cookie_hosts.contains(&h)),
    };
    if browser != oracle {
        return Confirmation::Contradicted {
            browser,
            oracle,
            explain: serde_json::to_value(&case).unwrap_or_default(),
        };
    }
    if let Some(changed) = answers_changed(finding, replayed.exchanges) {
        return Confirmation::NotReplayable(NotReplayable::TargetAnswersChanged(changed));
    }
    Confirmation::Confirmed { browser }
}

/// What the browser did: from the proxy's records and what script saw.
fn observed(replayed: &Replayed<'_>, step: &StepResult) -> Observed {
    let readable = step.readable(replayed.case.use_cors_preflight);
    let mut exposed: Vec<String> = if readable {
        step.headers
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect()
    } else {
        Vec::new()
    };
    exposed.sort();
    exposed.dedup();
    let requests = replayed.exchanges.iter().filter(|e| !e.preflight);
    Observed {
        preflight_sent: replayed.exchanges.iter().any(|e| e.preflight),
        request_sent: replayed.exchanges.iter().any(|e| !e.preflight),
        origin_sent: requests
            .clone()
            .next_back()
            .and_then(|e| e.header("origin")),
        readable,
        exposed_headers: exposed,
        cookie_sent: requests.clone().any(Exchange::cookie_sent),
    }
}

/// The case with the answers the browser got: the first preflight and request answer at
/// each URL, URLs in the order they were first requested.
fn case_json(replayed: &Replayed<'_>, profile: &Profile) -> CaseJson {
    let mut urls: Vec<&str> = Vec::new();
    for e in replayed.exchanges {
        if !urls.contains(&e.url.as_str()) {
            urls.push(&e.url);
        }
    }
    let answer = |url: &str, preflight: bool| {
        replayed
            .exchanges
            .iter()
            .find(|e| e.url == url && e.preflight == preflight && e.status != 0)
            .map(|e| ResponseJson {
                status: e.status,
                headers: e.headers.clone(),
            })
    };
    let hops: Vec<HopJson> = urls
        .iter()
        .map(|u| HopJson {
            preflight_response: answer(u, true),
            response: answer(u, false),
        })
        .collect();
    let mut hops = hops.into_iter();
    let first = hops.next().unwrap_or(HopJson {
        preflight_response: None,
        response: None,
    });
    CaseJson {
        request: replayed.case.clone(),
        preflight_response: first.preflight_response,
        response: first.response,
        redirects: hops.collect(),
        browser: Some(profile.id.as_str().to_string()),
        at_seconds: None,
    }
}

/// Whether the target answered the browser otherwise than it answered the check: for each
/// exchange of the finding that the browser made too (same method and URL), the status and
/// the CORS header lines (`Access-Control-*`, `Vary`) must be the same.
fn answers_changed(finding: &Finding, exchanges: &[Exchange]) -> Option<String> {
    let cors = |headers: Vec<(String, String)>| -> Vec<(String, String)> {
        headers
            .into_iter()
            .filter(|(n, _)| {
                let n = n.to_ascii_lowercase();
                n.starts_with("access-control-") || n == "vary"
            })
            .map(|(n, v)| (n.to_ascii_lowercase(), v))
            .collect()
    };
    let text = |b: &[u8]| -> String { b.iter().map(|&c| char::from(c)).collect() };
    for (sent, seen) in &finding.exchanges {
        let preflight = sent.method == "OPTIONS"
            && sent.header_value("access-control-request-method").is_some();
        let origin = sent.header_value("origin").map(text);
        let Some(live) = exchanges.iter().find(|e| {
            e.preflight == preflight
                && e.url == sent.url
                && e.status != 0
                && e.header("origin") == origin
        }) else {
            continue;
        };
        let recorded = cors(
            seen.headers
                .iter()
                .map(|(n, v)| (text(n), text(v).trim_matches([' ', '\t']).to_string()))
                .collect(),
        );
        let now = cors(live.headers.clone());
        if seen.status != live.status || recorded != now {
            return Some(format!(
                "{} {}: {} {:?} during the check, {} {:?} now",
                sent.method, sent.url, seen.status, recorded, live.status, now
            ));
        }
    }
    None
}
