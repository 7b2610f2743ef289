//! Django 3.2 with django-cors-headers 3.14 (Debian's python3-django-cors-headers).
//!
//! django-cors-headers has one configuration for the whole site (its settings), applied to
//! the paths `CORS_URLS_REGEX` matches. The emitted settings are those of the first route
//! granting cross-origin access; the routes with the same grants share them, and
//! `CORS_URLS_REGEX` matches exactly the paths whose longest policy route is one of those
//! (each route's path anchored at the start, followed by a negative lookahead for the longer
//! routes outside the group that extend it). Every other route granting cross-origin access
//! gets no CORS headers: a [`Effect::Narrower`] item.
//!
//! Settings: `CORS_ALLOW_ALL_ORIGINS` (`origins = ["*"]`) or `CORS_ALLOWED_ORIGINS` and
//! `CORS_ALLOWED_ORIGIN_REGEXES`, `CORS_ALLOW_METHODS`, `CORS_ALLOW_HEADERS`,
//! `CORS_EXPOSE_HEADERS`, `CORS_ALLOW_CREDENTIALS`, `CORS_PREFLIGHT_MAX_AGE` (0, which sends
//! no `Access-Control-Max-Age`, when the policy has no `max_age`).

use corsproof_policy::{HeaderNames, Origins, Policy, Route};

use super::{
    all_methods, comments, item, lit, lit_list, no_pna, split_origins, App, AppFile, AppOptions,
};
use crate::{Effect, EmitError, Unsupported};

