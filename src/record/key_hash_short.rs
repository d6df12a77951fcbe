//! The stable key-group hash of a short key, from its canonical bytes held as three
//! little-endian words (issue 10, step 6).
//!
//! The stable hash is XXH3-64 with the seed [`KEY_GROUP_SEED`] over the key's canonical
//! bytes ([`stable_hash_bytes`]). The keys `key_by` builds most are short: one string of up
//! to 15 bytes is 5–20 canonical bytes, one number 9. `RowKey` builds such a key as words
//! (`record::row_key_short`); this module hashes those words in registers, with the input
//! lengths' three XXH3 cases (4–8, 9–16 and 17–32 bytes) written for a fixed seed and at most
//! 24 bytes: no slice, no loads from the secret, no store-then-reload of the key's bytes.
//! Its value is XXH3's, for every length it takes (tested against [`stable_hash_bytes`]);
//! lengths outside 4..=24 take [`stable_hash_bytes`] itself.

use crate::state::key_group::{stable_hash_bytes, KEY_GROUP_SEED};

/// Longest key, in bytes, hashed from words.
pub(crate) const MAX: usize = 24;

/// The first 56 bytes of XXH3's default secret, as little-endian words (the part inputs of
/// up to 32 bytes use).
const SECRET: [u64; 7] = [
    0xbe4b_a423_396c_feb8,
    0x1cad_21f7_2c81_017c,
    0xdb97_9083_e96d_d4de,
    0x1f67_b3b7_a4a4_4072,
    0x78e5_c0cc_4ee6_79cb,
    0x2172_ffcc_7dd0_5a82,
    0x8e24_43f7_7446_08b8,
];

/// XXH64's first prime (XXH3 scales the length of 17–128-byte inputs by it).
const PRIME64_1: u64 = 0x9E37_79B1_85EB_CA87;

/// The seed as the 4–8-byte case folds it: its low half, byte-swapped, xored into its high.
const SEED_4_8: u64 = KEY_GROUP_SEED ^ (((KEY_GROUP_SEED as u32).swap_bytes() as u64) << 32);
/// The 4–8-byte case's key.
const FLIP_4_8: u64 = (SECRET[1] ^ SECRET[2]).wrapping_sub(SEED_4_8);
/// The 9–16-byte case's keys for the first and the last 8 bytes.
const FLIP_9_16: [u64; 2] = [
    (SECRET[3] ^ SECRET[4]).wrapping_add(KEY_GROUP_SEED),
    (SECRET[5] ^ SECRET[6]).wrapping_sub(KEY_GROUP_SEED),
];

/// The stable hash of the first `len` bytes of `w` read as 24 little-endian bytes (bytes past
/// `len` are ignored where XXH3 ignores them; callers keep them zero).
#[inline(always)]
pub(crate) fn hash_words(w: [u64; 3], len: usize) -> u64 {
    match len {
        9..=16 => len_9_to_16(w[0], w[1], len),
        17..=MAX => len_17_to_24(w, len),
        4..=8 => len_4_to_8(w[0], len),
        _ => hash_other(w, len),
    }
}

/// Lengths 4–8: the first and the last 4 bytes, keyed, then XXH3's strong avalanche.
#[inline(always)]
fn len_4_to_8(w0: u64, len: usize) -> u64 {
    let first = w0 & 0xFFFF_FFFF;
    let last = (w0 >> (8 * (len - 4))) & 0xFFFF_FFFF;
    let keyed = last.wrapping_add(first << 32) ^ FLIP_4_8;
    strong_avalanche(keyed, len as u64)
}

/// Lengths 9–16: the first and the last 8 bytes, keyed and multiplied.
#[inline(always)]
fn len_9_to_16(w0: u64, w1: u64, len: usize) -> u64 {
    let lo = w0 ^ FLIP_9_16[0];
    let hi = read_at(w0, w1, len - 8) ^ FLIP_9_16[1];
    let acc = (len as u64)
        .wrapping_add(lo.swap_bytes())
        .wrapping_add(hi)
        .wrapping_add(fold(lo, hi));
    avalanche(acc)
}

