//! The diff as text, JSON, Markdown (a pull-request comment) and SARIF 2.1.0.

use serde_json::{json, Value};

use crate::{Aspect, AspectKind, Change, Diff, Direction, Example, Scope, Severity};

/// The files a diff was computed from, as the renderers name them.
#[derive(Debug, Clone, Default)]
pub struct Files {
    /// The old policy's file name.
    pub old: String,
    /// The new policy's file name.
    pub new: String,
    /// The line where each route of the new policy starts (`corsproof_policy::Parsed::route_lines`).
    pub new_route_lines: Vec<Option<usize>>,
}

/// An output format of [`Diff::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// For people, one change a paragraph.
    Text,
    /// For programs (the shape is in `docs/cli.md`).
    Json,
    /// A pull-request comment: a table, broadening first.
    Markdown,
    /// SARIF 2.1.0: one result a change, located at the new policy's route.
    Sarif,
}

impl Diff {
    /// The diff in `format`, naming `files`.
    ///
    /// ```
    /// use corsproof_diff::{diff, Files, OutputFormat};
    /// use corsproof_policy::Policy;
    /// let old = Policy::from_toml_str("version = 1\n[[route]]\npath = \"/\"\n", "old.toml")?;
    /// let new = Policy::from_toml_str("version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\n", "new.toml")?;
    /// let files = Files { old: "old.toml".into(), new: "new.toml".into(), new_route_lines: vec![Some(2)] };
    /// let md = diff(&old, &new).render(OutputFormat::Markdown, &files);
    /// assert!(md.contains("| broadens | **medium** | `/` | null, any other origin | can now read responses |"));
    /// let sarif: serde_json::Value = serde_json::from_str(&diff(&old, &new).render(OutputFormat::Sarif, &files)).unwrap();
    /// assert_eq!(sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
    /// # Ok::<(), corsproof_policy::PolicyError>(())
    /// ```
    pub fn render(&self, format: OutputFormat, files: &Files) -> String {
        match format {
            OutputFormat::Text => text(self, files),
            OutputFormat::Json => pretty(&json_value(self, files)),
            OutputFormat::Markdown => markdown(self, files),
            OutputFormat::Sarif => pretty(&sarif(self, files)),
        }
    }
}

fn pretty(value: &Value) -> String {
    let mut out = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": {}}}", json!(e.to_string())));
    out.push('\n');
    out
}

fn summary(diff: &Diff) -> String {
    let (broadens, narrows) = diff.counts();
    if diff.changes.is_empty() {
        "no change: the policies grant the same".to_string()
    } else {
        format!("{broadens} broadening, {narrows} narrowing change(s)")
    }
}

/// What changed, as a phrase whose subject is the origins; `both`: the same change holds
/// with and without credentials.
fn phrase_of(change: &Change, both: bool) -> String {
    let (now, not) = match change.direction {
        Direction::Broadens => ("can now", "now"),
        Direction::Narrows => ("can no longer", "no longer"),
    };
    let creds = |c: bool| match (both, c) {
        (true, _) => " with and without credentials",
        (false, true) => " with credentials",
        (false, false) => "",
    };
    let list = |items: Vec<String>| items.join(", ");
    match &change.aspect {
        Aspect::Read { credentialed } => format!("{now} read responses{}", creds(*credentialed)),
        Aspect::Methods {
            credentialed,
            methods,
        } => format!(
            "{now} send {}{} (preflight passes)",
            list(methods.clone()),
            creds(*credentialed)
        ),
        Aspect::RequestHeaders {
            credentialed,
            names,
        } => format!(
            "{now} send request headers {}{}",
            list(names.iter().map(ToString::to_string).collect()),
            creds(*credentialed)
        ),
        Aspect::ExposedHeaders {
            credentialed,
            names,
        } => format!(
            "{not} see response headers {}{}",
            list(names.iter().map(ToString::to_string).collect()),
            creds(*credentialed)
        ),
        Aspect::PrivateNetwork { credentialed } => format!(
            "{now} reach it from a less private network (PNA){}",
            creds(*credentialed)
        ),
        Aspect::MaxAge { old, new } => {
            format!("a passed preflight may be cached {new} s (was {old} s)")
        }
    }
}

fn phrase(change: &Change) -> String {
    phrase_of(change, false)
}

