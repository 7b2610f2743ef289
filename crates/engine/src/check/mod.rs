//! `check`: generated browser requests sent to a running server, each judged by the oracle
//! under every browser profile against the policy's intent, plus cache safety (`Vary`) and
//! hygiene; failures grouped by kind and route and shrunk to their smallest request.
//!
//! # The pipeline
//!
//! A run ([`check`], [`replay`]) is, for every case:
//!
//! 1. **case → exchanges** (`check/play.rs`): the oracle's sans-IO `Fetch` plays the
//!    browser under each profile; when it says a preflight goes out, exactly that `OPTIONS`
//!    request is sent; when the actual request goes out, that request, with the `Origin`
//!    header the oracle decides and a cookie when credentials are included. Identical
//!    requests are sent once per run and their answer shared between the profiles and cases
//!    that need it (`check/exchange.rs`, [`Sharing`]).
//! 2. **exchanges → verdicts** (`check/verdict.rs`): the policy's intent judges the
//!    browser's outcome; every departure is a draft finding of the kind that names it, citing
//!    the policy rule departed from and the browser rule that decided.
//! 3. **more properties**: `check/hygiene.rs` (malformed or repeated CORS headers,
//!    disclosure to refused origins, Max-Age), `check/vary.rs` (cache safety) and, with a
//!    second target, `check/differential.rs`.
//! 4. **verdicts → findings → report**: drafts become findings with the case's request and
//!    route; findings are grouped by (severity, kind, route), the smallest case kept and
//!    shrunk (`check/shrink.rs`), and the report is assembled.
//!
//! Cases run on up to [`CheckConfig::concurrency`] connections at once, as many as raise the
//! throughput (`check/limiter.rs`). A worker that fails (a
//! panic) fails the run ([`CheckError::Worker`]): its cases are never silently dropped.
//!
//! # Errors and overload are not verdicts
//!
//! Only answers are judged. An overload answer (429, or a 503 that a retry does not repeat)
//! is retried with the back-off of [`CheckConfig::retry`], which the workers share
//! ([`crate::retry`]). A request that gets no usable answer (a timeout, a closed or reset
//! connection, a malformed response, a 429 that persists) is a target error: its case is not
//! judged on it, and the report lists it with its request ([`Report::target_errors`]).
//! Whether there are too many for a verdict is the caller's decision
//! ([`corsproof_report::ErrorBudget`]). When [`STOP_AFTER_FAILURES`] requests in a row get no
//! usable answer, the target has stopped answering: the run ends early with
//! [`CheckError::Stopped`], which carries the report so far.
//!
//! ```no_run
//! use corsproof_engine::check::{check, CheckConfig};
//! use corsproof_policy::Policy;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let policy = Policy::from_path("corpus/policies/public-api.toml")?;
//! let target = url::Url::parse("http://127.0.0.1:8080")?;
//! let report = check(&policy, "public-api.toml", &target, &CheckConfig::default()).await?;
//! assert!(report.findings.is_empty(), "{:#?}", report.findings);
//! # Ok(())
//! # }
//! ```

mod coverage;
mod differential;
mod draft;
mod exchange;
mod hygiene;
mod limiter;
pub mod live;
mod plan;
mod play;
mod shrink;
mod target;
mod vary;
mod verdict;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corsproof_case::{CaseError, RequestJson};
use corsproof_client::{Client, Request as HttpRequest, Tls};
use corsproof_oracle::intent::route_for;
use corsproof_oracle::{Profile, RequestInit};
use corsproof_policy::{Policy, Route};
use corsproof_report::{CheckKind, Finding, Report, SentRequest, Severity, Stats};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use url::Url;

use self::draft::Draft;
pub use self::exchange::Sharing;
use self::exchange::{Exchanger, Shared};
use self::limiter::Limiter;
pub use self::plan::Plan;
use self::play::{play, Played};
use self::target::Target;
use crate::generate::Generator;
use crate::retry::{self, Pace, Retrier, RetryPolicy, SendError, Tally};

/// Requests in a row without a usable answer after which a run stops: the target has stopped
/// answering (at a few percent of failures at random, ten in a row is about one in 10¹³).
pub const STOP_AFTER_FAILURES: u64 = 10;

/// Progress callback: (cases done, cases in all, requests sent).
pub type Progress = Arc<dyn Fn(u64, u64, u64) + Send + Sync>;

