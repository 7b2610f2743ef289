//! A real server against its policy, judged by the oracle (`corsproof_fuzz::live`): the
//! server (`CORSPROOF_LIVE_TARGET`: nginx with the emitted configuration, `corsproof serve`,
//! or nginx with a planted defect) starts once per process; every input is a browser case
//! under one profile, played on the wire exactly as `corsproof check` plays a case; a
//! violation or breakage of the policy's intent or of cache safety is a crash. What the
//! server did feeds libFuzzer's extra counters, so that inputs making it behave differently
//! are kept.
//!
//! This file only decodes the input: picks from the pools of the engine's generator (the
//! origins, paths, methods and headers `check` draws from) and origins put together from DNS
//! labels in front of a suffix of an allowed host.
#![no_main]

use arbitrary::Arbitrary;
use corsproof_fuzz::live::{execute, with_driver, Pools};
use corsproof_fuzz::{credentials, mode};
use corsproof_oracle::{Body, Origin, RequestInit};
use corsproof_testkit::headers::FUZZ_PAIRS;
use corsproof_testkit::methods::FUZZ_SCRIPT;
use libfuzzer_sys::fuzz_target;

/// DNS labels an origin is put together from (besides the input's own).
const LABELS: [&str; 10] = [
    "evil",
    "app",
    "www",
    "staging",
    "a",
    "xn--80ak6aa92e",
    "app-example",
    "localhost",
    "127",
    "com",
];

/// Ports of a composed origin (none: the scheme's default).
const PORTS: [Option<u16>; 4] = [None, Some(8443), Some(443), Some(80)];

/// Values of the policy's own request headers.
const VALUES: [&str; 4] = ["1", "application/json", "Bearer x", "text/plain"];

/// An origin put together from labels: `scheme://[label.]*[label]{.|}suffix[:port]`.
#[derive(Arbitrary, Debug)]
struct Composed {
    https: bool,
    /// Up to three labels, each from [`LABELS`] or (index past it) the input's own.
    labels: [u8; 3],
    count: u8,
    /// The input's own label, kept to `[a-z0-9-]`.
    own: [u8; 4],
    /// Index into the suffixes of the policy's hosts.
    suffix: u8,
    /// The last label glued to the suffix without a dot (`evilexample.com`).
    glued: bool,
    port: u8,
}

impl Composed {
    fn origin(&self, pools: &Pools) -> Option<Origin> {
        let suffix = pools
            .suffixes
            .get(self.suffix as usize % pools.suffixes.len().max(1))?;
        let own: String = self
            .own
            .iter()
            .map(|b| match b % 38 {
                n @ 0..=25 => (b'a' + n) as char,
                n @ 26..=35 => (b'0' + n - 26) as char,
                _ => '-',
            })
            .collect();
        let mut host = String::new();
        for &l in self.labels.iter().take(self.count as usize % 4) {
            let label = LABELS.get(l as usize).copied().unwrap_or(&own);
            host.push_str(label);
            host.push('.');
        }
        if self.glued && host.ends_with('.') {
            host.pop();
        }
        host.push_str(suffix);
        let scheme = if self.https { "https" } else { "http" };
        let port = PORTS[self.port as usize % PORTS.len()]
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        Origin::parse_serialized(&format!("{scheme}://{host}{port}")).ok()
    }
}

#[derive(Arbitrary, Debug)]
enum OriginPick {
    /// One of the generator's origins.
    Pool(u8),
    Composed(Composed),
}

/// A request header: one of the test kit's pairs, or one of the policy's names with a value.
#[derive(Arbitrary, Debug)]
enum HeaderPick {
    Pair(u8),
    Listed(u8, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    profile: u8,
    path: u8,
    /// [`FUZZ_SCRIPT`] then the policy's methods.
    method: u8,
    credentials: u8,
    mode: u8,
    use_cors_preflight: bool,
    /// None, text, or a JSON blob.
    body: u8,
    origin: OriginPick,
    headers: [Option<HeaderPick>; 3],
}

/// The browser case of `input`; `None` when its origin does not parse.
fn case(input: &Input, pools: &Pools) -> Option<RequestInit> {
    let origin = match &input.origin {
        OriginPick::Pool(i) => pools
            .origins
            .get(*i as usize % pools.origins.len().max(1))?
            .clone(),
        OriginPick::Composed(c) => c.origin(pools)?,
    };
    let url = pools
        .urls
        .get(input.path as usize % pools.urls.len().max(1))?;
    let mut init = RequestInit::new(url.clone(), origin);
    let m = input.method as usize % (FUZZ_SCRIPT.len() + pools.methods.len());
    init.method = FUZZ_SCRIPT
        .get(m)
        .map(|s| s.to_string())
        .or_else(|| pools.methods.get(m - FUZZ_SCRIPT.len()).cloned())?;
    init.credentials = credentials(input.credentials);
    init.mode = mode(input.mode);
    init.use_cors_preflight = input.use_cors_preflight;
    init.body = match input.body % 3 {
        0 => None,
        1 => Some(Body::Text),
        _ => Some(Body::Blob("application/json".into())),
    };
    for h in input.headers.iter().flatten() {
        let (name, value) = match h {
            HeaderPick::Pair(i) => {
                let (n, v) = FUZZ_PAIRS[*i as usize % FUZZ_PAIRS.len()];
                (n.to_string(), v)
            }
            HeaderPick::Listed(i, v) => (
                pools
                    .headers
                    .get(*i as usize % pools.headers.len().max(1))?
                    .clone(),
                VALUES[*v as usize % VALUES.len()],
            ),
        };
        init.headers
            .push((name.into_bytes(), value.as_bytes().to_vec()));
    }
    Some(init)
}

fuzz_target!(|input: Input| {
    let Some((init, profile)) = with_driver(|d| {
        case(&input, &d.pools).map(|c| (c, input.profile as usize % d.pools.profiles))
    }) else {
        return;
    };
    execute(&init, profile);
});
