//! Go's net/http with rs/cors 1.7 or gorilla/handlers 1.5 (Debian's golang-github-rs-cors-dev
//! and golang-github-gorilla-handlers-dev, built in GOPATH mode from /usr/share/gocode).
//!
//! Each CORS route is its own handler wrapped by the library (`cors.New(cors.Options{...})
//! .Handler(demo)`, `handlers.CORS(...)(demo)`); `main` picks the handler of the route whose
//! path is the longest prefix of the request's path (as sent, its percent-encoded unreserved
//! characters decoded). rs/cors: `AllowedOrigins` (exact origins, and subdomain patterns in
//! its own `https://*.example.com` wildcard form), `AllowedMethods`, `AllowedHeaders`
//! (`Origin`, which no script can set, for an empty list: an empty list means rs/cors'
//! defaults), `ExposedHeaders`, `AllowCredentials`, `MaxAge`. gorilla/handlers:
//! `AllowedOrigins`, or `AllowedOriginValidator` (exact origins and anchored regular
//! expressions) when the route has subdomain patterns, `AllowedMethods`, `AllowedHeaders`,
//! `ExposedHeaders`, `AllowCredentials()`, `MaxAge`.

use corsproof_policy::{HeaderNames, Origins, Policy, Route};

use super::{
    all_methods, comments, item, lit, lit_list, longest_first, no_pna, split_origins, App, AppFile,
    AppOptions,
};
use crate::{Effect, EmitError, Unsupported};

/// Which Go library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoLibrary {
    /// github.com/rs/cors.
    RsCors,
    /// github.com/gorilla/handlers.
    Gorilla,
}

/// The largest `MaxAge` gorilla/handlers sends (larger values are lowered to it).
pub const GORILLA_MAX_AGE: u64 = 600;

/// The application: `run.sh PORT` builds `main.go` with `go build` (GOPATH mode) and runs it.
pub fn go(policy: &Policy, library: GoLibrary, options: &AppOptions) -> Result<App, EmitError> {
    let mut unsupported = Vec::new();
    let mut routes = String::new();
    for route in longest_first(policy) {
        let handler = if route.origins.is_empty() {
            "demo".to_string()
        } else {
            announce(route, library, &mut unsupported);
            match library {
                GoLibrary::RsCors => rs_cors(route)?,
                GoLibrary::Gorilla => gorilla(route)?,
            }
        };
        routes.push_str(&format!(
            "\t{{{}, {handler}}},\n",
            lit(route, "path", &route.path)?
        ));
    }
    let (name, import) = match library {
        GoLibrary::RsCors => ("rs/cors 1.7", "\"github.com/rs/cors\""),
        GoLibrary::Gorilla => ("gorilla/handlers 1.5", "\"github.com/gorilla/handlers\""),
    };
    let regexp = if routes.contains("regexp.") {
        "\t\"regexp\"\n"
    } else {
        ""
    };
    let text = format!(
        "// corsproof emit: Go net/http with {name}, one handler per policy route.\n{}package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\t\"os\"\n{regexp}\t\"strconv\"\n\t\"strings\"\n\n\t{import}\n)\n{PROLOGUE}var routes = []route{{\n{routes}}}\n{EPILOGUE}",
        comments("//", name, &unsupported)
    );
    App {
        files: vec![
            AppFile {
                name: "run.sh",
                text: RUN.to_string(),
            },
            AppFile {
                name: "main.go",
                text,
            },
        ],
        unsupported,
    }
    .finish(options)
}

const RUN: &str = "#!/bin/sh
# Builds main.go against Debian's Go packages (GOPATH mode, no module proxy) and runs it.
set -e
# go needs a cache directory: $HOME/.cache/go-build unless GOCACHE says otherwise.
export HOME=\"${HOME:-$PWD}\"
export GO111MODULE=off GOPATH=\"$PWD/gopath:/usr/share/gocode\" GOFLAGS=
go build -o app main.go
exec ./app \"$1\"
";

const PROLOGUE: &str = "
type route struct {
	path    string
	handler http.Handler
}

var demo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(\"Content-Type\", \"text/plain\")
	fmt.Fprint(w, \"corsproof demo\")
})

// The policy's routes, longest path first: the first whose path prefixes the request's
// path (as sent, its percent-encoded unreserved characters decoded) applies.
";

const EPILOGUE: &str = "
func unreserved(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] == '%' && i+2 < len(path) {
			if v, err := strconv.ParseUint(path[i+1:i+3], 16, 8); err == nil {
				c := byte(v)
				if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(\"-._~\", c) >= 0 {
					b.WriteByte(c)
					i += 2
					continue
				}
			}
		}
		b.WriteByte(path[i])
	}
	return b.String()
}

