//! Container targets: a CORS implementation started as a Docker container, described as data
//! ([`ContainerTarget`]: image, exposed port, the configuration files copied in and where,
//! environment,
//! command, readiness check), so that adding a target is a new description (and an emitter for
//! its configuration), not new launcher code. [`start`] runs any description and returns a
//! [`RunningContainer`], whose drop removes the container (also when starting fails half-way).
//!
//! The descriptions: [`nginx`] (the `emit nginx` configuration), [`nginx_with_config`] (any
//! nginx.conf), [`serve`] (`corsproof serve`, our middleware), [`kong`] (DB-less Kong with a
//! declarative configuration), [`custom`] (a user's own image, as it is).
//!
//! Image names come from the environment, defaulting to the registry-free images that
//! `cargo xtask images` builds from Debian's packages:
//!
//! | target | variable | default | upstream image users pull |
//! |---|---|---|---|
//! | nginx | `CORSPROOF_NGINX_IMAGE` | `corsproof/nginx:local` | `nginx:1.27` |
//! | serve | `CORSPROOF_SERVE_IMAGE` | `corsproof/serve:local` | (built from `docker/corsproof/Dockerfile`) |
//! | kong | `CORSPROOF_KONG_IMAGE` | `kong:3.9` | `kong:3.9` |
//!
//! The engine is driven through the `docker` command line, which negotiates the API version
//! with whatever engine it finds (this machine's Docker 20.10 speaks API 1.41 at most; the
//! `testcontainers` crate's releases hard-code 1.44 or newer, see the module's notes in the
//! repository's docker/README.md). Published ports are bound to 127.0.0.1 only, on a port the
//! engine picks. Every wait is bounded.
//!
//! ```no_run
//! use corsproof_targets::container;
//! use corsproof_policy::Policy;
//! let policy = Policy::from_path("corpus/policies/public-api.toml")?;
//! let running = container::start(&container::nginx(&policy)?)?;
//! println!("nginx in container {} at {}", running.id(), running.url());
//! drop(running); // docker rm -f
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corsproof_policy::Policy;
use url::Url;

use corsproof_emit::{EmitError, Upstream};

/// Environment variable naming the nginx image.
pub const NGINX_IMAGE_VAR: &str = "CORSPROOF_NGINX_IMAGE";
/// Environment variable naming the `corsproof serve` image.
pub const SERVE_IMAGE_VAR: &str = "CORSPROOF_SERVE_IMAGE";
/// Environment variable naming the Kong image.
pub const KONG_IMAGE_VAR: &str = "CORSPROOF_KONG_IMAGE";
/// The nginx image `cargo xtask images` builds.
pub const NGINX_LOCAL_IMAGE: &str = "corsproof/nginx:local";
/// The `corsproof serve` image `cargo xtask images` builds.
pub const SERVE_LOCAL_IMAGE: &str = "corsproof/serve:local";
/// Kong's upstream image (no registry-free Kong image can be built from Debian's packages).
pub const KONG_DEFAULT_IMAGE: &str = "kong:3.9";
/// Where configuration files go inside every container of these descriptions.
pub const CONFIG_DIR: &str = "/etc/corsproof";
/// The policy of Kong's upstream (`corsproof serve`): no routes, so it sends no CORS header
/// and every CORS header a client sees is Kong's (the same as docker/kong/upstream.toml).
pub const KONG_UPSTREAM_POLICY: &str = "version = 1\n";
/// Where Kong's declarative configuration goes (`/kong/kong.yml`, as in docker/kong/).
pub const KONG_CONFIG_DIR: &str = "/kong";
/// How long a container may take to answer HTTP, unless its description says otherwise.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest one `docker` command may take (create, cp, start, inspect, rm).
const DOCKER_COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// Why a container target could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The policy cannot be expressed by the target (never a finding).
    #[error("the target cannot implement this policy: {0}")]
    Unsupported(#[from] EmitError),
    /// No Docker engine answered.
    #[error("Docker is not available: {why}")]
    DockerUnavailable {
        /// What the `docker` command said, or why it could not run.
        why: String,
    },
    /// The image is not in the local engine (nothing is ever pulled).
    #[error("image {image} is not present in the local Docker engine: {hint}")]
    ImageMissing {
        /// The image.
        image: String,
        /// How to get it.
        hint: String,
    },
    /// A `docker` command failed.
    #[error("docker {step} failed: {why}")]
    Docker {
        /// The command (`create`, `cp`, `start`, `port`).
        step: &'static str,
        /// Its error output.
        why: String,
    },
    /// The container exited, or did not answer HTTP, before it was ready.
    #[error("{name} ({image}) did not become ready: {why}{}", if logs.is_empty() { String::new() } else { format!("\n--- container log (last lines) ---\n{logs}") })]
    NotReady {
        /// The target's name.
        name: String,
        /// The image.
        image: String,
        /// What happened.
        why: String,
        /// The end of the container's output.
        logs: String,
    },
    /// The description is not usable (a file name with a `/`, a port 0, ...).
    #[error("invalid container description: {0}")]
    Invalid(String),
    /// Files for the container could not be staged on the host.
    #[error("cannot prepare {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// When a started container counts as ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// A `GET` of this path through the published port gets an HTTP/1.x response (any status).
    Http {
        /// The request target, e.g. `/`.
        path: String,
    },
}