/// Plan callback: what the run is about to send ([`Plan`]); called once, after the
/// reachability request and before the first case.
pub type OnPlan = Arc<dyn Fn(&Plan) + Send + Sync>;

/// How a check runs.
#[derive(Clone)]
pub struct CheckConfig {
    /// Generated requests, on top of the deterministic baseline (which already crosses every
    /// route with every origin, method and header class and both credentials modes).
    pub cases: usize,
    /// The seed of the generated requests (the same seed replays the same run).
    pub seed: u64,
    /// The browser profiles each request is judged under.
    pub profiles: Vec<Profile>,
    /// The most connections used at once: a run starts on a few and opens more while the
    /// throughput rises (`check/limiter.rs`).
    pub concurrency: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// A bound on the whole run: cases not started by then are skipped (and counted).
    pub deadline: Duration,
    /// Shrink each finding to its smallest request.
    pub shrink: bool,
    /// Called after each case with (cases done, cases in all, requests sent).
    pub progress: Option<Progress>,
    /// A second target of the same policy: every case is also played there and the browser
    /// outcomes compared (`differential` findings).
    pub against: Option<Url>,
    /// The trust store of `https://` targets; `None`: Mozilla's roots
    /// ([`Tls::webpki_roots`]).
    pub tls: Option<Tls>,
    /// How overload answers (429, 503) are retried.
    pub retry: RetryPolicy,
    /// Which requests share one answer (sent once for every case and profile that needs it).
    pub sharing: Sharing,
    /// A request budget: a case starts only while the requests sent, plus what the cases
    /// under way may still send (a preflight and an actual request per profile, and the
    /// cache-safety check's), stay within it; the others are skipped and counted
    /// ([`corsproof_report::Stats::skipped`]), and shrinking stops at it. Retries and
    /// redirects may pass it by a few requests. `None`: no budget.
    pub max_requests: Option<u64>,
    /// Called with the plan before the first case.
    pub on_plan: Option<OnPlan>,
    /// At most this many requests per second, over all connections ([`crate::retry::Bucket`]);
    /// `None`: as fast as the target answers.
    pub rate: Option<f64>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            cases: 50,
            seed: 0,
            profiles: vec![Profile::fetch(), Profile::chromium(), Profile::firefox()],
            concurrency: 32,
            timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(600),
            shrink: true,
            progress: None,
            against: None,
            tls: None,
            retry: RetryPolicy::default(),
            sharing: Sharing::default(),
            max_requests: None,
            on_plan: None,
            rate: None,
        }
    }
}

impl std::fmt::Debug for CheckConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckConfig")
            .field("cases", &self.cases)
            .field("seed", &self.seed)
            .field(
                "profiles",
                &self.profiles.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("retry", &self.retry)
            .field("sharing", &self.sharing)
            .field("max_requests", &self.max_requests)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

/// Why a check could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The target URL is not one the engine can check.
    #[error("target {url:?}: {why}")]
    BadTarget {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The target could not be reached or does not speak HTTP/1.1.
    #[error("target {url} is unreachable or not speaking HTTP: {source}")]
    Unreachable {
        /// The target.
        url: String,
        /// The first exchange's error.
        source: corsproof_client::Error,
    },
    /// A replayed case is not a valid request.
    #[error("case: {0}")]
    Case(#[from] CaseError),
    /// The target stopped answering: [`STOP_AFTER_FAILURES`] requests in a row got no usable
    /// answer, so the run ended before its other cases. The report so far lists the target
    /// errors.
    #[error(
        "the target stopped answering ({STOP_AFTER_FAILURES} requests in a row got no usable answer); {not_run} cases were not run"
    )]
    Stopped {
        /// The report of the cases run (without shrinking).
        report: Box<Report>,
        /// Cases not run.
        not_run: u64,
    },
    /// A worker of the run stopped before its cases were judged (a defect of corsproof): the
    /// run cannot say whether the target conforms.
    #[error(
        "a check worker failed ({message}); its cases were not judged, so the run has no verdict"
    )]
    Worker {
        /// What the worker's failure said.
        message: String,
    },
}

