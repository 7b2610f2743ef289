//! The live targets' driver: a real server started once per fuzzing process, each input's
//! browser case played on it by the engine exactly as `corsproof check` plays a case
//! ([`corsproof_engine::check::live`]), the findings turned into a crash, and the target's
//! behaviour fed to libFuzzer as extra coverage counters.
//!
//! Which server (`CORSPROOF_LIVE_TARGET`):
//!
//! - `nginx` (default): nginx with `corsproof emit nginx`'s configuration of the policy,
//!   started by `corsproof_targets::launch::nginx` (the binary on `PATH` or in `/usr/sbin`,
//!   or `CORSPROOF_NGINX`);
//! - `serve`: `corsproof serve` (our middleware), the binary named by `CORSPROOF_BIN`;
//! - `nginx+serve`: both, the second as the differential's other target (every case is also
//!   played on `corsproof serve` and the browser outcomes compared);
//! - `nginx-planted`: nginx with the emitted configuration made too loose on purpose
//!   ([`plant`]): it reflects any subdomain of `example.com`. The fuzzer must find it.
//!
//! The policy is `corpus/policies/mixed-routes.toml` (built in), or the file named by
//! `CORSPROOF_LIVE_POLICY`. `CORSPROOF_LIVE_FEEDBACK=0` leaves the behaviour counters alone
//! (for measuring what they bring); `CORSPROOF_LIVE_CASE=FILE` writes the case of a failing
//! input to FILE as a `check --replay` case file before the crash.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use corsproof_case::RequestJson;
use corsproof_engine::check::live::{Live, LiveOutcome};
use corsproof_engine::generate::Generator;
use corsproof_oracle::{Origin, Profile, RequestInit};
use corsproof_policy::Policy;
use corsproof_report::{Finding, Severity};
use corsproof_targets::launch::{self, Running};
use url::Url;

/// The built-in policy of the live targets.
pub const POLICY: &str = include_str!("../../corpus/policies/mixed-routes.toml");

/// Its file name, as reports and case files name it.
pub const POLICY_NAME: &str = "mixed-routes.toml";

/// The behaviour counters: one per fingerprint bucket.
const BEHAVIOURS: usize = 4096;

/// Extra coverage counters: libFuzzer reads every byte of the `__libfuzzer_extra_counters`
/// section after each execution, as it reads the edge counters, and keeps an input that
/// sets a byte no earlier input set.
#[used]
#[link_section = "__libfuzzer_extra_counters"]
static COUNTERS: [AtomicU8; BEHAVIOURS] = [const { AtomicU8::new(0) }; BEHAVIOURS];

/// Executions in a row without a usable answer after which the target is taken for dead.
const DEAD_AFTER: u32 = 3;

/// The words of the panic when the target stopped answering: not a finding, and `cargo
/// xtask fuzz live` keeps no input for it.
pub const STOPPED: &str = "corsproof-live: the target stopped answering";

/// Which server the live target plays its cases on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// nginx with the emitted configuration.
    Nginx,
    /// `corsproof serve`.
    Serve,
    /// nginx with the planted defect ([`plant`]).
    NginxPlanted,
    /// nginx, and `corsproof serve` as the second target of the differential.
    NginxAndServe,
}

impl Server {
    /// The server `CORSPROOF_LIVE_TARGET` names (default nginx).
    pub fn from_env() -> Server {
        match std::env::var("CORSPROOF_LIVE_TARGET").as_deref() {
            Ok("serve") => Server::Serve,
            Ok("nginx-planted") => Server::NginxPlanted,
            Ok("nginx+serve") => Server::NginxAndServe,
            Ok("nginx") | Err(_) => Server::Nginx,
            Ok(other) => {
                panic!("CORSPROOF_LIVE_TARGET={other:?}: expected nginx, serve, nginx+serve or nginx-planted")
            }
        }
    }
}

/// The pools the inputs pick from, built from the policy and the running target's URL by
/// the engine's generator (the pools `check` draws its cases from).
pub struct Pools {
    /// The generator's origins: allowed ones, one-change mutations, strangers, `null`.
    pub origins: Vec<Origin>,
    /// URLs of the generator's paths on the target.
    pub urls: Vec<Url>,
    /// The hosts of the policy's origin entries and every parent domain of theirs
    /// (`app.example.com`, `example.com`, `com`), for origins put together from labels.
    pub suffixes: Vec<String>,
    /// The methods the policy lists.
    pub methods: Vec<String>,
    /// The request headers the policy lists.
    pub headers: Vec<String>,
    /// The profiles, by index.
    pub profiles: usize,
}