/// A container target, as data.
///
/// ```
/// use corsproof_targets::container::{ContainerTarget, Readiness};
/// let t = ContainerTarget {
///     name: "whoami".into(),
///     image: "example/whoami:1".into(),
///     image_hint: "docker load it first".into(),
///     port: 80,
///     config_dir: "/etc/whoami".into(),
///     files: vec![],
///     env: vec![("LOG".into(), "1".into())],
///     command: None,
///     ready: Readiness::Http { path: "/".into() },
///     ready_timeout: std::time::Duration::from_secs(10),
///     network: None,
/// };
/// assert_eq!(t.port, 80);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerTarget {
    /// A short name for messages (`nginx`, `tower`, `kong`, ...).
    pub name: String,
    /// The image (`NAME:TAG`); never pulled: it must be in the local engine.
    pub image: String,
    /// How to get the image when it is missing (printed with the error).
    pub image_hint: String,
    /// The container port the target listens on (TCP), published on 127.0.0.1.
    pub port: u16,
    /// The directory of the container the files go into (created if missing; its parent
    /// must exist), usually [`CONFIG_DIR`].
    pub config_dir: String,
    /// Files copied into `config_dir` before the container starts: (relative path, contents).
    pub files: Vec<(String, String)>,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// The command (arguments after the image's entrypoint); `None`: the image's own.
    pub command: Option<Vec<String>>,
    /// When the container is ready.
    pub ready: Readiness,
    /// How long it may take to become ready.
    pub ready_timeout: Duration,
    /// A Docker network to join (see [`Network`]) and the name other containers on it reach
    /// this one by (`None`: the default bridge, no name). [`HOST_NETWORK`]: the host's own
    /// network; nothing is published, and the target must listen on 127.0.0.1 at `port`.
    pub network: Option<(String, Option<String>)>,
}

/// The network name of Docker's host networking: a container on it shares the host's
/// loopback, so an application that listens on 127.0.0.1 (as the emitted ones do) is
/// reached there, and nothing is published.
pub const HOST_NETWORK: &str = "host";

/// The variable naming the image of the emitted applications.
pub const APPS_IMAGE_VAR: &str = "CORSPROOF_APPS_IMAGE";

/// The registry-free image of the emitted applications (`cargo xtask images --apps`): a
/// Debian minbase with every matrix target's packages.
pub const APPS_LOCAL_IMAGE: &str = "corsproof/apps:local";

/// The directory of the apps image the application's files go into (its working directory).
pub const APPS_DIR: &str = "/app";

