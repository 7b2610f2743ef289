//! Differential on the preflight's lists: the middleware's decision on a preflight with
//! arbitrary `Access-Control-Request-Headers` lines and an `Access-Control-Request-Method`
//! (its own bounded ACRH parser, crates/tower/src/acrh.rs, and its method match) against the
//! oracle's preflight validation (crates/oracle/src/preflight.rs, its own list parsing of
//! `Access-Control-Allow-Methods` and `-Headers`) of a request whose method is the ACRM and
//! whose unsafe names are the ACRH elements, answered by a server that lists the policy's
//! allowed methods and names. The middleware must never panic on any lines; the two must
//! agree on every well-formed preflight: exactly one ACRM, and ACRH elements that are tokens
//! (around optional whitespace, empty elements allowed, as the middleware tolerates them)
//! within the middleware's caps. Browsers never send anything else, so the oracle has no
//! opinion on malformed preflights, which the middleware must refuse. When the middleware
//! passes a preflight, the oracle must pass its actual answer (its own ACAM and ACAH) too.
//!
//! Input: byte 0 the allowed header names (bit i: `NAMES[i]`), byte 1 the policy's methods
//! (bit i: `POLICY_METHODS[i]`), byte 2 the ACRM (`ACRM`), byte 3 the form of the rest:
//! even: the ACRH lines as text, separated by `\n` (the seeds: real ACRH values); odd: the
//! lines read with `arbitrary` (dictionary names in mixed case with separators, or bytes).
#![no_main]

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use arbitrary::{Arbitrary, Unstructured};
use corsproof_fuzz::{is_token, send, to_oracle, Inner};
// Allowed names (bit i of byte 0) and ACRH element names; the policy's methods (bit i of byte
// 1), valid, non-forbidden tokens.
use corsproof_oracle::headers::UnsafeNames;
use corsproof_oracle::preflight::{validate, ActualRequest};
use corsproof_oracle::{CredentialsMode, Profile, Response};
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};
use corsproof_testkit::headers::{FUZZ_ACRH_NAMES as NAMES, LIST_SEPARATORS as SEPARATORS};
use corsproof_testkit::methods::FUZZ_LISTED_TOKENS as POLICY_METHODS;
use corsproof_tower::{Cors, CorsLayer, MAX_ACRH_BYTES, MAX_ACRH_ELEMENTS};
use http::header::{
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN as ORIGIN_HEADER,
};
use http::{HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use tower_layer::Layer;

const ORIGIN: &str = "https://app.test";

/// The preflight's target, parsed once.
static PREFLIGHT_URI: LazyLock<Uri> = LazyLock::new(|| Uri::from_static("/items"));

/// The oracle's profile for the comparison, built once.
static FETCH_PROFILE: LazyLock<Profile> = LazyLock::new(Profile::fetch);

/// The ACRM of the preflight: safelisted methods (always allowed), listed ones in other case,
/// never-listed ones; `None` sends no ACRM (not a preflight: an `OPTIONS` request the inner
/// service answers), `Some(None)` two ACRM lines (refused).
const ACRM: [Option<Option<&str>>; 14] = [
    Some(Some("PUT")),
    Some(Some("DELETE")),
    Some(Some("PATCH")),
    Some(Some("patch")),
    Some(Some("put")),
    Some(Some("PURGE")),
    Some(Some("GET")),
    Some(Some("HEAD")),
    Some(Some("POST")),
    Some(Some("X-Custom")),
    Some(Some("x-custom")),
    Some(Some("MOVE")),
    None,
    Some(None),
];

#[derive(Arbitrary, Debug)]
enum Element {
    /// A dictionary name, its letters' case flipped by the bits.
    Known(u8, u8),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Line {
    List(Vec<(Element, u8)>),
    Raw(Vec<u8>),
}

impl Line {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Line::Raw(b) => b.clone(),
            Line::List(elements) => {
                let mut out = Vec::new();
                for (i, (e, sep)) in elements.iter().enumerate() {
                    if i > 0 {
                        out.extend_from_slice(
                            SEPARATORS[usize::from(*sep) % SEPARATORS.len()].as_bytes(),
                        );
                    }
                    match e {
                        Element::Known(n, case) => {
                            let name = NAMES[usize::from(*n) % NAMES.len()].as_bytes();
                            out.extend(name.iter().enumerate().map(|(j, &b)| {
                                if case & (1 << (j % 8)) != 0 {
                                    b.to_ascii_uppercase()
                                } else {
                                    b
                                }
                            }));
                        }
                        Element::Raw(b) => out.extend_from_slice(b),
                    }
                }
                out
            }
        }
    }
}

