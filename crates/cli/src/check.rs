//! `corsproof check URL --policy FILE` and `corsproof run TARGET --policy FILE`: generated
//! browser requests against a running server (or one `run` starts), judged by the oracle
//! against the policy; reports in text, JSON, JUnit XML or SARIF; exit 0 conforms, 1
//! findings, 2 usage or policy error, 3 no verdict: the target is unreachable, stopped
//! answering, or more requests got no usable answer than `--max-errors` allows.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use corsproof_case::RequestJson;
use corsproof_emit::{self as emit, EmitError, KongOptions};
use corsproof_engine::check::{self, CheckConfig, CheckError};
use corsproof_oracle::profile::ProfileId;
use corsproof_oracle::Profile;
use corsproof_policy::{parse_path, Policy};
use corsproof_report as report;
use corsproof_report::{CheckKind, ErrorBudget, Kind, Report};
use corsproof_targets::container::{self, ContainerError};
use corsproof_targets::launch::LaunchError;
use corsproof_targets::registry::Target;

/// Report formats of `check`, `run` and `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// For people (colour on a terminal unless NO_COLOR is set).
    Text,
    /// The JSON report of docs/cli.md.
    Json,
    /// JUnit XML, one test case per finding kind.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
}

/// Flags shared by `check` and `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    /// The policy (TOML or JSON).
    #[arg(long)]
    pub policy: PathBuf,
    /// Generated browser requests, on top of the deterministic baseline (every route × origin
    /// class × method class × header class × credentials mode).
    #[arg(long, default_value_t = 50)]
    pub cases: usize,
    /// Seed of the generated requests (a report names it; the same seed replays the run).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Judge under this browser profile only (default: fetch, chromium and firefox).
    #[arg(long, value_parser = ["fetch", "chromium", "firefox"])]
    pub browser: Option<String>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// After the run, replay each finding in real headless browsers against the target, from
    /// the finding's own origin (a comma list: chromium,firefox), and record whether each
    /// browser confirms it; a finding a browser contradicts is a defect of corsproof (exit 4).
    #[arg(long, value_name = "BROWSERS", value_parser = crate::confirm::parse)]
    pub confirm: Option<crate::confirm::Browsers>,
    /// The most connections used at once: a run starts on a few and opens more while the
    /// target's throughput rises.
    #[arg(long, alias = "concurrency", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub connections: u64,
    /// A request budget: cases start only while the requests sent (and what the cases under
    /// way may still send) stay within N; the others are skipped and counted in the report,
    /// baseline first, generated cases last.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: Option<u64>,
    /// Waive findings of this kind (repeatable).
    #[arg(long = "allow", value_name = "KIND", value_parser = crate::kind_parser::<CheckKind>("a check"))]
    pub allow: Vec<CheckKind>,
    /// Report only the findings this saved JSON report (an earlier `--format json` run) does
    /// not have, matched by kind, route and the request's essentials; say how many of its
    /// findings went away. Without --seed, the run uses the saved report's seed.
    #[arg(long, value_name = "REPORT")]
    pub baseline: Option<PathBuf>,
    /// Replay the cases of this file (written by an earlier run) instead of generating.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Where to write each finding's minimized case as replayable JSON.
    #[arg(long, default_value = "corsproof-cases")]
    pub save_cases: PathBuf,
    /// Do not write replayable cases.
    #[arg(long)]
    pub no_save: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// For https:// targets, also trust the CA certificates of this PEM file (a private CA or
    /// a self-signed certificate; Mozilla's roots are always trusted).
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// No plan and no progress line on standard error, and no "checked" section in the text
    /// report.
    #[arg(long)]
    pub quiet: bool,
    /// A second server implementing the same policy (http://HOST:PORT): every request is
    /// also played there and the browser outcomes compared (`differential` findings).
    #[arg(long, value_name = "URL")]
    pub against: Option<String>,
    /// Requests that may get no usable answer (a timeout, a closed or reset connection, a
    /// malformed response, a 429 that persists after the retries) before the run gives no
    /// verdict and exits 3: a count (5) or a percentage of the requests tried (0.5%). Such
    /// requests are target errors, listed in the report, never findings.
    #[arg(long, value_name = "N|P%", default_value = "1%")]
    pub max_errors: ErrorBudget,
    /// At most N requests per second over all connections (retries included): for targets
    /// behind a rate limiter or a WAF.
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// Send each browser profile's requests as that browser writes them, even where they
    /// differ from another profile's only in the browser's own lines (User-Agent, client
    /// hints, Connection, default Accept-Language and Accept-Encoding, Priority): for a target
    /// that answers browsers differently. About three times the requests.
    #[arg(long)]
    pub per_browser: bool,
    #[command(flatten)]
    pub retry: crate::retry::RetryFlags,
}

