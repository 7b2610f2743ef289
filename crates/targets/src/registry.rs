//! The registry of targets: every CORS implementation corsproof can configure from a policy,
//! with what it needs installed, how its version is found, its emitter and its launcher.
//!
//! ```
//! use corsproof_targets::registry::Target;
//! assert_eq!(Target::parse("flask"), Some(Target::Flask));
//! assert_eq!(Target::Flask.name(), "flask");
//! assert!(Target::Flask.packages().contains(&"python3-flask-cors"));
//! assert!(Target::ALL.iter().all(|t| Target::parse(t.name()) == Some(*t)));
//! ```

use std::path::Path;
use std::process::Command;

use std::time::Duration;

use corsproof_emit::apps::{self, App, AppOptions, GoLibrary, JavaLibrary, RustLibrary};
use corsproof_emit::{EmitError, Unsupported};
use corsproof_policy::Policy;

use crate::launch::{self, LaunchError, Running};

/// A target of `emit`, `run`, `lint --target` and `matrix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// corsproof-tower, our middleware, behind `corsproof serve`.
    Tower,
    /// nginx with the configuration of [`corsproof_emit::nginx()`].
    Nginx,
    /// Kong's `cors` plugin (a container only).
    Kong,
    /// Express 4 with the `cors` middleware.
    Express,
    /// Flask 2 with flask-cors.
    Flask,
    /// Starlette's `CORSMiddleware` under uvicorn.
    Starlette,
    /// Django with django-cors-headers.
    Django,
    /// Go net/http with rs/cors.
    RsCors,
    /// Go net/http with gorilla/handlers' CORS.
    Gorilla,
    /// Rack with rack-cors, served by WEBrick.
    Rack,
    /// Apache httpd with mod_headers and mod_setenvif.
    Apache,
    /// Caddy 2, configured by a Caddyfile (no CORS directive).
    Caddy,
    /// axum with tower-http's `CorsLayer` (crates.io, pinned).
    TowerHttp,
    /// actix-web with actix-cors (crates.io, pinned).
    ActixCors,
    /// Tomcat 10's `CorsFilter`, embedded, configured in `web.xml`.
    Tomcat,
    /// Jetty 9's `CrossOriginFilter`, embedded.
    Jetty,
}

/// Debian's Python, whose `dist-packages` hold the python3-* packages (a `python3` earlier
/// on `PATH`, such as a pyenv one, does not see them).
pub const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// Where Debian's node-* packages are installed (`NODE_PATH`).
pub const DEBIAN_NODE_PATH: &str = "/usr/share/nodejs";

/// Why a target cannot run here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{why}{}", install(.packages))]
pub struct Missing {
    /// What is missing.
    pub why: String,
    /// The Debian packages that provide it.
    pub packages: Vec<&'static str>,
}

fn install(packages: &[&str]) -> String {
    if packages.is_empty() {
        String::new()
    } else {
        format!(" (Debian: apt-get install {})", packages.join(" "))
    }
}

