//! Generated cases (proptest strategies): requests with odd methods, safelisted and unsafe
//! headers with edge values, credentials modes, bodies, XHR upload listeners and redirect
//! modes; answers with ACAO/ACAC/ACAM/ACAH/ACEH/Max-Age variants (exact, `*`, `null`,
//! trailing slash, case, lists, duplicate lines, whitespace, invalid tokens) and odd statuses
//! (preflight 3xx included); redirect chains across the scripted origins and back to the
//! page's; cache sequences over one URL (the same request again, another header or
//! method, the first again, the other credentials mode, the first again after waits around
//! max-age); and capacity sequences over about as many URLs as the browser's preflight cache
//! holds, or more (D31).
//!
//! Header values are generated with placeholders filled in when the case is rendered for a
//! run's real origins: `%O` the page origin, `%OU` it upper-cased, `%X` an unrelated origin,
//! `%L` the next hop's URL, `%LU` it with userinfo.

use corsproof_case::{CredentialsJson, ModeJson, RedirectJson, RequestJson};
use corsproof_oracle::profile::Capacity;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::replay::{Replay, WireStep};
use crate::server::HopScript;
use crate::wire::RawAnswer;

/// A generated answer (placeholders not yet filled in).
#[derive(Debug, Clone, PartialEq)]
pub struct GenAnswer {
    /// Status.
    pub status: u16,
    /// Header lines.
    pub headers: Vec<(String, String)>,
}

/// A generated hop: where it lives and its answers.
#[derive(Debug, Clone, PartialEq)]
pub struct GenHop {
    /// 0: the target origin, 1: another scripted origin, 2: the page origin.
    pub origin: usize,
    /// The answer to a preflight.
    pub preflight: GenAnswer,
    /// The answer to the request.
    pub response: GenAnswer,
}

/// A generated single case.
#[derive(Debug, Clone, PartialEq)]
pub struct GenCase {
    /// The request (URL and origin filled in when rendered).
    pub request: RequestJson,
    /// Hop 0, then the hops redirects lead to.
    pub hops: Vec<GenHop>,
}

/// A generated cache sequence: steps against one URL.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSequence {
    /// The steps: request, answers, seconds since the first step.
    pub steps: Vec<(RequestJson, GenAnswer, GenAnswer, f64)>,
}

fn s(v: &str) -> String {
    v.to_string()
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(vec!["GET", "HEAD", "POST"]),
        6 => select(vec!["PUT", "DELETE", "PATCH", "OPTIONS"]),
        3 => select(vec!["get", "post", "head", "put", "delete", "patch", "Put", "options"]),
        2 => select(vec!["FOO", "M-SEARCH", "x_y", "CONNECT", "TRACE", "TRACK", "BAD METHOD"]),
    ]
    .prop_map(s)
}

fn header() -> impl Strategy<Value = (String, String)> {
    let long = "a".repeat(129);
    let h = |n: &'static str, vs: Vec<String>| select(vs).prop_map(move |v| (n.to_string(), v));
    prop_oneof![
        1 => h("Accept", vec![s("*/*"), s("application/json, text/plain"), s("a\"b"), s("x{y}"), long.clone()]),
        1 => h("Accept-Language", vec![s("en-US"), s("en;q=0.9"), s("de-CH,fr"), s("en(US)"), s(""), s("caf\u{e9}")]),
        1 => h("Content-Language", vec![s("en"), s("de-DE"), s("x;y"), s("*")]),
        1 => h("Content-Type", vec![
            s("text/plain"), s("text/plain;charset=UTF-8"), s("TEXT/PLAIN"),
            s("application/x-www-form-urlencoded"), s("multipart/form-data; boundary=x"),
            s("application/json"), s("text/plain; a=\"{b\""), s("text/html"),
            s("text/plain, application/json"), s(""), format!("text/plain; x={long}"),
        ]),
        1 => h("Range", vec![s("bytes=0-"), s("bytes=1-2"), s("bytes=0-1,2-3"), s("BYTES=0-"), s("bytes=-5"), s("bytes=5-1"), s("bytes = 0-")]),
        3 => h("X-Custom", vec![s("1"), s(""), s(" a "), s("x y")]),
        1 => h("X-Requested-With", vec![s("XMLHttpRequest")]),
        1 => h("x-UPPER-Case", vec![s("v")]),
        2 => h("Authorization", vec![s("Bearer x"), s("Basic eDp5")]),
        1 => h("DPR", vec![s("2")]),
        1 => h("Viewport-Width", vec![s("800")]),
        1 => h("Device-Memory", vec![s("8")]),
        1 => h("Save-Data", vec![s("on")]),
        1 => h("Cookie", vec![s("a=b")]),
        1 => h("Sec-Foo", vec![s("1")]),
        1 => h("Proxy-Foo", vec![s("1")]),
        1 => h("Accept-Charset", vec![s("utf-8")]),
        1 => h("X-Bad Name", vec![s("1")]),
    ]
}

