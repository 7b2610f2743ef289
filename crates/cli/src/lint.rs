//! `corsproof lint FILE`.

use std::path::Path;

use corsproof_policy::{parse_path, PolicyError};
use serde_json::json;

use crate::{Done, Format};

/// Validates and lints a policy: exit 2 on errors, 1 on warnings with `--deny-warnings`.
pub fn run(file: &Path, format: Format, deny_warnings: bool) -> anyhow::Result<Done> {
    match parse_path(file) {
        Ok(parsed) => {
            let code = if deny_warnings && !parsed.warnings.is_empty() {
                1
            } else {
                0
            };
            let output = match format {
                Format::Json => {
                    let warnings: Vec<_> = parsed
                        .warnings
                        .iter()
                        .map(|w| {
                            json!({
                                "code": w.code.as_str(), "line": w.line, "column": w.column,
                                "route": w.route.as_ref().map(|r| &r.1), "route_index": w.route.as_ref().map(|r| r.0),
                                "field": w.field, "message": w.message, "text": w.to_string(),
                            })
                        })
                        .collect();
                    let v = json!({"file": file.display().to_string(), "valid": true, "routes": parsed.policy.routes.len(),
                        "errors": [], "warnings": warnings});
                    format!("{v:#}\n")
                }
                Format::Text => {
                    let mut s = String::new();
                    for w in &parsed.warnings {
                        s.push_str(&format!("warning[{}]: {w}\n", w.code.as_str()));
                    }
                    s.push_str(&format!(
                        "{}: valid policy, {} route(s), {} warning(s)\n",
                        file.display(),
                        parsed.policy.routes.len(),
                        parsed.warnings.len()
                    ));
                    s
                }
            };
            Ok(Done { code, output })
        }
        Err(err) => {
            let output = match format {
                Format::Json => {
                    let errors: Vec<_> = match &err {
                        PolicyError::Invalid(d) => d
                            .iter()
                            .map(|d| json!({"code": d.code.as_str(), "line": d.line, "column": d.column,
                                "route": d.route.as_ref().map(|r| &r.1), "route_index": d.route.as_ref().map(|r| r.0),
                                "field": d.field, "message": d.message, "text": d.to_string()}))
                            .collect(),
                        other => vec![json!({"code": "syntax", "message": other.to_string(), "text": other.to_string()})],
                    };
                    let v = json!({"file": file.display().to_string(), "valid": false, "errors": errors, "warnings": []});
                    format!("{v:#}\n")
                }
                Format::Text => match &err {
                    PolicyError::Invalid(d) => {
                        let mut s: String = d
                            .iter()
                            .map(|d| format!("error[{}]: {d}\n", d.code.as_str()))
                            .collect();
                        s.push_str(&format!(
                            "{}: invalid policy, {} error(s)\n",
                            file.display(),
                            d.len()
                        ));
                        s
                    }
                    other => format!("error: {other}\n"),
                },
            };
            // Errors go to standard error in text form so that pipelines see them.
            if format == Format::Text {
                eprint!("{output}");
                return Ok(Done {
                    code: 2,
                    output: String::new(),
                });
            }
            Ok(Done { code: 2, output })
        }
    }
}
