//! Valid policies ([`corsproof_policy::Policy`]): routes whose fields are drawn from pools or
//! at random, as [`PolicyParams`] says. Every policy is valid by construction: no `*` origin
//! or `*` request headers on a credentialed route, no forbidden method or header name,
//! distinct paths, and `allow_risky` wherever [`AllowRisky::WhenRisky`] asks for it.

use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route, Scheme, MAX_AGE_LIMIT};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use crate::headers::{FORBIDDEN_NAMES, FORBIDDEN_PREFIXES};
use crate::strategy::origins::{origins, OriginsParams};
use crate::strategy::{dedup, weighted};

/// Where the routes' path prefixes come from.
///
/// ```
/// use corsproof_testkit::strategy::policy::Paths;
/// let p = Paths::Pool { prefixes: &corsproof_testkit::routes::NESTED_PREFIXES, count: 1..=4, root: 0.08 };
/// assert!(matches!(p, Paths::Pool { .. }));
/// ```
#[derive(Debug, Clone)]
pub enum Paths {
    /// A subsequence of `prefixes` of `count` routes; with probability `root` the last one is
    /// `/` instead (a catch-all: then no path is uncovered).
    Pool {
        /// The prefixes.
        prefixes: &'static [&'static str],
        /// How many routes.
        count: std::ops::RangeInclusive<usize>,
        /// The chance of a `/` route.
        root: f64,
    },
    /// Fewer than `max` routes at `/r<index>/` followed by up to two random segments.
    Random {
        /// One more than the most routes.
        max: usize,
    },
}

/// Where a list of names (methods, header names) comes from.
///
/// ```
/// use corsproof_testkit::strategy::policy::Names;
/// let n = Names::Pool { pool: &corsproof_testkit::methods::LISTED, max: 4 };
/// assert!(matches!(n, Names::Pool { max: 4, .. }));
/// ```
#[derive(Debug, Clone)]
pub enum Names {
    /// A subsequence of `pool` of at most `max` names.
    Pool {
        /// The names, as a policy stores them.
        pool: &'static [&'static str],
        /// The most names.
        max: usize,
    },
    /// Up to three random tokens (methods: a few well-known ones among them, never a
    /// forbidden one; header names: lowercase, never a forbidden one).
    Random,
}

/// A route's `max_age`.
///
/// ```
/// use corsproof_testkit::strategy::policy::MaxAge;
/// let m = MaxAge::Pool { pool: &corsproof_testkit::routes::MAX_AGES, chance: 0.6 };
/// assert!(matches!(m, MaxAge::Pool { .. }));
/// ```
#[derive(Debug, Clone)]
pub enum MaxAge {
    /// One of `pool` with probability `chance`, else none.
    Pool {
        /// The seconds.
        pool: &'static [u64],
        /// The chance of a `max_age`.
        chance: f64,
    },
    /// Half the time none; else up to 90,000 or up to [`MAX_AGE_LIMIT`].
    Random,
}

/// When a route says `allow_risky = true`.
///
/// ```
/// use corsproof_testkit::strategy::policy::AllowRisky;
/// assert!(matches!(AllowRisky::WhenRisky { gratuitous: 0.1 }, AllowRisky::WhenRisky { .. }));
/// ```
#[derive(Debug, Clone, Copy)]
pub enum AllowRisky {
    /// Where the route holds a risky setting the middleware refuses without it (`null`, an
    /// `http:` entry on a credentialed route, `max_age` above 86,400), and with probability
    /// `gratuitous` elsewhere (the middleware must not mind).
    WhenRisky {
        /// The chance of a gratuitous `allow_risky`.
        gratuitous: f64,
    },
    /// Half the time, whatever the route holds.
    Random,
}

