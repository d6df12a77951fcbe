//! `[source.event_time]` (and `[sources.NAME.event_time]`): the event-time field and the
//! watermark settings of a source; plus the duration forms the time ops accept (zero
//! allowed, or signed).
//!
//! ```toml
//! [source.event_time]
//! field = "ts"                      # a timestamp or i64 field of the source
//! max_out_of_orderness = "200ms"    # "0ms" for in-order input
//! idle_timeout = "5s"               # optional
//! watermark_interval = "200ms"      # optional (default 200ms); "0ms" = after every batch
//! ```

use super::{resolve, type_name};
use crate::pipeline::walk::{Errors, Section};
use crate::record::{FieldType, Schema};
use crate::time::WatermarkConfig;
use std::time::Duration;

/// Default processing time between two watermarks of a split.
pub(crate) const DEFAULT_WATERMARK_INTERVAL: Duration = Duration::from_millis(200);

/// A source's validated `event_time` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventTimeSpec {
    /// Name of the event-time field.
    pub field: String,
    /// Its index in the source schema.
    pub index: usize,
    /// Bound of out-of-orderness (may be zero).
    pub max_out_of_orderness: Duration,
    /// Time without records after which a split is idle.
    pub idle_timeout: Option<Duration>,
    /// Processing time between two watermarks (zero = after every batch).
    pub watermark_interval: Duration,
}

impl EventTimeSpec {
    /// The settings of each split's [`crate::time::WatermarkGenerator`].
    pub fn watermark_config(&self) -> WatermarkConfig {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        WatermarkConfig {
            max_out_of_orderness_ms: i64::try_from(ms(self.max_out_of_orderness))
                .unwrap_or(i64::MAX),
            interval_ms: ms(self.watermark_interval),
            idle_timeout_ms: self.idle_timeout.map(ms),
        }
    }
}

/// Compiles the `event_time` table of source section `s` (absent: `Some(None)`) against the
/// source's schema (`None` when unknown: names are not checked then).
pub(crate) fn event_time(
    s: &mut Section,
    schema: Option<&Schema>,
    errs: &mut Errors,
) -> Option<Option<EventTimeSpec>> {
    if !s.has("event_time") {
        return Some(None);
    }
    let mut t = s.table("event_time", errs)?;
    let field = t.req("field", errs, Section::name);
    let ooo = t.req("max_out_of_orderness", errs, duration_or_zero);
    let idle = match t.has("idle_timeout") {
        true => t.duration("idle_timeout", errs).map(Some),
        false => Some(None),
    };
    let interval = match t.has("watermark_interval") {
        true => duration_or_zero(&mut t, "watermark_interval", errs),
        false => Some(DEFAULT_WATERMARK_INTERVAL),
    };
    let path = t.at("field");
    t.finish(errs);
    let field = field?;
    let index = resolve(schema, field, &path, errs);
    if let (Some(sc), Some(i)) = (schema, index) {
        let ty = sc.fields[i].ty;
        if !matches!(ty, FieldType::Timestamp | FieldType::I64) {
            errs.push(
                &path,
                format_args!(
                    "event time needs a timestamp or i64 field ({field:?} is {})",
                    type_name(ty)
                ),
            );
            return None;
        }
    }
    Some(Some(EventTimeSpec {
        field: field.to_string(),
        index: index?,
        max_out_of_orderness: ooo?,
        idle_timeout: idle?,
        watermark_interval: interval?,
    }))
}

/// A humantime duration string that may be zero ("0ms").
pub(crate) fn duration_or_zero(s: &mut Section, key: &str, errs: &mut Errors) -> Option<Duration> {
    let text = s.str(key, errs)?;
    match humantime::parse_duration(text) {
        Ok(d) => Some(d),
        Err(e) => {
            errs.push(
                &s.at(key),
                format_args!("{text:?} is not a duration ({e}; e.g. \"0ms\", \"500ms\", \"10s\")"),
            );
            None
        }
    }
}

