//! Conformance of the middleware to its policy, judged by the oracle (`corsproof-oracle`, a
//! dev-dependency only: no middleware code calls it).
//!
//! Generated inputs: valid policies of 1–4 routes with distinct, sometimes nested path
//! prefixes (origins `*`, exact http/https origins with and without ports, subdomain patterns,
//! `null`, or none; methods, request and expose headers as lists or `*`; credentials; max-age;
//! private network; `allow_risky` where the route needs it), and browser requests biased by
//! the policy (an allowed origin, a pattern instance, a near miss: apex, scheme flip, other
//! port, `evilexample.com`, `app.example.com.evil.test`, `null`; or same-origin), to covered
//! and uncovered paths, with GET HEAD POST PUT DELETE PATCH `patch` PURGE OPTIONS, safelisted
//! and unsafe headers, every credentials mode, under the `fetch`, `chromium` and `firefox`
//! profiles, sometimes to a more private address space. The inner service answers 200 or 500,
//! sometimes with a `Vary` of its own; the layer answers passed preflights with 204 or 200, or
//! passes preflights on to the inner service (`preflight_continue`, then always 200).
//!
//! What is proven, for every generated input:
//! - `middleware_outcome_matches_policy_intent`: the oracle plays the browser against the
//!   middleware (preflight, if any, then the actual request, fresh preflight cache), and what
//!   it lets happen (sent, readable, exposed headers, preflight cache lifetime) is exactly what
//!   the policy intends (P1–P11 of `spec/SPEC.md`, `intent::intent(..).judge(..)` empty): no
//!   violation, no breakage, no cache mismatch; and every CORS header the middleware sends is
//!   well-formed (sent once, ACAC and ACAPN `true`, ACAO `*` or the request's `Origin`, ACMA
//!   digits, token lists: the header grammars of spec/SPEC.md); in about a third of the
//!   cases under `RefusalReasons::Debug`, whose answers to refused preflights must not let
//!   the browser do anything more either;
//! - `vary_is_complete`: two requests that differ only in `Origin`, or only in
//!   `Access-Control-Request-Method`, `-Headers` or `-Private-Network`, and get different
//!   answers (status or any header but `Vary`) both carry a `Vary` naming that header (or
//!   `*`), so no cache can hand one's answer to the other (cache safety, H1 of spec/SPEC.md); and the
//!   inner service's `Vary` is merged: no token repeated, nothing added to `Vary: *`;
//! - `refused_origins_get_no_cors_details`: a request (preflight or not) whose origin the
//!   covering route does not match (oracle P4; uncovered and `origins = []` paths match none)
//!   gets no `Access-Control-*` header at all, under `RefusalReasons::Debug` too;
//! - `middleware_never_panics`: on arbitrary header bytes (junk, values of up to ~90 KB,
//!   hundreds of lines of `Origin`, ACRM, ACRH, ACRPN, `Vary`) the middleware answers, with at
//!   most one `Access-Control-Allow-Origin`, which is `*` or the request's only `Origin` line;
//! - `generators_reach_the_interesting_cases`: the generators reach passing and failing
//!   preflights, credentialed reads, same-origin requests, uncovered paths, pattern matches,
//!   refused origins and PNA preflights, so the properties are not vacuous.
//!
//! Case counts: every property runs `CONFORMANCE_CASES` cases, default 10,000 (what CI runs,
//! with `cargo test --release`: about 5 s for the file on 2 cores; about 1 min in debug, so
//! debug builds keep the same count). A failure is shrunk and printed with the policy as TOML,
//! the request, the intent, the oracle's outcome and every HTTP exchange.

mod common;
#[path = "common/conformance_driver.rs"]
mod driver;
#[path = "common/conformance_gen.rs"]
mod strategies;

use std::fmt::{Debug, Write as _};

use corsproof_oracle::intent::{intent, origin_matches, route_for, Mismatch};
use corsproof_oracle::{CredentialsMode, Origin, Request};
use corsproof_policy::{OriginEntry, Origins, Policy};
use corsproof_tower::{CorsLayer, PreflightStatus, RefusalReasons};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestCaseError, TestRunner};
use tokio::runtime::Runtime;
use tower::Layer;

use driver::{drive, inner, send, show};
use strategies::{
    browser, inner_spec, junk_request, layer_options, layer_options_or_debug, origin_pick,
    path_pick, policy, raw_request, variation, BrowserSpec, GenPolicy, InnerSpec, LayerOptions,
    TARGET_ORIGIN,
};