impl Target {
    /// Every target, in the order the matrix lists them.
    pub const ALL: [Target; 16] = [
        Target::Tower,
        Target::Nginx,
        Target::Kong,
        Target::Express,
        Target::Flask,
        Target::Starlette,
        Target::Django,
        Target::RsCors,
        Target::Gorilla,
        Target::Rack,
        Target::Apache,
        Target::Caddy,
        Target::TowerHttp,
        Target::ActixCors,
        Target::Tomcat,
        Target::Jetty,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Target::Tower => "tower",
            Target::Nginx => "nginx",
            Target::Kong => "kong",
            Target::Express => "express",
            Target::Flask => "flask",
            Target::Starlette => "starlette",
            Target::Django => "django",
            Target::RsCors => "rs-cors",
            Target::Gorilla => "gorilla",
            Target::Rack => "rack",
            Target::Apache => "apache",
            Target::Caddy => "caddy",
            Target::TowerHttp => "tower-http",
            Target::ActixCors => "actix-cors",
            Target::Tomcat => "tomcat",
            Target::Jetty => "jetty",
        }
    }

    /// The target named `name`.
    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The implementation, for people.
    pub const fn library(self) -> &'static str {
        match self {
            Target::Tower => "corsproof-tower (corsproof serve)",
            Target::Nginx => "nginx (add_header, map)",
            Target::Kong => "Kong cors plugin",
            Target::Express => "Express + cors",
            Target::Flask => "Flask + flask-cors",
            Target::Starlette => "Starlette CORSMiddleware (uvicorn)",
            Target::Django => "Django + django-cors-headers",
            Target::RsCors => "Go net/http + rs/cors",
            Target::Gorilla => "Go net/http + gorilla/handlers",
            Target::Rack => "Rack + rack-cors (WEBrick)",
            Target::Apache => "Apache httpd (mod_headers, mod_setenvif)",
            Target::Caddy => "Caddy (Caddyfile header directives)",
            Target::TowerHttp => "axum + tower-http CorsLayer",
            Target::ActixCors => "actix-web + actix-cors",
            Target::Tomcat => "Tomcat CorsFilter (embedded)",
            Target::Jetty => "Jetty CrossOriginFilter (embedded)",
        }
    }

    /// The Debian packages it needs (none for our own middleware; Kong is an image).
    pub const fn packages(self) -> &'static [&'static str] {
        match self {
            Target::Tower | Target::Kong | Target::TowerHttp | Target::ActixCors => &[],
            Target::Nginx => &["nginx-light"],
            Target::Express => &["nodejs", "node-express", "node-cors"],
            Target::Flask => &["python3-flask-cors"],
            Target::Starlette => &["python3-starlette", "python3-uvicorn"],
            Target::Django => &["python3-django-cors-headers"],
            Target::RsCors => &["golang-go", "golang-github-rs-cors-dev"],
            Target::Gorilla => &["golang-go", "golang-github-gorilla-handlers-dev"],
            Target::Rack => &["ruby-rack-cors", "ruby-webrick"],
            Target::Apache => &["apache2"],
            Target::Caddy => &["caddy"],
            Target::Tomcat => &["openjdk-17-jdk-headless", "libtomcat10-java"],
            Target::Jetty => &["openjdk-17-jdk-headless", "libjetty9-java"],
        }
    }

    /// Whether the target runs as a local process (Kong runs only as a container).
    pub const fn is_local(self) -> bool {
        !matches!(self, Target::Kong)
    }

    /// The versions installed (`Express 4.18.2, cors 2.8.5`), or what is missing.
    pub fn version(self) -> Result<String, Missing> {
        let missing = |why: String| Missing {
            why,
            packages: self.packages().to_vec(),
        };
        match self {
            Target::Tower => Ok(format!("corsproof-tower {}", env!("CARGO_PKG_VERSION"))),
            Target::Kong => Err(missing(
                "Kong runs as a container (corsproof run kong), not as a local process".into(),
            )),
            Target::Nginx => {
                let bin = launch::find_nginx().ok_or_else(|| missing("no nginx binary".into()))?;
                let out = output(Command::new(bin).arg("-v")).map_err(missing)?;
                Ok(out.trim().trim_start_matches("nginx version: ").to_string())
            }
            Target::Express => output(
                Command::new("node")
                    .env("NODE_PATH", DEBIAN_NODE_PATH)
                    .args(["-e", NODE_VERSIONS]),
            )
            .map(|v| v.trim().to_string())
            .map_err(missing),
            Target::Flask => python_versions(&[("Flask", "Flask"), ("flask-cors", "Flask-Cors")])
                .map_err(missing),
            Target::Starlette => {
                python_versions(&[("Starlette", "starlette"), ("uvicorn", "uvicorn")])
                    .map_err(missing)
            }
            Target::Django => python_versions(&[
                ("Django", "Django"),
                ("django-cors-headers", "django-cors-headers"),
            ])
            .map_err(missing),
            Target::RsCors => go_versions("rs/cors", "golang-github-rs-cors-dev").map_err(missing),
            Target::Gorilla => {
                go_versions("gorilla/handlers", "golang-github-gorilla-handlers-dev")
                    .map_err(missing)
            }
            Target::Apache => output(Command::new("/usr/sbin/apache2").arg("-v"))
                .map(|v| {
                    v.lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("Server version: ")
                        .to_string()
                })
                .map_err(missing),
            Target::Rack => output(Command::new("ruby").args(["-e", RUBY_VERSIONS]))
                .map(|v| v.trim().to_string())
                .map_err(missing),
            Target::Caddy => output(Command::new("caddy").arg("version"))
                .map(|v| format!("Caddy {}", v.split_whitespace().next().unwrap_or("")))
                .map_err(missing),
            Target::TowerHttp => rust_versions(RustLibrary::TowerHttp).map_err(missing),
            Target::ActixCors => rust_versions(RustLibrary::ActixCors).map_err(missing),
            Target::Tomcat => {
                java_versions("Tomcat", "tomcat10-catalina", "libtomcat10-java").map_err(missing)
            }
            Target::Jetty => {
                java_versions("Jetty", "jetty9-servlets", "libjetty9-java").map_err(missing)
            }
        }
    }

    /// The emitted application of a target that runs one (`None` for tower, nginx, Kong,
    /// whose emitters have their own shapes).
    pub fn app(self, policy: &Policy, options: &AppOptions) -> Option<Result<App, EmitError>> {
        match self {
            Target::Express => Some(apps::express(policy, options)),
            Target::Flask => Some(apps::flask(policy, options)),
            Target::Starlette => Some(apps::starlette(policy, options)),
            Target::Django => Some(apps::django(policy, options)),
            Target::RsCors => Some(apps::go(policy, GoLibrary::RsCors, options)),
            Target::Gorilla => Some(apps::go(policy, GoLibrary::Gorilla, options)),
            Target::Rack => Some(apps::rack(policy, options)),
            Target::Apache => Some(apps::apache(policy, options)),
            Target::Caddy => Some(apps::caddy(policy, options)),
            Target::TowerHttp => Some(apps::rust(policy, RustLibrary::TowerHttp, options)),
            Target::ActixCors => Some(apps::rust(policy, RustLibrary::ActixCors, options)),
            Target::Tomcat => Some(apps::java(policy, JavaLibrary::Tomcat, options)),
            Target::Jetty => Some(apps::java(policy, JavaLibrary::Jetty, options)),
            Target::Tower | Target::Nginx | Target::Kong => None,
        }
    }

    /// What the target cannot express of `policy` (broader items included), or why it cannot
    /// implement it at all.
    pub fn unsupported(self, policy: &Policy) -> Result<Vec<Unsupported>, EmitError> {
        let allow = AppOptions {
            allow_broader: true,
        };
        match self {
            Target::Tower => Ok(Vec::new()),
            Target::Nginx => {
                corsproof_emit::nginx(policy, &corsproof_emit::Upstream::demo()).map(|_| Vec::new())
            }
            Target::Kong => {
                let options = corsproof_emit::KongOptions {
                    allow_broader: true,
                    ..Default::default()
                };
                corsproof_emit::kong(policy, &options).map(|c| c.unsupported)
            }
            _ => match self.app(policy, &allow) {
                Some(app) => app.map(|a| a.unsupported),
                None => Ok(Vec::new()),
            },
        }
    }

    /// Starts the target configured from `policy` (read from `policy_path` by `corsproof
    /// serve`) on a free loopback port: `serve` is the corsproof binary, for `tower`. The
    /// emitted application may grant more than the policy when `allow_broader` is set.
    pub fn launch(
        self,
        policy: &Policy,
        policy_path: &Path,
        serve: &Path,
        allow_broader: bool,
    ) -> Result<Running, LaunchError> {
        let options = AppOptions { allow_broader };
        match self {
            Target::Tower => {
                let policy_arg = policy_path.display().to_string();
                launch::process(
                    "tower",
                    serve,
                    &["serve", "--policy", &policy_arg, "--listen", "127.0.0.1:0"],
                )
            }
            Target::Nginx => match launch::find_nginx() {
                Some(bin) => launch::nginx(&bin, policy),
                None => Err(LaunchError::Spawn {
                    program: "nginx".into(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no nginx binary"),
                }),
            },
            Target::Kong => Err(LaunchError::NotReady {
                program: "kong".into(),
                why: "Kong runs as a container only".into(),
            }),
            _ => {
                let app = self
                    .app(policy, &options)
                    .unwrap_or_else(|| Err(EmitError::Broader(Vec::new())))?;
                let (program, env, ready) = self.app_program();
                launch::app(self.name(), &app, Path::new(program), &env, ready)
            }
        }
    }

    /// How an emitted application is started: the program run as `PROGRAM MAIN PORT`, the
    /// environment added, and how long it may take to listen.
    fn app_program(self) -> (&'static str, Vec<(&'static str, &'static str)>, Duration) {
        match self {
            Target::Express => (
                "node",
                vec![("NODE_PATH", DEBIAN_NODE_PATH)],
                launch::READY_TIMEOUT,
            ),
            Target::RsCors | Target::Gorilla => ("sh", Vec::new(), GO_BUILD_TIMEOUT),
            Target::Apache | Target::Caddy => ("sh", Vec::new(), launch::READY_TIMEOUT),
            Target::TowerHttp | Target::ActixCors => ("sh", Vec::new(), RUST_BUILD_TIMEOUT),
            Target::Tomcat | Target::Jetty => ("sh", Vec::new(), JAVA_START_TIMEOUT),
            Target::Rack => ("ruby", Vec::new(), launch::READY_TIMEOUT),
            _ => (
                DEBIAN_PYTHON,
                vec![("PYTHONDONTWRITEBYTECODE", "1")],
                launch::READY_TIMEOUT,
            ),
        }
    }

    /// The emitted application of `policy` as a container of the apps image
    /// ([`crate::container::app`]), listening on 127.0.0.1:`port` of the host; `None` for the
    /// targets without an emitted application (tower, nginx, Kong have their own container
    /// descriptions).
    ///
    /// ```
    /// use corsproof_targets::registry::Target;
    /// let p = corsproof_policy::Policy::from_toml_str("version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\n", "p.toml")?;
    /// let t = Target::Flask.container(&p, false, 8123).expect("an application")?;
    /// assert_eq!(t.command.as_ref().map(|c| c[1].as_str()), Some("app.py"));
    /// assert!(Target::Nginx.container(&p, false, 8123).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn container(
        self,
        policy: &Policy,
        allow_broader: bool,
        port: u16,
    ) -> Option<Result<crate::container::ContainerTarget, EmitError>> {
        let app = self.app(policy, &AppOptions { allow_broader })?;
        let (program, env, ready) = self.app_program();
        Some(app.map(|app| {
            let mut t = crate::container::app(self.name(), &app, program, &env, port);
            t.ready_timeout = ready.max(t.ready_timeout);
            t
        }))
    }
}

