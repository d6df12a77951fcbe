//! Input lines as text: ASCII lines skip UTF-8 validation (issue 10, step 3).
//!
//! `std::str::from_utf8` costs ~100 instructions on a 15-byte CSV line (callgrind, PERF.md
//! "Issue 10, step 3"); generated and most real input is ASCII, which a scan the decoder
//! already does (or `<[u8]>::is_ascii`, a word at a time) detects for a fraction of that.
//! Lines with any byte ≥ 0x80 are validated as before, with the same reasons.

use super::format::invalid_utf8;

/// `body` as text, validated unless `ascii`.
///
/// # Safety
/// When `ascii` is true, no byte of `body` may be ≥ 0x80 (the caller saw every byte in a
/// scan it did anyway; a second `is_ascii` pass cost ~30 instructions per CSV line).
///
/// # Errors
/// The reason of invalid UTF-8, as [`invalid_utf8`] words it.
#[inline]
#[allow(unsafe_code)]
// SAFETY: an `unsafe fn` because its caller must uphold the contract above (`ascii` only for
// bytes all < 0x80); the one unchecked conversion inside relies on it.
pub(crate) unsafe fn text_known(body: &[u8], ascii: bool) -> Result<&str, String> {
    if ascii {
        debug_assert!(body.is_ascii());
        // SAFETY: by this function's contract every byte of `body` is < 0x80; ASCII is
        // valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(body) });
    }
    std::str::from_utf8(body).map_err(|e| invalid_utf8(e.valid_up_to()))
}

/// `body` as text, validated only when it is not ASCII (`is_ascii` reads a word at a time).
///
/// # Errors
/// The reason of invalid UTF-8, as [`invalid_utf8`] words it.
#[inline]
#[allow(unsafe_code)]
pub(crate) fn text(body: &[u8]) -> Result<&str, String> {
    let ascii = body.is_ascii();
    // SAFETY: `ascii` is `is_ascii` of `body` itself, as `text_known` requires.
    unsafe { text_known(body, ascii) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn same_as_from_utf8(b in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b','), Just(0xC3u8), Just(0xA9u8), Just(0xFFu8)], 0..40)
        ) {
            let want = std::str::from_utf8(&b).map_err(|e| invalid_utf8(e.valid_up_to()));
            prop_assert_eq!(text(&b), want.clone());
            // SAFETY: `false` promises nothing; `ascii` is computed from every byte.
            #[allow(unsafe_code)]
            let (checked, hinted) = unsafe {
                (text_known(&b, false), text_known(&b, b.iter().all(|&c| c < 0x80)))
            };
            prop_assert_eq!(checked, want.clone());
            prop_assert_eq!(hinted, want);
        }
    }
}