/// Whether a header name is one the generators treat as unsafe (named in ACAH variants).
fn unsafe_name(n: &str) -> bool {
    let l = n.to_ascii_lowercase();
    !matches!(
        l.as_str(),
        "accept"
            | "accept-language"
            | "content-language"
            | "cookie"
            | "sec-foo"
            | "proxy-foo"
            | "accept-charset"
    )
}

/// Requests (URL and origin are placeholders until rendered).
pub fn request() -> impl Strategy<Value = RequestJson> {
    (
        method(),
        prop::collection::vec(header(), 0..4),
        select(vec![CredentialsJson::Omit, CredentialsJson::SameOrigin, CredentialsJson::Include]),
        prop_oneof![16 => Just(ModeJson::Cors), 3 => Just(ModeJson::NoCors), 1 => Just(ModeJson::SameOrigin)],
        prop_oneof![
            14 => Just(None),
            6 => select(vec!["text", "urlsearchparams", "formdata", "blob", "blob:application/json", "blob:text/plain"]).prop_map(|b| Some(s(b))),
        ],
        prop_oneof![17 => Just(None), 2 => Just(Some(RedirectJson::Manual)), 1 => Just(Some(RedirectJson::Error))],
        prop::bool::weighted(0.1),
    )
        .prop_map(|(method, headers, credentials, mode, body, redirect, xhr)| {
            let mut r = RequestJson {
                url: String::new(),
                origin: String::new(),
                method,
                headers,
                credentials: Some(credentials),
                mode: Some(mode),
                body,
                use_cors_preflight: false,
                redirect,
                private_network: false,
            };
            if xhr && !matches!(r.method.as_str(), "CONNECT" | "TRACE" | "TRACK") {
                // XHR: mode cors, redirects followed, credentials same-origin or include.
                r.use_cors_preflight = true;
                r.mode = Some(ModeJson::Cors);
                r.redirect = None;
                if r.credentials == Some(CredentialsJson::Omit) {
                    r.credentials = Some(CredentialsJson::SameOrigin);
                }
            }
            r
        })
}

fn lines(
    name: &'static str,
    values: Vec<Vec<String>>,
) -> impl Strategy<Value = Vec<(String, String)>> {
    select(values).prop_map(move |vs| vs.into_iter().map(|v| (name.to_string(), v)).collect())
}

fn acao() -> impl Strategy<Value = Vec<(String, String)>> {
    prop_oneof![
        8 => lines("Access-Control-Allow-Origin", vec![vec![s("%O")]]),
        3 => lines("Access-Control-Allow-Origin", vec![vec![s("*")], vec![s("null")]]),
        4 => lines("Access-Control-Allow-Origin", vec![
            vec![], vec![s("%O/")], vec![s("%OU")], vec![s("%X")], vec![s("%O, %O")], vec![s("")],
            vec![s("  %O  ")], vec![s("%O\t")], vec![s("%O"), s("%O")], vec![s("%O"), s("*")],
            vec![s("* ")], vec![s("\"%O\"")],
        ]),
    ]
}

fn acac() -> impl Strategy<Value = Vec<(String, String)>> {
    prop_oneof![
        4 => lines("Access-Control-Allow-Credentials", vec![vec![], vec![s("true")]]),
        2 => lines("Access-Control-Allow-Credentials", vec![
            vec![s("TRUE")], vec![s("True")], vec![s("false")], vec![s("true, true")],
            vec![s("true"), s("true")], vec![s(" true ")],
        ]),
    ]
}

