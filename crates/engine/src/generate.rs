//! Proptest strategies of browser requests, biased by a policy: the origins it allows and the
//! mutations that break real allowlists, its methods and header names and the ones around
//! them, credentials modes, and paths under every route, every `probe_paths` entry and paths
//! no route covers. Exported for users' own property tests.
//!
//! A generated request is the oracle's [`RequestInit`]: what script asks for. The case format
//! (`corsproof_case::RequestJson::from_init`) spells it as the `request` of an `explain` case,
//! so that any failing case is also an `explain` case.
//!
//! ```
//! use corsproof_engine::generate::Generator;
//! use corsproof_policy::Policy;
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let policy = Policy::from_toml_str(
//!     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://*.example.com\"]\n",
//!     "p.toml",
//! )?;
//! let gen = Generator::new(&policy, &url::Url::parse("http://127.0.0.1:8080")?);
//! let mut runner = TestRunner::deterministic();
//! let request = gen.request().new_tree(&mut runner).unwrap().current();
//! assert!(request.url.as_str().starts_with("http://127.0.0.1:8080/"));
//! assert!(gen.origins().iter().any(|o| o.serialization() == "https://evilexample.com"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeSet;

use corsproof_oracle::{CredentialsMode, Origin, RequestInit, RequestMode};
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route, Scheme};
use proptest::prelude::*;
use proptest::sample::select;
use url::Url;

/// Origins no policy is expected to allow, added to every pool.
const STRANGERS: [&str; 4] = [
    "https://evil.test",
    "http://localhost:3000",
    "https://attacker.example.net",
    "null",
];

/// Methods around any policy's: safelisted, common, lowercase (not normalized by browsers
/// unless they are one of the six), and a custom token.
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "patch", "put", "OPTIONS", "PURGE",
];

/// Request headers around any policy's: safelisted values, values that stop being
/// safelisted, and unsafe names.
const HEADERS: [(&str, &str); 14] = [
    ("Accept", "application/json"),
    ("Accept-Language", "en-GB"),
    ("Accept-Language", "en\"GB"),
    ("Content-Language", "de"),
    ("Content-Type", "text/plain;charset=UTF-8"),
    ("Content-Type", "application/json"),
    ("Content-Type", "multipart/form-data; boundary=x"),
    ("Range", "bytes=0-99"),
    ("Range", "bytes=0-1,4-5"),
    ("Authorization", "Bearer corsproof"),
    ("X-Requested-With", "XMLHttpRequest"),
    ("X-Corsproof-Other", "1"),
    ("X-Request-Id", "7"),
    ("Cache-Control", "no-cache"),
];

/// Builds strategies from one policy and the target's base URL.
#[derive(Debug, Clone)]
pub struct Generator {
    base: Url,
    origins: Vec<Origin>,
    methods: Vec<String>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    paths: Vec<String>,
    /// Subdomain patterns as (scheme, domain, port) serialization parts.
    patterns: Vec<(Scheme, String, Option<u16>)>,
}

impl Generator {
    /// The pools of `policy` for a target at `base` (scheme, host, port; a path is ignored).
    pub fn new(policy: &Policy, base: &Url) -> Generator {
        let mut origins = BTreeSet::new();
        let mut methods: BTreeSet<String> = METHODS.iter().map(|m| m.to_string()).collect();
        let mut headers: Vec<(String, String)> = HEADERS
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let mut paths = BTreeSet::new();
        let target_origin = Origin::of_url(base).serialization().to_string();
        origins.insert(target_origin);
        for s in STRANGERS {
            origins.insert(s.to_string());
        }
        for route in &policy.routes {
            if let Origins::List(entries) = &route.origins {
                for entry in entries {
                    origins.extend(mutations(entry));
                }
            }
            methods.extend(route.methods.iter().cloned());
            for names in [&route.request_headers, &route.expose_headers] {
                if let HeaderNames::List(list) = names {
                    for name in list {
                        headers.push((name.clone(), "1".to_string()));
                    }
                }
            }
            paths.extend(route_paths(route));
        }
        // Paths no route covers, when there are any (a route at `/` covers everything).
        for p in ["/corsproof-uncovered", "/"] {
            if !policy.routes.iter().any(|r| p.starts_with(r.path.as_str())) {
                paths.insert(p.to_string());
            }
        }
        // A long value and many headers stress the safelist's byte limits (R16, R18: 128 and
        // 1024 bytes).
        headers.push(("Accept".to_string(), "a".repeat(130)));
        let origins = origins
            .into_iter()
            .filter_map(|o| Origin::parse_serialized(&o).ok())
            .collect();
        let headers = headers
            .into_iter()
            .map(|(n, v)| (n.into_bytes(), v.into_bytes()))
            .collect();
        Generator {
            base: base.clone(),
            origins,
            methods: methods.into_iter().collect(),
            headers,
            paths: paths.into_iter().collect(),
            patterns: patterns(policy),
        }
    }

