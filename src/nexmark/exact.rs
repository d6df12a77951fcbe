//! `nextExactString` (NEXMARK.md §4) decoded two characters at a time.
//!
//! Java decodes each `nextInt()` `r` into six characters, `97 + r % 26` then `r /= 26`, with
//! truncating signed arithmetic. For `r ≥ 0` the characters are `97 +` the base-26 digits of
//! `r`; for `r < 0` they are `97 −` the base-26 digits of `|r|` (a truncated quotient of a
//! negative number is minus the quotient of its magnitude, and so is the remainder). So one
//! table per sign, indexed by a base-676 digit, gives two characters per division instead of
//! one signed division and one signed remainder per character.

use super::random::JavaRng;

/// Characters decoded from one `nextInt()`.
const PER_INT: usize = 6;
/// 26², the base of one table digit (two characters).
const PAIR_BASE: u32 = 676;

/// The two characters of each base-676 digit, lowest base-26 digit first, for `97 + d` (`sign`
/// 1) or `97 − d` (`sign` −1).
const fn pair_table(sign: i32) -> [[u8; 2]; PAIR_BASE as usize] {
    let mut t = [[0u8; 2]; PAIR_BASE as usize];
    let mut p = 0;
    while p < PAIR_BASE as usize {
        let (lo, hi) = ((p % 26) as i32, (p / 26) as i32);
        t[p] = [(97 + sign * lo) as u8, (97 + sign * hi) as u8];
        p += 1;
    }
    t
}

/// Whether every byte of `t` is in `b'H'..=b'z'` (ASCII).
const fn all_letters(t: &[[u8; 2]; PAIR_BASE as usize]) -> bool {
    let mut p = 0;
    while p < PAIR_BASE as usize {
        let [a, b] = t[p];
        if a < b'H' || a > b'z' || b < b'H' || b > b'z' {
            return false;
        }
        p += 1;
    }
    true
}

/// [`fill_exact`] writes only ASCII: checked when compiling (the unchecked UTF-8 conversion of
/// its output relies on it).
pub const WRITES_ONLY_ASCII: bool = all_letters(&pair_table(1)) && all_letters(&pair_table(-1));
const _: () = assert!(WRITES_ONLY_ASCII);

/// Pairs of a non-negative `nextInt()`.
static POSITIVE: [[u8; 2]; PAIR_BASE as usize] = pair_table(1);
/// Pairs of a negative `nextInt()`.
static NEGATIVE: [[u8; 2]; PAIR_BASE as usize] = pair_table(-1);

/// The six characters Java decodes from `r`.
#[inline]
fn six_chars(r: i32) -> [u8; PER_INT] {
    let table = if r < 0 { &NEGATIVE } else { &POSITIVE };
    let mut u = r.unsigned_abs();
    let mut out = [0u8; PER_INT];
    for pair in out.chunks_exact_mut(2) {
        pair.copy_from_slice(&table[(u % PAIR_BASE) as usize]);
        u /= PAIR_BASE;
    }
    out
}

/// Fills `out` with `nextExactString(out.len())`: one `nextInt()` per six characters (the
/// last one partly used), every character in `'H'..='z'`.
pub fn fill_exact(rng: &mut impl JavaRng, out: &mut [u8]) {
    // Whole chunks first: a copy of a constant six bytes is a store, not a `memcpy` call.
    let mut chunks = out.chunks_exact_mut(PER_INT);
    for chunk in &mut chunks {
        chunk.copy_from_slice(&six_chars(rng.next_int()));
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let six = six_chars(rng.next_int());
        rest.copy_from_slice(&six[..rest.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nexmark::random::JavaRandom;

    /// Java's decoding, character by character, as NEXMARK.md §4 writes it.
    fn java_six(mut r: i32) -> [u8; PER_INT] {
        let mut out = [0u8; PER_INT];
        for b in &mut out {
            *b = (97 + r % 26) as u8;
            r /= 26;
        }
        out
    }

    #[test]
    fn pairs_decode_like_java_at_the_edges_and_at_random() {
        let edges = [
            0,
            1,
            -1,
            25,
            26,
            -26,
            675,
            676,
            -676,
            i32::MAX,
            i32::MIN,
            i32::MIN + 1,
        ];
        for r in edges {
            assert_eq!(six_chars(r), java_six(r), "{r}");
        }
        let mut rng = JavaRandom::new(42);
        for _ in 0..100_000 {
            let r = rng.next_int();
            assert_eq!(six_chars(r), java_six(r), "{r}");
        }
    }

    #[test]
    fn fill_uses_one_int_per_six_chars() {
        for len in 0..20 {
            let mut a = JavaRandom::new(len as i64);
            let mut got = vec![0u8; len];
            fill_exact(&mut a, &mut got);
            let mut b = JavaRandom::new(len as i64);
            let want: Vec<u8> = (0..len.div_ceil(PER_INT))
                .flat_map(|_| java_six(b.next_int()))
                .take(len)
                .collect();
            assert_eq!(got, want, "{len}");
            // Both RNGs are at the same point afterwards.
            assert_eq!(a.next_int(), b.next_int(), "{len}");
        }
    }
}
