//! Origins by class: what a policy lists, where script runs, and the near misses that break
//! hand-written allowlists ([`Mutation`]).
//!
//! Two sites are spelled out. The `example.com` site is the tests' (`api.example.com` serves,
//! `app.example.com` calls it); the `.test` site (`api.test`, `app.test`) is the fuzz targets',
//! whose checked-in corpora address its slices by index: those slices (named `TEST_SITE_*`)
//! keep their order and length.

use corsproof_policy::{OriginEntry, Scheme};

/// The server under test of the `example.com` site: requests go to this origin plus a path.
///
/// ```
/// assert!(corsproof_testkit::origins::TARGET.starts_with("https://"));
/// ```
pub const TARGET: &str = "https://api.example.com";

/// Exact origins a policy lists: http and https, with and without ports, over a small host
/// pool (more than eight of them fill the middleware's hashed set).
///
/// ```
/// use corsproof_policy::OriginEntry;
/// for o in corsproof_testkit::origins::EXACT {
///     assert!(matches!(o.parse::<OriginEntry>(), Ok(OriginEntry::Exact { .. })));
/// }
/// ```
pub const EXACT: [&str; 9] = [
    "https://app.example.com",
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://example.com",
    "https://partner.example.net",
    "http://partner.example.net:8080",
    "http://localhost",
    "http://localhost:3000",
    "https://localhost:8443",
];

/// Subdomain patterns a policy lists.
///
/// ```
/// use corsproof_policy::OriginEntry;
/// for o in corsproof_testkit::origins::PATTERNS {
///     assert!(matches!(o.parse::<OriginEntry>(), Ok(OriginEntry::Subdomain { .. })));
/// }
/// ```
pub const PATTERNS: [&str; 4] = [
    "https://*.example.com",
    "https://*.example.com:8443",
    "http://*.example.com",
    "https://*.partner.example.net",
];

/// Instances of [`PATTERNS`]: one label, several labels, an IDNA label, with the pattern's port.
///
/// ```
/// assert!(corsproof_testkit::origins::PATTERN_INSTANCES.contains(&"https://a.b.c.example.com"));
/// ```
pub const PATTERN_INSTANCES: [&str; 6] = [
    "https://a.example.com",
    "https://app2.example.com",
    "https://a.b.c.example.com",
    "https://xn--nxasmq6b.example.com",
    "https://a.example.com:8443",
    "https://eu.partner.example.net",
];

/// Pages script runs on: the allowed app in three spellings of scheme and port, the target
/// itself, a local development server and an opaque origin.
///
/// ```
/// assert_eq!(corsproof_testkit::origins::PAGES.last(), Some(&"null"));
/// ```
pub const PAGES: [&str; 6] = [
    "https://app.example.com",
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://api.example.com",
    "http://localhost:3000",
    "null",
];

/// Origins no listed entry allows but that look close to one: a substring (`evilexample.com`),
/// a suffix trick, the apex, `null`, a stranger, the target on another port and scheme, a
/// two-label instance.
///
/// ```
/// assert!(corsproof_testkit::origins::STRANGERS.contains(&"https://attacker.test"));
/// ```
pub const STRANGERS: [&str; 8] = [
    "https://evilexample.com",
    "https://app.example.com.evil.test",
    "https://example.com",
    "null",
    "https://attacker.test",
    "https://api.example.com:8443",
    "http://api.example.com",
    "https://a.b.example.com",
];

/// Origins off the beaten path, canonical or not: IPv6, IDNA, non-ASCII, other schemes, an
/// explicit default port, a trailing slash, upper case, a URL, nothing.
///
/// ```
/// assert!(corsproof_testkit::origins::ODD.contains(&""));
/// ```
pub const ODD: [&str; 10] = [
    "http://[::1]:8080",
    "https://xn--nxasmq6b.com",
    "https://ëxample.com",
    "ftp://x.test",
    "ws://a.test",
    "https://app.example.com:443",
    "https://app.example.com/",
    "HTTPS://app.example.com",
    "data:text/plain,x",
    "",
];

/// The `.test` site's pages (the `oracle` fuzz target picks one by index).
///
/// ```
/// assert_eq!(corsproof_testkit::origins::TEST_SITE_PAGES[0], "https://app.test");
/// ```
pub const TEST_SITE_PAGES: [&str; 6] = [
    "https://app.test",
    "http://app.test",
    "https://evil.test",
    "https://api.test",
    "http://localhost:3000",
    "null",
];

/// The `.test` site's server (the `middleware_vs_intent` fuzz target's).
///
/// ```
/// assert_eq!(corsproof_testkit::origins::TEST_SITE_TARGET, "https://api.test");
/// ```
pub const TEST_SITE_TARGET: &str = "https://api.test";

/// Entries a `.test` site policy lists (bit `i` of a fuzz input picks entry `i`).
///
/// ```
/// assert!(corsproof_testkit::origins::TEST_SITE_ENTRIES.contains(&"https://*.app.test"));
/// ```
pub const TEST_SITE_ENTRIES: [&str; 6] = [
    "https://app.test",
    "http://app.test",
    "https://*.app.test",
    "null",
    "http://localhost:3000",
    "https://app.test:8443",
];

