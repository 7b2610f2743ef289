//! Shared HTTP caches put in front of a running target, as a CDN or reverse proxy is in a real
//! deployment, so that a CORS answer without `Vary: Origin` can be seen doing what it enables:
//! the cache hands one origin's answer to another.
//!
//! Each [`Cache`] is started on a free loopback port with a configuration written into a
//! temporary directory, forwarding to the target's loopback address and caching as it does
//! out of the box, with the short default lifetime of a CDN for answers that give none:
//!
//! - [`Cache::Varnish`]: `varnishd` with the built-in VCL and only a `backend` (default TTL
//!   120 s; requests with `Authorization` or `Cookie` and methods other than `GET`/`HEAD` pass);
//! - [`Cache::NginxProxyCache`]: nginx `proxy_pass` with `proxy_cache` and
//!   `proxy_cache_valid 200 1m`;
//! - [`Cache::ApacheModCache`]: Apache httpd `mod_proxy_http` with `mod_cache` and
//!   `mod_cache_disk` (`CacheDefaultExpire 60`, `CacheIgnoreNoLastMod On`).
//!
//! All three honour the upstream's `Cache-Control` and `Vary`. Each one marks its hits:
//! Varnish with two ids in `X-Varnish` and an `Age`, nginx with `X-Cache-Status: HIT`, Apache
//! with `X-Cache: HIT from …` and an `Age`.
//!
//! ```no_run
//! use corsproof_targets::cache::Cache;
//! let upstream = url::Url::parse("http://127.0.0.1:8080/")?;
//! let cache = Cache::Varnish.launch(&upstream)?;
//! println!("varnish in front of {upstream} at {}", cache.url());
//! drop(cache); // stops it and removes its directory
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use url::Url;

use crate::launch::{self, LaunchError, Running};
use crate::registry::Missing;

/// How long a cache may take to listen (Varnish compiles its VCL with the C compiler first).
pub const CACHE_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A shared cache that can run in front of a target.
///
/// ```
/// use corsproof_targets::cache::Cache;
/// assert_eq!(Cache::parse("nginx-cache"), Some(Cache::NginxProxyCache));
/// assert!(Cache::ALL.iter().all(|c| Cache::parse(c.name()) == Some(*c)));
/// assert_eq!(Cache::Varnish.packages(), ["varnish"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cache {
    /// Varnish Cache with its built-in VCL.
    Varnish,
    /// nginx `proxy_cache`.
    NginxProxyCache,
    /// Apache httpd `mod_cache` with `mod_cache_disk`.
    ApacheModCache,
}

/// The Apache modules directory of Debian's apache2.
const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

impl Cache {
    /// Every cache, in the order the matrix lists them.
    pub const ALL: [Cache; 3] = [
        Cache::Varnish,
        Cache::NginxProxyCache,
        Cache::ApacheModCache,
    ];

