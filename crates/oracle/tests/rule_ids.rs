//! `RuleId` and `spec/SPEC.md` define the same rule ids: every id the type can hold has a row
//! (or, for the policy semantics, a definition bullet) in the document, and every id the
//! document's tables define is a value of the type.

use std::collections::BTreeSet;
use std::path::Path;

use corsproof_oracle::RuleId;

fn spec() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/SPEC.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The ids a table row of SPEC.md starts with (`| R33 | ...`, `| P5, P6 | ...`).
fn table_ids(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let Some(first) = line.strip_prefix('|').and_then(|l| l.split('|').next()) else {
            continue;
        };
        for word in first.split(',').map(str::trim) {
            let mut chars = word.chars();
            let family = chars.next();
            let number = chars.as_str();
            if matches!(family, Some('R' | 'D' | 'W' | 'P' | 'H'))
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
            {
                out.insert(word.to_string());
            }
        }
    }
    out
}

#[test]
fn every_rule_id_is_defined_in_spec_md() {
    let text = spec();
    let rows = table_ids(&text);
    for id in RuleId::ALL {
        let bullet = format!("- **{} ", id.as_str());
        assert!(
            rows.contains(id.as_str()) || text.contains(&bullet),
            "{id} has no row or definition in spec/SPEC.md"
        );
    }
}

#[test]
fn every_id_spec_md_defines_is_a_rule_id() {
    for word in table_ids(&spec()) {
        assert!(
            RuleId::parse(&word).is_some(),
            "spec/SPEC.md defines {word}, which RuleId cannot hold"
        );
    }
}

#[test]
fn rule_ids_are_unique_and_round_trip() {
    let mut seen = BTreeSet::new();
    for id in RuleId::ALL {
        assert!(seen.insert(id.as_str()), "{id} listed twice");
        assert_eq!(RuleId::parse(id.as_str()), Some(*id));
        let json = serde_json::to_string(id).expect("serializes");
        assert_eq!(serde_json::from_str::<RuleId>(&json).expect("parses"), *id);
    }
    assert!(serde_json::from_str::<RuleId>("\"R0\"").is_err());
}