/// How [`policy`] draws a policy. The presets are what the suites use.
///
/// ```
/// use corsproof_testkit::strategy::policy::PolicyParams;
/// let p = PolicyParams::nested();
/// assert_eq!(p.private_network, 0.3);
/// ```
#[derive(Debug, Clone)]
pub struct PolicyParams {
    /// The routes' paths.
    pub paths: Paths,
    /// `origins`.
    pub origins: OriginsParams,
    /// `methods`.
    pub methods: Names,
    /// `request_headers`, and the weight of `*` against a list (never `*` with credentials).
    pub request_headers: (Names, u32),
    /// `expose_headers`, and the weight of `*` against a list.
    pub expose_headers: (Names, u32),
    /// The chance of a credentialed route.
    pub credentials: f64,
    /// `max_age`.
    pub max_age: MaxAge,
    /// The chance of `private_network = true`.
    pub private_network: f64,
    /// `allow_risky`.
    pub allow_risky: AllowRisky,
    /// Whether routes get random names and probe paths.
    pub labels: bool,
}

/// The weight of a list against `*` in `request_headers` and `expose_headers`.
const LIST_WEIGHT: u32 = 4;

impl PolicyParams {
    /// One to four routes with nested prefixes ([`crate::routes::NESTED_PREFIXES`], `/` now
    /// and then), origins of the `example.com` site, the pools the middleware's tests list
    /// ([`crate::methods::LISTED`], [`crate::headers::LISTED`], [`crate::headers::EXPOSED`],
    /// [`crate::routes::MAX_AGES`]), `allow_risky` where needed.
    ///
    /// ```
    /// let _ = corsproof_testkit::strategy::policy::PolicyParams::nested();
    /// ```
    pub fn nested() -> PolicyParams {
        PolicyParams {
            paths: Paths::Pool {
                prefixes: &crate::routes::NESTED_PREFIXES,
                count: 1..=4,
                root: 0.08,
            },
            origins: OriginsParams::example_site(),
            methods: Names::Pool {
                pool: &crate::methods::LISTED,
                max: 4,
            },
            request_headers: (
                Names::Pool {
                    pool: &crate::headers::LISTED,
                    max: 4,
                },
                1,
            ),
            expose_headers: (
                Names::Pool {
                    pool: &crate::headers::EXPOSED,
                    max: 4,
                },
                1,
            ),
            credentials: 0.5,
            max_age: MaxAge::Pool {
                pool: &crate::routes::MAX_AGES,
                chance: 0.6,
            },
            private_network: 0.3,
            allow_risky: AllowRisky::WhenRisky { gratuitous: 0.1 },
            labels: false,
        }
    }

    /// Up to three routes of a small site ([`crate::routes::SMALL_PREFIXES`], possibly
    /// none), methods where case matters ([`crate::methods::LISTED_CASED`]), the wider
    /// request-header pool ([`crate::headers::LISTED_WIDE`]), a `max_age` half the time.
    ///
    /// ```
    /// let p = corsproof_testkit::strategy::policy::PolicyParams::small();
    /// assert_eq!(p.private_network, 0.5);
    /// ```
    pub fn small() -> PolicyParams {
        PolicyParams {
            paths: Paths::Pool {
                prefixes: &crate::routes::SMALL_PREFIXES,
                count: 0..=3,
                root: 0.0,
            },
            methods: Names::Pool {
                pool: &crate::methods::LISTED_CASED,
                max: 3,
            },
            request_headers: (
                Names::Pool {
                    pool: &crate::headers::LISTED_WIDE,
                    max: 8,
                },
                1,
            ),
            expose_headers: (
                Names::Pool {
                    pool: &crate::headers::EXPOSED_PLAIN,
                    max: 4,
                },
                1,
            ),
            max_age: MaxAge::Pool {
                pool: &crate::routes::MAX_AGES,
                chance: 0.5,
            },
            private_network: 0.5,
            ..PolicyParams::nested()
        }
    }

    /// Everything at random, as a parser must read it: up to four routes with random paths,
    /// names and probe paths; random hosts (DNS, IPv4, IPv6), ports, method tokens and header
    /// names; `max_age` up to the limit; `allow_risky` at random.
    ///
    /// ```
    /// assert!(corsproof_testkit::strategy::policy::PolicyParams::random().labels);
    /// ```
    pub fn random() -> PolicyParams {
        PolicyParams {
            paths: Paths::Random { max: 5 },
            origins: OriginsParams::random(),
            methods: Names::Random,
            request_headers: (Names::Random, 1),
            expose_headers: (Names::Random, 1),
            credentials: 0.5,
            max_age: MaxAge::Random,
            private_network: 0.5,
            allow_risky: AllowRisky::Random,
            labels: true,
        }
    }
}

