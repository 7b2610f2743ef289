//! The jobs of a run: generated cases, spec vectors, cache sequences and capacity sequences,
//! each rendered for the run's origins and paired with the oracle's outputs.

use std::collections::BTreeMap;

use corsproof_case::Output;
use corsproof_oracle::profile::Capacity;

use super::{Kind, Options};
use crate::error::Error;
use crate::generate::{self, Origins};
use crate::replay::Replay;
use crate::vectors::{self, Mapped};

/// One job: what to replay and what the oracle says it does, one output per step.
pub(super) struct Job {
    pub(super) kind: Kind,
    pub(super) replay: Replay,
    pub(super) oracle: Vec<Output>,
}

impl Job {
    fn new(kind: Kind, replay: Replay) -> Result<Job, Error> {
        let oracle = replay.oracle()?;
        Ok(Job {
            kind,
            replay,
            oracle,
        })
    }
}

/// Every job of a run, in the order they are planned and reported, and the vectors that
/// cannot be replayed.
pub(super) struct Jobs {
    pub(super) list: Vec<Job>,
    /// Vectors not replayable: reason and labels.
    pub(super) skipped: BTreeMap<String, Vec<String>>,
}

impl Jobs {
    /// Generated cases, then vectors, then cache sequences, then capacity sequences.
    pub(super) fn build(opts: &Options, profile: &str, origins: &Origins) -> Result<Jobs, Error> {
        let mut list = cases(opts, profile, origins)?;
        let mut skipped = BTreeMap::new();
        if let Some(dir) = &opts.vectors {
            list.extend(vector_jobs(dir, profile, origins, &mut skipped)?);
        }
        list.extend(sequences(opts, profile, origins)?);
        list.extend(capacity_sequences(opts, profile, origins)?);
        Ok(Jobs { list, skipped })
    }
}

fn cases(opts: &Options, profile: &str, origins: &Origins) -> Result<Vec<Job>, Error> {
    let mut runner = generate::runner(opts.seed);
    generate::sample(generate::case(), &mut runner, opts.cases)
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let label = format!("generated case #{i} (seed {})", opts.seed);
            Job::new(
                Kind::Case,
                c.render(label, &format!("g{i}"), profile, origins),
            )
        })
        .collect()
}

fn vector_jobs(
    dir: &std::path::Path,
    profile: &str,
    origins: &Origins,
    skipped: &mut BTreeMap<String, Vec<String>>,
) -> Result<Vec<Job>, Error> {
    let mut jobs = Vec::new();
    for (i, v) in vectors::load(dir)?.iter().enumerate() {
        match vectors::map(v, &format!("v{i}"), profile, origins) {
            Mapped::Replay(r) => jobs.push(Job::new(Kind::Vector, *r)?),
            Mapped::Skipped(reason) => skipped.entry(reason).or_default().push(v.label.clone()),
        }
    }
    Ok(jobs)
}

fn sequences(opts: &Options, profile: &str, origins: &Origins) -> Result<Vec<Job>, Error> {
    let mut runner = generate::runner(opts.seed ^ 0x5e9_u64);
    generate::sample(generate::sequence(), &mut runner, opts.sequences)
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let label = format!("cache sequence #{i} (seed {})", opts.seed);
            // Every fourth sequence targets the IP address, the others the host name.
            let ip_host = i % 4 == 3;
            let r = s.render(label, &format!("s{i}"), profile, origins, ip_host);
            Job::new(Kind::Sequence, r)
        })
        .collect()
}

fn capacity_sequences(opts: &Options, profile: &str, origins: &Origins) -> Result<Vec<Job>, Error> {
    let capacity = corsproof_oracle::Profile::by_name(profile)
        .map_or(Capacity::Unbounded, |p| p.cache.capacity);
    let mut runner = generate::runner(opts.seed ^ 0xca9a_c17e_u64);
    let strategy = generate::capacity_sequence(capacity);
    generate::sample(strategy, &mut runner, opts.capacity_sequences)
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let label = format!("capacity sequence #{i} (seed {})", opts.seed);
            // Every other capacity sequence targets the IP address.
            let r = s.render(label, &format!("k{i}"), profile, origins, i % 2 == 1);
            Job::new(Kind::Capacity, r)
        })
        .collect()
}
