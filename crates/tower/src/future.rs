//! [`ResponseFuture`]: the inner service's future plus the headers to add, or a preflight
//! answer that is ready at once.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::answer::Additions;
use crate::refusal::Report;

pin_project! {
    /// The future returned by [`crate::Cors`].
    ///
    /// # Panics
    /// Like every future, it must not be polled again after it returned `Ready`.
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner {
            #[pin]
            future: F,
            additions: Option<Additions>,
        },
        // `Inner` for a refused request whose response also gets a reason (reasons on only).
        // Boxed: the reason is large, and the future of every request would otherwise carry
        // room for it.
        Explained {
            #[pin]
            future: F,
            answer: Option<Box<(Option<Additions>, Report)>>,
        },
        Ready {
            response: Option<Response<B>>,
        },
    }
}

impl<F, B> ResponseFuture<F, B> {
    /// The inner service's response, with `additions` applied and `report` attached when it
    /// is ready. Inlined: a call would copy `future` and `additions` once more.
    #[inline]
    pub(crate) fn inner(future: F, additions: Option<Additions>, report: Option<Report>) -> Self {
        let kind = match report {
            None => Kind::Inner { future, additions },
            Some(report) => Kind::Explained {
                future,
                answer: Some(Box::new((additions, report))),
            },
        };
        ResponseFuture { kind }
    }

    /// A response produced by the middleware itself.
    pub(crate) fn ready(response: Response<B>) -> Self {
        ResponseFuture {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future, additions } => {
                let mut response = ready!(future.poll(cx))?;
                if let Some(additions) = additions.take() {
                    additions.apply(response.headers_mut());
                }
                Poll::Ready(Ok(response))
            }
            KindProj::Explained { future, answer } => {
                let mut response = ready!(future.poll(cx))?;
                if let Some(answer) = answer.take() {
                    let (additions, report) = *answer;
                    if let Some(additions) = additions {
                        additions.apply(response.headers_mut());
                    }
                    report.attach(&mut response);
                }
                Poll::Ready(Ok(response))
            }
            KindProj::Ready { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => panic!("corsproof_tower::ResponseFuture polled after completion"),
            },
        }
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
