//! Property tests: every valid policy survives TOML and JSON round trips, and no input
//! makes the parser panic.

use corsproof_policy::{OriginEntry, Policy};
use corsproof_testkit::strategy::policy::{policy as policy_with, PolicyParams};
use proptest::prelude::*;
use proptest::sample::select;

/// Random valid policies: random hosts (DNS, IPv4, IPv6), ports, method tokens, header
/// names, paths, names and probe paths, `max_age` up to the limit.
fn policy() -> impl Strategy<Value = Policy> {
    policy_with(&PolicyParams::random())
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