impl Pools {
    fn new(policy: &Policy, base: &Url) -> Pools {
        let generator = Generator::new(policy, base);
        let mut suffixes = Vec::new();
        let mut methods = Vec::new();
        let mut headers = Vec::new();
        for route in &policy.routes {
            if let corsproof_policy::Origins::List(entries) = &route.origins {
                for entry in entries {
                    let host = match entry {
                        corsproof_policy::OriginEntry::Exact { host, .. } => host.clone(),
                        corsproof_policy::OriginEntry::Subdomain { domain, .. } => domain.clone(),
                        _ => continue,
                    };
                    let mut rest = host.as_str();
                    loop {
                        suffixes.push(rest.to_string());
                        match rest.split_once('.') {
                            Some((_, parent)) => rest = parent,
                            None => break,
                        }
                    }
                }
            }
            methods.extend(route.methods.iter().cloned());
            if let corsproof_policy::HeaderNames::List(names) = &route.request_headers {
                headers.extend(names.iter().cloned());
            }
        }
        for list in [&mut suffixes, &mut methods, &mut headers] {
            list.sort();
            list.dedup();
        }
        Pools {
            origins: generator.origins().to_vec(),
            urls: generator.paths().iter().map(|p| generator.url(p)).collect(),
            suffixes,
            methods,
            headers,
            profiles: PROFILES.len(),
        }
    }
}

/// The profiles, by index.
const PROFILES: [fn() -> Profile; 3] = [Profile::fetch, Profile::chromium, Profile::firefox];

/// What a live process holds: the server, the engine's live run on it, the pools and the
/// behaviours seen so far.
pub struct Driver {
    /// Kept to stop the servers when the process ends ([`shut_down`]).
    processes: Vec<Running>,
    runtime: tokio::runtime::Runtime,
    live: Live,
    pub pools: Pools,
    seen: HashSet<u64>,
    feedback: bool,
    /// Executions in a row that got no usable answer.
    dead: u32,
    server: Server,
    target: Url,
}

/// The process's driver, made by the first execution.
static DRIVER: Mutex<Option<Driver>> = Mutex::new(None);

/// The policy of the live targets.
pub fn policy() -> Policy {
    match std::env::var_os("CORSPROOF_LIVE_POLICY") {
        Some(path) => Policy::from_path(&path)
            .unwrap_or_else(|e| panic!("CORSPROOF_LIVE_POLICY {path:?}: {e}")),
        None => Policy::from_toml_str(POLICY, POLICY_NAME).expect("the built-in policy parses"),
    }
}

/// The planted defect: the emitted configuration's regex of the exact entry
/// `https://app.example.com` replaced by one that reflects every subdomain of `example.com`
/// (a suffix match that forgot what it was meant to pin down).
pub fn plant(conf: &str) -> String {
    const EXACT: &str = r"^https\:\/\/app\.example\.com$";
    const LOOSE: &str = r"^https\:\/\/.*\.example\.com$";
    assert!(
        conf.contains(EXACT),
        "the emitted configuration no longer has the regex the defect is planted in"
    );
    conf.replace(EXACT, LOOSE)
}

/// The nginx that `fuzz/oss-fuzz/build.sh` copies next to the fuzz targets (for OSS-Fuzz's
/// and ClusterFuzzLite's runner images, which have no nginx), with the libraries it copies
/// beside it in `nginx-lib/` on the children's `LD_LIBRARY_PATH`.
fn nginx_beside_binary() -> Option<PathBuf> {
    let dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let bin = dir.join("nginx");
    if !bin.is_file() {
        return None;
    }
    let libs = dir.join("nginx-lib");
    if libs.is_dir() {
        // Before any thread of ours starts: the first execution makes the driver.
        std::env::set_var("LD_LIBRARY_PATH", libs);
    }
    Some(bin)
}

/// Starts the server of `server` for `policy`.
fn start(server: Server, policy: &Policy) -> Running {
    let nginx = || {
        std::env::var_os("CORSPROOF_NGINX")
            .map(PathBuf::from)
            .or_else(nginx_beside_binary)
            .or_else(launch::find_nginx)
            .expect("no nginx binary (install nginx, or set CORSPROOF_NGINX)")
    };
    let started = match server {
        Server::Nginx | Server::NginxAndServe => launch::nginx(&nginx(), policy),
        Server::NginxPlanted => {
            let conf = corsproof_emit::nginx(policy, &corsproof_emit::Upstream::demo())
                .expect("the policy is one nginx can serve");
            launch::nginx_with_config(&nginx(), |listen| plant(&conf.standalone(listen)))
        }
        Server::Serve => {
            let bin = std::env::var_os("CORSPROOF_BIN")
                .expect("CORSPROOF_BIN must name the corsproof binary for the serve target");
            let file = std::env::temp_dir().join(format!(
                "corsproof-live-{}-{POLICY_NAME}",
                std::process::id()
            ));
            let text = policy.to_toml_string();
            std::fs::write(&file, text).expect("the policy file for corsproof serve");
            let name = file.display().to_string();
            let started = launch::process(
                "serve",
                std::path::Path::new(&bin),
                &["serve", "--policy", &name, "--listen", "127.0.0.1:0"],
            );
            // Read when the server started: listening means it has the policy.
            let _ = std::fs::remove_file(&file);
            started
        }
    };
    started.unwrap_or_else(|e| panic!("cannot start the {server:?} target: {e}"))
}

