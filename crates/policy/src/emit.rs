//! Writing a policy back as TOML or JSON, in canonical form. Fields at their default are
//! left out (except `origins`, always written so that intent is explicit).

use std::fmt::Write as _;

use crate::model::{HeaderNames, Origins, Policy, Route};

/// A field value.
enum Value {
    Int(u64),
    Bool(bool),
    Str(String),
    List(Vec<String>),
}

fn headers(names: &HeaderNames) -> Vec<String> {
    match names {
        HeaderNames::Any => vec!["*".to_string()],
        HeaderNames::List(names) => names.clone(),
    }
}

/// The fields of a route that differ from their defaults, in file order.
fn route_fields(r: &Route) -> Vec<(&'static str, Value)> {
    let mut fields = Vec::new();
    if let Some(name) = &r.name {
        fields.push(("name", Value::Str(name.clone())));
    }
    fields.push(("path", Value::Str(r.path.clone())));
    let origins = match &r.origins {
        Origins::Any => vec!["*".to_string()],
        Origins::List(entries) => entries.iter().map(ToString::to_string).collect(),
    };
    fields.push(("origins", Value::List(origins)));
    if !r.methods.is_empty() {
        fields.push(("methods", Value::List(r.methods.clone())));
    }
    if !r.request_headers.is_empty() {
        fields.push(("request_headers", Value::List(headers(&r.request_headers))));
    }
    if !r.expose_headers.is_empty() {
        fields.push(("expose_headers", Value::List(headers(&r.expose_headers))));
    }
    if r.credentials {
        fields.push(("credentials", Value::Bool(true)));
    }
    if let Some(max_age) = r.max_age {
        fields.push(("max_age", Value::Int(max_age)));
    }
    if r.private_network {
        fields.push(("private_network", Value::Bool(true)));
    }
    if !r.probe_paths.is_empty() {
        fields.push(("probe_paths", Value::List(r.probe_paths.clone())));
    }
    if r.allow_risky {
        fields.push(("allow_risky", Value::Bool(true)));
    }
    fields
}

/// A double-quoted string valid in both TOML (basic string) and JSON.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn render(value: &Value) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => quote(s),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(|s| quote(s)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

impl Policy {
    /// The policy as TOML, in canonical form: parsing the result with
    /// [`Policy::from_toml_str`] gives back an equal policy for every valid policy.
    ///
    /// ```
    /// use corsproof_policy::{Policy, Route};
    /// let policy = Policy { version: 1, routes: vec![Route::same_origin_only("/admin/")] };
    /// let text = policy.to_toml_string();
    /// assert_eq!(text, "version = 1\n\n[[route]]\npath = \"/admin/\"\norigins = []\n");
    /// assert_eq!(Policy::from_toml_str(&text, "p.toml").unwrap(), policy);
    /// ```
    pub fn to_toml_string(&self) -> String {
        let mut out = format!("version = {}\n", self.version);
        for route in &self.routes {
            out.push_str("\n[[route]]\n");
            for (key, value) in route_fields(route) {
                let _ = writeln!(out, "{key} = {}", render(&value));
            }
        }
        out
    }

    /// The policy as JSON (same field names as TOML), in canonical form: parsing the result
    /// with [`Policy::from_json_str`] gives back an equal policy for every valid policy.
    ///
    /// ```
    /// use corsproof_policy::{Policy, Route};
    /// let policy = Policy { version: 1, routes: vec![Route::same_origin_only("/admin/")] };
    /// let text = policy.to_json_string();
    /// assert!(text.contains("\"route\": ["));
    /// assert_eq!(Policy::from_json_str(&text, "p.json").unwrap(), policy);
    /// ```
    pub fn to_json_string(&self) -> String {
        let mut out = format!("{{\n  \"version\": {}", self.version);
        if !self.routes.is_empty() {
            out.push_str(",\n  \"route\": [");
            for (i, route) in self.routes.iter().enumerate() {
                out.push_str(if i == 0 { "\n    {" } else { ",\n    {" });
                for (j, (key, value)) in route_fields(route).iter().enumerate() {
                    let sep = if j == 0 { "" } else { "," };
                    let _ = write!(out, "{sep}\n      \"{key}\": {}", render(value));
                }
                out.push_str("\n    }");
            }
            out.push_str("\n  ]");
        }
        out.push_str("\n}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_toml_and_json_need() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("\u{1}\u{7f}\n"), r#""\u0001\u007F\n""#);
        assert_eq!(quote("é"), "\"é\"");
    }
}
