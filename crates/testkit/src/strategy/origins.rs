//! Origins and origin entries: random DNS names, IPv4 and canonical IPv6 hosts, entries drawn
//! from a pool or at random, the `origins` field of a route.

use corsproof_policy::{OriginEntry, Origins, Scheme};
use proptest::prelude::*;
use proptest::sample::subsequence;

use crate::strategy::dedup;

/// A DNS label: a letter first (so that no last label "ends in a number", which would make
/// the name IPv4-like), then up to seven of `a-z 0-9 -`, never ending with `-`.
///
/// ```
/// use proptest::prelude::*;
/// let l = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::origins::label(), 1).remove(0);
/// assert!(l.starts_with(|c: char| c.is_ascii_lowercase()) && !l.ends_with('-'));
/// ```
pub fn label() -> impl Strategy<Value = String> {
    "[a-z]([a-z0-9-]{0,6}[a-z0-9])?".prop_map(String::from)
}

/// A DNS name of one to three [`label`]s.
///
/// ```
/// use proptest::prelude::*;
/// let d = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::origins::domain(), 1).remove(0);
/// assert!(d.split('.').count() <= 3);
/// ```
pub fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..4).prop_map(|labels| labels.join("."))
}

/// `http` or `https`.
///
/// ```
/// use proptest::prelude::*;
/// let _scheme = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::origins::scheme(), 1).remove(0);
/// ```
pub fn scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![Just(Scheme::Http), Just(Scheme::Https)]
}

/// A port as an entry stores it: `None`, or any port but the scheme's default.
///
/// ```
/// use corsproof_policy::Scheme;
/// use proptest::prelude::*;
/// for p in corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::origins::port(Scheme::Https), 100) {
///     assert_ne!(p, Some(443));
/// }
/// ```
pub fn port(scheme: Scheme) -> impl Strategy<Value = Option<u16>> {
    prop::option::of(any::<u16>()).prop_map(move |p| p.filter(|&p| p != scheme.default_port()))
}

/// An IPv6 address in brackets, in the compressed form URLs serialize it in: lowercase hex
/// pieces without leading zeros, the first longest run of two or more zero pieces as `::`.
///
/// ```
/// use corsproof_testkit::strategy::origins::ipv6_text;
/// assert_eq!(ipv6_text([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), "[2001:db8::1]");
/// assert_eq!(ipv6_text([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]), "[::ffff:102:304]");
/// assert_eq!(ipv6_text([1, 0, 2, 0, 0, 3, 0, 0]), "[1:0:2::3:0:0]");
/// ```
pub fn ipv6_text(pieces: [u16; 8]) -> String {
    // The first longest run of zero pieces, if at least two long.
    let (mut best, mut run) = ((0, 0), (0, 0));
    for (i, &p) in pieces.iter().enumerate() {
        if p == 0 {
            if run.1 == 0 {
                run.0 = i;
            }
            run.1 += 1;
            if run.1 > best.1 {
                best = run;
            }
        } else {
            run.1 = 0;
        }
    }
    let hex = |ps: &[u16]| ps.iter().map(|p| format!("{p:x}")).collect::<Vec<_>>();
    let text = if best.1 >= 2 {
        let (start, len) = best;
        format!(
            "{}::{}",
            hex(&pieces[..start]).join(":"),
            hex(&pieces[start + len..]).join(":")
        )
    } else {
        hex(&pieces).join(":")
    };
    format!("[{text}]")
}

/// A random [`ipv6_text`] host, its zero pieces frequent enough to compress.
///
/// ```
/// use proptest::prelude::*;
/// let h = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::origins::ipv6_host(), 1).remove(0);
/// assert!(h.starts_with('[') && h.ends_with(']'));
/// ```
pub fn ipv6_host() -> impl Strategy<Value = String> {
    let piece = prop_oneof![1 => Just(0u16), 1 => any::<u16>()];
    proptest::array::uniform8(piece).prop_map(ipv6_text)
}

/// A host as an entry stores it: mostly a [`domain`], sometimes dotted IPv4 or an
/// [`ipv6_host`].
///
/// ```
/// use proptest::prelude::*;
/// let h = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::origins::host(), 1).remove(0);
/// assert!(!h.is_empty());
/// ```
pub fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => domain(),
        1 => any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
        1 => ipv6_host(),
    ]
}

/// A random canonical entry: exact origins over [`host`], subdomain patterns over [`domain`],
/// `null`, in proportions 4 : 2 : 1.
///
/// ```
/// use proptest::prelude::*;
/// let e = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::origins::random_entry(), 1).remove(0);
/// assert_eq!(e.to_string().parse(), Ok(e));
/// ```
pub fn random_entry() -> impl Strategy<Value = OriginEntry> {
    prop_oneof![
        4 => scheme().prop_flat_map(|scheme| (host(), port(scheme)).prop_map(move |(host, port)| {
            OriginEntry::Exact { scheme, host, port }
        })),
        2 => scheme().prop_flat_map(|scheme| (domain(), port(scheme)).prop_map(move |(domain, port)| {
            OriginEntry::Subdomain { scheme, domain, port }
        })),
        1 => Just(OriginEntry::Null),
    ]
}