/// Starts a container target; `Err(exit code)` after printing why it could not start (2: the
/// policy cannot be expressed; 3: Docker, the image or the container failed).
fn start_container(
    target: &container::ContainerTarget,
    quiet: bool,
) -> Result<container::RunningContainer, u8> {
    let started = Instant::now();
    if !quiet {
        eprintln!(
            "corsproof: starting {} from image {} (container port {})",
            target.name, target.image, target.port
        );
    }
    match container::start(target) {
        Ok(r) => {
            if !quiet {
                eprintln!(
                    "corsproof: {} started (container {}) at {} in {:.1} s",
                    r.name(),
                    &r.id()[..r.id().len().min(12)],
                    r.url(),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(r)
        }
        Err(e @ ContainerError::Unsupported(_)) => {
            eprintln!("corsproof: {e}");
            Err(2)
        }
        Err(e) => {
            eprintln!("corsproof: {e}");
            Err(3)
        }
    }
}

/// On SIGINT or SIGTERM while a run is under way: removes the containers `ids` and then the
/// network `network`, and exits 130 (the handles' drops never run when the process is ended by
/// a signal).
fn remove_on_signal(ids: Vec<String>, network: Option<String>) {
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        let signalled = runtime.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return false;
            };
            tokio::select! {
                _ = int.recv() => true,
                _ = term.recv() => true,
            }
        });
        if signalled {
            for id in &ids {
                container::remove(id);
            }
            if let Some(n) = &network {
                container::remove_network(n);
            }
            eprintln!("corsproof: interrupted; container(s) removed");
            std::process::exit(130);
        }
    });
}

/// `corsproof check --container IMAGE --port P`: the user's own image, as it is.
pub fn check_container(image: &str, port: u16, flags: &Flags) -> anyhow::Result<u8> {
    let Some(policy) = load_policy(&flags.policy) else {
        return Ok(2);
    };
    let running = match start_container(&container::custom(image, port), flags.quiet) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    remove_on_signal(vec![running.id().to_string()], None);
    let code = execute(&policy, running.url(), flags);
    drop(running);
    code
}

