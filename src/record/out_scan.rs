//! "Does this string need quoting/escaping?" eight bytes at a time (issue 10, step 5).
//!
//! The encoders copy a string as it is unless it holds a byte that CSV must quote (`,` `"`
//! `\r` `\n`) or JSON must escape (`"` `\` and bytes below 0x20). The check reads the string
//! as whole 64-bit words — for 4–7 bytes two overlapping 4-byte halves, for 1–3 bytes the
//! first, middle and last byte repeated — and marks bytes with the SWAR tricks of
//! [`super::swar`]: a word is clean when no byte is marked (a false mark only ever sits above
//! a true one, so "any mark" is exact).

/// One in each byte.
const LO: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte.
const HI: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `w` equal to `c`.
#[inline(always)]
fn equal(w: u64, c: u8) -> u64 {
    let x = w ^ (LO * u64::from(c));
    x.wrapping_sub(LO) & !x & HI
}

/// Marks the bytes below `n` (≤ 0x80) of `w`.
#[inline(always)]
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(LO * u64::from(n)) & !w & HI
}

/// Marks the bytes that make a CSV field need quotes: `,`, `"`, `\r`, `\n`. All four are
/// below `-` (the byte after `,`), so a word without bytes below `-` (digits, letters, `-`,
/// `.`, `/`, UTF-8: numbers, UUIDs, dates, paths) is clean after one test; only others take
/// the four comparisons.
#[inline(always)]
fn csv_marks(w: u64) -> u64 {
    if below(w, b',' + 1) == 0 {
        return 0;
    }
    equal(w, b',') | equal(w, b'"') | equal(w, b'\r') | equal(w, b'\n')
}

/// Marks the bytes a JSON string must escape: `"`, `\`, and control characters (< 0x20).
#[inline(always)]
fn json_marks(w: u64) -> u64 {
    // `"` is 0x22: bytes below 0x23 are the control characters, space, `!` and `"`.
    if below(w, 0x23) == 0 {
        return equal(w, b'\\');
    }
    below(w, 0x20) | equal(w, b'"') | equal(w, b'\\')
}

/// Reads 8 bytes of `s` at `at` (`at + 8 ≤ s.len()`) as a little-endian word.
#[inline(always)]
fn word(s: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Whether no byte of `s` is marked by `marks`.
#[inline(always)]
fn clean(s: &[u8], marks: impl Fn(u64) -> u64) -> bool {
    let n = s.len();
    if n >= 8 {
        let mut acc = marks(word(s, n - 8));
        let mut at = 0;
        while at + 8 < n {
            acc |= marks(word(s, at));
            at += 8;
        }
        return acc == 0;
    }
    let w = if n >= 4 {
        let mut lo = [0u8; 4];
        let mut hi = [0u8; 4];
        lo.copy_from_slice(&s[..4]);
        hi.copy_from_slice(&s[n - 4..]);
        u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32
    } else if let (Some(&a), Some(&z)) = (s.first(), s.last()) {
        let m = s[n / 2];
        u64::from_le_bytes([a, m, z, a, a, a, a, a])
    } else {
        return true;
    };
    marks(w) == 0
}

/// Whether `s` can be written as a CSV field without quotes (no `,` `"` `\r` `\n`).
#[inline]
pub(crate) fn csv_plain(s: &[u8]) -> bool {
    clean(s, csv_marks)
}

/// Whether `s` can be written between JSON quotes as it is (no `"`, `\`, control character).
#[inline]
pub(crate) fn json_plain(s: &[u8]) -> bool {
    clean(s, json_marks)
}

/// A 15-byte inline text as two little-endian words: bytes 0..8 and 7..15 (overlapping).
#[inline(always)]
pub(crate) fn words(b: &[u8; 15]) -> [u64; 2] {
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(&b[..8]);
    hi.copy_from_slice(&b[7..]);
    [u64::from_le_bytes(lo), u64::from_le_bytes(hi)]
}

/// Per length n ≤ 15: `0` (0x30, a byte no check marks) in every byte of [`words`] at a
/// position ≥ n, so that the zero padding after an inline text reads as clean.
static FILL: [[u64; 2]; 16] = fill();

const fn fill() -> [[u64; 2]; 16] {
    let mut t = [[0u64; 2]; 16];
    let mut n = 0;
    while n < 16 {
        let mut j = 0;
        while j < 8 {
            if j >= n {
                t[n][0] |= 0x30 << (8 * j);
            }
            if j + 7 >= n {
                t[n][1] |= 0x30 << (8 * j);
            }
            j += 1;
        }
        n += 1;
    }
    t
}

/// Whether no byte of the first `n` (≤ 15) of an inline text read as [`words`] `w` is
/// marked by `marks`; the padding after them is filled with `0` first.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn clean_inline(w: [u64; 2], n: usize, marks: impl Fn(u64) -> u64) -> bool {
    let f = FILL[n & 15];
    marks(w[0] | f[0]) | marks(w[1] | f[1]) == 0
}

/// [`csv_plain`] of the first `n` (≤ 15) bytes of an inline text read as [`words`].
#[inline(always)]
pub(crate) fn csv_plain_inline(w: [u64; 2], n: usize) -> bool {
    // No byte below `0` among the `n` (the usual key): clean after one test.
    if none_below_0(w, n) {
        return true;
    }
    let f = FILL[n & 15];
    csv_marks(w[0] | f[0]) | csv_marks(w[1] | f[1]) == 0
}