/// Where the entries of a listed `origins` come from.
///
/// ```
/// use corsproof_testkit::strategy::origins::Entries;
/// let pool = Entries::example_site();
/// assert!(matches!(pool, Entries::Pool { .. }));
/// ```
#[derive(Debug, Clone)]
pub enum Entries {
    /// From pools: a few `exact` entries (now and then more than eight: the middleware's
    /// hashed set), up to two `patterns`, `null` with probability `null`; never empty (the
    /// first exact entry stands in).
    Pool {
        /// Exact origins, written as in a policy file.
        exact: &'static [&'static str],
        /// Subdomain patterns, written as in a policy file.
        patterns: &'static [&'static str],
        /// The chance of `null` among them.
        null: f64,
    },
    /// Up to `max - 1` [`random_entry`]s, deduplicated (possibly none).
    Random {
        /// One more than the most entries.
        max: usize,
    },
}

impl Entries {
    /// The `example.com` site's pools: [`crate::origins::EXACT`], [`crate::origins::PATTERNS`],
    /// `null` 15 % of the time.
    ///
    /// ```
    /// let _ = corsproof_testkit::strategy::origins::Entries::example_site();
    /// ```
    pub fn example_site() -> Entries {
        Entries::Pool {
            exact: &crate::origins::EXACT,
            patterns: &crate::origins::PATTERNS,
            null: 0.15,
        }
    }
}

/// The list of entries of one route's `origins`.
///
/// ```
/// use corsproof_testkit::strategy::origins::{entry_list, Entries};
/// use proptest::prelude::*;
/// let l = corsproof_testkit::strategy::sample(&entry_list(&Entries::example_site()), 1).remove(0);
/// assert!(!l.is_empty());
/// ```
pub fn entry_list(entries: &Entries) -> BoxedStrategy<Vec<OriginEntry>> {
    match *entries {
        Entries::Pool {
            exact,
            patterns,
            null,
        } => {
            let parse = |text: &str| -> OriginEntry {
                text.parse()
                    .unwrap_or_else(|e| panic!("a pool entry that is no entry: {e}"))
            };
            let many = exact.len().saturating_sub(2)..=exact.len();
            (
                prop_oneof![
                    5 => subsequence(exact.to_vec(), 0..=exact.len().min(3)),
                    1 => subsequence(exact.to_vec(), many),
                ],
                subsequence(patterns.to_vec(), 0..=patterns.len().min(2)),
                proptest::bool::weighted(null),
            )
                .prop_map(move |(mut chosen, patterns, null)| {
                    chosen.extend(patterns);
                    if chosen.is_empty() {
                        chosen.extend(exact.first());
                    }
                    let mut list: Vec<OriginEntry> = chosen.into_iter().map(parse).collect();
                    if null {
                        list.push(OriginEntry::Null);
                    }
                    list
                })
                .boxed()
        }
        Entries::Random { max } => prop::collection::vec(random_entry(), 0..max)
            .prop_map(dedup)
            .boxed(),
    }
}

/// How a route's `origins` is drawn: `[]`, a list of [`Entries`] or `["*"]`, by weight.
///
/// ```
/// use corsproof_testkit::strategy::origins::OriginsParams;
/// assert_eq!(OriginsParams::example_site().any, 2);
/// ```
#[derive(Debug, Clone)]
pub struct OriginsParams {
    /// Weight of `[]` (same-origin only).
    pub empty: u32,
    /// Weight of a list.
    pub list: u32,
    /// Weight of `["*"]` (never drawn for a credentialed route).
    pub any: u32,
    /// The list's entries.
    pub entries: Entries,
}

impl OriginsParams {
    /// Mostly a list over [`Entries::example_site`]; `[]` 1 in 10, `*` 2 in 10.
    ///
    /// ```
    /// let p = corsproof_testkit::strategy::origins::OriginsParams::example_site();
    /// assert_eq!((p.empty, p.list, p.any), (1, 7, 2));
    /// ```
    pub fn example_site() -> OriginsParams {
        OriginsParams {
            empty: 1,
            list: 7,
            any: 2,
            entries: Entries::example_site(),
        }
    }

    /// Up to three random entries 4 times in 5 (possibly none), else `*`.
    ///
    /// ```
    /// let p = corsproof_testkit::strategy::origins::OriginsParams::random();
    /// assert_eq!((p.empty, p.list, p.any), (0, 4, 1));
    /// ```
    pub fn random() -> OriginsParams {
        OriginsParams {
            empty: 0,
            list: 4,
            any: 1,
            entries: Entries::Random { max: 4 },
        }
    }
}

/// A route's `origins`; `*` is left out for a `credentialed` route (invalid there). Simplest
/// first: shrinking moves towards `[]`.
///
/// ```
/// use corsproof_policy::Origins;
/// use corsproof_testkit::strategy::origins::{origins, OriginsParams};
/// use proptest::prelude::*;
/// for o in corsproof_testkit::strategy::sample(&origins(&OriginsParams::example_site(), true), 200) {
///     assert_ne!(o, Origins::Any);
/// }
/// ```
pub fn origins(params: &OriginsParams, credentialed: bool) -> BoxedStrategy<Origins> {
    let any = if credentialed { 0 } else { params.any };
    crate::strategy::weighted(vec![
        (params.empty, Just(Origins::List(Vec::new())).boxed()),
        (
            params.list,
            entry_list(&params.entries).prop_map(Origins::List).boxed(),
        ),
        (any, Just(Origins::Any).boxed()),
    ])
}
