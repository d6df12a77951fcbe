//! Small non-negative integers in decimal by table look-ups (issue 10, step 7).
//!
//! The counts, sums and small timestamps of an output row are mostly below 1,000. A look-up
//! in [`SHORT`] gives such a number's digits (no leading zeros) and their count in one
//! 32-bit word, written by one unaligned 4-byte store: no division, no branch on the digit
//! count. Below 1,000,000 a number is two look-ups (the high part's digits, then the low
//! part's three digits zero-padded from [`PADDED`]). Larger ones take the digit-pair loop of
//! [`super::out_cursor::Cursor`]. The stores may write up to four bytes past the digits; the
//! caller's room covers them and the next write overwrites them.

#![allow(unsafe_code)]

/// Numbers below this take [`write_small`].
pub(crate) const SMALL_LIMIT: u64 = 1_000_000;

/// The most bytes [`write_small`] stores (digits and the bytes past them).
pub(crate) const SMALL_STORE: usize = 7;

/// Per v < 1000: its digits (no leading zeros) in the low bytes, their count in the top byte.
static SHORT: [u32; 1000] = short();

/// Per v < 1000: its three digits zero-padded (`007`), top byte zero.
static PADDED: [u32; 1000] = padded();

/// The ASCII digit of `d` (< 10).
const fn digit(d: usize) -> u8 {
    b'0' + (d % 10) as u8
}

const fn short() -> [u32; 1000] {
    let mut t = [0u32; 1000];
    let mut v = 0;
    while v < 1000 {
        let (a, b, c) = (digit(v / 100), digit(v / 10), digit(v));
        let bytes = if v >= 100 {
            [a, b, c, 3]
        } else if v >= 10 {
            [b, c, 0, 2]
        } else {
            [c, 0, 0, 1]
        };
        t[v] = u32::from_le_bytes(bytes);
        v += 1;
    }
    t
}

const fn padded() -> [u32; 1000] {
    let mut t = [0u32; 1000];
    let mut v = 0;
    while v < 1000 {
        t[v] = u32::from_le_bytes([digit(v / 100), digit(v / 10), digit(v), 0]);
        v += 1;
    }
    t
}

#[inline(always)]
/// Writes `v` (< 1000) in decimal at `dst` by one look-up and one 4-byte store; returns the
/// number of digits.
///
/// # Safety
/// `v` < 1000; `dst` is valid for writes of 4 bytes.
// SAFETY: callers must uphold this fn's contract: `v` < 1000, `dst` writable for 4 bytes.
pub(crate) unsafe fn write_short(dst: *mut u8, v: u64) -> usize {
    debug_assert!(v < 1000);
    // SAFETY: `v < 1000`, the caller's promise.
    let e = unsafe { *SHORT.get_unchecked(v as usize) };
    // SAFETY: 4 bytes at `dst`, the caller's promise.
    unsafe { dst.cast::<u32>().write_unaligned(e) };
    (e >> 24) as usize
}

#[inline(always)]
/// Writes `v` (< [`SMALL_LIMIT`]) in decimal at `dst` and returns the number of digits; the
/// stores cover up to [`SMALL_STORE`] bytes from `dst`.
///
/// # Safety
/// `v` < [`SMALL_LIMIT`]; `dst` is valid for writes of [`SMALL_STORE`] bytes.
// SAFETY: callers must uphold this fn's contract: `v` < SMALL_LIMIT, SMALL_STORE bytes at `dst`.
pub(crate) unsafe fn write_small(dst: *mut u8, v: u64) -> usize {
    debug_assert!(v < SMALL_LIMIT);
    if v < 1000 {
        // SAFETY: `v < 1000`; 4 ≤ SMALL_STORE bytes at `dst`, the caller's promise.
        return unsafe { write_short(dst, v) };
    }
    let hi = (v / 1000) as usize;
    let lo = (v % 1000) as usize;
    // SAFETY: `hi < 1000` since `v < SMALL_LIMIT` (the caller's promise).
    let e = unsafe { *SHORT.get_unchecked(hi) };
    let n = (e >> 24) as usize;
    // SAFETY: `n ≤ 3`: the stores cover `dst..dst + n + 4` ⊆ the SMALL_STORE bytes promised.
    unsafe {
        dst.cast::<u32>().write_unaligned(e);
        dst.add(n).cast::<u32>().write_unaligned(PADDED[lo]);
    }
    n + 3
}

#[cfg(test)]
mod tests {
    use super::{write_short, write_small, SMALL_LIMIT, SMALL_STORE};

    /// `v` through [`write_small`] into a buffer of exactly SMALL_STORE bytes.
    fn small(v: u64) -> String {
        let mut buf = [0xEEu8; SMALL_STORE];
        // SAFETY: `v` < SMALL_LIMIT (the callers' range) and `buf` has SMALL_STORE bytes.
        let n = unsafe { write_small(buf.as_mut_ptr(), v) };
        String::from_utf8(buf[..n].to_vec()).unwrap_or_default()
    }

    #[test]
    fn every_short_number_as_to_string() {
        for v in 0..1000u64 {
            let mut buf = [0xEEu8; 4];
            // SAFETY: `v < 1000` and `buf` has 4 bytes.
            let n = unsafe { write_short(buf.as_mut_ptr(), v) };
            assert_eq!(&buf[..n], v.to_string().as_bytes());
        }
    }

    #[test]
    fn every_number_below_the_limit_as_to_string() {
        for v in 0..SMALL_LIMIT {
            assert_eq!(small(v), v.to_string());
        }
    }
}
