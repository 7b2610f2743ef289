//! Java servlet containers with their own CORS filters: Tomcat 10's `CorsFilter` (Debian's
//! libtomcat10-java) and Jetty 9's `CrossOriginFilter` (Debian's libjetty9-java), each
//! embedded in a small generated `Main.java` that `run.sh PORT` compiles with `javac`
//! against the Debian jars and runs on `127.0.0.1:PORT`.
//!
//! Each CORS route gets its own filter instance with the init parameters the library
//! documents. Tomcat: declared in `web.xml` (`cors.allowed.origins` exact origins or `*`,
//! `cors.allowed.methods`, `cors.allowed.headers`, `cors.exposed.headers`,
//! `cors.support.credentials`, `cors.preflight.maxage`, `-1` when the policy sets no
//! `max_age`). Jetty: a `FilterHolder` of `CrossOriginFilter` with `allowedOrigins` (exact
//! origins, and subdomain patterns in Jetty's own `https://*.example.com` form),
//! `allowedMethods`, `allowedHeaders`, `exposedHeaders`, `allowCredentials` (set to `false`
//! explicitly: Jetty's default is `true`), `preflightMaxAge` (`0`, not sent, when the
//! policy sets none) and `chainPreflight=false`.
//!
//! Routing: servlet `url-pattern`s cannot write the policy's rule. `/api/*` matches the
//! decoded path with its `;` path parameters removed, and every filter whose pattern
//! matches runs, so a route nested in another (`/api/health` in `/api/`) would run both
//! filters, and Tomcat's answers 403 to the origins the outer route refuses. Each route's
//! filter is therefore mapped to a servlet of its own by name (`<servlet-name>route-N`,
//! dispatcher `FORWARD`), and one `Dispatch` filter in front picks the route whose path is
//! the longest prefix of the request's path as sent (its percent-encoded unreserved
//! characters decoded, as the policy does) and forwards the request to that route's
//! servlet, through its filter; a request under no CORS route goes to the plain demo
//! servlet. The CORS answers are always the library's.

use corsproof_policy::{HeaderNames, OriginEntry, Origins, Policy, Route};

use super::{all_methods, comments, item, lit, longest_first, no_pna, App, AppFile, AppOptions};
use crate::{Effect, EmitError, Unsupported};

/// Which servlet container and CORS filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaLibrary {
    /// Apache Tomcat 10's `org.apache.catalina.filters.CorsFilter`, configured in `web.xml`.
    Tomcat,
    /// Eclipse Jetty 9's `org.eclipse.jetty.servlets.CrossOriginFilter`.
    Jetty,
}

impl JavaLibrary {
    fn name(self) -> &'static str {
        match self {
            JavaLibrary::Tomcat => "Tomcat 10 CorsFilter",
            JavaLibrary::Jetty => "Jetty 9 CrossOriginFilter",
        }
    }
}