/// The elements of well-formed ACRH lines (within the middleware's caps, every element a
/// token or empty), `None` otherwise.
fn well_formed<'a>(lines: &[&'a [u8]]) -> Option<Vec<&'a [u8]>> {
    if lines.len() > MAX_ACRH_ELEMENTS
        || lines.iter().map(|l| l.len()).sum::<usize>() > MAX_ACRH_BYTES
    {
        return None;
    }
    let mut names = Vec::new();
    for line in lines {
        for element in line.split(|&b| b == b',') {
            let name = trim_ows(element);
            if name.is_empty() {
                continue;
            }
            if !is_token(name) {
                return None;
            }
            names.push(name);
        }
    }
    (names.len() <= MAX_ACRH_ELEMENTS).then_some(names)
}

/// Optional whitespace (SP, HTAB) trimmed from both ends.
fn trim_ows(element: &[u8]) -> &[u8] {
    let mut s = element;
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// One policy (a route of `ORIGIN` with some methods and request headers): its middleware
/// and the reference answer of a server listing exactly what it allows.
struct Setup {
    svc: Cors<Inner>,
    allowed: Vec<&'static str>,
    methods: Vec<&'static str>,
    reference: Response,
}

/// The names or methods of `pool` whose bit is set in `bits`.
fn subset(pool: &[&'static str], bits: u8) -> Vec<&'static str> {
    pool.iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, s)| *s)
        .collect()
}

fn setup(names: u8, methods: u8) -> Setup {
    let allowed = subset(&NAMES, names);
    let any = allowed.contains(&"*");
    let methods = subset(&POLICY_METHODS, methods);
    let mut route = Route::same_origin_only("/");
    route.origins = Origins::List(vec![ORIGIN.parse::<OriginEntry>().expect("origin entry")]);
    route.methods = methods.iter().map(|m| m.to_string()).collect();
    route.request_headers = if any {
        HeaderNames::Any
    } else {
        HeaderNames::List(allowed.iter().map(|n| n.to_string()).collect())
    };
    let policy = Policy {
        version: 1,
        routes: vec![route],
    };
    let svc = CorsLayer::from_policy(&policy)
        .expect("valid policy")
        .layer(Inner {
            status: 200,
            vary: None,
        });
    let mut reference = vec![("Access-Control-Allow-Origin", ORIGIN.to_string())];
    if !methods.is_empty() {
        reference.push(("Access-Control-Allow-Methods", methods.join(", ")));
    }
    if any {
        reference.push(("Access-Control-Allow-Headers", "*".to_string()));
    } else if !allowed.is_empty() {
        reference.push(("Access-Control-Allow-Headers", allowed.join(", ")));
    }
    Setup {
        svc,
        allowed,
        methods,
        reference: Response::new(204, reference),
    }
}

/// Every policy, compiled once (building a layer validates the policy, which costs more than
/// the rest of an execution): 256 × 256 choices, each built on first use.
static SETUPS: LazyLock<Vec<OnceLock<Setup>>> =
    LazyLock::new(|| (0..=u16::MAX).map(|_| OnceLock::new()).collect());

fuzz_target!(|data: &[u8]| {
    let [names, methods, acrm, form, rest @ ..] = data else {
        return;
    };
    let lines: Vec<Cow<[u8]>> = if form % 2 == 0 {
        rest.split(|&b| b == b'\n').map(Cow::Borrowed).collect()
    } else {
        match Vec::<Line>::arbitrary_take_rest(Unstructured::new(rest)) {
            Ok(lines) => lines.iter().map(|l| Cow::Owned(l.bytes())).collect(),
            Err(_) => return,
        }
    };
    let setup = SETUPS[usize::from(u16::from_le_bytes([*names, *methods]))]
        .get_or_init(|| setup(*names, *methods));
    let acrm = ACRM[usize::from(*acrm) % ACRM.len()];

    // The middleware, on whatever lines `http` accepts as values. The request is put together
    // from parts parsed once (URI, header names): the same request as the builder makes,
    // without running `http`'s parsers on constants at every execution.
    let mut req = http::Request::new(());
    *req.method_mut() = Method::OPTIONS;
    *req.uri_mut() = PREFLIGHT_URI.clone();
    let headers = req.headers_mut();
    headers.append(ORIGIN_HEADER, HeaderValue::from_static(ORIGIN));
    match acrm {
        None => {}
        Some(Some(method)) => {
            headers.append(
                ACCESS_CONTROL_REQUEST_METHOD,
                HeaderValue::from_static(method),
            );
        }
        Some(None) => {
            for method in ["PUT", "PUT"] {
                headers.append(
                    ACCESS_CONTROL_REQUEST_METHOD,
                    HeaderValue::from_static(method),
                );
            }
        }
    }
    let mut sent: Vec<&[u8]> = Vec::new();
    for line in lines.iter().take(MAX_ACRH_ELEMENTS + 4) {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(ACCESS_CONTROL_REQUEST_HEADERS, value);
            sent.push(line);
        }
    }
    let res = send(&setup.svc, req);
    if acrm.is_none() {
        // Not a preflight: an `OPTIONS` request that the inner service answers.
        assert_eq!(res.status(), http::StatusCode::OK, "OPTIONS without ACRM");
        return;
    }
    let passed = res.status() == http::StatusCode::NO_CONTENT;
    assert!(
        passed || res.status() == corsproof_tower::REFUSED_PREFLIGHT_STATUS,
        "unexpected preflight status {}",
        res.status()
    );

    let (Some(Some(method)), Some(names)) = (acrm, well_formed(&sent)) else {
        assert!(
            !passed,
            "the middleware passed a malformed or over-cap preflight: ACRM {acrm:?}, ACRH {sent:?}"
        );
        return;
    };

    // The oracle: a request with the ACRM as method and the elements as unsafe names (a value
    // with a CORS-unsafe byte keeps every name unsafe), answered by the reference server.
    let profile = &*FETCH_PROFILE;
    let headers: Vec<(Vec<u8>, Vec<u8>)> =
        names.iter().map(|n| (n.to_vec(), b"\"".to_vec())).collect();
    let unsafe_names = UnsafeNames::of(&headers, profile);
    let actual = ActualRequest {
        serialized_origin: ORIGIN,
        cors_check: true,
        method,
        credentials: CredentialsMode::Omit,
        unsafe_names: &unsafe_names,
        has_authorization: names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(b"authorization")),
        use_cors_preflight: false,
        private_network: false,
        private_network_only: false,
    };
    let oracle_allows = validate(&actual, &setup.reference, profile).is_ok();
    assert_eq!(
        passed,
        oracle_allows,
        "middleware passed={passed}, oracle allows={oracle_allows}: allowed names {:?}, methods {:?}, ACRM {method:?}, ACRH {:?}",
        setup.allowed,
        setup.methods,
        sent.iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect::<Vec<_>>()
    );
    if passed {
        let answer = to_oracle(&res);
        let verdict = validate(&actual, &answer, profile).map(|_| ());
        if let Err(reason) = verdict {
            panic!("the middleware passed a preflight the oracle fails: {reason:?}\n{answer:?}");
        }
    }
});