/// An emitted application in the apps image ([`APPS_LOCAL_IMAGE`], or `CORSPROOF_APPS_IMAGE`),
/// started as `program MAIN PORT` in [`APPS_DIR`] on the host's network ([`HOST_NETWORK`]):
/// the application listens on 127.0.0.1:`port` of the host.
///
/// ```
/// use corsproof_emit::apps::{App, AppFile};
/// use corsproof_targets::container;
/// let app = App { files: vec![AppFile { name: "app.py", text: "print(1)\n".into() }], unsupported: vec![] };
/// let t = container::app("flask", &app, "/usr/bin/python3", &[], 8123);
/// assert_eq!(t.command.as_deref(), Some(&["/usr/bin/python3".to_string(), "app.py".into(), "8123".into()][..]));
/// assert_eq!(t.network, Some((container::HOST_NETWORK.to_string(), None)));
/// ```
pub fn app(
    name: &str,
    app: &corsproof_emit::apps::App,
    program: &str,
    env: &[(&str, &str)],
    port: u16,
) -> ContainerTarget {
    let main = app.files.first().map_or("app", |f| f.name);
    ContainerTarget {
        name: name.to_string(),
        image: image_from_env(APPS_IMAGE_VAR, APPS_LOCAL_IMAGE),
        image_hint: "build it with `cargo xtask images --apps` (needs debootstrap and root), or \
             set CORSPROOF_APPS_IMAGE to an image with the target's packages"
            .into(),
        port,
        config_dir: APPS_DIR.into(),
        files: app
            .files
            .iter()
            .map(|f| (f.name.to_string(), f.text.clone()))
            .collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        command: Some(vec![
            program.to_string(),
            main.to_string(),
            port.to_string(),
        ]),
        ready: Readiness::Http { path: "/".into() },
        ready_timeout: Duration::from_secs(180),
        network: Some((HOST_NETWORK.to_string(), None)),
    }
}

/// The image named by `var`, or `default` when the variable is unset or empty.
///
/// ```
/// use corsproof_targets::container::image_from_env;
/// assert_eq!(image_from_env("CORSPROOF_TEST_UNSET_VARIABLE", "a:b"), "a:b");
/// ```
pub fn image_from_env(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn local_hint(var: &str, upstream: &str) -> String {
    format!(
        "build the registry-free images with `cargo xtask images` (needs debootstrap and root), \
         or set {var} to an image you have (e.g. `docker pull {upstream}`)"
    )
}

/// nginx with any complete `nginx.conf` (`listen 80;`), run as
/// `nginx -p /etc/corsproof/ -c nginx.conf`: relative paths in it (pid, logs, temporary files)
/// are inside [`CONFIG_DIR`], where a `tmp/` directory exists.
pub fn nginx_with_config(conf: &str) -> ContainerTarget {
    ContainerTarget {
        name: "nginx".into(),
        image: image_from_env(NGINX_IMAGE_VAR, NGINX_LOCAL_IMAGE),
        image_hint: local_hint(NGINX_IMAGE_VAR, "nginx:1.27"),
        port: 80,
        config_dir: CONFIG_DIR.into(),
        files: vec![
            ("nginx.conf".into(), conf.to_string()),
            ("tmp/.keep".into(), String::new()),
        ],
        env: vec![],
        command: Some(
            ["nginx", "-p", "/etc/corsproof/", "-c", "nginx.conf"]
                .map(String::from)
                .to_vec(),
        ),
        ready: Readiness::Http { path: "/".into() },
        ready_timeout: READY_TIMEOUT,
        network: None,
    }
}

/// nginx serving `policy` with the configuration of [`corsproof_emit::nginx()`] (the demo
/// upstream), listening on port 80 of the container.
///
/// ```
/// use corsproof_targets::container;
/// use corsproof_policy::Policy;
/// let p = Policy::from_toml_str("version = 1\n[[route]]\npath = \"/\"\norigins = [\"*\"]\n", "p.toml")?;
/// let t = container::nginx(&p)?;
/// assert_eq!(t.port, 80);
/// assert!(t.files[0].1.contains("listen 80;"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn nginx(policy: &Policy) -> Result<ContainerTarget, EmitError> {
    let conf = corsproof_emit::nginx(policy, &Upstream::demo())?;
    Ok(nginx_with_config(&conf.standalone("80")))
}

