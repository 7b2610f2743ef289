//! Connections that follow the target's latency: a run starts on a few connections and opens
//! more while the throughput rises, up to a cap ([`CheckConfig::concurrency`]).
//!
//! A controller measures the requests answered in each window of [`WINDOW`] and adjusts the
//! limit of connections at work (each worker holds one connection; worker `i` works while
//! `i < limit`):
//!
//! - **growing**: the limit doubles while each doubling raises the throughput by more than
//!   [`GAIN`]: a target whose answers take long (a server that waits for a delayed ACK, a
//!   remote one) is served by many connections at once;
//! - **holding**: once a doubling gains nothing, the limit goes back to the best one seen, and
//!   every [`PROBE_EVERY`] windows it tries a quarter more: a target that is saturated (one
//!   core, a development server) gets no more connections than help it.
//!
//! [`CheckConfig::concurrency`]: super::CheckConfig::concurrency

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// Connections a run starts with.
pub(crate) const START: usize = 4;
/// How long throughput is measured before the limit changes.
pub(crate) const WINDOW: Duration = Duration::from_millis(200);
/// The rise in throughput that makes more connections worth it.
const GAIN: f64 = 1.15;
/// Windows between two tries of more connections once the limit holds.
const PROBE_EVERY: u32 = 10;

/// The decision rule, without clocks or tasks: given each window's throughput, the next
/// limit.
///
/// From 4 connections, windows of 100, 200 and 205 requests/s give limits 8, 16, then 8
/// again (the last doubling gained nothing); the unit tests below walk through a
/// latency-bound and a saturated target.
#[derive(Debug, Clone)]
pub(crate) struct Control {
    limit: usize,
    cap: usize,
    growing: bool,
    /// The best throughput seen, and at which limit.
    best: (f64, usize),
    /// Windows since the limit last changed while holding.
    held: u32,
}

impl Control {
    pub(crate) fn new(start: usize, cap: usize) -> Control {
        let cap = cap.max(1);
        Control {
            limit: start.clamp(1, cap),
            cap,
            growing: true,
            best: (0.0, start.clamp(1, cap)),
            held: 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Takes the throughput (requests per second) of the window just ended at the current
    /// limit; the limit for the next window.
    pub(crate) fn observe(&mut self, rate: f64) -> usize {
        let (best_rate, best_limit) = self.best;
        if self.growing {
            if rate > best_rate * GAIN {
                self.best = (rate, self.limit);
                self.limit = (self.limit * 2).min(self.cap);
                self.growing = self.limit > self.best.1;
            } else {
                self.growing = false;
                self.held = 0;
                self.limit = best_limit;
            }
        } else {
            // The target's pace drifts: the best is what the current limit does now.
            if self.limit == best_limit {
                self.best.0 = rate;
            }
            self.held += 1;
            if self.held >= PROBE_EVERY && self.limit < self.cap {
                self.held = 0;
                self.growing = true;
                self.best = (rate, self.limit);
                self.limit = (self.limit + self.limit.div_ceil(4)).min(self.cap);
            }
        }
        self.limit
    }
}

/// The limit shared with the workers.
pub(crate) struct Limiter {
    limit: watch::Sender<usize>,
    /// Set when the run has no case left to start: every worker may go (and finds none).
    released: AtomicBool,
}

impl Limiter {
    /// A limiter starting at [`START`] connections, at most `cap`.
    pub(crate) fn new(cap: usize) -> Limiter {
        let (limit, _) = watch::channel(START.clamp(1, cap.max(1)));
        Limiter {
            limit,
            released: AtomicBool::new(false),
        }
    }

    /// What a worker watches.
    pub(crate) fn subscribe(&self) -> watch::Receiver<usize> {
        self.limit.subscribe()
    }

    /// Lets every worker go: the run starts no more cases.
    pub(crate) fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
        self.limit.send_replace(usize::MAX);
    }

    /// Adjusts the limit every [`WINDOW`] from the requests `answered` counts, until the
    /// limiter is released or `until` (the run's deadline).
    pub(crate) async fn control(&self, cap: usize, until: Instant, answered: impl Fn() -> u64) {
        let mut control = Control::new(*self.limit.borrow(), cap);
        let mut last = (Instant::now(), answered());
        while Instant::now() < until && !self.released.load(Ordering::SeqCst) {
            tokio::time::sleep(WINDOW).await;
            let now = (Instant::now(), answered());
            let seconds = now.0.duration_since(last.0).as_secs_f64().max(1e-3);
            let rate = now.1.saturating_sub(last.1) as f64 / seconds;
            last = now;
            let limit = control.observe(rate);
            self.limit.send_if_modified(|l| {
                let change = *l != limit && !self.released.load(Ordering::SeqCst);
                if change {
                    *l = limit;
                }
                change
            });
        }
    }
}

/// Waits until worker `id` may work under the limit `rx` carries.
pub(crate) async fn admitted(id: usize, rx: &mut watch::Receiver<usize>) {
    // The sender lives as long as the run: an error cannot happen while workers wait.
    let _ = rx.wait_for(|limit| id < *limit).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_while_throughput_rises_then_holds_at_the_best() {
        let mut c = Control::new(4, 32);
        // A latency-bound target: throughput proportional to connections.
        assert_eq!(c.observe(100.0), 8);
        assert_eq!(c.observe(200.0), 16);
        assert_eq!(c.observe(400.0), 32);
        assert_eq!(c.observe(800.0), 32, "capped");
        // A saturated target: doubling gains nothing, so the limit goes back.
        let mut c = Control::new(4, 32);
        assert_eq!(c.observe(700.0), 8);
        assert_eq!(c.observe(690.0), 4);
        for _ in 0..PROBE_EVERY - 1 {
            assert_eq!(c.observe(700.0), 4);
        }
        // Every few windows it tries a little more, and keeps it only if it helps.
        assert_eq!(c.observe(700.0), 5);
        assert_eq!(c.observe(705.0), 4);
    }

    #[test]
    fn the_limit_stays_within_one_and_the_cap() {
        let mut c = Control::new(4, 1);
        assert_eq!(c.limit(), 1);
        for rate in [0.0, 10.0, 1e9, 0.0] {
            let l = c.observe(rate);
            assert!((1..=1).contains(&l));
        }
        let mut c = Control::new(4, 6);
        for rate in [1.0, 2.0, 4.0, 8.0, 16.0] {
            assert!(c.observe(rate) <= 6);
        }
    }
}
