//! The diff's properties against the intent model, on generated policies and requests:
//!
//! - `diff(a, a)` is empty, and so is the diff of a policy and itself with its routes
//!   reordered and renamed;
//! - completeness: whenever a generated browser request is granted more by `b` than by `a`
//!   (sent, read, a response header seen, or a passed preflight cached longer, each judged by
//!   `corsproof_oracle::intent`), `diff(a, b)` broadens, with a change for that request's pair
//!   of routes; the same for narrowing;
//! - soundness: every change's example request is granted more (broadens) or less (narrows)
//!   by `b` than by `a`, judged the same way.
//!
//! The requests are drawn here, from the two policies' own vocabularies (every origin, pattern
//! instances of several shapes, the patterns' domains, other schemes and ports, every listed
//! method and header name and a few unlisted ones), not from the diff's representatives.

use corsproof_diff::{diff, Direction, Example, OriginClass};
use corsproof_oracle::intent::{intent, route_for, Tri};
use corsproof_oracle::{Body, CredentialsMode, Origin, Profile, Request, RequestInit, RequestMode};
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};
use corsproof_testkit::strategy::policy::{policy, route, PolicyParams};
use proptest::prelude::*;
use proptest::sample::select;

const TARGET: &str = "https://api.corsproof.invalid";

/// A browser request as drawn: what script asks for.
#[derive(Debug, Clone)]
struct Spec {
    origin: String,
    path: String,
    method: String,
    headers: Vec<(String, String)>,
    credentials: CredentialsMode,
    no_cors: bool,
    profile: u8,
    more_private: bool,
    preflight: bool,
}

fn profile(i: u8) -> Profile {
    match i {
        0 => Profile::fetch(),
        1 => Profile::chromium(),
        _ => Profile::firefox(),
    }
}

fn build(spec: &Spec) -> Option<(Request, Profile)> {
    let url = url::Url::parse(&format!("{TARGET}{}", spec.path)).ok()?;
    let mut init = RequestInit::new(url, Origin::parse_serialized(&spec.origin).ok()?);
    init.method = spec.method.clone();
    init.headers = (spec.headers.iter())
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    init.credentials = spec.credentials;
    if spec.no_cors {
        init.mode = RequestMode::NoCors;
    }
    init.target_more_private = spec.more_private;
    if spec.preflight {
        init.use_cors_preflight = true;
        init.body = Some(Body::Text);
    }
    let p = profile(spec.profile);
    Some((Request::construct(init, &p).ok()?, p))
}

fn from_example(e: &Example) -> Spec {
    Spec {
        origin: e.origin.clone(),
        path: e.path.clone(),
        method: e.method.clone(),
        headers: e
            .header
            .iter()
            .map(|h| (h.clone(), "\"x\"".into()))
            .collect(),
        credentials: if e.credentialed {
            CredentialsMode::Include
        } else {
            CredentialsMode::SameOrigin
        },
        no_cors: false,
        profile: if e.private_network { 1 } else { 0 },
        more_private: e.private_network,
        preflight: e.preflight,
    }
}

/// Every exposed name either policy lists, and one neither does.
fn exposed_names(a: &Policy, b: &Policy) -> Vec<String> {
    let mut names = vec!["x-unlisted-response".to_string()];
    for r in a.routes.iter().chain(&b.routes) {
        if let HeaderNames::List(l) = &r.expose_headers {
            names.extend(l.iter().cloned());
        }
    }
    names
}

/// Whether `b` grants `request` more than `a` (sent, read, a header seen, a longer cache of a
/// passed preflight).
fn grants_more(a: &Policy, b: &Policy, spec: &Spec, names: &[String]) -> bool {
    let Some((request, p)) = build(spec) else {
        return false;
    };
    let (ia, ib) = (intent(a, &request, &p), intent(b, &request, &p));
    let permits = |t: Tri| t != Tri::MustNot;
    let preflighted = request.mode == RequestMode::Cors
        && !request.url_origin.same_origin(&request.origin)
        && (request.use_cors_preflight
            || !corsproof_oracle::method::is_cors_safelisted(request.method.as_bytes())
            || !request.unsafe_names(&p).is_empty()
            || (p.private_network_access && request.target_more_private));
    (permits(ib.sent) && !permits(ia.sent))
        || (permits(ib.readable) && !permits(ia.readable))
        || names
            .iter()
            .any(|n| permits(ib.expose(n.as_bytes())) && !permits(ia.expose(n.as_bytes())))
        || (preflighted
            && permits(ia.sent)
            && permits(ib.sent)
            && ib.max_cache_seconds > ia.max_cache_seconds)
}

