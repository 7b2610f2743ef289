//! Express 4 with the `cors` middleware 2.8 (Debian's node-express and node-cors).
//!
//! Each CORS route gets its own `cors(options)` with the options the package's README
//! documents: `origin` an array of strings and `RegExp`s (never a single string, which
//! `cors` sends to every origin as is), `methods`, `allowedHeaders` (left unset only for
//! `request_headers = ["*"]`: `cors` then reflects the request's list), `exposedHeaders`,
//! `credentials`, `maxAge`. A route with `origins = []` gets no middleware.

use corsproof_policy::{HeaderNames, Origins, Policy, Route};

use super::{
    all_methods, comments, lit, lit_list, longest_first, no_pna, origin_items,
    unconditional_headers, App, AppFile, AppOptions,
};
use crate::EmitError;

/// The application: `node app.js PORT`.
pub fn express(policy: &Policy, options: &AppOptions) -> Result<App, EmitError> {
    let mut unsupported = Vec::new();
    let mut routes = String::new();
    for route in longest_first(policy) {
        let handler = if route.origins.is_empty() {
            "null".to_string()
        } else {
            unconditional_headers(route, "cors", true, &mut unsupported);
            no_pna(route, "cors 2.8", &mut unsupported);
            format!("cors({})", cors_options(route)?)
        };
        routes.push_str(&format!(
            "  {{ path: {}, cors: {handler} }}, // {}\n",
            lit(route, "path", &route.path)?,
            route.label().replace(|c: char| c.is_control(), "?")
        ));
    }
    let text = format!(
        "// corsproof emit express: Express 4 with cors 2.8, one cors() per policy route.\n{}{PROLOGUE}const routes = [\n{routes}];\n{EPILOGUE}",
        comments("//", "cors", &unsupported)
    );
    App {
        files: vec![AppFile {
            name: "app.js",
            text,
        }],
        unsupported,
    }
    .finish(options)
}

const PROLOGUE: &str = "'use strict';
const express = require('express');
const cors = require('cors');

const app = express();
// The policy's routes, longest path first: the first whose path prefixes the request's
// path applies (the policy's longest-prefix rule, on the path as sent with its
// percent-encoded unreserved characters decoded: /%61pi/ is /api/).
";

const EPILOGUE: &str = "
app.use((req, res, next) => {
  const path = req.originalUrl.split('?')[0].replace(/%([0-9A-Fa-f]{2})/g, (escape, hex) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /^[A-Za-z0-9._~-]$/.test(c) ? c : escape;
  });
  const route = routes.find((r) => path.startsWith(r.path));
  if (route && route.cors) {
    route.cors(req, res, next);
  } else {
    next();
  }
});

app.use((req, res) => {
  res.status(200).type('text/plain').send('corsproof demo');
});

const port = Number(process.argv[2] || 8080);
app.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${port}/`);
});
";

/// The `cors()` options object of a route.
fn cors_options(route: &Route) -> Result<String, EmitError> {
    let mut fields = Vec::new();
    fields.push(match &route.origins {
        Origins::Any => "origin: '*'".to_string(),
        Origins::List(_) => format!(
            "origin: [{}]",
            origin_items(route, "new RegExp")?.join(", ")
        ),
    });
    fields.push(format!(
        "methods: {}",
        lit_list(route, "methods", &all_methods(route))?
    ));
    if let HeaderNames::List(names) = &route.request_headers {
        fields.push(format!(
            "allowedHeaders: {}",
            lit_list(route, "request_headers", names)?
        ));
    }
    match &route.expose_headers {
        HeaderNames::Any => fields.push("exposedHeaders: ['*']".to_string()),
        HeaderNames::List(names) if !names.is_empty() => fields.push(format!(
            "exposedHeaders: {}",
            lit_list(route, "expose_headers", names)?
        )),
        HeaderNames::List(_) => {}
    }
    fields.push(format!("credentials: {}", route.credentials));
    if let Some(max_age) = route.max_age {
        fields.push(format!("maxAge: {max_age}"));
    }
    Ok(format!("{{ {} }}", fields.join(", ")))
}
