//! What a policy intends for a browser request (P1–P11 of spec/SPEC.md, the semantics
//! section of `docs/policy.md`): three-valued (must / must not / may) for whether
//! the request is sent, whether script can read the response, which headers it sees, and
//! how long a passed preflight may be cached.
//!
//! The origin matching here is the oracle's own; the middleware has a separate one.

use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};

use crate::error::RuleId;
use crate::fetch::Outcome;
use crate::grammar::eq_ignore_case;
use crate::headers::{is_always_safelisted_response_header, is_forbidden_response_header};
use crate::method;
use crate::origin::Origin;
use crate::profile::Profile;
use crate::request::{CredentialsMode, Request, RequestMode};
use crate::response::Response;

/// A three-valued intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tri {
    /// The outcome must hold.
    Must,
    /// The outcome must not hold.
    MustNot,
    /// Either is fine (the policy leaves it open).
    May,
}

impl Tri {
    fn of(b: bool) -> Tri {
        if b {
            Tri::Must
        } else {
            Tri::MustNot
        }
    }

    /// Both: `must not` if either is, `must` if both are, otherwise `may`.
    ///
    /// ```
    /// use corsproof_oracle::intent::Tri;
    /// assert_eq!(Tri::Must.and(Tri::May), Tri::May);
    /// assert_eq!(Tri::May.and(Tri::MustNot), Tri::MustNot);
    /// assert_eq!(Tri::Must.and(Tri::Must), Tri::Must);
    /// ```
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::MustNot, _) | (_, Tri::MustNot) => Tri::MustNot,
            (Tri::Must, Tri::Must) => Tri::Must,
            _ => Tri::May,
        }
    }

    fn and_bool(self, other: bool) -> Tri {
        self.and(Tri::of(other))
    }

    /// Whether an observed boolean conforms.
    ///
    /// ```
    /// use corsproof_oracle::intent::Tri;
    /// assert!(Tri::May.allows(true) && Tri::Must.allows(true) && !Tri::MustNot.allows(true));
    /// ```
    pub fn allows(self, observed: bool) -> bool {
        match self {
            Tri::Must => observed,
            Tri::MustNot => !observed,
            Tri::May => true,
        }
    }

    /// `must`, `must-not`, `may`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tri::Must => "must",
            Tri::MustNot => "must-not",
            Tri::May => "may",
        }
    }
}

/// Which response headers script must, must not, or may see (P9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExposeIntent {
    /// Nothing is readable, so nothing is exposed.
    Nothing,
    /// Everything but `Set-Cookie`/`Set-Cookie2` (a basic, same-origin response).
    AllButForbidden,
    /// The safelisted names plus `names` must be exposed; other names must not be, or may
    /// be when `others_may` (`["*"]` on a credentialed request).
    Names {
        /// Exposed names, lowercase.
        names: Vec<String>,
        /// `["*"]`: every name (uncredentialed).
        all: bool,
        /// Names not listed are left open.
        others_may: bool,
    },
}

/// A policy's intent for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// The index of the route that covers the request (P1), `None` if no route does (P2).
    pub route: Option<usize>,
    /// Whether the actual request is sent (P7).
    pub sent: Tri,
    /// Whether script can read the response (P8).
    pub readable: Tri,
    /// Which headers script sees (P9).
    pub exposed: ExposeIntent,
    /// The longest a passed preflight may be cached, in seconds (P10).
    pub max_cache_seconds: u64,
    /// The rule that decided `readable`.
    pub rule: RuleId,
}

/// One way an outcome departs from the intent. A departure is only ever from `must` or
/// `must not` (a `may` conforms either way), so the intent says what was observed: the
/// opposite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The actual request was sent against `must not`, or not sent against `must` (P7).
    Sent {
        /// What the intent says: [`Tri::Must`] or [`Tri::MustNot`].
        expected: Tri,
    },
    /// Script could read the response against `must not`, or not against `must`; `rule` is
    /// the policy rule that decided the intent ([`Intent::rule`]: P3–P6, P8, P11).
    Readable {
        /// What the intent says: [`Tri::Must`] or [`Tri::MustNot`].
        expected: Tri,
        /// The policy rule.
        rule: RuleId,
    },
    /// Script could see response header `name` against `must not`, or not against `must`
    /// (P9).
    Exposed {
        /// The header name as the response spelled it, lowercased.
        name: String,
        /// What the intent says: [`Tri::Must`] or [`Tri::MustNot`].
        expected: Tri,
    },
    /// A passed preflight is cached for `seconds`, longer than the policy's `max_seconds`
    /// (P10).
    Cache {
        /// The policy's bound.
        max_seconds: u64,
        /// What the browser caches.
        seconds: u64,
    },
}