fn acam(m: &str) -> impl Strategy<Value = Vec<(String, String)>> {
    let (lower, upper) = (m.to_ascii_lowercase(), m.to_ascii_uppercase());
    prop_oneof![
        6 => lines("Access-Control-Allow-Methods", vec![vec![s(m)], vec![s("*")], vec![s("GET, POST, PUT, DELETE, PATCH")]]),
        4 => lines("Access-Control-Allow-Methods", vec![
            vec![], vec![lower], vec![upper], vec![format!(", {m} ,")], vec![format!("{m} PATCH")],
            vec![s("")], vec![s("GET"), s(m)], vec![format!("{m}, *")], vec![s("PUT,DELETE")],
        ]),
    ]
}

fn acah(names: &[String]) -> impl Strategy<Value = Vec<(String, String)>> {
    let joined = names.join(", ");
    prop_oneof![
        6 => lines("Access-Control-Allow-Headers", vec![vec![joined.clone()], vec![s("*")]]),
        4 => lines("Access-Control-Allow-Headers", vec![
            vec![], vec![joined.to_ascii_uppercase()], vec![s("*, authorization")], vec![s("authorization")],
            vec![format!("{joined}, x-other")], vec![s("x-a x-b")], vec![s("")],
            names.iter().map(|n| n.to_string()).collect(), vec![format!(",{joined},")],
            vec![s("x-custom, x-requested-with, content-type, range")],
        ]),
    ]
}

/// Max-age values; the numbers are odd so that they stay at least a second away from the
/// even waits of cache sequences.
fn acma() -> impl Strategy<Value = Vec<(String, String)>> {
    lines(
        "Access-Control-Max-Age",
        vec![
            vec![],
            vec![],
            vec![s("0")],
            vec![s("3")],
            vec![s("600")],
            vec![s("7201")],
            vec![s("86401")],
            vec![s("-1")],
            vec![s("abc")],
            vec![s("")],
            vec![s("1.5")],
            vec![s("+3")],
            vec![s("03")],
            vec![s("3, 600")],
            vec![s("3"), s("600")],
            vec![s(" 600 ")],
            vec![s("99999999999999999999")],
        ],
    )
}

fn aceh() -> impl Strategy<Value = Vec<(String, String)>> {
    lines(
        "Access-Control-Expose-Headers",
        vec![
            vec![],
            vec![],
            vec![s("*")],
            vec![s("x-custom")],
            vec![s("X-CUSTOM")],
            vec![s("x-custom, content-language")],
            vec![s(" , x-custom,")],
            vec![s("x custom")],
            vec![s("set-cookie, x-other")],
            vec![s("*, x-custom")],
            vec![s("x-custom"), s("x-other")],
            vec![s("")],
        ],
    )
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::sample::subsequence(
        vec![
            (s("X-Custom"), s("1")),
            (s("Content-Language"), s("en")),
            (s("Content-Type"), s("text/plain")),
            (s("X-Other"), s("2")),
            (s("Cache-Control"), s("no-store")),
        ],
        0..=5,
    )
}

fn preflight_answer(req: &RequestJson) -> impl Strategy<Value = GenAnswer> {
    let names: Vec<String> = req
        .headers
        .iter()
        .filter(|(n, _)| unsafe_name(n))
        .map(|(n, _)| n.clone())
        .collect();
    (
        prop_oneof![
            10 => select(vec![200u16, 204]),
            1 => select(vec![206u16, 299, 300, 301, 302, 304, 307, 400, 404, 500]),
        ],
        acao(),
        acac(),
        acam(&req.method),
        acah(&names),
        acma(),
    )
        .prop_map(|(status, a, b, c, d, e)| {
            let mut headers: Vec<(String, String)> = [a, b, c, d, e].concat();
            if (300..400).contains(&status) {
                headers.push((s("Location"), s("%L")));
            }
            GenAnswer { status, headers }
        })
}

fn response_answer(redirect: bool) -> impl Strategy<Value = GenAnswer> {
    (
        if redirect {
            select(vec![301u16, 302, 303, 307, 308]).boxed()
        } else {
            prop_oneof![10 => Just(200u16), 1 => select(vec![201u16, 204, 206, 299, 304, 400, 404, 500])].boxed()
        },
        acao(),
        acac(),
        aceh(),
        extra_headers(),
        prop::bool::weighted(0.1),
    )
        .prop_map(move |(status, a, b, c, d, userinfo)| {
            let mut headers: Vec<(String, String)> = [a, b, c, d].concat();
            if redirect {
                headers.push((s("Location"), s(if userinfo { "%LU" } else { "%L" })));
            }
            GenAnswer { status, headers }
        })
}

