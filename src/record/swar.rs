//! Byte scanning eight bytes at a time in a `u64` (SWAR), for the short strings of JSON lines
//! (issue 10, step 3): a 4-byte key took ~30 instructions byte by byte, one word test here.
//!
//! The tests are the classic "has a byte less than n" bit tricks: for a word `w`,
//! `(w - n·0x01..01) & !w & 0x80..80` has the high bit of the *lowest* byte below `n` set
//! (bytes above it may be marked falsely by the borrow, but only the lowest mark is read);
//! equality with `c` is "less than 1" of `w ^ c·0x01..01`.
//!
//! Measured (PERF.md, issue 10 step 3): this pays in the JSON decoder's key and string scan.
//! The CSV block pass uses it for its field ends and integers, the JSON block pass for its
//! integers (steps 5 and 6). The encoders' "needs quoting/escaping" checks have their own word
//! scans since step 5 ([`super::out_scan`]).

/// One in each byte.
const LO: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte.
const HI: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `w` equal to `c` (only the lowest mark is exact).
#[inline]
fn equal(w: u64, c: u8) -> u64 {
    let x = w ^ (LO * u64::from(c));
    x.wrapping_sub(LO) & !x & HI
}

/// Marks the bytes of `w` that end the plain part of a JSON string: `"`, `\` or a control
/// character (< 0x20). Only the lowest mark is exact.
#[inline]
fn specials(w: u64) -> u64 {
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    equal(w, b'"') | equal(w, b'\\') | control
}

/// Whether `c` ends the plain part of a JSON string (see [`specials`]).
#[inline]
fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The index of the first byte at or after `from` that is `"`, `\` or below 0x20; `None` when
/// there is none (or `from` is past the end).
#[inline]
pub(crate) fn string_end(b: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    while let Some(chunk) = b.get(j..j + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let marks = specials(u64::from_le_bytes(word));
        if marks != 0 {
            return Some(j + (marks.trailing_zeros() / 8) as usize);
        }
        j += 8;
    }
    let rest = b.get(j..)?;
    rest.iter().position(|&c| is_special(c)).map(|p| j + p)
}

/// The index of the first byte at or after `from` that is `"`, `\`, below 0x20 or ≥ 0x80 (the
/// end of an ASCII string's plain part); `None` when there is none.
#[inline]
pub(crate) fn ascii_string_end(b: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    while let Some(chunk) = b.get(j..j + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let marks = specials(w) | (w & HI);
        if marks != 0 {
            return Some(j + (marks.trailing_zeros() / 8) as usize);
        }
        j += 8;
    }
    let rest = b.get(j..)?;
    rest.iter()
        .position(|&c| is_special(c) || c >= 0x80)
        .map(|p| j + p)
}

/// Marks the bytes of `w` that end the plain part of a CSV field for the block pass
/// ([`super::csv_block`]): `,`, `\n`, `"`, `\r` and every byte ≥ 0x80. Only the lowest mark is
/// exact.
#[inline]
fn csv_stops(w: u64) -> u64 {
    equal(w, b',') | equal(w, b'\n') | equal(w, b'"') | equal(w, b'\r') | (w & HI)
}

/// Whether `c` ends the plain part of a CSV field (see [`csv_stops`]).
#[inline]
pub(crate) fn is_csv_stop(c: u8) -> bool {
    matches!(c, b',' | b'\n' | b'"' | b'\r') || c >= 0x80
}

/// The index of the first byte at or after `from` that is `,`, `\n`, `"`, `\r` or ≥ 0x80;
/// `None` when there is none.
#[inline]
pub(crate) fn csv_field_end(b: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    while let Some(chunk) = b.get(j..j + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let marks = csv_stops(u64::from_le_bytes(word));
        if marks != 0 {
            return Some(j + (marks.trailing_zeros() / 8) as usize);
        }
        j += 8;
    }
    let rest = b.get(j..)?;
    rest.iter().position(|&c| is_csv_stop(c)).map(|p| j + p)
}

/// The number of ASCII digits at the start of `w` (its bytes in little-endian order): 0 to 8.
///
/// A byte is a digit when its high nibble is 3 and adding 6 keeps it so (low nibble ≤ 9).
/// The addition can carry out of a byte ≥ 0xFA only, which is no digit itself, so the lowest
/// non-digit is marked exactly.
#[inline]
pub(crate) fn leading_digits(w: u64) -> usize {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = LO * 0x30;
    let high = (w & HIGH_NIBBLES) ^ THREES;
    let low = (w.wrapping_add(LO * 6) & HIGH_NIBBLES) ^ THREES;
    ((high | low).trailing_zeros() / 8) as usize
}