    /// The origin pool: every allowed origin and pattern instance, their mutations, strangers,
    /// `null` and the target's own origin.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// The path pool: route prefixes and subpaths, probe paths, uncovered paths.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// The URL of `path` (a path, with a query or not) on the target.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        match path.split_once('?') {
            Some((p, q)) => {
                url.set_path(p);
                url.set_query(Some(q));
            }
            None => {
                url.set_path(path);
                url.set_query(None);
            }
        }
        url
    }

    /// A strategy of origins: the pool, and instances of the policy's subdomain patterns
    /// with one or two random labels.
    pub fn origin(&self) -> BoxedStrategy<Origin> {
        let pool = select(self.origins.clone());
        if self.patterns.is_empty() {
            return pool.boxed();
        }
        let label = "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?";
        let instance = (
            select(self.patterns.clone()),
            proptest::collection::vec(label, 1..3),
        )
            .prop_filter_map(
                "a pattern instance is an origin",
                |((scheme, domain, port), labels)| {
                    let serialized =
                        serialize(scheme, &format!("{}.{domain}", labels.join(".")), port);
                    Origin::parse_serialized(&serialized).ok()
                },
            );
        prop_oneof![4 => pool, 1 => instance].boxed()
    }

    /// A strategy of browser requests to the target.
    pub fn request(&self) -> impl Strategy<Value = RequestInit> {
        let this = self.clone();
        let header = select(self.headers.clone());
        (
            self.origin(),
            select(self.paths.clone()),
            prop_oneof![
                3 => Just("GET".to_string()),
                1 => Just("POST".to_string()),
                4 => select(self.methods.clone()),
            ],
            prop_oneof![
                2 => Just(Vec::new()),
                3 => proptest::collection::vec(header.clone(), 1..3),
                1 => proptest::collection::vec(header, 3..9),
            ],
            select(vec![
                CredentialsMode::Omit,
                CredentialsMode::SameOrigin,
                CredentialsMode::Include,
            ]),
            prop_oneof![8 => Just(RequestMode::Cors), 1 => Just(RequestMode::NoCors)],
            proptest::bool::weighted(0.05),
            proptest::bool::weighted(0.15),
        )
            .prop_map(
                move |(origin, path, method, headers, credentials, mode, upload, private)| {
                    let mut init = RequestInit::new(this.url(&path), origin);
                    init.method = method;
                    init.headers = headers;
                    init.credentials = credentials;
                    init.mode = mode;
                    init.use_cors_preflight = upload;
                    // A page on a public site calling a server on a private address (R67:
                    // Chromium's PNA preflight).
                    init.target_more_private = private;
                    init
                },
            )
    }

    /// The deterministic cases every check starts with: for every path and every origin of
    /// the pool, a simple credentialed GET; then, for every route, its methods and headers
    /// from each of its allowed origins.
    pub fn baseline(&self, policy: &Policy) -> Vec<RequestInit> {
        let simple =
            |origin: &Origin, path: &str, method: &str, headers: Vec<(Vec<u8>, Vec<u8>)>| {
                let mut init = RequestInit::new(self.url(path), origin.clone());
                init.method = method.to_string();
                init.headers = headers;
                init.credentials = CredentialsMode::Include;
                init
            };
        let evil = Origin::parse_serialized("https://evil.test").ok();
        let mut out = Vec::new();
        for path in &self.paths {
            for origin in &self.origins {
                out.push(simple(origin, path, "GET", Vec::new()));
                // The same from a public page to this (private) server: PNA under chromium,
                // with and without credentials.
                for credentials in [CredentialsMode::Include, CredentialsMode::Omit] {
                    let mut pna = simple(origin, path, "GET", Vec::new());
                    pna.target_more_private = true;
                    pna.credentials = credentials;
                    out.push(pna);
                }
            }
        }
        for route in &policy.routes {
            let Origins::List(entries) = &route.origins else {
                continue;
            };
            let first = out.len();
            let path = route
                .probe_paths
                .first()
                .cloned()
                .unwrap_or_else(|| route.path.clone());
            let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            if let HeaderNames::List(names) = &route.request_headers {
                headers = names
                    .iter()
                    .map(|n| (n.clone().into_bytes(), b"1".to_vec()))
                    .collect();
            }
            for entry in entries {
                let Some(origin) = instance(entry) else {
                    continue;
                };
                for method in &route.methods {
                    out.push(simple(&origin, &path, method, headers.clone()));
                }
                // What the route does not allow, from an allowed origin: another method,
                // another header; and an XHR upload (a preflight for a simple method, R13).
                out.push(simple(&origin, &path, "PURGE", Vec::new()));
                out.push(simple(
                    &origin,
                    &path,
                    "GET",
                    vec![(b"X-Corsproof-Unlisted".to_vec(), b"1".to_vec())],
                ));
                let mut upload = simple(&origin, &path, "POST", Vec::new());
                upload.use_cors_preflight = true;
                out.push(upload);
            }
            // What the route allows, from a refused origin.
            if let Some(evil) = &evil {
                for method in &route.methods {
                    out.push(simple(evil, &path, method, headers.clone()));
                }
            }
            // With the credentials mode the route grants, so that only the probed detail can
            // make the preflight fail.
            if !route.credentials {
                for case in &mut out[first..] {
                    case.credentials = CredentialsMode::Omit;
                }
            }
        }
        out
    }
}

