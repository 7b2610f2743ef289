//! A replayable case: the explain input the oracle evaluates and the exact wire answers the
//! scripted server gives, built from the same data so both sides see the same exchange; and
//! the comparison of the oracle's outcome with what the browser did.

use corsproof_case::CredentialsJson;
use corsproof_case::{
    explain, run_case_with, CaseError, CaseJson, Explained, HopJson, Input, ModeJson, Output,
    RedirectJson, RequestJson, ResponseJson, StepsJson,
};
use corsproof_oracle::wire::{self, Line, WireError, WireInput, WireRequest};
use corsproof_oracle::{Next, PreflightCache, Profile};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Error;
use crate::server::{HopScript, HopSeen, WireSeen};
use crate::wire::RawAnswer;

/// One step as replayed: the request script makes, each hop's wire answers, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct WireStep {
    /// The request (URL on a scripted origin, origin the page's).
    pub request: RequestJson,
    /// The answers at hop 0, 1, ...
    pub hops: Vec<HopScript>,
    /// Seconds since the sequence's first step.
    pub at_seconds: f64,
}

/// A case (one step) or a cache sequence (several), ready to replay.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Where it comes from (`generated #N`, `sequence #N`, `vector FILE#ID`).
    pub label: String,
    /// The job key in scripted paths.
    pub key: String,
    /// The steps.
    pub steps: Vec<WireStep>,
    /// The explain input the oracle evaluates (answers as a browser's HTTP parser sees them).
    pub input: Input,
}

/// One step as the page runs it: the API (XHR where the case sets `use_cors_preflight`, R13),
/// URL, method, headers, credentials, mode, redirect mode and body kind, and when to start it
/// (ms after the job's first step).
pub fn step_json(r: &RequestJson, at_ms: u64) -> serde_json::Value {
    json!({
        "at_ms": at_ms,
        "api": if r.use_cors_preflight { "xhr" } else { "fetch" },
        "url": r.url,
        "method": r.method,
        "headers": r.headers,
        "credentials": match r.credentials {
            Some(CredentialsJson::Omit) => "omit",
            Some(CredentialsJson::Include) => "include",
            _ => "same-origin",
        },
        "mode": match r.mode { Some(ModeJson::NoCors) => "no-cors", Some(ModeJson::SameOrigin) => "same-origin", _ => "cors" },
        "redirect": match r.redirect { Some(RedirectJson::Error) => "error", Some(RedirectJson::Manual) => "manual", _ => "follow" },
        "body": r.body,
        "upload_listener": r.use_cors_preflight,
    })
}

fn to_json(a: &Option<RawAnswer>) -> Option<ResponseJson> {
    a.as_ref().map(|a| ResponseJson {
        status: a.status,
        headers: a.parsed_headers(),
    })
}

impl Replay {
    /// Builds the oracle's input from the wire steps.
    pub fn new(label: String, key: String, browser: &str, steps: Vec<WireStep>) -> Replay {
        let cases: Vec<CaseJson> = steps
            .iter()
            .map(|s| CaseJson {
                request: s.request.clone(),
                preflight_response: s.hops.first().and_then(|h| to_json(&h.preflight)),
                response: s.hops.first().and_then(|h| to_json(&h.response)),
                redirects: s
                    .hops
                    .iter()
                    .skip(1)
                    .map(|h| HopJson {
                        preflight_response: to_json(&h.preflight),
                        response: to_json(&h.response),
                    })
                    .collect(),
                browser: None,
                at_seconds: (steps.len() > 1).then_some(s.at_seconds),
            })
            .collect();
        let input = if cases.len() == 1 {
            let mut c = cases.into_iter().next().unwrap_or_else(unreachable_case);
            c.browser = Some(browser.to_string());
            Input::Case(Box::new(c))
        } else {
            Input::Steps(StepsJson {
                browser: Some(browser.to_string()),
                steps: cases,
            })
        };
        Replay {
            label,
            key,
            steps,
            input,
        }
    }

    /// The scripts the server answers with: `[step][hop]`.
    pub fn scripts(&self) -> Vec<Vec<HopScript>> {
        self.steps.iter().map(|s| s.hops.clone()).collect()
    }

    /// The job the page runs.
    pub fn job(&self) -> serde_json::Value {
        let steps: Vec<_> = self
            .steps
            .iter()
            .map(|s| step_json(&s.request, (s.at_seconds * 1000.0).round() as u64))
            .collect();
        json!({"key": self.key, "steps": steps})
    }

    /// The oracle's outcome, one output per step.
    pub fn oracle(&self) -> Result<Vec<Output>, Error> {
        let out = explain(&self.input, None).map_err(|source| Error::Case {
            label: self.label.clone(),
            source,
        })?;
        Ok(match out {
            Explained::Case(o) => vec![*o],
            Explained::Steps { steps } => steps,
        })
    }
}