fn hop(req: &RequestJson, origin: usize, redirect: bool) -> impl Strategy<Value = GenHop> {
    (preflight_answer(req), response_answer(redirect)).prop_map(move |(preflight, response)| {
        GenHop {
            origin,
            preflight,
            response,
        }
    })
}

/// Single cases: a request, its answers, and in about one case in seven a redirect chain of
/// one or two hops to the same, another or the page's origin.
pub fn case() -> impl Strategy<Value = GenCase> {
    (
        request(),
        prop_oneof![12 => Just(0usize), 2 => Just(1), 1 => Just(2)],
        prop_oneof![10 => Just(0usize), 1 => Just(2)],
    )
        .prop_flat_map(|(req, redirects, first)| {
            let mut hops: Vec<BoxedStrategy<GenHop>> =
                vec![hop(&req, first, redirects > 0).boxed()];
            for i in 0..redirects {
                let origin = prop_oneof![Just(0usize), Just(1), Just(2)];
                let (req2, last) = (req.clone(), i + 1 == redirects);
                hops.push(origin.prop_flat_map(move |o| hop(&req2, o, !last)).boxed());
            }
            (Just(req), hops)
        })
        .prop_map(|(request, hops)| GenCase { request, hops })
}

fn preflighted_request() -> impl Strategy<Value = RequestJson> {
    (
        select(vec!["PUT", "DELETE", "PATCH", "POST", "GET"]),
        prop_oneof![
            Just(vec![]),
            Just(vec![(s("X-Custom"), s("1"))]),
            Just(vec![(s("Authorization"), s("Bearer x"))]),
            Just(vec![
                (s("X-Custom"), s("1")),
                (s("Content-Type"), s("application/json"))
            ]),
        ],
        select(vec![
            CredentialsJson::Omit,
            CredentialsJson::SameOrigin,
            CredentialsJson::Include,
        ]),
    )
        .prop_map(|(m, mut headers, credentials)| {
            if matches!(m, "GET" | "POST") && headers.is_empty() {
                headers.push((s("X-Custom"), s("1")));
            }
            RequestJson {
                url: String::new(),
                origin: String::new(),
                method: s(m),
                headers,
                credentials: Some(credentials),
                mode: Some(ModeJson::Cors),
                body: None,
                use_cors_preflight: false,
                redirect: None,
                private_network: false,
            }
        })
}

/// A mostly permissive preflight answer for the sequences (so that entries get cached),
/// with the max-age variants.
fn sequence_preflight(req: &RequestJson) -> impl Strategy<Value = GenAnswer> {
    let names: Vec<String> = req.headers.iter().map(|(n, _)| n.clone()).collect();
    let m = req.method.clone();
    (
        prop_oneof![6 => lines("Access-Control-Allow-Origin", vec![vec![s("%O")]]), 1 => lines("Access-Control-Allow-Origin", vec![vec![s("*")]])],
        prop_oneof![3 => lines("Access-Control-Allow-Credentials", vec![vec![s("true")]]), 1 => lines("Access-Control-Allow-Credentials", vec![vec![]])],
        prop_oneof![
            3 => lines("Access-Control-Allow-Methods", vec![vec![m.clone()]]),
            2 => lines("Access-Control-Allow-Methods", vec![vec![s("*")], vec![s("PUT, DELETE, PATCH")], vec![]]),
        ],
        prop_oneof![
            3 => lines("Access-Control-Allow-Headers", vec![vec![names.join(", ")]]),
            2 => lines("Access-Control-Allow-Headers", vec![vec![s("*")], vec![s("x-custom, x-other, authorization, content-type")], vec![]]),
        ],
        acma(),
    )
        .prop_map(|(a, b, c, d, e)| GenAnswer { status: 204, headers: [a, b, c, d, e].concat() })
}

