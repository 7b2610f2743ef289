//! Rack 2.2 with rack-cors 1.1 (Debian's ruby-rack-cors), served by WEBrick.
//!
//! One `use Rack::Cors` with an `allow` block per policy route granting cross-origin access,
//! as rack-cors' README shows: `origins` (exact origins as strings; subdomain patterns and
//! `null` as anchored regular expressions, since rack-cors turns a bare `null` into a
//! scheme-prefixed pattern) and one `resource` whose path is a regular expression anchoring
//! the route's path, followed by a negative lookahead for the longer routes that extend it,
//! so that rack-cors finds a resource only for the paths whose longest policy route it is;
//! `headers`, `methods`, `expose`, `credentials`, `max_age` (0 when the policy has none:
//! rack-cors sends 7200 for an unset `max_age`).

use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};

use super::{all_methods, comments, item, lit, longest_first, no_pna, App, AppFile, AppOptions};
use crate::{Effect, EmitError, Unsupported};

/// The request headers rack-cors 1.1 always allows in a preflight, whatever their values
/// (its `CORS_SIMPLE_HEADERS`).
pub const RACK_ALWAYS_ALLOWED: [&str; 4] = [
    "accept",
    "accept-language",
    "content-language",
    "content-type",
];

/// The application: `ruby app.rb PORT`.
pub fn rack(policy: &Policy, options: &AppOptions) -> Result<App, EmitError> {
    let mut unsupported = Vec::new();
    let mut blocks = String::new();
    for route in longest_first(policy) {
        if route.origins.is_empty() {
            continue;
        }
        announce(route, &mut unsupported);
        blocks.push_str(&allow_block(policy, route)?);
    }
    let text = format!(
        "# corsproof emit rack: Rack 2.2 with rack-cors 1.1, one allow block per policy route.\n{}{PROLOGUE}{blocks}{EPILOGUE}",
        comments("#", "rack-cors", &unsupported)
    );
    App {
        files: vec![AppFile {
            name: "app.rb",
            text,
        }],
        unsupported,
    }
    .finish(options)
}

fn announce(route: &Route, out: &mut Vec<Unsupported>) {
    let allowed = match &route.request_headers {
        HeaderNames::Any => true,
        HeaderNames::List(names) => RACK_ALWAYS_ALLOWED
            .iter()
            .all(|h| names.iter().any(|n| n == h)),
    };
    if !allowed {
        out.push(item(route, "request_headers", Effect::Broader,
            "rack-cors allows Accept, Accept-Language, Content-Language and Content-Type in every preflight whatever their values (a Content-Type of application/json is not CORS-safelisted)"));
    }
    if route.max_age.is_none() {
        out.push(item(route, "max_age", Effect::Narrower,
            "rack-cors always sends Access-Control-Max-Age (7200 unless set): the emitted max_age 0 asks browsers not to cache a preflight at all"));
    }
    no_pna(route, "rack-cors 1.1", out);
}

/// A Ruby double-quoted string literal (`#` escaped against interpolation).
fn ruby(route: &Route, field: &'static str, text: &str) -> Result<String, EmitError> {
    Ok(lit(route, field, text)?.replace('#', "\\#"))
}

fn ruby_list(route: &Route, field: &'static str, items: &[String]) -> Result<String, EmitError> {
    let items: Result<Vec<String>, EmitError> =
        items.iter().map(|s| ruby(route, field, s)).collect();
    Ok(format!("[{}]", items?.join(", ")))
}

fn anchored(regex: &str) -> String {
    let inner = regex.strip_prefix('^').unwrap_or(regex);
    let inner = inner.strip_suffix('$').unwrap_or(inner);
    format!("\\A{inner}\\z")
}

fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#-/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The path regex of a route: its path, not followed by the rest of a longer route's.
fn path_regex(policy: &Policy, route: &Route) -> String {
    let longer: Vec<String> = policy
        .routes
        .iter()
        .filter(|l| l.path.len() > route.path.len() && l.path.starts_with(&route.path))
        .map(|l| escape(&l.path[route.path.len()..]))
        .collect();
    let mut out = format!("\\A{}", escape(&route.path));
    if !longer.is_empty() {
        out.push_str(&format!("(?!{})", longer.join("|")));
    }
    out
}

fn allow_block(policy: &Policy, route: &Route) -> Result<String, EmitError> {
    let origins: Vec<String> = match &route.origins {
        Origins::Any => vec!["\"*\"".to_string()],
        Origins::List(entries) => entries
            .iter()
            .map(|e| match e {
                OriginEntry::Exact { .. } => ruby(route, "origins", &e.to_string()),
                _ => Ok(format!(
                    "Regexp.new({})",
                    ruby(route, "origins", &anchored(&crate::kong::origin_regex(e)))?
                )),
            })
            .collect::<Result<_, _>>()?,
    };
    let methods: Vec<String> = all_methods(route)
        .iter()
        .map(|m| m.to_lowercase())
        .collect();
    let headers = match &route.request_headers {
        HeaderNames::Any => ":any".to_string(),
        HeaderNames::List(names) => ruby_list(route, "request_headers", names)?,
    };
    let expose = match &route.expose_headers {
        HeaderNames::Any => "[\"*\"]".to_string(),
        HeaderNames::List(names) if names.is_empty() => "nil".to_string(),
        HeaderNames::List(names) => ruby_list(route, "expose_headers", names)?,
    };
    Ok(format!(
        "    allow do # {}\n      origins {}\n      resource Regexp.new({}), headers: {headers}, methods: {}, expose: {expose}, credentials: {}, max_age: {}\n    end\n",
        route.label().replace(|c: char| c.is_control(), "?"),
        origins.join(", "),
        ruby(route, "path", &path_regex(policy, route))?,
        ruby_list(route, "methods", &methods)?,
        route.credentials,
        route.max_age.unwrap_or(0)
    ))
}

const PROLOGUE: &str = "require 'rack'
require 'rack/cors'
require 'rack/handler/webrick'
require 'webrick'

DEMO = lambda { |_env| [200, { 'Content-Type' => 'text/plain' }, ['corsproof demo']] }

app = Rack::Builder.new do
  use Rack::Cors do
";

const EPILOGUE: &str = "  end
  run DEMO
end

port = Integer(ARGV[0] || 8080)
puts \"listening on http://127.0.0.1:#{port}/\"
$stdout.flush
Rack::Handler::WEBrick.run(app, Host: '127.0.0.1', Port: port, AccessLog: [],
                           Logger: WEBrick::Log.new(File::NULL, 0))
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_path_excludes_every_longer_route_that_extends_it() {
        let p = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"*\"]\n\
             [[route]]\npath = \"/api/health\"\norigins = [\"*\"]\n\
             [[route]]\npath = \"/apix/\"\norigins = []\n",
            "p.toml",
        )
        .expect("a valid policy");
        assert_eq!(path_regex(&p, &p.routes[0]), r"\A\/api\/(?!health)");
        assert_eq!(path_regex(&p, &p.routes[1]), r"\A\/api\/health");
    }

    #[test]
    fn null_and_subdomain_origins_are_anchored_regexps() {
        let p = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/\"\norigins = [\"null\", \"https://*.example.com\"]\nallow_risky = true\n",
            "p.toml",
        )
        .expect("a valid policy");
        let app = rack(
            &p,
            &AppOptions {
                allow_broader: true,
            },
        )
        .expect("emitted");
        let text = &app.files[0].text;
        assert!(text.contains(r#"Regexp.new("\\Anull\\z")"#), "{text}");
        assert!(text.contains(r#"example\\.com\\z")"#), "{text}");
    }
}