fn unreachable_case() -> CaseJson {
    // Replay::new is only called with at least one step; an empty request keeps this total.
    CaseJson {
        request: RequestJson {
            url: String::new(),
            origin: String::new(),
            method: "GET".into(),
            headers: Vec::new(),
            credentials: None,
            mode: None,
            body: None,
            use_cors_preflight: false,
            redirect: None,
            private_network: false,
        },
        preflight_response: None,
        response: None,
        redirects: Vec::new(),
        browser: None,
        at_seconds: None,
    }
}

/// What script observed for one step (the page's report).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct StepResult {
    /// The fetch promise resolved (XHR: `load` fired).
    pub resolved: bool,
    /// `Response.type` (fetch only).
    #[serde(default)]
    pub r#type: Option<String>,
    /// The status script saw.
    #[serde(default)]
    pub status: Option<u16>,
    /// Header names script can see.
    #[serde(default)]
    pub headers: Option<Vec<String>>,
    /// The rejection.
    #[serde(default)]
    pub error: Option<String>,
    /// When the step started, in ms since the job's first step (the page's clock).
    #[serde(default)]
    pub at_ms: Option<f64>,
}

impl StepResult {
    /// Whether script could read the response.
    pub fn readable(&self, xhr: bool) -> bool {
        self.resolved
            && if xhr {
                self.status.unwrap_or(0) != 0
            } else {
                !matches!(self.r#type.as_deref(), Some("opaque" | "opaqueredirect"))
            }
    }
}

/// The request headers a preflight carried, as the oracle lists them (Method, Headers,
/// Private-Network), from what reached the server.
fn acr_headers(lines: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (canon, lower) in [
        (
            "Access-Control-Request-Method",
            "access-control-request-method",
        ),
        (
            "Access-Control-Request-Headers",
            "access-control-request-headers",
        ),
        (
            "Access-Control-Request-Private-Network",
            "access-control-request-private-network",
        ),
    ] {
        for (n, v) in lines {
            if n.eq_ignore_ascii_case(lower) {
                out.push((canon.to_string(), v.clone()));
            }
        }
    }
    out
}

/// Requests the browser sent again at the same hop of one step (not a CORS outcome: e.g.
/// Chromium's network stack resends a request answered `408` on a reused connection); counted
/// and reported, not compared.
pub fn repeats(seen: &[HopSeen]) -> usize {
    seen.iter()
        .map(|h| h.preflights.len().saturating_sub(1) + h.requests.len().saturating_sub(1))
        .sum()
}

/// Compares one step: the oracle's output against what script saw and what reached the
/// servers. Returns the differences, empty when they agree.
///
/// Compared: per hop, whether a preflight was sent and its `Access-Control-Request-*`
/// headers, whether the request went out and its `Origin`; then whether script could read
/// the response, its type (fetch), and the header names script can see.
pub fn compare_step(
    oracle: &Output,
    browser: &StepResult,
    seen: &[HopSeen],
    xhr: bool,
) -> Vec<String> {
    let mut diffs = Vec::new();
    let seen_len = seen
        .iter()
        .rposition(|h| !h.preflights.is_empty() || !h.requests.is_empty())
        .map_or(0, |i| i + 1);
    for i in 0..oracle.hops.len().max(seen_len) {
        let o = oracle.hops.get(i);
        let s = seen.get(i);
        let o_pf = o
            .and_then(|h| h.preflight.as_ref())
            .map(|p| p.request_headers.clone());
        let s_pf = s.and_then(|h| h.preflights.first()).map(|l| acr_headers(l));
        if o_pf != s_pf {
            diffs.push(format!(
                "hop {i}: preflight: oracle {}, browser {}",
                show_pf(&o_pf),
                show_pf(&s_pf)
            ));
        }
        let o_sent = o.is_some_and(|h| h.sent);
        let s_req = s.and_then(|h| h.requests.first());
        if o_sent != s_req.is_some() {
            diffs.push(format!(
                "hop {i}: request sent: oracle {o_sent}, browser {}",
                s_req.is_some()
            ));
        } else if let (Some(o), Some(r)) = (o, s_req) {
            if o.origin_header != r.origin {
                diffs.push(format!(
                    "hop {i}: Origin header: oracle {:?}, browser {:?}",
                    o.origin_header, r.origin
                ));
            }
        }
    }
    let readable = browser.readable(xhr);
    if oracle.readable != readable {
        diffs.push(format!(
            "readable: oracle {}, browser {readable}",
            oracle.readable
        ));
    }
    if !xhr {
        let b_type = if browser.resolved {
            browser.r#type.clone().unwrap_or_default()
        } else {
            "error".into()
        };
        if oracle.response_type != b_type {
            diffs.push(format!(
                "response type: oracle {}, browser {b_type}",
                oracle.response_type
            ));
        }
    }
    if oracle.readable && readable {
        let mut names: Vec<String> = browser
            .headers
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        names.sort();
        names.dedup();
        if names != oracle.exposed_headers {
            diffs.push(format!(
                "exposed headers: oracle {:?}, browser {names:?}",
                oracle.exposed_headers
            ));
        }
    }
    diffs
}

fn show_pf(p: &Option<Vec<(String, String)>>) -> String {
    match p {
        None => "none".into(),
        Some(h) => format!("{h:?}"),
    }
}

/// One request the oracle says the browser writes during a step.
#[derive(Debug, Clone)]
pub struct ExpectedWire {
    /// The hop (0: the first URL).
    pub hop: usize,
    /// Whether it is the hop's preflight.
    pub preflight: bool,
    /// The request, or why the model writes none (a stream body).
    pub wire: Result<WireRequest, WireError>,
}

/// The cookie the page sets (`document.cookie`) for its own host.
pub const PAGE_COOKIE: &[u8] = b"corsproof=1";

/// What the oracle's wire module says the browser writes, per step, for `input` (the same
/// cache and times as [`corsproof_case::explain`]). `seen` gives the bodies the browser sent
/// (a `FormData` body's boundary is the browser's choice); `page_host` is the host for which
/// the page set [`PAGE_COOKIE`].
pub fn expected_wire(
    input: &Input,
    seen: &[Vec<HopSeen>],
    page_host: &str,
) -> Result<Vec<Vec<ExpectedWire>>, CaseError> {
    let name = input.browser().unwrap_or("fetch");
    let profile = Profile::by_name(name).ok_or_else(|| CaseError::UnknownBrowser(name.into()))?;
    let mut cache = PreflightCache::default();
    let cases: Vec<&CaseJson> = match input {
        Input::Case(c) => vec![c.as_ref()],
        Input::Steps(s) => s.steps.iter().collect(),
    };
    let jar = cases.iter().any(|c| job_sets_cookies(c));
    let mut out = Vec::with_capacity(cases.len());
    let mut last = 0.0f64;
    for (i, case) in cases.into_iter().enumerate() {
        let at = case.at_seconds.unwrap_or(last).max(last);
        last = at;
        let hops = seen.get(i).map(Vec::as_slice).unwrap_or_default();
        let form_data = case.request.body.as_deref() == Some("formdata");
        // Cookies set by the answers (`Set-Cookie`) are the browser's cookie jar, which the
        // oracle does not model: for such a job the cookie the browser held is taken from
        // the request it sent (the wire module still decides whether and where it goes).
        let mut sent = Vec::new();
        run_case_with(case, &profile, &mut cache, at, "", |fetch| {
            let hop = fetch.outcome().hops.len().saturating_sub(1);
            let preflight = fetch.awaiting() == Next::Preflight;
            let recorded_body = hops
                .get(hop)
                .and_then(|h| h.request_wire.first())
                .map(|w| w.body.chars().map(|c| c as u8).collect::<Vec<u8>>());
            let body = if form_data && !preflight {
                recorded_body
            } else {
                None
            };
            let recorded_cookie = hops
                .get(hop)
                .and_then(|h| {
                    if preflight {
                        h.preflight_wire.first()
                    } else {
                        h.request_wire.first()
                    }
                })
                .and_then(|w| {
                    w.lines
                        .iter()
                        .find_map(|l| l.strip_prefix("Cookie: "))
                        .map(|c| c.chars().map(|c| c as u8).collect::<Vec<u8>>())
                });
            let page_cookie =
                (fetch.current_url().host_str() == Some(page_host)).then(|| PAGE_COOKIE.to_vec());
            let cookie = if jar {
                recorded_cookie.or(page_cookie)
            } else {
                page_cookie
            };
            let wire_input = WireInput {
                cookie: cookie.as_deref(),
                body: body.as_deref(),
                document_url: None,
            };
            sent.push(ExpectedWire {
                hop,
                preflight,
                wire: wire::request_with(fetch, &profile, &wire_input),
            });
        })?;
        out.push(sent);
    }
    Ok(out)
}

/// Whether an answer of the case sets a cookie.
fn job_sets_cookies(case: &CaseJson) -> bool {
    let sets = |r: &Option<ResponseJson>| {
        r.as_ref().is_some_and(|r| {
            r.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        })
    };
    sets(&case.preflight_response)
        || sets(&case.response)
        || case
            .redirects
            .iter()
            .any(|h| sets(&h.preflight_response) || sets(&h.response))
}

/// The line the oracle expects as the browser would write it (`Name: value`, Latin-1).
fn render((n, v): &(Vec<u8>, Vec<u8>)) -> String {
    let mut s: String = n.iter().map(|&b| char::from(b)).collect();
    s.push_str(": ");
    s.extend(v.iter().map(|&b| char::from(b)));
    s
}

/// The part of a line compared: a volatile value (versions, platform, locale, a
/// multipart boundary) is cut off, the name and what precedes the value are kept.
fn compared_part(line: &str, volatile: bool, boundary: bool) -> String {
    if boundary {
        if let Some(i) = line.find("boundary=") {
            return line[..i + "boundary=".len()].to_string();
        }
    }
    if volatile {
        return line.split(':').next().unwrap_or_default().to_string();
    }
    line.to_string()
}

/// Compares the request the oracle expects with the lines the server recorded: the request
/// line and every header line, equal but for the volatile values ([`Line::is_volatile`], a
/// default `Accept-Language` only, and a `FormData` boundary), the lines the profile does
/// not order ([`WireRequest::unordered`]) compared as a set at the same place. `None` when
/// they agree.
pub fn compare_wire(expected: &WireRequest, profile: &Profile, seen: &WireSeen) -> Option<String> {
    let request_line = format!("{} {} HTTP/1.1", expected.method, expected.target);
    let browser_line = seen.lines.first().cloned().unwrap_or_default();
    if request_line != browser_line {
        return Some(format!(
            "request line: oracle {request_line:?}, browser {browser_line:?}"
        ));
    }
    let boundary = expected.form_data_boundary();
    let oracle: Vec<String> = expected
        .headers
        .iter()
        .zip(&expected.lines)
        .map(|(h, &line)| {
            let volatile = line.is_volatile()
                && (line != Line::AcceptLanguage || h.1 == profile.wire.accept_language.as_bytes());
            let ct = boundary && h.0.eq_ignore_ascii_case(b"content-type");
            compared_part(&render(h), volatile, ct)
        })
        .collect();
    let browser: Vec<String> = seen.lines.iter().skip(1).cloned().collect();
    let mut browser_cmp: Vec<String> = Vec::with_capacity(browser.len());
    for (i, line) in browser.iter().enumerate() {
        // A browser line is cut as the oracle's line at the same place is.
        let part = match (expected.lines.get(i), expected.headers.get(i)) {
            (Some(&l), Some(h)) => {
                let volatile = l.is_volatile()
                    && (l != Line::AcceptLanguage
                        || h.1 == profile.wire.accept_language.as_bytes());
                let ct = boundary && h.0.eq_ignore_ascii_case(b"content-type");
                compared_part(line, volatile && !expected.unordered.contains(&i), ct)
            }
            _ => line.clone(),
        };
        browser_cmp.push(part);
    }
    // The unordered span: each side's lines there, volatile values cut by name, sorted.
    let span = expected.unordered.clone();
    let mut o = oracle.clone();
    let mut b = browser_cmp.clone();
    if !span.is_empty() && span.end <= o.len() && span.end <= b.len() {
        let cut = |lines: &[String]| -> Vec<String> {
            let mut v: Vec<String> = lines
                .iter()
                .map(|l| {
                    let name = l.split(':').next().unwrap_or_default().to_ascii_lowercase();
                    let volatile = name == "user-agent" || name.starts_with("sec-ch-ua");
                    compared_part(l, volatile, boundary && name == "content-type")
                })
                .collect();
            v.sort();
            v
        };
        let (os, bs) = (cut(&o[span.clone()]), cut(&browser[span.clone()]));
        o.splice(span.clone(), os);
        b.splice(span, bs);
    }
    if o == b {
        return None;
    }
    let at = o
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(o.len().min(b.len()));
    Some(format!(
        "header line {}: oracle {:?}, browser {:?} (oracle lines {:?}, browser lines {:?})",
        at + 1,
        o.get(at),
        b.get(at),
        oracle,
        browser
    ))
}

/// Compares every request of one step the oracle says is written with the first one the
/// server recorded at that hop (a resent request is counted by [`repeats`]). Returns the
/// number compared and the differences.
pub fn compare_step_wire(
    expected: &[ExpectedWire],
    profile: &Profile,
    seen: &[HopSeen],
) -> (usize, Vec<String>) {
    let mut compared = 0;
    let mut diffs = Vec::new();
    for e in expected {
        let recorded = seen.get(e.hop).and_then(|h| {
            if e.preflight {
                h.preflight_wire.first()
            } else {
                h.request_wire.first()
            }
        });
        let Some(recorded) = recorded else { continue };
        let what = if e.preflight { "preflight" } else { "request" };
        match &e.wire {
            Ok(w) => {
                compared += 1;
                if let Some(d) = compare_wire(w, profile, recorded) {
                    diffs.push(format!("hop {}: {what} on the wire: {d}", e.hop));
                }
            }
            Err(err) => diffs.push(format!(
                "hop {}: {what} on the wire: the oracle writes none ({err}), the browser sent {:?}",
                e.hop, recorded.lines
            )),
        }
    }
    (compared, diffs)
}