/// `corsproof run kong`: the emitted declarative configuration (what Kong cannot express is
/// printed; a translation that would grant more than the policy is refused, exit 2), Kong and
/// its upstream on a network of their own, checked through Kong's published proxy port.
fn run_kong(policy: &Policy, flags: &Flags) -> anyhow::Result<u8> {
    let options = KongOptions::default();
    let conf = match emit::kong(policy, &options) {
        Ok(conf) => conf,
        Err(EmitError::Broader(items)) => {
            for u in &items {
                eprintln!("corsproof run kong: unsupported: {u}");
            }
            eprintln!(
                "corsproof run kong: refused: Kong would grant more than {} allows",
                flags.policy.display()
            );
            return Ok(2);
        }
        Err(e) => {
            eprintln!("corsproof run kong: Kong cannot implement this policy: {e}");
            return Ok(2);
        }
    };
    for u in &conf.unsupported {
        eprintln!("corsproof run kong: unsupported: {u}");
    }
    let alias = url::Url::parse(&options.upstream)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .context("the Kong upstream URL has no host")?;
    let started = Instant::now();
    if !flags.quiet {
        eprintln!(
            "corsproof: starting Kong from image {} with its upstream ({})",
            container::image_from_env(container::KONG_IMAGE_VAR, container::KONG_DEFAULT_IMAGE),
            options.upstream
        );
    }
    let stack = match container::start_kong(&conf.yaml, &alias, container::KONG_UPSTREAM_POLICY) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("corsproof run kong: {e}");
            return Ok(3);
        }
    };
    remove_on_signal(
        vec![
            stack.kong().id().to_string(),
            stack.upstream().id().to_string(),
        ],
        Some(stack.network().name().to_string()),
    );
    if !flags.quiet {
        eprintln!(
            "corsproof: kong started (container {}) at {} in {:.1} s",
            &stack.kong().id()[..stack.kong().id().len().min(12)],
            stack.url(),
            started.elapsed().as_secs_f64()
        );
    }
    let code = execute(policy, stack.url(), flags);
    drop(stack);
    code
}

/// `corsproof run TARGET --container`.
fn run_container(
    target: Target,
    policy: &Policy,
    allow_broader: bool,
    flags: &Flags,
) -> anyhow::Result<u8> {
    let description = match target {
        Target::Tower => {
            let text = std::fs::read_to_string(&flags.policy)
                .with_context(|| format!("cannot read {}", flags.policy.display()))?;
            let json = flags
                .policy
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            container::serve(if json { "policy.json" } else { "policy.toml" }, &text)
        }
        Target::Nginx => match container::nginx(policy) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("corsproof run: the target cannot implement this policy: {e}");
                return Ok(2);
            }
        },
        Target::Kong => return run_kong(policy, flags),
        other => {
            let port = corsproof_targets::launch::free_port()?;
            match other.container(policy, allow_broader, port) {
                Some(Ok(d)) => d,
                Some(Err(e)) => {
                    eprintln!("corsproof run: the target cannot implement this policy: {e}");
                    return Ok(2);
                }
                None => {
                    eprintln!(
                        "corsproof run: {} has no container description",
                        other.name()
                    );
                    return Ok(2);
                }
            }
        }
    };
    let running = match start_container(&description, flags.quiet) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    remove_on_signal(vec![running.id().to_string()], None);
    let code = execute(policy, running.url(), flags);
    drop(running);
    code
}

/// A replayable case file: the target, the policy and the minimized browser request.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CaseFile {
    /// `corsproof check --replay` reads this.
    corsproof_case: u32,
    kind: Kind,
    route: Option<String>,
    profiles: Vec<ProfileId>,
    target: String,
    policy: Option<String>,
    seed: u64,
    request: RequestJson,
}

/// `corsproof check`.
pub fn check(url: &str, flags: &Flags) -> anyhow::Result<u8> {
    let Some(policy) = load_policy(&flags.policy) else {
        return Ok(2);
    };
    let base = match url::Url::parse(url) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("corsproof check: invalid target URL {url:?}: {e}");
            return Ok(2);
        }
    };
    execute(&policy, &base, flags)
}

