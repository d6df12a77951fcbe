//! [`RowKey`]s of one short value, built and hashed as words (issue 10, step 6).
//!
//! The keys `key_by` builds most hold one value: a string of up to 15 bytes (an inline
//! [`super::Text`]), or a number. Their canonical bytes (5–20 and 9) are put together here as
//! three little-endian words in registers, from the text's two words or the number, and
//! hashed from those words ([`short::hash_words`]); the inline buffer is written once, by
//! whole words. There is no length-dependent copy, no store of the bytes followed by loads of
//! them to hash, and no generic hashing entry. The bytes and the hash are those of the
//! general path (the tests compare both for every value type and string length).

use super::{Bytes, RowKey, INLINE};
use crate::record::key_hash::short;
use crate::record::Text;

/// A string value's canonical tag.
const STR_TAG: u64 = 3;

impl RowKey {
    /// The key of one inline string: `bytes` are the text's (zero after its length `n`, as
    /// [`Text`] keeps them), `n ≤ 15`.
    #[inline(always)]
    pub(super) fn from_inline_str(bytes: &[u8; Text::INLINE], n: usize) -> Self {
        debug_assert!(n <= Text::INLINE && bytes[n..].iter().all(|&b| b == 0));
        // Canonical bytes: the tag, the length as u32 little-endian, the string. After the
        // 5-byte head, the words are the text's bytes at 3 and 11: two loads, no shifts.
        let n = n as u64 & 0xF;
        let w0 = STR_TAG | (n << 8) | (u64::from_le_bytes(word(bytes, 0)) << 40);
        let w1 = u64::from_le_bytes(word(bytes, 3));
        let mut last = [0u8; 4];
        last.copy_from_slice(&bytes[11..]);
        let w2 = u64::from(u32::from_le_bytes(last));
        Self::from_words([w0, w1, w2], 5 + n as usize)
    }

    /// The key of one 8-byte value: its canonical `tag` (1, 2 or 4), then `x` little-endian.
    #[inline(always)]
    pub(super) fn from_tagged_word(tag: u8, x: u64) -> Self {
        Self::from_words([u64::from(tag) | (x << 8), x >> 56, 0], 9)
    }

    /// An inline key of the first `len ≤ 24` bytes of `w` (zero after them).
    #[inline(always)]
    fn from_words(w: [u64; 3], len: usize) -> Self {
        let mut buf = [0u8; INLINE];
        for (chunk, word) in buf[..short::MAX].chunks_exact_mut(8).zip(w) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        RowKey {
            hash: short::hash_words(w, len),
            bytes: Bytes::Inline {
                // `len ≤ 24`.
                len: len as u8,
                buf,
            },
        }
    }
}

/// The 8 bytes of `bytes` at `at` (`at + 8 ≤ 15`).
#[inline(always)]
fn word(bytes: &[u8; Text::INLINE], at: usize) -> [u8; 8] {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[at..at + 8]);
    w
}
