//! A differential run: generated cases, spec vectors and cache sequences replayed in one
//! browser, each compared with the oracle's outcome under the browser's profile.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use corsproof_spec::case::{Input, Output};
use serde::Serialize;
use serde_json::json;

use crate::error::Error;
use crate::generate::{self, Origins};
use crate::launch::{Browser, Running};
use crate::page::PAGE;
use crate::replay::{compare_step, repeats, Replay, StepResult};
use crate::server::{HopSeen, Servers};
use crate::vectors::{self, Mapped};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The browser.
    pub browser: Browser,
    /// Generated single cases.
    pub cases: usize,
    /// Generated cache sequences.
    pub sequences: usize,
    /// The generators' seed.
    pub seed: u64,
    /// Where the spec vectors are (`None`: none replayed).
    pub vectors: Option<PathBuf>,
    /// Jobs per page batch.
    pub batch: usize,
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
    /// Seconds from the first to the last report of this kind.
    pub seconds: f64,
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
}

/// Runs the differential.
pub fn run(opts: &Options) -> Result<Summary, Error> {
    let program = opts.browser.find()?;
    let browser_version = opts.browser.version(&program);
    let profile = opts.browser.profile();
    let servers = Servers::start(PAGE.to_string(), 3)?;
    let origins = Origins {
        page: servers.page_origin.clone(),
        scripted: servers.origins.clone(),
    };

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
        let r = s.render(
            format!("cache sequence #{i} (seed {})", opts.seed),
            &format!("s{i}"),
            profile,
            &origins,
        );
        let out = r.oracle()?;
        jobs.push((Kind::Sequence, r, out));
    }

    for (_, r, _) in &jobs {
        servers.add_job(&r.key, r.scripts());
    }
    let mut batch_kinds = Vec::new();
    let batch = opts.batch.max(1);
    let mut start = 0;
    while start < jobs.len() {
        let kind = jobs[start].0;
        let end = jobs[start..]
            .iter()
            .take(batch)
            .take_while(|j| j.0 == kind)
            .count()
            + start;
        let batch_jobs: Vec<_> = jobs[start..end].iter().map(|(_, r, _)| r.job()).collect();
        servers.push_batch(json!({ "jobs": batch_jobs }).to_string());
        batch_kinds.push(kind);
        start = end;
    }

    let t0 = Instant::now();
    let mut browser = Running::start(opts.browser, &program, &format!("{}/", servers.page_origin))?;
    let mut results: HashMap<String, Vec<StepResult>> = HashMap::new();
    let mut last_report: BTreeMap<Kind, f64> = BTreeMap::new();
    let mut first_report: BTreeMap<Kind, f64> = BTreeMap::new();
    let mut prev = 0.0;
    for (n, kind) in batch_kinds.iter().enumerate() {
        let mut waited = Duration::ZERO;
        let report = loop {
            if let Some(r) = servers.next_report(Duration::from_millis(500)) {
                break r;
            }
            waited += Duration::from_millis(500);
            if let Some(status) = browser.exited() {
                return Err(Error::BrowserStalled(format!(
                    "the browser exited ({status}) after {n} of {} batches; its log ends:\n{}",
                    batch_kinds.len(),
                    browser.log_tail()
                )));
            }
            if waited >= opts.stall {
                return Err(Error::BrowserStalled(format!(
                    "no report for {} s after {n} of {} batches (page loads: {}); the browser's log ends:\n{}",
                    opts.stall.as_secs(),
                    batch_kinds.len(),
                    servers.page_loads(),
                    browser.log_tail()
                )));
            }
        };
        if let Some(f) = report.get("fatal").or_else(|| report.get("malformed")) {
            return Err(Error::Report(f.to_string()));
        }
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
            results.insert(key.to_string(), steps);
        }
        let now = t0.elapsed().as_secs_f64();
        if n == 0 {
            prev = servers
                .page_loaded_at()
                .map_or(0.0, |t| t.duration_since(t0).as_secs_f64());
        }
        first_report.entry(*kind).or_insert(prev);
        last_report.insert(*kind, now);
        prev = now;
    }
    let seconds = t0.elapsed().as_secs_f64();
    drop(browser);

    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut repeated = Vec::new();
    for (kind, r, oracle) in &jobs {
        let t = tallies.entry(*kind).or_default();
        t.replayed += 1;
        t.steps += r.steps.len();
        t.cache_hits += oracle.iter().filter(|o| o.preflight_cached).count();
        let script = results.get(&r.key).cloned().unwrap_or_default();
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
        for (i, (o, b)) in oracle.iter().zip(&script).enumerate() {
            let hops = seen.get(i).map(Vec::as_slice).unwrap_or_default();
            let xhr = r.steps.get(i).is_some_and(|s| s.request.use_cors_preflight);
            for d in compare_step(o, b, hops, xhr) {
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
                explain_input: r.input.clone(),
                oracle: oracle.clone(),
                browser_script: script,
                browser_server: seen,
            });
        }
    }
    for (k, t) in tallies.iter_mut() {
        t.seconds = last_report.get(k).copied().unwrap_or(0.0)
            - first_report.get(k).copied().unwrap_or(0.0);
    }
    let tally = |k: Kind| tallies.get(&k).cloned().unwrap_or_default();
    Ok(Summary {
        browser_version,
        profile,
        seed: opts.seed,
        cases: tally(Kind::Case),
        vectors: tally(Kind::Vector),
        sequences: tally(Kind::Sequence),
        skipped,
        disagreements,
        strays: servers.strays(),
        repeated,
        seconds,
    })
}