/// One CORS route: its servlet's name and the filter's init parameters.
struct Filter {
    servlet: String,
    label: String,
    params: Vec<(&'static str, String)>,
}

/// The application: `run.sh PORT` compiles `Main.java` and runs it (Tomcat also reads
/// `web.xml`).
///
/// ```
/// use corsproof_emit::apps::{java, AppOptions, JavaLibrary};
/// use corsproof_policy::Policy;
/// let policy = Policy::from_toml_str(
///     "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.example.com\", \"https://*.partner.example\"]\n",
///     "p.toml",
/// )?;
/// let tomcat = java(&policy, JavaLibrary::Tomcat, &AppOptions::default())?;
/// assert_eq!(tomcat.files[2].name, "web.xml");
/// assert!(tomcat.files[2].text.contains("<param-value>https://app.example.com</param-value>"));
/// // CorsFilter matches origins exactly: the pattern is left out.
/// assert!(tomcat.unsupported.iter().any(|u| u.field == "origins"));
/// // Jetty's `*` is `.*`, broader than the policy's DNS labels: emitted only when asked.
/// assert!(java(&policy, JavaLibrary::Jetty, &AppOptions::default()).is_err());
/// let jetty = java(&policy, JavaLibrary::Jetty, &AppOptions { allow_broader: true })?;
/// assert!(jetty.files[1].text.contains("https://*.partner.example"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn java(policy: &Policy, library: JavaLibrary, options: &AppOptions) -> Result<App, EmitError> {
    let mut unsupported = Vec::new();
    let mut paths = Vec::new();
    let mut servlets = Vec::new();
    let mut filters = Vec::new();
    for (i, route) in longest_first(policy).into_iter().enumerate() {
        paths.push(lit(route, "path", &route.path)?);
        if route.origins.is_empty() {
            servlets.push("null".to_string());
            continue;
        }
        let servlet = format!("route-{i}");
        servlets.push(format!("\"{servlet}\""));
        let params = match library {
            JavaLibrary::Tomcat => tomcat_params(route, &mut unsupported),
            JavaLibrary::Jetty => jetty_params(route, &mut unsupported),
        };
        no_pna(route, library.name(), &mut unsupported);
        for (_, value) in &params {
            lit(route, "origins", value)?;
        }
        filters.push(Filter {
            servlet,
            label: route.label().replace(|c: char| c.is_control(), "?"),
            params,
        });
    }
    let header = format!(
        "// corsproof emit: {}, one filter per policy route.\n{}",
        library.name(),
        comments("//", library.name(), &unsupported)
    );
    let table = format!(
        "    static final String[] PATHS = {{{}}};\n    static final String[] SERVLETS = {{{}}};\n",
        paths.join(", "),
        servlets.join(", ")
    );
    let files = match library {
        JavaLibrary::Tomcat => vec![
            AppFile {
                name: "run.sh",
                text: TOMCAT_RUN.to_string(),
            },
            AppFile {
                name: "Main.java",
                text: format!("{header}{TOMCAT_IMPORTS}{COMMON}{table}{TOMCAT_MAIN}"),
            },
            AppFile {
                name: "web.xml",
                text: web_xml(&filters),
            },
        ],
        JavaLibrary::Jetty => vec![
            AppFile {
                name: "run.sh",
                text: JETTY_RUN.to_string(),
            },
            AppFile {
                name: "Main.java",
                text: format!(
                    "{header}{JETTY_IMPORTS}{COMMON}{table}{JETTY_MAIN}{}    }}\n}}\n",
                    jetty_filters(&filters)
                ),
            },
        ],
    };
    App { files, unsupported }.finish(options)
}

fn joined(names: &[String]) -> String {
    names.join(",")
}

/// Tomcat's init parameters of a CORS route, and what it cannot express.
fn tomcat_params(route: &Route, out: &mut Vec<Unsupported>) -> Vec<(&'static str, String)> {
    let origins = match &route.origins {
        Origins::Any => "*".to_string(),
        Origins::List(entries) => {
            let mut exact = Vec::new();
            for entry in entries {
                match entry {
                    OriginEntry::Subdomain { .. } => out.push(item(
                        route,
                        "origins",
                        Effect::Narrower,
                        &format!("CorsFilter matches cors.allowed.origins exactly and has no pattern: {entry} is left out, its origins are refused"),
                    )),
                    _ => exact.push(entry.to_string()),
                }
            }
            joined(&exact)
        }
    };
    let headers = match &route.request_headers {
        HeaderNames::Any => {
            out.push(item(route, "request_headers", Effect::Narrower,
                "cors.allowed.headers has no wildcard: it is left empty, and only preflights asking for no header pass"));
            String::new()
        }
        HeaderNames::List(names) => joined(names),
    };
    vec![
        ("cors.allowed.origins", origins),
        ("cors.allowed.methods", joined(&all_methods(route))),
        ("cors.allowed.headers", headers),
        ("cors.exposed.headers", expose(route)),
        ("cors.support.credentials", route.credentials.to_string()),
        (
            "cors.preflight.maxage",
            route.max_age.map_or("-1".to_string(), |m| m.to_string()),
        ),
    ]
}