impl CheckError {
    /// The report of a run that stopped early ([`CheckError::Stopped`]) with the error's
    /// words; any other error as it is.
    ///
    /// ```
    /// use corsproof_engine::check::CheckError;
    /// let e = CheckError::BadTarget { url: "ftp://x/".into(), why: "only http:// and https://" };
    /// assert!(e.into_partial_report().is_err());
    /// ```
    pub fn into_partial_report(self) -> Result<(Report, String), CheckError> {
        let why = self.to_string();
        match self {
            CheckError::Stopped { report, .. } => Ok((*report, why)),
            other => Err(other),
        }
    }
}

/// The shared, read-only state of a run.
struct Run {
    policy: Policy,
    target: Target,
    /// The second target of a differential check.
    other: Option<Target>,
    profiles: Vec<Profile>,
    /// Per-request timeout.
    timeout: Duration,
    retry: RetryPolicy,
    /// The back-off the workers share, and their count of failures in a row.
    pace: Pace,
    /// When cases stop being started, and retries with them.
    deadline: Instant,
    /// The answers of the target, shared between cases ([`exchange`](self::exchange)).
    shared: Shared,
    /// The answers of the second target.
    shared_other: Shared,
}

/// What one case produced.
#[derive(Debug, Default)]
struct CaseResult {
    findings: Vec<Finding>,
    tally: Tally,
}

impl Run {
    /// Sends with the run's retry policy, shared back-off and deadline.
    fn retrier(&self) -> Retrier<'_> {
        Retrier {
            policy: &self.retry,
            pace: &self.pace,
            deadline: self.deadline,
        }
    }

    /// Whether the target has stopped answering.
    fn stopped(&self) -> bool {
        self.pace.stopped()
    }

    /// One plain request to each target before anything else: a target that does not answer
    /// it is unreachable (an overload answer is an answer: the run goes on, slowed down).
    async fn reachable(&self) -> Result<Tally, CheckError> {
        let mut tally = Tally::default();
        for t in std::iter::once(&self.target).chain(self.other.as_ref()) {
            let mut probe = t.client(self.timeout);
            let delivery = self
                .retrier()
                .send(&mut probe, &HttpRequest::new("GET", "/"))
                .await;
            tally.sent(delivery.attempts);
            if let Err(SendError::Exchange(source)) = delivery.result {
                return Err(CheckError::Unreachable {
                    url: t.base.to_string(),
                    source,
                });
            }
        }
        Ok(tally)
    }

    /// The route covering `path` (P1).
    fn route(&self, path: &str) -> Option<&Route> {
        route_for(&self.policy, path).map(|i| &self.policy.routes[i])
    }

    /// Runs one case: every profile's play and verdicts, hygiene, cache safety and the
    /// differential, as findings.
    async fn evaluate(
        &self,
        case: &RequestInit,
        client: &mut Client,
        other_client: Option<&mut Client>,
    ) -> CaseResult {
        self.evaluate_observed(case, client, other_client, false)
            .await
            .0
    }

    /// [`Run::evaluate`], and with `observe` the fingerprint of what the target did
    /// ([`live::behaviour`]).
    async fn evaluate_observed(
        &self,
        case: &RequestInit,
        client: &mut Client,
        other_client: Option<&mut Client>,
        observe: bool,
    ) -> (CaseResult, Option<u64>) {
        let route = self.route(case.url.path());
        let mut ex = Exchanger::new(&self.target, client, self.retrier(), &self.shared);
        let mut played: Vec<Played> = Vec::new();
        for profile in &self.profiles {
            if let Some(p) = play(&self.policy, case, profile, &mut ex).await {
                played.push(p);
            }
        }
        let mut drafts: Vec<Draft> = Vec::new();
        for p in &played {
            for d in verdict::drafts(p, case) {
                draft::add(&mut drafts, d);
            }
        }
        let passed_preflights: Vec<&SentRequest> = played
            .iter()
            .flat_map(|p| p.passed_preflights.iter().map(|s| &**s))
            .collect();
        let scope = hygiene::Scope {
            route,
            case_origin: &case.origin,
            target_origin: &self.target.origin,
            granted: played.iter().any(|p| p.readable)
                || drafts
                    .iter()
                    .any(|d| d.kind.severity() == Severity::Violation),
            passed_preflights: &passed_preflights,
        };
        let answered = ex
            .memo
            .iter()
            .filter_map(|(s, a)| a.as_ref().map(|a| (&**s, a.response.as_ref())));
        drafts.extend(hygiene::drafts(&scope, answered));
        drafts.extend(self.cache_safety(case, route, &played, &mut ex).await);
        let behaviour = observe.then(|| live::behaviour(&played, &ex.memo, &drafts));
        let mut tally = ex.tally;
        if let (Some(other), Some(client)) = (&self.other, other_client) {
            let mut ex = Exchanger::new(other, client, self.retrier(), &self.shared_other);
            drafts.extend(
                differential::draft(
                    &self.policy,
                    &self.profiles,
                    &self.target,
                    case,
                    &played,
                    &mut ex,
                )
                .await,
            );
            tally.merge(ex.tally);
        }
        let route_name = route.map(|r| r.name.clone().unwrap_or_else(|| r.path.clone()));
        let result = CaseResult {
            findings: drafts
                .into_iter()
                .map(|d| d.finding(case, route_name.clone()))
                .collect(),
            tally,
        };
        (result, behaviour)
    }

    /// Cache safety, on the first profile's play of a simple request (one exchange, no
    /// preflight: a preflight's answer is never stored, and a replayed actual response would
    /// only be read after a preflight the sibling may not pass).
    async fn cache_safety(
        &self,
        case: &RequestInit,
        route: Option<&Route>,
        played: &[Played],
        ex: &mut Exchanger<'_>,
    ) -> Option<Draft> {
        let first = played.first()?;
        let profile = self.profiles.iter().find(|p| p.id == first.profile)?;
        let [(sent, _)] = first.exchanges.as_slice() else {
            return None;
        };
        let scope = vary::Scope {
            policy: &self.policy,
            route,
            case,
            profile,
        };
        vary::draft(&scope, sent, ex).await
    }
}

