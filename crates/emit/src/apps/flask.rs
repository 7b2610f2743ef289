//! Flask 2 with flask-cors 3.0 (Debian's python3-flask-cors).
//!
//! One `CORS(app, resources={...})` as flask-cors' documentation recommends: each policy
//! route is a resource whose key is a compiled regex anchoring the route's path at the
//! start (`^/api/`), so that flask-cors' ordering (compiled patterns by number of `/`, then
//! by length, longest first) is the policy's longest-prefix rule. Options per resource:
//! `origins` (exact strings and compiled regexes for subdomain patterns; `[]` for
//! same-origin routes, which flask-cors then answers without CORS headers), `methods`,
//! `allow_headers`, `expose_headers`, `supports_credentials`, `max_age`, `send_wildcard`
//! (`*` for `origins = ["*"]`) and `always_send=False` (no CORS headers without `Origin`).

use corsproof_policy::{HeaderNames, Origins, Policy, Route};

use super::{
    all_methods, comments, item, lit, lit_list, longest_first, no_pna, origin_items, App, AppFile,
    AppOptions,
};
use crate::{Effect, EmitError, Unsupported};

/// The application: `python3 app.py PORT`.
pub fn flask(policy: &Policy, options: &AppOptions) -> Result<App, EmitError> {
    let mut unsupported = Vec::new();
    let mut resources = String::new();
    let mut methods: Vec<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
        .map(String::from)
        .to_vec();
    for route in longest_first(policy) {
        for m in &route.methods {
            if !methods.contains(m) && m != "OPTIONS" {
                methods.push(m.clone());
            }
        }
        if !route.origins.is_empty() {
            announce(route, &mut unsupported);
        }
        resources.push_str(&format!(
            "    re.compile({}): {},\n",
            lit(route, "path", &format!("^{}", py_escape(&route.path)))?,
            resource_options(route)?
        ));
    }
    let route0 = policy.routes.first();
    let methods = match route0 {
        Some(r) => lit_list(r, "methods", &methods)?,
        None => "[\"GET\", \"HEAD\", \"POST\"]".to_string(),
    };
    let text = format!(
        "# corsproof emit flask: Flask 2 with flask-cors 3.0, one resource per policy route.\n{}{PROLOGUE}RESOURCES = {{\n{resources}}}\nMETHODS = {methods}\n{EPILOGUE}",
        comments("#", "flask-cors", &unsupported)
    );
    App {
        files: vec![AppFile {
            name: "app.py",
            text,
        }],
        unsupported,
    }
    .finish(options)
}

fn announce(route: &Route, out: &mut Vec<Unsupported>) {
    if route.credentials {
        out.push(item(route, "credentials", Effect::Disclosure,
            "flask-cors sends Access-Control-Allow-Credentials: true with every answer that names an allowed origin, preflights of methods it refuses included"));
    }
    no_pna(route, "flask-cors 3.0", out);
}

const PROLOGUE: &str = "import re
import sys

from flask import Flask
from flask_cors import CORS

app = Flask(__name__)

";

const EPILOGUE: &str = "
CORS(app, resources=RESOURCES)


@app.route(\"/\", defaults={\"path\": \"\"}, methods=METHODS)
@app.route(\"/<path:path>\", methods=METHODS)
def demo(path):
    return \"corsproof demo\", 200, {\"Content-Type\": \"text/plain\"}


if __name__ == \"__main__\":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    print(f\"listening on http://127.0.0.1:{port}/\", flush=True)
    app.run(host=\"127.0.0.1\", port=port, threaded=True)
";

/// Escapes the characters special in Python's `re` outside a class.
fn py_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&~-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The resource options of a route (a Python dict).
fn resource_options(route: &Route) -> Result<String, EmitError> {
    let mut fields = Vec::new();
    match &route.origins {
        Origins::Any => {
            fields.push("\"origins\": \"*\"".to_string());
            fields.push("\"send_wildcard\": True".to_string());
        }
        Origins::List(_) => fields.push(format!(
            "\"origins\": [{}]",
            origin_items(route, "re.compile")?.join(", ")
        )),
    }
    fields.push(format!(
        "\"methods\": {}",
        lit_list(route, "methods", &all_methods(route))?
    ));
    fields.push(format!(
        "\"allow_headers\": {}",
        names(route, "request_headers", &route.request_headers)?
    ));
    fields.push(format!(
        "\"expose_headers\": {}",
        names(route, "expose_headers", &route.expose_headers)?
    ));
    fields.push(format!(
        "\"supports_credentials\": {}",
        if route.credentials { "True" } else { "False" }
    ));
    if let Some(max_age) = route.max_age {
        fields.push(format!("\"max_age\": {max_age}"));
    }
    fields.push("\"always_send\": False".to_string());
    Ok(format!("{{{}}}", fields.join(", ")))
}

fn names(route: &Route, field: &'static str, names: &HeaderNames) -> Result<String, EmitError> {
    match names {
        HeaderNames::Any => Ok("\"*\"".to_string()),
        HeaderNames::List(list) => lit_list(route, field, list),
    }
}