impl Mismatch {
    /// The policy rule departed from.
    ///
    /// ```
    /// use corsproof_oracle::intent::{Mismatch, Tri};
    /// use corsproof_oracle::RuleId;
    /// assert_eq!(Mismatch::Sent { expected: Tri::MustNot }.rule(), RuleId::P7);
    /// assert_eq!(Mismatch::Cache { max_seconds: 600, seconds: 7200 }.rule(), RuleId::P10);
    /// ```
    pub fn rule(&self) -> RuleId {
        match self {
            Mismatch::Sent { .. } => RuleId::P7,
            Mismatch::Readable { rule, .. } => *rule,
            Mismatch::Exposed { .. } => RuleId::P9,
            Mismatch::Cache { .. } => RuleId::P10,
        }
    }

    /// Whether the browser grants more than the policy does (sent, read, seen or cached
    /// against the intent), rather than less.
    ///
    /// ```
    /// use corsproof_oracle::intent::{Mismatch, Tri};
    /// assert!(Mismatch::Sent { expected: Tri::MustNot }.grants());
    /// assert!(!Mismatch::Exposed { name: "x-a".into(), expected: Tri::Must }.grants());
    /// ```
    pub fn grants(&self) -> bool {
        match self {
            Mismatch::Sent { expected }
            | Mismatch::Readable { expected, .. }
            | Mismatch::Exposed { expected, .. } => *expected == Tri::MustNot,
            Mismatch::Cache { .. } => true,
        }
    }
}

impl Intent {
    /// Whether script should see response header `name` (P9).
    pub fn expose(&self, name: &[u8]) -> Tri {
        match &self.exposed {
            ExposeIntent::Nothing => Tri::MustNot,
            ExposeIntent::AllButForbidden => Tri::of(!is_forbidden_response_header(name)),
            ExposeIntent::Names {
                names,
                all,
                others_may,
            } => {
                if is_forbidden_response_header(name) {
                    Tri::MustNot
                } else if is_always_safelisted_response_header(name)
                    || *all
                    || names.iter().any(|n| eq_ignore_case(n.as_bytes(), name))
                {
                    Tri::Must
                } else if *others_may {
                    Tri::May
                } else {
                    Tri::MustNot
                }
            }
        }
    }

