//! Tables of cases: each row names a request sent through a layer and what its answer must
//! hold (status, calls to the inner service, header lines, `Vary`, body, the reason for a
//! refusal); [`run`] plays every row and fails naming every row that did not hold, with what
//! it got.

use corsproof_tower::{CorsLayer, Refusal};
use http::{HeaderValue, Request, Response};

use super::{send, Inner};

/// One row: the request, and only what the row checks.
pub struct Case {
    /// What the row is about, printed when it fails.
    pub name: String,
    /// The request.
    pub request: Request<String>,
    /// The inner service.
    pub inner: Inner,
    /// The status.
    pub status: Option<u16>,
    /// How often the inner service is called.
    pub calls: Option<usize>,
    /// Header lines: sent exactly once with this value, or (`None`) not sent at all.
    pub headers: Vec<(&'static str, Option<String>)>,
    /// When set, the answer's `access-control-*` names are exactly these, in order.
    pub cors_names: Option<Vec<&'static str>>,
    /// The `Vary` lines, in order (none: no `Vary` at all).
    pub vary: Option<Vec<&'static str>>,
    /// The body.
    pub body: Option<&'static str>,
    /// The [`Refusal`] in the response's extensions, in its `Cors-Refusal` form (`None`:
    /// none), and in the request's when the inner service was called.
    pub refusal: Option<Option<String>>,
}

impl Case {
    /// A row for `request` to a fresh default inner service that checks nothing yet.
    pub fn new(name: impl Into<String>, request: Request<String>) -> Case {
        Case {
            name: name.into(),
            request,
            inner: Inner::new(),
            status: None,
            calls: None,
            headers: Vec::new(),
            cors_names: None,
            vary: None,
            body: None,
            refusal: None,
        }
    }

    pub fn inner(mut self, inner: Inner) -> Case {
        self.inner = inner;
        self
    }

    pub fn status(mut self, status: u16) -> Case {
        self.status = Some(status);
        self
    }

    pub fn calls(mut self, calls: usize) -> Case {
        self.calls = Some(calls);
        self
    }

    /// `name` is sent exactly once, with `value`.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Case {
        self.headers.push((name, Some(value.into())));
        self
    }

    /// `name` is not sent.
    pub fn absent(mut self, name: &'static str) -> Case {
        self.headers.push((name, None));
        self
    }

    /// The `access-control-*` names of the answer are exactly `names`.
    pub fn cors_names(mut self, names: &[&'static str]) -> Case {
        self.cors_names = Some(names.to_vec());
        self
    }

    /// No `access-control-*` line at all.
    pub fn no_cors(self) -> Case {
        self.cors_names(&[])
    }

    /// The `Vary` lines are exactly `lines` (`&[]`: no `Vary`).
    pub fn vary(mut self, lines: &[&'static str]) -> Case {
        self.vary = Some(lines.to_vec());
        self
    }

    pub fn body(mut self, body: &'static str) -> Case {
        self.body = Some(body);
        self
    }

    /// The response carries a [`Refusal`] whose `Cors-Refusal` form is `form`, and so did
    /// the request if the inner service got it.
    pub fn refusal(mut self, form: impl Into<String>) -> Case {
        self.refusal = Some(Some(form.into()));
        self
    }

    /// Neither the response nor the request (if the inner service got it) carries a
    /// [`Refusal`].
    pub fn no_refusal(mut self) -> Case {
        self.refusal = Some(None);
        self
    }

    /// What is wrong with `res`, the answer to this row's request.
    fn problems(&self, res: &Response<String>) -> Vec<String> {
        let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        let mut problems = Vec::new();
        if let Some(status) = self.status.filter(|s| *s != res.status().as_u16()) {
            problems.push(format!("status {}, expected {status}", res.status()));
        }
        if let Some(calls) = self.calls.filter(|c| *c != self.inner.calls()) {
            problems.push(format!(
                "the inner service was called {} times, expected {calls}",
                self.inner.calls()
            ));
        }
        for (name, value) in &self.headers {
            let got: Vec<String> = res.headers().get_all(*name).iter().map(text).collect();
            let want: Vec<String> = value.iter().cloned().collect();
            if got != want {
                problems.push(format!("{name}: {got:?}, expected {want:?}"));
            }
        }
        if let Some(names) = &self.cors_names {
            let got = super::cors_headers(res.headers());
            if got != *names {
                problems.push(format!("CORS names {got:?}, expected {names:?}"));
            }
        }
        if let Some(lines) = &self.vary {
            let got: Vec<String> = res.headers().get_all("vary").iter().map(text).collect();
            if got != *lines {
                problems.push(format!("Vary {got:?}, expected {lines:?}"));
            }
        }
        if let Some(body) = self.body.filter(|b| *b != res.body()) {
            problems.push(format!("body {:?}, expected {body:?}", res.body()));
        }
        if let Some(want) = &self.refusal {
            let form = |r: Option<&Refusal>| r.map(|r| text(&r.header_value()));
            let got = form(res.extensions().get::<Refusal>());
            if got != *want {
                problems.push(format!("refusal {got:?}, expected {want:?}"));
            }
            for (i, seen) in self.inner.refusals().iter().enumerate() {
                let seen = form(seen.as_ref());
                if seen != *want {
                    problems.push(format!(
                        "request {i} to the inner service carried refusal {seen:?}, expected {want:?}"
                    ));
                }
            }
        }
        problems
    }
}

/// Sends every row's request through `layer` and fails with every row whose answer does not
/// hold what the row checks, each named.
pub fn run(layer: &CorsLayer, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let res = send(layer, &case.inner, case.request.clone());
        let problems = case.problems(&res);
        if !problems.is_empty() {
            failures.push(format!(
                "case {:?}:\n  {}",
                case.name,
                problems.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