// ---------------------------------------------------------------------------------------------
// Configuration

/// Cases per property: `CONFORMANCE_CASES`, else 10,000.
fn cases() -> u32 {
    std::env::var("CONFORMANCE_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(10_000)
}

/// Runs `test` on `cases()` generated values with one current-thread runtime for the whole
/// property; a failure is shrunk and reported with its minimal input.
fn check<S>(name: &str, strategy: S, test: impl Fn(&Runtime, S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let config = ProptestConfig {
        // No regression files in the source tree; failures print their minimal input.
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases())
    };
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, |value| test(&rt, value)) {
        panic!("{name}: {e}");
    }
}

/// The layer for a generated policy, with `options`; refusing a valid policy fails the case.
fn layer_for(policy: &GenPolicy, options: LayerOptions) -> Result<CorsLayer, TestCaseError> {
    let layer = CorsLayer::from_policy(&policy.policy).map_err(|e| {
        TestCaseError::fail(format!(
            "a valid generated policy was refused: {e}\n{}",
            policy.toml
        ))
    })?;
    let status = if options.status_200 {
        PreflightStatus::Ok
    } else {
        PreflightStatus::NoContent
    };
    let reasons = if options.debug {
        RefusalReasons::Debug
    } else {
        RefusalReasons::Off
    };
    Ok(layer
        .preflight_status(status)
        .preflight_continue(options.preflight_continue)
        .refusal_reasons(reasons))
}

/// The origins of the route covering `path` (none for an uncovered path, P2).
fn covering_origins<'p>(policy: &'p Policy, path: &str) -> Option<&'p Origins> {
    route_for(policy, path).map(|i| &policy.routes[i].origins)
}

// ---------------------------------------------------------------------------------------------
// The main property

/// One browser request judged: the oracle's verdict and what kind of case it was.
struct Judged {
    mismatches: Vec<Mismatch>,
    hygiene: Vec<String>,
    report: String,
    preflight_passed: Option<bool>,
    pna_preflight: bool,
    readable: bool,
    credentialed_read: bool,
    same_origin: bool,
    uncovered: bool,
    pattern_match: bool,
    refused_origin: bool,
}

/// Drives the browser request `spec` against the middleware built from `policy` and judges
/// the outcome against the policy's intent. `None` when script could not even build the
/// request (a construction error: nothing to judge).
///
/// With `preflight_continue` the inner service answers preflights, so it answers 200 (a 500
/// there fails every preflight, as documented).
fn judge(
    rt: &Runtime,
    policy: &GenPolicy,
    spec: &BrowserSpec,
    mut inner_spec: InnerSpec,
    options: LayerOptions,
) -> Result<Option<Judged>, TestCaseError> {
    inner_spec.error &= !options.preflight_continue;
    let svc = layer_for(policy, options)?.layer(inner(inner_spec));
    let profile = spec.profile();
    let Ok(request) = Request::construct(spec.init(&policy.policy), &profile) else {
        return Ok(None);
    };
    let driven = drive(rt, &svc, &request, &profile);
    let intent = intent(&policy.policy, &request, &profile);
    let mismatches = intent.judge(&driven.outcome, &driven.last, request.credentials);

    let same_origin = request.url_origin.same_origin(&request.origin);
    let route_origins = covering_origins(&policy.policy, request.url.path());
    let matched_by = |keep: fn(&OriginEntry) -> bool| match route_origins {
        Some(Origins::List(list)) => {
            let only: Vec<OriginEntry> = list.iter().filter(|e| keep(e)).cloned().collect();
            origin_matches(&Origins::List(only), &request.origin)
        }
        Some(Origins::Any) => false,
        None => false,
    };
    let pattern_match = !same_origin && matched_by(|e| matches!(e, OriginEntry::Subdomain { .. }));
    let refused_origin =
        !same_origin && !route_origins.is_some_and(|o| origin_matches(o, &request.origin));
    let first = driven.outcome.first_preflight();

    let mut report = String::new();
    if !mismatches.is_empty() || !driven.hygiene.is_empty() {
        let _ = writeln!(report, "mismatches: {mismatches:#?}");
        let _ = writeln!(report, "{policy:?}\n{options:?}");
        let _ = writeln!(
            report,
            "request: {} {} from {} (credentials {:?}, profile {}, headers {:?}, \
             target_more_private {}, use_cors_preflight {})",
            request.method,
            request.url,
            request.origin.serialization(),
            request.credentials,
            profile.name(),
            spec.headers,
            request.target_more_private,
            request.use_cors_preflight,
        );
        let _ = writeln!(report, "intent: {intent:?}");
        let _ = writeln!(report, "outcome: {:?}", driven.outcome);
        let _ = write!(report, "exchanges:\n{}", driven.transcript);
    }
    Ok(Some(Judged {
        preflight_passed: first.map(|p| p.ok),
        pna_preflight: first.is_some_and(|p| p.private_network),
        readable: driven.outcome.readable,
        credentialed_read: driven.outcome.readable
            && !same_origin
            && request.credentials == CredentialsMode::Include,
        same_origin,
        uncovered: intent.route.is_none(),
        pattern_match,
        refused_origin,
        mismatches,
        hygiene: driven.hygiene,
        report,
    }))
}