    /// Compares what the oracle says a browser did with the intent: every departure, in the
    /// order sent, readable, exposed (response header order), cache. `response` is the final
    /// response the outcome was computed from.
    ///
    /// ```
    /// use corsproof_oracle::intent::{Intent, ExposeIntent, Mismatch, Tri};
    /// use corsproof_oracle::{Fetch, Origin, PreflightCache, Profile, Request, RequestInit, Response};
    /// let init = RequestInit::new(url::Url::parse("https://api.test/x").unwrap(),
    ///     Origin::parse_serialized("https://evil.test").unwrap());
    /// let p = Profile::fetch();
    /// let req = Request::construct(init, &p).unwrap();
    /// let mut cache = PreflightCache::default();
    /// let mut f = Fetch::new(&req, &p);
    /// f.start(&mut cache, 0.0);
    /// let resp = Response::new(200, [("Access-Control-Allow-Origin", "https://evil.test")]);
    /// f.on_response(&resp, &mut cache, 0.0);
    /// let intent = Intent { route: None, sent: Tri::Must, readable: Tri::MustNot,
    ///     exposed: ExposeIntent::Nothing, max_cache_seconds: 5, rule: corsproof_oracle::RuleId::P5 };
    /// let m = intent.judge(f.outcome(), &resp, corsproof_oracle::CredentialsMode::SameOrigin);
    /// assert_eq!(m, [Mismatch::Readable { expected: Tri::MustNot, rule: corsproof_oracle::RuleId::P5 }]);
    /// assert!(m[0].grants());
    /// ```
    pub fn judge(
        &self,
        outcome: &Outcome<'_>,
        response: &Response,
        credentials: CredentialsMode,
    ) -> Vec<Mismatch> {
        let mut out = Vec::new();
        if !self.sent.allows(outcome.sent()) {
            out.push(Mismatch::Sent {
                expected: self.sent,
            });
        }
        if !self.readable.allows(outcome.readable) {
            out.push(Mismatch::Readable {
                expected: self.readable,
                rule: self.rule,
            });
        }
        if outcome.readable && self.readable != Tri::MustNot {
            let exposed = crate::expose::ExposedList::of(response, credentials);
            for (name, _) in response.headers() {
                let seen = crate::expose::is_visible(name, outcome.response_type, &exposed);
                let expected = self.expose(name);
                if !expected.allows(seen) {
                    out.push(Mismatch::Exposed {
                        name: crate::grammar::isomorphic_decode(name).to_ascii_lowercase(),
                        expected,
                    });
                }
            }
        }
        for hop in &outcome.hops {
            if let Some(p) = hop.preflight.as_ref().filter(|p| p.ok) {
                if p.cache_seconds > self.max_cache_seconds {
                    out.push(Mismatch::Cache {
                        max_seconds: self.max_cache_seconds,
                        seconds: p.cache_seconds,
                    });
                }
            }
        }
        out
    }
}

/// P1: the route covering the request path `path` (as a browser sends it: the URL parser has
/// removed dot segments): percent-encoded unreserved characters (RFC 3986 section 2.3:
/// `A-Z a-z 0-9 - . _ ~`, hex digits of either case) are decoded in the path and in every
/// route's `path` (RFC 3986 section 6.2.2.2: `/%61pi/` is `/api/`), every other byte is
/// compared as it is (`%2F` stays encoded and is not a `/`), and the route whose decoded
/// `path` is the longest byte prefix of the decoded request path wins, case-sensitively
/// (`/API/`, `/api` and `/apifoo` are not under `/api/`). Two routes equal once decoded
/// (`/api/` and `/%61pi/`): the first one.
///
/// ```
/// use corsproof_policy::{Policy, Route};
/// use corsproof_oracle::intent::route_for;
/// let p = Policy { version: 1, routes: vec![Route::same_origin_only("/a/"), Route::same_origin_only("/a/b/")] };
/// assert_eq!(route_for(&p, "/a/b/c"), Some(1));
/// assert_eq!(route_for(&p, "/%61/b%2Fc"), Some(0));
/// assert_eq!(route_for(&p, "/c"), None);
/// ```
pub fn route_for(policy: &Policy, path: &str) -> Option<usize> {
    let path = decode_unreserved(path);
    let mut best: Option<(usize, usize)> = None;
    for (i, route) in policy.routes.iter().enumerate() {
        let prefix = decode_unreserved(&route.path);
        if path.as_bytes().starts_with(prefix.as_bytes())
            && best.is_none_or(|(_, len)| prefix.len() > len)
        {
            best = Some((i, prefix.len()));
        }
    }
    best.map(|(i, _)| i)
}