/// A method token that is not forbidden: well-known ones in both cases, or random.
fn random_methods() -> BoxedStrategy<Vec<String>> {
    let method = prop_oneof![
        crate::strategy::pick(&crate::methods::WRITTEN),
        "[A-Za-z][A-Za-z0-9!#$%&'+.^_`|~-]{0,8}".prop_map(String::from),
    ];
    prop::collection::vec(method, 0..4)
        .prop_map(|v| {
            dedup(v)
                .into_iter()
                .filter(|m| {
                    !crate::methods::FORBIDDEN
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(m))
                })
                .collect()
        })
        .boxed()
}

/// Lowercase header-name tokens that are not forbidden request headers.
fn random_header_names() -> BoxedStrategy<Vec<String>> {
    let name = "[a-z0-9!#$%&'+.^_`|~-]{1,12}".prop_filter("forbidden request header", |n| {
        !(FORBIDDEN_PREFIXES.iter().any(|p| n.starts_with(p))
            || FORBIDDEN_NAMES.contains(&n.as_str()))
    });
    prop::collection::vec(name, 0..4).prop_map(dedup).boxed()
}

/// The names of `names`, for methods (`method`) or header names.
fn name_list(names: &Names, method: bool) -> BoxedStrategy<Vec<String>> {
    match (names, method) {
        (Names::Pool { pool, max }, _) => subsequence(pool.to_vec(), 0..=(*max).min(pool.len()))
            .prop_map(|v| v.into_iter().map(str::to_string).collect())
            .boxed(),
        (Names::Random, true) => random_methods(),
        (Names::Random, false) => random_header_names(),
    }
}

/// A `request_headers` or `expose_headers` field; `*` only where `any` allows it.
fn header_names((names, any_weight): &(Names, u32), any: bool) -> BoxedStrategy<HeaderNames> {
    weighted(vec![
        (
            LIST_WEIGHT,
            name_list(names, false).prop_map(HeaderNames::List).boxed(),
        ),
        (
            if any { *any_weight } else { 0 },
            Just(HeaderNames::Any).boxed(),
        ),
    ])
}

fn max_age(max_age: &MaxAge) -> BoxedStrategy<Option<u64>> {
    match *max_age {
        MaxAge::Pool { pool, chance } => {
            prop::option::weighted(chance, select(pool.to_vec())).boxed()
        }
        MaxAge::Random => prop::option::of(prop_oneof![0..=90_000u64, 0..=MAX_AGE_LIMIT]).boxed(),
    }
}

/// A path segment (no dot segment).
fn path_segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._~!$&'()*+,;=:@%-]{0,6}".prop_filter("dot segment", |s| s != "." && s != "..")
}

/// Whether `route` holds a setting the middleware refuses without `allow_risky`: `null`,
/// an `http:` entry on a credentialed route, `max_age` above a day.
///
/// ```
/// use corsproof_policy::{OriginEntry, Origins, Route};
/// let mut r = Route::same_origin_only("/");
/// r.origins = Origins::List(vec![OriginEntry::Null]);
/// assert!(corsproof_testkit::strategy::policy::risky(&r));
/// ```
pub fn risky(route: &Route) -> bool {
    let entries: &[OriginEntry] = match &route.origins {
        Origins::List(list) => list,
        Origins::Any => &[],
    };
    let http = |e: &OriginEntry| match e {
        OriginEntry::Exact { scheme, .. } | OriginEntry::Subdomain { scheme, .. } => {
            *scheme == Scheme::Http
        }
        OriginEntry::Null => false,
    };
    entries.contains(&OriginEntry::Null)
        || (route.credentials && entries.iter().any(http))
        || route.max_age.is_some_and(|age| age > 86_400)
}

