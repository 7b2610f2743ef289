//! A differential run: generated cases, spec vectors, cache sequences and capacity sequences
//! replayed in one browser, each compared with the oracle's outcome under the browser's
//! profile.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use corsproof_case::{Input, Output};
use serde::Serialize;
use serde_json::json;

use crate::error::Error;
use crate::generate::{self, Origins};
use crate::launch::{Browser, Running};
use crate::page::PAGE;
use crate::replay::{compare_step, compare_step_wire, expected_wire, repeats, Replay, StepResult};
use crate::server::{HopSeen, Servers};
use crate::vectors::{self, Mapped};
use corsproof_oracle::profile::Capacity;

/// Seconds around a cache entry's expiry within which a later step's outcome depends on
/// timing the page cannot control (the preflight's own latency).
pub const TIMING_MARGIN: f64 = 0.5;

enum Measured {
    At(Input, Vec<Output>),
    Ambiguous,
}

/// The job's input at the measured step times and the oracle's outputs for it.
fn measured(r: &Replay, script: &[StepResult]) -> Option<Measured> {
    let Input::Steps(steps) = &r.input else {
        return None;
    };
    if script.len() != steps.steps.len() {
        return None;
    }
    let mut s = steps.clone();
    let mut last = 0.0f64;
    for (case, b) in s.steps.iter_mut().zip(script) {
        let at = (b.at_ms? / 1000.0).max(last);
        case.at_seconds = Some(at);
        last = at;
    }
    let input = Input::Steps(s);
    let outputs = match corsproof_case::explain(&input, None).ok()? {
        corsproof_case::Explained::Steps { steps } => steps,
        corsproof_case::Explained::Case(_) => return None,
    };
    let times: Vec<f64> = script
        .iter()
        .map(|b| b.at_ms.unwrap_or(0.0) / 1000.0)
        .collect();
    for (i, o) in outputs.iter().enumerate() {
        let Some(p) = &o.preflight else { continue };
        if p.cache_seconds == 0 {
            continue;
        }
        let expiry = times[i] + p.cache_seconds as f64;
        if times[i + 1..]
            .iter()
            .any(|t| (t - expiry).abs() < TIMING_MARGIN)
        {
            return Some(Measured::Ambiguous);
        }
    }
    Some(Measured::At(input, outputs))
}

/// Single-step jobs per browser session.
const SINGLES_PER_SESSION: usize = 5000;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The browser.
    pub browser: Browser,
    /// Generated single cases.
    pub cases: usize,
    /// Generated cache sequences.
    pub sequences: usize,
    /// Generated capacity sequences (D31), each in a browser session of its own.
    pub capacity_sequences: usize,
    /// The generators' seed.
    pub seed: u64,
    /// Where the spec vectors are (`None`: none replayed).
    pub vectors: Option<PathBuf>,
    /// Single-step jobs per page batch.
    pub batch: usize,
    /// Jobs of several steps (sequences) per page batch: they run concurrently, so this
    /// bounds the preflight-cache keys in use at once.
    pub seq_batch: usize,
    /// Jobs of several steps per browser session (a fresh browser and profile each).
    pub session_jobs: usize,
    /// Longest silence from the page before the run is declared stalled.
    pub stall: Duration,
}

/// A case on which the browser and the oracle disagree.
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    /// Where the case comes from.
    pub label: String,
    /// Each difference, per step (`step N: ...`).
    pub differences: Vec<String>,
    /// The case as an `explain` input (the browser's profile named).
    pub explain_input: Input,
    /// The oracle's outputs, one per step.
    pub oracle: Vec<Output>,
    /// What script saw, per step.
    pub browser_script: Vec<StepResult>,
    /// What reached the servers, per step and hop.
    pub browser_server: Vec<Vec<HopSeen>>,
}