#[test]
fn middleware_outcome_matches_policy_intent() {
    check(
        "middleware_outcome_matches_policy_intent",
        (policy(), browser(), inner_spec(), layer_options_or_debug()),
        |rt, (policy, spec, inner_spec, options)| {
            if let Some(judged) = judge(rt, &policy, &spec, inner_spec, options)? {
                prop_assert!(judged.mismatches.is_empty(), "{}", judged.report);
                prop_assert!(
                    judged.hygiene.is_empty(),
                    "malformed CORS headers: {:?}\n{}",
                    judged.hygiene,
                    judged.report
                );
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Vary

/// Status and every header line but `Vary`, in a canonical order: what a cache would hand out.
fn answer(res: &http::Response<String>) -> (u16, Vec<(String, Vec<u8>)>) {
    let mut headers: Vec<(String, Vec<u8>)> = res
        .headers()
        .iter()
        .filter(|(n, _)| *n != http::header::VARY)
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect();
    headers.sort();
    (res.status().as_u16(), headers)
}

/// Whether the response's `Vary` names `header` (any case, any line) or is `*`.
fn varies_on(res: &http::Response<String>, header: &str) -> bool {
    res.headers()
        .get_all(http::header::VARY)
        .iter()
        .flat_map(|line| line.as_bytes().split(|&b| b == b','))
        .map(|t| t.trim_ascii())
        .any(|t| t == b"*" || t.eq_ignore_ascii_case(header.as_bytes()))
}

/// The `Vary` tokens of a response, lowercase, in order, across lines.
fn vary_tokens(res: &http::Response<String>) -> Vec<String> {
    res.headers()
        .get_all(http::header::VARY)
        .iter()
        .flat_map(|line| line.as_bytes().split(|&b| b == b','))
        .map(|t| String::from_utf8_lossy(t.trim_ascii()).to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn vary_is_complete() {
    check(
        "vary_is_complete",
        (
            policy(),
            path_pick(),
            raw_request(),
            variation(),
            inner_spec(),
            layer_options(),
        ),
        |rt, (policy, path, base, variation, inner_spec, options)| {
            let svc = layer_for(&policy, options)?.layer(inner(inner_spec));
            let url = path.url(&policy.policy);
            let a = base.build(&policy.policy, &url);
            let b = variation.apply(&base).build(&policy.policy, &url);
            let res_a = send(rt, &svc, a.clone());
            let res_b = send(rt, &svc, b.clone());
            for (req, res) in [(&a, &res_a), (&b, &res_b)] {
                let mut tokens = vary_tokens(res);
                tokens.sort();
                let before = tokens.len();
                tokens.dedup();
                // Repeated tokens, or tokens added to a `Vary: *` (the inner service sends
                // `*` alone).
                let star_extended = tokens.contains(&"*".to_string()) && tokens.len() > 1;
                if tokens.len() != before || star_extended {
                    let mut exchange = String::new();
                    show(req, res, &mut exchange);
                    return Err(TestCaseError::fail(format!(
                        "a `Vary` token is repeated, or added to `*`\n{policy:?}\n{options:?}\n\
                         {exchange}"
                    )));
                }
            }
            if answer(&res_a) != answer(&res_b) {
                let header = variation.header();
                for res in [&res_a, &res_b] {
                    if !varies_on(res, header) {
                        let mut exchanges = String::new();
                        show(&a, &res_a, &mut exchanges);
                        show(&b, &res_b, &mut exchanges);
                        return Err(TestCaseError::fail(format!(
                            "the answers differ with {header} but a response lacks \
                             `Vary: {header}`\n{policy:?}\n{options:?}\n{exchanges}"
                        )));
                    }
                }
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Refused origins

#[test]
fn refused_origins_get_no_cors_details() {
    check(
        "refused_origins_get_no_cors_details",
        (
            policy(),
            origin_pick(),
            path_pick(),
            raw_request(),
            inner_spec(),
            layer_options_or_debug(),
        ),
        |rt, (policy, origin, path, mut raw, inner_spec, options)| {
            let p = &policy.policy;
            let url = path.url(p);
            let serialized = origin.resolve(p, url.path());
            let parsed = Origin::parse_serialized(&serialized).expect("a serialized origin");
            if covering_origins(p, url.path()).is_some_and(|o| origin_matches(o, &parsed)) {
                return Ok(());
            }
            raw.origin = Some(origin);
            let svc = layer_for(&policy, options)?.layer(inner(inner_spec));
            let req = raw.build(p, &url);
            let res = send(rt, &svc, req.clone());
            let leaked: Vec<&str> = res
                .headers()
                .keys()
                .map(|k| k.as_str())
                .filter(|k| k.starts_with("access-control-"))
                .collect();
            if !leaked.is_empty() {
                let mut exchange = String::new();
                show(&req, &res, &mut exchange);
                return Err(TestCaseError::fail(format!(
                    "{serialized} is not allowed at {} but got {leaked:?}\n{policy:?}\n{options:?}\n{exchange}",
                    url.path()
                )));
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Robustness

#[test]
fn middleware_never_panics() {
    check(
        "middleware_never_panics",
        (policy(), junk_request(), inner_spec(), layer_options()),
        |rt, (policy, junk, inner_spec, options)| {
            let svc = layer_for(&policy, options)?.layer(inner(inner_spec));
            let req = junk.build();
            let origins: Vec<Vec<u8>> = req
                .headers()
                .get_all(http::header::ORIGIN)
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect();
            let res = send(rt, &svc, req);
            let acao: Vec<&[u8]> = res
                .headers()
                .get_all(http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .iter()
                .map(|v| v.as_bytes())
                .collect();
            prop_assert!(acao.len() <= 1, "several ACAO lines: {acao:?}");
            if let Some(value) = acao.first() {
                prop_assert!(
                    *value == b"*" || (origins.len() == 1 && origins[0] == *value),
                    "ACAO {:?} is neither `*` nor the request's only Origin ({} lines)",
                    String::from_utf8_lossy(value),
                    origins.len()
                );
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------------
// The generators are not vacuous

#[test]
fn generators_reach_the_interesting_cases() {
    const SAMPLE: usize = 4_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let strategy = (policy(), browser(), inner_spec(), layer_options());
    let mut runner = TestRunner::deterministic();
    let mut counts: [(&str, usize); 11] = [
        ("judged", 0),
        ("passing preflights", 0),
        ("failing preflights", 0),
        ("PNA preflights", 0),
        ("readable cross-origin", 0),
        ("credentialed reads", 0),
        ("same-origin requests", 0),
        ("uncovered paths", 0),
        ("pattern matches", 0),
        ("pattern-matched reads", 0),
        ("refused origins", 0),
    ];
    for _ in 0..SAMPLE {
        let (policy, spec, inner_spec, options) = strategy
            .new_tree(&mut runner)
            .expect("a generated case")
            .current();
        let Some(j) = judge(&rt, &policy, &spec, inner_spec, options).expect("a valid policy")
        else {
            continue;
        };
        let facts = [
            true,
            j.preflight_passed == Some(true),
            j.preflight_passed == Some(false),
            j.pna_preflight,
            j.readable && !j.same_origin,
            j.credentialed_read,
            j.same_origin,
            j.uncovered,
            j.pattern_match,
            j.pattern_match && j.readable,
            j.refused_origin,
        ];
        for (count, fact) in counts.iter_mut().zip(facts) {
            count.1 += usize::from(fact);
        }
    }
    eprintln!("over {SAMPLE} generated cases (target {TARGET_ORIGIN}): {counts:?}");
    // Every kind of case at least 1% of the time.
    for (what, n) in counts {
        assert!(
            n >= SAMPLE / 100,
            "only {n} {what} in {SAMPLE} cases: {counts:?}"
        );
    }
}