/// One valid route at `path` drawn as `params` says.
///
/// ```
/// use corsproof_testkit::strategy::policy::{route, PolicyParams};
/// use proptest::prelude::*;
/// let r = corsproof_testkit::strategy::sample(&route(&PolicyParams::small(), "/items".into()), 1).remove(0);
/// assert_eq!(r.path, "/items");
/// ```
pub fn route(params: &PolicyParams, path: String) -> BoxedStrategy<Route> {
    let params = params.clone();
    proptest::bool::weighted(params.credentials)
        .prop_flat_map(move |credentials| {
            let labels = params.labels;
            (
                origins(&params.origins, credentials),
                name_list(&params.methods, true),
                header_names(&params.request_headers, !credentials),
                header_names(&params.expose_headers, true),
                max_age(&params.max_age),
                proptest::bool::weighted(params.private_network),
                allow_risky(params.allow_risky),
                prop::option::of("[^\\p{Cc}]{1,16}").prop_map(move |n| n.filter(|_| labels)),
                prop::collection::vec(prop::collection::vec(path_segment(), 1..3), 0..3)
                    .prop_map(move |p| if labels { p } else { Vec::new() }),
                Just(path.clone()),
            )
                .prop_map(
                    move |(
                        origins,
                        methods,
                        request_headers,
                        expose_headers,
                        max_age,
                        private_network,
                        allow_risky,
                        name,
                        probes,
                        path,
                    )| {
                        let probe_paths = dedup(
                            probes
                                .into_iter()
                                .map(|p| format!("{path}{}", p.join("/")))
                                .filter(|p| !p.split('/').any(|s| s == "." || s == ".."))
                                .collect(),
                        );
                        let mut route = Route {
                            name,
                            origins,
                            methods,
                            request_headers,
                            expose_headers,
                            credentials,
                            max_age,
                            private_network,
                            probe_paths,
                            ..Route::same_origin_only(&path)
                        };
                        route.allow_risky = match allow_risky {
                            Risky::Yes => true,
                            Risky::No => false,
                            Risky::WhenNeeded(gratuitous) => gratuitous || risky(&route),
                        };
                        route
                    },
                )
        })
        .boxed()
}

/// `allow_risky` as drawn, before the route is known.
#[derive(Debug, Clone, Copy)]
enum Risky {
    Yes,
    No,
    /// Set when the route needs it, or (`true`) anyway.
    WhenNeeded(bool),
}

fn allow_risky(allow: AllowRisky) -> BoxedStrategy<Risky> {
    match allow {
        AllowRisky::WhenRisky { gratuitous } => proptest::bool::weighted(gratuitous)
            .prop_map(Risky::WhenNeeded)
            .boxed(),
        AllowRisky::Random => any::<bool>()
            .prop_map(|b| if b { Risky::Yes } else { Risky::No })
            .boxed(),
    }
}

/// The routes' paths as `paths` says.
fn route_paths(paths: &Paths) -> BoxedStrategy<Vec<String>> {
    match paths {
        Paths::Pool {
            prefixes,
            count,
            root,
        } => (
            subsequence(prefixes.to_vec(), count.clone()),
            proptest::bool::weighted(*root),
        )
            .prop_map(|(mut chosen, root)| {
                if root {
                    if let Some(last) = chosen.last_mut() {
                        *last = "/";
                    }
                }
                dedup(chosen).into_iter().map(str::to_string).collect()
            })
            .boxed(),
        Paths::Random { max } => (0..*max)
            .prop_flat_map(|n| {
                (0..n)
                    .map(|i| {
                        prop::collection::vec(path_segment(), 0..3)
                            .prop_map(move |s| format!("/r{i}/{}", s.join("/")))
                    })
                    .collect::<Vec<_>>()
            })
            .boxed(),
    }
}

/// A valid policy (format version 1) drawn as `params` says.
///
/// ```
/// use corsproof_testkit::strategy::policy::{policy, PolicyParams};
/// use proptest::prelude::*;
/// for params in [PolicyParams::nested(), PolicyParams::small(), PolicyParams::random()] {
///     for p in corsproof_testkit::strategy::sample(&policy(&params), 50) {
///         assert!(p.validate().is_ok(), "{}", p.to_toml_string());
///     }
/// }
/// ```
pub fn policy(params: &PolicyParams) -> BoxedStrategy<Policy> {
    let params = params.clone();
    route_paths(&params.paths)
        .prop_flat_map(move |paths| {
            paths
                .into_iter()
                .map(|path| route(&params, path))
                .collect::<Vec<_>>()
        })
        .prop_map(|routes| Policy { version: 1, routes })
        .boxed()
}