/// Jetty's init parameters of a CORS route, and what it cannot express.
fn jetty_params(route: &Route, out: &mut Vec<Unsupported>) -> Vec<(&'static str, String)> {
    let origins = match &route.origins {
        Origins::Any => "*".to_string(),
        Origins::List(entries) => {
            for entry in entries {
                if matches!(entry, OriginEntry::Subdomain { .. }) {
                    out.push(item(route, "origins", Effect::Broader, &format!(
                        "CrossOriginFilter turns the * of {entry} into the regular expression .*: it also allows hosts whose labels are not DNS labels (a_b, a*b)"
                    )));
                }
            }
            let all: Vec<String> = entries.iter().map(ToString::to_string).collect();
            joined(&all)
        }
    };
    let headers = match &route.request_headers {
        HeaderNames::Any => "*".to_string(),
        HeaderNames::List(names) => joined(names),
    };
    vec![
        ("allowedOrigins", origins),
        ("allowedMethods", joined(&all_methods(route))),
        ("allowedHeaders", headers),
        ("exposedHeaders", expose(route)),
        ("allowCredentials", route.credentials.to_string()),
        (
            "preflightMaxAge",
            route.max_age.unwrap_or(0).min(i32::MAX as u64).to_string(),
        ),
        ("chainPreflight", "false".to_string()),
    ]
}

