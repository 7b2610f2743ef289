//! The middleware against its policy, judged by the oracle: for an arbitrary valid policy
//! (built from choices over a fixed vocabulary) and an arbitrary browser request, the
//! oracle plays the browser against the middleware in-process (a preflight if it asks for
//! one, then the actual request, fresh preflight cache) and what it lets happen is exactly
//! what the policy intends (`intent(..).judge(..)` is empty). The driver is the one of
//! crates/tower/tests/common/conformance_driver.rs, without a runtime: the middleware's
//! futures are ready on first poll.
#![no_main]

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::LazyLock;

use arbitrary::{Arbitrary, Unstructured};
use corsproof_fuzz::{credentials, mode, send, to_oracle, Inner};
use corsproof_oracle::fetch::OriginHeader;
use corsproof_oracle::intent::intent;
use corsproof_oracle::{
    Fetch, Next, Origin, PreflightCache, Profile, Request, RequestInit, Response,
};
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};
use corsproof_testkit::headers::{FUZZ_LISTED as POLICY_HEADERS, FUZZ_PAIRS as REQUEST_HEADERS};
use corsproof_testkit::methods::{FUZZ_LISTED as POLICY_METHODS, FUZZ_SCRIPT as METHODS};
use corsproof_testkit::origins::{
    TEST_SITE_ENTRIES as POLICY_ORIGINS, TEST_SITE_REQUESTS as REQUEST_ORIGINS,
    TEST_SITE_TARGET as TARGET,
};
use corsproof_testkit::responses;
use corsproof_testkit::routes::{
    FUZZ_MAX_AGES as MAX_AGES, FUZZ_PREFIXES as PATHS, FUZZ_REQUESTS as REQUEST_PATHS,
};
use corsproof_tower::CorsLayer;
use http::header::{
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, COOKIE, ORIGIN as ORIGIN_HEADER,
};
use http::{HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use tower_layer::Layer;

/// The inner service's `Vary` (picked by index): none, `Accept-Encoding`, `origin`, `*`.
const VARY: [Option<&str>; 4] = [
    None,
    Some(responses::VARY[0]),
    Some(responses::VARY[1]),
    Some(responses::VARY[3]),
];

/// One route's choices.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GenRoute {
    path: u8,
    any_origin: bool,
    origins: u8,
    methods: u8,
    any_request_headers: bool,
    request_headers: u8,
    any_expose: bool,
    expose: u8,
    credentials: bool,
    max_age: u8,
    private_network: bool,
    allow_risky: bool,
}

/// The names in `pool` whose bit is set in `bits`.
fn pick(pool: &[&str], bits: u8) -> Vec<String> {
    pool.iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, s)| s.to_string())
        .collect()
}

impl GenRoute {
    /// The choices packed in five bytes (every bit pattern is a route; bits 6 and 7 of the
    /// last two bytes are unused).
    fn unpack(b: [u8; 5]) -> GenRoute {
        GenRoute {
            path: b[0] & 0b11,
            any_origin: b[0] & 0x04 != 0,
            credentials: b[0] & 0x08 != 0,
            private_network: b[0] & 0x10 != 0,
            allow_risky: b[0] & 0x20 != 0,
            any_request_headers: b[0] & 0x40 != 0,
            any_expose: b[0] & 0x80 != 0,
            origins: b[1] & 0x3f,
            methods: b[2] & 0x3f,
            max_age: (b[1] >> 6) | ((b[2] >> 6) << 2),
            request_headers: b[3] & 0x3f,
            expose: b[4] & 0x3f,
        }
    }

    /// The choices with what `route` ignores cleared, so that choices of the same route
    /// share one compiled policy.
    fn canonical(&self) -> GenRoute {
        let bits = |b: u8, pool: usize| b & ((1u16 << pool) - 1) as u8;
        GenRoute {
            path: self.path % PATHS.len() as u8,
            any_origin: self.any_origin,
            origins: if self.any_origin {
                0
            } else {
                bits(self.origins, POLICY_ORIGINS.len())
            },
            methods: bits(self.methods, POLICY_METHODS.len()),
            any_request_headers: self.any_request_headers,
            request_headers: if self.any_request_headers {
                0
            } else {
                bits(self.request_headers, POLICY_HEADERS.len())
            },
            any_expose: self.any_expose,
            expose: if self.any_expose {
                0
            } else {
                bits(self.expose, POLICY_HEADERS.len())
            },
            credentials: self.credentials,
            max_age: self.max_age % MAX_AGES.len() as u8,
            private_network: self.private_network,
            allow_risky: self.allow_risky,
        }
    }