/// `text` with every percent-encoded unreserved character (RFC 3986 section 2.3) decoded and
/// every other byte, other triplets included, left as it is (one pass: `%2561` stays).
fn decode_unreserved(text: &str) -> std::borrow::Cow<'_, str> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = text.as_bytes();
    if !bytes.contains(&b'%') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let triplet = rest.as_bytes().get(at + 1..at + 3);
        let decoded = triplet
            .and_then(|t| Some(hex(t[0])? * 16 + hex(t[1])?))
            .and_then(char::from_u32)
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'));
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// P4: whether `origin` matches one of the route's origin entries: `true` only for a
/// [`origin_match`] of [`Tri::Must`].
///
/// ```
/// use corsproof_policy::{OriginEntry, Origins, Scheme};
/// use corsproof_oracle::{intent::origin_matches, Origin};
/// let o = Origins::List(vec![OriginEntry::Subdomain { scheme: Scheme::Https, domain: "example.com".into(), port: None }]);
/// let m = |s: &str| origin_matches(&o, &Origin::parse_serialized(s).unwrap());
/// assert!(m("https://a.example.com") && m("https://a.b.example.com"));
/// assert!(!m("https://example.com") && !m("http://a.example.com") && !m("https://a.example.com:8443"));
/// assert!(!m("https://evilexample.com") && !m("https://a.example.com.evil.test"));
/// ```
pub fn origin_matches(origins: &Origins, origin: &Origin) -> bool {
    origin_match(origins, origin) == Tri::Must
}

/// P4, three-valued: [`Tri::Must`] when `origin` matches an entry, [`Tri::May`] when it is
/// not matched but is a host under a subdomain pattern's domain (same scheme and port) whose
/// part in front of the domain is not one or more DNS labels (`a_b.`, `a..`, `-a.`, a label
/// over 63 bytes: hosts a browser's URL parser keeps, that only the domain's owner can
/// create or that DNS cannot resolve, so the policy leaves granting them open), otherwise
/// [`Tri::MustNot`].
///
/// ```
/// use corsproof_policy::{OriginEntry, Origins, Scheme};
/// use corsproof_oracle::{intent::{origin_match, Tri}, Origin};
/// let o = Origins::List(vec![OriginEntry::Subdomain { scheme: Scheme::Https, domain: "example.com".into(), port: None }]);
/// let m = |s: &str| origin_match(&o, &Origin::parse_serialized(s).unwrap());
/// assert_eq!(m("https://a.example.com"), Tri::Must);
/// assert_eq!(m("https://a_b.example.com"), Tri::May);
/// assert_eq!(m("https://a..example.com"), Tri::May);
/// assert_eq!(m("https://-a.example.com"), Tri::May);
/// assert_eq!(m("https://example.com"), Tri::MustNot);
/// assert_eq!(m("http://a_b.example.com"), Tri::MustNot);
/// assert_eq!(m("https://a_b.example.com.evil.test"), Tri::MustNot);
/// ```
pub fn origin_match(origins: &Origins, origin: &Origin) -> Tri {
    let entries = match origins {
        Origins::Any => return Tri::Must,
        Origins::List(entries) => entries,
    };
    let mut verdict = Tri::MustNot;
    for entry in entries {
        let this = match (entry, origin) {
            (OriginEntry::Null, Origin::Opaque) => Tri::Must,
            (OriginEntry::Null, _) | (_, Origin::Opaque) => Tri::MustNot,
            (OriginEntry::Exact { scheme, host, port }, o) => Tri::of(
                o.scheme() == Some(scheme.as_str())
                    && o.host() == Some(host.as_str())
                    && o.port_or_default() == Some(port.unwrap_or(scheme.default_port())),
            ),
            (
                OriginEntry::Subdomain {
                    scheme,
                    domain,
                    port,
                },
                o,
            ) => {
                let host = o.host().unwrap_or_default();
                let is_ip = host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok();
                let front = host
                    .strip_suffix(domain.as_str())
                    .and_then(|labels| labels.strip_suffix('.'))
                    .filter(|front| !front.is_empty());
                match front {
                    Some(front)
                        if o.scheme() == Some(scheme.as_str())
                            && o.port_or_default()
                                == Some(port.unwrap_or(scheme.default_port()))
                            && !is_ip =>
                    {
                        if front.split('.').all(is_dns_label) {
                            Tri::Must
                        } else {
                            Tri::May
                        }
                    }
                    _ => Tri::MustNot,
                }
            }
        };
        match this {
            Tri::Must => return Tri::Must,
            Tri::May => verdict = Tri::May,
            Tri::MustNot => {}
        }
    }
    verdict
}