/// The aspect with its credentials mode set to "without" (the cache lifetime as it is).
fn without_credentials(aspect: &Aspect) -> Aspect {
    let mut a = aspect.clone();
    match &mut a {
        Aspect::Read { credentialed }
        | Aspect::Methods { credentialed, .. }
        | Aspect::RequestHeaders { credentialed, .. }
        | Aspect::ExposedHeaders { credentialed, .. }
        | Aspect::PrivateNetwork { credentialed } => *credentialed = false,
        Aspect::MaxAge { .. } => {}
    }
    a
}

/// The rows people read: a change of methods, headers or PNA that holds both with and
/// without credentials (same scope, origins and direction) is one row, shown with the
/// credentialed change (the more severe); reads stay apart (simple and credentialed reads are
/// different grants).
fn rows(diff: &Diff) -> Vec<(&Change, bool)> {
    let mut used = vec![false; diff.changes.len()];
    let mut out = Vec::new();
    for (i, c) in diff.changes.iter().enumerate() {
        if used[i] {
            continue;
        }
        let mergeable = !matches!(c.aspect, Aspect::Read { .. } | Aspect::MaxAge { .. });
        let partner = diff.changes.iter().enumerate().position(|(j, o)| {
            mergeable
                && !used[j]
                && j != i
                && o.aspect.credentialed() != c.aspect.credentialed()
                && without_credentials(&o.aspect) == without_credentials(&c.aspect)
                && o.scope == c.scope
                && o.origins == c.origins
                && o.direction == c.direction
        });
        used[i] = true;
        match partner {
            Some(j) => {
                used[j] = true;
                let shown = if c.aspect.credentialed() {
                    c
                } else {
                    &diff.changes[j]
                };
                out.push((shown, true));
            }
            None => out.push((c, false)),
        }
    }
    out
}

fn route_words(scope: &Scope) -> String {
    let name = |r: &crate::RouteRef| match &r.name {
        Some(n) => format!("`{}` ({n})", r.path),
        None => format!("`{}`", r.path),
    };
    match (&scope.old, &scope.new) {
        (Some(o), Some(n)) if o.path == n.path => name(n),
        (o, n) => {
            let side = |r: &Option<crate::RouteRef>| r.as_ref().map_or("none".to_string(), name);
            format!(
                "`{}` (route before: {}, after: {})",
                scope.path,
                side(o),
                side(n)
            )
        }
    }
}

