//! The generators keep their promises: every preset draws valid policies that survive the
//! policy's own round trip, `allow_risky` is set wherever a route needs it, the near-miss
//! families give what they say (a serialized origin other than the entry's own), and the
//! vocabularies hold the classes their names claim.

use corsproof_policy::{OriginEntry, Policy};
use corsproof_testkit::origins::{instance, Mutation, EXACT, PATTERNS};
use corsproof_testkit::strategy::origins::random_entry;
use corsproof_testkit::strategy::policy::{policy, risky, AllowRisky, PolicyParams};
use corsproof_testkit::strategy::sample;
use corsproof_testkit::{headers, methods};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The presets, each with its `allow_risky` rule.
fn presets() -> [PolicyParams; 3] {
    [
        PolicyParams::nested(),
        PolicyParams::small(),
        PolicyParams::random(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_preset_draws_valid_policies_that_round_trip(
        policies in (policy(&PolicyParams::nested()), policy(&PolicyParams::small()), policy(&PolicyParams::random())),
    ) {
        for p in [policies.0, policies.1, policies.2] {
            let text = p.to_toml_string();
            prop_assert!(p.validate().is_ok(), "{:?}\n{}", p.validate(), text);
            let parsed = Policy::from_toml_str(&text, "gen.toml")
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(parsed, p);
        }
    }

    #[test]
    fn serialized_near_misses_are_other_serialized_origins(entry in random_entry()) {
        let own = instance(&entry, "a");
        // `null` is the one entry that a family (`Mutation::Null`) gives back as it is.
        let families = Mutation::SERIALIZED
            .into_iter()
            .filter(|m| !(*m == Mutation::Null && entry == OriginEntry::Null));
        for m in families {
            let near = m.apply(&entry);
            prop_assert_ne!(&near, &own, "{:?} of {} is the entry itself", m, entry);
            // The policy's parser takes exactly serialized origins (and `null`).
            let parsed = near.parse::<OriginEntry>();
            prop_assert!(
                matches!(parsed, Ok(OriginEntry::Exact { .. } | OriginEntry::Null)),
                "{:?} of {} gives {:?}: {:?}", m, entry, near, parsed
            );
        }
        for m in Mutation::ALL.into_iter().filter(|m| !m.serialized()) {
            prop_assert!(m.apply(&entry).parse::<OriginEntry>().is_err(), "{:?} of {}", m, entry);
        }
    }
}

#[test]
fn allow_risky_is_set_where_the_route_needs_it() {
    let mut risky_routes = 0;
    for params in presets() {
        let needs = matches!(params.allow_risky, AllowRisky::WhenRisky { .. });
        for p in sample(&policy(&params), 500) {
            for route in &p.routes {
                if risky(route) {
                    risky_routes += 1;
                    assert!(!needs || route.allow_risky, "{}", p.to_toml_string());
                }
            }
        }
    }
    // The presets reach risky routes at all.
    assert!(risky_routes >= 100, "only {risky_routes} risky routes");
}

#[test]
fn the_pools_parse_as_their_class() {
    for o in EXACT {
        assert!(matches!(o.parse(), Ok(OriginEntry::Exact { .. })), "{o}");
    }
    for o in PATTERNS {
        assert!(
            matches!(o.parse(), Ok(OriginEntry::Subdomain { .. })),
            "{o}"
        );
    }
    for (name, _) in headers::FORBIDDEN {
        let lower = name.to_ascii_lowercase();
        let forbidden = headers::FORBIDDEN_NAMES.contains(&lower.as_str())
            || headers::FORBIDDEN_PREFIXES
                .iter()
                .any(|p| lower.starts_with(p))
            || lower.contains("method-override");
        assert!(forbidden, "{name}");
    }
    for m in methods::LISTED
        .iter()
        .chain(&methods::LISTED_CASED)
        .chain(&methods::WRITTEN)
    {
        assert!(
            !methods::FORBIDDEN.iter().any(|f| f.eq_ignore_ascii_case(m)),
            "{m}"
        );
    }
}
