//! Decimal integer text to `i64`, without going through `str::parse` (issue 10, step 3).
//!
//! Accepts exactly what `i64::from_str` accepts — an optional `+` or `-`, then one or more
//! ASCII digits, within the `i64` range — and gives the same value; a proptest checks this
//! against `str::parse`. Up to 18 digits cannot overflow, so the common case is one loop
//! without overflow checks.

/// Digits that always fit an `i64` (10¹⁸ − 1 < 2⁶³).
const SAFE_DIGITS: usize = 18;

/// Parses `text` as `i64::from_str` would; `None` where it fails.
#[inline]
pub(crate) fn parse_i64(text: &[u8]) -> Option<i64> {
    let (neg, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    if digits.len() > SAFE_DIGITS {
        return parse_long(neg, digits);
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if neg { -v } else { v })
}

/// [`parse_i64`] for 19 digits and more: checked arithmetic, accumulated towards the sign so
/// that `i64::MIN` parses.
#[cold]
fn parse_long(neg: bool, digits: &[u8]) -> Option<i64> {
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(i64::from(d))?
        } else {
            v.checked_add(i64::from(d))?
        };
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::parse_i64;
    use proptest::prelude::*;

    #[test]
    fn edges_match_std() {
        for t in [
            "0",
            "-0",
            "+0",
            "7",
            "-7",
            "+",
            "-",
            "",
            "--1",
            "+-1",
            " 1",
            "1 ",
            "1a",
            "a1",
            "000000000000000000000000012",
            "999999999999999999",
            "-999999999999999999",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999",
            "1_000",
            "١",
        ] {
            assert_eq!(parse_i64(t.as_bytes()), t.parse::<i64>().ok(), "{t:?}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_str_parse(t in "[+-]?[0-9]{0,22}[a ]?") {
            prop_assert_eq!(parse_i64(t.as_bytes()), t.parse::<i64>().ok());
        }

        #[test]
        fn any_i64_round_trips(v in any::<i64>()) {
            prop_assert_eq!(parse_i64(v.to_string().as_bytes()), Some(v));
        }

        #[test]
        fn arbitrary_bytes_agree(b in proptest::collection::vec(any::<u8>(), 0..24)) {
            let std = std::str::from_utf8(&b).ok().and_then(|t| t.parse::<i64>().ok());
            prop_assert_eq!(parse_i64(&b), std);
        }
    }
}