/// How long a Go target may take to build and listen (a first build compiles the library).
pub const GO_BUILD_TIMEOUT: Duration = Duration::from_secs(180);

/// How long a Rust target may take to build and listen: a first build downloads and compiles
/// the pinned crates (about 15 s for tower-http and 110 s for actix-cors on two busy cores);
/// later builds compile the program only (1 to 3 s).
pub const RUST_BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// `CRATE VERSION, CRATE VERSION (crates.io, pinned), rustc X.Y.Z`, when cargo and rustc run.
fn rust_versions(library: RustLibrary) -> Result<String, String> {
    let needs = "the target builds a Rust program with cargo (rustc 1.78 or later), which downloads its pinned crates from crates.io on its first build";
    output(Command::new("cargo").arg("-V")).map_err(|e| format!("{e}: {needs}"))?;
    let rustc = output(Command::new("rustc").arg("-V")).map_err(|e| format!("{e}: {needs}"))?;
    let rustc = rustc
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let crates: Vec<String> = library
        .crates()
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    Ok(format!(
        "{} (crates.io, pinned), {rustc}",
        crates.join(", ")
    ))
}

/// How long a Java target may take to compile its `Main.java` and listen (about 3 s on an
/// idle machine).
pub const JAVA_START_TIMEOUT: Duration = Duration::from_secs(60);

