//! Sending a case's requests: one case's HTTP memo, and the run's ([`Shared`]), so that
//! identical requests are sent once and their answer shared: within a case (the same preflight
//! under two profiles) and between cases (the preflight of a credentialed and of an
//! uncredentialed request, the cache-safety check's sibling request of every case that asks
//! the same path from another origin, a shrinking step that replays a case already run).
//! Overload answers are retried ([`crate::retry`]); a request that gets no usable answer is a
//! target error, counted once in the [`Tally`] of the case that sent it, and no case that
//! needs it is judged on it.
//!
//! # The assumption that makes sharing sound
//!
//! An answer is shared only between byte-identical requests (method, request target, every
//! header line in order, body), and `check` assumes the target is stateless: its answer to a
//! request is a function of that request's bytes. Every exchange of a case is such a function
//! already: each profile plays its case against a fresh, empty preflight cache (a preflight and
//! the actual request it allows are two requests, each answered on its own), the cookie is
//! the same on every request, and no answer of the target feeds a later request except
//! through the oracle's sans-IO model of the browser. The same assumption makes `--replay`
//! reproduce a finding. A target that answers the same request differently over time (a rate
//! limiter, a rotating allowlist) is judged on the first answer it gave.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use corsproof_client::{Client, Request as HttpRequest};
use corsproof_oracle::{Profile, Response};
use corsproof_report::{SeenResponse, SentRequest};

use super::target::Target;
use crate::retry::{Retrier, SendError, Tally};

/// A response as the oracle reads it, shared between the profiles of a case.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) response: Arc<Response>,
}

impl Answer {
    /// The response as the report shows it.
    pub(crate) fn seen(&self) -> SeenResponse {
        SeenResponse {
            status: self.response.status,
            headers: self.response.headers().to_vec(),
        }
    }
}

/// The exchanges of `pairs` as the report shows them.
pub(crate) fn seen_pairs(pairs: &[(Arc<SentRequest>, Answer)]) -> Vec<(SentRequest, SeenResponse)> {
    pairs
        .iter()
        .map(|(s, a)| (SentRequest::clone(s), a.seen()))
        .collect()
}

/// The answers of a run's requests to one target, shared by its cases and workers: one slot
/// per distinct request. A worker that needs a request another worker is sending waits for
/// that answer instead of sending it again. A request that got no usable answer (after its
/// retries) is not sent again in the run either: every case that needs it goes without it,
/// as the case that sent it does, and the target error is counted once.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    slots: Mutex<HashMap<Key, Slot, foldhash::fast::RandomState>>,
    /// With [`Sharing::Browsers`]: the browsers' own lines, left out of the key; empty with
    /// [`Sharing::Identical`].
    identity: Identity,
}

impl Shared {
    /// The memo of a run judged under `profiles` that shares answers as `sharing` says.
    pub(crate) fn new(sharing: Sharing, profiles: &[Profile]) -> Shared {
        let identity = match sharing {
            Sharing::Identical => Identity::default(),
            Sharing::Browsers => Identity::of(profiles),
        };
        Shared {
            slots: Mutex::default(),
            identity,
        }
    }