/// `corsproof serve` (our middleware, `corsproof-tower`) with the policy file `file_name`
/// (`policy.toml` or `policy.json`: the extension tells serve the format) holding
/// `contents`, listening on port 8080 of the container. The image's entrypoint must be the
/// `corsproof` binary.
pub fn serve(file_name: &str, contents: &str) -> ContainerTarget {
    ContainerTarget {
        name: "tower".into(),
        image: image_from_env(SERVE_IMAGE_VAR, SERVE_LOCAL_IMAGE),
        image_hint: local_hint(
            SERVE_IMAGE_VAR,
            "an image built from docker/corsproof/Dockerfile",
        ),
        port: 8080,
        config_dir: CONFIG_DIR.into(),
        files: vec![(file_name.to_string(), contents.to_string())],
        env: vec![],
        command: Some(vec![
            "serve".into(),
            "--policy".into(),
            format!("{CONFIG_DIR}/{file_name}"),
            "--listen".into(),
            "0.0.0.0:8080".into(),
        ]),
        ready: Readiness::Http { path: "/".into() },
        ready_timeout: READY_TIMEOUT,
        network: None,
    }
}

/// Kong in DB-less mode (`KONG_DATABASE=off`) with the declarative configuration `kong_yml`
/// (as `corsproof emit kong` writes it), its proxy on port 8000 of the container, the admin
/// API off, logs on the container's output. Kong takes longer to start than the others
/// (60 s allowed).
pub fn kong(kong_yml: &str) -> ContainerTarget {
    let env = [
        ("KONG_DATABASE", "off"),
        ("KONG_DECLARATIVE_CONFIG", "/kong/kong.yml"),
        ("KONG_PROXY_LISTEN", "0.0.0.0:8000"),
        ("KONG_ADMIN_LISTEN", "off"),
        ("KONG_STATUS_LISTEN", "off"),
        ("KONG_PROXY_ACCESS_LOG", "/dev/stdout"),
        ("KONG_PROXY_ERROR_LOG", "/dev/stderr"),
    ];
    ContainerTarget {
        name: "kong".into(),
        image: image_from_env(KONG_IMAGE_VAR, KONG_DEFAULT_IMAGE),
        image_hint: format!(
            "Kong cannot be built from Debian's packages: `docker pull {KONG_DEFAULT_IMAGE}` (or \
             `docker load` it where no registry is reachable), or set {KONG_IMAGE_VAR}"
        ),
        port: 8000,
        config_dir: KONG_CONFIG_DIR.into(),
        files: vec![("kong.yml".into(), kong_yml.to_string())],
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        command: None,
        ready: Readiness::Http { path: "/".into() },
        ready_timeout: Duration::from_secs(60),
        network: None,
    }
}

/// A user's own image, run as it is (its own command, no files), checked on `port`.
pub fn custom(image: &str, port: u16) -> ContainerTarget {
    ContainerTarget {
        name: image.to_string(),
        image: image.to_string(),
        image_hint: "build or `docker load` it first (nothing is pulled)".into(),
        port,
        config_dir: CONFIG_DIR.into(),
        files: vec![],
        env: vec![],
        command: None,
        ready: Readiness::Http { path: "/".into() },
        ready_timeout: READY_TIMEOUT,
        network: None,
    }
}

/// A user-defined Docker bridge network for targets that talk to each other (Kong and its
/// upstream); dropping it removes the network (after the containers on it are gone: drop
/// them first).
#[derive(Debug)]
pub struct Network {
    name: String,
}

