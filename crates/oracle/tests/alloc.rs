//! Proves that the oracle's full evaluation path allocates nothing in steady state.
//!
//! A counting global allocator wraps `System` and counts every allocation (`alloc`,
//! `alloc_zeroed`, `realloc`) made by the measuring thread while counting is on. The request,
//! the preflight response and the actual response are built once; then each iteration runs
//! `Fetch::new` → `start` (a preflight) → `on_preflight_response` → `on_response`, checks the
//! response is readable and counts the headers script can see with
//! `expose::{ExposedList, is_visible}`. Time advances by 601 s per iteration, past the
//! preflight's max-age of 600 s, so every iteration preflights again and rewrites the cache.
//! After a warm-up, 1000 iterations must allocate 0 times.
//!
//! With `CORSPROOF_ALLOC_BACKTRACE=1` the allocator prints a backtrace for each allocation
//! made while counting, to find where one comes from.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use corsproof_oracle::{PreflightCache, Profile, Request, Response, Seconds};

#[path = "../benches/common/mod.rs"]
mod common;

struct CountingAllocator;

thread_local! {
    /// Whether allocations of this thread are being counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// The allocations counted on this thread.
    static COUNT: Cell<u64> = const { Cell::new(0) };
    /// Whether to print a backtrace for each counted allocation.
    static BACKTRACE: Cell<bool> = const { Cell::new(false) };
}

impl CountingAllocator {
    fn record(&self) {
        let counting = COUNTING.try_with(Cell::get).unwrap_or(false);
        if !counting {
            return;
        }
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        if BACKTRACE.try_with(Cell::get).unwrap_or(false) {
            // Capturing and printing allocate: stop counting meanwhile.
            let _ = COUNTING.try_with(|c| c.set(false));
            eprintln!(
                "allocation while counting:\n{}",
                std::backtrace::Backtrace::force_capture()
            );
            let _ = COUNTING.try_with(|c| c.set(true));
        }
    }
}

// SAFETY: every method forwards to `System` unchanged; counting touches only thread-locals
// with const initializers, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.record();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.record();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.record();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` with this thread's allocations counted; returns its result and the count.
fn count_allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
    COUNT.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    let out = f();
    COUNTING.with(|c| c.set(false));
    (out, COUNT.with(Cell::get))
}

/// The scenario, built once.
struct Scenario {
    request: Request,
    profile: Profile,
    preflight: Response,
    response: Response,
}

fn scenario() -> Scenario {
    Scenario {
        request: common::credentialed_put(),
        profile: Profile::fetch(),
        preflight: common::preflight_response(),
        response: common::actual_response(),
    }
}

/// One full evaluation at `now` (the benchmark's, `benches/common`).
fn evaluate(s: &Scenario, cache: &mut PreflightCache, now: Seconds) -> Option<usize> {
    common::evaluate(
        &s.request,
        &s.profile,
        &s.preflight,
        &s.response,
        cache,
        now,
    )
}

#[test]
fn the_counter_counts() {
    let (v, n) = count_allocations(|| std::hint::black_box(Vec::<u8>::with_capacity(16)));
    drop(v);
    assert_eq!(n, 1, "the counting allocator does not see allocations");
}

#[test]
fn full_evaluation_allocates_nothing_in_steady_state() {
    BACKTRACE.with(|b| b.set(std::env::var_os("CORSPROOF_ALLOC_BACKTRACE").is_some()));
    let s = scenario();
    let mut cache = PreflightCache::default();
    let mut now: Seconds = 0.0;
    // Warm-up: the cache grows its key and entry storage once; the counter sees that.
    let (first, warm_up_allocations) = count_allocations(|| evaluate(&s, &mut cache, now));
    assert_eq!(first, Some(2));
    assert!(
        warm_up_allocations > 0,
        "the first evaluation should grow the cache"
    );
    now += 601.0;
    for _ in 0..5 {
        assert_eq!(evaluate(&s, &mut cache, now), Some(2));
        now += 601.0;
    }
    let (results, allocations) = count_allocations(|| {
        let mut ok = 0u32;
        for _ in 0..1000 {
            // Content-Type (safelisted) and X-Request-Id (exposed) are visible.
            if evaluate(&s, &mut cache, now) == Some(2) {
                ok += 1;
            }
            now += 601.0;
        }
        ok
    });
    assert_eq!(
        results, 1000,
        "an evaluation did not preflight, pass and expose 2 headers"
    );
    assert_eq!(
        allocations, 0,
        "1000 steady-state evaluations allocated {allocations} times \
         (rerun with CORSPROOF_ALLOC_BACKTRACE=1 to see where)"
    );
    // The cache holds one live entry per method and header name of the last preflight.
    assert_eq!(cache.live_entries(now - 601.0), 4);
}
