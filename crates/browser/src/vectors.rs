//! The spec vectors (`spec/vectors/*.json`) replayed in a browser: each vector's origins are
//! mapped to the run's (the requesting document's to the page origin, every other origin to
//! a scripted one, in order of appearance), its URLs to scripted paths that keep the original
//! path (so URL lengths stay close), redirect `Location`s to the mapped next hop, and origins
//! inside answer header values (ACAO) likewise. A vector that cannot be replayed is counted
//! with the reason, never dropped silently.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use corsproof_case::{CaseJson, CredentialsJson, Input, ModeJson, RedirectJson, ResponseJson};
use serde::Deserialize;
use url::Url;

use crate::error::Error;
use crate::generate::Origins;
use crate::replay::{Replay, WireStep};
use crate::server::HopScript;
use crate::wire::RawAnswer;

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    id: String,
    case: serde_json::Value,
}

/// One vector, before mapping.
#[derive(Debug, Clone)]
pub struct SpecVector {
    /// `FILE#ID`.
    pub label: String,
    /// Its explain input.
    pub input: Input,
}

/// Reads every `*.json` under `dir`, sorted by file name.
pub fn load(dir: &Path) -> Result<Vec<SpecVector>, Error> {
    let io = |path: PathBuf| {
        move |source| Error::Io {
            path: path.clone(),
            source,
        }
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir.to_path_buf()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(io(path.clone()))?;
        let file: File = serde_json::from_str(&text).map_err(|e| Error::VectorFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for v in file.vectors {
            let input: Input = serde_json::from_value(v.case).map_err(|e| Error::VectorFile {
                path: path.clone(),
                reason: format!("vector {}: {e}", v.id),
            })?;
            out.push(SpecVector {
                label: format!("{name}#{}", v.id),
                input,
            });
        }
    }
    Ok(out)
}

/// A vector mapped for a run, or why it cannot be replayed in a browser.
#[derive(Debug)]
pub enum Mapped {
    /// Ready to replay.
    Replay(Box<Replay>),
    /// Not replayable: the reason (a short stable phrase, used to count).
    Skipped(String),
}

fn origin_of(u: &Url) -> String {
    u.origin().ascii_serialization()
}

/// Longest wait a replayed sequence may need.
pub const MAX_WAIT_SECONDS: f64 = 12.0;

/// Maps one vector for a run (`key` names its job).
pub fn map(v: &SpecVector, key: &str, browser: &str, o: &Origins) -> Mapped {
    match try_map(v, key, browser, o) {
        Ok(r) => Mapped::Replay(Box::new(r)),
        Err(reason) => Mapped::Skipped(reason),
    }
}

fn try_map(v: &SpecVector, key: &str, browser: &str, o: &Origins) -> Result<Replay, String> {
    let cases: Vec<&CaseJson> = match &v.input {
        Input::Case(c) => vec![c],
        Input::Steps(s) => s.steps.iter().collect(),
    };
    let mut origin_map: Vec<(String, String)> = Vec::new();
    let mut url_ids: HashMap<String, usize> = HashMap::new();
    let mut steps = Vec::new();
    let map_origin = |orig: &str,
                      origin_map: &mut Vec<(String, String)>,
                      page: bool|
     -> Result<String, String> {
        if let Some((_, m)) = origin_map.iter().find(|(k, _)| k == orig) {
            return Ok(m.clone());
        }
        let m = if page {
            o.page.clone()
        } else {
            // A vector origin whose host is an IP address keeps an IP address, one with a
            // host name gets `localhost`.
            let ip_host = Url::parse(orig)
                .is_ok_and(|u| matches!(u.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))));
            let used = origin_map.iter().filter(|(_, m)| *m != o.page).count();
            o.scripted_as(used, ip_host)
                .map(str::to_string)
                .ok_or("more distinct origins than the run has servers")?
        };
        origin_map.push((orig.to_string(), m.clone()));
        Ok(m)
    };
    for c in &cases {
        let r = &c.request;
        if r.private_network {
            return Err("PNA (R67): needs a target in a more private address space than the page; loopback page and servers share one".into());
        }
        if r.origin == "null" {
            return Err("opaque (null) requesting origin: needs a sandboxed document".into());
        }
        if r.body.as_deref() == Some("stream") {
            return Err("ReadableStream request body: upload streaming needs HTTP/2".into());
        }
        if r.use_cors_preflight
            && (matches!(r.mode, Some(ModeJson::NoCors | ModeJson::SameOrigin))
                || matches!(r.redirect, Some(RedirectJson::Error | RedirectJson::Manual))
                || r.credentials == Some(CredentialsJson::Omit))
        {
            return Err("upload listeners (XHR) with a mode, redirect mode or credentials mode XHR cannot express".into());
        }
        if c.at_seconds.is_some_and(|t| t > MAX_WAIT_SECONDS) {
            return Err(format!("a step waits more than {MAX_WAIT_SECONDS} s"));
        }
        let url = Url::parse(&r.url).map_err(|_| "request URL does not parse")?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "{}: URL of a scheme that is not fetched over HTTP",
                url.scheme()
            ));
        }
        let page_origin = r.origin.clone();
        map_origin(&page_origin, &mut origin_map, true)?;
        // The chain of URLs this step visits: hop 0, then each Location that leads to a
        // following hop.
        let answers: Vec<(Option<&ResponseJson>, Option<&ResponseJson>)> =
            std::iter::once((c.preflight_response.as_ref(), c.response.as_ref()))
                .chain(
                    c.redirects
                        .iter()
                        .map(|h| (h.preflight_response.as_ref(), h.response.as_ref())),
                )
                .collect();
        let mut hop_urls: Vec<Url> = vec![url];
        for (i, (_, resp)) in answers.iter().enumerate() {
            if i + 1 >= answers.len() {
                break;
            }
            let Some(resp) = resp else { break };
            let Some(loc) = resp
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v)
            else {
                break;
            };
            let Some(cur) = hop_urls.last() else { break };
            let Ok(next) = cur.join(loc.trim()) else {
                break;
            };
            if !matches!(next.scheme(), "http" | "https") {
                return Err(format!("redirect to a {}: URL", next.scheme()));
            }
            hop_urls.push(next);
        }
        let mut mapped_urls = Vec::new();
        for (hop, u) in hop_urls.iter().enumerate() {
            let orig = origin_of(u);
            let m = map_origin(&orig, &mut origin_map, orig == page_origin)?;
            let n = url_ids.len();
            let id = *url_ids
                .entry(u.as_str().split('#').next().unwrap_or_default().to_string())
                .or_insert(n);
            let mut path = u.path().trim_start_matches('/').to_string();
            if let Some(q) = u.query() {
                path.push('?');
                path.push_str(q);
            }
            let mut mapped = format!("{m}/c/{key}/{id}/{hop}/{path}");
            if !u.username().is_empty() || u.password().is_some() {
                let userinfo = format!(
                    "{}{}@",
                    u.username(),
                    u.password().map(|p| format!(":{p}")).unwrap_or_default()
                );
                mapped = mapped.replacen("://", &format!("://{userinfo}"), 1);
            }
            mapped_urls.push(mapped);
        }
        let mut hops = Vec::new();
        for (i, (pf, resp)) in answers.iter().enumerate() {
            let conv = |a: &ResponseJson, next: Option<&String>| -> Result<RawAnswer, String> {
                if a.status < 200 {
                    return Err(format!(
                        "a {} answer: 1xx responses are interim in HTTP/1.1, never a final answer",
                        a.status
                    ));
                }
                let headers = a
                    .headers
                    .iter()
                    .map(|(n, v)| {
                        if n.eq_ignore_ascii_case("location") {
                            if let Some(next) = next {
                                return (n.clone(), next.clone());
                            }
                        }
                        let mut v = v.clone();
                        let mut pairs = origin_map.clone();
                        pairs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
                        for (k, m) in &pairs {
                            v = v.replace(k.as_str(), m);
                        }
                        (n.clone(), v)
                    })
                    .collect();
                Ok(RawAnswer::new(a.status, headers))
            };
            // An answer the vector leaves out (it expects none under its own profiles) is
            // the server's bare default, and the oracle sees the same.
            hops.push(HopScript {
                preflight: Some(
                    pf.map(|a| conv(a, None))
                        .transpose()?
                        .unwrap_or_else(|| RawAnswer::new(204, Vec::new())),
                ),
                response: Some(
                    resp.map(|a| conv(a, mapped_urls.get(i + 1)))
                        .transpose()?
                        .unwrap_or_else(|| RawAnswer::new(200, Vec::new())),
                ),
            });
        }
        let mut request = r.clone();
        request.url = mapped_urls.first().cloned().unwrap_or_default();
        request.origin = o.page.clone();
        steps.push(WireStep {
            request,
            hops,
            at_seconds: c.at_seconds.unwrap_or(0.0),
        });
    }
    // Steps without at_seconds keep the previous step's time.
    let mut last = 0.0;
    for (s, c) in steps.iter_mut().zip(&cases) {
        if c.at_seconds.is_none() {
            s.at_seconds = last;
        }
        last = s.at_seconds;
    }
    let replay = Replay::new(v.label.clone(), key.to_string(), browser, steps);
    // Timing: a later step within 1.5 s of a cached entry's expiry depends on how fast the
    // browser runs the steps, not on the rules.
    if replay.steps.len() > 1 {
        let outputs = replay
            .oracle()
            .map_err(|e| format!("the oracle rejects the mapped case: {e}"))?;
        for (i, out) in outputs.iter().enumerate() {
            let Some(pf) = &out.preflight else { continue };
            if pf.cache_seconds == 0 {
                continue;
            }
            let expiry = replay.steps[i].at_seconds + pf.cache_seconds as f64;
            if replay.steps[i + 1..]
                .iter()
                .any(|s| (s.at_seconds - expiry).abs() < 1.5)
            {
                return Err(
                    "a step within 1.5 s of a cache entry's expiry (timing-dependent)".into(),
                );
            }
        }
    }
    Ok(replay)
}
