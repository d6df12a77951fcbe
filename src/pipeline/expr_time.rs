//! UTC calendar fields of epoch-millisecond timestamps, for the expression functions
//! `hour`, `minute`, `date` and `format`.

use super::expr_eval::TimePart;
use std::fmt::Write;

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    // Eras of 400 years (146,097 days) starting on 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Milliseconds into the UTC day of `ts`.
fn ms_of_day(ts: i64) -> i64 {
    ts.rem_euclid(MS_PER_DAY)
}

/// UTC hour of `ts` (0..=23).
pub fn hour(ts: i64) -> i64 {
    ms_of_day(ts) / 3_600_000
}

/// UTC minute of `ts` (0..=59).
pub fn minute(ts: i64) -> i64 {
    ms_of_day(ts) / 60_000 % 60
}

/// `yyyy-MM-dd` of `ts` (UTC).
pub fn date(ts: i64) -> String {
    let (y, m, d) = civil(ts.div_euclid(MS_PER_DAY));
    let mut out = String::with_capacity(10);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
    out
}

/// `ts` (UTC) written by `parts`.
pub fn format(ts: i64, parts: &[TimePart]) -> String {
    let (y, mo, d) = civil(ts.div_euclid(MS_PER_DAY));
    let ms = ms_of_day(ts);
    let mut out = String::with_capacity(24);
    for p in parts {
        let _ = match p {
            TimePart::Year => write!(out, "{y:04}"),
            TimePart::Month => write!(out, "{mo:02}"),
            TimePart::Day => write!(out, "{d:02}"),
            TimePart::Hour => write!(out, "{:02}", ms / 3_600_000),
            TimePart::Minute => write!(out, "{:02}", ms / 60_000 % 60),
            TimePart::Second => write!(out, "{:02}", ms / 1000 % 60),
            TimePart::Milli => write!(out, "{:03}", ms % 1000),
            TimePart::Text(t) => out.write_str(t),
        };
    }
    out
}

/// Parses a pattern of `yyyy MM dd HH mm ss SSS` and other text (copied as is).
///
/// # Errors
/// A pattern with none of the fields (most likely a mistake).
pub fn parse_pattern(pattern: &str) -> Result<Vec<TimePart>, String> {
    const TOKENS: [(&str, TimePart); 7] = [
        ("yyyy", TimePart::Year),
        ("MM", TimePart::Month),
        ("dd", TimePart::Day),
        ("HH", TimePart::Hour),
        ("mm", TimePart::Minute),
        ("ss", TimePart::Second),
        ("SSS", TimePart::Milli),
    ];
    let mut parts = Vec::new();
    let mut rest = pattern;
    let mut text = String::new();
    'outer: while let Some(c) = rest.chars().next() {
        for (tok, part) in &TOKENS {
            if let Some(after) = rest.strip_prefix(tok) {
                if !text.is_empty() {
                    parts.push(TimePart::Text(std::mem::take(&mut text)));
                }
                parts.push(part.clone());
                rest = after;
                continue 'outer;
            }
        }
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !text.is_empty() {
        parts.push(TimePart::Text(text));
    }
    if parts.iter().all(|p| matches!(p, TimePart::Text(_))) {
        return Err(format!(
            "pattern {pattern:?} has no field (yyyy MM dd HH mm ss SSS)"
        ));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields_match_hand_worked_dates() {
        // 2015-07-15T00:00:00Z (Beam's base time).
        assert_eq!(date(1_436_918_400_000), "2015-07-15");
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        // 2000-02-29T23:59:59.999Z, a leap day.
        let t = 951_868_799_999;
        assert_eq!(date(t), "2000-02-29");
        assert_eq!((hour(t), minute(t)), (23, 59));
        let p = parse_pattern("yyyy-MM-dd HH:mm:ss.SSS").expect("pattern");
        assert_eq!(format(t, &p), "2000-02-29 23:59:59.999");
        assert_eq!(
            format(
                1_436_918_400_000 + 3_723_000,
                &parse_pattern("HH:mm").expect("p")
            ),
            "01:02"
        );
        assert!(parse_pattern("hello").is_err());
    }
}