    fn route(&self) -> Route {
        let mut r = Route::same_origin_only(PATHS[self.path as usize % PATHS.len()]);
        r.origins = if self.any_origin {
            Origins::Any
        } else {
            Origins::List(
                pick(&POLICY_ORIGINS, self.origins)
                    .iter()
                    .map(|s| s.parse::<OriginEntry>().expect("pool origin entry"))
                    .collect(),
            )
        };
        r.methods = pick(&POLICY_METHODS, self.methods);
        r.request_headers = if self.any_request_headers {
            HeaderNames::Any
        } else {
            HeaderNames::List(pick(&POLICY_HEADERS, self.request_headers))
        };
        r.expose_headers = if self.any_expose {
            HeaderNames::Any
        } else {
            HeaderNames::List(pick(&POLICY_HEADERS, self.expose))
        };
        r.credentials = self.credentials;
        r.max_age = MAX_AGES[self.max_age as usize % MAX_AGES.len()];
        r.private_network = self.private_network;
        r.allow_risky = self.allow_risky;
        r
    }
}

/// The input's first 26 bytes (the rest: request headers). The policy comes first, at fixed
/// offsets and packed: a mutation of the request (most of them, or one that changes the
/// input's length) leaves the policy, and so its compiled middleware in `COMPILED`, alone.
#[derive(Arbitrary, Debug)]
struct Input {
    /// The number of routes (byte % 4), then three routes (`GenRoute::unpack`), of which the
    /// first ones are used.
    route_count: u8,
    routes: [[u8; 5]; 3],
    origin: u8,
    path: u8,
    method: u8,
    credentials: u8,
    mode: u8,
    use_cors_preflight: bool,
    target_more_private: bool,
    profile: u8,
    inner_error: bool,
    vary: u8,
}

/// The request pools, parsed once (URL parsing is a large share of an execution otherwise).
struct Pools {
    /// `TARGET` with each of `REQUEST_PATHS`.
    urls: Vec<url::Url>,
    origins: Vec<Origin>,
    profiles: [Profile; 3],
}

/// The PNA request header's name, parsed once (the others are `http`'s constants: the
/// requests are put together without running `http`'s name parser on constants).
static ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK: LazyLock<HeaderName> =
    LazyLock::new(|| HeaderName::from_static("access-control-request-private-network"));

static POOLS: LazyLock<Pools> = LazyLock::new(|| Pools {
    urls: REQUEST_PATHS
        .iter()
        .map(|p| url::Url::parse(&format!("{TARGET}{p}")).expect("pool URL"))
        .collect(),
    origins: REQUEST_ORIGINS
        .iter()
        .map(|o| Origin::parse_serialized(o).expect("pool origin"))
        .collect(),
    profiles: [Profile::fetch(), Profile::chromium(), Profile::firefox()],
});

/// A policy and its middleware.
type Compiled = (Rc<Policy>, CorsLayer);

thread_local! {
    /// Compiled policies by their canonical choices (`GenRoute::canonical`, sorted and
    /// deduplicated by path as `compiled` builds them): building a layer validates the policy
    /// by a JSON round trip, which costs more than the rest of an execution, and the input
    /// layout keeps the policy apart from the request so that most mutations hit this cache.
    /// At most 16,384 entries (then emptied). The middleware keeps no state between requests.
    static COMPILED: RefCell<HashMap<Vec<GenRoute>, Option<Compiled>>> =
        RefCell::new(HashMap::new());
}

/// The policy of `key` and its layer, `None` when `CorsLayer::from_policy` refuses it.
fn compiled(key: Vec<GenRoute>) -> Option<Compiled> {
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(hit) = cache.get(&key) {
            return hit.clone();
        }
        if cache.len() >= 16384 {
            cache.clear();
        }
        let mut routes: Vec<Route> = key.iter().map(GenRoute::route).collect();
        routes.sort_by(|a, b| a.path.cmp(&b.path));
        routes.dedup_by(|a, b| a.path == b.path);
        let policy = Policy { version: 1, routes };
        let built = CorsLayer::from_policy(&policy)
            .ok()
            .map(|layer| (Rc::new(policy), layer));
        cache.insert(key, built.clone());
        built
    })
}

