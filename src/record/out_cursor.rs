//! Writing encoded rows straight into a `Vec<u8>`'s spare capacity (issue 10, step 5).
//!
//! `Vec::extend_from_slice` per piece of a line costs a capacity check and, for a length not
//! known at compile time, a call to `memcpy`; `itoa`/`ryu` format into their own stack buffer
//! first. A [`Cursor`] instead reserves once per row ([`Cursor::ensure`] with the row's
//! worst case) and then writes without checks: short pieces as fixed-size (possibly
//! overlapping) loads and stores, integers by table look-ups ([`super::out_digits`], step 7)
//! or digit pairs straight into place, floats by `zmij` (as `ryu` writes them). The
//! vector's length is set back when the cursor is dropped (or before [`Cursor::with_vec`]
//! hands the vector out).
//!
//! Each write method has a safety contract: the caller promises that [`Cursor::room`]
//! covers what it writes, which the encoders establish with one `ensure` per row (and per
//! string).

#![allow(unsafe_code)]

use super::out_digits::{write_short, write_small, SMALL_LIMIT, SMALL_STORE};
use std::ptr;

/// The most bytes [`Cursor::i64`] or [`Cursor::f64_finite`] writes: a float at most 24,
/// an `i64` at most 20 (`-9223372036854775808`).
pub(crate) const MAX_SCALAR: usize = 24;

/// Two ASCII digits for each of 0..100.
const PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839\
4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889\
90919293949596979899";