/// Figures of one kind of case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Replayed.
    pub replayed: usize,
    /// Steps replayed (a case is one step).
    pub steps: usize,
    /// Agreeing with the oracle.
    pub agreed: usize,
    /// Steps the oracle says the preflight cache answered (a preflight needed, none sent).
    pub cache_hits: usize,
    /// Jobs not compared: at the measured step times a step came within
    /// [`TIMING_MARGIN`] s of a cache entry's expiry.
    pub timing_ambiguous: usize,
    /// Steps whose outcome the oracle cannot determine (the browser may have evicted an
    /// entry at random, D31): not compared with one outcome, but checked to be one of those
    /// the oracle lists.
    pub undetermined: usize,
    /// Of those, the browser showed the outcome with every such entry still cached.
    pub undetermined_still_cached: usize,
    /// Or another one (an entry was evicted).
    pub undetermined_evicted: usize,
    /// Seconds the batches of this kind took (browser start-up excluded).
    pub seconds: f64,
    /// Requests (preflights included) compared line by line with the oracle's wire module.
    pub wire_compared: usize,
    /// ... equal to what the wire module says (modulo the volatile values).
    pub wire_agreed: usize,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The browser's `--version`.
    pub browser_version: String,
    /// The profile compared with.
    pub profile: &'static str,
    /// The seed.
    pub seed: u64,
    /// Generated single cases.
    pub cases: Tally,
    /// Spec vectors.
    pub vectors: Tally,
    /// Cache sequences.
    pub sequences: Tally,
    /// Capacity sequences (D31).
    pub capacity: Tally,
    /// Per warm-up job (one per Firefox session of jobs over several steps, D27): how many
    /// of its repeated requests were preflighted again.
    pub warm_up_misses: Vec<usize>,
    /// Vectors not replayable: reason and labels.
    pub skipped: BTreeMap<String, Vec<String>>,
    /// Every disagreement.
    pub disagreements: Vec<Disagreement>,
    /// Requests that reached scripted paths of no job.
    pub strays: Vec<String>,
    /// Requests sent again at the same hop (see [`repeats`]): the labels of their cases.
    pub repeated: Vec<String>,
    /// Seconds, browser start to last report.
    pub seconds: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Case,
    Vector,
    Sequence,
    Capacity,
}

/// Jobs over more distinct URLs than this run in a browser session of their own: the
/// browser's preflight cache must hold nothing else (D31).
pub const ISOLATE_URLS: usize = 8;

/// Requests of a warm-up job (D27): the first is its preflight, the others repeat it.
pub const WARM_UP_STEPS: usize = 6;

fn distinct_urls(r: &Replay) -> usize {
    let mut urls: Vec<&str> = r.steps.iter().map(|s| s.request.url.as_str()).collect();
    urls.sort_unstable();
    urls.dedup();
    urls.len()
}

