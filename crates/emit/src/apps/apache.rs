//! Apache httpd 2.4 with mod_headers and mod_setenvif (Debian's apache2), no CORS module:
//! CORS written as `Header always ... "expr=..."` directives, the way Apache's documentation
//! builds conditional headers.
//!
//! `SetEnvIfExpr` names the request's route (`CORS_ROUTE`) from `%{REQUEST_URI}` as sent
//! (the expression runs before Apache decodes the path), each route's path matched with its
//! unreserved characters as themselves or percent-encoded (as the nginx emitter does), routes
//! in order of increasing path length so that the longest matching one is set last; each route's headers are sent
//! under an `ap_expr` condition: the route, the origin (an anchored regular expression), and
//! for a preflight (`OPTIONS` with `Access-Control-Request-Method`) its method and request
//! headers. Every request is answered from one file (`AliasMatch`); Apache's core answers
//! `OPTIONS` itself (200). `run.sh PORT` starts `apache2 -X` (one process, in the
//! foreground) with the configuration. Everything a policy says can be written so: the
//! emitter announces no [`crate::Unsupported`] item; paths, methods and names containing
//! `"`, `'`, `#`, `\`, `%` or `$` are refused with [`EmitError::Unsupported`].

use corsproof_policy::{HeaderNames, Origins, Policy, Route};

use super::{all_methods, lit, split_origins, App, AppFile, AppOptions};
use crate::EmitError;

/// The application: `run.sh PORT`, `httpd.conf`, `demo.txt`.
pub fn apache(policy: &Policy, options: &AppOptions) -> Result<App, EmitError> {
    let mut routes = Vec::new();
    for (i, route) in policy.routes.iter().enumerate() {
        check(route)?;
        let decoded = crate::nginx::decode_unreserved(&route.path);
        routes.push((
            i,
            decoded.len(),
            crate::nginx::path_regex(route, &decoded)?,
            route,
        ));
    }
    // Shortest first, so that the longest route matching is set last (of two equal once
    // decoded, the first route).
    routes.sort_by_key(|(i, len, _, _)| (*len, std::cmp::Reverse(*i)));
    let mut conf = String::from(PROLOGUE);
    for (i, _, regex, _) in &routes {
        conf.push_str(&format!(
            "SetEnvIfExpr \"%{{REQUEST_URI}} =~ m#^{regex}#\" CORS_ROUTE=r{i}\n"
        ));
    }
    for (i, _, _, route) in &routes {
        if route.origins.is_empty() {
            continue;
        }
        conf.push_str(&route_headers(*i, route)?);
    }
    conf.insert_str(
        0,
        "# corsproof emit apache: Apache httpd 2.4, mod_headers and mod_setenvif.\n",
    );
    App {
        files: vec![
            AppFile {
                name: "run.sh",
                text: RUN.to_string(),
            },
            AppFile {
                name: "httpd.conf",
                text: conf,
            },
            AppFile {
                name: "demo.txt",
                text: "corsproof demo".to_string(),
            },
        ],
        unsupported: Vec::new(),
    }
    .finish(options)
}

/// Refuses text that cannot be written into a quoted `ap_expr` string.
fn check(route: &Route) -> Result<(), EmitError> {
    let bad = |field: &'static str, text: &str| -> Result<(), EmitError> {
        lit(route, field, text)?;
        if text.contains(['"', '\'', '#', '\\', '%', '$']) {
            return Err(EmitError::Unsupported {
                route: route.label().to_string(),
                field,
                why: format!("{text:?} cannot be written into an ap_expr string as is"),
            });
        }
        Ok(())
    };
    bad("path", &route.path)?;
    for m in &route.methods {
        bad("methods", m)?;
    }
    Ok(())
}

fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The origin condition of a route.
fn origin_condition(route: &Route) -> String {
    match &route.origins {
        Origins::Any => "-n %{req:Origin}".to_string(),
        Origins::List(_) => {
            let (exact, patterns) = split_origins(route);
            let alternatives: Vec<String> = exact
                .iter()
                .map(|o| escape(o))
                .chain(
                    patterns
                        .iter()
                        .map(|p| p.trim_start_matches('^').trim_end_matches('$').to_string()),
                )
                .collect();
            format!("%{{req:Origin}} =~ m#^(?:{})$#", alternatives.join("|"))
        }
    }
}

