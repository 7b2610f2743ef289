//! Browser sessions and the page batches in each.
//!
//! Single-step jobs look nothing up in the preflight cache (each has its own URL), so they
//! share sessions. Jobs over several steps depend on the cache keeping their entries, and
//! browsers cap it (Chromium purges entries beyond about a thousand keys, Firefox keeps the
//! 100 most recently used): they run in small batches, in fresh browser sessions of at most
//! `session_jobs` jobs. A job over more than [`ISOLATE_URLS`] URLs runs alone in a fresh
//! browser, so that its cache holds nothing else (D31).

use super::jobs::Job;
use super::{Kind, Options, ISOLATE_URLS, WARM_UP_STEPS};
use crate::generate::{self, Origins};
use crate::replay::Replay;

/// Single-step jobs per browser session: a fresh browser every this many, so that no browser
/// state builds up over tens of thousands of requests.
const SINGLES_PER_SESSION: usize = 5000;

/// Jobs of one kind that the page runs concurrently: indices into the run's jobs.
pub(super) struct Batch {
    pub(super) kind: Kind,
    pub(super) jobs: Vec<usize>,
}

/// One fresh browser: its warm-up job (Firefox's sessions of jobs over several steps, D27),
/// then its batches in order.
pub(super) struct Session {
    pub(super) warm_up: Option<Replay>,
    pub(super) batches: Vec<Batch>,
}

/// Every session of a run, in the order they run.
pub(super) struct Plan {
    pub(super) sessions: Vec<Session>,
}

/// How a job is scheduled.
#[derive(PartialEq, Eq)]
enum Group {
    /// One step: shares sessions with the other single-step jobs.
    Single,
    /// Several steps over at most [`ISOLATE_URLS`] URLs: batched with other such jobs.
    Multi,
    /// Several steps over more URLs: a session of its own.
    Isolated,
}

fn group(r: &Replay) -> Group {
    if r.steps.len() == 1 {
        Group::Single
    } else if distinct_urls(r) <= ISOLATE_URLS {
        Group::Multi
    } else {
        Group::Isolated
    }
}

fn distinct_urls(r: &Replay) -> usize {
    let mut urls: Vec<&str> = r.steps.iter().map(|s| s.request.url.as_str()).collect();
    urls.sort_unstable();
    urls.dedup();
    urls.len()
}

/// `idx` (in order) cut into batches of at most `size` jobs, a new batch wherever the kind
/// changes.
fn batches(jobs: &[Job], idx: &[usize], size: usize) -> Vec<Batch> {
    let mut out: Vec<Batch> = Vec::new();
    for &i in idx {
        match out.last_mut() {
            Some(b) if b.kind == jobs[i].kind && b.jobs.len() < size => b.jobs.push(i),
            _ => out.push(Batch {
                kind: jobs[i].kind,
                jobs: vec![i],
            }),
        }
    }
    out
}

impl Plan {
    /// Sessions of single-step jobs, then of jobs over several steps, then one per isolated
    /// job; each group in the jobs' order. The warm-up of session `n` has the key `w{n}`.
    pub(super) fn new(jobs: &[Job], opts: &Options, profile: &str, origins: &Origins) -> Plan {
        let in_group = |g: Group| -> Vec<usize> {
            (0..jobs.len())
                .filter(|&i| group(&jobs[i].replay) == g)
                .collect()
        };
        let batch = opts.batch.max(1);
        let seq_batch = opts.seq_batch.max(1);
        let mut sessions: Vec<Vec<Batch>> = in_group(Group::Single)
            .chunks(SINGLES_PER_SESSION)
            .map(|chunk| batches(jobs, chunk, batch))
            .collect();
        let singles = sessions.len();
        sessions.extend(
            in_group(Group::Multi)
                .chunks(opts.session_jobs.max(1))
                .map(|chunk| batches(jobs, chunk, seq_batch)),
        );
        sessions.extend(in_group(Group::Isolated).into_iter().map(|i| {
            vec![Batch {
                kind: jobs[i].kind,
                jobs: vec![i],
            }]
        }));
        let sessions = sessions
            .into_iter()
            .enumerate()
            .map(|(n, batches)| Session {
                warm_up: (n >= singles && generate::ip_warm_up(profile))
                    .then(|| generate::warm_up(&format!("w{n}"), profile, origins, WARM_UP_STEPS)),
                batches,
            })
            .collect();
        Plan { sessions }
    }

    /// Batches over every session.
    pub(super) fn batches(&self) -> usize {
        self.sessions.iter().map(|s| s.batches.len()).sum()
    }

    /// The warm-up jobs, in session order.
    pub(super) fn warm_ups(&self) -> impl Iterator<Item = &Replay> {
        self.sessions.iter().filter_map(|s| s.warm_up.as_ref())
    }
}