/// The origins a test request may come from: every entry, instances of each pattern of
/// several shapes, the pattern's domain, other schemes and ports, `null`, unrelated ones.
fn origin_pool(a: &Policy, b: &Policy) -> Vec<String> {
    let mut pool = vec![
        "null".to_string(),
        "https://evil.test".into(),
        "http://evil.test".into(),
    ];
    for r in a.routes.iter().chain(&b.routes) {
        let Origins::List(list) = &r.origins else {
            continue;
        };
        for e in list {
            let text = e.to_string();
            match e {
                OriginEntry::Null => {}
                OriginEntry::Exact { .. } => {
                    pool.push(text.replace("https://", "http://"));
                    pool.push(format!("{text}:8443"));
                    pool.push(text);
                }
                OriginEntry::Subdomain { .. } => {
                    for label in ["a", "www", "a.b", "a_b", "x0", "-a"] {
                        pool.push(text.replacen('*', label, 1));
                    }
                    pool.push(text.replacen("*.", "", 1));
                    pool.push(text.replacen("*.", "evil", 1));
                }
            }
        }
    }
    pool
}

/// Whether origin class `class` of a change can hold `origin` (written out here from the
/// classes' definitions, loosely for patterns: any host ending in the pattern's domain); the
/// classes are those of the change's two routes.
fn covers(class: &OriginClass, origin: &str, routes: [Option<&Route>; 2]) -> bool {
    let under = |pattern: &str| {
        let (scheme, rest) = pattern.split_once("*.").unwrap_or_default();
        origin.starts_with(scheme) && origin.ends_with(&format!(".{rest}"))
    };
    let entries: Vec<String> = (routes.into_iter().flatten())
        .filter_map(|r| match &r.origins {
            Origins::List(l) => Some(l.iter().map(ToString::to_string)),
            Origins::Any => None,
        })
        .flatten()
        .collect();
    match class {
        OriginClass::Exact(o) => o == origin,
        OriginClass::Pattern(p) | OriginClass::PatternOddHost(p) => under(p),
        OriginClass::Null => origin == "null",
        OriginClass::Other => {
            origin != "null"
                && !entries
                    .iter()
                    .any(|e| e == origin || (e.contains("*.") && under(e)))
        }
    }
}

fn requests(a: &Policy, b: &Policy) -> BoxedStrategy<Vec<Spec>> {
    let origins = origin_pool(a, b);
    let mut paths = vec!["/".to_string(), "/zzz".into()];
    let mut methods: Vec<String> = [
        "GET", "POST", "POST", "POST", "PUT", "DELETE", "patch", "OPTIONS",
    ]
    .map(String::from)
    .to_vec();
    let mut names: Vec<String> = ["x-custom", "authorization", "content-type", "accept"]
        .map(String::from)
        .to_vec();
    for r in a.routes.iter().chain(&b.routes) {
        for suffix in ["", "x", "x/y"] {
            paths.push(format!("{}{suffix}", r.path));
        }
        methods.extend(r.methods.iter().cloned());
        for h in [&r.request_headers, &r.expose_headers] {
            if let HeaderNames::List(l) = h {
                names.extend(l.iter().cloned());
            }
        }
    }
    let header = (
        select(names),
        select(vec!["\"x\"", "text/plain", "application/json", "1"]),
    )
        .prop_map(|(n, v)| (n, v.to_string()));
    let spec = (
        select(origins),
        select(paths),
        select(methods),
        prop::collection::vec(header, 0..3),
        select(vec![
            CredentialsMode::Omit,
            CredentialsMode::SameOrigin,
            CredentialsMode::Include,
        ]),
        prop::bool::weighted(0.1),
        0u8..3,
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(
                origin,
                path,
                method,
                headers,
                credentials,
                no_cors,
                profile,
                more_private,
                preflight,
            )| Spec {
                origin,
                path,
                method,
                headers,
                credentials,
                no_cors,
                profile,
                more_private,
                preflight,
            },
        );
    prop::collection::vec(spec, 200).boxed()
}