impl Network {
    /// Creates a network named `corsproof-PID-SUFFIX`.
    pub fn create(suffix: &str) -> Result<Network, ContainerError> {
        if suffix.is_empty()
            || !suffix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ContainerError::Invalid(format!(
                "network suffix {suffix:?}"
            )));
        }
        let name = format!("corsproof-{}-{suffix}", std::process::id());
        let out = docker(&[
            "network",
            "create",
            "--label",
            "org.corsproof.target=1",
            &name,
        ])
        .map_err(|why| ContainerError::DockerUnavailable { why })?;
        if !out.ok {
            return Err(ContainerError::Docker {
                step: "network create",
                why: text(&out.stderr),
            });
        }
        Ok(Network { name })
    }

    /// The network's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = docker(&["network", "rm", &self.name]);
    }
}

/// A started container; dropping it removes the container (`docker rm -f`).
#[derive(Debug)]
pub struct RunningContainer {
    id: String,
    url: Url,
    name: String,
    image: String,
}

impl RunningContainer {
    /// The target's base URL (`http://127.0.0.1:PORT/`, the published port).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The target's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The container's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The image it runs.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The end of the container's output (`docker logs --tail LINES`), for messages.
    pub fn logs(&self, lines: usize) -> String {
        let out = docker(&["logs", "--tail", &lines.to_string(), &self.id]);
        match out {
            Ok(o) => {
                let mut both = o.stdout;
                both.push(b'\n');
                both.extend_from_slice(&o.stderr);
                text(&both)
            }
            Err(e) => format!("(no log: {e})"),
        }
    }
}

/// Removes the container `id` and its anonymous volumes (`docker rm -f -v`), for a caller that
/// cannot wait for a handle's drop (a signal handler); errors are ignored.
pub fn remove(id: &str) {
    let _ = docker(&["rm", "-f", "-v", id]);
}

/// Removes the network `name`, for the same callers as [`remove`]; errors are ignored.
pub fn remove_network(name: &str) {
    let _ = docker(&["network", "rm", name]);
}

impl Drop for RunningContainer {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", "-v", &self.id]);
    }
}

/// The output of one bounded `docker` command.
struct Output {
    ok: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs `docker ARGS` with no input, killed after [`DOCKER_COMMAND_LIMIT`].
fn docker(args: &[&str]) -> Result<Output, String> {
    let mut child = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the `docker` command: {e}"))?;
    // Readers on threads so that a chatty command cannot block on a full pipe.
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.take(1 << 20).read_to_end(&mut buf);
        }
        buf
    });
    let err_t = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.take(1 << 20).read_to_end(&mut buf);
        }
        buf
    });
    let deadline = Instant::now() + DOCKER_COMMAND_LIMIT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    match status {
        Some(s) => Ok(Output {
            ok: s.success(),
            stdout,
            stderr,
        }),
        None => Err(format!(
            "`docker {}` took longer than {DOCKER_COMMAND_LIMIT:?}",
            args.first().copied().unwrap_or("")
        )),
    }
}

