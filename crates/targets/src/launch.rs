//! Launchers: start a target configured from a policy as a local process on loopback, learn
//! its URL, and stop it (by the pid of the process started, also when the caller panics).
//!
//! - [`nginx`]: Debian's (or any) nginx binary with the configuration of
//!   [`corsproof_emit::nginx()`], in a temporary prefix directory.
//! - [`process`]: any command that prints `listening on http://ADDR` on its standard output
//!   (`corsproof serve --listen 127.0.0.1:0` does).
//!
//! ```no_run
//! use corsproof_targets::launch;
//! use corsproof_policy::Policy;
//! let policy = Policy::from_path("corpus/policies/public-api.toml")?;
//! let bin = launch::find_nginx().expect("nginx installed");
//! let running = launch::nginx(&bin, &policy)?;
//! println!("nginx at {}", running.url());
//! drop(running); // stops it
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use corsproof_policy::Policy;
use url::Url;

use corsproof_emit::{EmitError, Upstream};

/// How long a launched target may take to accept connections.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a target could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The policy cannot be expressed by the target (never a finding).
    #[error("the target cannot implement this policy: {0}")]
    Unsupported(#[from] EmitError),
    /// The program could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The program exited, or did not listen, before it was ready.
    #[error("{program} did not become ready: {why}")]
    NotReady {
        /// The program.
        program: String,
        /// What happened, with the program's own error output when there is some.
        why: String,
    },
    /// Files for the target could not be written.
    #[error("cannot prepare {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// A running target; dropping it kills the process started and removes its directory.
#[derive(Debug)]
pub struct Running {
    child: Child,
    url: Url,
    dir: Option<PathBuf>,
    name: String,
}

impl Running {
    /// A handle on `child`, listening at `url`, running in `dir` (removed when dropped).
    pub(crate) fn new(child: Child, url: Url, dir: Option<PathBuf>, name: &str) -> Running {
        Running {
            child,
            url,
            dir,
            name: name.to_string(),
        }
    }

    /// Renames the handle (a cache run by the nginx launcher is named for the cache).
    pub(crate) fn set_name(&mut self, name: &str) {
        self.name = name.to_string();
    }

    /// The exit status, once the process has exited.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The target's base URL (`http://127.0.0.1:PORT/`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The target's name (`nginx`, `tower`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pid of the process started.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The directory the target runs in (nginx's prefix, where its `error.log` is), when the
    /// launcher made one; removed when the target is dropped.
    ///
    /// ```no_run
    /// use corsproof_targets::launch;
    /// let bin = launch::find_nginx().expect("nginx installed");
    /// let policy = corsproof_policy::Policy::from_path("corpus/policies/public-api.toml")?;
    /// let running = launch::nginx(&bin, &policy)?;
    /// let log = running.dir().map(|d| d.join("error.log"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The nginx binary on `PATH` or in the usual sbin directories.
pub fn find_nginx() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// A loopback TCP port free when it is chosen (another process may bind it afterwards).
pub fn free_port() -> Result<u16, LaunchError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| LaunchError::Io {
            path: PathBuf::from("127.0.0.1:0"),
            source,
        })
}

/// Starts `bin` (nginx) serving `policy` with the emitted configuration and the demo upstream
/// on a free loopback port.
pub fn nginx(bin: &Path, policy: &Policy) -> Result<Running, LaunchError> {
    let conf = corsproof_emit::nginx(policy, &Upstream::demo())?;
    nginx_with_config(bin, |listen| conf.standalone(listen))
}

/// Starts `bin` (nginx) with the complete configuration `conf(LISTEN)` returns for a free
/// loopback port (`LISTEN` is `127.0.0.1:PORT`), run as `nginx -p DIR -c nginx.conf` in a
/// temporary prefix directory with a `tmp/` subdirectory (relative paths in the
/// configuration are inside it). The same configuration can run in a container with
/// [`crate::container::nginx_with_config`].
///
/// A free port is only free when it is chosen: another process may bind it before nginx
/// does. nginx is ready when the socket listening on the port is its own
/// ([`holds_listener`]); when another process holds it, nginx is stopped and started again
/// on another port, up to three times.
pub fn nginx_with_config(
    bin: &Path,
    conf: impl Fn(&str) -> String,
) -> Result<Running, LaunchError> {
    on_free_port(bin, "nginx", |port| nginx_on_port(bin, &conf, port))
}

