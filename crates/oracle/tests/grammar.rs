//! `grammar::eq_ignore_case` (word-at-a-time) agrees with the standard library's
//! `eq_ignore_ascii_case` (ASCII letters fold, nothing else does).

use corsproof_oracle::grammar::eq_ignore_case;
use proptest::prelude::*;

#[test]
fn every_pair_of_bytes_at_every_position() {
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            let expected = a.eq_ignore_ascii_case(&b);
            // The byte pair alone, and inside longer equal strings at each position of a
            // word and of the padded tail.
            assert_eq!(eq_ignore_case(&[a], &[b]), expected, "{a:#x} {b:#x}");
            for len in [2usize, 7, 8, 9, 16, 19] {
                for at in 0..len {
                    let mut x = vec![b'q'; len];
                    let mut y = vec![b'Q'; len];
                    x[at] = a;
                    y[at] = b;
                    assert_eq!(eq_ignore_case(&x, &y), expected, "{a:#x} {b:#x} {len} {at}");
                }
            }
        }
    }
}

#[test]
fn lengths_differ() {
    assert!(!eq_ignore_case(b"abc", b"abcd"));
    assert!(!eq_ignore_case(b"", b"\0"));
    assert!(eq_ignore_case(b"", b""));
    assert!(!eq_ignore_case(b"content-type\0", b"content-type"));
}

proptest! {
    #[test]
    fn agrees_with_std(a in proptest::collection::vec(any::<u8>(), 0..40), flips in proptest::collection::vec(any::<bool>(), 40)) {
        // A case-flipped copy (equal ignoring case), and an arbitrary other string.
        let b: Vec<u8> = a
            .iter()
            .zip(&flips)
            .map(|(&c, &f)| if f { c ^ 0x20 } else { c })
            .collect();
        prop_assert_eq!(eq_ignore_case(&a, &b), a.eq_ignore_ascii_case(&b));
        let upper = a.to_ascii_uppercase();
        prop_assert!(eq_ignore_case(&a, &upper));
    }

    #[test]
    fn agrees_with_std_on_any_pair(a in proptest::collection::vec(any::<u8>(), 0..20), b in proptest::collection::vec(any::<u8>(), 0..20)) {
        prop_assert_eq!(eq_ignore_case(&a, &b), a.eq_ignore_ascii_case(&b));
    }
}