/// The request target (path and query) of a URL.
fn target(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(input) = Input::arbitrary(&mut u) else {
        return;
    };
    // The rest: request headers (`REQUEST_HEADERS` indices), at most six.
    let headers = u.take_rest();
    // The policy's routes: the first one of each path wins, in path order (as `compiled`
    // builds them).
    let mut key: Vec<GenRoute> = input
        .routes
        .iter()
        .take(usize::from(input.route_count % 4))
        .map(|&packed| GenRoute::unpack(packed).canonical())
        .collect();
    key.sort_by_key(|r| PATHS[usize::from(r.path)]);
    key.dedup_by_key(|r| r.path);
    let Some((policy, layer)) = compiled(key) else {
        return;
    };
    let svc = layer.layer(Inner {
        status: if input.inner_error { 500 } else { 200 },
        vary: VARY[input.vary as usize % VARY.len()],
    });

    let pools = &*POOLS;
    let profile = &pools.profiles[usize::from(input.profile) % pools.profiles.len()];
    let url = &pools.urls[usize::from(input.path) % pools.urls.len()];
    let origin = &pools.origins[usize::from(input.origin) % pools.origins.len()];
    let mut init = RequestInit::new(url.clone(), origin.clone());
    init.method = METHODS[input.method as usize % METHODS.len()].to_string();
    init.headers = headers
        .iter()
        .take(6)
        .map(|&i| {
            let (n, v) = REQUEST_HEADERS[i as usize % REQUEST_HEADERS.len()];
            (n.as_bytes().to_vec(), v.as_bytes().to_vec())
        })
        .collect();
    init.credentials = credentials(input.credentials);
    init.mode = mode(input.mode);
    init.use_cors_preflight = input.use_cors_preflight;
    init.target_more_private = input.target_more_private;
    let Ok(request) = Request::construct(init, profile) else {
        return;
    };
    // The driver: the oracle plays the browser, the middleware the server.
    let mut cache = PreflightCache::default();
    let mut fetch = Fetch::new(&request, profile);
    let mut last = Response::default();
    let mut next = fetch.start(&mut cache, 0.0);
    for _ in 0..4 {
        match next {
            Next::Done => break,
            Next::Preflight => {
                let preflight = fetch
                    .current_hop()
                    .and_then(|h| h.preflight.clone())
                    .expect("Next::Preflight without a preflight");
                let mut b = http::Request::builder()
                    .method(Method::OPTIONS)
                    .uri(target(fetch.current_url()))
                    .header(ORIGIN_HEADER, fetch.serialized_origin())
                    .header(ACCESS_CONTROL_REQUEST_METHOD, preflight.method);
                let acrh = preflight.headers.joined();
                if !acrh.is_empty() {
                    b = b.header(ACCESS_CONTROL_REQUEST_HEADERS, acrh);
                }
                if preflight.private_network {
                    b = b.header(
                        ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK.clone(),
                        HeaderValue::from_static("true"),
                    );
                }
                let res = send(&svc, b.body(()).expect("valid preflight"));
                last = to_oracle(&res);
                next = fetch.on_preflight_response(&last, &mut cache, 0.0);
            }
            Next::Request => {
                let method = Method::from_bytes(fetch.method().as_bytes()).expect("token method");
                let mut req = http::Request::builder()
                    .method(method)
                    .uri(target(fetch.current_url()))
                    .body(())
                    .expect("valid request");
                let headers = req.headers_mut();
                for (name, value) in fetch.headers() {
                    headers.append(
                        HeaderName::from_bytes(name).expect("token name"),
                        HeaderValue::from_bytes(value).expect("valid value"),
                    );
                }
                let origin_header = fetch
                    .current_hop()
                    .map_or(OriginHeader::Absent, |h| h.origin_header);
                match origin_header {
                    OriginHeader::Absent => {}
                    OriginHeader::Null => {
                        headers.insert(ORIGIN_HEADER, HeaderValue::from_static("null"));
                    }
                    OriginHeader::RequestOrigin => {
                        let value = HeaderValue::from_str(fetch.serialized_origin())
                            .expect("serialized origin");
                        headers.insert(ORIGIN_HEADER, value);
                    }
                }
                if fetch.includes_credentials() {
                    headers.append(COOKIE, HeaderValue::from_static("session=abc"));
                }
                let res = send(&svc, req);
                last = to_oracle(&res);
                next = fetch.on_response(&last, &mut cache, 0.0);
            }
        }
    }
    assert_eq!(next, Next::Done, "the fetch did not finish");
    let outcome = fetch.outcome();
    let mismatches = intent(&policy, &request, profile).judge(outcome, &last, request.credentials);
    assert!(
        mismatches.is_empty(),
        "mismatches: {mismatches:#?}\npolicy:\n{}\nrequest: {request:?}\noutcome: {outcome:?}\nlast: {last:?}",
        policy.to_toml_string()
    );
});
