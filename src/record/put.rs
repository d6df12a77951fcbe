//! Copying short byte strings without a `memcpy` call (issue 10, step 4).
//!
//! A copy of a slice whose length is not known at compile time is a call to `memcpy` (~14
//! instructions on a 1–7 byte key in callgrind, plus the call). [`copy_short`] does the size
//! dispatch inline for up to 16 bytes with fixed-size copies only (two possibly overlapping
//! chunks), which compile to plain loads and stores. It serves the one-string key hash
//! ([`super::key_hash::stable_hash_str`]). The encoders use the same overlapping fixed-size
//! copies, but into a `Vec`'s spare capacity after one capacity check per row
//! ([`super::out_cursor::Cursor::bytes`], session 7): that measured better than
//! `extend_from_slice`. What measured worse in step 4 was growing the `Vec` by a fixed 16
//! bytes per append and truncating (PERF.md, "Issue 10, step 4" and "step 5 … encoding").

/// Copies `s` (at most 16 bytes) to the start of `dst` (at least 16 bytes) with fixed-size
/// copies only; the rest of `dst` is left as it was.
#[inline(always)]
pub(crate) fn copy_short(dst: &mut [u8], s: &[u8]) {
    let n = s.len();
    if n > 16 || dst.len() < 16 {
        // Not the short case: an ordinary copy (panics as `copy_from_slice` does if `dst` is
        // shorter than `s`; callers pass 16 bytes or more).
        dst[..n].copy_from_slice(s);
        return;
    }
    if n >= 8 {
        // Two 8-byte chunks: the first and the last 8 bytes (overlapping when n < 16).
        dst[..8].copy_from_slice(&s[..8]);
        dst[n - 8..n].copy_from_slice(&s[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&s[..4]);
        dst[n - 4..n].copy_from_slice(&s[n - 4..]);
    } else if n > 0 {
        // 1–3 bytes: first, middle, last (some the same byte).
        dst[0] = s[0];
        dst[n / 2] = s[n / 2];
        dst[n - 1] = s[n - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::copy_short;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn copy_short_copies_as_copy_from_slice_does(
            s in proptest::collection::vec(any::<u8>(), 0..28),
            fill in any::<u8>(),
        ) {
            let mut ours = [fill; 27];
            copy_short(&mut ours, &s);
            let mut want = [fill; 27];
            want[..s.len()].copy_from_slice(&s);
            prop_assert_eq!(ours, want);
        }
    }

    #[test]
    fn copy_short_writes_only_the_piece() {
        let src: Vec<u8> = (1..=16).collect();
        for n in 0..=16 {
            let mut dst = [0xEEu8; 20];
            copy_short(&mut dst[2..18], &src[..n]);
            assert_eq!(&dst[2..2 + n], &src[..n]);
            assert!(
                dst[..2].iter().chain(&dst[2 + n..]).all(|&b| b == 0xEE),
                "{n}"
            );
        }
    }
}
