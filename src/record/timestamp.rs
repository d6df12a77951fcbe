//! Timestamps of input records: integer milliseconds since the Unix epoch, or RFC 3339.
//!
//! RFC 3339 text is parsed by [`jiff`] (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00+02:00`,
//! `2024-05-01T12:00:00.250Z`); an offset (`Z` or `±hh:mm`) is required, since a civil time
//! without one names no instant.

/// Parses a timestamp into milliseconds since the Unix epoch.
///
/// Accepts an optionally signed run of ASCII digits (integer milliseconds, the whole `i64`
/// range) or an RFC 3339 date-time with an offset. Fractional seconds finer than a
/// millisecond are rounded down (towards the past, also before 1970). Returns `None` for
/// anything else, including the empty string.
///
/// ```
/// use weir::record::parse_timestamp;
/// assert_eq!(parse_timestamp("1714564800000"), Some(1_714_564_800_000));
/// assert_eq!(parse_timestamp("2024-05-01T12:00:00Z"), Some(1_714_564_800_000));
/// assert_eq!(parse_timestamp("2024-05-01T14:00:00.5+02:00"), Some(1_714_564_800_500));
/// assert_eq!(parse_timestamp("2024-05-01 12:00"), None);
/// ```
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if let Some(ms) = super::int_text::parse_i64(bytes) {
        return Some(ms);
    }
    let digits = match bytes.first() {
        Some(b'+' | b'-') => &bytes[1..],
        _ => bytes,
    };
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        return None; // out of the i64 range
    }
    let ts: jiff::Timestamp = text.parse().ok()?;
    // `as_millisecond` truncates towards zero; floor instead so that an instant maps to the
    // millisecond it falls in, before the epoch too. Seconds and nanoseconds share a sign.
    let nanos = i64::from(ts.subsec_nanosecond());
    ts.as_second()
        .checked_mul(1000)?
        .checked_add(nanos.div_euclid(1_000_000))
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    const NOON: i64 = 1_714_564_800_000; // 2024-05-01T12:00:00Z

    #[test]
    fn integer_milliseconds() {
        assert_eq!(parse_timestamp("0"), Some(0));
        assert_eq!(parse_timestamp("-42"), Some(-42));
        assert_eq!(parse_timestamp("+42"), Some(42));
        assert_eq!(parse_timestamp("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_timestamp("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_timestamp("9223372036854775808"), None);
        assert_eq!(parse_timestamp("12a"), None);
        assert_eq!(parse_timestamp("-"), None);
        assert_eq!(parse_timestamp(""), None);
        assert_eq!(parse_timestamp(" 1"), None);
    }

    #[test]
    fn rfc3339_variants() {
        assert_eq!(parse_timestamp("2024-05-01T12:00:00Z"), Some(NOON));
        assert_eq!(parse_timestamp("2024-05-01T12:00:00z"), Some(NOON));
        assert_eq!(parse_timestamp("2024-05-01t12:00:00Z"), Some(NOON));
        assert_eq!(parse_timestamp("2024-05-01T12:00:00+00:00"), Some(NOON));
        assert_eq!(parse_timestamp("2024-05-01T14:00:00+02:00"), Some(NOON));
        assert_eq!(parse_timestamp("2024-05-01T07:30:00-04:30"), Some(NOON));
        assert_eq!(parse_timestamp("2024-05-01T12:00:00.1Z"), Some(NOON + 100));
        assert_eq!(
            parse_timestamp("2024-05-01T12:00:00.123Z"),
            Some(NOON + 123)
        );
        assert_eq!(
            parse_timestamp("2024-05-01T12:00:00.123999999Z"),
            Some(NOON + 123)
        );
        assert_eq!(
            parse_timestamp("2024-05-01T14:00:00.250+02:00"),
            Some(NOON + 250)
        );
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn sub_millisecond_before_epoch_rounds_down() {
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.9995Z"), Some(-1));
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(parse_timestamp("1969-12-31T23:59:58Z"), Some(-2000));
    }

    #[test]
    fn rejects_malformed_rfc3339() {
        for bad in [
            "2024-05-01T12:00:00", // no offset
            "2024-05-01",
            "2024-13-01T12:00:00Z",
            "2024-05-01T25:00:00Z",
            "2024-05-01T12:00:00+2",
            "2024-05-01T12:00:00Z trailing",
            "yesterday",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