impl Driver {
    fn new() -> Driver {
        let server = Server::from_env();
        let policy = policy();
        let processes = match server {
            Server::NginxAndServe => {
                vec![start(Server::Nginx, &policy), start(Server::Serve, &policy)]
            }
            one => vec![start(one, &policy)],
        };
        let target = processes[0].url().clone();
        let against = processes.get(1).map(|r| r.url().clone());
        let profiles: Vec<Profile> = PROFILES.iter().map(|p| p()).collect();
        let live = Live::new(&policy, &target, against.as_ref(), &profiles)
            .unwrap_or_else(|e| panic!("the target {target}: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let feedback = std::env::var("CORSPROOF_LIVE_FEEDBACK").as_deref() != Ok("0");
        let at: Vec<String> = processes
            .iter()
            .map(|r| format!("{} at {} (pid {})", r.name(), r.url(), r.pid()))
            .collect();
        eprintln!(
            "corsproof-live: {server:?}: {}, policy {POLICY_NAME}, behaviour feedback {}",
            at.join(" and "),
            if feedback { "on" } else { "off" }
        );
        Driver {
            pools: Pools::new(&policy, &target),
            processes,
            runtime,
            live,
            seen: HashSet::new(),
            feedback,
            dead: 0,
            server,
            target,
        }
    }

    /// Plays `case` under profile `profile` and checks the outcome.
    fn execute(&mut self, case: &RequestInit, profile: usize) {
        let outcome = self.runtime.block_on(self.live.play(case, profile));
        if outcome.target_errors > 0 {
            self.dead += 1;
            assert!(self.dead < DEAD_AFTER, "{STOPPED} ({:?})", self.server);
            return;
        }
        self.dead = 0;
        if self.feedback {
            let bucket = (outcome.behaviour % BEHAVIOURS as u64) as usize;
            COUNTERS[bucket].store(1, Ordering::Relaxed);
        }
        if self.seen.insert(outcome.behaviour) {
            eprintln!("corsproof-live: behaviours {}", self.seen.len());
        }
        self.judge(case, profile, &outcome);
    }

    /// Fails on a violation or a breakage (hygiene findings are behaviours, not failures),
    /// after writing the case file `CORSPROOF_LIVE_CASE` names.
    fn judge(&self, case: &RequestInit, profile: usize, outcome: &LiveOutcome) {
        let failing: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Hygiene)
            .collect();
        let Some(first) = failing.first() else {
            return;
        };
        let profile = PROFILES[profile % PROFILES.len()]();
        if let Ok(file) = std::env::var("CORSPROOF_LIVE_CASE") {
            let case_file = serde_json::json!({
                "corsproof_case": 1,
                "kind": first.kind,
                "route": first.route,
                "profiles": [profile.id],
                "target": self.target.as_str(),
                "policy": POLICY_NAME,
                "seed": 0,
                "request": RequestJson::from_init(case),
            });
            let text = serde_json::to_string_pretty(&case_file).expect("JSON");
            std::fs::write(&file, text + "\n").expect("the case file");
        }
        panic!(
            "corsproof-live: {:?} under {}: {} finding(s), first {} ({}): {}\ncase: {}",
            self.server,
            profile.name(),
            failing.len(),
            first.kind,
            first.severity.as_str(),
            first.explanation,
            serde_json::to_string(&RequestJson::from_init(case)).unwrap_or_default()
        );
    }
}

/// Runs `f` with the process's driver, starting the server on first use.
pub fn with_driver<T>(f: impl FnOnce(&mut Driver) -> T) -> T {
    let mut guard = DRIVER.lock().unwrap_or_else(PoisonError::into_inner);
    if guard.is_none() {
        let driver = Driver::new();
        on_exit_stop_server(&driver.processes);
        *guard = Some(driver);
    }
    f(guard.as_mut().expect("the driver was just made"))
}

/// Plays `case` under profile number `profile` on the process's server.
pub fn execute(case: &RequestInit, profile: usize) {
    with_driver(|d| d.execute(case, profile));
}

/// Stops the server: the driver is dropped (its `Running` kills the process it started).
fn shut_down() {
    if let Ok(mut guard) = DRIVER.try_lock() {
        guard.take();
    }
}

extern "C" fn shut_down_at_exit() {
    shut_down();
}

extern "C" {
    fn atexit(f: extern "C" fn()) -> i32;
}

/// The servers' pids and directories, for the panic hook, which runs while the execution
/// that panicked holds the driver.
static SERVERS: OnceLock<Vec<(u32, Option<PathBuf>)>> = OnceLock::new();

/// libFuzzer ends a campaign with `exit`, and a crash with an abort from libfuzzer-sys's
/// panic hook: the server is stopped in both cases, by an `atexit` handler and by a panic
/// hook that runs before libfuzzer-sys's.
fn on_exit_stop_server(processes: &[Running]) {
    let _ = SERVERS.set(
        processes
            .iter()
            .map(|r| (r.pid(), r.dir().map(PathBuf::from)))
            .collect(),
    );
    // SAFETY: `atexit` is the C library's; it registers a function without arguments that
    // touches nothing but this module's statics, called once at exit.
    unsafe {
        atexit(shut_down_at_exit);
    }
    let next = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        for (pid, dir) in SERVERS.get().into_iter().flatten() {
            // Our own children, by their pids.
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            if let Some(dir) = dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        next(info);
    }));
}
