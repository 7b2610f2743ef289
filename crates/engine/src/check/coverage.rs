//! What a run covered: per route, the cases judged, their distinct origins, methods and request
//! header names, and how many were credentialed; the report shows it so that "conforms" says
//! what it conforms on.

use std::collections::{BTreeMap, BTreeSet};

use corsproof_oracle::intent::route_for;
use corsproof_oracle::{CredentialsMode, Profile, RequestInit};
use corsproof_policy::Policy;
use corsproof_report::{Coverage, RouteCoverage};

/// The coverage of the judged `cases` under `profiles`: the policy's routes in order, then the
/// paths no route covers; a route no case reached is listed with zero cases.
pub(crate) fn of<'a>(
    policy: &Policy,
    profiles: &[Profile],
    cases: impl Iterator<Item = &'a RequestInit>,
) -> Coverage {
    #[derive(Default)]
    struct Acc {
        cases: u64,
        credentialed: u64,
        origins: BTreeSet<String>,
        methods: BTreeSet<String>,
        headers: BTreeSet<String>,
    }
    let mut by_route: BTreeMap<Option<usize>, Acc> = BTreeMap::new();
    for case in cases {
        let acc = by_route
            .entry(route_for(policy, case.url.path()))
            .or_default();
        acc.cases += 1;
        acc.credentialed += u64::from(case.credentials == CredentialsMode::Include);
        acc.origins.insert(case.origin.serialization().to_string());
        acc.methods.insert(case.method.clone());
        for (name, _) in &case.headers {
            acc.headers
                .insert(String::from_utf8_lossy(name).to_ascii_lowercase());
        }
    }
    let keys = (0..policy.routes.len())
        .map(Some)
        .chain(std::iter::once(None));
    let routes = keys
        .filter_map(|key| {
            let acc = by_route.remove(&key);
            if key.is_none() && acc.is_none() {
                return None;
            }
            let acc = acc.unwrap_or_default();
            Some(RouteCoverage {
                route: key.map(|i| {
                    let r = &policy.routes[i];
                    r.name.clone().unwrap_or_else(|| r.path.clone())
                }),
                cases: acc.cases,
                origins: acc.origins.len() as u64,
                methods: acc.methods.into_iter().collect(),
                request_headers: acc.headers.into_iter().collect(),
                credentialed: acc.credentialed,
            })
        })
        .collect();
    Coverage {
        profiles: profiles.iter().map(|p| p.id).collect(),
        routes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsproof_oracle::Origin;

    #[test]
    fn counts_per_route_and_uncovered() {
        let policy = Policy::from_toml_str(
            "version = 1\n[[route]]\nname = \"api\"\npath = \"/api/\"\norigins = [\"https://a.test\"]\n[[route]]\npath = \"/admin/\"\n",
            "p.toml",
        )
        .expect("a policy");
        let case = |path: &str, origin: &str, method: &str| {
            let mut c = RequestInit::new(
                url::Url::parse(&format!("http://127.0.0.1:1{path}")).expect("a URL"),
                Origin::parse_serialized(origin).expect("an origin"),
            );
            c.method = method.into();
            c
        };
        let mut cred = case("/api/x", "https://b.test", "PUT");
        cred.credentials = CredentialsMode::Include;
        cred.headers.push((b"X-A".to_vec(), b"1".to_vec()));
        let cases = [
            case("/api/x", "https://a.test", "GET"),
            cred,
            case("/other", "https://a.test", "GET"),
        ];
        let c = of(&policy, &[Profile::fetch()], cases.iter());
        assert_eq!(c.routes.len(), 3);
        let api = &c.routes[0];
        assert_eq!(
            (
                api.route.as_deref(),
                api.cases,
                api.origins,
                api.credentialed
            ),
            (Some("api"), 2, 2, 1)
        );
        assert_eq!(api.methods, ["GET", "PUT"]);
        assert_eq!(api.request_headers, ["x-a"]);
        assert_eq!(
            (c.routes[1].route.as_deref(), c.routes[1].cases),
            (Some("/admin/"), 0)
        );
        assert_eq!((c.routes[2].route.as_deref(), c.routes[2].cases), (None, 1));
    }
}