/// The application: `python3 app.py PORT` (Django's `runserver`, without autoreload).
pub fn django(policy: &Policy, options: &AppOptions) -> Result<App, EmitError> {
    let mut unsupported = Vec::new();
    let chosen = policy.routes.iter().find(|r| !r.origins.is_empty());
    let group: Vec<&Route> = match chosen {
        Some(c) => policy.routes.iter().filter(|r| same_grants(r, c)).collect(),
        None => Vec::new(),
    };
    for route in &policy.routes {
        if !route.origins.is_empty() && !group.iter().any(|g| std::ptr::eq(*g, route)) {
            unsupported.push(item(route, "path", Effect::Narrower,
                "django-cors-headers has one configuration for the whole site: this route's grants differ from the configured route's, so it gets no CORS headers"));
        }
    }
    let settings = match chosen {
        Some(c) => {
            announce(c, &group, &mut unsupported);
            settings(c, &urls_regex(policy, &group))?
        }
        None => "    CORS_URLS_REGEX=r\"^(?!)\",\n".to_string(),
    };
    let text = format!(
        "# corsproof emit django: Django 3.2 with django-cors-headers 3.14, one site-wide configuration.\n{}{PROLOGUE}{settings}{EPILOGUE}",
        comments("#", "django-cors-headers", &unsupported)
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

/// Whether two routes grant the same (all but path, name and probe paths equal).
fn same_grants(a: &Route, b: &Route) -> bool {
    a.origins == b.origins
        && a.methods == b.methods
        && a.request_headers == b.request_headers
        && a.expose_headers == b.expose_headers
        && a.credentials == b.credentials
        && a.max_age == b.max_age
        && a.private_network == b.private_network
}

fn announce(chosen: &Route, group: &[&Route], out: &mut Vec<Unsupported>) {
    for route in group {
        if chosen.credentials {
            out.push(item(route, "credentials", Effect::Disclosure,
                "django-cors-headers sends Access-Control-Allow-Credentials: true to every request with an Origin, refused origins included"));
        }
        no_pna(route, "django-cors-headers 3.14", out);
    }
}

/// `^(?:PATH1(?!EXT…)|PATH2…)`: the paths whose longest route is in `group`.
fn urls_regex(policy: &Policy, group: &[&Route]) -> String {
    let mut branches = Vec::new();
    for route in group {
        let longer: Vec<String> = policy
            .routes
            .iter()
            .filter(|l| {
                l.path.len() > route.path.len()
                    && l.path.starts_with(&route.path)
                    && !group.iter().any(|g| std::ptr::eq(*g, *l))
            })
            .map(|l| py_escape(&l.path[route.path.len()..]))
            .collect();
        let mut branch = py_escape(&route.path);
        if !longer.is_empty() {
            branch.push_str(&format!("(?!{})", longer.join("|")));
        }
        branches.push(branch);
    }
    format!("^(?:{})", branches.join("|"))
}

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

/// The `settings.configure(...)` keyword arguments of the CORS configuration.
fn settings(route: &Route, urls: &str) -> Result<String, EmitError> {
    let mut lines = vec![format!("CORS_URLS_REGEX={}", lit(route, "path", urls)?)];
    match &route.origins {
        Origins::Any => lines.push("CORS_ALLOW_ALL_ORIGINS=True".to_string()),
        Origins::List(_) => {
            let (exact, patterns) = split_origins(route);
            lines.push(format!(
                "CORS_ALLOWED_ORIGINS={}",
                lit_list(route, "origins", &exact)?
            ));
            lines.push(format!(
                "CORS_ALLOWED_ORIGIN_REGEXES={}",
                lit_list(route, "origins", &patterns)?
            ));
        }
    }
    lines.push(format!(
        "CORS_ALLOW_METHODS={}",
        lit_list(route, "methods", &all_methods(route))?
    ));
    lines.push(format!(
        "CORS_ALLOW_HEADERS={}",
        names(route, "request_headers", &route.request_headers)?
    ));
    lines.push(format!(
        "CORS_EXPOSE_HEADERS={}",
        names(route, "expose_headers", &route.expose_headers)?
    ));
    lines.push(format!(
        "CORS_ALLOW_CREDENTIALS={}",
        if route.credentials { "True" } else { "False" }
    ));
    lines.push(format!(
        "CORS_PREFLIGHT_MAX_AGE={}",
        route.max_age.unwrap_or(0)
    ));
    Ok(lines.iter().map(|l| format!("    {l},\n")).collect())
}

fn names(route: &Route, field: &'static str, names: &HeaderNames) -> Result<String, EmitError> {
    match names {
        HeaderNames::Any => Ok("[\"*\"]".to_string()),
        HeaderNames::List(list) => lit_list(route, field, list),
    }
}

const PROLOGUE: &str = "import sys

from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=[\"*\"],
    ROOT_URLCONF=__name__,
    SECRET_KEY=\"corsproof-demo-not-secret\",
    INSTALLED_APPS=[\"corsheaders\"],
    MIDDLEWARE=[\"corsheaders.middleware.CorsMiddleware\"],
";

const EPILOGUE: &str = ")

from django.http import HttpResponse  # noqa: E402
from django.urls import re_path  # noqa: E402


def demo(request):
    return HttpResponse(\"corsproof demo\", content_type=\"text/plain\")


urlpatterns = [re_path(r\"\", demo)]

if __name__ == \"__main__\":
    from django.core.management import execute_from_command_line

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    print(f\"listening on http://127.0.0.1:{port}/\", flush=True)
    execute_from_command_line([sys.argv[0], \"runserver\", \"--noreload\", f\"127.0.0.1:{port}\"])
";

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        Policy::from_toml_str(text, "p.toml").expect("a valid policy")
    }

    #[test]
    fn the_urls_regex_leaves_out_longer_routes_outside_the_group() {
        let p = policy(
            "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://a.example\"]\n\
             [[route]]\npath = \"/api/admin/\"\norigins = []\n\
             [[route]]\npath = \"/api/admin/open/\"\norigins = [\"https://a.example\"]\n",
        );
        let group = vec![&p.routes[0], &p.routes[2]];
        let re = urls_regex(&p, &group);
        assert_eq!(re, r"^(?:/api/(?!admin/)|/api/admin/open/)");
    }

    #[test]
    fn routes_with_other_grants_are_narrower() {
        let p = policy(
            "version = 1\n[[route]]\nname = \"a\"\npath = \"/a/\"\norigins = [\"https://a.example\"]\n\
             [[route]]\nname = \"b\"\npath = \"/b/\"\norigins = [\"*\"]\n",
        );
        let app = django(&p, &AppOptions::default()).expect("emitted");
        assert!(app
            .unsupported
            .iter()
            .any(|u| u.route == "b" && u.field == "path" && u.effect == Effect::Narrower));
        assert!(app.files[0].text.contains(r#"CORS_URLS_REGEX="^(?:/a/)""#));
    }
}
