//! Each job's browser results compared with the oracle: per step, the outcome (one of the
//! oracle's outcomes for an undetermined step, D31) and every request on the wire.

use std::collections::{BTreeMap, HashMap};

use corsproof_case::{Input, Output, Undetermined};
use corsproof_oracle::Profile;

use super::jobs::Job;
use super::{Disagreement, Kind, Tally, TIMING_MARGIN};
use crate::error::Error;
use crate::replay::{compare_step, compare_step_wire, expected_wire, repeats, StepResult};
use crate::server::{HopSeen, Servers};

/// The comparison of a run: figures per kind, the disagreements, and the labels of the jobs
/// where the browser sent a request again at the same hop.
pub(super) struct Compared {
    pub(super) tallies: BTreeMap<Kind, Tally>,
    pub(super) disagreements: Vec<Disagreement>,
    pub(super) repeated: Vec<String>,
}

/// What every job is compared against: what reached the servers, the oracle's profile, and
/// the page's host (the host for which the page set its cookie, see [`expected_wire`]).
struct Context<'a> {
    servers: &'a Servers,
    profile: Profile,
    page_host: String,
}

/// Compares every job, in order, with what the page reported (`results`, by key) and what
/// reached the servers.
pub(super) fn compare(
    jobs: &[Job],
    results: &HashMap<String, Vec<StepResult>>,
    servers: &Servers,
    profile: &str,
) -> Result<Compared, Error> {
    let page_host = url::Url::parse(&servers.page_origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let profile = Profile::by_name(profile)
        .ok_or_else(|| Error::Report(format!("no oracle profile {profile}")))?;
    let cx = Context {
        servers,
        profile,
        page_host,
    };
    let mut out = Compared {
        tallies: BTreeMap::new(),
        disagreements: Vec::new(),
        repeated: Vec::new(),
    };
    for job in jobs {
        let script = results.get(&job.replay.key).cloned().unwrap_or_default();
        cx.job(job, script, &mut out)?;
    }
    Ok(out)
}

impl Context<'_> {
    /// Counts the job in its kind's tally and compares it. Over several steps the oracle is
    /// judged at the times the steps really started (the page's clock), and a job whose
    /// outcome hangs on less than [`TIMING_MARGIN`] seconds around a cache entry's expiry is
    /// counted, not compared.
    fn job(&self, job: &Job, script: Vec<StepResult>, out: &mut Compared) -> Result<(), Error> {
        let r = &job.replay;
        let t = out.tallies.entry(job.kind).or_default();
        t.replayed += 1;
        t.steps += r.steps.len();
        t.cache_hits += job
            .oracle
            .iter()
            .filter(|o| o.preflight_cached && o.undetermined.is_none())
            .count();
        let (input, oracle) = match measured(&r.input, &script) {
            Some(Measured::Ambiguous) => {
                t.timing_ambiguous += 1;
                return Ok(());
            }
            Some(Measured::At(input, outputs)) => (input, outputs),
            None => (r.input.clone(), job.oracle.clone()),
        };
        let seen = self.servers.seen(&r.key);
        if seen.iter().map(|s| repeats(s)).sum::<usize>() > 0 {
            out.repeated.push(r.label.clone());
        }
        let diffs = self.differences(job, &input, &oracle, &script, &seen, t)?;
        if diffs.is_empty() {
            t.agreed += 1;
        } else {
            out.disagreements.push(Disagreement {
                label: r.label.clone(),
                differences: diffs,
                explain_input: input,
                oracle,
                browser_script: script,
                browser_server: seen,
            });
        }
        Ok(())
    }

    /// Every difference of the job, each prefixed with its step when it has several: a step
    /// count the page got wrong, then per step its outcome and its requests on the wire (the
    /// oracle's `wire` module, for `input`).
    fn differences(
        &self,
        job: &Job,
        input: &Input,
        oracle: &[Output],
        script: &[StepResult],
        seen: &[Vec<HopSeen>],
        t: &mut Tally,
    ) -> Result<Vec<String>, Error> {
        let r = &job.replay;
        let mut diffs = Vec::new();
        if script.len() != r.steps.len() {
            diffs.push(format!(
                "the page reported {} steps of {}",
                script.len(),
                r.steps.len()
            ));
        }
        let wire = expected_wire(input, seen, &self.page_host).map_err(|source| Error::Case {
            label: r.label.clone(),
            source,
        })?;
        for (i, (o, b)) in oracle.iter().zip(script).enumerate() {
            let hops = seen.get(i).map(Vec::as_slice).unwrap_or_default();
            let xhr = r.steps.get(i).is_some_and(|s| s.request.use_cors_preflight);
            let mut step_diffs = match &o.undetermined {
                None => compare_step(o, b, hops, xhr),
                Some(u) => undetermined(u, o, b, hops, xhr, t),
            };
            // The wire of an undetermined step depends on which of its outcomes the browser
            // took; the outcome comparison above covers it.
            if o.undetermined.is_none() {
                let expected = wire.get(i).map(Vec::as_slice).unwrap_or_default();
                let (compared, wire_diffs) = compare_step_wire(expected, &self.profile, hops);
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
        Ok(diffs)
    }
}

/// An undetermined step (D31) must show one of the outcomes the oracle lists; the first of
/// them is the one with every entry still cached. Counted in `t`.
fn undetermined(
    u: &Undetermined,
    o: &Output,
    b: &StepResult,
    hops: &[HopSeen],
    xhr: bool,
    t: &mut Tally,
) -> Vec<String> {
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

/// A job of several steps judged at the step times the page measured.
enum Measured {
    /// The input at those times and the oracle's outputs for it.
    At(Input, Vec<Output>),
    /// A step came within [`TIMING_MARGIN`] s of a cache entry's expiry.
    Ambiguous,
}

/// `input` at the measured step times and the oracle's outputs for it; `None` for a single
/// case, or when the page did not report every step with its time.
fn measured(input: &Input, script: &[StepResult]) -> Option<Measured> {
    let Input::Steps(steps) = input else {
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