/// The generated requests of a run: the baseline, then `count` from the seed.
pub fn cases(generator: &Generator, policy: &Policy, count: usize, seed: u64) -> Vec<RequestInit> {
    let mut out = generator.baseline(policy);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
    let mut runner = TestRunner::new_with_rng(ProptestConfig::default(), rng);
    let strategy = generator.request();
    for _ in 0..count {
        if let Ok(tree) = strategy.new_tree(&mut runner) {
            out.push(tree.current());
        }
    }
    out
}

/// Checks the server at `base` against `policy` (named `policy_name` in the report).
pub async fn check(
    policy: &Policy,
    policy_name: &str,
    base: &Url,
    config: &CheckConfig,
) -> Result<Report, CheckError> {
    let target = Target::new(base, config.tls.as_ref())?;
    let generator = Generator::new(policy, base);
    let all = cases(&generator, policy, config.cases, config.seed);
    run(policy, policy_name, target, all, config).await
}

/// Replays saved cases (`check --replay`): the same judgment, without generation. Each case's
/// URL is moved onto `base` (its path and query kept).
pub async fn replay(
    policy: &Policy,
    policy_name: &str,
    base: &Url,
    cases: Vec<RequestInit>,
    config: &CheckConfig,
) -> Result<Report, CheckError> {
    let target = Target::new(base, config.tls.as_ref())?;
    let rebased = cases
        .into_iter()
        .map(|mut case| {
            case.url = target.rebase(&case.url);
            case
        })
        .collect();
    run(policy, policy_name, target, rebased, config).await
}

/// Replays saved cases in the case format (`check --replay FILE`): [`replay`] after turning
/// each into the oracle's request.
pub async fn replay_json(
    policy: &Policy,
    policy_name: &str,
    base: &Url,
    cases: &[RequestJson],
    config: &CheckConfig,
) -> Result<Report, CheckError> {
    let cases = cases
        .iter()
        .enumerate()
        .map(|(i, c)| c.to_init(&format!("replay case {i}: ")))
        .collect::<Result<Vec<_>, _>>()?;
    replay(policy, policy_name, base, cases, config).await
}

/// Counters shared by a run's workers.
#[derive(Default)]
struct Counters {
    next: AtomicUsize,
    done: AtomicU64,
    requests: AtomicU64,
    /// What the cases under way may still send, held against the request budget.
    reserved: AtomicU64,
}