/// Per length n ≤ 15: the bits of [`none_below_0`]'s byte mask that are the first n bytes
/// (bits 0..8: bytes 0..8 of the first word; bits 8..16: bytes 7..15 from the second).
static FIRST: [u32; 16] = first();

const fn first() -> [u32; 16] {
    let mut t = [0u32; 16];
    let mut n = 0;
    while n < 16 {
        let mut j = 0;
        while j < 8 {
            if j < n {
                t[n] |= 1 << j;
            }
            if j + 7 < n {
                t[n] |= 1 << (8 + j);
            }
            j += 1;
        }
        n += 1;
    }
    t
}

/// Whether none of the first `n` (≤ 15) bytes of [`words`] `w` is below `0` (0x30): all
/// sixteen bytes compared at once (SSE2, part of every x86-64), then the first `n` kept.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
#[allow(unsafe_code)]
fn none_below_0(w: [u64; 2], n: usize) -> bool {
    use core::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_set1_epi8, _mm_set_epi64x,
    };
    // A byte is ≤ 0x2F exactly when min(byte, 0x2F) is the byte. Tested against the byte
    // loops for every byte at every position of every inline length (tests below).
    // SAFETY: these intrinsics only need SSE2, enabled in this build (the cfg above); they
    // read and write registers only.
    let mask = unsafe {
        let v = _mm_set_epi64x(w[1] as i64, w[0] as i64);
        let low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x2F)), v);
        _mm_movemask_epi8(low) as u32
    };
    mask & FIRST[n & 15] == 0
}

/// [`none_below_0`] elsewhere: the padding filled with `0`, then one SWAR test per word.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn none_below_0(w: [u64; 2], n: usize) -> bool {
    let f = FILL[n & 15];
    below(w[0] | f[0], b'0') | below(w[1] | f[1], b'0') == 0
}

/// [`json_plain`] of the first `n` (≤ 15) bytes of an inline text read as [`words`].
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn json_plain_inline(w: [u64; 2], n: usize) -> bool {
    use core::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_set_epi64x,
    };
    // Marks the bytes below 0x20 (min(byte, 0x1F) is the byte), `"` and `\`: exact, all
    // sixteen bytes at once. Tested against the byte loops for every byte at every position
    // of every inline length (tests below).
    // SAFETY: these intrinsics only need SSE2, enabled in this build (the cfg above); they
    // read and write registers only.
    let mask = unsafe {
        let v = _mm_set_epi64x(w[1] as i64, w[0] as i64);
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))) as u32
    };
    mask & FIRST[n & 15] == 0
}

/// [`json_plain`] of the first `n` (≤ 15) bytes of an inline text read as [`words`].
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(crate) fn json_plain_inline(w: [u64; 2], n: usize) -> bool {
    clean_inline(w, n, json_marks)
}

#[cfg(test)]
mod tests {
    use super::{csv_plain, csv_plain_inline, json_plain, json_plain_inline, words};
    use proptest::prelude::*;

    fn csv_ref(s: &[u8]) -> bool {
        !s.iter().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    }

    fn json_ref(s: &[u8]) -> bool {
        !s.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20)
    }

    #[test]
    fn every_byte_at_every_position_of_every_short_length() {
        for n in 1..=20 {
            for at in 0..n {
                for c in 0..=255u8 {
                    let mut s = vec![b'a'; n];
                    s[at] = c;
                    assert_eq!(csv_plain(&s), csv_ref(&s), "{c:#x} at {at} of {n}");
                    assert_eq!(json_plain(&s), json_ref(&s), "{c:#x} at {at} of {n}");
                }
            }
        }
        assert!(csv_plain(b"") && json_plain(b""));
    }

    /// `s` (≤ 15 bytes) as an inline text's zero-padded bytes, read as words.
    fn inline(s: &[u8]) -> [u64; 2] {
        let mut b = [0u8; 15];
        b[..s.len()].copy_from_slice(s);
        words(&b)
    }

    #[test]
    fn inline_checks_every_byte_at_every_position_of_every_length() {
        for n in 0..=15 {
            for at in 0..n.max(1) {
                for c in 0..=255u8 {
                    let mut s = vec![b'7'; n];
                    if n > 0 {
                        s[at] = c;
                    }
                    let w = inline(&s);
                    assert_eq!(csv_plain_inline(w, n), csv_ref(&s), "{c:#x} at {at} of {n}");
                    assert_eq!(
                        json_plain_inline(w, n),
                        json_ref(&s),
                        "{c:#x} at {at} of {n}"
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn agree_with_the_byte_loops(
            s in proptest::collection::vec(
                prop_oneof![
                    Just(b'"'), Just(b'\\'), Just(b','), Just(b'\r'), Just(b'\n'), Just(0u8),
                    Just(0x1f), Just(0x20), Just(0x7f), Just(0x80), Just(0xff), Just(b'a'),
                    any::<u8>()
                ],
                0..40,
            ),
        ) {
            prop_assert_eq!(csv_plain(&s), csv_ref(&s));
            prop_assert_eq!(json_plain(&s), json_ref(&s));
            if s.len() <= 15 {
                prop_assert_eq!(csv_plain_inline(inline(&s), s.len()), csv_ref(&s));
                prop_assert_eq!(json_plain_inline(inline(&s), s.len()), json_ref(&s));
            }
        }
    }
}
