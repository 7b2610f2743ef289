//! Sending a case's requests: one case's HTTP memo, so that identical requests within a case
//! (the same preflight under three profiles) are sent once and their answer shared. Overload
//! answers are retried ([`crate::retry`]); a request that gets no usable answer is a target
//! error, counted in the case's [`Tally`], and has no answer in the memo.

use std::sync::Arc;

use corsproof_client::{Client, Request as HttpRequest};
use corsproof_oracle::Response;
use corsproof_report::{SeenResponse, SentRequest};

use super::target::Target;
use crate::retry::{Retrier, Tally};

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
pub(crate) fn seen_pairs(pairs: &[(SentRequest, Answer)]) -> Vec<(SentRequest, SeenResponse)> {
    pairs.iter().map(|(s, a)| (s.clone(), a.seen())).collect()
}

/// One case's exchanges with one target. A case sends a handful of requests, so a list
/// searched in order beats hashing them.
pub(crate) struct Exchanger<'a> {
    target: &'a Target,
    client: &'a mut Client,
    retrier: Retrier<'a>,
    /// Every distinct request sent, in order, with its answer (`None`: no usable answer).
    pub(crate) memo: Vec<(SentRequest, Option<Answer>)>,
    /// What the case's requests cost.
    pub(crate) tally: Tally,
}

impl<'a> Exchanger<'a> {
    pub(crate) fn new(
        target: &'a Target,
        client: &'a mut Client,
        retrier: Retrier<'a>,
    ) -> Exchanger<'a> {
        Exchanger {
            target,
            client,
            retrier,
            memo: Vec::new(),
            tally: Tally::default(),
        }
    }

    pub(crate) fn target(&self) -> &Target {
        self.target
    }

    /// The answer to `sent`: from the memo, or from the target.
    pub(crate) async fn send(&mut self, sent: &SentRequest) -> Option<Answer> {
        if let Some((_, hit)) = self.memo.iter().find(|(s, _)| s == sent) {
            return hit.clone();
        }
        let target = self.target.request_target(&sent.url);
        let mut req = HttpRequest::new(sent.method.as_bytes(), target.as_bytes());
        for (n, v) in &sent.headers {
            req = req.header(n.as_slice(), v.as_slice());
        }
        if !sent.body.is_empty() {
            req = req.body(sent.body.clone());
        }
        let delivery = self.retrier.send(self.client, &req).await;
        self.tally.sent(delivery.attempts);
        let answer = match delivery.result {
            Ok(raw) => Some(Answer {
                response: Arc::new(Response::new(raw.status, raw.headers)),
            }),
            Err(e) => {
                self.tally.errors.record(e.kind(), &e.to_string(), sent);
                None
            }
        };
        self.memo.push((sent.clone(), answer.clone()));
        answer
    }

    /// The answer the memo holds for `sent`, without sending.
    pub(crate) fn answered(&self, sent: &SentRequest) -> Option<&Answer> {
        self.memo
            .iter()
            .find(|(s, _)| s == sent)
            .and_then(|(_, a)| a.as_ref())
    }
}