/// `corsproof run` (`container`: as a Docker container; `allow_broader`: start an emitted
/// application whose library grants more than the policy).
pub fn run(
    target: Target,
    container: bool,
    allow_broader: bool,
    flags: &Flags,
) -> anyhow::Result<u8> {
    let Some(policy) = load_policy(&flags.policy) else {
        return Ok(2);
    };
    if container || target == Target::Kong {
        return run_container(target, &policy, allow_broader, flags);
    }
    if let Err(missing) = target.version() {
        eprintln!("corsproof run {}: {missing}", target.name());
        return Ok(3);
    }
    if let Ok(items) = target.unsupported(&policy) {
        for u in &items {
            eprintln!("corsproof run {}: unsupported: {u}", target.name());
        }
    }
    let started = Instant::now();
    let exe = std::env::current_exe().context("cannot find the corsproof binary")?;
    let running = match target.launch(&policy, &flags.policy, &exe, allow_broader) {
        Ok(r) => r,
        Err(LaunchError::Unsupported(EmitError::Broader(_))) => {
            eprintln!(
                "corsproof run {}: refused: {} would grant more than {} allows (--allow-broader runs it anyway)",
                target.name(),
                target.library(),
                flags.policy.display()
            );
            return Ok(2);
        }
        Err(e @ LaunchError::Unsupported(_)) => {
            eprintln!("corsproof run: {e}");
            return Ok(2);
        }
        Err(e) => {
            eprintln!("corsproof run: {e}");
            return Ok(3);
        }
    };
    if !flags.quiet {
        eprintln!(
            "corsproof run: {} started (pid {}) at {} in {:.1} s",
            running.name(),
            running.pid(),
            running.url(),
            started.elapsed().as_secs_f64()
        );
    }
    let code = execute(&policy, running.url(), flags);
    drop(running);
    code
}

fn load_policy(path: &Path) -> Option<Policy> {
    match parse_path(path) {
        Ok(parsed) => Some(parsed.policy),
        Err(e) => {
            eprintln!("corsproof: {e}");
            None
        }
    }
}

/// One check of `base`: the configuration from the flags, the run, the report written, the
/// exit code.
fn execute(policy: &Policy, base: &url::Url, flags: &Flags) -> anyhow::Result<u8> {
    let replayed = flags.replay.as_deref().map(read_cases).transpose()?;
    let baseline = match flags.baseline.as_deref().map(read_baseline).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("corsproof check: {e:#}");
            return Ok(2);
        }
    };
    let saved_seed = replayed.as_ref().and_then(|r| r.seed);
    let seed = seed(flags, saved_seed, baseline.as_ref().map(|b| b.seed));
    let Some(config) = config(base, flags, seed)? else {
        return Ok(2);
    };
    if let Some(browsers) = &flags.confirm {
        if let Err(e) = crate::confirm::available(browsers) {
            eprintln!("corsproof check: {e:#}");
            return Ok(2);
        }
    }
    let policy_name = flags.policy.display().to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = match &replayed {
        Some(replayed) => runtime.block_on(check::replay_json(
            policy,
            &policy_name,
            base,
            &replayed.requests,
            &config,
        )),
        None => runtime.block_on(check::check(policy, &policy_name, base, &config)),
    };
    // A run that stopped early still has a report: the target errors say why.
    let (mut report, stopped) = match result.map_err(CheckError::into_partial_report) {
        Ok(r) => (r, None),
        Err(Ok((r, why))) => (r, Some(why)),
        Err(Err(e)) => {
            eprintln!("corsproof check: {e}");
            return Ok(exit_code(&e));
        }
    };
    let waived = report.findings.len();
    report
        .findings
        .retain(|f| !flags.allow.iter().any(|k| f.kind == *k));
    let waived = waived - report.findings.len();
    let drift = baseline
        .as_ref()
        .map(|b| corsproof_report::baseline::drift(&mut report, b));
    let contradicted = match &flags.confirm {
        Some(browsers) if stopped.is_none() => {
            let timeout = Duration::from_secs(flags.timeout.max(1));
            crate::confirm::run(&mut report, browsers, timeout, flags.quiet)?
        }
        _ => false,
    };
    if !flags.no_save && !report.findings.is_empty() && flags.replay.is_none() {
        save_cases(&report, &flags.save_cases)?;
    }
    crate::emit(&render(&report, flags), flags.output.as_ref())?;
    if waived > 0 && !flags.quiet {
        eprintln!("corsproof check: {waived} finding(s) waived with --allow");
    }
    if let (Some(d), Some(path)) = (drift, &flags.baseline) {
        eprintln!(
            "corsproof check: against the baseline {}: {} new finding(s), {} known left out, {} gone",
            path.display(),
            report.findings.len(),
            d.known,
            d.gone
        );
    }
    if let Some(why) = no_verdict(&report, flags.max_errors, stopped) {
        eprintln!("corsproof check: {why}");
        eprint!("{}", first_errors(&report));
        return Ok(3);
    }
    if contradicted {
        return Ok(crate::confirm::CONTRADICTED);
    }
    Ok(u8::from(!report.findings.is_empty()))
}