async fn run(
    policy: &Policy,
    policy_name: &str,
    target: Target,
    all: Vec<RequestInit>,
    config: &CheckConfig,
) -> Result<Report, CheckError> {
    let started = Instant::now();
    let other = config
        .against
        .as_ref()
        .map(|url| Target::new(url, config.tls.as_ref()))
        .transpose()?;
    let run = Arc::new(Run {
        policy: policy.clone(),
        target,
        other,
        profiles: config.profiles.clone(),
        timeout: config.timeout,
        retry: config.retry,
        pace: Pace::new(&config.retry, config.seed, STOP_AFTER_FAILURES).with_rate(config.rate),
        deadline: retry::deadline(started, config.deadline),
        shared: Shared::new(config.sharing, &config.profiles),
        shared_other: Shared::new(config.sharing, &config.profiles),
    });
    let mut tally = run.reachable().await?;
    if let Some(on_plan) = &config.on_plan {
        let plan = plan::plan(&run.policy, &run.target, &run.profiles, &all, &run.shared);
        on_plan(&plan);
    }
    let counters = Arc::new(Counters::default());
    counters.requests.store(tally.requests, Ordering::Relaxed);
    let all = Arc::new(all);
    let results = judge_all(&run, all.clone(), &counters, config).await?;
    let mut failing = 0;
    let mut groups = Groups::default();
    let coverage = coverage::of(
        policy,
        &config.profiles,
        results.iter().filter_map(|(i, _)| all.get(*i)),
    );
    for (i, r) in results {
        tally.merge(r.tally);
        failing += u64::from(!r.findings.is_empty());
        for f in r.findings {
            groups.add(f, &all[i]);
        }
    }
    let stopped = run.stopped();
    let findings = report_findings(
        &run,
        groups,
        config.shrink && !stopped,
        config.max_requests,
        &mut tally,
    )
    .await;
    let judged = counters.done.load(Ordering::Relaxed);
    let report = Report {
        target: run.target.base.to_string(),
        policy: Some(policy_name.to_string()),
        seed: config.seed,
        cases: judged,
        findings,
        stats: Stats {
            skipped: (all.len() as u64).saturating_sub(judged),
            ..tally.stats(judged, failing, started.elapsed().as_secs_f64())
        },
        target_errors: tally.errors,
        coverage,
        confirm: None,
    };
    if stopped {
        let not_run = (all.len() as u64).saturating_sub(judged);
        return Err(CheckError::Stopped {
            report: Box::new(report),
            not_run,
        });
    }
    Ok(report)
}

/// Every case judged on `config.concurrency` workers, each with its own connections, until
/// the deadline or the target stops answering; the results with their cases. A worker that
/// fails fails the run.
async fn judge_all(
    run: &Arc<Run>,
    all: Arc<Vec<RequestInit>>,
    counters: &Arc<Counters>,
    config: &CheckConfig,
) -> Result<Vec<(usize, CaseResult)>, CheckError> {
    let per_target = 2 * config.profiles.len() as u64 + 1;
    let cap = config.concurrency.max(1);
    let limiter = Arc::new(Limiter::new(cap));
    let control = {
        let (limiter, counters, until) = (limiter.clone(), counters.clone(), run.deadline);
        tokio::spawn(async move {
            limiter
                .control(cap, until, || counters.requests.load(Ordering::Relaxed))
                .await;
        })
    };
    let workers: Vec<_> = (0..cap)
        .map(|id| {
            tokio::spawn(
                Worker {
                    id,
                    run: run.clone(),
                    all: all.clone(),
                    counters: counters.clone(),
                    limiter: limiter.clone(),
                    progress: config.progress.clone(),
                    budget: config.max_requests,
                    hold: per_target * if run.other.is_some() { 2 } else { 1 },
                }
                .judge(),
            )
        })
        .collect();
    let joined = futures_join(workers).await;
    limiter.release();
    control.abort();
    let mut results = Vec::new();
    for w in joined {
        results.extend(w.map_err(worker_failure)?);
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(results)
}

/// A worker's task that did not return: its panic message, as an error of the run.
fn worker_failure(e: tokio::task::JoinError) -> CheckError {
    let message = if e.is_panic() {
        let payload = e.into_panic();
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string())
    } else {
        e.to_string()
    };
    CheckError::Worker { message }
}