    /// What identifies `sent` in the memo, as one byte string: the request itself (method,
    /// URL, every header line in order, body), or, with [`Sharing::Browsers`], its lines other
    /// than the browsers' own, names lowercased, in sorted order. Each part is written with its
    /// length first, so two requests have equal keys exactly when they agree on every part.
    pub(crate) fn key(&self, sent: &SentRequest) -> Key {
        let size = sent.method.len() + sent.url.len() + sent.body.len();
        let lines: usize = sent
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 8)
            .sum();
        let mut key = Vec::with_capacity(size + lines + 12);
        push_part(&mut key, &sent.method);
        push_part(&mut key, &sent.url);
        push_part(&mut key, &sent.body);
        if self.identity.is_empty() {
            for (n, v) in &sent.headers {
                push_part(&mut key, n);
                push_part(&mut key, v);
            }
            return Key(key.into_boxed_slice());
        }
        // Each line other than the browsers' own, as its key bytes (lowercase name, value),
        // written once into `written`; then the lines in the order of those bytes, so that
        // lines equal but for the case of their names, in any order, give the same key.
        let mut written = Vec::with_capacity(lines);
        // Each kept line's span of `written`, after its first eight bytes (the name's length
        // and first letters) as one number: most lines differ there.
        let mut spans: Vec<(u64, usize, usize)> = Vec::with_capacity(sent.headers.len());
        for (n, v) in &sent.headers {
            let start = written.len();
            push_part(&mut written, n);
            written[start + 4..].make_ascii_lowercase();
            if self.identity.holds(&written[start + 4..], v) {
                written.truncate(start);
            } else {
                push_part(&mut written, v);
                let mut head = [0u8; 8];
                let n = (written.len() - start).min(8);
                head[..n].copy_from_slice(&written[start..start + n]);
                spans.push((u64::from_be_bytes(head), start, written.len()));
            }
        }
        spans.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| written[a.1..a.2].cmp(&written[b.1..b.2]))
        });
        for (_, start, end) in spans {
            key.extend_from_slice(&written[start..end]);
        }
        Key(key.into_boxed_slice())
    }

    /// Forgets every answer: the next request of each kind goes to the target again.
    pub(crate) fn clear(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The slot of `sent`, made empty when new.
    fn slot(&self, sent: &SentRequest) -> Slot {
        let key = self.key(sent);
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(key).or_default().clone()
    }
}

/// The run's answer to one request: empty until the first case that needs it has sent it,
/// `None` inside when it got no usable answer.
type Slot = Arc<tokio::sync::OnceCell<Option<Answer>>>;

/// A request as the memo tells requests apart ([`Shared::key`]): equal keys, one answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key(Box<[u8]>);

/// Appends `bytes` to `key`, its length first.
fn push_part(key: &mut Vec<u8>, bytes: impl AsRef<[u8]>) {
    let bytes = bytes.as_ref();
    key.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    key.extend_from_slice(bytes);
}

/// Which requests share one answer: the run's memo is keyed by what this leaves of a request.
///
/// ```
/// use corsproof_engine::check::Sharing;
/// assert_eq!(Sharing::default(), Sharing::Browsers);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sharing {
    /// Byte-identical requests only: every profile's request goes on the wire as that browser
    /// writes it, for a target that answers browsers differently.
    Identical,
    /// Also requests that differ only in the browsers' own lines: each profile's
    /// `User-Agent`, client hints, `Connection`, default `Accept-Language` and
    /// `Accept-Encoding`, `Priority` and `Sec-Fetch-Storage-Access: none` (an author's
    /// `Accept-Language`, say, is no browser's default and stays), and in the order or case of
    /// their header names. Every profile's play is still judged on its own, against the
    /// answer to the request its browser writes as the target sees it; the target is assumed
    /// not to tell browsers apart. About a third of the requests of
    /// [`Sharing::Identical`].
    #[default]
    Browsers,
}

/// The lines a browser of `profiles` writes on its own, whatever the script asked: what
/// [`Sharing::Browsers`] leaves out of the memo's key. Each name (lowercase) with its values.
#[derive(Debug, Default)]
struct Identity(Vec<(Vec<u8>, Vec<Vec<u8>>)>);