/// Output of `docker` or of a container, made safe to print on a terminal: control
/// characters other than newline and tab are shown escaped (`\x1b`), never sent as such.
fn text(bytes: &[u8]) -> String {
    let mut out = String::new();
    for c in String::from_utf8_lossy(bytes).trim().chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a Docker engine answers (`Ok(server version)`), or why not.
///
/// ```no_run
/// match corsproof_targets::container::docker_available() {
///     Ok(v) => println!("Docker engine {v}"),
///     Err(why) => println!("no Docker: {why}"),
/// }
/// ```
pub fn docker_available() -> Result<String, String> {
    let out = docker(&["version", "--format", "{{.Server.Version}}"])?;
    if out.ok {
        Ok(text(&out.stdout))
    } else {
        let why = text(&out.stderr);
        Err(if why.is_empty() {
            "`docker version` failed".into()
        } else {
            why
        })
    }
}

/// Whether `image` is in the local engine.
pub fn image_present(image: &str) -> Result<bool, ContainerError> {
    let out = docker(&["image", "inspect", "--format", "{{.Id}}", image])
        .map_err(|why| ContainerError::DockerUnavailable { why })?;
    Ok(out.ok)
}

fn check_description(target: &ContainerTarget) -> Result<(), ContainerError> {
    if target.port == 0 {
        return Err(ContainerError::Invalid("port 0".into()));
    }
    if target.image.is_empty() || target.image.starts_with('-') {
        return Err(ContainerError::Invalid(format!(
            "image name {:?}",
            target.image
        )));
    }
    let dir_ok = target.config_dir.starts_with('/')
        && target.config_dir.len() > 1
        && !target.config_dir.split('/').any(|c| c == "." || c == "..")
        && !target.config_dir.contains(':');
    if !target.files.is_empty() && !dir_ok {
        return Err(ContainerError::Invalid(format!(
            "configuration directory {:?} (an absolute path other than /)",
            target.config_dir
        )));
    }
    for (name, _) in &target.files {
        let bad = name.is_empty()
            || name.starts_with('/')
            || name
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..");
        if bad {
            return Err(ContainerError::Invalid(format!(
                "file name {name:?} (a relative path inside {})",
                target.config_dir
            )));
        }
    }
    for (key, _) in &target.env {
        if key.is_empty() || key.contains('=') {
            return Err(ContainerError::Invalid(format!(
                "environment variable name {key:?}"
            )));
        }
    }
    Ok(())
}

/// Starts `target`: checks that Docker answers and the image is present, creates the
/// container (port published on 127.0.0.1, a port the engine picks), copies the files into
/// [`CONFIG_DIR`], starts it and waits until it is ready. On any failure the container is
/// removed and the error says what happened, with the end of the container's log.
pub fn start(target: &ContainerTarget) -> Result<RunningContainer, ContainerError> {
    check_description(target)?;
    docker_available().map_err(|why| ContainerError::DockerUnavailable { why })?;
    if !image_present(&target.image)? {
        return Err(ContainerError::ImageMissing {
            image: target.image.clone(),
            hint: target.image_hint.clone(),
        });
    }
    let host = target
        .network
        .as_ref()
        .is_some_and(|(n, _)| n == HOST_NETWORK);
    let mut args: Vec<String> = vec![
        "create".into(),
        // Nothing is ever pulled (the image was found above; a race must not fetch it).
        "--pull".into(),
        "never".into(),
        "--label".into(),
        "org.corsproof.target=1".into(),
    ];
    if !host {
        args.push("-p".into());
        args.push(format!("127.0.0.1::{}/tcp", target.port));
    }
    if let Some((network, alias)) = &target.network {
        args.push("--network".into());
        args.push(network.clone());
        if let Some(alias) = alias {
            args.push("--network-alias".into());
            args.push(alias.clone());
        }
    }
    for (k, v) in &target.env {
        args.push("-e".into());
        args.push(format!("{k}={v}"));
    }
    args.push("--".into());
    args.push(target.image.clone());
    if let Some(cmd) = &target.command {
        args.extend(cmd.iter().cloned());
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let created = docker(&arg_refs).map_err(|why| ContainerError::DockerUnavailable { why })?;
    if !created.ok {
        return Err(ContainerError::Docker {
            step: "create",
            why: text(&created.stderr),
        });
    }
    let id = text(&created.stdout);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ContainerError::Docker {
            step: "create",
            why: format!("unexpected container id {id:?}"),
        });
    }
    // From here on the handle removes the container on every return path.
    let mut running = RunningContainer {
        url: Url::parse("http://127.0.0.1/").map_err(|e| ContainerError::Invalid(e.to_string()))?,
        id,
        name: target.name.clone(),
        image: target.image.clone(),
    };
    if !target.files.is_empty() {
        copy_files(&running.id, &target.config_dir, &target.files)?;
    }
    let started =
        docker(&["start", &running.id]).map_err(|why| ContainerError::DockerUnavailable { why })?;
    if !started.ok {
        return Err(not_ready(
            &running,
            format!("docker start: {}", text(&started.stderr)),
        ));
    }
    let addr = if host {
        SocketAddr::from(([127, 0, 0, 1], target.port))
    } else {
        match published_port(&running.id, target.port) {
            Ok(addr) => addr,
            // An exited container has no published port any more: say that it exited.
            Err(_) if !is_running(&running.id) => {
                return Err(not_ready(&running, "the container exited".into()))
            }
            Err(e) => return Err(e),
        }
    };
    running.url = Url::parse(&format!("http://{addr}/"))
        .map_err(|e| ContainerError::Invalid(format!("published address {addr}: {e}")))?;
    wait_ready(&running, addr, target)?;
    Ok(running)
}