/// Cache sequences: the base request, then 2 to 5 steps among: the same again, another
/// header, another method, the other credentials mode; each step may come 0 or 2 s later.
pub fn sequence() -> impl Strategy<Value = GenSequence> {
    preflighted_request()
        .prop_flat_map(|base| {
            let step = (
                0usize..5,
                prop::bool::weighted(0.3),
                sequence_preflight(&base),
                prop::bool::weighted(0.5),
            );
            (
                Just(base.clone()),
                sequence_preflight(&base),
                prop::collection::vec(step, 2..=5),
            )
        })
        .prop_map(|(base, first_pf, steps)| {
            let actual = GenAnswer {
                status: 200,
                headers: vec![
                    (s("Access-Control-Allow-Origin"), s("%O")),
                    (s("Access-Control-Allow-Credentials"), s("true")),
                    (s("X-Custom"), s("1")),
                ],
            };
            let mut out = vec![(base.clone(), first_pf.clone(), actual.clone(), 0.0)];
            let mut at = 0.0;
            let mut waits = 0;
            for (kind, wait, pf, same_pf) in steps {
                if wait && waits < 3 {
                    at += 2.0;
                    waits += 1;
                }
                let mut r = base.clone();
                match kind {
                    1 => r.headers.push((s("X-Other"), s("2"))),
                    2 => {
                        r.method = s(if r.method == "DELETE" {
                            "PUT"
                        } else {
                            "DELETE"
                        })
                    }
                    3 => {
                        r.credentials = Some(match r.credentials {
                            Some(CredentialsJson::Include) => CredentialsJson::Omit,
                            _ => CredentialsJson::Include,
                        })
                    }
                    _ => {}
                }
                out.push((
                    r,
                    if same_pf { first_pf.clone() } else { pf },
                    actual.clone(),
                    at,
                ));
            }
            GenSequence { steps: out }
        })
}

/// One step of a capacity sequence: a PUT to one of its URLs, without unsafe headers.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityStep {
    /// Which of the sequence's URLs.
    pub url: usize,
    /// Credentials mode `include` (otherwise `omit`).
    pub credentials: bool,
    /// The preflight's `Access-Control-Max-Age`.
    pub max_age: u32,
    /// Seconds since the first step.
    pub at: f64,
}

/// A generated capacity sequence (D31): PUTs to about as many distinct URLs as a browser's
/// preflight cache holds, or more, then the same URLs again.
#[derive(Debug, Clone, PartialEq)]
pub struct GenCapacity {
    /// The steps.
    pub steps: Vec<CapacityStep>,
    /// URLs padded to this many characters, near Chromium's 1024-character limit (D7):
    /// (URL, length).
    pub long_urls: Vec<(usize, usize)>,
}

/// Seconds between a block of short-lived entries (max-age 2) and the steps after it, so that
/// the block has expired when the table fills; counted from when the block should have ended
/// at [`STEP_SECONDS`] a step.
const EXPIRY_PAUSE: f64 = 3.0;

/// A generous estimate of how long a browser takes for one step of a capacity sequence (a
/// preflight and a request; about 5 ms in Chromium and 12 ms in Firefox on two loaded cores).
const STEP_SECONDS: f64 = 0.03;

/// Capacity sequences for a cache of `capacity` (D31): a first pass over `n` distinct URLs,
/// `n` around the capacity or beyond it (least recently used: up to twice), some of them in
/// both credentials modes, with a block of entries that expire (max-age 2 then a pause, or 0
/// for a table that counts expired entries) and, for a random purge, URLs of 1018 to 1030
/// characters; then every URL again, in order, reversed or shuffled, after 0 or 2 s.
pub fn capacity_sequence(capacity: Capacity) -> BoxedStrategy<GenCapacity> {
    let CapacityShape {
        n,
        block_max_age,
        purges,
    } = capacity_shape(capacity);
    n.prop_flat_map(move |n| {
        (
            Just(n),
            prop::bool::ANY,
            select(vec![0, 0, n / 4, n / 2]),
            // Short enough (under 0.5 s at the estimated pace) that no step of the block
            // comes near the expiry of an earlier one.
            prop::option::weighted(0.3, (0..n, 5usize..16)),
            if purges {
                prop::collection::vec((0..n, 1018usize..=1030), 0..=3).boxed()
            } else {
                Just(Vec::new()).boxed()
            },
            0u8..3,
            any::<u64>(),
            prop::bool::ANY,
        )
    })
    .prop_map(
        move |(n, include, both, block, long_urls, order, shuffle, pause)| {
            CapacityDraw {
                n,
                include,
                both,
                block: block.map(|(start, len)| (start, (start + len).min(n))),
                order,
                shuffle,
                pause,
            }
            .sequence(block_max_age, long_urls)
        },
    )
    .boxed()
}

