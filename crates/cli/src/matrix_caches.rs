//! `corsproof matrix --caches`: each target × policy cell, after its check and before its
//! target is stopped, probed behind each shared cache in turn (corsproof_targets::cache,
//! corsproof_engine::cache_probe). The caches are started once for the run, in front of a
//! relay (corsproof_targets::relay) pointed at each cell's target.

use std::time::Instant;

use anyhow::Context;

use clap::builder::PossibleValue;
use corsproof_engine::cache_probe;
use corsproof_matrix::{CacheCell, CacheInfo, CacheOutcome, Caches, SkippedCache};
use corsproof_policy::Policy;
use corsproof_targets::cache::Cache;
use corsproof_targets::launch::Running;
use corsproof_targets::registry::Target;
use corsproof_targets::relay::Relay;
use url::Url;

/// A cache named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheArg(pub Cache);

const ARGS: [CacheArg; 3] = [
    CacheArg(Cache::ALL[0]),
    CacheArg(Cache::ALL[1]),
    CacheArg(Cache::ALL[2]),
];

impl clap::ValueEnum for CacheArg {
    fn value_variants<'a>() -> &'a [Self] {
        &ARGS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.name()).help(self.0.product()))
    }
}

/// The caches asked for that are installed (the others recorded as skipped), in the order
/// given.
pub fn available(asked: &[CacheArg]) -> (Vec<Cache>, Caches) {
    let mut caches = Caches::default();
    let mut ready = Vec::new();
    for CacheArg(cache) in asked {
        if ready.contains(cache) {
            continue;
        }
        match cache.version() {
            Ok(version) => {
                ready.push(*cache);
                caches.ran.push(CacheInfo {
                    cache: cache.name(),
                    product: cache.product(),
                    version,
                });
            }
            Err(missing) => caches.skipped.push(SkippedCache {
                cache: cache.name(),
                reason: missing.to_string(),
            }),
        }
    }
    (ready, caches)
}

/// The caches of a run, started once in front of a relay that is pointed at each cell's
/// target in turn (a cache takes up to a second to start; a cell's probe a few tens of
/// milliseconds). Dropping it stops them.
pub struct Fronts {
    relay: Relay,
    /// Each cache, or why it did not start.
    caches: Vec<(Cache, Result<Running, String>)>,
    /// Cells probed so far: part of every probe's URLs, with the process id.
    probes: u64,
    seconds: f64,
}

impl Fronts {
    /// Starts the relay and each of `caches` in front of it; `None` for no cache.
    pub fn start(caches: &[Cache]) -> anyhow::Result<Option<Fronts>> {
        if caches.is_empty() {
            return Ok(None);
        }
        let started = Instant::now();
        let relay = Relay::start().context("cannot start the relay in front of the targets")?;
        let upstream = relay.url().clone();
        let caches = caches
            .iter()
            .map(|c| (*c, c.launch(&upstream).map_err(|e| e.to_string())))
            .collect();
        Ok(Some(Fronts {
            relay,
            caches,
            probes: 0,
            seconds: started.elapsed().as_secs_f64(),
        }))
    }

    /// Seconds spent starting the caches and probing.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// The target running at `url` (configured from `policy`, labelled `label`) probed behind
    /// each cache: one cell each.
    pub fn probe(
        &mut self,
        target: Target,
        policy: &Policy,
        label: &str,
        url: &Url,
    ) -> Vec<CacheCell> {
        let started = Instant::now();
        self.relay.point_at(url);
        self.probes += 1;
        let nonce = format!("{}-{}", std::process::id(), self.probes);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let mut out = Vec::new();
        for (cache, front) in &self.caches {
            let outcome = match (front, &runtime) {
                (Err(why), _) => CacheOutcome::Failed {
                    why: format!("the cache did not start: {why}"),
                },
                (_, Err(e)) => CacheOutcome::Failed { why: e.to_string() },
                (Ok(front), Ok(runtime)) => outcome(runtime.block_on(cache_probe::probe(
                    policy,
                    url,
                    front.url(),
                    cache.name(),
                    &nonce,
                ))),
            };
            out.push(CacheCell {
                target: target.name(),
                policy: label.to_string(),
                cache: cache.name(),
                outcome,
            });
        }
        self.seconds += started.elapsed().as_secs_f64();
        out
    }
}

fn outcome(report: Result<cache_probe::CacheReport, cache_probe::CacheProbeError>) -> CacheOutcome {
    match report {
        Err(e) => CacheOutcome::Failed { why: e.to_string() },
        Ok(r)
            if !r.errors.is_empty()
                && r.findings.is_empty()
                && r.errors.len() as u64 * 2 > r.requests =>
        {
            CacheOutcome::Failed {
                why: format!(
                    "{} of {} requests got no usable answer: {}",
                    r.errors.len(),
                    r.requests,
                    r.errors.join("; ")
                ),
            }
        }
        Ok(r) => CacheOutcome::Probed {
            findings: r.findings,
            requests: r.requests,
            seconds: r.seconds,
        },
    }
}
