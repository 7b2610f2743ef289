//! The review example of docs/governance.md (examples/review/): what the change grants,
//! worked out by hand from the two files, against the diff and its renderings.

use corsproof_diff::{diff, Aspect, Direction, Files, OriginClass, OutputFormat, Severity};
use corsproof_policy::parse_path;

fn example(name: &str) -> corsproof_policy::Parsed {
    parse_path(format!(
        "{}/../../examples/review/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("valid")
}

#[test]
fn the_review_example_shows_what_the_change_grants() {
    let (old, new) = (example("before.toml"), example("after.toml"));
    let d = diff(&old.policy, &new.policy);
    // /public/ is renamed and moved: no change there.
    assert!(
        d.changes.iter().all(|c| c.scope.path == "/api/"),
        "{:#?}",
        d.changes
    );
    // The partners' subdomains become credentialed readers: high.
    let partner = OriginClass::Pattern("https://*.partner.example".into());
    let read = d
        .changes
        .iter()
        .find(|c| c.aspect == Aspect::Read { credentialed: true })
        .expect("a new reader");
    assert_eq!(
        (read.direction, read.severity),
        (Direction::Broadens, Severity::High)
    );
    assert!(read.origins.contains(&partner));
    assert!(!read
        .origins
        .contains(&OriginClass::Exact("https://app.example.com".into())));
    // DELETE is withdrawn from the app, with and without credentials.
    for credentialed in [false, true] {
        let gone = Aspect::Methods {
            credentialed,
            methods: vec!["DELETE".into()],
        };
        let c = d
            .changes
            .iter()
            .find(|c| c.aspect == gone)
            .expect("DELETE withdrawn");
        assert_eq!(
            (c.direction, c.severity),
            (Direction::Narrows, Severity::Info)
        );
        assert_eq!(
            c.origins,
            [OriginClass::Exact("https://app.example.com".into())]
        );
    }
    // max_age and everything about /public/ are unchanged.
    assert!(!d
        .changes
        .iter()
        .any(|c| matches!(c.aspect, Aspect::MaxAge { .. })));
    let files = Files {
        old: "before.toml".into(),
        new: "after.toml".into(),
        new_route_lines: new.route_lines.clone(),
    };
    let md = d.render(OutputFormat::Markdown, &files);
    assert!(md.contains("| narrows | info | `/api/` (api) | https://app.example.com | can no longer send DELETE with and without credentials (preflight passes) |"), "{md}");
    let sarif: serde_json::Value =
        serde_json::from_str(&d.render(OutputFormat::Sarif, &files)).expect("JSON");
    // `/api/` starts on line 4 of after.toml.
    assert_eq!(
        sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    let json: serde_json::Value =
        serde_json::from_str(&d.render(OutputFormat::Json, &files)).expect("JSON");
    assert_eq!(json["broadens"], true);
    assert_eq!(
        json["changes"].as_array().map(Vec::len),
        Some(d.changes.len())
    );
}
