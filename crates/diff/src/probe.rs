//! The representative requests and what each policy intends for them.

use std::collections::{BTreeMap, BTreeSet};

use corsproof_oracle::intent::{intent, origin_match, route_for, Tri};
use corsproof_oracle::{Body, CredentialsMode, Origin, Profile, Request, RequestInit};
use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};
use url::Url;

use crate::{Aspect, Change, Direction, Example, Name, OriginClass, RouteRef, Scope};

/// The target's origin: a host no policy names, so no requesting origin is same-origin.
const TARGET: &str = "https://target.corsproof.invalid";

/// A request header value no safelist admits (`"` is a CORS-unsafe request-header byte, and
/// no MIME type or range): the header always makes the request non-simple (R11).
const UNSAFE_VALUE: &[u8] = b"\"x\"";

/// One pair of routes: the scope and the routes (a missing route grants nothing, P2).
struct Pair<'a> {
    scope: Scope,
    old: &'a Route,
    new: &'a Route,
}

/// The names a pair of routes lists, and a fresh one for what `["*"]` grants.
struct Vocabulary {
    methods: Vec<String>,
    request_headers: Vec<Name>,
    exposed: Vec<Name>,
    fresh: String,
}

/// What one policy grants one origin on one path, per credentials mode (index 0 without,
/// 1 with credentials).
#[derive(Debug, Default, PartialEq, Eq)]
struct Grants {
    read: [bool; 2],
    methods: [BTreeSet<String>; 2],
    headers: [BTreeSet<Name>; 2],
    exposed: [BTreeSet<Name>; 2],
    pna: [bool; 2],
    preflight: [bool; 2],
    cache: u64,
}

/// Every change from `old` to `new`, origins of one scope and change merged.
pub(crate) fn changes(old: &Policy, new: &Policy) -> Vec<Change> {
    let mut merged: BTreeMap<(Scope, Aspect, Direction), (Vec<OriginClass>, Example)> =
        BTreeMap::new();
    let nothing = Route::same_origin_only("/");
    for (path, old_index, new_index) in path_classes(old, new) {
        let pair = Pair {
            scope: Scope {
                path,
                old: old_index.map(|i| route_ref(old, i)),
                new: new_index.map(|i| route_ref(new, i)),
            },
            old: old_index.map_or(&nothing, |i| &old.routes[i]),
            new: new_index.map_or(&nothing, |i| &new.routes[i]),
        };
        if same_grants(pair.old, pair.new) {
            continue;
        }
        let vocabulary = vocabulary(pair.old, pair.new);
        for (class, origin) in origin_classes(&pair.old.origins, &pair.new.origins) {
            let probe = Probe {
                path: &pair.scope.path,
                origin: &origin,
                vocabulary: &vocabulary,
            };
            let (a, b) = (probe.grants(old), probe.grants(new));
            for (aspect, direction, example) in compare(&a, &b, &probe) {
                let entry = merged
                    .entry((pair.scope.clone(), aspect, direction))
                    .or_insert_with(|| (Vec::new(), example));
                entry.0.push(class.clone());
            }
        }
    }
    merged
        .into_iter()
        .map(|((scope, aspect, direction), (origins, example))| Change {
            severity: aspect.severity(direction),
            scope,
            origins,
            aspect,
            direction,
            example,
        })
        .collect()
}

fn route_ref(policy: &Policy, index: usize) -> RouteRef {
    let route = &policy.routes[index];
    RouteRef {
        index,
        path: route.path.clone(),
        name: route.name.clone(),
    }
}

/// Whether two routes grant the same: the fields the intent model reads (P4–P11) are equal.
fn same_grants(a: &Route, b: &Route) -> bool {
    a.origins == b.origins
        && a.methods == b.methods
        && a.request_headers == b.request_headers
        && a.expose_headers == b.expose_headers
        && a.credentials == b.credentials
        && a.max_age.unwrap_or(5) == b.max_age.unwrap_or(5)
        && a.private_network == b.private_network
}