/// Appends to a vector through its spare capacity (see the module doc).
///
/// The vector's pointer, length and capacity are kept in the cursor (registers, once
/// inlined); the vector itself is only touched to grow it and when the cursor is dropped.
pub(crate) struct Cursor<'a> {
    vec: &'a mut Vec<u8>,
    /// `vec.as_mut_ptr()`.
    ptr: *mut u8,
    /// The length written so far; `vec.len()` is set to it when the cursor is dropped.
    len: usize,
    /// `vec.capacity()`.
    cap: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor appending to `vec`.
    #[inline]
    pub(crate) fn new(vec: &'a mut Vec<u8>) -> Self {
        let (ptr, len, cap) = (vec.as_mut_ptr(), vec.len(), vec.capacity());
        Cursor { vec, ptr, len, cap }
    }

    /// The bytes that can be written without [`Cursor::ensure`].
    #[inline(always)]
    pub(crate) fn room(&self) -> usize {
        self.cap - self.len
    }

    /// Makes room for at least `n` more bytes.
    #[inline(always)]
    pub(crate) fn ensure(&mut self, n: usize) {
        if self.room() < n {
            (self.ptr, self.cap) = grow(self.vec, self.len, n);
        }
    }

    /// Sets the vector's length to what was written.
    #[inline(always)]
    fn sync(&mut self) {
        debug_assert!(self.len <= self.vec.capacity());
        // SAFETY: `len` only grows by the bytes the unsafe writes below have initialised, each
        // within the capacity (their callers' promise), so `..len` is initialised and in
        // capacity.
        unsafe { self.vec.set_len(self.len) }
    }

    /// The number of bytes in the vector, written ones included.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bytes written from offset `start` on (`start` ≤ [`Cursor::len`]).
    #[inline]
    pub(crate) fn written_since(&mut self, start: usize) -> &[u8] {
        self.sync();
        self.vec.get(start..).unwrap_or_default()
    }

    /// Forgets what was written after offset `to` (≤ [`Cursor::len`]): the next write goes
    /// there.
    #[inline(always)]
    pub(crate) fn rewind(&mut self, to: usize) {
        debug_assert!(to <= self.len);
        self.len = self.len.min(to);
    }

    /// Hands the vector (with everything written so far) to `f`, for the rare pieces written
    /// by ordinary `Vec` appends; afterwards the cursor continues at its end.
    #[inline]
    pub(crate) fn with_vec(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        self.sync();
        f(self.vec);
        (self.ptr, self.len, self.cap) =
            (self.vec.as_mut_ptr(), self.vec.len(), self.vec.capacity());
    }

    /// Replaces the last byte of the vector (written or not by this cursor) with `b`; nothing
    /// when it is empty.
    #[inline(always)]
    pub(crate) fn replace_last(&mut self, b: u8) {
        if let Some(last) = self.len.checked_sub(1) {
            // SAFETY: `last < len ≤ capacity`: an initialised byte of the vector.
            unsafe { self.ptr.add(last).write(b) };
        }
    }

    /// Replaces the last byte written with `b`.
    ///
    /// # Safety
    /// [`Cursor::len`] ≥ 1.
    // SAFETY: callers must uphold this fn's contract: [`Cursor::len`] ≥ 1.
    #[inline(always)]
    pub(crate) unsafe fn set_last(&mut self, b: u8) {
        debug_assert!(self.len >= 1);
        // SAFETY: `len - 1 < len ≤ capacity` (len ≥ 1, the caller's promise): an initialised
        // byte of the vector.
        unsafe { self.ptr.add(self.len - 1).write(b) };
    }

    /// The address of the next byte to write.
    #[inline(always)]
    fn end(&mut self) -> *mut u8 {
        // SAFETY: `len ≤ capacity`, so the result is within (or one past) the allocation.
        unsafe { self.ptr.add(self.len) }
    }

    #[inline(always)]
    /// Writes the first `n` (≤ N) bytes of `head` with one N-byte copy (fixed-size stores);
    /// the bytes after the `n` land in spare capacity and are overwritten or ignored.
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ N.
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ N.
    pub(crate) unsafe fn head<const N: usize>(&mut self, head: &[u8; N], n: usize) {
        debug_assert!(self.room() >= N && n <= N);
        // SAFETY: N bytes of room (the caller's promise); `head` is N bytes.
        unsafe { ptr::copy_nonoverlapping(head.as_ptr(), self.end(), N) };
        self.len += n;
    }

    #[inline(always)]
    /// Writes the first `n` (≤ 16) bytes of `head` with one 16-byte store; the bytes after
    /// the `n` land in spare capacity and are overwritten or ignored.
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ 16.
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ 16.
    pub(crate) unsafe fn head16(&mut self, head: &[u8; 16], n: usize) {
        debug_assert!(self.room() >= 16 && n <= 16);
        // SAFETY: 16 bytes of room (the caller's promise); `head` is 16 bytes.
        unsafe { ptr::copy_nonoverlapping(head.as_ptr(), self.end(), 16) };
        self.len += n.min(16);
    }

    #[inline(always)]
    /// Writes one byte.
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ 1.
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ 1.
    pub(crate) unsafe fn byte(&mut self, b: u8) {
        debug_assert!(self.room() >= 1);
        // SAFETY: the caller guarantees room for the byte.
        unsafe { self.end().write(b) };
        self.len += 1;
    }

    #[inline(always)]
    /// Writes `s`; up to 32 bytes as fixed-size loads and stores ([`copy_short`]), longer
    /// ones by `memcpy`.
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ `s.len()`.
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ `s.len()`.
    pub(crate) unsafe fn bytes(&mut self, s: &[u8]) {
        let n = s.len();
        debug_assert!(self.room() >= n);
        // SAFETY: `s` is readable for its `n` bytes; `n` bytes of room are writable at the end
        // (the caller's contract), and the spare capacity is not inside `s`.
        unsafe { copy_short(s.as_ptr(), self.end(), n) };
        self.len += n;
    }

    #[inline(always)]
    /// Writes `v` in decimal (as `itoa` and `i64::to_string` do).
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ 20.
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ 20.
    pub(crate) unsafe fn i64(&mut self, v: i64) {
        // Non-negative and below 1000 (the common case) in one comparison.
        if (v as u64) < 1000 {
            // SAFETY: `v < 1000`, and 4 ≤ 20 bytes of room.
            self.len += unsafe { write_short(self.end(), v as u64) };
        } else {
            // SAFETY: the caller's promise, passed on.
            unsafe { self.i64_other(v) };
        }
    }

    #[inline]
    /// [`Cursor::i64`] for a negative or large `v`.
    ///
    /// # Safety
    /// As [`Cursor::i64`].
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ 20.
    unsafe fn i64_other(&mut self, v: i64) {
        if v < 0 {
            // SAFETY: 1 of the ≥ 20 bytes; the digits of |v| take at most 19.
            unsafe { self.byte(b'-') };
        }
        // SAFETY: at most 19 digits (|i64::MIN| = 9223372036854775808) in the ≥ 19 bytes of
        // room left, which also covers SMALL_STORE.
        unsafe { self.u64(v.unsigned_abs()) }
    }

    #[inline(always)]
    /// Writes `v` in decimal; below [`SMALL_LIMIT`] by table look-ups
    /// ([`super::out_digits`]).
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ the number of digits of `v` and ≥ [`SMALL_STORE`] (the look-ups
    /// store a few bytes past the digits); 20 always suffices.
    // SAFETY: callers must uphold this fn's contract: room ≥ max(digits, SMALL_STORE).
    pub(crate) unsafe fn u64(&mut self, v: u64) {
        if v < SMALL_LIMIT {
            debug_assert!(self.room() >= SMALL_STORE);
            // SAFETY: `v < SMALL_LIMIT`, and SMALL_STORE bytes of room (the caller's promise).
            self.len += unsafe { write_small(self.end(), v) };
        } else {
            // SAFETY: room for the digits, the caller's promise.
            unsafe { self.u64_long(v) };
        }
    }

    #[inline(always)]
    /// Writes the first `n` (≤ 15) bytes of an inline text read as two words ([`words`]:
    /// bytes 0..8 and 7..15) with two 8-byte stores; the bytes after the `n` land in spare
    /// capacity and are overwritten or ignored.
    ///
    /// [`words`]: super::out_scan::words
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ 15.
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ 15.
    pub(crate) unsafe fn inline15(&mut self, w: [u64; 2], n: usize) {
        debug_assert!(self.room() >= 15 && n <= 15);
        let dst = self.end();
        // SAFETY: the stores cover `dst..dst + 15`, in the room the caller guarantees.
        unsafe {
            dst.cast::<u64>().write_unaligned(w[0].to_le());
            dst.add(7).cast::<u64>().write_unaligned(w[1].to_le());
        }
        self.len += n;
    }

    #[inline]
    /// [`Cursor::u64`] for any `v`: digit pairs from the end.
    ///
    /// # Safety
    /// As [`Cursor::u64`].
    // SAFETY: callers must uphold this fn's contract: As [`Cursor::u64`].
    unsafe fn u64_long(&mut self, mut v: u64) {
        let count = digits(v);
        debug_assert!(self.room() >= count);
        let start = self.end();
        // SAFETY: the pointer moves down from `start + count` to `start`, writing each of the
        // `count` bytes once; they are in the room the caller guarantees. `PAIRS` reads are at
        // `2 * (v % 100)` ≤ 198, two bytes each.
        unsafe {
            let mut p = start.add(count);
            while v >= 100 {
                let two = pair(v % 100);
                v /= 100;
                p = p.sub(2);
                ptr::copy_nonoverlapping(two, p, 2);
            }
            if v >= 10 {
                p = p.sub(2);
                ptr::copy_nonoverlapping(pair(v), p, 2);
            } else {
                p = p.sub(1);
                *p = b'0' + v as u8;
            }
            debug_assert_eq!(p, start);
        }
        self.len += count;
    }

    #[inline]
    /// Writes a finite `v` as its shortest round-trip text, the same bytes as
    /// `ryu::Buffer::format_finite` (the format weir has always written), by
    /// [`write_finite_f64`].
    ///
    /// # Safety
    /// [`Cursor::room`] ≥ [`MAX_SCALAR`].
    // SAFETY: callers must uphold this fn's contract: [`Cursor::room`] ≥ [`MAX_SCALAR`].
    pub(crate) unsafe fn f64_finite(&mut self, v: f64) {
        debug_assert!(v.is_finite() && self.room() >= MAX_SCALAR);
        // SAFETY: `write_finite_f64` writes at most `MAX_SCALAR` bytes at the pointer, within
        // the room the caller guarantees, and returns how many it wrote.
        let n = unsafe { write_finite_f64(v, self.end()) };
        self.len += n;
    }
}