/// What a cache of some capacity calls for in a capacity sequence.
struct CapacityShape {
    /// The distinct URLs of the first pass.
    n: BoxedStrategy<usize>,
    /// The max-age of the block of entries that expire.
    block_max_age: u32,
    /// Whether the cache purges at random (then some URLs are long, D7).
    purges: bool,
}

fn capacity_shape(capacity: Capacity) -> CapacityShape {
    let (n, block_max_age, purges) = match capacity {
        Capacity::Unbounded => ((50usize..150).boxed(), 2u32, false),
        Capacity::LeastRecentlyUsed { entries, .. } => (
            prop_oneof![
                2 => entries.saturating_sub(3)..=entries,
                2 => entries + 1..=entries + 3,
                1 => Just(entries * 3 / 2),
                1 => Just(entries * 2),
            ]
            .boxed(),
            2,
            false,
        ),
        Capacity::RandomPurge { entries, purge } => (
            prop_oneof![
                1 => entries.saturating_sub(2)..=entries,
                1 => entries + 1..=entries + purge + 3,
            ]
            .boxed(),
            0,
            true,
        ),
    };
    CapacityShape {
        n,
        block_max_age,
        purges,
    }
}

/// The values drawn for one capacity sequence.
struct CapacityDraw {
    /// Distinct URLs.
    n: usize,
    /// Credentials mode `include` for every URL's first request.
    include: bool,
    /// URLs `0..both` are requested in both credentials modes.
    both: usize,
    /// URLs `start..end` of the first pass get entries that expire.
    block: Option<(usize, usize)>,
    /// The second pass: in order (0), reversed (1) or shuffled.
    order: u8,
    /// The shuffle's seed.
    shuffle: u64,
    /// Whether the second pass comes 2 s later.
    pause: bool,
}

impl CapacityDraw {
    /// The first pass, then (0 or 2 s later) every URL again in the drawn order, with
    /// entries of 600 s.
    fn sequence(&self, block_max_age: u32, long_urls: Vec<(usize, usize)>) -> GenCapacity {
        let mut steps = Vec::new();
        let at = self.first_pass(block_max_age, &mut steps) + if self.pause { 2.0 } else { 0.0 };
        for i in self.second_pass_order() {
            self.visit(&mut steps, i, 600, at);
        }
        GenCapacity { steps, long_urls }
    }

    /// Every URL once (twice for the first `both`), the block's with `block_max_age`; the
    /// time the first pass ends at.
    fn first_pass(&self, block_max_age: u32, steps: &mut Vec<CapacityStep>) -> f64 {
        let mut at = 0.0;
        for i in 0..self.n {
            let in_block = self.block.is_some_and(|(a, b)| (a..b).contains(&i));
            let max_age = if in_block { block_max_age } else { 600 };
            self.visit(steps, i, max_age, at);
            if block_max_age > 0 && self.block.is_some_and(|(_, b)| i + 1 == b) {
                at = steps.len() as f64 * STEP_SECONDS + EXPIRY_PAUSE;
            }
        }
        at
    }

    /// URL `i` in the drawn credentials mode, and in the other one if `i < both`.
    fn visit(&self, steps: &mut Vec<CapacityStep>, i: usize, max_age: u32, at: f64) {
        steps.push(CapacityStep {
            url: i,
            credentials: self.include,
            max_age,
            at,
        });
        if i < self.both {
            steps.push(CapacityStep {
                url: i,
                credentials: !self.include,
                max_age,
                at,
            });
        }
    }

    /// The URLs of the second pass: in order, reversed or shuffled.
    fn second_pass_order(&self) -> Vec<usize> {
        let mut urls: Vec<usize> = (0..self.n).collect();
        match self.order {
            0 => {}
            1 => urls.reverse(),
            _ => {
                // Fisher-Yates with a 64-bit linear congruential generator.
                let mut x = self.shuffle | 1;
                for i in (1..urls.len()).rev() {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    urls.swap(i, ((x >> 33) % (i as u64 + 1)) as usize);
                }
            }
        }
        urls
    }
}

