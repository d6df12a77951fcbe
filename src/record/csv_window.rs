//! The byte classes of a 16-byte window of CSV text, one bit per byte (issue 10, step 7).
//!
//! The CSV shape pass ([`super::csv_shape`]) looks at a short line as a whole: where its
//! newline is, where its commas are, and whether any byte is one it leaves to the block pass
//! (`"`, `\r`, or ≥ 0x80). On x86-64 that is three SSE2 byte compares and three `movemask`s
//! per 16 bytes; elsewhere a byte loop builds the same bits ([`reference`], also the tests'
//! oracle).

/// Bytes per window.
pub(crate) const WINDOW: usize = 16;

/// The classes of a window's bytes: bit `k` describes byte `k`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Classes {
    /// `,`.
    pub(crate) comma: u32,
    /// `\n`.
    pub(crate) newline: u32,
    /// `"`, `\r` and every byte ≥ 0x80: bytes the shape pass does not decode.
    pub(crate) other: u32,
}

/// Whether `c` is one of [`Classes::other`]'s bytes.
#[inline]
pub(crate) fn is_other(c: u8) -> bool {
    c == b'"' || c == b'\r' || c >= 0x80
}

/// The classes of `w`'s bytes, byte by byte.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
pub(crate) fn reference(w: &[u8; WINDOW]) -> Classes {
    let mut c = Classes::default();
    for (k, &b) in w.iter().enumerate() {
        c.comma |= u32::from(b == b',') << k;
        c.newline |= u32::from(b == b'\n') << k;
        c.other |= u32::from(is_other(b)) << k;
    }
    c
}

/// The classes of `w`'s bytes (SSE2: three compares, the bytes OR-ed in for the high bits).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn classes(w: &[u8; WINDOW]) -> Classes {
    // SSE2 is part of the x86-64 baseline, and this function is compiled only where the
    // build enables it (the `cfg` above).
    // SAFETY: so the CPU running this code has the feature `sse2_classes` is compiled for.
    unsafe { sse2_classes(w) }
}

/// [`classes`] with SSE2.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
#[allow(unsafe_code)]
fn sse2_classes(w: &[u8; WINDOW]) -> Classes {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // `w` is 16 readable bytes, and an unaligned load has no alignment requirement.
    // SAFETY: so the load reads `w`'s bytes and nothing else.
    let v = unsafe { _mm_loadu_si128(w.as_ptr().cast::<__m128i>()) };
    // The byte classes (`as i8`: the same bits).
    let comma = _mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8));
    let newline = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
    let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
    let cr = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8));
    // `movemask` reads each byte's high bit: OR-ing the bytes in marks every byte ≥ 0x80.
    let other = _mm_or_si128(_mm_or_si128(quote, cr), v);
    Classes {
        comma: _mm_movemask_epi8(comma) as u32 & 0xFFFF,
        newline: _mm_movemask_epi8(newline) as u32 & 0xFFFF,
        other: _mm_movemask_epi8(other) as u32 & 0xFFFF,
    }
}

/// The classes of `w`'s bytes (targets without the SSE2 code: byte by byte).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
pub(crate) fn classes(w: &[u8; WINDOW]) -> Classes {
    reference(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_byte_value_in_every_lane() {
        for lane in 0..WINDOW {
            for c in 0..=255u8 {
                let mut w = [b'a'; WINDOW];
                w[lane] = c;
                let got = classes(&w);
                assert_eq!(got, reference(&w), "byte {c:#x} in lane {lane}");
                let bit = 1u32 << lane;
                assert_eq!(got.comma == bit, c == b',');
                assert_eq!(got.newline == bit, c == b'\n');
                assert_eq!(got.other == bit, is_other(c));
            }
        }
    }

    proptest! {
        #[test]
        fn windows_match_the_byte_loop(w in proptest::array::uniform16(any::<u8>())) {
            prop_assert_eq!(classes(&w), reference(&w));
        }
    }
}
