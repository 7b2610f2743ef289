//! spec/ERRORS.md documents exactly the error kinds the oracle can report.

use corsproof_oracle::ErrorKind;

#[test]
fn errors_md_lists_every_kind_and_no_other() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/ERRORS.md"))
        .expect("spec/ERRORS.md is readable");
    let documented: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let code: Vec<&str> = ErrorKind::all().map(ErrorKind::as_str).collect();
    for kind in &code {
        assert!(
            documented.contains(kind),
            "{kind} is not documented in spec/ERRORS.md"
        );
        assert_eq!(ErrorKind::parse(kind).map(ErrorKind::as_str), Some(*kind));
    }
    for kind in &documented {
        assert!(
            code.contains(kind),
            "spec/ERRORS.md documents {kind}, which the oracle never reports"
        );
    }
}