/// The origins a run has: the page's, the target's, another scripted one.
///
/// Each scripted server is reachable under two hosts: the IP address `127.0.0.1` and the
/// host name `localhost`. Cache sequences and vectors with host names use `localhost`; every
/// fourth sequence and the vectors with IP-address hosts use `127.0.0.1`. Firefox misses the
/// first one or two cache lookups of a session for IP-address hosts (D27), so its sessions
/// start with a warm-up job ([`ip_warm_up`]).
#[derive(Debug, Clone)]
pub struct Origins {
    /// `http://127.0.0.1:PA`.
    pub page: String,
    /// The target's and the other scripted origins' (`http://127.0.0.1:P`).
    pub scripted: Vec<String>,
    /// The same servers under the host name: `http://localhost:P`, in the same order.
    pub named: Vec<String>,
}

/// Whether a browser's sessions need a warm-up on an IP-address host before its preflight
/// cache answers for such hosts as for host names: Firefox's (D27).
///
/// ```
/// assert!(!corsproof_browser::generate::ip_warm_up("chromium"));
/// assert!(corsproof_browser::generate::ip_warm_up("firefox"));
/// ```
pub fn ip_warm_up(browser: &str) -> bool {
    browser == "firefox"
}

/// The warm-up job of a session (D27): one URL on the target server's IP address, requested
/// `steps` times in a row with a preflight granting 600 s, so that the misses Firefox makes
/// for IP-address hosts at the start of a session fall here. Not compared with the oracle:
/// the run counts how many of its lookups missed.
///
/// ```
/// use corsproof_browser::generate::{warm_up, Origins};
/// let o = Origins::new("http://127.0.0.1:1".into(), vec!["http://127.0.0.1:2".into()]);
/// let r = warm_up("w0", "firefox", &o, 6);
/// assert_eq!(r.steps.len(), 6);
/// assert!(r.steps[0].request.url.starts_with("http://127.0.0.1:2/"));
/// ```
pub fn warm_up(key: &str, browser: &str, o: &Origins, steps: usize) -> Replay {
    let again = CapacityStep {
        url: 0,
        credentials: false,
        max_age: 600,
        at: 0.0,
    };
    GenCapacity {
        steps: vec![again; steps],
        long_urls: Vec::new(),
    }
    .render(format!("warm-up {key}"), key, browser, o, true)
}

impl Origins {
    /// The origins of a run whose scripted servers are `scripted` (`http://127.0.0.1:P`).
    pub fn new(page: String, scripted: Vec<String>) -> Origins {
        let named = scripted
            .iter()
            .map(|o| o.replacen("://127.0.0.1:", "://localhost:", 1))
            .collect();
        Origins {
            page,
            scripted,
            named,
        }
    }

    /// The scripted origin `which` under the host name (`localhost`) or the IP address.
    pub fn scripted_as(&self, which: usize, ip_host: bool) -> Option<&str> {
        let list = if ip_host { &self.scripted } else { &self.named };
        list.get(which).map(String::as_str)
    }

    fn hop_origin(&self, which: usize) -> &str {
        match which {
            0 => self.scripted.first(),
            1 => self.scripted.get(1),
            _ => None,
        }
        .map_or(self.page.as_str(), String::as_str)
    }
}

fn render(a: &GenAnswer, o: &Origins, next_url: &str) -> RawAnswer {
    let userinfo = next_url.replacen("http://", "http://u:p@", 1);
    let headers = a
        .headers
        .iter()
        .map(|(n, v)| {
            let v = v
                .replace("%LU", &userinfo)
                .replace("%L", next_url)
                .replace("%OU", &o.page.to_ascii_uppercase())
                .replace("%O", &o.page)
                .replace("%X", "http://127.0.0.1:9");
            (n.clone(), v)
        })
        .collect();
    RawAnswer::new(a.status, headers)
}