/// Two policies: independent; or the second the first with one route redrawn at its path; or
/// with one field of one route taken from a route drawn afresh (a single change, which no
/// other change can hide).
fn pairs() -> BoxedStrategy<(Policy, Policy)> {
    let params = PolicyParams::nested();
    let independent = (policy(&params), policy(&params));
    let p2 = params.clone();
    let edited = policy(&params).prop_flat_map(move |a| {
        let n = a.routes.len().max(1);
        let p2 = p2.clone();
        (Just(a), 0..n, 0u8..8).prop_flat_map(move |(a, i, field)| {
            let path = a.routes.get(i).map_or("/".to_string(), |r| r.path.clone());
            (Just(a), Just(i), Just(field), route(&p2, path))
        })
    });
    let edited = edited.prop_map(|(a, i, field, r)| {
        let mut b = a.clone();
        let Some(slot) = b.routes.get_mut(i) else {
            b.routes.push(r);
            return (a, b);
        };
        match field {
            0 => slot.origins = r.origins,
            1 => slot.methods = r.methods,
            2 => slot.request_headers = r.request_headers,
            3 => slot.expose_headers = r.expose_headers,
            4 => slot.credentials = r.credentials,
            5 => slot.max_age = r.max_age,
            6 => slot.private_network = r.private_network,
            _ => *slot = r,
        }
        (a, b)
    });
    prop_oneof![1 => independent, 3 => edited].boxed()
}

fn with_requests() -> BoxedStrategy<(Policy, Policy, Vec<Spec>)> {
    pairs()
        .prop_flat_map(|(a, b)| {
            let r = requests(&a, &b);
            (Just(a), Just(b), r)
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_policy_against_itself_reordered_and_renamed_is_no_change(
        a in policy(&PolicyParams::random()),
        rotate in 0usize..8,
    ) {
        prop_assert!(diff(&a, &a).changes.is_empty());
        let mut b = a.clone();
        let n = b.routes.len().max(1);
        b.routes.rotate_left(rotate % n);
        b.routes.reverse();
        for (i, r) in b.routes.iter_mut().enumerate() {
            r.name = Some(format!("renamed-{i}"));
        }
        let d = diff(&a, &b);
        prop_assert!(d.changes.is_empty(), "{:?}", d.changes);
    }

    #[test]
    fn every_request_granted_more_is_a_broadening_and_every_change_is_shown((a, b, specs) in with_requests()) {
        let d = diff(&a, &b);
        let names = exposed_names(&a, &b);
        for spec in &specs {
            let Some((request, _)) = build(spec) else { continue };
            let path = request.url.path();
            let routes = (route_for(&a, path), route_for(&b, path));
            for (more, less, direction) in [(&b, &a, Direction::Broadens), (&a, &b, Direction::Narrows)] {
                if grants_more(less, more, spec, &names) {
                    let found = d.changes.iter().any(|c| {
                        c.direction == direction
                            && c.scope.old.as_ref().map(|r| r.index) == routes.0
                            && c.scope.new.as_ref().map(|r| r.index) == routes.1
                            && c.origins.iter().any(|class| covers(class, &spec.origin, [routes.0.map(|i| &a.routes[i]), routes.1.map(|i| &b.routes[i])]))
                    });
                    prop_assert!(found, "{direction:?} missed for {spec:?}\nold: {}\nnew: {}\n{:#?}",
                        a.to_toml_string(), b.to_toml_string(), d.changes);
                }
            }
        }
        for c in &d.changes {
            let spec = from_example(&c.example);
            let shown = match c.direction {
                Direction::Broadens => grants_more(&a, &b, &spec, &names),
                Direction::Narrows => grants_more(&b, &a, &spec, &names),
            };
            prop_assert!(shown, "{c:?} not shown by its example\nold: {}\nnew: {}",
                a.to_toml_string(), b.to_toml_string());
        }
    }
}
