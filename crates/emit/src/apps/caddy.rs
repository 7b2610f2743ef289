//! Caddy 2 (Debian's caddy), which has no CORS directive: CORS written as a Caddyfile of
//! named matchers and `header` directives, the way Caddy's documentation and community
//! build it.
//!
//! One `handle` block per policy route, longest decoded path first (Caddy keeps `handle`
//! blocks whose matchers are not path matchers in the order written, and runs the first
//! that matches). A route's matcher is `vars_regexp` on `{http.request.uri}`, the request
//! target as sent (Caddy's `path` matcher would match the decoded, cleaned path, case
//! insensitively), each route's path written with its unreserved characters as themselves
//! or percent-encoded, as the nginx emitter does. Inside a route: `header_regexp` on
//! `Origin`, `method OPTIONS` with `Access-Control-Request-Method` for a preflight,
//! `header_regexp` on the requested method and headers for a preflight that passes; the
//! CORS headers are `header` directives under those matchers, and a preflight is answered
//! `respond 204`. `run.sh PORT` runs `caddy run --adapter caddyfile` on `127.0.0.1:PORT`
//! (admin endpoint off, no automatic HTTPS, `HOME` and the XDG directories in the
//! application's own directory). Everything a policy says can be written so: the emitter
//! announces no [`crate::Unsupported`] item; paths and methods containing a backtick,
//! whitespace or characters outside printable ASCII are refused with
//! [`EmitError::Unsupported`].

use corsproof_policy::{HeaderNames, Origins, Policy, Route};

use super::{all_methods, lit, App, AppFile, AppOptions};
use crate::nginx::{decode_unreserved, path_regex, BARE_PERCENT};
use crate::EmitError;

/// The application: `run.sh PORT`, `Caddyfile`.
///
/// ```
/// use corsproof_emit::apps::{caddy, AppOptions};
/// use corsproof_policy::Policy;
/// let policy = Policy::from_toml_str(
///     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.example.com\"]\n",
///     "p.toml",
/// )?;
/// let app = caddy(&policy, &AppOptions::default())?;
/// assert_eq!(app.files[1].name, "Caddyfile");
/// assert!(app.files[1]
///     .text
///     .contains(r"header_regexp origin Origin `^(?:https://app\.example\.com)$`"));
/// assert!(app.unsupported.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn caddy(policy: &Policy, options: &AppOptions) -> Result<App, EmitError> {
    let mut routes = Vec::new();
    for (i, route) in policy.routes.iter().enumerate() {
        check(route)?;
        let decoded = decode_unreserved(&route.path);
        let regex = go_path_regex(route, &decoded)?;
        routes.push((i, decoded.len(), regex, route));
    }
    // Longest first (of two equal once decoded, the first route).
    routes.sort_by_key(|(i, len, _, _)| (std::cmp::Reverse(*len), *i));
    let mut site = String::new();
    for (i, _, regex, route) in &routes {
        site.push_str(&format!(
            "\n\t# route {}\n\t@r{i} vars_regexp {{http.request.uri}} `^{regex}`\n\thandle @r{i} {{\n",
            route.label().replace(|c: char| c.is_control(), "?")
        ));
        if !route.origins.is_empty() {
            site.push_str(&route_block(route));
        }
        site.push_str("\t\trespond \"corsproof demo\" 200\n\t}\n");
    }
    let conf = format!(
        "# corsproof emit caddy: Caddy 2, named matchers and header directives.\n{GLOBAL}http://:{{$PORT}} {{\n\tbind 127.0.0.1\n\theader Content-Type text/plain\n{site}\n\thandle {{\n\t\trespond \"corsproof demo\" 200\n\t}}\n}}\n"
    );
    App {
        files: vec![
            AppFile {
                name: "run.sh",
                text: RUN.to_string(),
            },
            AppFile {
                name: "Caddyfile",
                text: conf,
            },
        ],
        unsupported: Vec::new(),
    }
    .finish(options)
}

const GLOBAL: &str = "{
\tadmin off
\tauto_https off
}
";