/// Writes a finite `v` at `dst` as `ryu::Buffer::format_finite` writes it, returning the
/// number of bytes (at most [`MAX_SCALAR`]).
///
/// `zmij` (Schubfach) finds the digits in about half of `ryu`'s time; its text differs from
/// `ryu`'s only in writing a positive exponent with a sign (`1e+16` where `ryu` writes
/// `1e16`), which happens only for |v| ≥ 10¹⁶, where that `+` is left out.
///
/// A free function of a pointer, not inlined, like `ryu::raw::format64` before it: a
/// `&mut Cursor` passed to a call in the encoders' row loops keeps the cursor out of
/// registers, +6 instructions per row even for rows without floats (callgrind).
///
/// # Safety
/// `dst` is valid for writes of [`MAX_SCALAR`] bytes.
#[inline(never)]
// SAFETY: callers must uphold this fn's contract: `dst` is writable for `MAX_SCALAR` bytes.
unsafe fn write_finite_f64(v: f64, dst: *mut u8) -> usize {
    let mut buf = zmij::Buffer::new();
    let text = buf.format_finite(v).as_bytes();
    // Only an exponent has a `+` (`-1.25e+300`), and only from 10¹⁶ up.
    let plus = if v.abs() >= EXPONENT_FORM {
        text.iter().position(|&b| b == b'+')
    } else {
        None
    };
    let (head, tail) = match plus {
        Some(p) => (&text[..p], &text[p + 1..]),
        None => (text, &[][..]),
    };
    debug_assert!(head.len() + tail.len() <= MAX_SCALAR);
    // SAFETY: the two pieces are at most `MAX_SCALAR` bytes together (a shortest f64 text is
    // at most 24 bytes), which the caller guarantees writable at `dst`; the source is the
    // local buffer, which does not overlap it.
    unsafe {
        copy_short(head.as_ptr(), dst, head.len());
        copy_short(tail.as_ptr(), dst.add(head.len()), tail.len());
    }
    head.len() + tail.len()
}