fn expose(route: &Route) -> String {
    match &route.expose_headers {
        HeaderNames::Any => "*".to_string(),
        HeaderNames::List(names) => joined(names),
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Tomcat's deployment descriptor: the demo servlet, the dispatch filter, and one
/// `CorsFilter` per CORS route mapped to that route's servlet.
fn web_xml(filters: &[Filter]) -> String {
    let mut out = String::from(WEB_XML_HEAD);
    for f in filters {
        out.push_str(&format!(
            "\n  <!-- route {} -->\n  <servlet><servlet-name>{s}</servlet-name><servlet-class>Main$Demo</servlet-class></servlet>\n  <filter>\n    <filter-name>cors-{s}</filter-name>\n    <filter-class>org.apache.catalina.filters.CorsFilter</filter-class>\n",
            xml(&f.label).replace("--", "- -"),
            s = f.servlet
        ));
        for (name, value) in &f.params {
            out.push_str(&format!(
                "    <init-param><param-name>{name}</param-name><param-value>{}</param-value></init-param>\n",
                xml(value)
            ));
        }
        out.push_str(&format!(
            "  </filter>\n  <filter-mapping><filter-name>cors-{s}</filter-name><servlet-name>{s}</servlet-name><dispatcher>FORWARD</dispatcher></filter-mapping>\n",
            s = f.servlet
        ));
    }
    out.push_str("</web-app>\n");
    out
}

/// The `cors(...)` calls of Jetty's `main`, one per CORS route.
fn jetty_filters(filters: &[Filter]) -> String {
    let mut out = String::new();
    for f in filters {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|(n, v)| {
                format!(
                    "\"{n}\", \"{}\"",
                    v.replace('\\', "\\\\").replace('"', "\\\"")
                )
            })
            .collect();
        out.push_str(&format!(
            "        // route {}\n        cors(context, \"{}\",\n            {});\n",
            f.label,
            f.servlet,
            params.join(",\n            ")
        ));
    }
    out.push_str("        server.setHandler(context);\n        server.start();\n        System.out.println(\"listening on http://127.0.0.1:\" + args[0] + \"/\");\n        server.join();\n");
    out
}

const WEB_XML_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- corsproof emit tomcat: one CorsFilter per policy route, each mapped to its route's
     servlet; the Dispatch filter forwards each request to the servlet of its route. -->
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0" metadata-complete="true">
  <servlet><servlet-name>demo</servlet-name><servlet-class>Main$Demo</servlet-class></servlet>
  <servlet-mapping><servlet-name>demo</servlet-name><url-pattern>/</url-pattern></servlet-mapping>
  <filter><filter-name>dispatch</filter-name><filter-class>Main$Dispatch</filter-class></filter>
  <filter-mapping><filter-name>dispatch</filter-name><url-pattern>/*</url-pattern></filter-mapping>
"#;

const TOMCAT_RUN: &str = "#!/bin/sh
# Compiles Main.java against Debian's Tomcat 10 jars (libtomcat10-java) and runs it on
# 127.0.0.1:$1 with web.xml.
set -e
J=/usr/share/java
CP=$J/tomcat10-catalina.jar:$J/tomcat10-servlet-api.jar:$J/tomcat10-juli.jar:$J/tomcat10-coyote.jar:$J/tomcat10-util.jar:$J/tomcat10-util-scan.jar:$J/tomcat10-api.jar:$J/tomcat10-jaspic-api.jar
javac -nowarn -cp \"$CP\" -d classes Main.java
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -cp \"$CP:classes\" Main \"$1\"
";

const JETTY_RUN: &str = "#!/bin/sh
# Compiles Main.java against Debian's Jetty 9 jars (libjetty9-java) and runs it on
# 127.0.0.1:$1.
set -e
J=/usr/share/java
CP=$J/jetty9-server.jar:$J/jetty9-servlet.jar:$J/jetty9-servlets.jar:$J/jetty9-http.jar:$J/jetty9-io.jar:$J/jetty9-util.jar:$J/jetty9-security.jar:$J/servlet-api.jar
javac -nowarn -cp \"$CP\" -d classes Main.java
exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -cp \"$CP:classes\" Main \"$1\"
";

const TOMCAT_IMPORTS: &str = "import java.io.File;
import java.io.IOException;
import jakarta.servlet.*;
import jakarta.servlet.http.*;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.ContextConfig;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.scan.StandardJarScanner;
";

const JETTY_IMPORTS: &str = "import java.io.IOException;
import java.util.EnumSet;
import javax.servlet.*;
import javax.servlet.http.*;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.*;
import org.eclipse.jetty.servlets.CrossOriginFilter;
";

/// The demo servlet, the path rule and the dispatch filter (servlet API names are the same
/// in `jakarta.servlet` and `javax.servlet`).
const COMMON: &str = r#"
public class Main {
    /** The demo response of every route. */
    public static class Demo extends HttpServlet {
        @Override
        protected void service(HttpServletRequest req, HttpServletResponse res) throws IOException {
            res.setContentType("text/plain");
            res.getWriter().print("corsproof demo");
        }
    }

    /** The path as sent, its percent-encoded unreserved characters decoded (/%61pi/ is /api/). */
    static String unreserved(String path) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' && i + 2 < path.length()) {
                int hi = Character.digit(path.charAt(i + 1), 16);
                int lo = Character.digit(path.charAt(i + 2), 16);
                int v = hi * 16 + lo;
                if (hi >= 0 && lo >= 0 && ((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') || "-._~".indexOf(v) >= 0)) {
                    b.append((char) v);
                    i += 2;
                    continue;
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    /** Forwards each request to the servlet of its policy route (longest path prefix first). */
    public static class Dispatch implements Filter {
        @Override
        public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
            String path = unreserved(((HttpServletRequest) req).getRequestURI());
            for (int i = 0; i < PATHS.length; i++) {
                if (path.startsWith(PATHS[i])) {
                    if (SERVLETS[i] != null) {
                        req.getServletContext().getNamedDispatcher(SERVLETS[i]).forward(req, res);
                        return;
                    }
                    break;
                }
            }
            chain.doFilter(req, res);
        }
    }

    // The policy's routes, longest path first; a null servlet is a route without CORS.
"#;

const TOMCAT_MAIN: &str = r#"
    public static void main(String[] args) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(new File("tomcat").getAbsolutePath());
        Connector connector = new Connector();
        connector.setPort(Integer.parseInt(args[0]));
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", new File(".").getAbsolutePath());
        context.setAltDDName(new File("web.xml").getAbsolutePath());
        StandardJarScanner scanner = new StandardJarScanner();
        scanner.setScanClassPath(false);
        scanner.setScanManifest(false);
        context.setJarScanner(scanner);
        ContextConfig config = new ContextConfig();
        config.setDefaultWebXml(org.apache.catalina.startup.Constants.NoDefaultWebXml);
        context.addLifecycleListener(config);
        tomcat.start();
        System.out.println("listening on http://127.0.0.1:" + args[0] + "/");
        tomcat.getServer().await();
    }
}
"#;

const JETTY_MAIN: &str = r#"
    /** A CrossOriginFilter with these init parameters (name, value, ...) on servlet `name`. */
    static void cors(ServletContextHandler context, String name, String... params) {
        context.getServletHandler().addServlet(new ServletHolder(name, Demo.class));
        FilterHolder filter = new FilterHolder(CrossOriginFilter.class);
        filter.setName("cors-" + name);
        for (int i = 0; i + 1 < params.length; i += 2) {
            filter.setInitParameter(params[i], params[i + 1]);
        }
        FilterMapping mapping = new FilterMapping();
        mapping.setFilterName("cors-" + name);
        mapping.setServletName(name);
        mapping.setDispatcherTypes(EnumSet.of(DispatcherType.FORWARD));
        context.getServletHandler().addFilter(filter, mapping);
    }

    public static void main(String[] args) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(Integer.parseInt(args[0]));
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        context.addServlet(Demo.class, "/");
        context.addFilter(Dispatch.class, "/*", EnumSet.of(DispatcherType.REQUEST));
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        Policy::from_toml_str(text, "p.toml").expect("a valid policy")
    }

    const NESTED: &str = "version = 1\n[[route]]\nname = \"api\"\npath = \"/api/\"\norigins = [\"https://a.example\"]\nrequest_headers = [\"*\"]\n\
        [[route]]\npath = \"/api/health\"\norigins = [\"*\"]\n\
        [[route]]\npath = \"/admin/\"\norigins = []\n";

    #[test]
    fn routes_are_dispatched_longest_first_and_a_route_without_cors_has_no_servlet() {
        let app =
            java(&policy(NESTED), JavaLibrary::Tomcat, &AppOptions::default()).expect("emitted");
        let main = &app.files[1].text;
        assert!(
            main.contains(r#"PATHS = {"/api/health", "/admin/", "/api/"};"#),
            "{main}"
        );
        assert!(
            main.contains(r#"SERVLETS = {"route-0", null, "route-2"};"#),
            "{main}"
        );
        let xml = &app.files[2].text;
        assert!(xml.contains("<filter-mapping><filter-name>cors-route-2</filter-name><servlet-name>route-2</servlet-name><dispatcher>FORWARD</dispatcher></filter-mapping>"), "{xml}");
        assert!(!xml.contains("route-1"), "{xml}");
        // No max_age: Tomcat's -1 sends none; request_headers = ["*"] cannot be written.
        assert!(
            xml.contains(
                "<param-name>cors.preflight.maxage</param-name><param-value>-1</param-value>"
            ),
            "{xml}"
        );
        assert_eq!(
            app.unsupported.iter().map(|u| u.field).collect::<Vec<_>>(),
            ["request_headers"]
        );
    }

    #[test]
    fn jetty_credentials_are_always_written_and_its_header_wildcard_is_used() {
        let app =
            java(&policy(NESTED), JavaLibrary::Jetty, &AppOptions::default()).expect("emitted");
        let main = &app.files[1].text;
        assert!(main.contains(r#""allowCredentials", "false""#), "{main}");
        assert!(main.contains(r#""allowedHeaders", "*""#), "{main}");
        assert!(main.contains(r#""chainPreflight", "false""#), "{main}");
        assert!(main.contains(r#""preflightMaxAge", "0""#), "{main}");
        assert!(app.unsupported.is_empty(), "{:?}", app.unsupported);
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml("a<b>&c"), "a&lt;b&gt;&amp;c");
    }
}