fn not_ready(running: &RunningContainer, why: String) -> ContainerError {
    ContainerError::NotReady {
        name: running.name.clone(),
        image: running.image.clone(),
        why,
        logs: running.logs(30),
    }
}

/// Stages `files` in a temporary directory and copies its contents into `dir`.
fn copy_files(id: &str, dir: &str, files: &[(String, String)]) -> Result<(), ContainerError> {
    let stage = std::env::temp_dir().join(format!(
        "corsproof-container-{}-{}",
        std::process::id(),
        &id[..id.len().min(12)]
    ));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ContainerError::Io { path, source }
    };
    let result = (|| {
        for (name, contents) in files {
            let path = stage.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, contents).map_err(io(&path))?;
        }
        let src = format!("{}/.", stage.display());
        let dest = format!("{id}:{dir}");
        let out = docker(&["cp", &src, &dest])
            .map_err(|why| ContainerError::DockerUnavailable { why })?;
        if out.ok {
            Ok(())
        } else {
            Err(ContainerError::Docker {
                step: "cp",
                why: text(&out.stderr),
            })
        }
    })();
    let _ = std::fs::remove_dir_all(&stage);
    result
}

/// The host address of the container's `port`, published on 127.0.0.1.
fn published_port(id: &str, port: u16) -> Result<SocketAddr, ContainerError> {
    let out = docker(&["port", id, &format!("{port}/tcp")])
        .map_err(|why| ContainerError::DockerUnavailable { why })?;
    if !out.ok {
        return Err(ContainerError::Docker {
            step: "port",
            why: text(&out.stderr),
        });
    }
    let listing = text(&out.stdout);
    listing
        .lines()
        .find_map(|l| l.trim().parse::<SocketAddr>().ok().filter(|a| a.is_ipv4()))
        .ok_or_else(|| ContainerError::Docker {
            step: "port",
            why: format!("no IPv4 address published for {port}/tcp in {listing:?}"),
        })
}

fn is_running(id: &str) -> bool {
    docker(&["inspect", "--format", "{{.State.Running}}", id])
        .map(|o| o.ok && text(&o.stdout) == "true")
        .unwrap_or(false)
}

/// Whether an HTTP/1.x response comes back for `GET path` (bounded by one second each way).
fn answers_http(addr: SocketAddr, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 7];
    s.read_exact(&mut head).is_ok() && &head == b"HTTP/1."
}