/// Runs `start` on a free loopback port, and again on another one while another process
/// takes the port chosen before the target listens on it, up to three times; `program` and
/// `name` name the target in the error.
fn on_free_port(
    program: &Path,
    name: &str,
    mut start: impl FnMut(u16) -> Result<Started, LaunchError>,
) -> Result<Running, LaunchError> {
    let mut taken = Vec::new();
    for _ in 0..3 {
        match start(free_port()?)? {
            Started::Ready(running) => return Ok(running),
            Started::PortTaken(port) => taken.push(port.to_string()),
        }
    }
    Err(LaunchError::NotReady {
        program: program.display().to_string(),
        why: format!(
            "another process took each free port before {name} could listen on it ({})",
            taken.join(", ")
        ),
    })
}

/// What one start of nginx came to.
enum Started {
    Ready(Running),
    /// Another process listens on the port chosen (nginx was stopped).
    PortTaken(u16),
}

/// Starts nginx with `conf` listening on `port`.
fn nginx_on_port(
    bin: &Path,
    conf: &impl Fn(&str) -> String,
    port: u16,
) -> Result<Started, LaunchError> {
    let dir = std::env::temp_dir().join(format!("corsproof-nginx-{}-{port}", std::process::id()));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LaunchError::Io { path, source }
    };
    std::fs::create_dir_all(dir.join("tmp")).map_err(io(&dir))?;
    let file = dir.join("nginx.conf");
    std::fs::write(&file, conf(&format!("127.0.0.1:{port}"))).map_err(io(&file))?;
    let child = Command::new(bin)
        .arg("-p")
        .arg(&dir)
        .args(["-c", "nginx.conf"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            program: bin.display().to_string(),
            source,
        })?;
    let url =
        Url::parse(&format!("http://127.0.0.1:{port}/")).map_err(|e| LaunchError::NotReady {
            program: "nginx".into(),
            why: e.to_string(),
        })?;
    // From here on, dropping `running` stops nginx and removes its directory.
    let mut running = Running {
        child,
        url,
        dir: Some(dir.clone()),
        name: "nginx".to_string(),
    };
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            match holds_listener(running.pid(), port) {
                // Someone listens and it is not nginx, which is retrying its bind.
                Some(false) => return Ok(Started::PortTaken(port)),
                Some(true) | None => return Ok(Started::Ready(running)),
            }
        }
        if let Ok(Some(status)) = running.child.try_wait() {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            if log.contains("Address already in use") {
                return Ok(Started::PortTaken(port));
            }
            return Err(LaunchError::NotReady {
                program: bin.display().to_string(),
                why: format!("exited with {status}: {}", log.trim()),
            });
        }
        if Instant::now() > deadline {
            return Err(LaunchError::NotReady {
                program: bin.display().to_string(),
                why: format!("not listening on port {port} after {READY_TIMEOUT:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether process `pid` holds a socket listening on TCP port `port`: `Some(false)` when
/// the only listeners on the port are other processes' sockets, `None` where the system
/// cannot say (no `/proc`, as outside Linux, or nothing listening yet). A connection that
/// succeeds proves that something listens, not that it is the process started.
///
/// ```
/// use std::net::TcpListener;
/// use corsproof_targets::launch::holds_listener;
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let port = listener.local_addr()?.port();
/// if cfg!(target_os = "linux") {
///     assert_eq!(holds_listener(std::process::id(), port), Some(true));
///     // pid 1 is not this test (and may not be readable: `None`).
///     assert_ne!(holds_listener(1, port), Some(true));
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn holds_listener(pid: u32, port: u16) -> Option<bool> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        inodes.extend(listening_inodes(&text, port));
    }
    if inodes.is_empty() {
        return None;
    }
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    let held = fds.flatten().any(|fd| {
        std::fs::read_link(fd.path()).is_ok_and(|target| {
            let target = target.to_string_lossy();
            inodes
                .iter()
                .any(|inode| target == format!("socket:[{inode}]"))
        })
    });
    Some(held)
}

/// The inodes of the sockets in LISTEN state (`0A`) on local port `port` in a
/// `/proc/net/tcp` or `tcp6` table (columns: slot, local `ADDR:PORT` in hex, remote, state,
/// queues, timer, retransmits, uid, timeout, inode).
fn listening_inodes(table: &str, port: u16) -> Vec<String> {
    let port = format!("{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols.get(1)?.rsplit(':').next()?;
            (local_port == port && *cols.get(3)? == "0A")
                .then(|| cols.get(9).map(|s| s.to_string()))?
        })
        .collect()
}

/// Starts an emitted application: its files written into a temporary directory, then
/// `program MAIN PORT` run there (MAIN its first file) with `env` added, for a free loopback
/// PORT. The application is ready when the socket listening on the port is its own
/// ([`holds_listener`]) within `ready` (which includes a build step's time, for Go);
/// another process on the port means a new port, up to three times. Its standard error
/// goes to `stderr.log` in the directory, quoted when it does not start.
pub fn app(
    name: &str,
    app: &corsproof_emit::apps::App,
    program: &Path,
    env: &[(&str, &str)],
    ready: Duration,
) -> Result<Running, LaunchError> {
    on_free_port(program, name, |port| {
        app_on_port(name, app, program, env, ready, port)
    })
}

/// Starts the application `app` listening on `port`.
fn app_on_port(
    name: &str,
    app: &corsproof_emit::apps::App,
    program: &Path,
    env: &[(&str, &str)],
    ready: Duration,
    port: u16,
) -> Result<Started, LaunchError> {
    let dir = std::env::temp_dir().join(format!("corsproof-{name}-{}-{port}", std::process::id()));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LaunchError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    for file in &app.files {
        let path = dir.join(file.name);
        std::fs::write(&path, &file.text).map_err(io(&path))?;
    }
    let main = app.files.first().map_or("app", |f| f.name);
    let log_path = dir.join("stderr.log");
    let log = std::fs::File::create(&log_path).map_err(io(&log_path))?;
    let child = Command::new(program)
        .arg(main)
        .arg(port.to_string())
        .current_dir(&dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    let url =
        Url::parse(&format!("http://127.0.0.1:{port}/")).map_err(|e| LaunchError::NotReady {
            program: name.to_string(),
            why: e.to_string(),
        })?;
    let running = Running {
        child,
        url,
        dir: Some(dir),
        name: name.to_string(),
    };
    wait_ready(running, port, &log_path, ready)
}

/// Waits until `running` listens on `port` (its own socket), exits, or [`READY_TIMEOUT`]
/// passes; `log` is quoted when it exits.
fn wait_ready(
    mut running: Running,
    port: u16,
    log: &Path,
    ready: Duration,
) -> Result<Started, LaunchError> {
    let deadline = Instant::now() + ready;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            match holds_listener(running.pid(), port) {
                Some(false) => return Ok(Started::PortTaken(port)),
                Some(true) | None => return Ok(Started::Ready(running)),
            }
        }
        if let Ok(Some(status)) = running.child.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.contains("Address already in use") || text.contains("EADDRINUSE") {
                return Ok(Started::PortTaken(port));
            }
            let tail: Vec<&str> = text.lines().rev().take(8).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(LaunchError::NotReady {
                program: running.name.clone(),
                why: format!("exited with {status}: {}", tail.join("\n")),
            });
        }
        if Instant::now() > deadline {
            return Err(LaunchError::NotReady {
                program: running.name.clone(),
                why: format!("not listening on port {port} after {ready:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `program args…`, which must print a line containing `listening on http://ADDR`
/// on its standard output within [`READY_TIMEOUT`] (`corsproof serve` does).
pub fn process(name: &str, program: &Path, args: &[&str]) -> Result<Running, LaunchError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| LaunchError::Spawn {
            program: program.display().to_string(),
            source,
        })?;
    let not_ready = |why: String| LaunchError::NotReady {
        program: program.display().to_string(),
        why,
    };
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(not_ready("no standard output".into()));
    };
    let stderr = child.stderr.take();
    let (tx, rx) = mpsc::channel();
    // The reader thread ends when the process closes its output (when it is killed).
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(addr) = line.split("listening on ").nth(1) {
                let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let (etx, erx) = mpsc::channel();
    if let Some(stderr) = stderr {
        std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stderr).lines().take(200) {
                let Ok(line) = line else { break };
                lines.push(line);
                let _ = etx.send(lines.join("\n"));
            }
        });
    }
    let running = |child: Child, url: Url| Running {
        child,
        url,
        dir: None,
        name: name.to_string(),
    };
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(addr) => match Url::parse(&addr) {
            Ok(url) => Ok(running(child, url)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(not_ready(format!(
                    "printed an invalid address {addr:?}: {e}"
                )))
            }
        },
        Err(_) => {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            let err = erx.try_iter().last().unwrap_or_default();
            Err(not_ready(format!(
                "no `listening on` line within {READY_TIMEOUT:?} ({status}): {}",
                err.trim()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::listening_inodes;

    #[test]
    fn listening_sockets_are_found_by_port_and_state() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0
";
        // Port 8080 is 1F90: the listener, not the established connection, nor port 8081.
        assert_eq!(listening_inodes(table, 8080), vec!["4242".to_string()]);
        assert!(listening_inodes(table, 80).is_empty());
        assert!(listening_inodes("", 8080).is_empty());
    }
}
