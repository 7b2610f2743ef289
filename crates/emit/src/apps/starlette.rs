//! Starlette 0.26's `CORSMiddleware` under uvicorn 0.17 (Debian's python3-starlette and
//! python3-uvicorn).
//!
//! The middleware configures a whole application; a policy route is one
//! `CORSMiddleware(demo, ...)` instance, and the application hands each request to the
//! instance of the route whose path is the longest prefix of the request's raw path
//! (`scope["raw_path"]`, its percent-encoded unreserved characters decoded). Options: `allow_origins` (exact origins, or `["*"]`),
//! `allow_origin_regex` (the subdomain patterns as one alternation, matched in full),
//! `allow_methods`, `allow_headers`, `allow_credentials`, `expose_headers`, `max_age`.

use corsproof_policy::{HeaderNames, Origins, Policy, Route};

use super::{
    all_methods, comments, item, lit, lit_list, longest_first, no_pna, split_origins,
    unconditional_headers, App, AppFile, AppOptions,
};
use crate::{Effect, EmitError, Unsupported};

/// The request headers Starlette 0.26 always allows in a preflight, whatever their values
/// (its `SAFELISTED_HEADERS`).
pub const ALWAYS_ALLOWED: [&str; 4] = [
    "accept",
    "accept-language",
    "content-language",
    "content-type",
];

/// The application: `python3 app.py PORT`.
pub fn starlette(policy: &Policy, options: &AppOptions) -> Result<App, EmitError> {
    let mut unsupported = Vec::new();
    let mut routes = String::new();
    for route in longest_first(policy) {
        let handler = if route.origins.is_empty() {
            "demo".to_string()
        } else {
            announce(route, &mut unsupported);
            format!("CORSMiddleware(demo, {})", middleware_options(route)?)
        };
        routes.push_str(&format!(
            "    ({}, {handler}),\n",
            lit(route, "path", &route.path)?.replacen('"', "b\"", 1)
        ));
    }
    let text = format!(
        "# corsproof emit starlette: Starlette 0.26 CORSMiddleware, one per policy route.\n{}{PROLOGUE}ROUTES = [\n{routes}]\n{EPILOGUE}",
        comments("#", "Starlette", &unsupported)
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
    unconditional_headers(route, "Starlette", true, out);
    let allowed = match &route.request_headers {
        HeaderNames::Any => true,
        HeaderNames::List(names) => ALWAYS_ALLOWED.iter().all(|h| names.iter().any(|n| n == h)),
    };
    if !allowed {
        out.push(item(route, "request_headers", Effect::Broader,
            "Starlette allows Accept, Accept-Language, Content-Language and Content-Type in every preflight whatever their values (a Content-Type of application/json is not CORS-safelisted)"));
    }
    if route.max_age.is_none() {
        out.push(item(route, "max_age", Effect::Narrower,
            "Starlette always sends Access-Control-Max-Age (600 unless set): the emitted max_age=0 asks browsers not to cache a preflight at all"));
    }
    no_pna(route, "Starlette 0.26", out);
}

const PROLOGUE: &str = "import re
import sys

import uvicorn
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse


async def demo(scope, receive, send):
    await PlainTextResponse(\"corsproof demo\")(scope, receive, send)


# The policy's routes, longest path first: the first whose path prefixes the request's path
# applies (the policy's longest-prefix rule, on the path as sent with its percent-encoded
# unreserved characters decoded: /%61pi/ is /api/).
";

const EPILOGUE: &str = "

def unreserved(escape):
    byte = bytes([int(escape.group(1), 16)])
    return byte if byte.isalnum() or byte in b\"-._~\" else escape.group(0)


async def app(scope, receive, send):
    if scope[\"type\"] != \"http\":
        return
    path = re.sub(rb\"%([0-9A-Fa-f]{2})\", unreserved, scope.get(\"raw_path\") or scope[\"path\"].encode())
    for prefix, handler in ROUTES:
        if path.startswith(prefix):
            await handler(scope, receive, send)
            return
    await demo(scope, receive, send)


if __name__ == \"__main__\":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    print(f\"listening on http://127.0.0.1:{port}/\", flush=True)
    uvicorn.run(app, host=\"127.0.0.1\", port=port, lifespan=\"off\", log_level=\"warning\")
";

/// The keyword arguments of a route's `CORSMiddleware`.
fn middleware_options(route: &Route) -> Result<String, EmitError> {
    let mut fields = Vec::new();
    let (exact, patterns) = split_origins(route);
    match &route.origins {
        Origins::Any => fields.push("allow_origins=[\"*\"]".to_string()),
        Origins::List(_) => {
            fields.push(format!(
                "allow_origins={}",
                lit_list(route, "origins", &exact)?
            ));
            if !patterns.is_empty() {
                let alternation = patterns
                    .iter()
                    .map(|p| format!("(?:{p})"))
                    .collect::<Vec<_>>()
                    .join("|");
                fields.push(format!(
                    "allow_origin_regex={}",
                    lit(route, "origins", &alternation)?
                ));
            }
        }
    }
    fields.push(format!(
        "allow_methods={}",
        lit_list(route, "methods", &all_methods(route))?
    ));
    fields.push(format!(
        "allow_headers={}",
        names(route, "request_headers", &route.request_headers)?
    ));
    fields.push(format!(
        "expose_headers={}",
        names(route, "expose_headers", &route.expose_headers)?
    ));
    fields.push(format!(
        "allow_credentials={}",
        if route.credentials { "True" } else { "False" }
    ));
    fields.push(format!("max_age={}", route.max_age.unwrap_or(0)));
    Ok(fields.join(", "))
}

fn names(route: &Route, field: &'static str, names: &HeaderNames) -> Result<String, EmitError> {
    match names {
        HeaderNames::Any => Ok("[\"*\"]".to_string()),
        HeaderNames::List(list) => lit_list(route, field, list),
    }
}
