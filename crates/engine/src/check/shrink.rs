//! Shrinking: a finding's case made smaller while the finding still shows, so that the
//! report's example has the fewest headers and options that still reproduce it, and the
//! plainest origin: the attacker's ([`ATTACKER`]), else an allowed origin as the policy
//! spells it, rather than a mutation or the target's own origin.

use corsproof_oracle::intent::route_for;
use corsproof_oracle::{CredentialsMode, Origin, RequestInit, RequestMode};
use corsproof_policy::{Origins, Policy};

use crate::generate::{instance, ATTACKER};

/// At most this many re-evaluations per finding.
pub(crate) const BUDGET: usize = 48;

/// At most this many of the policy's origins are tried in place of a case's origin.
const SPELLINGS: usize = 4;

/// Candidate simplifications of a case, each smaller by [`rank`]: without one of its
/// headers, without upload listeners, as a GET, without credentials, in mode `cors`, without
/// its query; then from [`ATTACKER`], or from an allowed origin as `policy` spells it (of the
/// route covering the case's path, else of any route).
pub(crate) fn simplifications(case: &RequestInit, policy: &Policy) -> Vec<RequestInit> {
    let mut out = Vec::new();
    for i in 0..case.headers.len() {
        let mut c = case.clone();
        c.headers.remove(i);
        out.push(c);
    }
    if case.use_cors_preflight {
        let mut c = case.clone();
        c.use_cors_preflight = false;
        out.push(c);
    }
    if case.method != "GET" {
        let mut c = case.clone();
        c.method = "GET".to_string();
        out.push(c);
    }
    if case.credentials != CredentialsMode::Omit {
        let mut c = case.clone();
        c.credentials = CredentialsMode::Omit;
        out.push(c);
    }
    if case.mode != RequestMode::Cors {
        let mut c = case.clone();
        c.mode = RequestMode::Cors;
        out.push(c);
    }
    if case.url.query().is_some() {
        let mut c = case.clone();
        c.url.set_query(None);
        out.push(c);
    }
    for origin in plainer_origins(case, policy) {
        let mut c = case.clone();
        c.origin = origin;
        out.push(c);
    }
    out
}

/// The origins plainer than the case's: [`ATTACKER`] unless it is the case's, and unless the
/// case's origin is already one, the policy's spellings.
fn plainer_origins(case: &RequestInit, policy: &Policy) -> Vec<Origin> {
    let attacker = Origin::parse_serialized(ATTACKER).ok();
    if attacker.as_ref() == Some(&case.origin) {
        return Vec::new();
    }
    let spellings = spellings(case, policy);
    let mut out: Vec<Origin> = attacker.into_iter().collect();
    if !spellings.contains(&case.origin) {
        out.extend(spellings);
    }
    out
}

/// The allowed origins as `policy` spells them (a pattern's instance), of the route covering
/// the case's path when it lists some, else of every route; at most [`SPELLINGS`].
fn spellings(case: &RequestInit, policy: &Policy) -> Vec<Origin> {
    let listed = |origins: &Origins| match origins {
        Origins::List(entries) => entries.iter().filter_map(instance).collect(),
        Origins::Any => Vec::new(),
    };
    let own: Vec<Origin> = route_for(policy, case.url.path())
        .and_then(|i| policy.routes.get(i))
        .map(|r| listed(&r.origins))
        .unwrap_or_default();
    let mut all = if own.is_empty() {
        policy
            .routes
            .iter()
            .flat_map(|r| listed(&r.origins))
            .collect()
    } else {
        own
    };
    let mut seen = Vec::new();
    all.retain(|o| {
        let new = !seen.contains(o);
        seen.push(o.clone());
        new
    });
    all.truncate(SPELLINGS);
    all
}

/// How big a case is, for choosing the smallest example: headers weigh most; a cross-origin
/// request from [`ATTACKER`] is the plainest, from the target's own origin the least plain.
pub(crate) fn size(case: &RequestInit) -> usize {
    case.headers.len() * 4
        + usize::from(case.method != "GET") * 2
        + usize::from(case.credentials != CredentialsMode::Omit)
        + usize::from(case.mode != RequestMode::Cors)
        + usize::from(case.use_cors_preflight)
        + usize::from(case.url.query().is_some())
        + origin_cost(case)
}

/// 0 for [`ATTACKER`], 2 for the target's own origin, 1 for any other.
fn origin_cost(case: &RequestInit) -> usize {
    if case.origin.serialization() == ATTACKER {
        0
    } else if Origin::of_url(&case.url).same_origin(&case.origin) {
        2
    } else {
        1
    }
}

/// [`size`], then whether the origin is other than the policy spells it: every
/// [`simplifications`] candidate is smaller by this order, so shrinking ends.
#[cfg(test)]
fn rank(case: &RequestInit, policy: &Policy) -> (usize, bool) {
    (size(case), !spellings(case, policy).contains(&case.origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/a\"\norigins = [\"https://app.test\", \"https://*.partner.test\"]\n",
            "p.toml",
        )
        .expect("a policy")
    }

    fn case(origin: &str) -> RequestInit {
        RequestInit::new(
            url::Url::parse("http://127.0.0.1:1/a?q=1").expect("URL"),
            Origin::parse_serialized(origin).expect("origin"),
        )
    }

    #[test]
    fn simplifications_shrink() {
        let mut case = case("https://app.test.evil.example");
        case.method = "PUT".into();
        case.headers = vec![
            (b"X-A".to_vec(), b"1".to_vec()),
            (b"X-B".to_vec(), b"2".to_vec()),
        ];
        case.credentials = CredentialsMode::Include;
        let all = simplifications(&case, &policy());
        // Two headers, method, credentials, query; the attacker and two spellings.
        assert_eq!(all.len(), 8);
        for c in all {
            assert!(rank(&c, &policy()) < rank(&case, &policy()), "{c:?}");
        }
    }

    #[test]
    fn origins_get_plainer_until_the_attacker() {
        let origins = |c: &RequestInit| -> Vec<String> {
            simplifications(c, &policy())
                .into_iter()
                .filter(|s| s.origin != c.origin)
                .map(|s| s.origin.serialization().to_string())
                .collect()
        };
        assert_eq!(
            origins(&case("https://a..partner.test")),
            [ATTACKER, "https://app.test", "https://a1.partner.test"]
        );
        assert_eq!(
            origins(&case("http://127.0.0.1:1")),
            [ATTACKER, "https://app.test", "https://a1.partner.test"]
        );
        assert_eq!(origins(&case("https://app.test")), [ATTACKER]);
        assert!(origins(&case(ATTACKER)).is_empty());
        let same = case("http://127.0.0.1:1");
        let mut from_attacker = same.clone();
        from_attacker.origin = Origin::parse_serialized(ATTACKER).expect("origin");
        assert!(size(&from_attacker) < size(&same));
    }
}
