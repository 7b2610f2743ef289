//! Property tests: every valid policy survives TOML and JSON round trips, and no input
//! makes the parser panic.

use std::net::Ipv6Addr;

use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route, Scheme, MAX_AGE_LIMIT};
use proptest::prelude::*;
use proptest::sample::select;

fn label() -> impl Strategy<Value = String> {
    // Starts with a letter, so that the last label never "ends in a number" (IPv4-like).
    "[a-z]([a-z0-9-]{0,6}[a-z0-9])?".prop_map(String::from)
}

fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..4).prop_map(|labels| labels.join("."))
}

fn scheme() -> impl Strategy<Value = Scheme> {
    prop_oneof![Just(Scheme::Http), Just(Scheme::Https)]
}

fn port(scheme: Scheme) -> impl Strategy<Value = Option<u16>> {
    prop::option::of(any::<u16>()).prop_map(move |p| p.filter(|&p| p != scheme.default_port()))
}

/// An IPv6 host in canonical form, obtained from the parser's own suggestion.
fn ipv6_host() -> impl Strategy<Value = String> {
    any::<u128>().prop_map(|bits| {
        let addr = Ipv6Addr::from(bits);
        let text = format!("https://[{addr}]");
        let entry = match text.parse::<OriginEntry>() {
            Ok(entry) => entry,
            Err(e) => e.suggestion().unwrap_or_default().parse().unwrap(),
        };
        match entry {
            OriginEntry::Exact { host, .. } => host,
            other => panic!("{other:?}"),
        }
    })
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => domain(),
        1 => any::<[u8; 4]>().prop_map(|[a, b, c, d]| format!("{a}.{b}.{c}.{d}")),
        1 => ipv6_host(),
    ]
}

fn origin_entry() -> impl Strategy<Value = OriginEntry> {
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

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn origins() -> impl Strategy<Value = Origins> {
    prop_oneof![
        1 => Just(Origins::Any),
        4 => prop::collection::vec(origin_entry(), 0..4).prop_map(|v| Origins::List(dedup(v))),
    ]
}

fn methods() -> impl Strategy<Value = Vec<String>> {
    let method = prop_oneof![
        select(vec![
            "GET", "PUT", "DELETE", "PATCH", "put", "OPTIONS", "PROPFIND"
        ])
        .prop_map(String::from),
        "[A-Za-z][A-Za-z0-9!#$%&'+.^_`|~-]{0,8}".prop_map(String::from),
    ];
    prop::collection::vec(method, 0..4).prop_map(|v| {
        dedup(v)
            .into_iter()
            .filter(|m| {
                !["CONNECT", "TRACE", "TRACK"]
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(m))
            })
            .collect()
    })
}

fn header_names() -> impl Strategy<Value = HeaderNames> {
    let name = "[a-z0-9!#$%&'+.^_`|~-]{1,12}".prop_filter("forbidden request header", |n| {
        !(n.starts_with("sec-")
            || n.starts_with("proxy-")
            || [
                "accept-charset",
                "accept-encoding",
                "access-control-request-headers",
                "access-control-request-method",
                "connection",
                "content-length",
                "cookie",
                "cookie2",
                "date",
                "dnt",
                "expect",
                "host",
                "keep-alive",
                "origin",
                "referer",
                "set-cookie",
                "te",
                "trailer",
                "transfer-encoding",
                "upgrade",
                "via",
            ]
            .contains(&n.as_str()))
    });
    prop_oneof![
        1 => Just(HeaderNames::Any),
        4 => prop::collection::vec(name, 0..4).prop_map(|v| HeaderNames::List(dedup(v))),
    ]
}

fn path_segment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._~!$&'()*+,;=:@%-]{0,6}".prop_filter("dot segment", |s| s != "." && s != "..")
}