/// One worker of a run: it takes the next case while the limiter admits it, the deadline
/// has not passed and the request budget has room.
struct Worker {
    id: usize,
    run: Arc<Run>,
    all: Arc<Vec<RequestInit>>,
    counters: Arc<Counters>,
    limiter: Arc<Limiter>,
    progress: Option<Progress>,
    /// The request budget (`--max-requests`).
    budget: Option<u64>,
    /// The most one case sends (redirects aside), held against the budget until it is done.
    hold: u64,
}

impl Worker {
    /// Judges cases until there is none left or the worker must stop; its results.
    async fn judge(self) -> Vec<(usize, CaseResult)> {
        let mut admission = self.limiter.subscribe();
        // A worker that ends, even by a panic, lets the others go.
        let _release = Release(&self.limiter);
        let run = &self.run;
        let mut client = run.target.client(run.timeout);
        let mut other = run.other.as_ref().map(|t| t.client(run.timeout));
        let total = self.all.len() as u64;
        let mut results = Vec::new();
        loop {
            limiter::admitted(self.id, &mut admission).await;
            if Instant::now() > run.deadline || run.stopped() || !self.reserve() {
                self.limiter.release();
                break;
            }
            let i = self.counters.next.fetch_add(1, Ordering::Relaxed);
            let Some(case) = self.all.get(i) else {
                self.unreserve();
                self.limiter.release();
                break;
            };
            let r = run.evaluate(case, &mut client, other.as_mut()).await;
            let requests = r.tally.requests;
            let sent = self
                .counters
                .requests
                .fetch_add(requests, Ordering::Relaxed)
                + requests;
            self.unreserve();
            let done = self.counters.done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = &self.progress {
                p(done, total, sent);
            }
            results.push((i, r));
        }
        results
    }