func main() {
	port := \"8080\"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := unreserved(strings.SplitN(r.RequestURI, \"?\", 2)[0])
		for _, rt := range routes {
			if strings.HasPrefix(path, rt.path) {
				rt.handler.ServeHTTP(w, r)
				return
			}
		}
		demo.ServeHTTP(w, r)
	})
	fmt.Printf(\"listening on http://127.0.0.1:%s/\\n\", port)
	if err := http.ListenAndServe(\"127.0.0.1:\"+port, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
";

fn announce(route: &Route, library: GoLibrary, out: &mut Vec<Unsupported>) {
    match library {
        GoLibrary::RsCors => no_pna(route, "rs/cors 1.7", out),
        GoLibrary::Gorilla => {
            if route.max_age.is_some_and(|m| m > GORILLA_MAX_AGE) {
                out.push(item(
                    route,
                    "max_age",
                    Effect::Narrower,
                    "gorilla/handlers lowers MaxAge to 600 seconds",
                ));
            }
            if route.credentials {
                out.push(item(route, "credentials", Effect::Disclosure,
                    "gorilla/handlers sends Access-Control-Allow-Credentials: true with every answer to an allowed origin, failed preflights included"));
            }
            no_pna(route, "gorilla/handlers 1.5", out);
        }
    }
}

fn go_list(route: &Route, field: &'static str, items: &[String]) -> Result<String, EmitError> {
    let list = lit_list(route, field, items)?;
    Ok(format!("[]string{{{}}}", &list[1..list.len() - 1]))
}

/// `cors.New(cors.Options{...}).Handler(demo)`.
fn rs_cors(route: &Route) -> Result<String, EmitError> {
    let mut fields = Vec::new();
    let origins: Vec<String> = match &route.origins {
        Origins::Any => vec!["*".to_string()],
        Origins::List(entries) => entries.iter().map(ToString::to_string).collect(),
    };
    fields.push(format!(
        "AllowedOrigins: {}",
        go_list(route, "origins", &origins)?
    ));
    fields.push(format!(
        "AllowedMethods: {}",
        go_list(route, "methods", &all_methods(route))?
    ));
    let headers = match &route.request_headers {
        HeaderNames::Any => vec!["*".to_string()],
        HeaderNames::List(names) if names.is_empty() => vec!["Origin".to_string()],
        HeaderNames::List(names) => names.clone(),
    };
    fields.push(format!(
        "AllowedHeaders: {}",
        go_list(route, "request_headers", &headers)?
    ));
    fields.push(format!("ExposedHeaders: {}", exposed(route)?));
    fields.push(format!("AllowCredentials: {}", route.credentials));
    fields.push(format!("MaxAge: {}", route.max_age.unwrap_or(0)));
    Ok(format!(
        "cors.New(cors.Options{{{}}}).Handler(demo)",
        fields.join(", ")
    ))
}

fn exposed(route: &Route) -> Result<String, EmitError> {
    match &route.expose_headers {
        HeaderNames::Any => Ok("[]string{\"*\"}".to_string()),
        HeaderNames::List(names) => go_list(route, "expose_headers", names),
    }
}

/// `handlers.CORS(...)(demo)`.
fn gorilla(route: &Route) -> Result<String, EmitError> {
    let mut opts = Vec::new();
    let (exact, patterns) = split_origins(route);
    match &route.origins {
        Origins::Any => opts.push("handlers.AllowedOrigins([]string{\"*\"})".to_string()),
        Origins::List(_) if patterns.is_empty() => opts.push(format!(
            "handlers.AllowedOrigins({})",
            go_list(route, "origins", &exact)?
        )),
        Origins::List(_) => {
            let alternation: Vec<String> = exact
                .iter()
                .map(|o| format!("^{}$", regexp_escape(o)))
                .chain(patterns)
                .map(|p| format!("(?:{p})"))
                .collect();
            opts.push(format!(
                "handlers.AllowedOriginValidator(regexp.MustCompile({}).MatchString)",
                lit(route, "origins", &alternation.join("|"))?
            ));
        }
    }
    opts.push(format!(
        "handlers.AllowedMethods({})",
        go_list(route, "methods", &all_methods(route))?
    ));
    if let HeaderNames::List(names) = &route.request_headers {
        opts.push(format!(
            "handlers.AllowedHeaders({})",
            go_list(route, "request_headers", names)?
        ));
    }
    opts.push(format!("handlers.ExposedHeaders({})", exposed(route)?));
    if route.credentials {
        opts.push("handlers.AllowCredentials()".to_string());
    }
    if let Some(max_age) = route.max_age {
        opts.push(format!("handlers.MaxAge({})", max_age.min(i32::MAX as u64)));
    }
    Ok(format!("handlers.CORS({})(demo)", opts.join(", ")))
}

fn regexp_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
