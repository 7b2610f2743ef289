//! From the located file to the model: every rule of `policy.md` "Validation", all errors
//! collected, plus the warnings that only the file shows (duplicate entries removed).

use std::collections::HashMap;

use crate::error::{Diagnostic, ErrorCode};
use crate::lint::{Warning, WarningCode};
use crate::model::{HeaderNames, OriginEntry, Origins, Policy, Route};
use crate::raw::{Doc, DocRoute, Loc, LocList, RawInt};
use crate::source::{Pos, SourceMap};
use crate::token;
use crate::MAX_AGE_LIMIT;

/// A valid policy, the warnings only visible in the file, and where things were written.
pub(crate) struct Validated {
    pub(crate) policy: Policy,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) map: SourceMap,
}

pub(crate) fn validate(doc: Doc, file: &str) -> Result<Validated, Vec<Diagnostic>> {
    let mut v = Validator {
        file,
        errors: Vec::new(),
        warnings: Vec::new(),
        map: SourceMap::default(),
    };
    let version = v.version(doc.version);
    let mut paths = HashMap::new();
    let routes = doc
        .routes
        .into_iter()
        .enumerate()
        .map(|(index, route)| v.route(index, route, &mut paths))
        .collect();
    // Element errors are found before whole-list ones; report in file order. The sort is
    // stable, so diagnostics without positions (JSON) keep the order they were found in.
    v.errors
        .sort_by_key(|d| (d.route.as_ref().map(|r| r.0), d.line, d.column));
    if v.errors.is_empty() {
        Ok(Validated {
            policy: Policy { version, routes },
            warnings: v.warnings,
            map: v.map,
        })
    } else {
        Err(v.errors)
    }
}

/// The route a diagnostic is about.
#[derive(Debug, Clone)]
struct RouteRef {
    index: usize,
    label: String,
}

struct Validator<'f> {
    file: &'f str,
    errors: Vec<Diagnostic>,
    warnings: Vec<Warning>,
    map: SourceMap,
}

const ORIGINS: &str = "origins";
const METHODS: &str = "methods";
const REQUEST_HEADERS: &str = "request_headers";
const EXPOSE_HEADERS: &str = "expose_headers";
const PROBE_PATHS: &str = "probe_paths";