/// The value of the first `n` (1 to 8) bytes of `w`, which are ASCII digits, the first byte the
/// most significant digit. Three multiply steps combine digit pairs, then quads, then octets.
#[inline]
pub(crate) fn digits_value(w: u64, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n));
    // The digits move to the top bytes; the bytes below them become zero digits.
    let d = (w.wrapping_sub(LO * 0x30)) << (8 * (8 - n.clamp(1, 8)));
    let d = ((d & (LO * 0x0F)).wrapping_mul(10 * 256 + 1)) >> 8;
    let d = ((d & 0x00FF_00FF_00FF_00FF).wrapping_mul(100 * 65_536 + 1)) >> 16;
    ((d & 0x0000_FFFF_0000_FFFF).wrapping_mul(10_000 * (1 << 32) + 1)) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn csv_stops_in_every_lane() {
        for lane in 0..8 {
            for c in 0..=255u8 {
                let mut b = vec![b'a'; 12];
                b[lane] = c;
                let want = (0..b.len()).find(|&j| is_csv_stop(b[j]));
                assert_eq!(csv_field_end(&b, 0), want, "byte {c:#x} in lane {lane}");
            }
        }
    }

    proptest! {
        #[test]
        fn digits_are_counted_and_valued(
            b in proptest::collection::vec(
                prop_oneof![4 => b'0'..=b'9', 1 => any::<u8>(), 1 => Just(b','), 1 => Just(0xFA)],
                8..=8,
            ),
        ) {
            let mut word = [0u8; 8];
            word.copy_from_slice(&b);
            let w = u64::from_le_bytes(word);
            let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
            prop_assert_eq!(leading_digits(w), n);
            if n > 0 {
                let text = std::str::from_utf8(&b[..n]).unwrap_or_default();
                prop_assert_eq!(Some(digits_value(w, n)), text.parse::<u64>().ok());
            }
        }

        #[test]
        fn csv_field_end_matches_the_bytewise_scan(
            b in proptest::collection::vec(
                prop_oneof![
                    Just(b','), Just(b'\n'), Just(b'"'), Just(b'\r'), Just(b'a'), Just(0x7f),
                    Just(0x80), Just(0xC3), Just(0xFF), Just(b'+'), Just(b'-'), any::<u8>()
                ],
                0..40,
            ),
            from in 0usize..44,
        ) {
            let want = (from..b.len()).find(|&j| is_csv_stop(b[j]));
            prop_assert_eq!(csv_field_end(&b, from), want);
        }
    }

    /// The definition, byte by byte.
    fn reference(b: &[u8], from: usize) -> Option<usize> {
        (from..b.len()).find(|&j| is_special(b[j]))
    }

    #[test]
    fn every_byte_value_in_every_lane() {
        for lane in 0..8 {
            for c in 0..=255u8 {
                let mut b = vec![b'a'; 12];
                b[lane] = c;
                assert_eq!(
                    string_end(&b, 0),
                    reference(&b, 0),
                    "byte {c:#x} in lane {lane}"
                );
                let ascii = (0..b.len()).find(|&j| is_special(b[j]) || b[j] >= 0x80);
                assert_eq!(ascii_string_end(&b, 0), ascii, "byte {c:#x} in lane {lane}");
            }
        }
    }

    proptest! {
        #[test]
        fn matches_the_bytewise_scan(
            b in proptest::collection::vec(
                prop_oneof![
                    Just(b'"'), Just(b'\\'), Just(0u8), Just(0x1f), Just(0x20), Just(b'a'),
                    Just(0x7f), Just(0x80), Just(0xA0), Just(0xC3), Just(0xFF), any::<u8>()
                ],
                0..40,
            ),
            from in 0usize..44,
        ) {
            prop_assert_eq!(string_end(&b, from), reference(&b, from));
            let ascii = (from..b.len()).find(|&j| is_special(b[j]) || b[j] >= 0x80);
            prop_assert_eq!(ascii_string_end(&b, from), ascii);
        }
    }
}