/// Origins requests to the `.test` site come from: listed ones, a pattern instance, near
/// misses (port, suffix trick, scheme), a stranger, `null` and the target itself.
///
/// ```
/// use corsproof_testkit::origins::{TEST_SITE_REQUESTS, TEST_SITE_TARGET};
/// assert_eq!(TEST_SITE_REQUESTS.last(), Some(&TEST_SITE_TARGET));
/// ```
pub const TEST_SITE_REQUESTS: [&str; 9] = [
    "https://app.test",
    "http://app.test",
    "https://a.app.test",
    "https://app.test:8443",
    "https://app.test.evil.test",
    "https://evil.test",
    "http://localhost:3000",
    "null",
    TEST_SITE_TARGET,
];

/// A family of near misses: how an origin that is not allowed is derived from one that is,
/// each defeating a common mistake of hand-written allowlists.
///
/// ```
/// use corsproof_policy::OriginEntry;
/// use corsproof_testkit::origins::Mutation;
/// let allowed: OriginEntry = "https://app.example.com".parse().unwrap();
/// assert_eq!(Mutation::Prefix.apply(&allowed), "https://app.example.com.evil.test");
/// assert_eq!(Mutation::UnescapedDot.apply(&allowed), "https://appxexample.com");
/// assert_eq!(Mutation::TrailingSlash.apply(&allowed), "https://app.example.com/");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutation {
    /// The parent domain of an exact host (`www.` + the host when it has no parent), or a
    /// pattern's own domain, which the pattern never matches.
    Apex,
    /// The allowed origin is a prefix of this one: a domain appended (`….evil.test`), what a
    /// `starts_with` check lets through.
    Prefix,
    /// The allowed host is a suffix of this one: `evil` glued in front without a dot, what an
    /// `ends_with` check lets through.
    Suffix,
    /// The host without its first character: a substring of the allowed origin, what a
    /// `contains` check lets through.
    Substring,
    /// The host's first dot replaced by `x`: what a regular expression with an unescaped `.`
    /// lets through.
    UnescapedDot,
    /// `https` ↔ `http`, same host and port (a downgrade from an https entry).
    SchemeFlip,
    /// The port removed, or `:4443` added.
    OtherPort,
    /// Scheme and host in upper case: never a serialized origin, which is lowercase.
    UpperCase,
    /// A `/` appended: never a serialized origin.
    TrailingSlash,
    /// The opaque origin `null`.
    Null,
}

impl Mutation {
    /// Every family.
    ///
    /// ```
    /// assert_eq!(corsproof_testkit::origins::Mutation::ALL.len(), 10);
    /// ```
    pub const ALL: [Mutation; 10] = [
        Mutation::Apex,
        Mutation::Prefix,
        Mutation::Suffix,
        Mutation::Substring,
        Mutation::UnescapedDot,
        Mutation::SchemeFlip,
        Mutation::OtherPort,
        Mutation::UpperCase,
        Mutation::TrailingSlash,
        Mutation::Null,
    ];

    /// The families whose result is always a serialized origin, which a browser may send.
    ///
    /// ```
    /// use corsproof_testkit::origins::Mutation;
    /// assert!(Mutation::SERIALIZED.iter().all(|m| m.serialized()));
    /// ```
    pub const SERIALIZED: [Mutation; 8] = [
        Mutation::Apex,
        Mutation::Prefix,
        Mutation::Suffix,
        Mutation::Substring,
        Mutation::UnescapedDot,
        Mutation::SchemeFlip,
        Mutation::OtherPort,
        Mutation::Null,
    ];

    /// Whether [`Mutation::apply`] gives a serialized origin (`scheme://host[:port]`
    /// lowercase, or `null`).
    ///
    /// ```
    /// assert!(!corsproof_testkit::origins::Mutation::UpperCase.serialized());
    /// ```
    pub fn serialized(self) -> bool {
        !matches!(self, Mutation::UpperCase | Mutation::TrailingSlash)
    }