/// A saved JSON report, for `--baseline`.
fn read_baseline(path: &Path) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the baseline {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "the baseline {} is not a corsproof JSON report",
            path.display()
        )
    })
}

/// The run's seed: the one saved with the cases replayed (the run they came from), else
/// `--seed`, else the baseline's, else one drawn from the clock.
fn seed(flags: &Flags, saved: Option<u64>, baseline: Option<u64>) -> u64 {
    if let (Some(saved), Some(given)) = (saved, flags.seed) {
        if saved != given && !flags.quiet {
            eprintln!("corsproof check: --seed {given} ignored: the cases replayed were saved with seed {saved}");
        }
    }
    saved.or(flags.seed).or(baseline).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() ^ u64::from(d.subsec_nanos()))
    })
}

/// The engine's configuration from the flags; `None` (exit 2) when a flag is invalid, with
/// the reason on standard error.
fn config(base: &url::Url, flags: &Flags, seed: u64) -> anyhow::Result<Option<CheckConfig>> {
    let profiles = match &flags.browser {
        Some(name) => vec![Profile::by_name(name).context("unknown browser profile")?],
        None => vec![Profile::fetch(), Profile::chromium(), Profile::firefox()],
    };
    let against = match flags.against.as_deref().map(url::Url::parse) {
        None => None,
        Some(Ok(u)) => Some(u),
        Some(Err(e)) => {
            eprintln!("corsproof check: invalid --against URL: {e}");
            return Ok(None);
        }
    };
    if let Some(file) = &flags.cacert {
        let https = |u: &url::Url| u.scheme() == "https";
        if !https(base) && !against.as_ref().is_some_and(https) {
            eprintln!(
                "corsproof check: --cacert {} has no effect: no https:// target ({base})",
                file.display()
            );
        }
    }
    let on_plan: Option<check::OnPlan> = (!flags.quiet).then(|| {
        Arc::new(|plan: &check::Plan| eprintln!("corsproof check: {}", plan_line(plan)))
            as check::OnPlan
    });
    Ok(Some(CheckConfig {
        against,
        on_plan,
        max_requests: flags.max_requests,
        rate: flags.rate,
        cases: flags.cases,
        seed,
        profiles,
        concurrency: flags.connections as usize,
        timeout: Duration::from_secs(flags.timeout.max(1)),
        progress: (!flags.quiet).then(|| progress(std::io::stderr().is_terminal())),
        tls: crate::audit::trust(flags.cacert.as_deref())?,
        retry: flags.retry.policy(),
        sharing: if flags.per_browser {
            check::Sharing::Identical
        } else {
            check::Sharing::Browsers
        },
        ..CheckConfig::default()
    }))
}

/// The report in the format asked for.
fn render(report: &Report, flags: &Flags) -> String {
    match flags.format {
        ReportFormat::Json => report::json(report),
        ReportFormat::Junit => report::junit(report),
        ReportFormat::Sarif => {
            // Results point at their route's line in the policy file.
            let parsed = parse_path(&flags.policy).ok();
            report::sarif_with_lines(report, |route| {
                let parsed = parsed.as_ref()?;
                let index = parsed
                    .policy
                    .routes
                    .iter()
                    .position(|r| r.name.as_deref() == Some(route) || r.path == route)?;
                parsed.route_lines.get(index).copied().flatten()
            })
        }
        ReportFormat::Text => {
            let style = if flags.output.is_some() {
                report::Style { colour: false }
            } else {
                report::Style::detect()
            };
            if flags.quiet {
                // The summary line, the findings and the verdict; not what was checked.
                let quiet = Report {
                    coverage: report::Coverage::default(),
                    ..report.clone()
                };
                report::text(&quiet, style)
            } else {
                report::text(report, style)
            }
        }
    }
}