/// The paths probed under a route: its prefix, subpaths, a path its server does not have,
/// and its `probe_paths`.
fn route_paths(route: &Route) -> Vec<String> {
    let prefix = route.path.as_str();
    let dir = if prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    };
    let mut out = vec![
        prefix.to_string(),
        format!("{dir}corsproof-probe"),
        format!("{dir}a/b?q=1"),
        format!("{dir}corsproof-missing-404"),
        // `corsproof serve`'s demo answers 500 under `.../error`: CORS headers must be on
        // error responses too.
        format!("{dir}error"),
    ];
    out.extend(route.probe_paths.iter().cloned());
    out
}

/// The policy's subdomain patterns as (scheme, domain, port).
fn patterns(policy: &Policy) -> Vec<(Scheme, String, Option<u16>)> {
    policy
        .routes
        .iter()
        .filter_map(|r| match &r.origins {
            Origins::List(entries) => Some(entries),
            Origins::Any => None,
        })
        .flatten()
        .filter_map(|e| match e {
            OriginEntry::Subdomain {
                scheme,
                domain,
                port,
            } => Some((*scheme, domain.clone(), *port)),
            _ => None,
        })
        .collect()
}

/// A concrete origin an entry allows (`a1.` in front of a pattern's domain).
fn instance(entry: &OriginEntry) -> Option<Origin> {
    let serialized = match entry {
        OriginEntry::Exact { .. } | OriginEntry::Null => entry.to_string(),
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => serialize(*scheme, &format!("a1.{domain}"), *port),
    };
    Origin::parse_serialized(&serialized).ok()
}

fn serialize(scheme: Scheme, host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{}://{host}:{p}", scheme.as_str()),
        None => format!("{}://{host}", scheme.as_str()),
    }
}