    /// The near miss of `entry`. A pattern stands for its `a.` instance, except that
    /// [`Mutation::Apex`], [`Mutation::Suffix`] and [`Mutation::Substring`] start from its
    /// domain (an instance changed there would still be an instance); `null` stands for
    /// `https://app.example.com`. A host change that does not apply (to an IP address, to a
    /// single label for [`Mutation::UnescapedDot`], or whose result is no DNS name) gives
    /// [`Mutation::OtherPort`]'s result instead.
    ///
    /// ```
    /// use corsproof_policy::OriginEntry;
    /// use corsproof_testkit::origins::Mutation;
    /// let pattern: OriginEntry = "https://*.example.com:8443".parse().unwrap();
    /// assert_eq!(Mutation::Apex.apply(&pattern), "https://example.com:8443");
    /// assert_eq!(Mutation::SchemeFlip.apply(&pattern), "http://a.example.com:8443");
    /// assert_eq!(Mutation::Suffix.apply(&pattern), "https://evilexample.com:8443");
    /// let local: OriginEntry = "http://localhost".parse().unwrap();
    /// assert_eq!(Mutation::Apex.apply(&local), "http://www.localhost");
    /// assert_eq!(Mutation::OtherPort.apply(&local), "http://localhost:4443");
    /// ```
    pub fn apply(self, entry: &OriginEntry) -> String {
        let (scheme, host, port) = parts(entry);
        // What a host change starts from: a pattern's domain, which every instance ends with.
        let base = match entry {
            OriginEntry::Subdomain { domain, .. } => domain.clone(),
            _ => host.clone(),
        };
        let ip = host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        let other_port = || {
            serialize(
                scheme,
                &host,
                if port.is_some() { None } else { Some(4443) },
            )
        };
        match self {
            Mutation::Apex if ip => other_port(),
            Mutation::Apex => {
                let apex = match entry {
                    OriginEntry::Subdomain { domain, .. } => domain.clone(),
                    _ => match host.split_once('.') {
                        Some((_, parent)) if parent.contains('.') => parent.to_string(),
                        _ => format!("www.{host}"),
                    },
                };
                serialize(scheme, &apex, port)
            }
            Mutation::Prefix | Mutation::Suffix | Mutation::Substring | Mutation::UnescapedDot => {
                let changed = match self {
                    Mutation::Prefix => format!("{host}.evil.test"),
                    Mutation::Suffix => format!("evil{base}"),
                    Mutation::Substring => base.get(1..).unwrap_or_default().to_string(),
                    _ => host.replacen('.', "x", 1),
                };
                if ip || changed == host || !dns_name(&changed) {
                    other_port()
                } else {
                    serialize(scheme, &changed, port)
                }
            }
            Mutation::SchemeFlip => {
                let flipped = match scheme {
                    Scheme::Https => Scheme::Http,
                    Scheme::Http => Scheme::Https,
                };
                serialize(flipped, &host, port)
            }
            Mutation::UpperCase => serialize(scheme, &host, port).to_ascii_uppercase(),
            Mutation::TrailingSlash => format!("{}/", serialize(scheme, &host, port)),
            Mutation::Null => "null".to_string(),
            Mutation::OtherPort => other_port(),
        }
    }
}

/// Whether `host` reads as a DNS name in a URL: labels of `a-z 0-9 -`, none empty, none
/// starting or ending with `-`, the last starting with a letter (else the URL parser takes
/// the name for an IPv4 address).
fn dns_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.iter().all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }) && labels
        .last()
        .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
}

/// `:port` after `suffix` when the port is not the scheme's default.
fn with_port(suffix: &str, scheme: Scheme, port: Option<u16>) -> String {
    match port {
        Some(p) if p != scheme.default_port() => format!("{suffix}:{p}"),
        _ => suffix.to_string(),
    }
}

/// (scheme, host, port) of an entry: a pattern gives its `a.` instance, `null` gives
/// `https://app.example.com`.
fn parts(entry: &OriginEntry) -> (Scheme, String, Option<u16>) {
    match entry {
        OriginEntry::Exact { scheme, host, port } => (*scheme, host.clone(), *port),
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => (*scheme, format!("a.{domain}"), *port),
        OriginEntry::Null => (Scheme::Https, "app.example.com".to_string(), None),
    }
}

/// `scheme://host[:port]` with the default port left out, as browsers serialize an origin.
///
/// ```
/// use corsproof_policy::Scheme;
/// use corsproof_testkit::origins::serialize;
/// assert_eq!(serialize(Scheme::Https, "a.example", Some(443)), "https://a.example");
/// assert_eq!(serialize(Scheme::Http, "a.example", Some(8080)), "http://a.example:8080");
/// ```
pub fn serialize(scheme: Scheme, host: &str, port: Option<u16>) -> String {
    format!(
        "{}://{host}{}",
        scheme.as_str(),
        with_port("", scheme, port)
    )
}

/// The serialized origin a browser sends for a page at `entry`: an exact entry as written, a
/// pattern's instance with `labels` in front (`a`, `a.b`), `null` as `null`.
///
/// ```
/// use corsproof_policy::OriginEntry;
/// use corsproof_testkit::origins::instance;
/// let pattern: OriginEntry = "https://*.example.com".parse().unwrap();
/// assert_eq!(instance(&pattern, "a.b"), "https://a.b.example.com");
/// assert_eq!(instance(&OriginEntry::Null, "a"), "null");
/// ```
pub fn instance(entry: &OriginEntry, labels: &str) -> String {
    match entry {
        OriginEntry::Exact { scheme, host, port } => serialize(*scheme, host, *port),
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => serialize(*scheme, &format!("{labels}.{domain}"), *port),
        OriginEntry::Null => "null".to_string(),
    }
}
