//! HAR 1.2 to `explain` input (`corsproof explain --har`).
//!
//! A pure conversion, no I/O: [`har_to_input`] reads the text of a HAR file (as the browsers'
//! developer tools export it) and rebuilds the CORS exchanges it records as the oracle's
//! input: one [`CaseJson`] per exchange, or the steps form when there are several.
//!
//! # How entries become exchanges
//! - An `OPTIONS` entry carrying `Access-Control-Request-Method` is a preflight. It belongs to
//!   the next non-preflight entry to the same URL with that method; when several preflights
//!   point at the same entry, the latest one wins. A preflight whose request never shows up
//!   (the browser stopped after it failed) becomes an exchange of its own: method from
//!   `Access-Control-Request-Method`, headers from `Access-Control-Request-Headers` with the
//!   placeholder value [`MISSING_VALUE`], and no response.
//! - A request answered by 301, 302, 303, 307 or 308 with a `Location` header (or a HAR
//!   `redirectURL`) chains to the next unused entry whose URL equals the resolved location: it
//!   becomes `redirects[i]`, with its own preflight if one precedes it.
//! - An entry is a CORS exchange when its request is in CORS mode (`Sec-Fetch-Mode` absent or
//!   `cors`) and cross-origin: its URL's origin differs from the page origin, which is
//!   `--origin` when given (it overrides the `Origin` header), else the request's `Origin`
//!   header (`null` is cross-origin to everything), else its preflight's. Browsers send no
//!   `Origin` on same-origin GETs, so without `--origin` an entry with no `Origin` header is
//!   taken as same-origin, unless it was preflighted or `Sec-Fetch-Site` says `same-site` or
//!   `cross-site`: then the page origin is unknown and the conversion fails. With `--origin`,
//!   an entry needs some sign of CORS mode (an `Origin` header, a preflight or
//!   `Sec-Fetch-Mode: cors`) so that cross-origin images and scripts are not taken for CORS.
//!   Only `http:` and `https:` URLs are considered; `data:`, `blob:` and the like are skipped.
//!
//! # Assumptions (what a HAR cannot tell)
//! - **Script-set headers.** A HAR records what went on the wire, browser-added headers
//!   included. Dropped: HTTP/2 pseudo-headers (`:method`, ...), forbidden request headers
//!   (R7: `Host`, `Cookie`, `Origin`, `Referer`, `Sec-*`, `Content-Length`, ...), and
//!   `User-Agent`, `Priority`, `Pragma`, `Cache-Control`, which are assumed browser-added (the
//!   last two when developer tools disable the cache), `Accept: */*` and `Accept-Language`
//!   (browser defaults). When a preflight was seen, its `Access-Control-Request-Headers` (empty
//!   when absent) is the truth about which CORS-unsafe headers script set: exactly those names
//!   are kept, with their values from the actual request (even a name of the browser-added
//!   list, such as a script-set `Cache-Control`); other headers are kept only when
//!   CORS-safelisted (R16). A listed name the actual request lacks (sanitized HAR exports strip
//!   `Authorization`) gets the placeholder value [`MISSING_VALUE`], which is never safelisted.
//!   A `Content-Type` on the wire is kept as a script-set header: the body-derived one (R11)
//!   counts the same way for CORS, so `body` is left unset.
//! - **Credentials mode.** A HAR does not record it: `include` when the first request carries
//!   a `Cookie` header or a non-empty `cookies` array (a cross-origin request carries cookies
//!   only in mode `include`), else `same-origin`. Sanitized exports drop cookies, so an
//!   `include` request may come out as `same-origin`.
//! - **Preflight flags.** A preflight carrying `Access-Control-Request-Private-Network: true`
//!   sets `private_network`; a preflight for a safelisted method with no unsafe header and no
//!   private-network reason can only come from the use-CORS-preflight flag (R13: XHR upload
//!   listeners, stream bodies), so `use_cors_preflight` is set, with a `text` body for a POST
//!   (the upload listener flag needs a body).
//! - **Responses.** Header lists keep their order and duplicates (HTTP/2 lowercase names are
//!   fine); pseudo-headers are dropped and a value holding line breaks (Firefox joins repeated
//!   `Set-Cookie` lines that way) is split into one field line per line. A 3xx without a
//!   `Location` header but with a `redirectURL` gets a `Location` header from it. A status
//!   outside 100-999 (0 or -1: blocked, failed, never answered) means no response.
//! - **Time.** Several exchanges become steps whose `at_seconds` is the `startedDateTime` of
//!   the exchange's first entry (its preflight, if any) relative to the first exchange's,
//!   clamped to be non-decreasing. If any of these timestamps is missing or unparsable, every
//!   step uses its first entry's index in `log.entries` as seconds (relative to the first
//!   step's) instead.
//! - Requests answered from the browser's preflight cache before the HAR started, and
//!   redirects whose next request is missing from the HAR, surface as the oracle's "missing
//!   preflight_response / response" input errors.

use std::fmt;

use crate::explain::{
    CaseJson, CredentialsJson, HopJson, Input, RequestJson, ResponseJson, StepsJson,
};
use corsproof_oracle::headers::{is_forbidden_request_header, safelisted_request_header};
use corsproof_oracle::{Origin, Profile};
use serde_json::Value;
use url::{Position, Url};

/// The value given to a header named by a preflight's `Access-Control-Request-Headers` that
/// the HAR does not show (a sanitized export, or a preflight whose request never went out).
/// It holds CORS-unsafe bytes (R17), so it is never CORS-safelisted.
pub const MISSING_VALUE: &str = "\"(not in HAR)\"";

/// Redirects followed at most (R56).
const MAX_REDIRECTS: usize = 20;