    /// The name used on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Cache::Varnish => "varnish",
            Cache::NginxProxyCache => "nginx-cache",
            Cache::ApacheModCache => "apache-cache",
        }
    }

    /// The cache named `name`.
    pub fn parse(name: &str) -> Option<Cache> {
        Cache::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The cache, for people.
    pub const fn product(self) -> &'static str {
        match self {
            Cache::Varnish => "Varnish Cache (built-in VCL)",
            Cache::NginxProxyCache => "nginx proxy_cache",
            Cache::ApacheModCache => "Apache httpd mod_cache + mod_cache_disk",
        }
    }

    /// The Debian packages it needs.
    pub const fn packages(self) -> &'static [&'static str] {
        match self {
            Cache::Varnish => &["varnish"],
            Cache::NginxProxyCache => &["nginx-light"],
            Cache::ApacheModCache => &["apache2"],
        }
    }

    /// The version installed, or what is missing.
    pub fn version(self) -> Result<String, Missing> {
        let missing = |why: String| Missing {
            why,
            packages: self.packages().to_vec(),
        };
        match self {
            Cache::Varnish => {
                let out = run_output(Command::new("varnishd").arg("-V")).map_err(missing)?;
                // `varnishd (varnish-7.1.1 revision 7cee1c5…)`
                let line = out.lines().next().unwrap_or("").trim();
                let inner = line.split_once('(').map_or(line, |(_, rest)| rest);
                Ok(inner.split(" revision").next().unwrap_or(inner).to_string())
            }
            Cache::NginxProxyCache => {
                let bin = launch::find_nginx().ok_or_else(|| missing("no nginx binary".into()))?;
                let out = run_output(Command::new(&bin).arg("-V")).map_err(missing)?;
                if out.contains("--without-http_proxy_module") {
                    return Err(missing("nginx is built without its proxy module".into()));
                }
                let first = out.lines().next().unwrap_or("").trim();
                Ok(first.trim_start_matches("nginx version: ").to_string())
            }
            Cache::ApacheModCache => {
                for module in ["mod_cache.so", "mod_cache_disk.so", "mod_proxy_http.so"] {
                    if !Path::new(APACHE_MODULES).join(module).is_file() {
                        return Err(missing(format!("no {APACHE_MODULES}/{module}")));
                    }
                }
                let out =
                    run_output(Command::new("/usr/sbin/apache2").arg("-v")).map_err(missing)?;
                let first = out.lines().next().unwrap_or("").trim();
                Ok(first.trim_start_matches("Server version: ").to_string())
            }
        }
    }

    /// The configuration the cache runs with, for `listen` (`127.0.0.1:PORT`) in front of
    /// `upstream` (`127.0.0.1:PORT`), in directory `dir`: VCL for Varnish, `nginx.conf`,
    /// `httpd.conf`.
    ///
    /// ```
    /// use corsproof_targets::cache::Cache;
    /// let conf = Cache::NginxProxyCache.config("127.0.0.1:1", "127.0.0.1:2", "/tmp/d".as_ref());
    /// assert!(conf.contains("proxy_cache_valid 200 1m;"));
    /// assert!(Cache::Varnish.config("", "127.0.0.1:2", "/d".as_ref()).contains(".port = \"2\";"));
    /// ```
    pub fn config(self, listen: &str, upstream: &str, dir: &Path) -> String {
        let (host, port) = upstream.rsplit_once(':').unwrap_or((upstream, "80"));
        match self {
            Cache::Varnish => format!(
                "vcl 4.1;\n\n# Only a backend: the built-in VCL decides what is cached (default_ttl 120 s).\nbackend target {{\n    .host = \"{host}\";\n    .port = \"{port}\";\n}}\n"
            ),
            Cache::NginxProxyCache => nginx_conf(listen, upstream),
            Cache::ApacheModCache => apache_conf(listen, upstream, dir),
        }
    }

    /// Starts the cache on a free loopback port in front of `upstream` (an `http://` URL on
    /// loopback). Dropping the handle stops the process started (by its pid) and removes the
    /// temporary directory.
    pub fn launch(self, upstream: &Url) -> Result<Running, LaunchError> {
        let authority = match (upstream.host_str(), upstream.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            _ => {
                return Err(LaunchError::NotReady {
                    program: self.name().into(),
                    why: format!("the upstream {upstream} has no host and port"),
                })
            }
        };
        match self {
            Cache::NginxProxyCache => {
                let bin = launch::find_nginx().ok_or_else(|| LaunchError::Spawn {
                    program: "nginx".into(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no nginx binary"),
                })?;
                let mut running =
                    launch::nginx_with_config(&bin, |listen| nginx_conf(listen, &authority))?;
                running.set_name(self.name());
                Ok(running)
            }
            Cache::Varnish | Cache::ApacheModCache => {
                const TRIES: usize = 3;
                for _ in 0..TRIES {
                    if let Some(running) = self.start_once(&authority)? {
                        return Ok(running);
                    }
                }
                Err(LaunchError::NotReady {
                    program: self.name().into(),
                    why: format!(
                        "another process took each free port before it could listen ({TRIES} tries)"
                    ),
                })
            }
        }
    }

    /// One start of Varnish or Apache on a free port: `None` when another process holds it.
    fn start_once(self, upstream: &str) -> Result<Option<Running>, LaunchError> {
        let port = launch::free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let dir = std::env::temp_dir().join(format!(
            "corsproof-{}-{}-{port}",
            self.name(),
            std::process::id()
        ));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LaunchError::Io { path, source }
        };
        std::fs::create_dir_all(dir.join("cache")).map_err(io(&dir))?;
        let log_path = dir.join("stderr.log");
        let log = std::fs::File::create(&log_path).map_err(io(&log_path))?;
        let mut cmd = match self {
            Cache::Varnish => {
                let vcl = dir.join("default.vcl");
                std::fs::write(&vcl, self.config(&listen, upstream, &dir)).map_err(io(&vcl))?;
                let mut cmd = Command::new("varnishd");
                // -F: foreground; -j none: no jail, the current user (root included);
                // -n: the working directory, here; -s: a small memory storage.
                cmd.args(["-F", "-j", "none", "-a", &listen, "-s", "malloc,32m"])
                    .arg("-f")
                    .arg(&vcl)
                    .arg("-n")
                    .arg(dir.join("varnish"));
                cmd
            }
            _ => {
                // The worker may run as `nobody` (when started as root): it writes the cache.
                allow_everyone(&dir.join("cache")).map_err(io(&dir))?;
                let conf = dir.join("httpd.conf");
                std::fs::write(&conf, self.config(&listen, upstream, &dir)).map_err(io(&conf))?;
                let mut cmd = Command::new("/usr/sbin/apache2");
                cmd.arg("-X").arg("-d").arg(&dir).arg("-f").arg(&conf);
                cmd
            }
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|source| LaunchError::Spawn {
                program: self.name().into(),
                source,
            })?;
        let url = Url::parse(&format!("http://{listen}/")).map_err(|e| LaunchError::NotReady {
            program: self.name().into(),
            why: e.to_string(),
        })?;
        let running = Running::new(child, url, Some(dir.clone()), self.name());
        self.wait_ready(running, port, &[log_path, dir.join("error.log")])
    }

    /// Waits until the cache listens on `port` (bounded by [`CACHE_READY_TIMEOUT`]).
    fn wait_ready(
        self,
        mut running: Running,
        port: u16,
        logs: &[PathBuf],
    ) -> Result<Option<Running>, LaunchError> {
        let deadline = Instant::now() + CACHE_READY_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return match launch::holds_listener(running.pid(), port) {
                    Some(false) => Ok(None),
                    Some(true) | None => Ok(Some(running)),
                };
            }
            if let Some(status) = running.exited() {
                let text: String = logs
                    .iter()
                    .filter_map(|p| std::fs::read_to_string(p).ok())
                    .collect();
                if text.contains("Address already in use") {
                    return Ok(None);
                }
                let tail: Vec<&str> = text.lines().rev().take(8).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(LaunchError::NotReady {
                    program: self.name().into(),
                    why: format!("exited with {status}: {}", tail.join("\n")),
                });
            }
            if Instant::now() > deadline {
                return Err(LaunchError::NotReady {
                    program: self.name().into(),
                    why: format!("not listening on port {port} after {CACHE_READY_TIMEOUT:?}"),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// nginx as a caching reverse proxy: one process, the cache zone in `cache/` of its prefix.
fn nginx_conf(listen: &str, upstream: &str) -> String {
    let mut out = String::from(
        "# corsproof: nginx proxy_cache in front of a target (nginx -p DIR -c nginx.conf)\n\
         daemon off;\nmaster_process off;\nworker_processes 1;\npid nginx.pid;\n\
         error_log error.log warn;\n\nevents {\n    worker_connections 256;\n}\n\nhttp {\n\
         \x20   access_log off;\n",
    );
    corsproof_emit::nginx::write_temp_paths(&mut out);
    let _ = write!(
        out,
        "    proxy_cache_path tmp/cache levels=1:2 keys_zone=corsproof:1m max_size=64m;\n\n\
         \x20   server {{\n        listen {listen};\n\n        location / {{\n\
         \x20           proxy_pass http://{upstream};\n\
         \x20           proxy_cache corsproof;\n\
         \x20           proxy_cache_valid 200 1m;\n\
         \x20           add_header X-Cache-Status $upstream_cache_status always;\n\
         \x20       }}\n    }}\n}}\n"
    );
    out
}

/// Apache httpd as a caching reverse proxy, one process (`-X`), the disk cache in `cache/`.
fn apache_conf(listen: &str, upstream: &str, dir: &Path) -> String {
    let dir = dir.display();
    let mut out = String::new();
    for (module, file) in [
        ("mpm_event_module", "mod_mpm_event.so"),
        ("authz_core_module", "mod_authz_core.so"),
        ("proxy_module", "mod_proxy.so"),
        ("proxy_http_module", "mod_proxy_http.so"),
        ("cache_module", "mod_cache.so"),
        ("cache_disk_module", "mod_cache_disk.so"),
    ] {
        let _ = writeln!(out, "LoadModule {module} {APACHE_MODULES}/{file}");
    }
    let _ = write!(
        out,
        "ServerName 127.0.0.1\nListen {listen}\nPidFile httpd.pid\nErrorLog error.log\n\
         LogLevel warn\nMutex file:{dir} default\nUser nobody\nGroup nogroup\n\n\
         # Cache every answer the upstream lets a shared cache store, 60 s when it gives no\n\
         # lifetime, also without Last-Modified (dynamic answers have none).\n\
         CacheRoot {dir}/cache\nCacheEnable disk /\nCacheDefaultExpire 60\n\
         CacheIgnoreNoLastMod On\nCacheHeader on\n\nProxyPass / http://{upstream}/\n"
    );
    out
}

/// Read, write and search permission for every user on `dir`.
fn allow_everyone(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The command's standard output (or, when empty, its standard error) if it succeeds.
fn run_output(cmd: &mut Command) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().to_string();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} failed: {}", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if text.trim().is_empty() {
        return Ok(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_forward_to_the_upstream_and_cache_briefly() {
        let dir = Path::new("/tmp/x");
        let apache = Cache::ApacheModCache.config("127.0.0.1:1", "127.0.0.1:2", dir);
        assert!(apache.contains("ProxyPass / http://127.0.0.1:2/\n"));
        assert!(apache.contains("Listen 127.0.0.1:1\n"));
        assert!(apache.contains("CacheDefaultExpire 60\n"));
        assert!(apache.contains("CacheRoot /tmp/x/cache\n"));
        let nginx = Cache::NginxProxyCache.config("127.0.0.1:1", "127.0.0.1:2", dir);
        assert!(nginx.contains("proxy_pass http://127.0.0.1:2;"));
        assert!(nginx.contains("listen 127.0.0.1:1;"));
        let vcl = Cache::Varnish.config("127.0.0.1:1", "127.0.0.1:2", dir);
        assert!(vcl.contains(".host = \"127.0.0.1\";"));
        assert!(vcl.starts_with("vcl 4.1;"));
    }
}
