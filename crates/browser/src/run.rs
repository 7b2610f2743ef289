//! A differential run: generated cases, spec vectors, cache sequences and capacity sequences
//! replayed in one browser, each compared with the oracle's outcome under the browser's
//! profile.
//!
//! [`run`] is a pipeline over four private modules: `jobs` builds the jobs (each rendered for
//! the run's origins, with the oracle's outputs), `plan` cuts them into browser sessions and
//! page batches, `session` drives each session in a fresh browser and collects the page's
//! reports, and `compare` compares each job with the oracle into tallies and disagreements.

mod compare;
mod jobs;
mod plan;
mod session;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use corsproof_case::{Input, Output};
use serde::Serialize;

use crate::error::Error;
use crate::generate::Origins;
use crate::launch::Browser;
use crate::page::PAGE;
use crate::replay::{Replay, StepResult};
use crate::server::{HopSeen, Servers};

use compare::{compare, Compared};
use jobs::Jobs;
use plan::Plan;
use session::drive;

/// Seconds around a cache entry's expiry within which a later step's outcome depends on
/// timing the page cannot control (the preflight's own latency).
pub const TIMING_MARGIN: f64 = 0.5;

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
    /// Requests sent again at the same hop (see [`crate::replay::repeats`]): the labels of their cases.
    pub repeated: Vec<String>,
    /// Seconds, browser start to last report.
    pub seconds: f64,
}

/// Where a job comes from: its tally in the [`Summary`].
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

/// Runs the differential: builds the jobs (each with the oracle's outputs), plans the browser
/// sessions, drives them, and compares each job's results with the oracle.
pub fn run(opts: &Options) -> Result<Summary, Error> {
    let program = opts.browser.find()?;
    let browser_version = opts.browser.version(&program);
    let profile = opts.browser.profile();
    let servers = Servers::start(PAGE.to_string(), 3)?;
    let origins = Origins::new(servers.page_origin.clone(), servers.origins.clone());

    let jobs = Jobs::build(opts, profile, &origins)?;
    let plan = Plan::new(&jobs.list, opts, profile, &origins);
    for r in jobs.list.iter().map(|j| &j.replay).chain(plan.warm_ups()) {
        servers.add_job(&r.key, r.scripts());
    }

    let t0 = Instant::now();
    let reports = drive(&plan, &jobs.list, opts, &program, &servers)?;
    let seconds = t0.elapsed().as_secs_f64();
    let warm_up_misses = plan
        .warm_ups()
        .map(|w| warm_up_misses(w, &servers))
        .collect();

    let Compared {
        mut tallies,
        disagreements,
        repeated,
    } = compare(&jobs.list, &reports.results, &servers, profile)?;
    for (k, t) in tallies.iter_mut() {
        t.seconds = reports.kind_seconds.get(k).copied().unwrap_or(0.0);
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
        skipped: jobs.skipped,
        disagreements,
        strays: servers.strays(),
        repeated,
        seconds,
    })
}

/// Of a warm-up job's repeated requests (every step after the first), how many were
/// preflighted again.
fn warm_up_misses(w: &Replay, servers: &Servers) -> usize {
    servers
        .seen(&w.key)
        .iter()
        .skip(1)
        .filter(|hops| hops.iter().any(|h| !h.preflights.is_empty()))
        .count()
}
