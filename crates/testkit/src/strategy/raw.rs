//! Requests as any client may send them, no browser in between: methods, header lines of the
//! CORS request headers with junk, long or plausible values.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use crate::headers::{PIECES, PLAUSIBLE, RAW_NAMES};
use crate::methods::RAW;

/// `OPTIONS` with weight `options`, else one of [`RAW`].
///
/// ```
/// use proptest::prelude::*;
/// let m = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::raw::method(3), 1).remove(0);
/// assert!(!m.is_empty());
/// ```
pub fn method(options: u32) -> impl Strategy<Value = &'static str> + Clone {
    prop_oneof![
        options => Just("OPTIONS"),
        1 => select(&RAW[..]),
    ]
}

/// A byte a header value may hold (`http::HeaderValue::from_bytes` refuses the others):
/// controls other than HT, and DEL, become `~`.
///
/// ```
/// use corsproof_testkit::strategy::raw::value_byte;
/// assert_eq!((value_byte(b'\n'), value_byte(b'\t'), value_byte(0xff)), (b'~', b'\t', 0xff));
/// ```
pub fn value_byte(b: u8) -> u8 {
    if (b < 0x20 && b != b'\t') || b == 0x7f {
        b'~'
    } else {
        b
    }
}

/// One header value: junk bytes, a long repetition of one of [`PIECES`] (up to ~90 KB), or
/// one of [`PLAUSIBLE`] (3 : 1 : 3).
///
/// ```
/// use proptest::prelude::*;
/// let v = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::raw::value(), 1).remove(0);
/// assert!(v.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f)));
/// ```
pub fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => vec(any::<u8>(), 0..48).prop_map(|v| v.into_iter().map(value_byte).collect()),
        1 => (select(&PIECES[..]), 1..6000usize).prop_map(|(p, n)| p.repeat(n)),
        3 => select(&PLAUSIBLE[..]).prop_map(|s| s.as_bytes().to_vec()),
    ]
}

/// Header lines in order: up to nine lines named from [`RAW_NAMES`] with a [`value`], and
/// three times in ten one line repeated up to 299 times (at most four times when its value is
/// over 512 bytes: bounded memory per case).
///
/// ```
/// use proptest::prelude::*;
/// let lines = corsproof_testkit::strategy::sample(&corsproof_testkit::strategy::raw::lines(), 1).remove(0);
/// assert!(lines.len() < 310);
/// ```
pub fn lines() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    (
        vec((select(&RAW_NAMES[..]), value()), 0..10),
        option::weighted(0.3, (select(&RAW_NAMES[..]), value(), 1..300usize)),
    )
        .prop_map(|(mut lines, repeated)| {
            if let Some((name, value, n)) = repeated {
                let n = if value.len() > 512 { n.min(4) } else { n };
                lines.extend(std::iter::repeat_n((name, value), n));
            }
            lines
        })
}