impl GenCase {
    /// The replay of this case for a run's origins.
    pub fn render(&self, label: String, key: &str, browser: &str, o: &Origins) -> Replay {
        let url = |i: usize| -> String {
            let origin = self
                .hops
                .get(i)
                .map_or(o.page.as_str(), |h| o.hop_origin(h.origin));
            format!("{origin}/c/{key}/0/{i}")
        };
        let hops = self
            .hops
            .iter()
            .enumerate()
            .map(|(i, h)| HopScript {
                preflight: Some(render(
                    &h.preflight,
                    o,
                    &format!("{}/elsewhere", o.hop_origin(h.origin)),
                )),
                response: Some(render(&h.response, o, &url(i + 1))),
            })
            .collect();
        let mut request = self.request.clone();
        request.url = url(0);
        request.origin = o.page.clone();
        Replay::new(
            label,
            key.to_string(),
            browser,
            vec![WireStep {
                request,
                hops,
                at_seconds: 0.0,
            }],
        )
    }
}

impl GenCapacity {
    /// The replay of this sequence for a run's origins: URL `i` is `/c/KEY/i/0` on the target
    /// server under its IP address (`ip_host`) or its host name, padded to its length when
    /// it is one of the long URLs.
    pub fn render(
        &self,
        label: String,
        key: &str,
        browser: &str,
        o: &Origins,
        ip_host: bool,
    ) -> Replay {
        let target = o.scripted_as(0, ip_host).unwrap_or(o.page.as_str());
        let url = |i: usize| {
            let base = format!("{target}/c/{key}/{i}/0");
            match self.long_urls.iter().find(|(u, _)| *u == i) {
                Some(&(_, len)) if len > base.len() + 1 => {
                    format!("{base}/{}", "a".repeat(len - base.len() - 1))
                }
                _ => base,
            }
        };
        let steps = self
            .steps
            .iter()
            .map(|st| {
                let acao = if st.credentials {
                    o.page.clone()
                } else {
                    s("*")
                };
                let mut preflight = vec![
                    (s("Access-Control-Allow-Origin"), acao.clone()),
                    (s("Access-Control-Allow-Methods"), s("PUT")),
                    (s("Access-Control-Max-Age"), st.max_age.to_string()),
                ];
                let mut response = vec![(s("Access-Control-Allow-Origin"), acao)];
                if st.credentials {
                    preflight.push((s("Access-Control-Allow-Credentials"), s("true")));
                    response.push((s("Access-Control-Allow-Credentials"), s("true")));
                }
                WireStep {
                    request: RequestJson {
                        url: url(st.url),
                        origin: o.page.clone(),
                        method: s("PUT"),
                        headers: Vec::new(),
                        credentials: Some(if st.credentials {
                            CredentialsJson::Include
                        } else {
                            CredentialsJson::Omit
                        }),
                        mode: Some(ModeJson::Cors),
                        body: None,
                        use_cors_preflight: false,
                        redirect: None,
                        private_network: false,
                    },
                    hops: vec![HopScript {
                        preflight: Some(RawAnswer::new(204, preflight)),
                        response: Some(RawAnswer::new(200, response)),
                    }],
                    at_seconds: st.at,
                }
            })
            .collect();
        Replay::new(label, key.to_string(), browser, steps)
    }
}

impl GenSequence {
    /// The replay of this sequence for a run's origins: every step at one URL, on the target
    /// server under its IP address (`ip_host`) or its host name.
    pub fn render(
        &self,
        label: String,
        key: &str,
        browser: &str,
        o: &Origins,
        ip_host: bool,
    ) -> Replay {
        let target = o.scripted_as(0, ip_host).unwrap_or(o.page.as_str());
        let url = format!("{target}/c/{key}/0/0");
        let steps = self
            .steps
            .iter()
            .map(|(req, pf, resp, at)| {
                let mut request = req.clone();
                request.url = url.clone();
                request.origin = o.page.clone();
                WireStep {
                    request,
                    hops: vec![HopScript {
                        preflight: Some(render(pf, o, &url)),
                        response: Some(render(resp, o, &url)),
                    }],
                    at_seconds: *at,
                }
            })
            .collect();
        Replay::new(label, key.to_string(), browser, steps)
    }
}

/// A deterministic runner for a seed (ChaCha keyed by the seed).
pub fn runner(seed: u64) -> TestRunner {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    )
}

/// `n` values of a strategy from a runner (a value whose generation fails is skipped; these
/// strategies have no filters, so none does).
pub fn sample<S: Strategy>(strategy: S, runner: &mut TestRunner, n: usize) -> Vec<S::Value> {
    (0..n)
        .filter_map(|_| strategy.new_tree(runner).ok().map(|t| t.current()))
        .collect()
}
