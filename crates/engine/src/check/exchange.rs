//! Sending a case's requests: one case's HTTP memo, so that identical requests within a case
//! (the same preflight under three profiles) are sent once and their answer shared.

use std::sync::Arc;

use corsproof_client::{Client, Request as HttpRequest};
use corsproof_oracle::Response;
use corsproof_report::{SeenResponse, SentRequest};

use super::target::Target;

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
    /// Every distinct request sent, in order, with its answer (`None`: the exchange failed).
    pub(crate) memo: Vec<(SentRequest, Option<Answer>)>,
    /// Requests sent.
    pub(crate) requests: u64,
    /// Exchanges that failed.
    pub(crate) errors: u64,
}

impl<'a> Exchanger<'a> {
    pub(crate) fn new(target: &'a Target, client: &'a mut Client) -> Exchanger<'a> {
        Exchanger {
            target,
            client,
            memo: Vec::new(),
            requests: 0,
            errors: 0,
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
        self.requests += 1;
        let answer = match self.client.send(&req).await {
            Ok(raw) => Some(Answer {
                response: Arc::new(Response::new(raw.status, raw.headers)),
            }),
            Err(_) => {
                self.errors += 1;
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