/// One request path for each pair (old route, new route) a request path can fall into (P1).
/// For a request path, the longest route path of either policy that is a prefix of it is
/// covered by exactly the same routes of each policy, so the route paths (and `/`) meet every
/// pair. A route path the URL parser would rewrite (a `%2e` segment) is tried with `_` after
/// it.
fn path_classes(old: &Policy, new: &Policy) -> Vec<(String, Option<usize>, Option<usize>)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let paths = std::iter::once("/")
        .chain(old.routes.iter().map(|r| r.path.as_str()))
        .chain(new.routes.iter().map(|r| r.path.as_str()));
    for q in paths {
        let usable = [q.to_string(), format!("{q}_")].into_iter().find(|c| {
            Url::parse(&format!("{TARGET}{c}")).is_ok_and(|u| u.path() == c && u.query().is_none())
        });
        let Some(path) = usable else { continue };
        let key = (route_for(old, &path), route_for(new, &path));
        if key != (None, None) && seen.insert(key) {
            out.push((path, key.0, key.1));
        }
    }
    out
}

/// The names two routes list: non-safelisted methods, request and exposed header names, and a
/// fresh name neither lists.
fn vocabulary(a: &Route, b: &Route) -> Vocabulary {
    let mut methods = BTreeSet::new();
    let mut request = BTreeSet::new();
    let mut exposed = BTreeSet::new();
    let list = |names: &HeaderNames, into: &mut BTreeSet<String>| {
        if let HeaderNames::List(names) = names {
            into.extend(names.iter().cloned());
        }
    };
    for route in [a, b] {
        methods.extend(route.methods.iter().cloned());
        list(&route.request_headers, &mut request);
        list(&route.expose_headers, &mut exposed);
    }
    request.insert("authorization".to_string());
    let fresh = (0..)
        .map(|n| format!("x-corsproof-unlisted-{n}"))
        .find(|f| !request.contains(f) && !exposed.contains(f))
        .unwrap_or_default();
    let names = |set: BTreeSet<String>| {
        set.into_iter()
            .map(Name::Listed)
            .chain([Name::Other])
            .collect()
    };
    Vocabulary {
        methods: methods.into_iter().collect(),
        request_headers: names(request),
        exposed: names(exposed),
        fresh,
    }
}

/// One origin of each class two `origins` fields tell apart (P4): every exact origin, for
/// each pattern a host of one fresh DNS label under it and one whose label is not a DNS
/// label, `null`, and an origin nothing names.
fn origin_classes(a: &Origins, b: &Origins) -> Vec<(OriginClass, Origin)> {
    let entries: BTreeSet<String> = [a, b]
        .into_iter()
        .filter_map(|o| match o {
            Origins::List(list) => Some(list.iter().map(ToString::to_string)),
            Origins::Any => None,
        })
        .flatten()
        .collect();
    let listed: BTreeMap<String, &OriginEntry> = [a, b]
        .into_iter()
        .flat_map(|o| match o {
            Origins::List(list) => list.as_slice(),
            Origins::Any => &[],
        })
        .map(|e| (e.to_string(), e))
        .collect();
    let mut out = vec![(OriginClass::Null, Origin::Opaque)];
    for (text, entry) in listed {
        match entry {
            OriginEntry::Null => {}
            OriginEntry::Exact { .. } => {
                if let Ok(o) = Origin::parse_serialized(&text) {
                    out.push((OriginClass::Exact(text), o));
                }
            }
            OriginEntry::Subdomain { .. } => {
                let instance = |label: &str| text.replacen('*', label, 1);
                let fresh = (0..)
                    .map(|n| instance(&format!("x{n}")))
                    .find(|o| !entries.contains(o));
                if let Some(o) = fresh.and_then(|o| Origin::parse_serialized(&o).ok()) {
                    out.push((OriginClass::Pattern(text.clone()), o));
                }
                if let Ok(o) = Origin::parse_serialized(&instance("x_y")) {
                    out.push((OriginClass::PatternOddHost(text), o));
                }
            }
        }
    }
    let unnamed = (1..=254)
        .map(|n| format!("https://192.0.2.{n}"))
        .filter_map(|o| Origin::parse_serialized(&o).ok())
        .find(|o| {
            [a, b].iter().all(|l| match l {
                Origins::Any => true,
                list => origin_match(list, o) == Tri::MustNot,
            })
        });
    if let Some(o) = unnamed {
        out.push((OriginClass::Other, o));
    }
    out
}