/// `LIBRARY VERSION (Debian PACKAGE VERSION), javac VERSION`: the upstream version is read
/// from the name of the versioned jar Debian installs beside `/usr/share/java/JAR.jar`
/// (`tomcat10-catalina-10.1.60.jar`, `jetty9-servlets-9.4.57.v20241219.jar`).
fn java_versions(library: &str, jar: &str, package: &str) -> Result<String, String> {
    let dir = Path::new("/usr/share/java");
    let prefix = format!("{jar}-");
    let entries = std::fs::read_dir(dir).map_err(|e| format!("no {}: {e}", dir.display()))?;
    let upstream = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .find_map(|name| {
            let version = name.strip_prefix(&prefix)?.strip_suffix(".jar")?;
            version
                .starts_with(|c: char| c.is_ascii_digit())
                .then(|| version.to_string())
        })
        .ok_or_else(|| format!("no {}/{prefix}VERSION.jar", dir.display()))?;
    let debian = output(Command::new("dpkg-query").args(["-W", "-f", "${Version}", package]))?;
    let javac = output(Command::new("javac").arg("-version"))?;
    Ok(format!(
        "{library} {upstream} (Debian {}), {}",
        debian.trim(),
        javac.trim()
    ))
}

/// `LIBRARY VERSION (Debian PACKAGE VERSION), goX.Y.Z`.
fn go_versions(library: &str, package: &str) -> Result<String, String> {
    let go = output(Command::new("go").arg("version"))?;
    let go = go.split_whitespace().nth(2).unwrap_or("go").to_string();
    let debian = output(Command::new("dpkg-query").args(["-W", "-f", "${Version}", package]))?;
    let debian = debian.trim();
    if debian.is_empty() {
        return Err(format!("{package} is not installed"));
    }
    let upstream = debian.split('-').next().unwrap_or(debian);
    Ok(format!("{library} {upstream} (Debian {debian}), {go}"))
}

