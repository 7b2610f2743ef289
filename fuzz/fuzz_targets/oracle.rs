//! The oracle on arbitrary requests and server answers: it never panics, every fetch ends,
//! and its invariants hold: not sent ⇒ not readable (http(s) URLs), a failed preflight ⇒ not
//! sent, `Set-Cookie` is never visible, nothing is visible of an unreadable response, and
//! `Access-Control-Allow-Origin: *` never grants a credentialed CORS read
//! (`corsproof_fuzz::oracle::check`).
//!
//! Input, read with `arbitrary`: a request (origin pool incl. `null`, URL pool incl.
//! non-HTTP, methods, headers, modes, body, PNA), one preflight answer for every hop, up to
//! four responses then a fallback, and a profile. The `explain` (JSON) form of the same
//! checks, plus the agreement with `case::explain`, is the `oracle_json` target: kept apart
//! so that this one does not link and run the JSON parser (libFuzzer's cost per execution
//! grows with the instrumented code).
#![no_main]

use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use corsproof_fuzz::oracle::{check, fetch, Answers};
use corsproof_fuzz::{credentials, mode};
use corsproof_oracle::{
    Body, Origin, PreflightCache, Profile, RedirectMode, Request, RequestInit, Response,
};
use corsproof_testkit::headers::{FUZZ_NAMES as HEADER_NAMES, FUZZ_VALUES as REQUEST_VALUES};
use corsproof_testkit::methods::FUZZ_SCRIPT as METHODS;
use corsproof_testkit::origins::TEST_SITE_PAGES as ORIGINS;
use corsproof_testkit::responses::{FUZZ_NAMES as RESPONSE_NAMES, FUZZ_VALUES as RESPONSE_VALUES};
use corsproof_testkit::routes::FUZZ_URLS as URLS;
use libfuzzer_sys::fuzz_target;
use url::Url;

/// The constant pools, parsed once: URL parsing is a large share of an execution otherwise.
struct Pools {
    /// Each URL of `URLS`, and whether it is http(s).
    urls: Vec<(Url, bool)>,
    origins: Vec<Origin>,
    profiles: [Profile; 3],
    /// The answer to requests past the input's responses.
    fallback: Response,
}

static POOLS: LazyLock<Pools> = LazyLock::new(|| Pools {
    urls: URLS
        .iter()
        .map(|u| {
            let url = Url::parse(u).expect("pool URL");
            let http = matches!(url.scheme(), "http" | "https");
            (url, http)
        })
        .collect(),
    origins: ORIGINS
        .iter()
        .map(|o| Origin::parse_serialized(o).expect("pool origin"))
        .collect(),
    profiles: [Profile::fetch(), Profile::chromium(), Profile::firefox()],
    fallback: Response::new(200, [("Access-Control-Allow-Origin", "*")]),
});

/// An element of a pool by index.
fn pick<T>(pool: &[T], i: u8) -> &T {
    &pool[usize::from(i) % pool.len()]
}

#[derive(Arbitrary, Debug)]
enum Value {
    Known(u8),
    Bytes(Vec<u8>),
}

impl Value {
    fn bytes<'a>(&'a self, pool: &[&'static str]) -> &'a [u8] {
        match self {
            Value::Known(i) => pick(pool, *i).as_bytes(),
            Value::Bytes(b) => b,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Token(String),
}

#[derive(Arbitrary, Debug)]
struct FuzzResponse {
    status: u16,
    headers: Vec<(u8, Value)>,
}

impl FuzzResponse {
    fn to_response(&self) -> Response {
        Response::new(
            100 + self.status % 900,
            self.headers.iter().take(16).map(|(n, v)| {
                (
                    pick(&RESPONSE_NAMES, *n).as_bytes(),
                    v.bytes(&RESPONSE_VALUES),
                )
            }),
        )
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    origin: u8,
    url: u8,
    method: Name,
    headers: Vec<(Name, Value)>,
    credentials: u8,
    mode: u8,
    manual_redirect: u8,
    body: u8,
    use_cors_preflight: bool,
    target_more_private: bool,
    profile: u8,
    preflight: FuzzResponse,
    responses: Vec<FuzzResponse>,
}

/// The arbitrary form.
fn arbitrary_input(input: &Input) {
    let pools = &*POOLS;
    let profile = pick(&pools.profiles, input.profile);
    let (url, http_url) = pick(&pools.urls, input.url);
    let mut init = RequestInit::new(url.clone(), pick(&pools.origins, input.origin).clone());
    init.method = match &input.method {
        Name::Known(i) => pick(&METHODS, *i).to_string(),
        Name::Token(s) => s.clone(),
    };
    init.headers = input
        .headers
        .iter()
        .take(12)
        .map(|(n, v)| {
            let name = match n {
                Name::Known(i) => pick(&HEADER_NAMES, *i).as_bytes(),
                Name::Token(s) => s.as_bytes(),
            };
            (name.to_vec(), v.bytes(&REQUEST_VALUES).to_vec())
        })
        .collect();
    init.credentials = credentials(input.credentials);
    init.mode = mode(input.mode);
    init.redirect = match input.manual_redirect % 4 {
        0 => RedirectMode::Manual,
        1 => RedirectMode::Error,
        _ => RedirectMode::Follow,
    };
    init.body = match input.body % 7 {
        0 => Some(Body::Text),
        1 => Some(Body::UrlSearchParams),
        2 => Some(Body::FormData),
        3 => Some(Body::Blob("application/json".into())),
        4 => Some(Body::Stream),
        _ => None,
    };
    init.use_cors_preflight = input.use_cors_preflight;
    init.target_more_private = input.target_more_private;
    let Ok(request) = Request::construct(init, profile) else {
        return;
    };

    let preflight = input.preflight.to_response();
    let responses: Vec<Response> = input
        .responses
        .iter()
        .take(4)
        .map(FuzzResponse::to_response)
        .collect();
    let answers = Answers {
        hops: responses
            .iter()
            .map(|r| (Some(&preflight), Some(r)))
            .collect(),
        rest: (Some(&preflight), Some(&pools.fallback)),
    };
    let mut cache = PreflightCache::default();
    let ran = fetch(&request, profile, &answers, &mut cache, 0.0);
    let (fetch, last) = ran.expect("every hop is answered");
    check(&request, *http_url, &fetch, last);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) {
        arbitrary_input(&input);
    }
});