/// Why a HAR file cannot be converted. Entry numbers are 0-based positions in `log.entries`.
#[derive(Debug)]
pub enum HarError {
    /// The text is not JSON.
    Json(serde_json::Error),
    /// There is no `log.entries` array.
    NoEntries,
    /// An entry lacks a required member or has one of the wrong type.
    Entry {
        /// The entry's position in `log.entries`.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// An entry's `request.url` is not a URL.
    Url {
        /// The entry's position in `log.entries`.
        index: usize,
        /// The value.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// `--origin` is not a serialized origin.
    Origin {
        /// The value.
        value: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A cross-origin request (preflighted, or `Sec-Fetch-Site` not same-origin) has no
    /// `Origin` header and no `--origin` was given.
    NoOrigin {
        /// The entry's position in `log.entries`.
        index: usize,
    },
    /// No entry is a cross-origin CORS request.
    NoCorsExchange,
}

impl fmt::Display for HarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarError::Json(e) => write!(f, "not a HAR file: not JSON: {e}"),
            HarError::NoEntries => write!(f, "not a HAR file: no log.entries array"),
            HarError::Entry { index, problem } => write!(f, "HAR entry {index}: {problem}"),
            HarError::Url { index, url, reason } => {
                write!(f, "HAR entry {index}: request.url {url:?} is not a URL: {reason}")
            }
            HarError::Origin { value, reason } => {
                write!(f, "--origin {value:?} is not a serialized origin: {reason}")
            }
            HarError::NoOrigin { index } => {
                write!(f, "entry {index} has no Origin header; pass --origin")
            }
            HarError::NoCorsExchange => write!(
                f,
                "no cross-origin request in the HAR: every entry is same-origin or lacks an Origin header"
            ),
        }
    }
}

impl std::error::Error for HarError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HarError::Json(e) => Some(e),
            _ => None,
        }
    }
}

/// Converts the text of a HAR 1.2 file into an `explain` input: [`Input::Case`] for one CORS
/// exchange, [`Input::Steps`] for several (see the module documentation for the rules and
/// assumptions). `origin` is `--origin`, the page's serialized origin, which overrides the
/// requests' `Origin` headers.
pub fn har_to_input(text: &str, origin: Option<&str>) -> Result<Input, HarError> {
    let root: Value = serde_json::from_str(text).map_err(HarError::Json)?;
    let raw = root
        .get("log")
        .and_then(|l| l.get("entries"))
        .and_then(Value::as_array)
        .ok_or(HarError::NoEntries)?;
    let entries = raw
        .iter()
        .enumerate()
        .map(|(i, v)| Entry::parse(i, v))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(o) = origin {
        Origin::parse_serialized(o).map_err(|e| HarError::Origin {
            value: o.to_string(),
            reason: e.to_string(),
        })?;
    }
    let exchanges = group(&entries, origin)?;
    if exchanges.is_empty() {
        return Err(HarError::NoCorsExchange);
    }
    Ok(to_input(&entries, exchanges))
}

/// One HAR entry, reduced to what matters here.
#[derive(Debug)]
struct Entry {
    method: String,
    url: String,
    /// `None` for a URL that is not HTTP(S).
    parts: Option<Url>,
    request_headers: Vec<(String, String)>,
    has_cookies: bool,
    status: i64,
    response_headers: Vec<(String, String)>,
    redirect_url: String,
    /// `startedDateTime` in nanoseconds since the Unix epoch.
    started: Option<i128>,
}