const RUBY_VERSIONS: &str = "require 'rack'; require 'rack/cors/version'; require 'webrick'; puts \"Rack #{Rack.release}, rack-cors #{Rack::Cors::VERSION}, WEBrick #{WEBrick::VERSION}, Ruby #{RUBY_VERSION}\"";

const NODE_VERSIONS: &str = "console.log('Express ' + require('express/package.json').version + ', cors ' + require('cors/package.json').version)";

/// `Name version, Name version` of Debian's Python distributions (label, distribution).
fn python_versions(dists: &[(&str, &str)]) -> Result<String, String> {
    let names: Vec<String> = dists.iter().map(|(_, d)| format!("{d:?}")).collect();
    let script = format!(
        "from importlib.metadata import version\nprint(' '.join(version(d) for d in [{}]))",
        names.join(", ")
    );
    let out = output(Command::new(DEBIAN_PYTHON).args(["-c", &script]))?;
    let versions: Vec<&str> = out.split_whitespace().collect();
    if versions.len() != dists.len() {
        return Err(format!("unexpected version output {out:?}"));
    }
    Ok(dists
        .iter()
        .zip(versions)
        .map(|((label, _), v)| format!("{label} {v}"))
        .collect::<Vec<_>>()
        .join(", "))
}

/// The command's standard output (or, when empty, its standard error) if it succeeds.
fn output(cmd: &mut Command) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().to_string();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").trim().to_string();
        return Err(format!("{program} failed: {last}"));
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if text.trim().is_empty() {
        return Ok(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(text)
}