/// The preflight condition: method and request headers allowed.
fn preflight_passes(route: &Route) -> String {
    let methods: Vec<String> = all_methods(route).iter().map(|m| escape(m)).collect();
    let method = format!(
        "%{{req:Access-Control-Request-Method}} =~ m#^(?:{})$#",
        methods.join("|")
    );
    let headers = match &route.request_headers {
        // `*` never covers Authorization: a preflight asking for it fails.
        HeaderNames::Any => {
            "! %{req:Access-Control-Request-Headers} =~ m#(?:^|,)\\s*authorization\\s*(?:,|$)#i"
                .to_string()
        }
        HeaderNames::List(names) => {
            let names: Vec<String> = names.iter().map(|n| escape(n)).collect();
            let name = if names.is_empty() {
                "(?!)".to_string()
            } else {
                format!("(?:{})", names.join("|"))
            };
            format!("(-z %{{req:Access-Control-Request-Headers}} || %{{req:Access-Control-Request-Headers}} =~ m#^[\\s,]*{name}(?:[\\s,]+{name})*[\\s,]*$#i)")
        }
    };
    format!("{method} && {headers}")
}

fn route_headers(i: usize, route: &Route) -> Result<String, EmitError> {
    let on = format!("reqenv('CORS_ROUTE') == 'r{i}'");
    let origin = origin_condition(route);
    let preflight = "%{REQUEST_METHOD} == 'OPTIONS' && -n %{req:Access-Control-Request-Method}";
    let pass = preflight_passes(route);
    let granted = format!("{on} && {origin} && (!({preflight}) || ({pass}))");
    let passed = format!("{on} && {origin} && {preflight} && {pass}");
    let acao = if matches!(route.origins, Origins::Any) && !route.credentials {
        "*"
    } else {
        "expr=%{req:Origin}"
    };
    let mut out = format!(
        "\n# route {}\n",
        route.label().replace(|c: char| c.is_control(), "?")
    );
    let mut header = |name: &str, value: &str, when: &str| {
        out.push_str(&format!(
            "Header always set {name} \"{value}\" \"expr={when}\"\n"
        ));
    };
    header("Access-Control-Allow-Origin", acao, &granted);
    if route.credentials {
        header("Access-Control-Allow-Credentials", "true", &granted);
    }
    let expose = match &route.expose_headers {
        HeaderNames::Any => "*".to_string(),
        HeaderNames::List(names) => names.join(", "),
    };
    if !expose.is_empty() {
        header(
            "Access-Control-Expose-Headers",
            &expose,
            &format!("{granted} && !({preflight})"),
        );
    }
    header(
        "Access-Control-Allow-Methods",
        &all_methods(route).join(", "),
        &passed,
    );
    match &route.request_headers {
        HeaderNames::Any => header(
            "Access-Control-Allow-Headers",
            "expr=%{req:Access-Control-Request-Headers}",
            &format!("{passed} && -n %{{req:Access-Control-Request-Headers}}"),
        ),
        HeaderNames::List(names) if !names.is_empty() => {
            header("Access-Control-Allow-Headers", &names.join(", "), &passed)
        }
        HeaderNames::List(_) => {}
    }
    if let Some(max_age) = route.max_age {
        header("Access-Control-Max-Age", &max_age.to_string(), &passed);
    }
    if route.private_network {
        header(
            "Access-Control-Allow-Private-Network",
            "true",
            &format!("{passed} && %{{req:Access-Control-Request-Private-Network}} == 'true'"),
        );
    }
    let listed = matches!(route.origins, Origins::List(_));
    if listed {
        out.push_str(&format!(
            "Header always merge Vary \"Origin\" \"expr={on}\"\n"
        ));
    }
    let pna = if route.private_network {
        ", Access-Control-Request-Private-Network"
    } else {
        ""
    };
    out.push_str(&format!("Header always merge Vary \"Access-Control-Request-Method, Access-Control-Request-Headers{pna}\" \"expr={on} && %{{REQUEST_METHOD}} == 'OPTIONS'\"\n"));
    Ok(out)
}

const RUN: &str = "#!/bin/sh
# Runs Debian's apache2 in the foreground, one process, with httpd.conf, on 127.0.0.1:$1.
exec /usr/sbin/apache2 -X -d \"$PWD\" -f \"$PWD/httpd.conf\" -C \"Define ROOT $PWD\" -C \"Listen 127.0.0.1:$1\"
";

const PROLOGUE: &str = "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so
LoadModule setenvif_module /usr/lib/apache2/modules/mod_setenvif.so
ServerName 127.0.0.1
PidFile httpd.pid
ErrorLog error.log
LogLevel warn
Mutex file:${ROOT} default
User nobody
Group nogroup
DocumentRoot ${ROOT}
<Directory ${ROOT}>
  Require all granted
</Directory>
AliasMatch \"^/.*$\" \"${ROOT}/demo.txt\"

# The route of the request: the longest policy path prefixing %{REQUEST_URI}, set last.
";
