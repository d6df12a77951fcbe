//! The CSV block pass's structural index (issue 10, step 6): the positions of the bytes that
//! matter to splitting — `,`, `\n`, `"`, `\r` and every byte ≥ 0x80 — found 64 bytes at a
//! time as one bitmap, then handed out in order.
//!
//! On x86-64 a 64-byte chunk is four 16-byte SSE2 compares per byte class and one `movemask`
//! per 16 bytes (~40 instructions per chunk, ~6 per 9-byte line); elsewhere a byte loop
//! builds the same bitmap. Each position is then a `trailing_zeros` and a clear of the lowest
//! bit. Between two positions every byte is ASCII and none of `,` `\n` `"` `\r`: so a field's
//! bounds come out of the index and its text needs no further scan or UTF-8 check.
//!
//! The index is lazy: a chunk is scanned when the walk reaches it, so a block the pass leaves
//! early (a quoted line) costs no more than the chunks it looked at.

/// Bytes per bitmap.
const CHUNK: usize = 64;

/// Whether `c` is structural for the CSV block pass (see the module doc).
#[inline]
pub(crate) fn is_structural(c: u8) -> bool {
    matches!(c, b',' | b'\n' | b'"' | b'\r') || c >= 0x80
}

/// The structural positions of a block, in order, from a starting byte on.
///
/// Invariant: `bits` marks the structural bytes of `b[base..base + 64]` not yet handed out
/// (bit `k` is byte `base + k`); everything before them was handed out or skipped.
pub(crate) struct Structurals<'a> {
    b: &'a [u8],
    base: usize,
    bits: u64,
}

impl<'a> Structurals<'a> {
    /// The structural positions of `b` at or after `from`.
    #[inline]
    pub(crate) fn new(b: &'a [u8], from: usize) -> Self {
        Structurals {
            b,
            base: from,
            bits: mask_at(b, from),
        }
    }

    /// Restarts at byte `from` (positions before it are dropped).
    #[inline]
    pub(crate) fn seek(&mut self, from: usize) {
        self.base = from;
        self.bits = mask_at(self.b, from);
    }

    /// The next structural position; `None` at the end of the block.
    #[inline(always)]
    pub(crate) fn next_pos(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.base += CHUNK;
            if self.base >= self.b.len() {
                self.base = self.b.len();
                return None;
            }
            self.bits = mask_at(self.b, self.base);
        }
        let p = self.base + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(p)
    }
}

/// The bitmap of the structural bytes of `b[at..at + 64]` (bytes past the end count as not
/// structural).
#[inline]
fn mask_at(b: &[u8], at: usize) -> u64 {
    if let Some(chunk) = b.get(at..at + CHUNK) {
        let mut c = [0u8; CHUNK];
        c.copy_from_slice(chunk);
        return mask64(&c);
    }
    tail_mask(b, at)
}

/// [`mask_at`] for the block's last, partial chunk: copied into a zeroed chunk (a zero byte is
/// not structural).
#[cold]
fn tail_mask(b: &[u8], at: usize) -> u64 {
    let rest = b.get(at..).unwrap_or_default();
    let mut c = [0u8; CHUNK];
    c[..rest.len()].copy_from_slice(rest);
    mask64(&c)
}

/// The structural bitmap of a chunk: bit `k` set when `c[k]` is structural.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
#[allow(unsafe_code)]
fn mask64(c: &[u8; CHUNK]) -> u64 {
    // SSE2 is part of the x86-64 baseline, and this function is compiled only where the
    // build enables it (`target_feature = "sse2"`).
    // SAFETY: so the CPU running this code has the feature `sse2_mask` is compiled for.
    unsafe { sse2_mask(c) }
}

/// [`mask64`] with SSE2: per 16 bytes, four byte compares, the bytes themselves OR-ed in
/// (`movemask` reads the high bits, so every byte ≥ 0x80 is marked) and one `movemask`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn sse2_mask(c: &[u8; CHUNK]) -> u64 {
    sse2_sixteen(c, 0)
        | sse2_sixteen(c, 16) << 16
        | sse2_sixteen(c, 32) << 32
        | sse2_sixteen(c, 48) << 48
}

/// The structural bits of `c[k..k + 16]`, in the low 16 bits.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn sse2_sixteen(c: &[u8; CHUNK], k: usize) -> u64 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
    };
    let mut lo = [0u8; 8];
    let mut hi = [0u8; 8];
    lo.copy_from_slice(&c[k..k + 8]);
    hi.copy_from_slice(&c[k + 8..k + 16]);
    // Two 8-byte loads, which the compiler merges into one unaligned 16-byte load.
    let v = _mm_set_epi64x(i64::from_le_bytes(hi), i64::from_le_bytes(lo));
    // The byte classes (`as i8`: the same bits).
    let comma = _mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8));
    let newline = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8));
    let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
    let cr = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8));
    let m = _mm_or_si128(_mm_or_si128(comma, newline), _mm_or_si128(quote, cr));
    u64::from(_mm_movemask_epi8(_mm_or_si128(m, v)) as u32 & 0xFFFF)
}

/// The structural bitmap of a chunk, byte by byte (targets without SSE2 code here).
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
fn mask64(c: &[u8; CHUNK]) -> u64 {
    reference_mask(c)
}

/// The definition of a chunk's bitmap, byte by byte.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn reference_mask(c: &[u8; CHUNK]) -> u64 {
    c.iter()
        .enumerate()
        .filter(|&(_, &x)| is_structural(x))
        .fold(0, |m, (k, _)| m | 1 << k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_byte_value_in_every_lane() {
        for lane in 0..CHUNK {
            for x in 0..=255u8 {
                let mut c = [b'a'; CHUNK];
                c[lane] = x;
                let want = if is_structural(x) { 1u64 << lane } else { 0 };
                assert_eq!(mask64(&c), want, "byte {x:#x} in lane {lane}");
                assert_eq!(reference_mask(&c), want);
            }
        }
    }

    proptest! {
        #[test]
        fn positions_are_the_structural_bytes_in_order(
            b in proptest::collection::vec(
                prop_oneof![
                    6 => Just(b'a'), 2 => Just(b','), 2 => Just(b'\n'), 1 => Just(b'"'),
                    1 => Just(b'\r'), 1 => Just(0xC3u8), 1 => Just(0u8), 1 => any::<u8>()
                ],
                0..300,
            ),
            from in 0usize..310,
            seek in proptest::option::of(0usize..310),
        ) {
            let mut s = Structurals::new(&b, from);
            let mut got = Vec::new();
            if let Some(to) = seek {
                if let Some(p) = s.next_pos() {
                    got.push(p);
                }
                s.seek(to);
            }
            while let Some(p) = s.next_pos() {
                got.push(p);
            }
            let mut want: Vec<usize> = Vec::new();
            let after = |lo: usize| (lo..b.len()).filter(|&j| is_structural(b[j]));
            match seek {
                Some(to) => {
                    want.extend(after(from).take(1));
                    want.extend(after(to));
                }
                None => want.extend(after(from)),
            }
            prop_assert_eq!(got, want);
        }
    }
}
