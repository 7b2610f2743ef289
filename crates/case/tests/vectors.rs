//! Runs every vector of `spec/vectors/*.json` (format: `spec/VECTORS.md`) through the oracle
//! under each profile it names, comparing the output with the vector's partial expectation.

use std::path::{Path, PathBuf};

use corsproof_case::{explain_json, Input};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/vectors")
}

/// Checks that every key of `expected` holds the same value in `actual`; objects are
/// compared key by key recursively, arrays element by element (same length), scalars whole.
fn partial_mismatches(path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => partial_mismatches(&p, ev, av, out),
                    None => out.push(format!("{p}: expected {ev}, output has no such key")),
                }
            }
        }
        (Value::Object(_), other) => out.push(format!("{path}: expected an object, got {other}")),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                partial_mismatches(&format!("{path}[{i}]"), ev, av, out);
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {a}")),
    }
}

#[test]
fn partial_comparison_detects_differences() {
    let mut out = Vec::new();
    let expected: Value = serde_json::json!({"a": {"b": 1}, "c": [1, 2]});
    partial_mismatches(
        "",
        &expected,
        &serde_json::json!({"a": {"b": 1, "x": 0}, "c": [1, 2]}),
        &mut out,
    );
    assert!(out.is_empty());
    partial_mismatches(
        "",
        &expected,
        &serde_json::json!({"a": {"b": 2}, "c": [1]}),
        &mut out,
    );
    assert_eq!(out.len(), 2, "{out:?}");
    out.clear();
    partial_mismatches(
        "",
        &serde_json::json!([{"a": 1}]),
        &serde_json::json!([{"a": 1, "b": 2}]),
        &mut out,
    );
    assert!(out.is_empty());
    partial_mismatches(
        "",
        &serde_json::json!([{"a": 1}]),
        &serde_json::json!([{"a": 1}, {"a": 1}]),
        &mut out,
    );
    assert_eq!(out.len(), 1);
}

#[test]
fn every_vector_holds() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("spec/vectors exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files found");
    let mut failures = Vec::new();
    let mut runs = 0usize;
    let mut vectors = 0usize;
    let mut ids = std::collections::HashSet::new();
    for file in &files {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(file).expect("readable vector file");
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            doc["source"].is_string(),
            "{name}: file-level `source` is required"
        );
        let list = doc["vectors"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no `vectors` array"));
        for v in list {
            vectors += 1;
            let id = v["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: a vector without id"));
            assert!(
                ids.insert(id.to_string()),
                "{name}: duplicate vector id {id}"
            );
            let input: Input = serde_json::from_value(v["case"].clone())
                .unwrap_or_else(|e| panic!("{name} {id}: case does not parse: {e}"));
            let browsers: Vec<String> = match v.get("browsers") {
                Some(Value::Array(b)) => b
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                _ => vec!["fetch".to_string()],
            };
            for browser in &browsers {
                runs += 1;
                match explain_json(&input, Some(browser)) {
                    Err(e) => failures.push(format!("{name} {id} [{browser}]: input error: {e}")),
                    Ok(out) => {
                        let mut m = Vec::new();
                        partial_mismatches("", &v["expect"], &out, &mut m);
                        if !m.is_empty() {
                            failures.push(format!("{name} {id} [{browser}]: {}", m.join("; ")));
                        }
                    }
                }
            }
        }
    }
    eprintln!("{vectors} vectors, {runs} runs, {} files", files.len());
    if let Ok(path) = std::env::var("CORSPROOF_VECTOR_FAILURES") {
        let _ = std::fs::write(path, failures.join("\n"));
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} vector runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