/// Runs the differential.
pub fn run(opts: &Options) -> Result<Summary, Error> {
    let program = opts.browser.find()?;
    let browser_version = opts.browser.version(&program);
    let profile = opts.browser.profile();
    let servers = Servers::start(PAGE.to_string(), 3)?;
    let origins = Origins::new(servers.page_origin.clone(), servers.origins.clone());

    let mut jobs: Vec<(Kind, Replay, Vec<Output>)> = Vec::new();
    let mut runner = generate::runner(opts.seed);
    for (i, c) in generate::sample(generate::case(), &mut runner, opts.cases)
        .into_iter()
        .enumerate()
    {
        let r = c.render(
            format!("generated case #{i} (seed {})", opts.seed),
            &format!("g{i}"),
            profile,
            &origins,
        );
        let out = r.oracle()?;
        jobs.push((Kind::Case, r, out));
    }
    let mut skipped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(dir) = &opts.vectors {
        for (i, v) in vectors::load(dir)?.iter().enumerate() {
            match vectors::map(v, &format!("v{i}"), profile, &origins) {
                Mapped::Replay(r) => {
                    let out = r.oracle()?;
                    jobs.push((Kind::Vector, *r, out));
                }
                Mapped::Skipped(reason) => skipped.entry(reason).or_default().push(v.label.clone()),
            }
        }
    }
    let mut runner = generate::runner(opts.seed ^ 0x5e9_u64);
    for (i, s) in generate::sample(generate::sequence(), &mut runner, opts.sequences)
        .into_iter()
        .enumerate()
    {
        // Every fourth sequence targets the IP address, the others the host name.
        let ip_host = i % 4 == 3;
        let r = s.render(
            format!("cache sequence #{i} (seed {})", opts.seed),
            &format!("s{i}"),
            profile,
            &origins,
            ip_host,
        );
        let out = r.oracle()?;
        jobs.push((Kind::Sequence, r, out));
    }
    let capacity = corsproof_oracle::Profile::by_name(profile)
        .map_or(Capacity::Unbounded, |p| p.cache.capacity);
    let mut runner = generate::runner(opts.seed ^ 0xca9a_c17e_u64);
    for (i, s) in generate::sample(
        generate::capacity_sequence(capacity),
        &mut runner,
        opts.capacity_sequences,
    )
    .into_iter()
    .enumerate()
    {
        let r = s.render(
            format!("capacity sequence #{i} (seed {})", opts.seed),
            &format!("k{i}"),
            profile,
            &origins,
            i % 2 == 1,
        );
        let out = r.oracle()?;
        jobs.push((Kind::Capacity, r, out));
    }

    for (_, r, _) in &jobs {
        servers.add_job(&r.key, r.scripts());
    }
    // Batches and browser sessions. Single-step jobs look nothing up in the preflight cache
    // (each has its own URL), so they share one session. Jobs over several steps depend on
    // the cache keeping their entries, and browsers cap it (Chromium purges entries beyond
    // about a thousand keys, Firefox keeps the 100 most recently used): they run in small
    // batches, in fresh browser sessions of at most `session_jobs` jobs.
    let batch = opts.batch.max(1);
    let seq_batch = opts.seq_batch.max(1);
    let singles: Vec<usize> = (0..jobs.len())
        .filter(|&i| jobs[i].1.steps.len() == 1)
        .collect();
    let multis: Vec<usize> = (0..jobs.len())
        .filter(|&i| jobs[i].1.steps.len() > 1 && distinct_urls(&jobs[i].1) <= ISOLATE_URLS)
        .collect();
    let isolated: Vec<usize> = (0..jobs.len())
        .filter(|&i| jobs[i].1.steps.len() > 1 && distinct_urls(&jobs[i].1) > ISOLATE_URLS)
        .collect();
    let batches_of = |idx: &[usize], size: usize| -> Vec<(Kind, Vec<usize>)> {
        let mut out: Vec<(Kind, Vec<usize>)> = Vec::new();
        for &i in idx {
            match out.last_mut() {
                Some((k, b)) if *k == jobs[i].0 && b.len() < size => b.push(i),
                _ => out.push((jobs[i].0, vec![i])),
            }
        }
        out
    };
    let mut sessions: Vec<Vec<(Kind, Vec<usize>)>> = Vec::new();
    // Long sessions are split too (a fresh browser every SINGLES_PER_SESSION jobs), so that
    // no browser state builds up over tens of thousands of requests.
    for chunk in singles.chunks(SINGLES_PER_SESSION) {
        sessions.push(batches_of(chunk, batch));
    }
    for chunk in multis.chunks(opts.session_jobs.max(1)) {
        sessions.push(batches_of(chunk, seq_batch));
    }
    // A job over many URLs alone in a fresh browser: its cache holds nothing else (D31).
    for &i in &isolated {
        sessions.push(vec![(jobs[i].0, vec![i])]);
    }
    let singles_sessions = singles.len().div_ceil(SINGLES_PER_SESSION);
    // Firefox's sessions of jobs over several steps start with a warm-up on an IP-address
    // host (D27): its misses are counted, not compared.
    let warm_ups: Vec<Option<Replay>> = (0..sessions.len())
        .map(|n| {
            (n >= singles_sessions && generate::ip_warm_up(profile)).then(|| {
                let r = generate::warm_up(&format!("w{n}"), profile, &origins, WARM_UP_STEPS);
                servers.add_job(&r.key, r.scripts());
                r
            })
        })
        .collect();
    let total_batches: usize = sessions.iter().map(Vec::len).sum();

    let t0 = Instant::now();
    let mut results: HashMap<String, Vec<StepResult>> = HashMap::new();
    let mut kind_seconds: BTreeMap<Kind, f64> = BTreeMap::new();
    let mut done_batches = 0;
    for (n, session) in sessions.iter().enumerate() {
        let warm_up = warm_ups.get(n).and_then(Option::as_ref);
        if let Some(w) = warm_up {
            servers.push_batch(json!({ "jobs": [w.job()] }).to_string());
        }
        for (_, b) in session {
            let batch_jobs: Vec<_> = b.iter().map(|&i| jobs[i].1.job()).collect();
            servers.push_batch(json!({ "jobs": batch_jobs }).to_string());
        }
        let loads_before = servers.page_loads();
        let mut browser =
            Running::start(opts.browser, &program, &format!("{}/", servers.page_origin))?;
        let mut prev: Option<Instant> = None;
        // Reports are matched by the keys they carry (a report the page had to send again
        // is harmless); the session ends when every job of it has reported.
        let mut pending: std::collections::HashSet<&str> = session
            .iter()
            .flat_map(|(_, b)| b.iter().map(|&i| jobs[i].1.key.as_str()))
            .chain(warm_up.map(|w| w.key.as_str()))
            .collect();
        let jobs_ref = &jobs;
        let kind_of: HashMap<&str, Kind> = session
            .iter()
            .flat_map(|(k, b)| b.iter().map(move |&i| (jobs_ref[i].1.key.as_str(), *k)))
            .collect();
        while !pending.is_empty() {
            let mut waited = Duration::ZERO;
            let report = loop {
                if let Some(r) = servers.next_report(Duration::from_millis(500)) {
                    break r;
                }
                waited += Duration::from_millis(500);
                if let Some(status) = browser.exited() {
                    return Err(Error::BrowserStalled(format!(
                        "the browser exited ({status}) after {done_batches} of {total_batches} batches; its log ends:\n{}",
                        browser.log_tail()
                    )));
                }
                if waited >= opts.stall {
                    return Err(Error::BrowserStalled(format!(
                        "no report for {} s after {done_batches} of {total_batches} batches (page loads: {}); the browser's log ends:\n{}",
                        opts.stall.as_secs(),
                        servers.page_loads() - loads_before,
                        browser.log_tail()
                    )));
                }
            };
            if let Some(f) = report.get("fatal").or_else(|| report.get("malformed")) {
                return Err(Error::Report(f.to_string()));
            }
            let mut kind: Option<Kind> = None;
            let list = report
                .get("results")
                .and_then(|r| r.as_array())
                .ok_or_else(|| Error::Report(format!("no results in {report}")))?;
            for item in list {
                let key = item
                    .get("key")
                    .and_then(|k| k.as_str())
                    .ok_or_else(|| Error::Report(format!("result without key: {item}")))?;
                let steps: Vec<StepResult> =
                    serde_json::from_value(item.get("steps").cloned().unwrap_or_default())
                        .map_err(|e| Error::Report(format!("{key}: {e}")))?;
                if let Some(k) = pending.take(key) {
                    kind = kind_of.get(k).copied();
                }
                results.insert(key.to_string(), steps);
            }
            // A batch's time: from the previous report (or the page's load) to its report.
            let now = Instant::now();
            let from = prev.or(servers.page_loaded_at()).unwrap_or(now);
            if let Some(kind) = kind {
                *kind_seconds.entry(kind).or_default() +=
                    now.saturating_duration_since(from).as_secs_f64();
                done_batches += 1;
            }
            prev = Some(now);
        }
        drop(browser);
    }
    let seconds = t0.elapsed().as_secs_f64();
    let warm_up_misses = warm_ups
        .iter()
        .flatten()
        .map(|w| {
            servers
                .seen(&w.key)
                .iter()
                .skip(1)
                .filter(|hops| hops.iter().any(|h| !h.preflights.is_empty()))
                .count()
        })
        .collect();

    let page_host = url::Url::parse(&servers.page_origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let oracle_profile = corsproof_oracle::Profile::by_name(profile)
        .ok_or_else(|| Error::Report(format!("no oracle profile {profile}")))?;
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut repeated = Vec::new();
    for (kind, r, oracle) in &jobs {
        let t = tallies.entry(*kind).or_default();
        t.replayed += 1;
        t.steps += r.steps.len();
        t.cache_hits += oracle
            .iter()
            .filter(|o| o.preflight_cached && o.undetermined.is_none())
            .count();
        let script = results.get(&r.key).cloned().unwrap_or_default();
        // Over several steps the oracle is judged at the times the steps really started
        // (the page's clock), and a job whose outcome hangs on less than TIMING_MARGIN
        // seconds around a cache entry's expiry is counted, not compared.
        let (input, oracle) = match measured(r, &script) {
            Some(Measured::Ambiguous) => {
                t.timing_ambiguous += 1;
                continue;
            }
            Some(Measured::At(input, outputs)) => (input, outputs),
            None => (r.input.clone(), oracle.clone()),
        };
        let oracle = &oracle;
        let seen = servers.seen(&r.key);
        if seen.iter().map(|s| repeats(s)).sum::<usize>() > 0 {
            repeated.push(r.label.clone());
        }
        let mut diffs = Vec::new();
        if script.len() != r.steps.len() {
            diffs.push(format!(
                "the page reported {} steps of {}",
                script.len(),
                r.steps.len()
            ));
        }
        // What the oracle's wire module says each request looks like on the wire.
        let wire = expected_wire(&input, &seen, &page_host).map_err(|source| Error::Case {
            label: r.label.clone(),
            source,
        })?;
        for (i, (o, b)) in oracle.iter().zip(&script).enumerate() {
            let hops = seen.get(i).map(Vec::as_slice).unwrap_or_default();
            let xhr = r.steps.get(i).is_some_and(|s| s.request.use_cors_preflight);
            // An undetermined step (D31) must show one of the outcomes the oracle lists.
            let mut step_diffs = match &o.undetermined {
                None => compare_step(o, b, hops, xhr),
                Some(u) => {
                    t.undetermined += 1;
                    let shown = u
                        .outcomes
                        .iter()
                        .position(|alt| compare_step(alt, b, hops, xhr).is_empty());
                    match shown {
                        Some(0) => t.undetermined_still_cached += 1,
                        Some(_) => t.undetermined_evicted += 1,
                        None => {}
                    }
                    match shown {
                        Some(_) => Vec::new(),
                        None => vec![format!(
                            "undetermined (D31): none of the {} possible outcomes; with every entry still cached: {}",
                            u.outcomes.len(),
                            compare_step(o, b, hops, xhr).join("; ")
                        )],
                    }
                }
            };
            // The wire of an undetermined step depends on which of its outcomes the browser
            // took; the outcome comparison above covers it.
            if o.undetermined.is_none() {
                let (compared, wire_diffs) = compare_step_wire(
                    wire.get(i).map(Vec::as_slice).unwrap_or_default(),
                    &oracle_profile,
                    hops,
                );
                t.wire_compared += compared;
                t.wire_agreed += compared - wire_diffs.len().min(compared);
                step_diffs.extend(wire_diffs);
            }
            for d in step_diffs {
                diffs.push(if r.steps.len() > 1 {
                    format!("step {i}: {d}")
                } else {
                    d
                });
            }
        }
        if diffs.is_empty() {
            t.agreed += 1;
        } else {
            disagreements.push(Disagreement {
                label: r.label.clone(),
                differences: diffs,
                explain_input: input,
                oracle: oracle.clone(),
                browser_script: script,
                browser_server: seen,
            });
        }
    }
    for (k, t) in tallies.iter_mut() {
        t.seconds = kind_seconds.get(k).copied().unwrap_or(0.0);
    }
    let tally = |k: Kind| tallies.get(&k).cloned().unwrap_or_default();
    Ok(Summary {
        browser_version,
        profile,
        seed: opts.seed,
        cases: tally(Kind::Case),
        vectors: tally(Kind::Vector),
        sequences: tally(Kind::Sequence),
        capacity: tally(Kind::Capacity),
        warm_up_misses,
        skipped,
        disagreements,
        strays: servers.strays(),
        repeated,
        seconds,
    })
}