/// The representative requests of one path and origin.
struct Probe<'a> {
    path: &'a str,
    origin: &'a Origin,
    vocabulary: &'a Vocabulary,
}

/// What a request asks for beyond a plain GET.
#[derive(Default, Clone)]
struct Ask<'a> {
    method: Option<&'a str>,
    header: Option<&'a str>,
    credentialed: bool,
    private_network: bool,
    preflight: bool,
}

impl Probe<'_> {
    fn request(&self, ask: &Ask<'_>) -> Option<(Request, Profile)> {
        let url = Url::parse(&format!("{TARGET}{}", self.path)).ok()?;
        let mut init = RequestInit::new(url, self.origin.clone());
        if let Some(m) = ask.method {
            init.method = m.to_string();
        }
        if let Some(h) = ask.header {
            init.headers
                .push((h.as_bytes().to_vec(), UNSAFE_VALUE.to_vec()));
        }
        if ask.credentialed {
            init.credentials = CredentialsMode::Include;
        }
        init.target_more_private = ask.private_network;
        if ask.preflight {
            // An XHR POST of a text body with upload listeners: preflighted whatever the
            // method and headers (R13).
            init.method = "POST".to_string();
            init.body = Some(Body::Text);
            init.use_cors_preflight = true;
        }
        // P11 applies under a profile that sends PNA preflights.
        let profile = if ask.private_network {
            Profile::chromium()
        } else {
            Profile::fetch()
        };
        let request = Request::construct(init, &profile).ok()?;
        Some((request, profile))
    }

    /// Whether `policy` permits the request to be sent (P7): not `must not`.
    fn sent(&self, policy: &Policy, ask: &Ask<'_>) -> bool {
        self.request(ask)
            .is_some_and(|(r, p)| intent(policy, &r, &p).sent != Tri::MustNot)
    }

    fn header_name<'n>(&'n self, name: &'n Name) -> &'n str {
        match name {
            Name::Listed(n) => n,
            Name::Other => &self.vocabulary.fresh,
        }
    }

    fn grants(&self, policy: &Policy) -> Grants {
        let mut g = Grants::default();
        for (i, credentialed) in [false, true].into_iter().enumerate() {
            let base = Ask {
                credentialed,
                ..Ask::default()
            };
            if let Some((r, p)) = self.request(&base) {
                let read = intent(policy, &r, &p);
                g.cache = read.max_cache_seconds;
                g.read[i] = read.readable != Tri::MustNot;
                if g.read[i] {
                    g.exposed[i] = (self.vocabulary.exposed.iter())
                        .filter(|n| read.expose(self.header_name(n).as_bytes()) != Tri::MustNot)
                        .cloned()
                        .collect();
                }
            }
            for m in &self.vocabulary.methods {
                let (ask, normalized) = self.method_ask(&base, m);
                if self.sent(policy, &ask) {
                    g.methods[i].extend(normalized);
                }
            }
            for n in &self.vocabulary.request_headers {
                let ask = Ask {
                    header: Some(self.header_name(n)),
                    ..base.clone()
                };
                if self.sent(policy, &ask) {
                    g.headers[i].insert(n.clone());
                }
            }
            let pna = Ask {
                private_network: true,
                ..base.clone()
            };
            g.pna[i] = self.sent(policy, &pna);
            let preflight = Ask {
                preflight: true,
                ..base.clone()
            };
            g.preflight[i] = self.sent(policy, &preflight);
        }
        g
    }

    /// The ask for method `m`, and the method as the browser sends it (R6 normalizes
    /// `put` to `PUT`) unless that is a CORS-safelisted one, which the read already covers.
    fn method_ask<'m>(&self, base: &Ask<'m>, m: &'m str) -> (Ask<'m>, Option<String>) {
        let ask = Ask {
            method: Some(m),
            ..base.clone()
        };
        let normalized = self
            .request(&ask)
            .map(|(r, _)| r.method)
            .filter(|m| !corsproof_oracle::method::is_cors_safelisted(m.as_bytes()));
        (ask, normalized)
    }

    fn example(&self, ask: &Ask<'_>) -> Example {
        Example {
            origin: self.origin.serialization().to_string(),
            path: self.path.to_string(),
            method: ask
                .method
                .unwrap_or(if ask.preflight { "POST" } else { "GET" })
                .to_string(),
            header: ask.header.map(str::to_string),
            credentialed: ask.credentialed,
            private_network: ask.private_network,
            preflight: ask.preflight,
        }
    }
}