fn wait_ready(
    running: &RunningContainer,
    addr: SocketAddr,
    target: &ContainerTarget,
) -> Result<(), ContainerError> {
    let deadline = Instant::now() + target.ready_timeout;
    let Readiness::Http { path } = &target.ready;
    loop {
        if answers_http(addr, path) {
            return Ok(());
        }
        if !is_running(&running.id) {
            return Err(not_ready(running, "the container exited".into()));
        }
        if Instant::now() > deadline {
            return Err(not_ready(
                running,
                format!(
                    "no HTTP answer on {addr} (container port {}) after {:?}",
                    target.port, target.ready_timeout
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Kong with its upstream: both on a network of their own, the upstream reachable from Kong
/// by the name the declarative configuration's service URL uses. Dropping it removes Kong,
/// then the upstream, then the network.
#[derive(Debug)]
pub struct KongStack {
    kong: RunningContainer,
    upstream: RunningContainer,
    network: Network,
}

impl KongStack {
    /// Kong's proxy (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> &Url {
        self.kong.url()
    }

    /// The Kong container.
    pub fn kong(&self) -> &RunningContainer {
        &self.kong
    }

    /// The upstream container.
    pub fn upstream(&self) -> &RunningContainer {
        &self.upstream
    }

    /// The network both are on.
    pub fn network(&self) -> &Network {
        &self.network
    }
}

/// Starts Kong ([`kong`] with `kong_yml`) in front of `corsproof serve` with `upstream_policy`
/// (a policy without routes, so the upstream sends no CORS header of its own), reachable
/// from Kong as `upstream_alias` (the host of the service URL in `kong_yml`). The Kong image
/// is checked first, so nothing is started when it is missing.
pub fn start_kong(
    kong_yml: &str,
    upstream_alias: &str,
    upstream_policy: &str,
) -> Result<KongStack, ContainerError> {
    let mut kong_target = kong(kong_yml);
    docker_available().map_err(|why| ContainerError::DockerUnavailable { why })?;
    if !image_present(&kong_target.image)? {
        return Err(ContainerError::ImageMissing {
            image: kong_target.image,
            hint: kong_target.image_hint,
        });
    }
    let network = Network::create("kong")?;
    let mut upstream_target = serve("upstream.toml", upstream_policy);
    upstream_target.name = "kong upstream".into();
    upstream_target.network = Some((network.name().to_string(), Some(upstream_alias.into())));
    let upstream = start(&upstream_target)?;
    kong_target.network = Some((network.name().to_string(), None));
    let kong = start(&kong_target)?;
    Ok(KongStack {
        kong,
        upstream,
        network,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_checked() {
        let mut t = custom("img:1", 80);
        t.files = vec![("../escape".into(), String::new())];
        assert!(matches!(
            check_description(&t),
            Err(ContainerError::Invalid(_))
        ));
        t.files = vec![("/abs".into(), String::new())];
        assert!(check_description(&t).is_err());
        t.files = vec![("tmp/.keep".into(), String::new())];
        assert!(check_description(&t).is_ok());
        t.config_dir = "/".into();
        assert!(check_description(&t).is_err());
        t.config_dir = "/etc/../x".into();
        assert!(check_description(&t).is_err());
        t.config_dir = "/etc/x".into();
        t.port = 0;
        assert!(check_description(&t).is_err());
        let mut t = custom("--privileged", 80);
        assert!(check_description(&t).is_err());
        t.image = "ok:1".into();
        t.env = vec![("A=B".into(), "c".into())];
        assert!(check_description(&t).is_err());
    }

    #[test]
    fn output_is_terminal_safe() {
        assert_eq!(
            text(b" a\x1b[31mb\r\nc\td\x07 "),
            "a\\u{1b}[31mb\\r\nc\td\\u{7}"
        );
        assert_eq!(text(&[0xff, b'x']), "\u{fffd}x");
    }

    #[test]
    fn kong_is_db_less_with_the_declarative_file() {
        let t = kong("_format_version: \"3.0\"\n");
        assert!(t.env.contains(&("KONG_DATABASE".into(), "off".into())));
        assert!(t.env.contains(&(
            "KONG_DECLARATIVE_CONFIG".into(),
            format!("{KONG_CONFIG_DIR}/kong.yml")
        )));
        assert_eq!(t.config_dir, KONG_CONFIG_DIR);
        assert_eq!(t.files[0].0, "kong.yml");
        assert_eq!(t.port, 8000);
    }

    #[test]
    fn serve_points_at_the_copied_policy() {
        let t = serve("policy.json", "{}");
        let cmd = t.command.unwrap_or_default();
        assert!(cmd.contains(&format!("{CONFIG_DIR}/policy.json")));
        assert!(cmd.contains(&"0.0.0.0:8080".to_string()));
    }
}