/// A signed humantime duration ("-1s", "2s", "0ms") in milliseconds.
pub(crate) fn signed_millis(s: &mut Section, key: &str, errs: &mut Errors) -> Option<i64> {
    let text = s.str(key, errs)?;
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let parsed = humantime::parse_duration(body.trim_start())
        .map_err(|e| e.to_string())
        .and_then(|d| i64::try_from(d.as_millis()).map_err(|_| "too long".to_string()));
    match parsed {
        Ok(ms) if neg => Some(-ms),
        Ok(ms) => Some(ms),
        Err(e) => {
            errs.push(
                &s.at(key),
                format_args!("{text:?} is not a signed duration ({e}; e.g. \"-1s\", \"2s\")"),
            );
            None
        }
    }
}

/// Milliseconds of a duration, saturating.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::record::Field;

    /// Runs `f` on the table parsed from `text` at path `at`; the errors it recorded.
    pub(crate) fn with_section<T>(
        at: &str,
        text: &str,
        f: impl FnOnce(&mut Section, &mut Errors) -> T,
    ) -> (T, Vec<String>) {
        let table: toml::Table = text.parse().expect("test toml");
        let mut s = Section::new(at.to_string(), &table);
        let mut errs = Errors::default();
        let out = f(&mut s, &mut errs);
        s.finish(&mut errs);
        (out, errs.0)
    }

    /// `key` string, `value` i64, `ts` timestamp, `name` string.
    pub(crate) fn schema() -> Schema {
        let f = |name: &str, ty| Field {
            name: name.to_string(),
            ty,
        };
        Schema {
            fields: vec![
                f("key", FieldType::String),
                f("value", FieldType::I64),
                f("ts", FieldType::Timestamp),
                f("name", FieldType::String),
            ],
        }
    }

    fn parse(text: &str) -> (Option<Option<EventTimeSpec>>, Vec<String>) {
        with_section("source", text, |s, e| {
            s.get("type");
            event_time(s, Some(&schema()), e)
        })
    }

    #[test]
    fn the_issue_example_parses() {
        let (spec, errs) = parse(
            "type = \"file\"\n[event_time]\nfield = \"ts\"\nmax_out_of_orderness = \"200ms\"\n\
             idle_timeout = \"5s\"\nwatermark_interval = \"0ms\"\n",
        );
        assert!(errs.is_empty(), "{errs:?}");
        let spec = spec.flatten().expect("valid");
        assert_eq!(spec.index, 2);
        assert_eq!(
            spec.watermark_config(),
            WatermarkConfig {
                max_out_of_orderness_ms: 200,
                interval_ms: 0,
                idle_timeout_ms: Some(5_000),
            }
        );
        let (spec, _) = parse("[event_time]\nfield = \"ts\"\nmax_out_of_orderness = \"0ms\"\n");
        let spec = spec.flatten().expect("valid");
        assert_eq!(spec.watermark_interval, DEFAULT_WATERMARK_INTERVAL);
        assert_eq!(spec.idle_timeout, None);
        assert_eq!(parse("type = \"file\"\n").0, Some(None), "absent: none");
    }

    #[test]
    fn errors_name_the_field() {
        let (_, errs) = parse("[event_time]\nfield = \"key\"\nmax_out_of_orderness = \"1s\"\n");
        assert_eq!(
            errs,
            ["source.event_time.field: event time needs a timestamp or i64 field (\"key\" is string)"]
        );
        let (_, errs) = parse("[event_time]\nfield = \"t\"\nidle_timeout = \"0s\"\nx = 1\n");
        assert_eq!(
            errs,
            [
                "source.event_time.max_out_of_orderness: missing",
                "source.event_time.idle_timeout: must be greater than zero",
                "source.event_time.x: unknown key",
                "source.event_time.field: unknown field \"t\" (fields: key, value, ts, name)",
            ]
        );
    }

    #[test]
    fn signed_durations() {
        let (v, errs) = with_section(
            "ops[0]",
            "a = \"-1s\"\nb = \"2s\"\nc = \"0ms\"\nd = \"-x\"",
            |s, e| ["a", "b", "c", "d"].map(|k| signed_millis(s, k, e)),
        );
        assert_eq!(v, [Some(-1_000), Some(2_000), Some(0), None]);
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("ops[0].d: \"-x\" is not a signed duration"),
            "{errs:?}"
        );
    }
}