const RUN: &str = "#!/bin/sh
# Runs Debian's caddy in the foreground with the Caddyfile on 127.0.0.1:$1; Caddy's data and
# configuration directories are kept in this directory.
export HOME=\"$PWD\" XDG_DATA_HOME=\"$PWD/data\" XDG_CONFIG_HOME=\"$PWD/config\" PORT=\"$1\"
exec caddy run --config \"$PWD/Caddyfile\" --adapter caddyfile
";

/// The nginx emitter's path expression in Go's regexp syntax, which has no lookahead: its
/// `%` that starts no percent-encoded unreserved character is a plain `%` where the decoded
/// path has two hex digits after it (what follows it in a matching request is then never an
/// encoded unreserved character); any other `%` is refused.
fn go_path_regex(route: &Route, decoded: &str) -> Result<String, EmitError> {
    let bytes = decoded.as_bytes();
    for (i, _) in decoded.match_indices('%') {
        let escape = bytes.get(i + 1..i + 3);
        if !escape.is_some_and(|e| e.iter().all(u8::is_ascii_hexdigit)) {
            return Err(EmitError::Unsupported {
                route: route.label().to_string(),
                field: "path",
                why: "a `%` that does not start a percent-escape cannot be matched by Caddy's regular expressions (no lookahead)".to_string(),
            });
        }
    }
    Ok(path_regex(route, decoded)?.replace(BARE_PERCENT, "%"))
}

