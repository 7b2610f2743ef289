//! proptest strategies built on the vocabularies: origins and `origins` fields
//! ([`origins`]), valid policies ([`policy`]), what script asks a browser for ([`request`]),
//! what a server answers ([`response`]) and requests sent without a browser ([`raw`]).
//!
//! Each strategy draws its values from the crate's vocabularies; where two suites want
//! different distributions, the difference is a parameter (a pool, a weight), and the
//! presets name what they are for.

pub mod origins;
pub mod policy;
pub mod raw;
pub mod request;
pub mod response;

use proptest::prelude::*;
use proptest::strategy::{Union, ValueTree};

/// A choice among `options` by weight, options of weight 0 left out (at least one must
/// weigh more).
///
/// ```
/// use corsproof_testkit::strategy::weighted;
/// use proptest::prelude::*;
/// let s = weighted(vec![(0, Just(1).boxed()), (1, Just(2).boxed())]);
/// assert_eq!(corsproof_testkit::strategy::sample(&s, 1).remove(0), 2);
/// ```
pub fn weighted<T: std::fmt::Debug + 'static>(
    options: Vec<(u32, BoxedStrategy<T>)>,
) -> BoxedStrategy<T> {
    let options: Vec<(u32, BoxedStrategy<T>)> =
        options.into_iter().filter(|(w, _)| *w > 0).collect();
    Union::new_weighted(options).boxed()
}

/// An element of `pool`, owned.
///
/// ```
/// use corsproof_testkit::strategy::pick;
/// use proptest::prelude::*;
/// let m = corsproof_testkit::strategy::sample(&pick(&corsproof_testkit::methods::SAFELISTED), 1).remove(0);
/// assert!(["GET", "HEAD", "POST"].contains(&m.as_str()));
/// ```
pub fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    proptest::sample::select(pool).prop_map(str::to_string)
}

/// The first `n` values `strategy` draws under proptest's deterministic seed (the same on
/// every run): for examples, and for tests that count what a generator reaches.
///
/// ```
/// use corsproof_testkit::strategy::sample;
/// let values = sample(&(0..10u8), 100);
/// assert_eq!(values.len(), 100);
/// assert_eq!(values, sample(&(0..10u8), 100));
/// ```
pub fn sample<S: Strategy>(strategy: &S, n: usize) -> Vec<S::Value> {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..n)
        .map(|_| match strategy.new_tree(&mut runner) {
            Ok(tree) => tree.current(),
            Err(reason) => panic!("the strategy rejected every value it drew: {reason}"),
        })
        .collect()
}

/// `items` without repetitions, first occurrences kept in order.
///
/// ```
/// assert_eq!(corsproof_testkit::strategy::dedup(vec![1, 2, 1, 3]), vec![1, 2, 3]);
/// ```
pub fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
