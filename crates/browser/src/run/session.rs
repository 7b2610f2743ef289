//! Driving the browser: per session, the batches pushed to the page, a fresh browser started
//! on it, and its reports collected until every job of the session has reported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::jobs::Job;
use super::plan::{Plan, Session};
use super::{Kind, Options};
use crate::error::Error;
use crate::launch::Running;
use crate::replay::StepResult;
use crate::server::Servers;

/// How often the page's reports are polled (and the browser checked for having exited).
const POLL: Duration = Duration::from_millis(500);

/// What the page reported: each job's steps, by key, and the seconds each kind's batches
/// took (browser start-up excluded).
pub(super) struct Reports {
    pub(super) results: HashMap<String, Vec<StepResult>>,
    pub(super) kind_seconds: BTreeMap<Kind, f64>,
}

/// Runs every session of the plan in turn, each in a fresh browser.
pub(super) fn drive(
    plan: &Plan,
    jobs: &[Job],
    opts: &Options,
    program: &Path,
    servers: &Servers,
) -> Result<Reports, Error> {
    let mut driver = Driver {
        jobs,
        opts,
        program,
        servers,
        reports: Reports {
            results: HashMap::new(),
            kind_seconds: BTreeMap::new(),
        },
        done: 0,
        total: plan.batches(),
    };
    for session in &plan.sessions {
        driver.push(session);
        driver.run(session)?;
    }
    Ok(driver.reports)
}

/// What a run's sessions share, and what they have reported so far.
struct Driver<'a> {
    jobs: &'a [Job],
    opts: &'a Options,
    program: &'a Path,
    servers: &'a Servers,
    reports: Reports,
    /// Batches reported so far (warm-ups not counted).
    done: usize,
    /// Batches in all.
    total: usize,
}

impl Driver<'_> {
    /// Queues the session's warm-up (a batch of its own) and its batches for the page.
    fn push(&self, session: &Session) {
        if let Some(w) = &session.warm_up {
            self.servers
                .push_batch(json!({ "jobs": [w.job()] }).to_string());
        }
        for b in &session.batches {
            let batch_jobs: Vec<Value> =
                b.jobs.iter().map(|&i| self.jobs[i].replay.job()).collect();
            self.servers
                .push_batch(json!({ "jobs": batch_jobs }).to_string());
        }
    }

    /// Starts the browser on the page and collects reports until every job of the session
    /// (its warm-up included) has reported. Reports are matched by the keys they carry (a
    /// report the page had to send again is harmless). A batch's time runs from the previous
    /// report (or the page's load) to its report, and counts for the kind of its jobs.
    fn run(&mut self, session: &Session) -> Result<(), Error> {
        let jobs = self.jobs;
        let loads_before = self.servers.page_loads();
        let page = format!("{}/", self.servers.page_origin);
        let mut browser = Running::start(self.opts.browser, self.program, &page)?;
        let kind_of: HashMap<&str, Kind> = session
            .batches
            .iter()
            .flat_map(|b| {
                b.jobs
                    .iter()
                    .map(|&i| (jobs[i].replay.key.as_str(), b.kind))
            })
            .collect();
        let mut pending: HashSet<&str> = kind_of
            .keys()
            .copied()
            .chain(session.warm_up.as_ref().map(|w| w.key.as_str()))
            .collect();
        let mut prev: Option<Instant> = None;
        while !pending.is_empty() {
            let report = self.next_report(&mut browser, loads_before)?;
            let mut kind: Option<Kind> = None;
            for Reported { key, steps } in parse_report(&report)? {
                if let Some(k) = pending.take(key.as_str()) {
                    kind = kind_of.get(k).copied();
                }
                self.reports.results.insert(key, steps);
            }
            let now = Instant::now();
            let from = prev.or(self.servers.page_loaded_at()).unwrap_or(now);
            if let Some(kind) = kind {
                *self.reports.kind_seconds.entry(kind).or_default() +=
                    now.saturating_duration_since(from).as_secs_f64();
                self.done += 1;
            }
            prev = Some(now);
        }
        Ok(())
    }

    /// The page's next report; an error if the browser exits or the page stays silent for
    /// the stall time.
    fn next_report(&self, browser: &mut Running, loads_before: usize) -> Result<Value, Error> {
        let (servers, stall) = (self.servers, self.opts.stall);
        let (done, total) = (self.done, self.total);
        let mut waited = Duration::ZERO;
        loop {
            if let Some(r) = servers.next_report(POLL) {
                return Ok(r);
            }
            waited += POLL;
            if let Some(status) = browser.exited() {
                return Err(Error::BrowserStalled(format!(
                "the browser exited ({status}) after {done} of {total} batches; its log ends:\n{}",
                browser.log_tail()
            )));
            }
            if waited >= stall {
                return Err(Error::BrowserStalled(format!(
                "no report for {} s after {done} of {total} batches (page loads: {}); the browser's log ends:\n{}",
                stall.as_secs(),
                servers.page_loads() - loads_before,
                browser.log_tail()
            )));
            }
        }
    }
}

/// One job's result in a report.
struct Reported {
    key: String,
    /// What script saw, per step.
    steps: Vec<StepResult>,
}

/// A report's results, in order.
fn parse_report(report: &Value) -> Result<Vec<Reported>, Error> {
    if let Some(f) = report.get("fatal").or_else(|| report.get("malformed")) {
        return Err(Error::Report(f.to_string()));
    }
    let list = report
        .get("results")
        .and_then(|r| r.as_array())
        .ok_or_else(|| Error::Report(format!("no results in {report}")))?;
    list.iter()
        .map(|item| {
            let key = item
                .get("key")
                .and_then(|k| k.as_str())
                .ok_or_else(|| Error::Report(format!("result without key: {item}")))?;
            let steps: Vec<StepResult> =
                serde_json::from_value(item.get("steps").cloned().unwrap_or_default())
                    .map_err(|e| Error::Report(format!("{key}: {e}")))?;
            Ok(Reported {
                key: key.to_string(),
                steps,
            })
        })
        .collect()
}