/// A `--rate`: a positive number of requests per second.
fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1e6 => Ok(r),
        _ => Err(format!(
            "{text:?} is not a rate in requests per second (0 < N <= 1000000)"
        )),
    }
}

/// The plan, for standard error: cases and requests.
fn plan_line(plan: &check::Plan) -> String {
    let requests = if plan.fewest_requests == plan.most_requests {
        format!("{} requests", plan.most_requests)
    } else {
        format!(
            "{} to {} requests",
            plan.fewest_requests, plan.most_requests
        )
    };
    format!(
        "plan: {} cases, {requests} (identical requests sent once; the actual requests depend on the answers)",
        plan.cases
    )
}

/// Once a run has gone on this long, the rate is known and the time left is said.
const ESTIMATE_AFTER: Duration = Duration::from_secs(2);

/// The progress callback: on a terminal, a progress bar redrawn at most ten times a second;
/// anywhere, once the run has gone on for [`ESTIMATE_AFTER`] since its first case ended and is
/// not near its end, one line with the measured rate and the time left at it. The clock starts
/// at the first case's end, so the time spent planning is not taken for the target's.
fn progress(bar: bool) -> check::Progress {
    let first: std::sync::Mutex<Option<(Instant, u64, u64)>> = std::sync::Mutex::new(None);
    let last_draw = std::sync::Mutex::new(Instant::now());
    let estimated = std::sync::atomic::AtomicBool::new(false);
    Arc::new(move |done, total, requests| {
        let (since, done_then, requests_then) = match first.lock() {
            Ok(mut f) => *f.get_or_insert((Instant::now(), done, requests)),
            Err(_) => return,
        };
        let elapsed = since.elapsed().as_secs_f64().max(0.001);
        let rate = requests.saturating_sub(requests_then) as f64 / elapsed;
        let done_since = done.saturating_sub(done_then);
        if elapsed >= ESTIMATE_AFTER.as_secs_f64()
            && done_since > 0
            && done * 10 < total * 9
            && !estimated.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            let left = elapsed * (total - done) as f64 / done_since as f64;
            let mut err = std::io::stderr().lock();
            if bar {
                let _ = writeln!(err);
            }
            let _ = writeln!(
                err,
                "corsproof check: {rate:.0} req/s measured: about {left:.0} s left for {} cases",
                total - done
            );
        }
        if !bar {
            return;
        }
        let Ok(mut last) = last_draw.lock() else {
            return;
        };
        if done != total && last.elapsed() < Duration::from_millis(100) {
            return;
        }
        *last = Instant::now();
        let width = 30usize;
        let filled = (done as usize * width) / (total.max(1) as usize);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {done}/{total} cases, {requests} requests, {rate:.0} req/s ",
            "=".repeat(filled),
            " ".repeat(width - filled)
        );
        if done == total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    })
}

/// Why the run gives no verdict, if it does not: it stopped early (`stopped` says why), every
/// request failed, or more failed than `budget` allows.
fn no_verdict(report: &Report, budget: ErrorBudget, stopped: Option<String>) -> Option<String> {
    let failed = report.stats.errors;
    // Requests tried: retries are the same requests again.
    let tried = report.stats.requests.saturating_sub(report.stats.retries);
    let no_verdict = "the target is unreachable or misbehaving, so this run gives no verdict";
    if let Some(why) = stopped {
        return Some(format!("{why}; {no_verdict}"));
    }
    // The reachability request aside, nothing got an answer.
    if failed > 0 && failed + 1 >= tried {
        return Some(format!(
            "every request failed ({failed}); nothing could be checked"
        ));
    }
    budget.exceeded(failed, tried).then(|| {
        format!(
            "{failed} of {tried} requests got no usable answer, more than --max-errors {budget} allows; {no_verdict}"
        )
    })
}