fn route(index: usize) -> impl Strategy<Value = Route> {
    (
        prop::option::of("[^\\p{Cc}]{1,16}"),
        prop::collection::vec(path_segment(), 0..3),
        origins(),
        methods(),
        header_names(),
        header_names(),
        any::<bool>(),
        prop::option::of(prop_oneof![0..=90_000u64, 0..=MAX_AGE_LIMIT]),
        any::<[bool; 2]>(),
        prop::collection::vec(prop::collection::vec(path_segment(), 1..3), 0..3),
    )
        .prop_map(
            move |(
                name,
                segments,
                origins,
                methods,
                request_headers,
                expose_headers,
                credentials,
                max_age,
                [private_network, allow_risky],
                probes,
            )| {
                let path = format!("/r{index}/{}", segments.join("/"));
                let credentials =
                    credentials && origins != Origins::Any && request_headers != HeaderNames::Any;
                let probe_paths = dedup(
                    probes
                        .into_iter()
                        .map(|p| format!("{path}{}", p.join("/")))
                        .filter(|p| !p.split('/').any(|s| s == "." || s == ".."))
                        .collect(),
                );
                Route {
                    name,
                    path,
                    origins,
                    methods,
                    request_headers,
                    expose_headers,
                    credentials,
                    max_age,
                    private_network,
                    probe_paths,
                    allow_risky,
                }
            },
        )
}

fn policy() -> impl Strategy<Value = Policy> {
    (0..5usize)
        .prop_flat_map(|n| (0..n).map(route).collect::<Vec<_>>())
        .prop_map(|routes| Policy { version: 1, routes })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn toml_round_trip(policy in policy()) {
        let text = policy.to_toml_string();
        let parsed = Policy::from_toml_str(&text, "gen.toml")
            .map_err(|e| TestCaseError::fail(format!("{e}\n---\n{text}")))?;
        prop_assert_eq!(parsed, policy);
    }

    #[test]
    fn json_round_trip_and_validate(policy in policy()) {
        let text = policy.to_json_string();
        let parsed = Policy::from_json_str(&text, "gen.json")
            .map_err(|e| TestCaseError::fail(format!("{e}\n---\n{text}")))?;
        prop_assert_eq!(&parsed, &policy);
        prop_assert!(policy.validate().is_ok());
    }

    #[test]
    fn parsers_never_panic(text in any::<String>()) {
        let _ = Policy::from_toml_str(&text, "fuzz.toml");
        let _ = Policy::from_json_str(&text, "fuzz.json");
    }

    #[test]
    fn parsers_never_panic_on_near_policies(
        fields in prop::collection::vec(
            (select(vec!["name", "path", "origins", "methods", "request_headers", "expose_headers",
                         "credentials", "max_age", "private_network", "probe_paths", "allow_risky"]),
             select(vec!["\"/\"", "\"\"", "[\"*\"]", "[\"null\", \"*\"]", "true", "-1",
                         "99999999999", "[\"https://*.a\", \"HTTP://X:80/\"]", "[\"\\u0000\"]",
                         "[1]", "{}", "\"/a\\\\b\""])),
            0..8),
    ) {
        let body: String = fields.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        let text = format!("version = 1\n[[route]]\n{body}");
        if let Err(e) = Policy::from_toml_str(&text, "near.toml") {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn origin_entries_are_canonical_and_suggestions_valid(
        text in prop_oneof![
            any::<String>(),
            "(https?|HTTPS?|ftp|)(://)?[a-zA-Z0-9.*\\[\\]:_-]{0,24}(:[0-9]{0,6})?(/[a-z]{0,3})?",
            "https?://\\[[0-9a-fA-F:.]{0,40}\\](:[0-9]{1,5})?",
            "https?://[0-9x.]{1,20}",
        ]
    ) {
        match text.parse::<OriginEntry>() {
            Ok(entry) => prop_assert_eq!(entry.to_string(), text),
            Err(e) => {
                if let Some(s) = e.suggestion() {
                    prop_assert!(s.parse::<OriginEntry>().is_ok(), "{} suggested {}", text, s);
                }
            }
        }
    }
}