    /// Holds the most the next case may send against the request budget: false (nothing
    /// held) when it would not fit.
    fn reserve(&self) -> bool {
        let Some(max) = self.budget else {
            return true;
        };
        let c = &self.counters;
        let held = c.reserved.fetch_add(self.hold, Ordering::Relaxed) + self.hold;
        if c.requests.load(Ordering::Relaxed) + held > max {
            c.reserved.fetch_sub(self.hold, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Gives back what [`Worker::reserve`] held.
    fn unreserve(&self) {
        if self.budget.is_some() {
            self.counters
                .reserved
                .fetch_sub(self.hold, Ordering::Relaxed);
        }
    }
}

/// Releases a limiter when dropped.
struct Release<'a>(&'a Limiter);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Every worker's end, in order.
async fn futures_join<T>(
    workers: Vec<tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::with_capacity(workers.len());
    for w in workers {
        out.push(w.await);
    }
    out
}

/// A group of findings of one (severity, kind, route): the one with the smallest case, its
/// case, and how many cases showed it.
struct Group {
    finding: Finding,
    case: RequestInit,
    count: u64,
}

/// The findings of a run, grouped.
#[derive(Default)]
struct Groups(BTreeMap<(Severity, CheckKind, Option<String>), Group>);

impl Groups {
    /// Adds a finding shown by `case`: a new group, or the group's example replaced when
    /// `case` is smaller. A group's finding keeps its example's own profiles: those under
    /// which replaying that example shows it.
    fn add(&mut self, f: Finding, case: &RequestInit) {
        let corsproof_report::Kind::Check(kind) = f.kind else {
            return;
        };
        let key = (f.severity, kind, f.route.clone());
        match self.0.get_mut(&key) {
            Some(g) => {
                g.count += 1;
                if shrink::size(case) < shrink::size(&g.case) {
                    g.finding = f;
                    g.case = case.clone();
                }
            }
            None => {
                self.0.insert(
                    key,
                    Group {
                        finding: f,
                        case: case.clone(),
                        count: 1,
                    },
                );
            }
        }
    }
}

/// The report's findings: each group's example, shrunk when `shrink` says so (what shrinking
/// sent is added to `tally`), most severe first.
async fn report_findings(
    run: &Run,
    groups: Groups,
    shrink: bool,
    budget: Option<u64>,
    tally: &mut Tally,
) -> Vec<Finding> {
    let mut client = run.target.client(run.timeout);
    let mut other = run.other.as_ref().map(|t| t.client(run.timeout));
    let mut findings = Vec::new();
    for ((_, kind, route), g) in groups.0 {
        let mut f = g.finding;
        let left = budget.map(|max| max.saturating_sub(tally.requests));
        if shrink && left != Some(0) {
            let (shrunk, sent) = shrink_finding(
                run,
                (&mut client, other.as_mut()),
                (f, g.case),
                kind,
                &route,
                left,
            )
            .await;
            tally.merge(sent);
            f = shrunk;
        }
        if g.count > 1 {
            f.explanation = format!("{} {} cases showed it.", f.explanation, g.count);
        }
        f.profiles.sort();
        findings.push(f);
    }
    findings
}

/// Shrinks `f`, shown by `case`, to the smallest simplification that still shows `kind` on
/// `route` (at most [`shrink::BUDGET`] re-evaluations, and no more once it has sent `left`
/// requests); what it sent.
async fn shrink_finding(
    run: &Run,
    (client, mut other): (&mut Client, Option<&mut Client>),
    (f, mut case): (Finding, RequestInit),
    kind: CheckKind,
    route: &Option<String>,
    left: Option<u64>,
) -> (Finding, Tally) {
    let mut best = f;
    let mut budget = shrink::BUDGET;
    let mut sent = Tally::default();
    'outer: loop {
        for candidate in shrink::simplifications(&case, &run.policy) {
            if budget == 0 || left.is_some_and(|left| sent.requests >= left) {
                break 'outer;
            }
            budget -= 1;
            let r = run.evaluate(&candidate, client, other.as_deref_mut()).await;
            sent.merge(r.tally);
            if let Some(found) = r
                .findings
                .into_iter()
                .find(|g| g.kind == kind && &g.route == route)
            {
                best = found;
                case = candidate;
                continue 'outer;
            }
        }
        break;
    }
    (best, sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsproof_oracle::profile::ProfileId;
    use corsproof_oracle::{Origin, RuleId};
    use corsproof_report::SeenResponse;

    fn finding(profiles: &[ProfileId]) -> Finding {
        let case = RequestInit::new(
            Url::parse("http://127.0.0.1:1/api/x").expect("a URL"),
            Origin::parse_serialized("https://evil.test").expect("an origin"),
        );
        Finding {
            kind: CheckKind::ReadGranted.into(),
            severity: Severity::Violation,
            route: Some("api".into()),
            profiles: profiles.to_vec(),
            request: RequestJson::from_init(&case).into(),
            exchanges: Vec::new(),
            response: SeenResponse::default(),
            expected: String::new(),
            observed: String::new(),
            rule: Some(RuleId::P5),
            decided_by: None,
            reproduce: String::new(),
            explanation: String::new(),
            confirmed: Default::default(),
        }
    }

    #[test]
    fn a_group_keeps_its_examples_own_profiles() {
        let base = Url::parse("http://127.0.0.1:1/api/x").expect("a URL");
        let origin = Origin::parse_serialized("https://evil.test").expect("an origin");
        let small = RequestInit::new(base.clone(), origin.clone());
        let mut big = RequestInit::new(base, origin);
        big.headers.push((b"X-A".to_vec(), b"1".to_vec()));
        // The smaller case comes second: its finding, with its profiles only, is the example.
        let mut groups = Groups::default();
        groups.add(finding(&[ProfileId::Chromium, ProfileId::Firefox]), &big);
        groups.add(finding(&[ProfileId::Fetch]), &small);
        let g = groups.0.values().next().expect("one group");
        assert_eq!(g.count, 2);
        assert_eq!(g.finding.profiles, [ProfileId::Fetch]);
        // A larger case after it changes nothing.
        groups.add(finding(&[ProfileId::Firefox]), &big);
        let g = groups.0.values().next().expect("one group");
        assert_eq!(
            (g.count, &g.finding.profiles[..]),
            (3, &[ProfileId::Fetch][..])
        );
    }

    #[test]
    fn seeds_replay() {
        let policy = Policy::from_toml_str(
            "version = 1\n[[route]]\npath = \"/api/\"\norigins = [\"https://app.test\"]\n",
            "p.toml",
        )
        .expect("a policy");
        let base = Url::parse("http://127.0.0.1:1").expect("a URL");
        let g = Generator::new(&policy, &base);
        assert_eq!(cases(&g, &policy, 50, 7), cases(&g, &policy, 50, 7));
        assert_ne!(cases(&g, &policy, 50, 7), cases(&g, &policy, 50, 8));
    }
}