/// Lengths 17–24 (XXH3's 17–32-byte case): the first and the last 16 bytes, each mixed with
/// 16 bytes of the secret.
#[inline(always)]
fn len_17_to_24(w: [u64; 3], len: usize) -> u64 {
    let at = len - 16;
    let acc = (len as u64)
        .wrapping_mul(PRIME64_1)
        .wrapping_add(mix16(w[0], w[1], SECRET[0], SECRET[1]))
        .wrapping_add(mix16(
            read_at(w[0], w[1], at),
            read_at(w[1], w[2], at),
            SECRET[2],
            SECRET[3],
        ));
    avalanche(acc)
}

/// Lengths XXH3 hashes otherwise (0–3, or more than the words hold): from the bytes.
#[cold]
fn hash_other(w: [u64; 3], len: usize) -> u64 {
    let mut bytes = [0u8; MAX];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(w) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    stable_hash_bytes(&bytes[..len.min(MAX)])
}

/// The 8 bytes at byte offset `at` (1..=8) of the 16 bytes `a`, `b`.
#[inline(always)]
fn read_at(a: u64, b: u64, at: usize) -> u64 {
    // The 8 bytes ending at `at + 8`: the high word of the 16 bytes shifted left by
    // `64 - 8 × at` (0..=56) bits. An amount known to be under 64 makes it one `shld`,
    // without the test of the amount a general 128-bit shift needs.
    let both = (u128::from(b) << 64) | u128::from(a);
    let k = 64usize.wrapping_sub(8 * at) & 63;
    ((both << k) >> 64) as u64
}

/// XXH3's 16-byte mix: the two words keyed with the secret and the seed, multiplied to 128
/// bits and folded.
#[inline(always)]
fn mix16(lo: u64, hi: u64, s0: u64, s1: u64) -> u64 {
    fold(
        lo ^ s0.wrapping_add(KEY_GROUP_SEED),
        hi ^ s1.wrapping_sub(KEY_GROUP_SEED),
    )
}

/// The 128-bit product of `a` and `b`, its halves xored.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// XXH3's avalanche.
#[inline(always)]
fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(0x1656_6791_9E37_79F9);
    h ^ (h >> 32)
}

/// XXH3's strong avalanche of the 4–8-byte case (it mixes in the length).
#[inline(always)]
fn strong_avalanche(mut h: u64, len: u64) -> u64 {
    const M: u64 = 0x9FB2_1C65_1E98_DF25;
    h ^= h.rotate_left(49) ^ h.rotate_left(24);
    h = h.wrapping_mul(M);
    h ^= (h >> 35).wrapping_add(len);
    h = h.wrapping_mul(M);
    h ^ (h >> 28)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `bytes` (at most 24) as three little-endian words, zero-padded.
    fn words(bytes: &[u8]) -> [u64; 3] {
        let mut padded = [0u8; MAX];
        padded[..bytes.len()].copy_from_slice(bytes);
        let word = |i: usize| u64::from_le_bytes(padded[8 * i..8 * i + 8].try_into().unwrap());
        [word(0), word(1), word(2)]
    }

    proptest! {
        #[test]
        fn equals_xxh3_for_every_length(bytes in proptest::collection::vec(any::<u8>(), 0..=MAX)) {
            prop_assert_eq!(hash_words(words(&bytes), bytes.len()), stable_hash_bytes(&bytes));
        }
    }

    #[test]
    fn equals_xxh3_at_each_length_and_byte_position() {
        // Every length, with one byte set at each position (a misplaced read shows as a
        // different hash), and all-0xFF (carries in the additions).
        for len in 0..=MAX {
            for at in 0..len {
                let mut bytes = vec![0u8; len];
                bytes[at] = 0xA5;
                assert_eq!(hash_words(words(&bytes), len), stable_hash_bytes(&bytes));
            }
            let ones = vec![0xFFu8; len];
            assert_eq!(hash_words(words(&ones), len), stable_hash_bytes(&ones));
        }
    }

    #[test]
    fn a_length_past_the_words_hashes_what_they_hold() {
        let w = words(&[7u8; MAX]);
        assert_eq!(hash_words(w, MAX + 9), stable_hash_bytes(&[7u8; MAX]));
    }
}