impl Validator<'_> {
    fn error(
        &mut self,
        code: ErrorCode,
        at: Option<Pos>,
        route: Option<&RouteRef>,
        field: &str,
        message: impl Into<String>,
    ) {
        self.errors.push(Diagnostic {
            file: self.file.to_string(),
            line: at.map(|p| p.line),
            column: at.map(|p| p.column),
            route: route.map(|r| (r.index, r.label.clone())),
            field: Some(field.to_string()),
            message: message.into(),
            code,
        });
    }

    fn duplicate(&mut self, at: Option<Pos>, route: &RouteRef, field: &str, value: &str) {
        self.warnings.push(Warning {
            code: WarningCode::DuplicateEntry,
            file: None,
            line: at.map(|p| p.line),
            column: at.map(|p| p.column),
            route: Some((route.index, route.label.clone())),
            field: Some(field.to_string()),
            message: format!("{value:?} is listed more than once; the duplicate is ignored"),
        });
    }

    fn version(&mut self, version: Option<Loc<RawInt>>) -> u32 {
        match version {
            None => {
                self.error(
                    ErrorCode::MissingField,
                    None,
                    None,
                    "version",
                    "is missing; start the policy with `version = 1`",
                );
                0
            }
            Some(Loc {
                value: RawInt(1), ..
            }) => 1,
            Some(Loc {
                value: RawInt(other),
                at,
            }) => {
                self.error(
                    ErrorCode::UnsupportedVersion,
                    at,
                    None,
                    "version",
                    format!("unsupported version {other}; this build reads version 1"),
                );
                u32::try_from(other).unwrap_or(0)
            }
        }
    }

    fn route(
        &mut self,
        index: usize,
        located: Loc<DocRoute>,
        paths: &mut HashMap<String, RouteRef>,
    ) -> Route {
        let Loc { value: r, at } = located;
        self.record_positions(&r, at);
        let label = r
            .name
            .as_ref()
            .filter(|n| name_problem(&n.value).is_none())
            .or(r.path.as_ref())
            .map(|l| l.value.clone())
            .unwrap_or_default();
        let ctx = RouteRef { index, label };

        let name = r.name.map(|name| {
            if let Some(problem) = name_problem(&name.value) {
                self.error(ErrorCode::InvalidName, name.at, Some(&ctx), "name", problem);
            }
            name.value
        });
        let (path, path_ok) = self.path(&ctx, at, r.path, paths);
        let credentials = r.credentials.is_some_and(|c| c.value);
        let origins = self.origins(&ctx, r.origins, credentials);
        let methods = self.methods(&ctx, r.methods);
        let request_headers = self.headers(&ctx, REQUEST_HEADERS, r.request_headers, true);
        let expose_headers = self.headers(&ctx, EXPOSE_HEADERS, r.expose_headers, false);
        if credentials && request_headers == HeaderNames::Any {
            let at = self.map.locate(index, Some(REQUEST_HEADERS));
            self.error(
                ErrorCode::WildcardHeadersWithCredentials,
                at,
                Some(&ctx),
                REQUEST_HEADERS,
                "[\"*\"] cannot be used with credentials = true: for credentialed requests \
                 browsers read `*` as a header literally named \"*\"; list the header names",
            );
        }
        let max_age = r.max_age.and_then(|m| self.max_age(&ctx, m));
        let probe_paths = self.probe_paths(&ctx, r.probe_paths, path_ok.then_some(path.as_str()));
        Route {
            name,
            path,
            origins,
            methods,
            request_headers,
            expose_headers,
            credentials,
            max_age,
            private_network: r.private_network.is_some_and(|p| p.value),
            probe_paths,
            allow_risky: r.allow_risky.is_some_and(|a| a.value),
        }
    }

    fn record_positions(&mut self, r: &DocRoute, at: Option<Pos>) {
        fn pos<T>(l: &Option<Loc<T>>) -> Option<Pos> {
            l.as_ref().and_then(|l| l.at)
        }
        self.map.push_route(at);
        for (field, at) in [
            ("name", pos(&r.name)),
            ("path", pos(&r.path)),
            (ORIGINS, pos(&r.origins)),
            (METHODS, pos(&r.methods)),
            (REQUEST_HEADERS, pos(&r.request_headers)),
            (EXPOSE_HEADERS, pos(&r.expose_headers)),
            ("credentials", pos(&r.credentials)),
            ("max_age", pos(&r.max_age)),
            ("private_network", pos(&r.private_network)),
            (PROBE_PATHS, pos(&r.probe_paths)),
            ("allow_risky", pos(&r.allow_risky)),
        ] {
            self.map.push_field(field, at);
        }
    }

    /// The route's path, and whether it is valid.
    fn path(
        &mut self,
        ctx: &RouteRef,
        route_at: Option<Pos>,
        path: Option<Loc<String>>,
        paths: &mut HashMap<String, RouteRef>,
    ) -> (String, bool) {
        let Some(path) = path else {
            self.error(
                ErrorCode::MissingField,
                route_at,
                Some(ctx),
                "path",
                "is missing; every route needs a path prefix such as \"/api/\"",
            );
            return (String::new(), false);
        };
        if let Some(problem) = path_problem(&path.value) {
            self.error(ErrorCode::InvalidPath, path.at, Some(ctx), "path", problem);
            return (path.value, false);
        }
        if let Some(first) = paths.get(&path.value) {
            let message = format!(
                "{:?} is already the path of route {:?} (#{}); each path may appear once",
                path.value,
                first.label,
                first.index + 1
            );
            self.error(
                ErrorCode::DuplicatePath,
                path.at,
                Some(ctx),
                "path",
                message,
            );
        } else {
            paths.insert(path.value.clone(), ctx.clone());
        }
        (path.value, true)
    }

    fn origins(&mut self, ctx: &RouteRef, list: Option<LocList>, credentials: bool) -> Origins {
        let Some(list) = list else {
            return Origins::List(Vec::new());
        };
        let mut star_at: Option<Option<Pos>> = None;
        let mut others = Vec::new();
        let mut entries: Vec<OriginEntry> = Vec::new();
        for item in list.value {
            if item.value == "*" {
                if star_at.is_some() {
                    self.duplicate(item.at, ctx, ORIGINS, "*");
                } else {
                    star_at = Some(item.at);
                }
                continue;
            }
            match item.value.parse::<OriginEntry>() {
                Ok(entry) if entries.contains(&entry) => {
                    self.duplicate(item.at, ctx, ORIGINS, &item.value)
                }
                Ok(entry) => entries.push(entry),
                Err(err) => self.error(err.code(), item.at, Some(ctx), ORIGINS, err.to_string()),
            }
            others.push(item.value);
        }
        let Some(star_at) = star_at else {
            return Origins::List(entries);
        };
        let at = star_at.or(list.at);
        if !others.is_empty() {
            self.error(
                ErrorCode::WildcardMixed,
                at,
                Some(ctx),
                ORIGINS,
                format!(
                    "\"*\" already allows every origin and cannot be combined with other entries \
                     ({}); use either [\"*\"] or a list of origins",
                    quoted_list(&others)
                ),
            );
        }
        if credentials {
            self.error(
                ErrorCode::WildcardOriginWithCredentials,
                at,
                Some(ctx),
                ORIGINS,
                "\"*\" cannot be used with credentials = true: browsers reject a wildcard \
                 Access-Control-Allow-Origin on credentialed requests; list the origins",
            );
        }
        Origins::Any
    }

    fn methods(&mut self, ctx: &RouteRef, list: Option<LocList>) -> Vec<String> {
        let mut methods: Vec<String> = Vec::new();
        for item in list.map(|l| l.value).unwrap_or_default() {
            let m = &item.value;
            if m == "*" {
                self.error(
                    ErrorCode::InvalidMethod,
                    item.at,
                    Some(ctx),
                    METHODS,
                    "\"*\" is not supported in methods (browsers honour it only for requests \
                     without credentials); list the methods",
                );
            } else if let Some(problem) = token::token_problem(m) {
                let message = format!("{m:?} is not a valid method: it {problem}");
                self.error(
                    ErrorCode::InvalidMethod,
                    item.at,
                    Some(ctx),
                    METHODS,
                    message,
                );
            } else if token::is_forbidden_method(m) {
                let message = format!(
                    "{m:?} is a forbidden method: browsers never send CONNECT, TRACE or TRACK \
                     from script, so it cannot be allowed"
                );
                self.error(
                    ErrorCode::ForbiddenMethod,
                    item.at,
                    Some(ctx),
                    METHODS,
                    message,
                );
            } else if methods.contains(m) {
                self.duplicate(item.at, ctx, METHODS, m);
            } else {
                methods.push(item.value);
            }
        }
        methods
    }

    fn headers(
        &mut self,
        ctx: &RouteRef,
        field: &'static str,
        list: Option<LocList>,
        request: bool,
    ) -> HeaderNames {
        let Some(list) = list else {
            return HeaderNames::List(Vec::new());
        };
        let mut star = false;
        let mut others = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for item in list.value {
            let raw = &item.value;
            if raw == "*" {
                if star {
                    self.duplicate(item.at, ctx, field, "*");
                }
                star = true;
                continue;
            }
            others.push(raw.clone());
            let lower = raw.to_ascii_lowercase();
            if let Some(problem) = token::token_problem(raw) {
                let message = format!("{raw:?} is not a valid header name: it {problem}");
                self.error(
                    ErrorCode::InvalidHeaderName,
                    item.at,
                    Some(ctx),
                    field,
                    message,
                );
            } else if raw.contains('*') {
                let message = format!(
                    "{raw:?} is not a valid header name: header names are not patterns; \
                     use [\"*\"] alone to mean any header"
                );
                self.error(
                    ErrorCode::InvalidHeaderName,
                    item.at,
                    Some(ctx),
                    field,
                    message,
                );
            } else if request && token::is_forbidden_request_header(&lower) {
                let message = format!(
                    "{raw:?} is a forbidden request-header name: browsers never let script set \
                     it, so it cannot be allowed"
                );
                self.error(
                    ErrorCode::ForbiddenRequestHeader,
                    item.at,
                    Some(ctx),
                    field,
                    message,
                );
            } else if names.contains(&lower) {
                self.duplicate(item.at, ctx, field, raw);
            } else {
                names.push(lower);
            }
        }
        if !star {
            return HeaderNames::List(names);
        }
        if !others.is_empty() {
            let message = format!(
                "\"*\" already means any header and cannot be combined with names ({}); use \
                 either [\"*\"] or a list of names",
                quoted_list(&others)
            );
            self.error(ErrorCode::WildcardMixed, list.at, Some(ctx), field, message);
        }
        HeaderNames::Any
    }

    fn max_age(&mut self, ctx: &RouteRef, max_age: Loc<RawInt>) -> Option<u64> {
        let RawInt(value) = max_age.value;
        match u64::try_from(value) {
            Ok(seconds) if seconds <= MAX_AGE_LIMIT => return Some(seconds),
            Ok(_) => {
                let message = format!(
                    "{value} is too large; at most {MAX_AGE_LIMIT} seconds (browsers cap \
                     preflight caching at 7200 or 86400 seconds anyway)"
                );
                self.error(
                    ErrorCode::MaxAgeOutOfRange,
                    max_age.at,
                    Some(ctx),
                    "max_age",
                    message,
                );
            }
            Err(_) => {
                let message = format!(
                    "{value} is negative; use a number of seconds, or omit max_age for the \
                     browser default"
                );
                self.error(
                    ErrorCode::MaxAgeOutOfRange,
                    max_age.at,
                    Some(ctx),
                    "max_age",
                    message,
                );
            }
        }
        None
    }

    fn probe_paths(
        &mut self,
        ctx: &RouteRef,
        list: Option<LocList>,
        route_path: Option<&str>,
    ) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for item in list.map(|l| l.value).unwrap_or_default() {
            let p = &item.value;
            if let Some(problem) = path_problem(p) {
                let at = item.at;
                self.error(
                    ErrorCode::InvalidProbePath,
                    at,
                    Some(ctx),
                    PROBE_PATHS,
                    problem,
                );
            } else if let Some(prefix) = route_path.filter(|prefix| !p.starts_with(prefix)) {
                let message = format!(
                    "{p:?} is not under the route's path {prefix:?}; a probe path must start with it"
                );
                self.error(
                    ErrorCode::InvalidProbePath,
                    item.at,
                    Some(ctx),
                    PROBE_PATHS,
                    message,
                );
            } else if paths.contains(p) {
                self.duplicate(item.at, ctx, PROBE_PATHS, p);
            } else {
                paths.push(item.value);
            }
        }
        paths
    }
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is wrong with a route name, if anything.
fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("is empty; omit `name` or give the route a name".to_string())
    } else if name.chars().any(char::is_control) {
        Some(format!("{name:?} contains a control character"))
    } else {
        None
    }
}

