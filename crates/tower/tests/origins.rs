//! Origin matching through the middleware: exact origins, subdomain patterns and their
//! edge cases, and the test kit's near-miss families of every entry. Each origin is a pair of
//! named cases (`common::table`): an actual GET, whose `Access-Control-Allow-Origin` echoes
//! it or is absent, and a preflight, passed (204) or refused (403).

mod common;

use common::table::{run, Case};
use common::*;
use corsproof_oracle::intent::origin_matches;
use corsproof_oracle::Origin;
use corsproof_policy::Origins;
use corsproof_testkit::origins::Mutation;

const POLICY: &str = r#"
version = 1
[[route]]
path = "/"
origins = [
  "https://app.example.com",
  "http://localhost:3000",
  "https://[2001:db8::1]:8443",
  "https://10.0.0.1",
  "https://*.example.com",
  "https://*.ports.test:8443",
]
"#;

/// The two cases of `origin`, allowed or not; `why` names the row.
fn cases(origin: &str, allowed: bool, why: &str) -> [Case; 2] {
    let get = Case::new(
        format!("GET from {origin:?} ({why})"),
        req("GET", "/", &[("origin", origin)]),
    );
    let pre = Case::new(
        format!("preflight from {origin:?} ({why})"),
        preflight("/", origin, "GET", None),
    );
    if allowed {
        [
            get.header("access-control-allow-origin", origin),
            pre.status(204),
        ]
    } else {
        [get.absent("access-control-allow-origin"), pre.status(403)]
    }
}

/// A table of `(origin, why)` rows, all allowed or all refused.
fn table(rows: &[(&str, &str)], allowed: bool) -> Vec<Case> {
    rows.iter()
        .flat_map(|(origin, why)| cases(origin, allowed, why))
        .collect()
}

#[test]
fn exact_origins_match_byte_for_byte() {
    let mut rows = table(
        &[
            ("https://app.example.com", "listed"),
            ("http://localhost:3000", "listed"),
            ("https://[2001:db8::1]:8443", "listed IPv6"),
            ("https://10.0.0.1", "listed IPv4"),
        ],
        true,
    );
    rows.extend(table(
        &[
            ("https://app.example.com/", "trailing slash"),
            ("https://app.example.com:443", "explicit default port"),
            ("HTTPS://app.example.com", "scheme in upper case"),
            ("https://App.example.com", "host not lowercase"),
            ("http://localhost:3001", "other port"),
            ("http://localhost", "no port"),
            ("https://localhost:3000", "other scheme"),
            ("https://[2001:db8::1]", "IPv6 without its port"),
            ("https://10.0.0.1:443", "IPv4 with the default port"),
            (" https://app.example.com ", "surrounding spaces"),
            ("https://app.example.com, https://app.example.com", "a list"),
            ("null", "null"),
            ("*", "a star"),
        ],
        false,
    ));
    run(&layer(POLICY), rows);
}

#[test]
fn subdomain_patterns() {
    let mut rows = table(
        &[
            ("https://a.example.com", "one label"),
            ("https://app2.example.com", "one label"),
            ("https://a.b.c.example.com", "three labels"),
            ("https://xn--nxasmq6b.example.com", "an IDNA label"),
            ("https://a.ports.test:8443", "the pattern's port"),
        ],
        true,
    );
    rows.extend(table(
        &[
            ("https://example.com", "the apex"),
            ("https://evilexample.com", "not a label boundary"),
            ("https://a.evilexample.com", "not a label boundary"),
            ("https://example.com.evil.test", "suffix elsewhere"),
            ("https://a.example.com.evil.test", "suffix elsewhere"),
            ("http://a.example.com", "other scheme"),
            ("https://a.example.com:8443", "other port"),
            ("https://a.example.com:443", "explicit default port"),
            ("https://.example.com", "empty label"),
            ("https://a..example.com", "empty label"),
            ("https://A.example.com", "not serialized lowercase"),
            ("https://a_b.example.com", "underscore"),
            ("https://-a.example.com", "leading dash"),
            ("https://a.ports.test", "pattern with port, none given"),
            ("https://ports.test:8443", "the apex with the port"),
            ("https://a.ports.test:84430", "another port"),
            ("https://a.ports.test:8443/", "trailing slash"),
        ],
        false,
    ));
    run(&layer(POLICY), rows);
}

/// Every near-miss family of the test kit, applied to every entry of the policy: allowed
/// exactly when the oracle's matching (an implementation independent of the middleware)
/// says another entry allows it; a near miss that is no serialized origin never is.
#[test]
fn near_misses_of_every_entry_are_refused_unless_another_entry_allows_them() {
    let policy = common::policy(POLICY);
    let Origins::List(entries) = &policy.routes[0].origins else {
        panic!("the policy lists its origins");
    };
    let mut rows = Vec::new();
    let mut refused = 0;
    for entry in entries {
        for mutation in Mutation::ALL {
            let near = mutation.apply(entry);
            let allowed = Origin::parse_serialized(&near)
                .is_ok_and(|o| origin_matches(&policy.routes[0].origins, &o));
            refused += usize::from(!allowed);
            rows.extend(cases(&near, allowed, &format!("{mutation:?} of {entry}")));
        }
    }
    // Most near misses are refused: the table is not vacuous.
    assert!(
        refused * 4 >= rows.len(),
        "{refused} refused of {}",
        rows.len() / 2
    );
    run(&layer(POLICY), rows);
}
