//! Appending short byte strings to an output buffer without a `memcpy` call (issue 10, step 4).
//!
//! The encoders append a handful of short pieces per line: a 1–7 byte key, the digits `itoa`
//! formatted, a separator, a JSON field prefix. `Vec::extend_from_slice` of a slice whose
//! length is not known at compile time is a call to `memcpy` (~20–30 instructions with its
//! size dispatch, per piece). [`put`] does that dispatch inline for up to 16 bytes, using only
//! fixed-size copies, which compile to plain loads and stores: the buffer grows by a fixed 16
//! bytes, the piece is written as two possibly overlapping fixed-size chunks, and the buffer is
//! cut back to the piece's end. Longer pieces go to `extend_from_slice`.

/// Appends `s` to `out` (as `out.extend_from_slice(s)`).
#[inline(always)]
pub(crate) fn put(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n > 16 {
        out.extend_from_slice(s);
        return;
    }
    let start = out.len();
    out.extend_from_slice(&[0u8; 16]);
    copy_short(&mut out[start..start + 16], s);
    out.truncate(start + n);
}

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
    use super::{copy_short, put};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn put_appends_as_extend_from_slice_does(
            before in proptest::collection::vec(any::<u8>(), 0..20),
            s in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut ours = before.clone();
            put(&mut ours, &s);
            let mut want = before;
            want.extend_from_slice(&s);
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
            assert!(dst[..2].iter().chain(&dst[2 + n..]).all(|&b| b == 0xEE), "{n}");
        }
    }

    #[test]
    fn every_short_length() {
        let src: Vec<u8> = (1..=20).collect();
        for n in 0..=20 {
            let mut out = vec![0xAA];
            put(&mut out, &src[..n]);
            assert_eq!(&out[1..], &src[..n]);
            assert_eq!(out.len(), n + 1);
        }
    }
}
