//! `corsproof lint FILE`.

use std::path::Path;

use corsproof_policy::{parse_path, Policy, PolicyError};
use serde_json::json;

use crate::target_arg::TargetArg;
use crate::{Done, Format};

/// One `--target` warning: what the target cannot express of the policy (or that it cannot
/// implement it at all).
struct TargetWarning {
    target: &'static str,
    field: &'static str,
    route: String,
    effect: &'static str,
    text: String,
}

fn target_warnings(policy: &Policy, targets: &[TargetArg]) -> Vec<TargetWarning> {
    let mut out = Vec::new();
    for t in targets {
        let target = t.0;
        match target.unsupported(policy) {
            Ok(items) => out.extend(items.into_iter().map(|u| TargetWarning {
                target: target.name(),
                field: u.field,
                route: u.route.clone(),
                effect: u.effect.as_str(),
                text: u.to_string(),
            })),
            Err(e) => out.push(TargetWarning {
                target: target.name(),
                field: "",
                route: String::new(),
                effect: "unsupported",
                text: format!("{} cannot implement this policy: {e}", target.library()),
            }),
        }
    }
    out
}

/// Validates and lints a policy: exit 2 on errors, 1 on warnings with `--deny-warnings`;
/// with `targets`, also what each target cannot express (warnings too).
pub fn run(
    file: &Path,
    format: Format,
    deny_warnings: bool,
    targets: &[TargetArg],
) -> anyhow::Result<Done> {
    match parse_path(file) {
        Ok(parsed) => Ok(valid(file, &parsed, format, deny_warnings, targets)),
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

/// The report on a valid policy.
fn valid(
    file: &Path,
    parsed: &corsproof_policy::Parsed,
    format: Format,
    deny_warnings: bool,
    targets: &[TargetArg],
) -> Done {
    let targeted = target_warnings(&parsed.policy, targets);
    let code = if deny_warnings && (!parsed.warnings.is_empty() || !targeted.is_empty()) {
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
            let targeted: Vec<_> = targeted
                .iter()
                .map(|w| json!({"target": w.target, "route": w.route, "field": w.field, "effect": w.effect, "text": w.text}))
                .collect();
            let v = json!({"file": file.display().to_string(), "valid": true, "routes": parsed.policy.routes.len(),
                "errors": [], "warnings": warnings, "target_warnings": targeted});
            format!("{v:#}\n")
        }
        Format::Text => {
            let mut s = String::new();
            for w in &parsed.warnings {
                s.push_str(&format!("warning[{}]: {w}\n", w.code.as_str()));
            }
            for w in &targeted {
                s.push_str(&format!("warning[target {}]: {}\n", w.target, w.text));
            }
            s.push_str(&format!(
                "{}: valid policy, {} route(s), {} warning(s){}\n",
                file.display(),
                parsed.policy.routes.len(),
                parsed.warnings.len(),
                if targets.is_empty() {
                    String::new()
                } else {
                    format!(", {} target warning(s)", targeted.len())
                }
            ));
            s
        }
    };
    Done { code, output }
}