/// The changes from `a` to `b` for one path and origin, each with a request that shows it.
fn compare(a: &Grants, b: &Grants, probe: &Probe<'_>) -> Vec<(Aspect, Direction, Example)> {
    let mut out = Vec::new();
    for (i, credentialed) in [false, true].into_iter().enumerate() {
        let base = Ask {
            credentialed,
            ..Ask::default()
        };
        let mut flag = |now: bool, before: bool, aspect: Aspect, ask: Ask<'_>| {
            if now != before {
                out.push((aspect, direction(now), probe.example(&ask)));
            }
        };
        flag(
            b.read[i],
            a.read[i],
            Aspect::Read { credentialed },
            base.clone(),
        );
        flag(
            b.pna[i],
            a.pna[i],
            Aspect::PrivateNetwork { credentialed },
            Ask {
                private_network: true,
                ..base.clone()
            },
        );
        for (gained, direction) in sides(&a.methods[i], &b.methods[i]) {
            let ask = Ask {
                method: gained.first().map(|m| m.as_str()),
                ..base.clone()
            };
            let methods = gained.iter().map(|m| m.to_string()).collect();
            out.push((
                Aspect::Methods {
                    credentialed,
                    methods,
                },
                direction,
                probe.example(&ask),
            ));
        }
        for (gained, direction) in sides(&a.headers[i], &b.headers[i]) {
            let ask = Ask {
                header: gained.first().map(|n| probe.header_name(n)),
                ..base.clone()
            };
            let names = gained.iter().map(|n| (*n).clone()).collect();
            out.push((
                Aspect::RequestHeaders {
                    credentialed,
                    names,
                },
                direction,
                probe.example(&ask),
            ));
        }
        // A new reader sees the route's exposed headers: the read change says it.
        let exposed = if a.read[i] && b.read[i] {
            sides(&a.exposed[i], &b.exposed[i])
        } else {
            Vec::new()
        };
        for (gained, direction) in exposed {
            let names = gained.iter().map(|n| (*n).clone()).collect();
            out.push((
                Aspect::ExposedHeaders {
                    credentialed,
                    names,
                },
                direction,
                probe.example(&base),
            ));
        }
    }
    out.extend(cache_change(a, b, probe));
    out
}

/// P10: the cache lifetime matters where a preflight passes under both policies (where only
/// the new one passes it, the new grant is the change).
fn cache_change(a: &Grants, b: &Grants, probe: &Probe<'_>) -> Option<(Aspect, Direction, Example)> {
    let i = (0..2).find(|&i| a.preflight[i] && b.preflight[i])?;
    if a.cache == b.cache {
        return None;
    }
    let ask = Ask {
        credentialed: i == 1,
        preflight: true,
        ..Ask::default()
    };
    Some((
        Aspect::MaxAge {
            old: a.cache,
            new: b.cache,
        },
        direction(b.cache > a.cache),
        probe.example(&ask),
    ))
}

fn direction(more: bool) -> Direction {
    if more {
        Direction::Broadens
    } else {
        Direction::Narrows
    }
}

/// What `b` has that `a` has not (broadens), and the reverse (narrows), when not empty.
fn sides<'s, T: Ord>(a: &'s BTreeSet<T>, b: &'s BTreeSet<T>) -> Vec<(Vec<&'s T>, Direction)> {
    [
        (b.difference(a).collect::<Vec<_>>(), Direction::Broadens),
        (a.difference(b).collect::<Vec<_>>(), Direction::Narrows),
    ]
    .into_iter()
    .filter(|(v, _)| !v.is_empty())
    .collect()
}