impl Identity {
    fn of(profiles: &[Profile]) -> Identity {
        let mut lines: Vec<(&str, &str)> = vec![("sec-fetch-storage-access", "none")];
        for p in profiles {
            let w = &p.wire;
            lines.push(("user-agent", w.user_agent));
            lines.push(("accept-language", w.accept_language));
            lines.extend(w.connection.map(|v| ("connection", v)));
            lines.extend(
                w.accept_encoding_trustworthy
                    .map(|v| ("accept-encoding", v)),
            );
            lines.extend(w.accept_encoding_other.map(|v| ("accept-encoding", v)));
            for v in [w.priority_fetch, w.priority_xhr, w.priority_preflight]
                .into_iter()
                .flatten()
            {
                lines.push(("priority", v));
            }
            lines.extend(w.client_hints.iter().copied());
        }
        let mut names: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
        for (n, v) in lines {
            let name = n.to_ascii_lowercase().into_bytes();
            let value = v.as_bytes().to_vec();
            match names.iter_mut().find(|(m, _)| *m == name) {
                Some((_, values)) if values.contains(&value) => {}
                Some((_, values)) => values.push(value),
                None => names.push((name, vec![value])),
            }
        }
        Identity(names)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the line `name` (lowercase): `value` is a browser's own.
    fn holds(&self, name: &[u8], value: &[u8]) -> bool {
        self.0
            .iter()
            .find(|(n, _)| n.len() == name.len() && n == name)
            .is_some_and(|(_, values)| values.iter().any(|v| v == value))
    }
}

/// One case's exchanges with one target. A case sends a handful of requests, so a list
/// searched in order beats hashing them.
pub(crate) struct Exchanger<'a> {
    target: &'a Target,
    client: &'a mut Client,
    retrier: Retrier<'a>,
    /// The run's answers to this target.
    shared: &'a Shared,
    /// Every distinct request sent, in order, with its answer (`None`: no usable answer);
    /// the plays that sent them hold the same requests.
    pub(crate) memo: Vec<(Arc<SentRequest>, Option<Answer>)>,
    /// What the case's requests cost.
    pub(crate) tally: Tally,
}

impl<'a> Exchanger<'a> {
    pub(crate) fn new(
        target: &'a Target,
        client: &'a mut Client,
        retrier: Retrier<'a>,
        shared: &'a Shared,
    ) -> Exchanger<'a> {
        Exchanger {
            target,
            client,
            retrier,
            shared,
            memo: Vec::new(),
            tally: Tally::default(),
        }
    }

    pub(crate) fn target(&self) -> &Target {
        self.target
    }

    /// The answer to `sent`: from the case's memo, from the run's, or from the target; with
    /// the request as the case's memo holds it.
    pub(crate) async fn send(&mut self, sent: SentRequest) -> (Arc<SentRequest>, Option<Answer>) {
        if let Some((s, hit)) = self.memo.iter().find(|(s, _)| **s == sent) {
            return (s.clone(), hit.clone());
        }
        let sent = Arc::new(sent);
        let slot = self.shared.slot(&sent);
        let mut delivered: Option<(u32, Option<SendError>)> = None;
        let answer = {
            let (target, client, retrier) = (self.target, &mut *self.client, self.retrier);
            let (delivered, sent) = (&mut delivered, &*sent);
            slot.get_or_init(|| async move {
                let req = http_request(target, sent);
                let delivery = retrier.send(client, &req).await;
                let (answer, error) = match delivery.result {
                    Ok(raw) => (
                        Some(Answer {
                            response: Arc::new(Response::new(raw.status, raw.headers)),
                        }),
                        None,
                    ),
                    Err(e) => (None, Some(e)),
                };
                *delivered = Some((delivery.attempts, error));
                answer
            })
            .await
            .clone()
        };
        // What this case sent, if it was the one to send it.
        if let Some((attempts, error)) = delivered {
            self.tally.sent(attempts);
            if let Some(e) = error {
                self.tally.errors.record(e.kind(), &e.to_string(), &sent);
            }
        }
        self.memo.push((sent.clone(), answer.clone()));
        (sent, answer)
    }

    /// The answer the memo holds for `sent`, without sending.
    pub(crate) fn answered(&self, sent: &SentRequest) -> Option<&Answer> {
        self.memo
            .iter()
            .find(|(s, _)| **s == *sent)
            .and_then(|(_, a)| a.as_ref())
    }
}

/// The HTTP request of `sent` on `target`.
fn http_request(target: &Target, sent: &SentRequest) -> HttpRequest {
    let path = target.request_target(&sent.url);
    let mut req = HttpRequest::new(sent.method.as_bytes(), path.as_bytes());
    for (n, v) in &sent.headers {
        req = req.header(n.as_slice(), v.as_slice());
    }
    if !sent.body.is_empty() {
        req = req.body(sent.body.clone());
    }
    req
}
