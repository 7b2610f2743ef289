//! `corsproof matrix --caches`: each target × policy cell started once more and probed behind
//! each shared cache in turn (corsproof_targets::cache, corsproof_engine::cache_probe), the
//! cache started in front of the target's loopback port and stopped after its probe.

use std::path::Path;
use std::time::Instant;

use clap::builder::PossibleValue;
use corsproof_engine::cache_probe;
use corsproof_matrix::{CacheCell, CacheInfo, CacheOutcome, Caches, SkippedCache};
use corsproof_policy::Policy;
use corsproof_targets::cache::Cache;
use corsproof_targets::registry::Target;

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

/// The target started from `policy` once, then probed behind each of `caches`: one cell each.
pub fn probe_cell(
    target: Target,
    policy: &Policy,
    label: &str,
    path: &Path,
    exe: &Path,
    caches: &[Cache],
) -> Vec<CacheCell> {
    let cell = |cache: Cache, outcome| CacheCell {
        target: target.name(),
        policy: label.to_string(),
        cache: cache.name(),
        outcome,
    };
    let failed = |why: String| {
        caches
            .iter()
            .map(|c| cell(*c, CacheOutcome::Failed { why: why.clone() }))
            .collect()
    };
    let running = match target.launch(policy, path, exe, true) {
        Ok(r) => r,
        Err(e) => return failed(format!("the target did not start: {e}")),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return failed(e.to_string()),
    };
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let mut out = Vec::new();
    for cache in caches {
        let outcome = match cache.launch(running.url()) {
            Err(e) => CacheOutcome::Failed { why: e.to_string() },
            Ok(front) => {
                let report = runtime.block_on(cache_probe::probe(
                    policy,
                    running.url(),
                    front.url(),
                    cache.name(),
                    &nonce,
                ));
                drop(front);
                outcome(report)
            }
        };
        out.push(cell(*cache, outcome));
    }
    drop(running);
    out
}

fn outcome(report: Result<cache_probe::CacheReport, cache_probe::CacheProbeError>) -> CacheOutcome {
    match report {
        Err(e) => CacheOutcome::Failed { why: e.to_string() },
        Ok(r) if !r.errors.is_empty() && r.findings.is_empty() && r.errors.len() as u64 * 2 > r.requests => {
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

/// Adds the time since `started` to the caches' total.
pub fn add_time(caches: &mut Caches, started: Instant) {
    caches.seconds += started.elapsed().as_secs_f64();
}
