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
    let mut mapper = Mapper {
        o,
        key,
        origins: Vec::new(),
        url_ids: HashMap::new(),
    };
    let mut steps = Vec::new();
    for c in &cases {
        steps.push(mapper.step(c)?);
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
    if replay.steps.len() > 1 {
        timing_independent(&replay)?;
    }
    Ok(replay)
}

/// Why a step cannot be replayed in a browser, if it cannot; otherwise its URL.
fn replayable(c: &CaseJson) -> Result<Url, String> {
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
    Ok(url)
}

/// What a step's hop answers: its preflight and its response, as the vector gives them.
struct HopAnswers<'a> {
    preflight: Option<&'a ResponseJson>,
    response: Option<&'a ResponseJson>,
}

/// Hop 0's answers, then each redirect hop's.
fn hop_answers(c: &CaseJson) -> Vec<HopAnswers<'_>> {
    let first = HopAnswers {
        preflight: c.preflight_response.as_ref(),
        response: c.response.as_ref(),
    };
    std::iter::once(first)
        .chain(c.redirects.iter().map(|h| HopAnswers {
            preflight: h.preflight_response.as_ref(),
            response: h.response.as_ref(),
        }))
        .collect()
}

/// The chain of URLs a step visits: `url` (hop 0), then each `Location` that leads to a
/// following hop.
fn hop_urls(url: Url, answers: &[HopAnswers]) -> Result<Vec<Url>, String> {
    let mut urls: Vec<Url> = vec![url];
    for a in answers.iter().take(answers.len().saturating_sub(1)) {
        let Some(resp) = a.response else { break };
        let Some(loc) = resp
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v)
        else {
            break;
        };
        let Some(cur) = urls.last() else { break };
        let Ok(next) = cur.join(loc.trim()) else {
            break;
        };
        if !matches!(next.scheme(), "http" | "https") {
            return Err(format!("redirect to a {}: URL", next.scheme()));
        }
        urls.push(next);
    }
    Ok(urls)
}

/// A vector's mapping onto the run, built step by step: its origins in order of appearance
/// (vector origin, run origin) and its distinct URLs, numbered in order of appearance.
struct Mapper<'a> {
    o: &'a Origins,
    key: &'a str,
    origins: Vec<(String, String)>,
    url_ids: HashMap<String, usize>,
}

impl Mapper<'_> {
    /// One step with its URLs, answers and request mapped.
    fn step(&mut self, c: &CaseJson) -> Result<WireStep, String> {
        let url = replayable(c)?;
        let page_origin = c.request.origin.as_str();
        self.origin(page_origin, true)?;
        let answers = hop_answers(c);
        let mut mapped_urls = Vec::new();
        for (hop, u) in hop_urls(url, &answers)?.iter().enumerate() {
            mapped_urls.push(self.url(u, hop, page_origin)?);
        }
        let mut hops = Vec::new();
        for (i, a) in answers.iter().enumerate() {
            hops.push(self.hop_script(a, mapped_urls.get(i + 1))?);
        }
        let mut request = c.request.clone();
        request.url = mapped_urls.first().cloned().unwrap_or_default();
        request.origin = self.o.page.clone();
        Ok(WireStep {
            request,
            hops,
            at_seconds: c.at_seconds.unwrap_or(0.0),
        })
    }

    /// The run's origin for a vector origin: the page origin for the requesting document's
    /// (`page`), otherwise the next scripted origin not yet used.
    fn origin(&mut self, orig: &str, page: bool) -> Result<String, String> {
        if let Some((_, m)) = self.origins.iter().find(|(k, _)| k == orig) {
            return Ok(m.clone());
        }
        let m = if page {
            self.o.page.clone()
        } else {
            // A vector origin whose host is an IP address keeps an IP address, one with a
            // host name gets `localhost`.
            let ip_host = Url::parse(orig)
                .is_ok_and(|u| matches!(u.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))));
            let used = self
                .origins
                .iter()
                .filter(|(_, m)| *m != self.o.page)
                .count();
            self.o
                .scripted_as(used, ip_host)
                .map(str::to_string)
                .ok_or("more distinct origins than the run has servers")?
        };
        self.origins.push((orig.to_string(), m.clone()));
        Ok(m)
    }

    /// Hop `hop` of a step: `u` on its mapped origin under the scripted path
    /// `/c/KEY/URL/HOP/`, followed by the original path and query, userinfo kept.
    fn url(&mut self, u: &Url, hop: usize, page_origin: &str) -> Result<String, String> {
        let orig = origin_of(u);
        let m = self.origin(&orig, orig == page_origin)?;
        let n = self.url_ids.len();
        let id = *self
            .url_ids
            .entry(u.as_str().split('#').next().unwrap_or_default().to_string())
            .or_insert(n);
        let mut path = u.path().trim_start_matches('/').to_string();
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        let key = self.key;
        let mut mapped = format!("{m}/c/{key}/{id}/{hop}/{path}");
        if !u.username().is_empty() || u.password().is_some() {
            let userinfo = format!(
                "{}{}@",
                u.username(),
                u.password().map(|p| format!(":{p}")).unwrap_or_default()
            );
            mapped = mapped.replacen("://", &format!("://{userinfo}"), 1);
        }
        Ok(mapped)
    }

    /// A hop's script. An answer the vector leaves out (it expects none under its own
    /// profiles) is the server's bare default, and the oracle sees the same.
    fn hop_script(&self, a: &HopAnswers, next: Option<&String>) -> Result<HopScript, String> {
        let preflight = a
            .preflight
            .map(|p| self.answer(p, None))
            .transpose()?
            .unwrap_or_else(|| RawAnswer::new(204, Vec::new()));
        let response = a
            .response
            .map(|r| self.answer(r, next))
            .transpose()?
            .unwrap_or_else(|| RawAnswer::new(200, Vec::new()));
        Ok(HopScript {
            preflight: Some(preflight),
            response: Some(response),
        })
    }

    /// An answer with its `Location` pointing to the mapped next hop (`next`) and the
    /// vector's origins inside header values replaced by the run's (longest first).
    fn answer(&self, a: &ResponseJson, next: Option<&String>) -> Result<RawAnswer, String> {
        if a.status < 200 {
            return Err(format!(
                "a {} answer: 1xx responses are interim in HTTP/1.1, never a final answer",
                a.status
            ));
        }
        let mut pairs = self.origins.clone();
        pairs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
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
                for (k, m) in &pairs {
                    v = v.replace(k.as_str(), m);
                }
                (n.clone(), v)
            })
            .collect();
        Ok(RawAnswer::new(a.status, headers))
    }
}

/// A replay of several steps whose outcome does not hang on timing: no later step within
/// 1.5 s of a cached entry's expiry (that depends on how fast the browser runs the steps,
/// not on the rules).
fn timing_independent(replay: &Replay) -> Result<(), String> {
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
            return Err("a step within 1.5 s of a cache entry's expiry (timing-dependent)".into());
        }
    }
    Ok(())
}