/// An allowed entry and the mutations that break real allowlists: scheme downgrade and
/// upgrade, explicit default and other ports, a dot replaced, a label or character
/// prepended or appended, the allowed host as a prefix or suffix of an attacker's host,
/// truncations, pattern instances and the pattern's apex, IDN/punycode look-alikes.
///
/// ```
/// use corsproof_engine::generate::mutations;
/// let entry = "https://app.example.com".parse().unwrap();
/// let m = mutations(&entry);
/// for o in ["http://app.example.com", "https://app.example.com.evil.test",
///           "https://evilapp.example.com", "https://appxexample.com", "https://app.example.co"] {
///     assert!(m.iter().any(|x| x == o), "{o}");
/// }
/// ```
pub fn mutations(entry: &OriginEntry) -> Vec<String> {
    let (scheme, host, port, pattern) = match entry {
        OriginEntry::Null => return vec!["null".to_string()],
        OriginEntry::Exact { scheme, host, port } => (*scheme, host.clone(), *port, false),
        OriginEntry::Subdomain {
            scheme,
            domain,
            port,
        } => (*scheme, domain.clone(), *port, true),
    };
    let other_scheme = match scheme {
        Scheme::Http => Scheme::Https,
        Scheme::Https => Scheme::Http,
    };
    let mut hosts = Vec::new();
    if pattern {
        // Instances with one and two labels, and the apex the pattern never matches.
        hosts.push(format!("a1.{host}"));
        hosts.push(format!("x-y.z9.{host}"));
        hosts.push(host.clone());
        // Hosts a browser's URL parser keeps that are not DNS labels in front of the domain:
        // an underscore, an empty label, a hyphen at an edge, a label of 64 bytes.
        hosts.push(format!("a_b.{host}"));
        hosts.push(format!("a..{host}"));
        hosts.push(format!("-a.{host}"));
        hosts.push(format!("a-.{host}"));
        hosts.push(format!("{}.{host}", "a".repeat(64)));
    } else {
        hosts.push(host.clone());
    }
    let mut out = Vec::new();
    for h in &hosts {
        out.push(serialize(scheme, h, port));
        out.push(serialize(other_scheme, h, port));
        out.push(serialize(
            scheme,
            h,
            Some(port.unwrap_or(scheme.default_port())),
        ));
        out.push(serialize(scheme, h, Some(8443)));
    }
    let is_ip = host.starts_with('[') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !is_ip {
        let near = [
            format!("{host}.evil.test"),
            format!("evil{host}"),
            format!("evil-{host}"),
            format!("{host}x"),
            format!("x{host}"),
            format!("{host}-evil.test"),
            host.replacen('.', "x", 1),
            host.replacen('.', "-", 1),
            host.replacen('.', "_", 1),
            host.get(..host.len().saturating_sub(1))
                .unwrap_or_default()
                .to_string(),
            host.split_once('.')
                .map(|(_, r)| r.to_string())
                .unwrap_or_default(),
            format!("xn--{}", host.replacen('.', "-", 1)),
            format!("xn--80ak6aa92e.{host}"),
        ];
        for h in near {
            if !h.is_empty() && !h.starts_with('.') && !h.ends_with('.') {
                out.push(serialize(scheme, &h, port));
            }
        }
    }
    out.push(serialize(scheme, "[::1]", port));
    out.push(serialize(scheme, "127.0.0.1", port));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_mutations_include_the_apex_and_instances() {
        let entry: OriginEntry = "https://*.example.com".parse().unwrap();
        let m = mutations(&entry);
        assert!(m.contains(&"https://example.com".to_string()));
        assert!(m.contains(&"https://a1.example.com".to_string()));
        assert!(m.contains(&"http://a1.example.com".to_string()));
        assert!(m.contains(&"https://example.com.evil.test".to_string()));
        for not_labels in ["a_b", "a.", "-a", "a-"] {
            assert!(m.contains(&format!("https://{not_labels}.example.com")));
        }
        assert!(m.contains(&format!("https://{}.example.com", "a".repeat(64))));
    }

    #[test]
    fn pattern_instances_have_random_labels() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let p = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/\"\norigins = [\"https://*.partner.test\"]\n",
            "p.toml",
        )
        .unwrap();
        let g = Generator::new(&p, &Url::parse("http://127.0.0.1:1").unwrap());
        let mut runner = TestRunner::deterministic();
        let mut instances = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let o = g.origin().new_tree(&mut runner).unwrap().current();
            let s = o.serialization().to_string();
            if s.ends_with(".partner.test")
                && s.starts_with("https://")
                && !g.origins().contains(&o)
            {
                instances.insert(s);
            }
        }
        assert!(instances.len() > 20, "{instances:?}");
    }

    #[test]
    fn uncovered_paths_only_when_no_route_covers_them() {
        let base = Url::parse("http://127.0.0.1:1").unwrap();
        let p = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\n",
            "p.toml",
        )
        .unwrap();
        assert!(!Generator::new(&p, &base)
            .paths()
            .contains(&"/corsproof-uncovered".to_string()));
        let p = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"*\"]\n",
            "p.toml",
        )
        .unwrap();
        let g = Generator::new(&p, &base);
        assert!(g.paths().contains(&"/corsproof-uncovered".to_string()));
        assert!(g.paths().contains(&"/api/a/b?q=1".to_string()));
    }
}
