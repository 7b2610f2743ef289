//! Starting a headless browser on the page's URL and stopping it (by its process group, which
//! holds only the processes it started).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::Error;

/// Which browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Browser {
    /// Debian's `chromium`.
    Chromium,
    /// Debian's `firefox-esr`.
    Firefox,
}

impl Browser {
    /// By name: `chromium` or `firefox`.
    pub fn by_name(name: &str) -> Option<Browser> {
        match name {
            "chromium" => Some(Browser::Chromium),
            "firefox" => Some(Browser::Firefox),
            _ => None,
        }
    }

    /// The oracle profile checked against this browser.
    pub fn profile(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
        }
    }

    /// Executables looked for on PATH, in order.
    pub fn candidates(self) -> &'static [&'static str] {
        match self {
            Browser::Chromium => &["chromium", "chromium-browser"],
            Browser::Firefox => &["firefox-esr", "firefox"],
        }
    }

    /// The first candidate found on PATH.
    pub fn find(self) -> Result<PathBuf, Error> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        for c in self.candidates() {
            for dir in std::env::split_paths(&path) {
                let p = dir.join(c);
                if p.is_file() {
                    return Ok(p);
                }
            }
        }
        Err(Error::BrowserMissing {
            browser: self.profile().to_string(),
            candidates: self.candidates().iter().map(|c| c.to_string()).collect(),
        })
    }

    /// The browser's version line (`--version`), for reports.
    pub fn version(self, program: &Path) -> String {
        Command::new(program)
            .arg("--version")
            .stderr(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|e| format!("unknown ({e})"))
    }
}

/// Firefox preferences for a fresh profile: no first-run pages, telemetry, updates, network
/// prefetching or background traffic; loopback not proxied.
pub const FIREFOX_USER_JS: &str = r#"user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.startup.page", 0);
user_pref("startup.homepage_welcome_url", "about:blank");
user_pref("startup.homepage_welcome_url.additional", "");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("toolkit.telemetry.server", "");
user_pref("app.update.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.normandy.enabled", false);
user_pref("app.shield.optoutstudies.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("browser.search.update", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("network.prefetch-next", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.http.speculative-parallel-limit", 0);
user_pref("network.predictor.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("browser.newtabpage.enabled", false);
user_pref("browser.ping-centre.telemetry", false);
user_pref("services.sync.enabled", false);
user_pref("network.proxy.type", 0);
user_pref("network.proxy.allow_hijacking_localhost", false);
user_pref("dom.max_script_run_time", 0);
user_pref("browser.sessionstore.resume_from_crash", false);
"#;

/// A step that prepares a fresh profile directory before the browser starts.
pub type Prepare<'a> = dyn Fn(&Path) -> Result<(), Error> + 'a;

/// What a run adds to a browser's start: more command-line arguments (Chromium), more
/// preferences (Firefox's `user.js`), and a step that prepares the fresh profile directory
/// before the browser starts (a certificate trusted by that profile only).
#[derive(Default)]
pub struct Setup<'a> {
    /// Arguments added before the URL.
    pub args: Vec<String>,
    /// Lines appended to Firefox's `user.js`.
    pub firefox_prefs: String,
    /// Called with the profile directory before the browser starts.
    pub prepare: Option<&'a Prepare<'a>>,
}

/// A running browser; stopped (its process group) when dropped.
pub struct Running {
    child: Child,
    /// Its profile / user-data directory (removed when dropped).
    pub dir: PathBuf,
}

impl Running {
    /// Starts `program` headless on `url` with a fresh profile under a new temporary directory.
    pub fn start(browser: Browser, program: &Path, url: &str) -> Result<Running, Error> {
        Running::start_with(browser, program, url, &Setup::default())
    }

    /// [`Running::start`] with a run's own arguments, preferences and profile preparation.
    pub fn start_with(
        browser: Browser,
        program: &Path,
        url: &str,
        setup: &Setup<'_>,
    ) -> Result<Running, Error> {
        // One directory per start: several runs may share a process (tests).
        static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "corsproof-browser-{}-{n}-{}",
            std::process::id(),
            browser.profile()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let log = std::fs::File::create(dir.join("browser.log")).map_err(|source| Error::Io {
            path: dir.join("browser.log"),
            source,
        })?;
        let log2 = log.try_clone().map_err(|source| Error::Io {
            path: dir.join("browser.log"),
            source,
        })?;
        let profile = dir.join("profile");
        std::fs::create_dir_all(&profile).map_err(|source| Error::Io {
            path: profile.clone(),
            source,
        })?;
        let mut cmd = Command::new(program);
        match browser {
            Browser::Chromium => {
                cmd.args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-default-apps",
                    "--disable-extensions",
                    "--no-default-browser-check",
                    "--disable-dev-shm-usage",
                ])
                .arg(format!("--user-data-dir={}", profile.display()))
                .args(&setup.args)
                .arg(url);
            }
            Browser::Firefox => {
                let user_js = profile.join("user.js");
                let prefs = format!("{FIREFOX_USER_JS}{}", setup.firefox_prefs);
                std::fs::write(&user_js, prefs).map_err(|source| Error::Io {
                    path: user_js,
                    source,
                })?;
                cmd.args(["--headless", "--no-remote", "--profile"])
                    .arg(&profile)
                    .arg(url);
                cmd.env("MOZ_DISABLE_AUTO_SAFE_MODE", "1");
            }
        }
        if let Some(prepare) = setup.prepare {
            prepare(&profile)?;
        }
        cmd.stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(0);
        let child = cmd.spawn().map_err(|source| Error::Launch {
            program: program.display().to_string(),
            source,
        })?;
        Ok(Running { child, dir })
    }

    /// The browser's pid (its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has exited (with its status).
    pub fn exited(&mut self) -> Option<String> {
        self.child.try_wait().ok().flatten().map(|s| s.to_string())
    }

    /// The tail of the browser's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("browser.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    fn signal_group(&self, sig: &str) {
        // The group was created for this browser (process_group(0)): it holds only processes
        // this run started.
        let _ = Command::new("kill")
            .args([sig, "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal_group("-KILL");
        let _ = self.child.wait();
        // Give the group's children a moment to go before the profile is removed.
        std::thread::sleep(Duration::from_millis(200));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