/// Refuses text that cannot be written into a backtick-quoted Caddyfile token.
fn check(route: &Route) -> Result<(), EmitError> {
    let bad = |field: &'static str, text: &str| -> Result<(), EmitError> {
        lit(route, field, text)?;
        if text.contains(['`', ' ']) {
            return Err(EmitError::Unsupported {
                route: route.label().to_string(),
                field,
                why: format!("{text:?} cannot be written into a Caddyfile token as is"),
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

/// Escapes the characters special in Go's regexp syntax.
fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The anchored expression of the route's allowed origins (a listed route).
fn origin_regex(route: &Route) -> String {
    let alternatives: Vec<String> = match &route.origins {
        Origins::Any => vec![".+".to_string()],
        Origins::List(entries) => entries
            .iter()
            .map(|e| {
                let re = crate::kong::origin_regex(e);
                re.trim_start_matches('^').trim_end_matches('$').to_string()
            })
            .collect(),
    };
    format!("^(?:{})$", alternatives.join("|"))
}

/// The matcher lines of a preflight that passes: method and request headers allowed.
fn passed_lines(route: &Route) -> String {
    let methods: Vec<String> = all_methods(route).iter().map(|m| escape(m)).collect();
    let mut out = format!(
        "\t\t\theader_regexp method Access-Control-Request-Method `^(?:{})$`\n",
        methods.join("|")
    );
    match &route.request_headers {
        // `*` never covers Authorization: a preflight asking for it fails.
        HeaderNames::Any => out.push_str(
            "\t\t\tnot header_regexp Access-Control-Request-Headers `(?i)(?:^|,)\\s*authorization\\s*(?:,|$)`\n",
        ),
        HeaderNames::List(names) if names.is_empty() => {
            out.push_str("\t\t\tnot header Access-Control-Request-Headers *\n");
        }
        HeaderNames::List(names) => {
            let names: Vec<String> = names.iter().map(|n| escape(n)).collect();
            let name = format!("(?:{})", names.join("|"));
            out.push_str(&format!(
                "\t\t\tnot {{\n\t\t\t\theader Access-Control-Request-Headers *\n\t\t\t\tnot header_regexp Access-Control-Request-Headers `(?i)^[\\s,]*{name}(?:[\\s,]+{name})*[\\s,]*$`\n\t\t\t}}\n"
            ));
        }
    }
    out
}

/// The matchers and `header` directives of a CORS route.
fn route_block(route: &Route) -> String {
    let origin = origin_regex(route);
    // `*` goes to every answer, requests without Origin included, so that no cached
    // answer lacks it.
    let actual_origin = match &route.origins {
        Origins::Any if !route.credentials => String::new(),
        _ => format!("\t\t\theader_regexp origin Origin `{origin}`\n"),
    };
    let mut out = format!(
        "\t\t@preflight {{\n\t\t\tmethod OPTIONS\n\t\t\theader Access-Control-Request-Method *\n\t\t}}\n\
         \t\t@actual {{\n{actual_origin}\t\t\tnot {{\n\t\t\t\tmethod OPTIONS\n\t\t\t\theader Access-Control-Request-Method *\n\t\t\t}}\n\t\t}}\n\
         \t\t@passed {{\n\t\t\tmethod OPTIONS\n\t\t\theader_regexp origin Origin `{origin}`\n{}\t\t}}\n",
        passed_lines(route)
    );
    if route.private_network {
        out.push_str(&format!(
            "\t\t@pna {{\n\t\t\tmethod OPTIONS\n\t\t\theader_regexp origin Origin `{origin}`\n{}\t\t\theader Access-Control-Request-Private-Network true\n\t\t}}\n",
            passed_lines(route)
        ));
    }
    let acao = if matches!(route.origins, Origins::Any) && !route.credentials {
        "*"
    } else {
        "{http.request.header.Origin}"
    };
    for m in ["@actual", "@passed"] {
        out.push_str(&format!(
            "\t\theader {m} Access-Control-Allow-Origin \"{acao}\"\n"
        ));
        if route.credentials {
            out.push_str(&format!(
                "\t\theader {m} Access-Control-Allow-Credentials true\n"
            ));
        }
    }
    let expose = match &route.expose_headers {
        HeaderNames::Any => "*".to_string(),
        HeaderNames::List(names) => names.join(", "),
    };
    if !expose.is_empty() {
        out.push_str(&format!(
            "\t\theader @actual Access-Control-Expose-Headers \"{expose}\"\n"
        ));
    }
    out.push_str(&format!(
        "\t\theader @passed Access-Control-Allow-Methods \"{}\"\n",
        all_methods(route).join(", ")
    ));
    match &route.request_headers {
        HeaderNames::Any => out.push_str(
            "\t\theader @passed Access-Control-Allow-Headers \"{http.request.header.Access-Control-Request-Headers}\"\n",
        ),
        HeaderNames::List(names) if !names.is_empty() => out.push_str(&format!(
            "\t\theader @passed Access-Control-Allow-Headers \"{}\"\n",
            names.join(", ")
        )),
        HeaderNames::List(_) => {}
    }
    if let Some(max_age) = route.max_age {
        out.push_str(&format!(
            "\t\theader @passed Access-Control-Max-Age {max_age}\n"
        ));
    }
    if route.private_network {
        out.push_str("\t\theader @pna Access-Control-Allow-Private-Network true\n");
    }
    out.push_str("\t\t@options method OPTIONS\n");
    if matches!(route.origins, Origins::List(_)) {
        out.push_str("\t\theader +Vary Origin\n");
    }
    let pna = if route.private_network {
        ", Access-Control-Request-Private-Network"
    } else {
        ""
    };
    out.push_str(&format!(
        "\t\theader @options +Vary \"Access-Control-Request-Method, Access-Control-Request-Headers{pna}\"\n\
         \t\trespond @preflight 204\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::caddy;
    use crate::apps::AppOptions;
    use corsproof_policy::Policy;

    fn caddyfile(path: &str) -> Result<String, crate::EmitError> {
        let text = format!(
            "version = 1\n[[route]]\npath = \"{path}\"\norigins = [\"https://app.example.com\"]\n"
        );
        let policy = Policy::from_toml_str(&text, "p.toml").expect("a policy");
        caddy(&policy, &AppOptions::default()).map(|app| app.files[1].text.clone())
    }

    #[test]
    fn a_reserved_escape_in_a_path_is_matched_as_sent_its_letters_either_way() {
        let conf = caddyfile("/x%2Fy/").expect("emitted");
        // Checked by hand: `%`, then 2 and F each as itself or encoded, as nginx matches it.
        assert!(
            conf.contains(
                r"vars_regexp {http.request.uri} `^\/(?:x|%78)%(?:2|%32)(?:F|%46)(?:y|%79)\/`"
            ),
            "{conf}"
        );
    }

    #[test]
    fn a_percent_starting_no_escape_is_refused() {
        let refused = caddyfile("/a%/");
        assert!(
            matches!(
                refused,
                Err(crate::EmitError::Unsupported { field: "path", .. })
            ),
            "{refused:?}"
        );
    }
}