/// Copies `n` bytes from `src` to `dst`: up to 32 as fixed-size (possibly overlapping) loads
/// and stores, more by `memcpy`.
///
/// # Safety
/// `src` is readable and `dst` writable for `n` bytes, and the two ranges do not overlap.
#[inline(always)]
// SAFETY: callers must uphold this fn's contract: `src`/`dst` valid for `n` bytes, disjoint.
unsafe fn copy_short(src: *const u8, dst: *mut u8, n: usize) {
    // SAFETY: every read below is at offsets `..n` of `src`, every write at offsets `..n` of
    // `dst`, as the caller guarantees; the ranges are disjoint.
    unsafe {
        if n > 32 {
            ptr::copy_nonoverlapping(src, dst, n);
        } else if n >= 16 {
            // The first and the last sixteen bytes (overlapping when n < 32).
            let (a, b) = (src.cast::<u128>(), src.add(n - 16).cast::<u128>());
            let (a, b) = (a.read_unaligned(), b.read_unaligned());
            dst.cast::<u128>().write_unaligned(a);
            dst.add(n - 16).cast::<u128>().write_unaligned(b);
        } else if n >= 8 {
            // The first and the last eight bytes (overlapping when n < 16).
            let (a, b) = (src.cast::<u64>(), src.add(n - 8).cast::<u64>());
            let (a, b) = (a.read_unaligned(), b.read_unaligned());
            dst.cast::<u64>().write_unaligned(a);
            dst.add(n - 8).cast::<u64>().write_unaligned(b);
        } else if n >= 4 {
            let (a, b) = (src.cast::<u32>(), src.add(n - 4).cast::<u32>());
            let (a, b) = (a.read_unaligned(), b.read_unaligned());
            dst.cast::<u32>().write_unaligned(a);
            dst.add(n - 4).cast::<u32>().write_unaligned(b);
        } else if n > 0 {
            // First, middle and last byte (the same byte for n = 1).
            let (a, m, z) = (*src, *src.add(n / 2), *src.add(n - 1));
            *dst = a;
            *dst.add(n / 2) = m;
            *dst.add(n - 1) = z;
        }
    }
}

/// The smallest magnitude `ryu` and `zmij` write in exponent form with a positive exponent.
const EXPONENT_FORM: f64 = 1e16;

/// Grows `vec` (of `len` written bytes) to room for `n` more; returns its pointer and
/// capacity.
#[cold]
#[inline(never)]
fn grow(vec: &mut Vec<u8>, len: usize, n: usize) -> (*mut u8, usize) {
    debug_assert!(len <= vec.capacity());
    // SAFETY: the bytes `..len` were initialised by the cursor's writes (see `Cursor::sync`).
    unsafe { vec.set_len(len) };
    vec.reserve(n);
    (vec.as_mut_ptr(), vec.capacity())
}

impl Drop for Cursor<'_> {
    #[inline]
    fn drop(&mut self) {
        self.sync();
    }
}

/// The two digits of `v` (< 100) in [`PAIRS`].
#[inline(always)]
fn pair(v: u64) -> *const u8 {
    debug_assert!(v < 100);
    PAIRS[(v % 100) as usize * 2..].as_ptr()
}

/// The number of decimal digits of `v` (1 for 0).
#[inline(always)]
fn digits(v: u64) -> usize {
    if v < 10 {
        1
    } else if v < 100 {
        2
    } else {
        v.ilog10() as usize + 1
    }
}

#[cfg(test)]
#[path = "out_cursor_tests.rs"]
mod tests;