impl Entry {
    fn parse(index: usize, v: &Value) -> Result<Entry, HarError> {
        let problem = |p: &str| HarError::Entry {
            index,
            problem: p.to_string(),
        };
        let request = v
            .get("request")
            .filter(|r| r.is_object())
            .ok_or_else(|| problem("has no request object"))?;
        let response = v
            .get("response")
            .filter(|r| r.is_object())
            .ok_or_else(|| problem("has no response object"))?;
        let method = request
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| problem("request.method is missing or not a string"))?;
        let url = request
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| problem("request.url is missing or not a string"))?;
        let parts = http_url(None, url).map_err(|e| HarError::Url {
            index,
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let status = response
            .get("status")
            .and_then(|s| s.as_i64().or_else(|| s.as_f64().map(|f| f as i64)))
            .ok_or_else(|| problem("response.status is missing or not a number"))?;
        Ok(Entry {
            method: method.to_string(),
            url: url.to_string(),
            parts,
            request_headers: header_list(request, index, "request")?,
            has_cookies: request
                .get("cookies")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty()),
            status,
            response_headers: header_list(response, index, "response")?,
            redirect_url: response
                .get("redirectURL")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            started: v
                .get("startedDateTime")
                .and_then(Value::as_str)
                .and_then(parse_iso8601),
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        header(&self.request_headers, name)
    }

    fn is_preflight(&self) -> bool {
        self.method.eq_ignore_ascii_case("OPTIONS")
            && self.header("access-control-request-method").is_some()
    }

    /// The URL key used to match entries (`None` when not HTTP(S)).
    fn key(&self) -> Option<String> {
        self.parts.as_ref().map(key)
    }

    /// The response as the oracle reads it; `None` when the request got no HTTP answer.
    fn response(&self) -> Option<ResponseJson> {
        let status = u16::try_from(self.status)
            .ok()
            .filter(|s| (100..=999).contains(s))?;
        let mut headers: Vec<(String, String)> = self
            .response_headers
            .iter()
            .filter(|(n, _)| !n.starts_with(':'))
            .cloned()
            .collect();
        if (300..400).contains(&status)
            && !self.redirect_url.is_empty()
            && header(&headers, "location").is_none()
        {
            headers.push(("Location".to_string(), self.redirect_url.clone()));
        }
        Some(ResponseJson { status, headers })
    }

    /// Where a redirect response points, resolved against the request URL.
    fn redirect_target(&self) -> Option<Url> {
        if !matches!(self.status, 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        let location = header(&self.response_headers, "location")
            .or(Some(self.redirect_url.as_str()).filter(|l| !l.is_empty()))?;
        http_url(Some(self.parts.as_ref()?), location)
            .ok()
            .flatten()
    }
}

/// A HAR `headers` array as (name, value) pairs; a value with line breaks is split into one
/// pair per line. A missing array is empty.
fn header_list(obj: &Value, index: usize, what: &str) -> Result<Vec<(String, String)>, HarError> {
    let Some(list) = obj.get("headers") else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| HarError::Entry {
        index,
        problem: format!("{what}.headers is not an array"),
    })?;
    let mut out = Vec::with_capacity(list.len());
    for (i, h) in list.iter().enumerate() {
        let field = |k: &str| h.get(k).and_then(Value::as_str);
        let (Some(name), Some(value)) = (field("name"), field("value")) else {
            return Err(HarError::Entry {
                index,
                problem: format!("{what}.headers[{i}] lacks a string name or value"),
            });
        };
        for line in value.split('\n') {
            out.push((name.to_string(), line.trim_end_matches('\r').to_string()));
        }
    }
    Ok(out)
}

/// The first value of a header, byte-case-insensitively.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The lowercase names of every `Access-Control-Request-Headers` line of a preflight.
fn acrh_names(preflight: &Entry) -> Vec<String> {
    let mut names: Vec<String> = preflight
        .request_headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("access-control-request-headers"))
        .flat_map(|(_, v)| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    names.dedup();
    names
}

/// Headers assumed to be added by the browser, never by script (unless a preflight's
/// `Access-Control-Request-Headers` names them).
fn browser_added(name: &str, value: &str) -> bool {
    [
        "user-agent",
        "priority",
        "pragma",
        "cache-control",
        "accept-language",
    ]
    .iter()
    .any(|b| name.eq_ignore_ascii_case(b))
        || (name.eq_ignore_ascii_case("accept") && value.trim() == "*/*")
}

/// The headers script set, from the headers on the wire (module documentation). `acrh` is the
/// preflight's `Access-Control-Request-Headers` names when a preflight was seen.
fn script_headers(wire: &[(String, String)], acrh: Option<&[String]>) -> Vec<(String, String)> {
    let fetch = Profile::fetch();
    let listed = |n: &str| acrh.is_some_and(|a| a.iter().any(|l| l.eq_ignore_ascii_case(n)));
    let mut out: Vec<(String, String)> = wire
        .iter()
        .filter(|(n, v)| {
            if n.starts_with(':') || is_forbidden_request_header(n.as_bytes(), v.as_bytes()) {
                return false;
            }
            match acrh {
                None => !browser_added(n, v),
                Some(_) if listed(n) => true,
                Some(_) => {
                    !browser_added(n, v)
                        && safelisted_request_header(n.as_bytes(), v.as_bytes(), &fetch)
                            .is_safelisted()
                }
            }
        })
        .cloned()
        .collect();
    for name in acrh.unwrap_or_default() {
        if !is_forbidden_request_header(name.as_bytes(), MISSING_VALUE.as_bytes())
            && !out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            out.push((name.clone(), MISSING_VALUE.to_string()));
        }
    }
    out
}

/// One CORS exchange found in the HAR.
#[derive(Debug)]
struct Exchange {
    /// The page origin.
    origin: String,
    /// (preflight entry, request entry) per hop; the first hop always has one of them.
    hops: Vec<(Option<usize>, Option<usize>)>,
}

impl Exchange {
    /// The index of the exchange's first entry.
    fn first(&self) -> usize {
        match self.hops.first() {
            Some((Some(p), _)) => *p,
            Some((None, Some(r))) => *r,
            _ => 0,
        }
    }
}

/// Finds the CORS exchanges, in the order of their first entries.
fn group(entries: &[Entry], origin: Option<&str>) -> Result<Vec<Exchange>, HarError> {
    let n = entries.len();
    // Each preflight belongs to the next non-preflight entry to its URL with its method.
    let mut preflight_of: Vec<Option<usize>> = vec![None; n];
    let mut orphans = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if !e.is_preflight() {
            continue;
        }
        let (Some(key), Some(method)) = (e.key(), e.header("access-control-request-method")) else {
            continue;
        };
        let target = (i + 1..n).find(|&j| {
            let t = &entries[j];
            !t.is_preflight() && t.method == method.trim() && t.key().as_ref() == Some(&key)
        });
        match target {
            Some(j) => preflight_of[j] = Some(i),
            None => orphans.push(i),
        }
    }
    let mut used = vec![false; n];
    let mut exchanges = Vec::new();
    for (j, e) in entries.iter().enumerate() {
        if used[j] || e.is_preflight() {
            continue;
        }
        let Some(parts) = &e.parts else { continue };
        let preflight = preflight_of[j];
        if e.header("sec-fetch-mode")
            .is_some_and(|m| !m.trim().eq_ignore_ascii_case("cors"))
        {
            continue;
        }
        let origin_header = e
            .header("origin")
            .or_else(|| preflight.and_then(|p| entries[p].header("origin")));
        let page = match (origin, origin_header) {
            (Some(o), _) => o,
            (None, Some(h)) => h.trim(),
            (None, None) => {
                let cross_site = e.header("sec-fetch-site").is_some_and(|s| {
                    s.eq_ignore_ascii_case("cross-site") || s.eq_ignore_ascii_case("same-site")
                });
                if preflight.is_some() || cross_site {
                    return Err(HarError::NoOrigin { index: j });
                }
                continue;
            }
        };
        if same_origin(page, parts) {
            continue;
        }
        let cors_mode =
            origin_header.is_some() || preflight.is_some() || e.header("sec-fetch-mode").is_some();
        if !cors_mode {
            continue;
        }
        used[j] = true;
        if let Some(p) = preflight {
            used[p] = true;
        }
        let mut hops = vec![(preflight, Some(j))];
        let mut current = j;
        while hops.len() <= MAX_REDIRECTS {
            let Some(target) = entries[current].redirect_target() else {
                break;
            };
            let key = key(&target);
            let next = (current + 1..n).find(|&k| {
                !used[k] && !entries[k].is_preflight() && entries[k].key().as_ref() == Some(&key)
            });
            let Some(k) = next else { break };
            let hop_preflight = preflight_of[k].filter(|&p| p > current && !used[p]);
            used[k] = true;
            if let Some(p) = hop_preflight {
                used[p] = true;
            }
            hops.push((hop_preflight, Some(k)));
            current = k;
        }
        exchanges.push(Exchange {
            origin: page.to_string(),
            hops,
        });
    }
    for i in orphans {
        if used[i] {
            continue;
        }
        let e = &entries[i];
        let Some(parts) = &e.parts else { continue };
        let page = match origin.or_else(|| e.header("origin").map(str::trim)) {
            Some(p) => p,
            None => return Err(HarError::NoOrigin { index: i }),
        };
        if same_origin(page, parts) {
            continue;
        }
        used[i] = true;
        exchanges.push(Exchange {
            origin: page.to_string(),
            hops: vec![(Some(i), None)],
        });
    }
    exchanges.sort_by_key(Exchange::first);
    Ok(exchanges)
}