/// Characters browsers percent-encode in a URL path (WHATWG path percent-encode set), which
/// therefore never occur literally in a request path.
fn is_encoded_in_paths(c: char) -> bool {
    c.is_ascii_control() || !c.is_ascii() || " \"<>`{}".contains(c)
}

/// What is wrong with a path prefix or probe path, if anything, with a suggested fix.
pub(crate) fn path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("is empty; a path starts with \"/\"".to_string());
    }
    if let Some(c) = path.chars().find(|c| matches!(c, '?' | '#')) {
        return Some(format!(
            "{path:?} contains {c:?}; a path cannot include a query or fragment"
        ));
    }
    let suggestion: String = path
        .chars()
        .map(|c| match c {
            '\\' => "/".to_string(),
            c if is_encoded_in_paths(c) => {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
            c => c.to_string(),
        })
        .collect();
    if !path.starts_with('/') && !path.starts_with('\\') {
        let fixed = format!("/{suggestion}");
        return Some(format!(
            "{path:?} does not start with \"/\"; did you mean {fixed:?}?"
        ));
    }
    if let Some(c) = path.chars().find(|&c| c == '\\' || is_encoded_in_paths(c)) {
        let why = if c == '\\' {
            "which browsers turn into \"/\""
        } else {
            "which browsers percent-encode in request paths"
        };
        return Some(format!(
            "{path:?} contains {c:?}, {why}; did you mean {suggestion:?}?"
        ));
    }
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Some(format!(
            "{path:?} contains a \".\" or \"..\" segment, which browsers remove from request \
             paths"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(path_problem("/"), None);
        assert_eq!(path_problem("/api/v1/items%20x"), None);
        assert!(path_problem("api/")
            .unwrap()
            .contains("did you mean \"/api/\""));
        assert!(path_problem("/a b").unwrap().contains("\"/a%20b\""));
        assert!(path_problem("/é").unwrap().contains("\"/%C3%A9\""));
        assert!(path_problem("/a\\b").unwrap().contains("\"/a/b\""));
        assert!(path_problem("/a?x").unwrap().contains("query"));
        assert!(path_problem("/a/../b").unwrap().contains("segment"));
        assert!(path_problem("").is_some());
    }

    #[test]
    fn names() {
        assert_eq!(name_problem("public api"), None);
        assert!(name_problem("").is_some());
        assert!(name_problem("a\u{1b}[31m").is_some());
    }
}
