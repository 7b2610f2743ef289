//! Arbitrary requests never panic the middleware, and its answers keep their invariants:
//! at most one `Access-Control-Allow-Origin`, equal to `*` or to the request's own single
//! `Origin`; refused preflights carry no CORS header; `Vary` is never duplicated; with
//! refusal reasons on, the `Cors-Refusal` header is there exactly when the reason is, says
//! the same, and is visible ASCII of bounded length whatever the request sent.

mod common;

use common::*;
use corsproof_testkit::routes;
use corsproof_testkit::strategy::{raw, response};
use corsproof_tower::{CorsLayer, Refusal, RefusalReasons};
use http::{HeaderValue, Method, Request};
use proptest::prelude::*;
use std::sync::LazyLock;

/// Answering and continuing preflights (`[cont]`), each without reasons, with the extension,
/// with the header (`[cont][reasons]`).
static LAYERS: LazyLock<[[CorsLayer; 3]; 2]> = LazyLock::new(|| {
    [false, true].map(|cont| {
        [
            RefusalReasons::Off,
            RefusalReasons::Extension,
            RefusalReasons::Header,
        ]
        .map(|reasons| {
            layer(POLICY)
                .preflight_continue(cont)
                .refusal_reasons(reasons)
        })
    })
});

proptest! {
    // 256 cases by default; `PROPTEST_CASES` (2,000 in CI) overrides it.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_requests_keep_the_invariants(
        method in raw::method(1),
        path in prop::sample::select(&routes::RAW[..]),
        headers in raw::lines(),
        inner_vary in response::inner_vary(),
        cont in any::<bool>(),
        reasons in 0..3usize,
    ) {
        let mut b = Request::builder().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(path);
        for (name, v) in &headers {
            b = b.header(*name, HeaderValue::from_bytes(v).unwrap());
        }
        let request = b.body(String::new()).unwrap();
        let origins: Vec<Vec<u8>> = request.headers().get_all("origin").iter().map(|v| v.as_bytes().to_vec()).collect();
        let is_preflight = method == "OPTIONS"
            && !origins.is_empty()
            && request.headers().contains_key("access-control-request-method");
        let mut inner = Inner::new();
        if let Some(v) = inner_vary {
            inner = inner.header("vary", v);
        }
        let res = send(&LAYERS[usize::from(cont)][reasons], &inner, request);
        let h = res.headers();
        let refusal = res.extensions().get::<Refusal>();
        let header: Vec<&[u8]> = h.get_all("cors-refusal").iter().map(|v| v.as_bytes()).collect();
        if reasons == 0 {
            prop_assert!(refusal.is_none());
        }
        if reasons == 2 {
            prop_assert_eq!(header.len(), usize::from(refusal.is_some()));
        } else {
            prop_assert!(header.is_empty());
        }
        if let (Some(refusal), Some(value)) = (refusal, header.first()) {
            let expected = refusal.header_value();
            prop_assert_eq!(*value, expected.as_bytes());
            prop_assert!(value.iter().all(|b| matches!(b, b' '..=b'~')), "{:?}", value);
            // The bound `Refusal::header_value` documents.
            let label = refusal.route().map_or(0, |r| r.label().len());
            prop_assert!(value.len() <= 243 + 3 * label, "{:?}", value);
        }
        let acao: Vec<&[u8]> = h.get_all("access-control-allow-origin").iter().map(|v| v.as_bytes()).collect();
        prop_assert!(acao.len() <= 1);
        if let Some(a) = acao.first() {
            prop_assert!(*a == b"*" || (origins.len() == 1 && *a == origins[0].as_slice()));
        }
        if is_preflight && !cont && res.status() == 403 {
            prop_assert!(cors_headers(h).is_empty());
            prop_assert_eq!(inner.calls(), 0);
        }
        if is_preflight && !cont && res.status() == 204 {
            prop_assert_eq!(acao.len(), 1);
            prop_assert_eq!(inner.calls(), 0);
        }
        let tokens: Vec<String> = h.get_all("vary").iter()
            .flat_map(|v| v.to_str().unwrap().split(',').map(|t| t.trim().to_ascii_lowercase()).collect::<Vec<_>>())
            .collect();
        let mut dedup = tokens.clone();
        dedup.sort();
        dedup.dedup();
        prop_assert_eq!(dedup.len(), tokens.len(), "duplicated Vary token: {:?}", tokens);
    }
}