/// Whether the page origin `page` (a serialized origin, or `null`) is the URL's origin.
fn same_origin(page: &str, url: &Url) -> bool {
    Url::parse(page).is_ok_and(|p| p.origin() == url.origin())
}

/// The case for one exchange.
fn to_case(entries: &[Entry], x: &Exchange, at_seconds: Option<f64>) -> CaseJson {
    let (first_preflight, first_request) = x.hops.first().copied().unwrap_or((None, None));
    let preflight = first_preflight.map(|p| &entries[p]);
    let acrh = preflight.map(acrh_names);
    let private_network = preflight
        .and_then(|p| p.header("access-control-request-private-network"))
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let request = match first_request.map(|r| &entries[r]) {
        Some(r) => {
            let headers = script_headers(&r.request_headers, acrh.as_deref());
            let credentials = if r.has_cookies || r.header("cookie").is_some() {
                CredentialsJson::Include
            } else {
                CredentialsJson::SameOrigin
            };
            let safelisted_method = matches!(r.method.as_str(), "GET" | "HEAD" | "POST");
            let use_cors_preflight = preflight.is_some()
                && safelisted_method
                && acrh.as_ref().is_some_and(Vec::is_empty)
                && !private_network;
            RequestJson {
                url: r.url.clone(),
                origin: x.origin.clone(),
                method: r.method.clone(),
                headers,
                credentials: Some(credentials),
                mode: None,
                // Upload listeners set use-CORS-preflight only with a body (xhr.spec; R13):
                // a preflighted simple POST had one.
                body: (use_cors_preflight && !matches!(r.method.as_str(), "GET" | "HEAD"))
                    .then(|| "text".to_string()),
                use_cors_preflight,
                redirect: None,
                private_network,
            }
        }
        None => {
            // A preflight whose request never went out.
            let p = preflight.unwrap_or_else(|| &entries[x.first()]);
            let method = p.header("access-control-request-method").unwrap_or("GET");
            RequestJson {
                url: p.url.clone(),
                origin: x.origin.clone(),
                method: method.trim().to_string(),
                headers: script_headers(&[], acrh.as_deref()),
                credentials: None,
                mode: None,
                body: None,
                use_cors_preflight: false,
                redirect: None,
                private_network,
            }
        }
    };
    let answer = |i: Option<usize>| i.and_then(|i| entries[i].response());
    CaseJson {
        request,
        preflight_response: answer(first_preflight),
        response: answer(first_request),
        redirects: x
            .hops
            .iter()
            .skip(1)
            .map(|&(p, r)| HopJson {
                preflight_response: answer(p),
                response: answer(r),
            })
            .collect(),
        browser: None,
        at_seconds,
    }
}