/// A DNS label as policy.md means it (RFC 1035's preferred name syntax, as hosts are
/// serialized in an origin: lowercase): 1 to 63 letters, digits and hyphens, neither first
/// nor last a hyphen. A browser's URL parser also admits `_`, other punctuation and empty
/// labels in a host (`https://a_b.example.com`, `https://a..example.com`); a pattern does
/// not match those.
fn is_dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
        && !label.starts_with('-')
        && !label.ends_with('-')
}

fn name_listed(names: &HeaderNames, name: &[u8]) -> bool {
    match names {
        HeaderNames::Any => true,
        HeaderNames::List(list) => list.iter().any(|n| eq_ignore_case(n.as_bytes(), name)),
    }
}

/// The policy's intent for `request` (P1–P11).
///
/// ```
/// use corsproof_policy::{Origins, Policy, Route};
/// use corsproof_oracle::intent::{intent, Tri};
/// use corsproof_oracle::{Origin, Profile, Request, RequestInit};
/// let mut route = Route::same_origin_only("/api/");
/// route.origins = Origins::Any;
/// let policy = Policy { version: 1, routes: vec![route] };
/// let mut init = RequestInit::new(url::Url::parse("https://api.test/api/x").unwrap(),
///     Origin::parse_serialized("https://app.test").unwrap());
/// init.method = "DELETE".into();
/// let req = Request::construct(init, &Profile::fetch()).unwrap();
/// let i = intent(&policy, &req, &Profile::fetch());
/// assert_eq!(i.sent, Tri::MustNot); // DELETE is not in `methods`: the preflight must fail (P6, P7)
/// ```
pub fn intent(policy: &Policy, request: &Request, profile: &Profile) -> Intent {
    let route_index = route_for(policy, request.url.path());
    let uncovered = Route::same_origin_only("/");
    // P2: a path no route covers is same-origin only.
    let route = route_index.map_or(&uncovered, |i| &policy.routes[i]);
    let max_cache_seconds = route.max_age.unwrap_or(5);
    // P11: under a profile that sends Private Network Access preflights, a request to a more
    // private address space is sent only if the route answers them and, the PNA preflight
    // being checked with the request's own credentials mode (R33, also for a no-cors request),
    // the origin is granted for that mode (P5).
    let pna = profile.private_network_access && request.target_more_private;
    let origin = origin_match(&route.origins, &request.origin);
    let pna_ok = if pna {
        origin
            .and_bool(route.private_network)
            .and_bool(request.credentials != CredentialsMode::Include || route.credentials)
    } else {
        Tri::Must
    };
    // P3: same-origin and no-cors requests are outside the policy (a same-origin request to a
    // more private address space is left open: the policy cannot say what it intends for it).
    if request.url_origin.same_origin(&request.origin) {
        return Intent {
            route: route_index,
            sent: if pna { Tri::May } else { Tri::Must },
            readable: Tri::May,
            exposed: ExposeIntent::AllButForbidden,
            max_cache_seconds,
            rule: RuleId::P3,
        };
    }
    if request.mode != RequestMode::Cors {
        return Intent {
            route: route_index,
            sent: pna_ok.and_bool(request.mode == RequestMode::NoCors),
            readable: Tri::MustNot,
            exposed: ExposeIntent::Nothing,
            max_cache_seconds,
            rule: RuleId::P3,
        };
    }
    let credentialed = request.credentials == CredentialsMode::Include;
    // P5: the read grant.
    let granted = origin.and_bool(!credentialed || route.credentials);
    // P6: would a preflight pass? GET, HEAD and the listed methods must pass; a POST that
    // `methods` does not list may pass or fail: the CORS-preflight fetch's exception for
    // safelisted methods (R40) spares Access-Control-Allow-Methods from listing POST, it
    // obliges no server to pass the preflight.
    let unsafe_names = request.unsafe_names(profile);
    let method_ok = if matches!(request.method.as_str(), "GET" | "HEAD")
        || route.methods.iter().any(|m| m == &request.method)
    {
        Tri::Must
    } else if request.method == "POST" {
        Tri::May
    } else {
        Tri::MustNot
    };
    let headers_ok = unsafe_names.iter().all(|n| match &route.request_headers {
        HeaderNames::Any => !credentialed && !eq_ignore_case(n, b"authorization"),
        list => name_listed(list, n),
    });
    let preflight_passes = granted.and(method_ok).and_bool(headers_ok).and(pna_ok);
    let preflighted = pna
        || request.use_cors_preflight
        || !method::is_cors_safelisted(request.method.as_bytes())
        || !unsafe_names.is_empty();
    // P7, P8.
    let (sent, readable, rule) = if preflighted {
        (
            preflight_passes,
            preflight_passes,
            if pna { RuleId::P11 } else { RuleId::P6 },
        )
    } else if granted == Tri::MustNot {
        (Tri::Must, Tri::MustNot, RuleId::P5)
    } else if request.method == "POST" && !route.methods.iter().any(|m| m == "POST") {
        (Tri::Must, Tri::May, RuleId::P8)
    } else {
        (
            Tri::Must,
            granted,
            if granted == Tri::May {
                RuleId::P4
            } else {
                RuleId::P8
            },
        )
    };
    // P9.
    let exposed = if readable == Tri::MustNot {
        ExposeIntent::Nothing
    } else {
        match &route.expose_headers {
            HeaderNames::Any => ExposeIntent::Names {
                names: Vec::new(),
                all: !credentialed,
                others_may: credentialed,
            },
            HeaderNames::List(names) => ExposeIntent::Names {
                names: names.clone(),
                all: false,
                others_may: false,
            },
        }
    };
    Intent {
        route: route_index,
        sent,
        readable,
        exposed,
        max_cache_seconds,
        rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P1 on the paths that sit on a route's boundary: decoded unreserved characters are the
    /// same path, reserved ones (`%2F`) and other case are not.
    #[test]
    fn route_for_decodes_unreserved_characters_only() {
        let routes = [
            "/api/",
            "/api/admin/",
            "/pub",
            "/%7Euser/",
            "/x%2Fy/",
            "/dup/",
            "/%64up/",
        ];
        let policy = Policy {
            version: 1,
            routes: routes.iter().map(|p| Route::same_origin_only(p)).collect(),
        };
        let table: &[(&str, Option<usize>)] = &[
            ("/api/", Some(0)),
            ("/api/x", Some(0)),
            ("/api//x", Some(0)),
            ("/api", None),
            ("/apifoo", None),
            ("/api-v2", None),
            ("/api.json", None),
            ("/api_x", None),
            ("/API/", None),
            ("/Api/x", None),
            ("/%61pi/", Some(0)),
            ("/%61%70%69/x", Some(0)),
            ("/%41pi/", None),
            ("/%61PI/", None),
            ("/api%2Fx", None),
            ("/api%2fx", None),
            ("/%2561pi/", None),
            ("/api/admin/users", Some(1)),
            ("/api/%61dmin/", Some(1)),
            ("/api/%61DMIN/", Some(0)),
            ("/api/admin%2Fx", Some(0)),
            ("/pub", Some(2)),
            ("/public", Some(2)),
            ("/pu%62", Some(2)),
            ("/pu%6", None),
            ("/pu%", None),
            ("/~user/x", Some(3)),
            ("/%7euser/", Some(3)),
            ("/%7Euser/", Some(3)),
            ("/x%2Fy/z", Some(4)),
            ("/x%2fy/z", None),
            ("/x/y/z", None),
            ("/dup/x", Some(5)),
            ("/%64up/x", Some(5)),
            ("//api/x", None),
            ("/", None),
        ];
        for (path, expected) in table {
            assert_eq!(route_for(&policy, path), *expected, "{path}");
        }
    }

    #[test]
    fn decoding_is_one_pass_and_keeps_what_is_not_unreserved() {
        for (raw, decoded) in [
            ("/a", "/a"),
            ("/%61%2D%2e%5F%7e%30", "/a-._~0"),
            ("/%2F%3a%40%20%25", "/%2F%3a%40%20%25"),
            ("/%2561", "/%2561"),
            ("/%6", "/%6"),
            ("/%", "/%"),
            ("/%g1", "/%g1"),
            ("/%C3%A9", "/%C3%A9"),
        ] {
            assert_eq!(decode_unreserved(raw), decoded, "{raw}");
        }
    }
}