/// At most the first five target errors, one line each, for standard error.
fn first_errors(report: &Report) -> String {
    const SHOWN: usize = 5;
    let errors = &report.target_errors;
    let mut out = String::new();
    for e in errors.listed.iter().take(SHOWN) {
        out.push_str(&format!(
            "  {} ({}x): {} {}: {}\n",
            e.kind, e.count, e.request.method, e.request.url, e.error
        ));
    }
    let more = errors.total()
        - errors
            .listed
            .iter()
            .take(SHOWN)
            .map(|e| e.count)
            .sum::<u64>();
    if more > 0 {
        out.push_str(&format!(
            "  and {more} more (see the report's target errors)\n"
        ));
    }
    out
}

/// The exit status of a check that could not give a verdict: 3 when the target failed or the
/// run did (a worker that stopped leaves cases unjudged: no verdict either way), 2 for the
/// caller's input.
fn exit_code(e: &CheckError) -> u8 {
    match e {
        CheckError::Unreachable { .. } | CheckError::Stopped { .. } | CheckError::Worker { .. } => {
            3
        }
        CheckError::BadTarget { .. } | CheckError::Case(_) => 2,
    }
}

fn save_cases(report: &Report, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (i, f) in report.findings.iter().enumerate() {
        let case = CaseFile {
            corsproof_case: 1,
            kind: f.kind,
            route: f.route.clone(),
            profiles: f.profiles.clone(),
            target: report.target.clone(),
            policy: report.policy.clone(),
            seed: report.seed,
            request: f.request.case.clone(),
        };
        let path = dir.join(format!("{:02}-{}.json", i + 1, f.kind));
        let text = serde_json::to_string_pretty(&case)?;
        std::fs::write(&path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "corsproof check: {} case saved to {} (replay: corsproof check URL --policy FILE --replay {})",
            f.kind,
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// The cases of a `--replay` file.
struct Replayed {
    requests: Vec<RequestJson>,
    /// The `seed` of the first case file that has one.
    seed: Option<u64>,
}

/// Reads a case file, or a JSON array of case files, or a bare explain `request`.
fn read_cases(file: &Path) -> anyhow::Result<Replayed> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    let mut requests = Vec::new();
    let mut seed = None;
    for (i, item) in items.into_iter().enumerate() {
        if seed.is_none() {
            seed = item.get("seed").and_then(serde_json::Value::as_u64);
        }
        let request = item.get("request").cloned().unwrap_or(item);
        requests.push(
            serde_json::from_value(request)
                .with_context(|| format!("{} case {i}: not a request", file.display()))?,
        );
    }
    Ok(Replayed { requests, seed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_without_verdict_exits_3_and_bad_input_2() {
        let worker = CheckError::Worker {
            message: "a panic".into(),
        };
        assert_eq!(exit_code(&worker), 3);
        let bad = CheckError::BadTarget {
            url: "ftp://x/".into(),
            why: "only http:// and https:// targets are supported",
        };
        assert_eq!(exit_code(&bad), 2);
    }

    #[test]
    fn a_replay_takes_the_seed_saved_with_its_cases() {
        let dir = std::env::temp_dir().join(format!("corsproof-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory");
        let request = r#"{"url":"http://127.0.0.1:1/api/x","origin":"https://evil.example"}"#;
        let saved = dir.join("saved.json");
        let case = format!(
            r#"{{"corsproof_case":1,"kind":"read-granted","route":"api","profiles":["fetch"],"target":"http://127.0.0.1:1/","policy":"p.toml","seed":42,"request":{request}}}"#
        );
        std::fs::write(&saved, case).expect("written");
        let bare = dir.join("bare.json");
        std::fs::write(&bare, request).expect("written");
        let read = read_cases(&saved).expect("a case file");
        assert_eq!((read.requests.len(), read.seed), (1, Some(42)));
        let read = read_cases(&bare).expect("a bare request");
        assert_eq!((read.requests.len(), read.seed), (1, None));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