/// The input for the exchanges found (at least one).
fn to_input(entries: &[Entry], exchanges: Vec<Exchange>) -> Input {
    if exchanges.len() == 1 {
        return Input::Case(Box::new(to_case(entries, &exchanges[0], None)));
    }
    let firsts: Vec<usize> = exchanges.iter().map(Exchange::first).collect();
    let times: Option<Vec<i128>> = firsts.iter().map(|&i| entries[i].started).collect();
    let mut seconds: Vec<f64> = match times {
        Some(t) => {
            let t0 = t.first().copied().unwrap_or(0);
            t.iter().map(|&t| (t - t0) as f64 / 1e9).collect()
        }
        None => {
            let i0 = firsts.first().copied().unwrap_or(0);
            firsts.iter().map(|&i| (i - i0) as f64).collect()
        }
    };
    let mut last = 0.0_f64;
    for s in &mut seconds {
        last = last.max(*s);
        *s = last;
    }
    Input::Steps(StepsJson {
        browser: None,
        steps: exchanges
            .iter()
            .zip(seconds)
            .map(|(x, s)| to_case(entries, x, Some(s)))
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// URLs (the WHATWG URL parser; the oracle parses the request URLs itself)

/// Parses `s`, resolved against `base` when given: `Ok(None)` when it is not an HTTP(S) URL.
fn http_url(base: Option<&Url>, s: &str) -> Result<Option<Url>, url::ParseError> {
    let u = Url::options().base_url(base).parse(s)?;
    Ok(matches!(u.scheme(), "http" | "https").then_some(u))
}

/// The URL without user info or fragment: equal keys mean the same request URL.
fn key(u: &Url) -> String {
    let origin = u.origin().ascii_serialization();
    format!("{origin}{}", &u[Position::BeforePath..Position::AfterQuery])
}

// ---------------------------------------------------------------------------------------------
// Time

/// Parses `YYYY-MM-DDTHH:MM:SS(.fff...)(Z|±HH:MM|±HHMM)` into nanoseconds since the Unix epoch.
fn parse_iso8601(s: &str) -> Option<i128> {
    let b = s.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i128> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0_i128, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i128::from(d - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i).is_some_and(|&x| x == c);
    if !(at(4, b'-')
        && at(7, b'-')
        && (at(10, b'T') || at(10, b't'))
        && at(13, b':')
        && at(16, b':'))
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0_i128;
    if at(i, b'.') || at(i, b',') {
        i += 1;
        let start = i;
        let mut scale = 100_000_000_i128;
        while let Some(&d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            nanos += i128::from(d - b'0') * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset_minutes = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let h = num(i + 1, 2)?;
            let m = if at(i + 3, b':') && i + 6 == b.len() {
                num(i + 4, 2)?
            } else if i + 5 == b.len() {
                num(i + 3, 2)?
            } else {
                return None;
            };
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'-' {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
        - offset_minutes * 60;
    Some(seconds * 1_000_000_000 + nanos)
}

fn days_in_month(year: i128, month: i128) -> i128 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i128, month: i128, day: i128) -> i128 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::{explain_json, CaseJson, Input};
    use serde_json::json;

    /// A HAR entry: (method, url, request headers, status, response headers).
    fn entry(
        started: &str,
        method: &str,
        url: &str,
        req: &[(&str, &str)],
        status: i64,
        resp: &[(&str, &str)],
    ) -> Value {
        let h = |l: &[(&str, &str)]| -> Vec<Value> {
            l.iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect()
        };
        json!({
            "startedDateTime": started,
            "time": 12.5,
            "request": {"method": method, "url": url, "httpVersion": "HTTP/2", "headers": h(req),
                        "cookies": [], "queryString": [], "headersSize": -1, "bodySize": 0},
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/2",
                         "headers": h(resp), "cookies": [], "content": {"size": 0, "mimeType": ""},
                         "redirectURL": "", "headersSize": -1, "bodySize": 0},
            "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}
        })
    }

    fn har(entries: Vec<Value>) -> String {
        json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}})
            .to_string()
    }

    const APP: &str = "https://app.test";
    const T0: &str = "2026-03-01T10:00:00.000Z";

    fn case(input: Input) -> CaseJson {
        match input {
            Input::Case(c) => *c,
            Input::Steps(s) => panic!("expected one case, got {} steps", s.steps.len()),
        }
    }

    fn pairs(l: &[(&str, &str)]) -> Vec<(String, String)> {
        l.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    /// The input survives a round trip through the JSON shape and the oracle evaluates it.
    fn evaluates(input: &Input) -> Value {
        let text = serde_json::to_string(input).unwrap();
        let back = Input::parse(&text).unwrap();
        assert_eq!(&back, input);
        explain_json(&back, None).unwrap()
    }

    #[test]
    fn simple_get() {
        let text = har(vec![
            entry(T0, "GET", "https://app.test/", &[], 200, &[]),
            entry(
                T0,
                "GET",
                "https://api.test/items?x=1",
                &[
                    (":method", "GET"),
                    (":authority", "api.test"),
                    ("accept", "*/*"),
                    ("origin", APP),
                    ("referer", "https://app.test/"),
                    ("sec-fetch-mode", "cors"),
                    ("sec-fetch-site", "cross-site"),
                    ("user-agent", "Mozilla/5.0"),
                ],
                200,
                &[
                    ("access-control-allow-origin", APP),
                    ("content-type", "text/plain"),
                    ("x-a", "1"),
                    ("x-a", "2"),
                ],
            ),
        ]);
        let c = case(har_to_input(&text, None).unwrap());
        assert_eq!(c.request.url, "https://api.test/items?x=1");
        assert_eq!(c.request.origin, APP);
        assert_eq!(c.request.method, "GET");
        assert!(c.request.headers.is_empty());
        assert_eq!(c.request.credentials, Some(CredentialsJson::SameOrigin));
        assert!(c.preflight_response.is_none() && c.redirects.is_empty() && c.at_seconds.is_none());
        let r = c.response.clone().unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers,
            pairs(&[
                ("access-control-allow-origin", APP),
                ("content-type", "text/plain"),
                ("x-a", "1"),
                ("x-a", "2")
            ])
        );
        let out = evaluates(&Input::Case(Box::new(c)));
        assert_eq!(out["readable"], true);
    }

    #[test]
    fn preflighted_put_with_acrh() {
        let text = har(vec![
            entry(
                T0,
                "OPTIONS",
                "https://api.test/items/1",
                &[
                    ("Access-Control-Request-Method", "PUT"),
                    (
                        "Access-Control-Request-Headers",
                        "authorization,content-type,x-request-id",
                    ),
                    ("Origin", APP),
                    ("Sec-Fetch-Mode", "cors"),
                ],
                204,
                &[
                    ("Access-Control-Allow-Origin", APP),
                    ("Access-Control-Allow-Methods", "PUT"),
                    ("Access-Control-Allow-Headers", "content-type, x-request-id"),
                    ("Access-Control-Allow-Credentials", "true"),
                ],
            ),
            entry(
                "2026-03-01T10:00:00.050Z",
                "PUT",
                "https://api.test/items/1",
                &[
                    ("Content-Type", "application/json"),
                    ("X-Request-Id", "7"),
                    ("X-Client-Data", "CJa2yQE="),
                    ("Origin", APP),
                    ("Accept", "*/*"),
                    ("Accept-Language", "en-US,en;q=0.9"),
                    ("Cookie", "sid=1"),
                    ("Sec-Fetch-Mode", "cors"),
                ],
                0,
                &[],
            ),
        ]);
        let c = case(har_to_input(&text, None).unwrap());
        assert_eq!(c.request.method, "PUT");
        // X-Client-Data is unsafe and not in ACRH: browser-added. Authorization was stripped by
        // a sanitized export: placeholder.
        assert_eq!(
            c.request.headers,
            pairs(&[
                ("Content-Type", "application/json"),
                ("X-Request-Id", "7"),
                ("authorization", MISSING_VALUE)
            ])
        );
        assert_eq!(c.request.credentials, Some(CredentialsJson::Include));
        assert!(!c.request.use_cors_preflight);
        assert_eq!(c.preflight_response.as_ref().map(|r| r.status), Some(204));
        assert!(c.response.is_none(), "status 0: no answer");
        let out = evaluates(&Input::Case(Box::new(c)));
        assert_eq!(out["sent"], false);
        assert_eq!(out["error"], "authorization-not-allowed");
        assert_eq!(
            out["preflight"]["request_headers"][1],
            json!([
                "Access-Control-Request-Headers",
                "authorization,content-type,x-request-id"
            ])
        );
    }

    #[test]
    fn acrh_keeps_script_set_cache_control_and_preflight_without_acrh() {
        let pre = |acrh: Option<&str>| {
            let mut h = vec![("access-control-request-method", "POST"), ("origin", APP)];
            if let Some(a) = acrh {
                h.push(("access-control-request-headers", a));
            }
            entry(
                T0,
                "OPTIONS",
                "https://api.test/u",
                &h,
                204,
                &[("access-control-allow-origin", "*")],
            )
        };
        let post_headers = [
            ("origin", APP),
            ("cache-control", "no-cache"),
            ("pragma", "no-cache"),
            ("content-type", "text/plain;charset=UTF-8"),
        ];
        let text = har(vec![
            pre(Some("cache-control")),
            entry(T0, "POST", "https://api.test/u", &post_headers, 200, &[]),
        ]);
        let c = case(har_to_input(&text, None).unwrap());
        assert_eq!(
            c.request.headers,
            pairs(&[
                ("cache-control", "no-cache"),
                ("content-type", "text/plain;charset=UTF-8")
            ])
        );
        assert!(!c.request.use_cors_preflight);
        // A preflight without ACRH for a simple POST: the use-CORS-preflight flag (R13).
        let text = har(vec![
            pre(None),
            entry(T0, "POST", "https://api.test/u", &post_headers, 200, &[]),
        ]);
        let c = case(har_to_input(&text, None).unwrap());
        assert_eq!(
            c.request.headers,
            pairs(&[("content-type", "text/plain;charset=UTF-8")])
        );
        assert!(c.request.use_cors_preflight);
        let out = evaluates(&Input::Case(Box::new(c)));
        assert_eq!(out["preflight"]["required"], true);
    }

    #[test]
    fn browser_added_headers_dropped() {
        let text = har(vec![entry(
            T0,
            "POST",
            "https://api.test/form",
            &[
                (":method", "POST"),
                (":path", "/form"),
                ("Host", "api.test"),
                ("Connection", "keep-alive"),
                ("Content-Length", "3"),
                ("User-Agent", "Mozilla/5.0"),
                ("Accept", "*/*"),
                ("Accept-Encoding", "gzip, br"),
                ("Accept-Language", "fr"),
                ("Referer", "https://app.test/"),
                ("Origin", APP),
                ("Cookie", "a=b"),
                ("Sec-Fetch-Dest", "empty"),
                ("Sec-Ch-Ua", "\"x\""),
                ("Priority", "u=1, i"),
                ("Pragma", "no-cache"),
                ("Cache-Control", "no-cache"),
                ("Content-Type", "text/plain"),
                ("X-Custom", "1"),
                ("Accept", "application/json"),
            ],
            200,
            &[(":status", "200"), ("Access-Control-Allow-Origin", APP)],
        )]);
        let c = case(har_to_input(&text, None).unwrap());
        assert_eq!(
            c.request.headers,
            pairs(&[
                ("Content-Type", "text/plain"),
                ("X-Custom", "1"),
                ("Accept", "application/json")
            ])
        );
        assert_eq!(c.request.credentials, Some(CredentialsJson::Include));
        assert_eq!(
            c.response.unwrap().headers,
            pairs(&[("Access-Control-Allow-Origin", APP)])
        );
    }

    #[test]
    fn redirect_chain() {
        let mut first = entry(
            T0,
            "PUT",
            "https://api.test/a/b",
            &[("Origin", APP), ("X-Id", "1")],
            307,
            &[("Access-Control-Allow-Origin", APP)],
        );
        // Relative location, given only as redirectURL.
        first["response"]["redirectURL"] = json!("../c?q=1#frag");
        let text = har(vec![
            entry(
                T0,
                "OPTIONS",
                "https://api.test/a/b",
                &[
                    ("Origin", APP),
                    ("Access-Control-Request-Method", "PUT"),
                    ("Access-Control-Request-Headers", "x-id"),
                ],
                204,
                &[
                    ("Access-Control-Allow-Origin", APP),
                    ("Access-Control-Allow-Methods", "PUT"),
                    ("Access-Control-Allow-Headers", "x-id"),
                ],
            ),
            first,
            entry(
                T0,
                "GET",
                "https://unrelated.test/c?q=1",
                &[("Origin", APP)],
                200,
                &[],
            ),
            entry(
                T0,
                "OPTIONS",
                "https://API.test:443/c?q=1",
                &[
                    ("Origin", APP),
                    ("Access-Control-Request-Method", "PUT"),
                    ("Access-Control-Request-Headers", "x-id"),
                ],
                204,
                &[
                    ("Access-Control-Allow-Origin", APP),
                    ("Access-Control-Allow-Methods", "PUT"),
                    ("Access-Control-Allow-Headers", "x-id"),
                ],
            ),
            entry(
                T0,
                "PUT",
                "https://api.test/c?q=1",
                &[("Origin", APP), ("X-Id", "1")],
                303,
                &[
                    ("Location", "https://other.test/d"),
                    ("Access-Control-Allow-Origin", APP),
                ],
            ),
            entry(
                T0,
                "OPTIONS",
                "https://other.test/d",
                &[
                    ("Origin", "null"),
                    ("Access-Control-Request-Method", "GET"),
                    ("Access-Control-Request-Headers", "x-id"),
                ],
                204,
                &[
                    ("Access-Control-Allow-Origin", "*"),
                    ("Access-Control-Allow-Headers", "*"),
                ],
            ),
            entry(
                T0,
                "GET",
                "https://other.test/d",
                &[("Origin", "null")],
                200,
                &[("Access-Control-Allow-Origin", "*")],
            ),
        ]);
        let input = har_to_input(&text, None).unwrap();
        let Input::Steps(s) = &input else {
            panic!("two exchanges expected: chain + unrelated")
        };
        assert_eq!(s.steps.len(), 2);
        let c = &s.steps[0];
        assert_eq!(c.request.url, "https://api.test/a/b");
        assert_eq!(c.request.headers, pairs(&[("X-Id", "1")]));
        assert_eq!(
            c.response.as_ref().unwrap().headers,
            pairs(&[
                ("Access-Control-Allow-Origin", APP),
                ("Location", "../c?q=1#frag")
            ])
        );
        assert_eq!(c.redirects.len(), 2);
        assert_eq!(
            c.redirects[0].preflight_response.as_ref().map(|r| r.status),
            Some(204)
        );
        assert_eq!(
            c.redirects[0].response.as_ref().map(|r| r.status),
            Some(303)
        );
        assert_eq!(
            c.redirects[1].preflight_response.as_ref().map(|r| r.status),
            Some(204)
        );
        assert_eq!(
            c.redirects[1].response.as_ref().map(|r| r.status),
            Some(200)
        );
        assert_eq!(s.steps[1].request.url, "https://unrelated.test/c?q=1");
        let out = evaluates(&input);
        let hops = out["steps"][0]["hops"].as_array().unwrap();
        assert_eq!(hops.len(), 3, "{out:#}");
        assert_eq!(out["steps"][0]["readable"], true);
    }

    #[test]
    fn two_exchanges_make_steps() {
        let get = |t: &str| {
            entry(
                t,
                "GET",
                "https://api.test/x",
                &[("Origin", APP)],
                200,
                &[("Access-Control-Allow-Origin", "*")],
            )
        };
        let text = har(vec![get(T0), get("2026-03-01T11:00:05.5+01:00")]);
        let input = har_to_input(&text, None).unwrap();
        let Input::Steps(s) = &input else {
            panic!("steps expected")
        };
        let at: Vec<_> = s.steps.iter().map(|c| c.at_seconds).collect();
        assert_eq!(at, vec![Some(0.0), Some(5.5)]);
        evaluates(&input);
        // Going back in time is clamped; an unparsable time falls back to entry indices.
        let text = har(vec![get(T0), get("2026-03-01T09:59:00Z"), get("yesterday")]);
        let Input::Steps(s) = har_to_input(&text, None).unwrap() else {
            panic!()
        };
        let at: Vec<_> = s.steps.iter().map(|c| c.at_seconds).collect();
        assert_eq!(at, vec![Some(0.0), Some(1.0), Some(2.0)]);
        let text = har(vec![get(T0), get("2026-03-01T09:59:00Z")]);
        let Input::Steps(s) = har_to_input(&text, None).unwrap() else {
            panic!()
        };
        assert_eq!(s.steps[1].at_seconds, Some(0.0));
    }

    #[test]
    fn origin_flag_and_same_origin_entries() {
        let text = har(vec![
            // Same-origin fetch: no Origin header.
            entry(
                T0,
                "GET",
                "https://app.test/api",
                &[("Sec-Fetch-Mode", "cors")],
                200,
                &[],
            ),
            // Cross-origin image: no-cors.
            entry(
                T0,
                "GET",
                "https://cdn.test/i.png",
                &[("Sec-Fetch-Mode", "no-cors")],
                200,
                &[],
            ),
            // Same-origin POST with an Origin header.
            entry(
                T0,
                "POST",
                "https://app.test:443/api",
                &[("Origin", APP)],
                200,
                &[],
            ),
            entry(
                T0,
                "GET",
                "https://api.test/x",
                &[("Origin", "null")],
                200,
                &[],
            ),
        ]);
        let c = case(har_to_input(&text, None).unwrap());
        assert_eq!(c.request.origin, "null");
        // --origin overrides the Origin headers, and makes the cors-mode fetch to app.test
        // cross-origin too; the no-cors image stays out.
        let Input::Steps(s) = har_to_input(&text, Some("https://other.test")).unwrap() else {
            panic!()
        };
        assert_eq!(s.steps.len(), 3);
        assert!(s
            .steps
            .iter()
            .all(|c| c.request.origin == "https://other.test"));
        assert_eq!(s.steps[2].request.url, "https://api.test/x");
        let Input::Steps(s) = har_to_input(&text, Some("https://api.test")).unwrap() else {
            panic!()
        };
        let urls: Vec<_> = s.steps.iter().map(|c| c.request.url.as_str()).collect();
        assert_eq!(urls, ["https://app.test/api", "https://app.test:443/api"]);
    }

    #[test]
    fn orphan_preflight() {
        let text = har(vec![entry(
            T0,
            "OPTIONS",
            "https://api.test/x",
            &[
                ("Origin", APP),
                ("Access-Control-Request-Method", "DELETE"),
                ("Access-Control-Request-Headers", "x-b,x-a"),
            ],
            403,
            &[],
        )]);
        let c = case(har_to_input(&text, None).unwrap());
        assert_eq!(c.request.method, "DELETE");
        assert_eq!(
            c.request.headers,
            pairs(&[("x-b", MISSING_VALUE), ("x-a", MISSING_VALUE)])
        );
        assert!(c.response.is_none());
        let out = evaluates(&Input::Case(Box::new(c)));
        assert_eq!(out["error"], "preflight-status");
        assert_eq!(out["preflight"]["request_headers"][1][1], "x-a,x-b");
    }

    #[test]
    fn errors() {
        let err =
            |text: &str, origin: Option<&str>| har_to_input(text, origin).unwrap_err().to_string();
        assert!(err("{", None).starts_with("not a HAR file: not JSON"));
        assert_eq!(
            err("{\"log\": {}}", None),
            "not a HAR file: no log.entries array"
        );
        assert_eq!(err("[1]", None), "not a HAR file: no log.entries array");
        let mut e = entry(T0, "GET", "https://api.test/", &[], 200, &[]);
        e.as_object_mut().unwrap().remove("request");
        assert_eq!(
            err(&har(vec![e]), None),
            "HAR entry 0: has no request object"
        );
        let mut e = entry(T0, "GET", "https://api.test/", &[], 200, &[]);
        e.as_object_mut().unwrap().remove("response");
        let ok = entry(T0, "GET", "https://api.test/", &[], 200, &[]);
        assert_eq!(
            err(&har(vec![ok.clone(), e]), None),
            "HAR entry 1: has no response object"
        );
        let mut e = ok.clone();
        e["request"]["headers"] = json!([{"name": "x"}]);
        assert_eq!(
            err(&har(vec![e]), None),
            "HAR entry 0: request.headers[0] lacks a string name or value"
        );
        let bad = entry(T0, "GET", "https://api.test:99999/", &[], 200, &[]);
        assert_eq!(
            err(&har(vec![bad]), None),
            "HAR entry 0: request.url \"https://api.test:99999/\" is not a URL: invalid port number"
        );
        let bad = entry(T0, "GET", "/relative", &[], 200, &[]);
        assert!(err(&har(vec![bad]), None).contains("is not a URL: relative URL without a base"));
        assert_eq!(
            err(&har(vec![ok.clone()]), None),
            "no cross-origin request in the HAR: every entry is same-origin or lacks an Origin header"
        );
        assert_eq!(
            err(&har(vec![]), None),
            "no cross-origin request in the HAR: every entry is same-origin or lacks an Origin header"
        );
        let data = entry(
            T0,
            "GET",
            "data:text/plain,hi",
            &[("Origin", APP)],
            200,
            &[],
        );
        assert!(err(&har(vec![data]), None).starts_with("no cross-origin request"));
        let cross = entry(
            T0,
            "GET",
            "https://api.test/",
            &[("Sec-Fetch-Site", "cross-site")],
            200,
            &[],
        );
        assert_eq!(
            err(&har(vec![ok.clone(), cross]), None),
            "entry 1 has no Origin header; pass --origin"
        );
        let pre = entry(
            T0,
            "OPTIONS",
            "https://api.test/",
            &[("Access-Control-Request-Method", "PUT")],
            204,
            &[],
        );
        assert_eq!(
            err(&har(vec![pre]), None),
            "entry 0 has no Origin header; pass --origin"
        );
        assert_eq!(
            err(&har(vec![ok.clone()]), Some("https://app.test/")),
            "--origin \"https://app.test/\" is not a serialized origin: \"https://app.test/\" is not a serialized origin; did you mean \"https://app.test\"?"
        );
        assert!(err(&har(vec![ok]), Some("app.test")).starts_with("--origin \"app.test\""));
    }

    #[test]
    fn iso8601() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
        assert_eq!(parse_iso8601("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_iso8601("1969-12-31T23:00:00-0100"), Some(0));
        assert_eq!(
            parse_iso8601("2000-03-01T00:00:00Z"),
            Some(951_868_800 * 1_000_000_000)
        );
        assert_eq!(
            parse_iso8601("2024-02-29T00:00:00.123456789123Z"),
            Some(1_709_164_800_123_456_789)
        );
        for bad in [
            "",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+1:00",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00Zjunk",
            "2024-01-01T00:00:00é",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls() {
        let url = |s: &str| http_url(None, s);
        let u = url("HTTPS://User:pw@API.Test:443?x#f").unwrap().unwrap();
        assert_eq!(key(&u), "https://api.test/?x");
        assert_eq!(u.origin().ascii_serialization(), "https://api.test");
        let u = url("http://[::1]:8080/a/./b/../c").unwrap().unwrap();
        assert_eq!(key(&u), "http://[::1]:8080/a/c");
        assert_eq!(url("data:text/plain,x").unwrap(), None);
        assert!(url("https://").is_err());
        assert!(url("https://a b/").is_err());
        let base = url("https://a.test/x/y?q").unwrap().unwrap();
        let r = |l: &str| http_url(Some(&base), l).unwrap().map(|u| key(&u));
        assert_eq!(r("z").as_deref(), Some("https://a.test/x/z"));
        assert_eq!(r("../z?w").as_deref(), Some("https://a.test/z?w"));
        assert_eq!(r("/").as_deref(), Some("https://a.test/"));
        assert_eq!(r("?n").as_deref(), Some("https://a.test/x/y?n"));
        assert_eq!(r("#f").as_deref(), Some("https://a.test/x/y?q"));
        assert_eq!(r("//b.test").as_deref(), Some("https://b.test/"));
        assert_eq!(r("http://b.test:80/p").as_deref(), Some("http://b.test/p"));
        assert_eq!(r("ftp://b.test/"), None);
        assert!(same_origin("https://a.test:443", &base));
        assert!(!same_origin("null", &base) && !same_origin("http://a.test", &base));
    }
}