/// The origins of a change; the non-DNS hosts under a pattern go without saying next to the
/// pattern itself.
fn origins_words(change: &Change) -> String {
    let listed = |p: &String| {
        change
            .origins
            .contains(&crate::OriginClass::Pattern(p.clone()))
    };
    change
        .origins
        .iter()
        .filter(|c| !matches!(c, crate::OriginClass::PatternOddHost(p) if listed(p)))
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The example as a line of script.
fn example_words(e: &Example) -> String {
    let mut init = Vec::new();
    if e.method != "GET" {
        init.push(format!("method: \"{}\"", e.method));
    }
    if let Some(h) = &e.header {
        init.push(format!("headers: {{\"{h}\": \"…\"}}"));
    }
    if e.credentialed {
        init.push("credentials: \"include\"".to_string());
    }
    let init = if init.is_empty() {
        String::new()
    } else {
        format!(", {{{}}}", init.join(", "))
    };
    let mut s = if e.preflight {
        format!(
            "from {}: an XHR POST of a text body to \"{}\" with upload listeners{}",
            e.origin,
            e.path,
            if e.credentialed {
                ", withCredentials"
            } else {
                ""
            }
        )
    } else {
        format!("from {}: fetch(\"{}\"{init})", e.origin, e.path)
    };
    if e.private_network {
        s.push_str(", to a more private address space");
    }
    s
}

fn text(diff: &Diff, files: &Files) -> String {
    let mut s = format!("{} -> {}: {}\n", files.old, files.new, summary(diff));
    for (c, both) in rows(diff) {
        s.push_str(&format!(
            "\n{} [{}] {} on {}\n  {}: {}\n  e.g. {}\n",
            c.direction.as_str(),
            c.severity.as_str(),
            c.aspect.kind().as_str(),
            route_words(&c.scope),
            origins_words(c),
            phrase_of(c, both),
            example_words(&c.example)
        ));
    }
    s
}

fn markdown(diff: &Diff, files: &Files) -> String {
    let mut s = format!(
        "### CORS policy review: `{}` → `{}`\n\n**{}.**\n",
        files.old,
        files.new,
        summary(diff)
    );
    if diff.changes.is_empty() {
        return s;
    }
    s.push_str("\n| change | severity | route | origins | what |\n|---|---|---|---|---|\n");
    for (c, both) in rows(diff) {
        let severity = match c.severity {
            Severity::High | Severity::Medium => format!("**{}**", c.severity.as_str()),
            _ => c.severity.as_str().to_string(),
        };
        s.push_str(&format!(
            "| {} | {severity} | {} | {} | {} |\n",
            c.direction.as_str(),
            route_words(&c.scope),
            origins_words(c).replace('|', "\\|"),
            phrase_of(c, both).replace('|', "\\|"),
        ));
    }
    s
}

fn json_value(diff: &Diff, files: &Files) -> Value {
    let (broadens, narrows) = diff.counts();
    let route = |r: &Option<crate::RouteRef>| {
        r.as_ref()
            .map(|r| json!({"index": r.index, "path": r.path, "name": r.name}))
    };
    let changes: Vec<Value> = diff
        .changes
        .iter()
        .map(|c| {
            let mut v = json!({
                "direction": c.direction.as_str(),
                "severity": c.severity.as_str(),
                "aspect": c.aspect.kind().as_str(),
                "path": c.scope.path,
                "old_route": route(&c.scope.old),
                "new_route": route(&c.scope.new),
                "line": new_line(c, files),
                "origins": c.origins.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "text": format!("{}: {}", origins_words(c), phrase(c)),
                "example": {
                    "origin": c.example.origin, "path": c.example.path, "method": c.example.method,
                    "header": c.example.header, "credentialed": c.example.credentialed,
                    "private_network": c.example.private_network, "preflight": c.example.preflight,
                },
            });
            match &c.aspect {
                Aspect::Methods { methods, .. } => v["items"] = json!(methods),
                Aspect::RequestHeaders { names, .. } | Aspect::ExposedHeaders { names, .. } => {
                    v["items"] = json!(names.iter().map(json_name).collect::<Vec<_>>())
                }
                Aspect::MaxAge { old, new } => {
                    v["old_max_age"] = json!(old);
                    v["new_max_age"] = json!(new);
                }
                _ => {}
            }
            if c.aspect.kind() != AspectKind::MaxAge {
                v["credentialed"] = json!(c.aspect.credentialed());
            }
            v
        })
        .collect();
    json!({
        "old": files.old, "new": files.new,
        "broadens": diff.broadens(),
        "summary": {"broadening": broadens, "narrowing": narrows},
        "changes": changes,
    })
}

fn json_name(n: &crate::Name) -> String {
    match n {
        crate::Name::Listed(n) => n.clone(),
        crate::Name::Other => "*".to_string(),
    }
}

fn new_line(c: &Change, files: &Files) -> Option<usize> {
    c.scope
        .new
        .as_ref()
        .and_then(|r| files.new_route_lines.get(r.index).copied().flatten())
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn sarif(diff: &Diff, files: &Files) -> Value {
    let rules: Vec<Value> = AspectKind::ALL
        .iter()
        .map(|k| {
            json!({
                "id": k.as_str(), "name": k.as_str(),
                "shortDescription": {"text": format!("A change of policy in {}", k.as_str())},
            })
        })
        .collect();
    let uri = files.new.replace('\\', "/").replace(' ', "%20");
    let results: Vec<Value> = diff
        .changes
        .iter()
        .map(|c| {
            let index = AspectKind::ALL
                .iter()
                .position(|k| *k == c.aspect.kind())
                .unwrap_or(0);
            let mut physical = json!({"artifactLocation": {"uri": uri}});
            if let Some(line) = new_line(c, files) {
                physical["region"] = json!({"startLine": line});
            }
            json!({
                "ruleId": c.aspect.kind().as_str(),
                "ruleIndex": index,
                "level": level(c.severity),
                "message": {"text": format!("{} [{}] on {}: {}: {}", c.direction.as_str(),
                    c.severity.as_str(), route_words(&c.scope), origins_words(c), phrase(c))},
                "locations": [{
                    "physicalLocation": physical,
                    "logicalLocations": [{"name": c.scope.path, "kind": "module"}],
                }],
                "properties": {"direction": c.direction.as_str(), "severity": c.severity.as_str()},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "corsproof", "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"), "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {"old": files.old, "new": files.new},
        }],
    })
}
