//! Validation of the Nexmark source table (`type = "nexmark"`).
//!
//! ```toml
//! [sources.bid]              # or [source]
//! type = "nexmark"
//! kind = "bid"               # person | auction | bid: the record kind this source emits
//! events = 100000            # events of the whole stream (all kinds), default 100000
//! mode = "beam"              # beam (default) | flink
//! rate = "10M/s"             # event-time rate: 10M/s (default), "500K/s", "1000/s" or 1000
//! timing = "flink"           # optional: beam | flink (default flink: float µs per event)
//! base_time = 1436918400000  # optional: time of event 0, epoch ms (default Beam's)
//! emit_rate = "10K/s"        # optional: at most this many rows of this source per second of
//!                            # wall time, shared by the workers (default: as fast as it can)
//! fields = ["auction", "dateTime"]  # optional: only these fields, in record order (the
//!                            # loader sets it itself to the fields the pipeline reads)
//! ```
//!
//! With `fields`, the generator still generates whole events (its cost is the same); only
//! the unread fields are not kept in the rows.
//!
//! The rows have the fields of NEXMARK.md §5 in record order (see
//! [`crate::nexmark::rows::schema`]); the event time is `dateTime`, with watermarks and an
//! out-of-orderness of 0 unless `[source.event_time]` says otherwise.

use super::ops::event_time::{EventTimeSpec, DEFAULT_WATERMARK_INTERVAL};
use super::walk::{Errors, Section};
use crate::nexmark::{rows, Kind, Mode, NexmarkConfig, Timing};
use crate::record::Schema;
use std::time::Duration;

/// Default number of events of a Nexmark source.
pub const DEFAULT_EVENTS: u64 = 100_000;
/// Default event-time rate, events per second (the V1 runs' 10M/s).
pub const DEFAULT_RATE: u64 = 10_000_000;

/// A Nexmark source: the generator's config and the kind of event it emits.
#[derive(Clone, Debug, PartialEq)]
pub struct NexmarkSourceSpec {
    /// The generated stream (all kinds).
    pub config: NexmarkConfig,
    /// The kind this source emits.
    pub kind: Kind,
    /// Rows per second of wall time, if limited (`emit_rate`).
    pub emit_rate: Option<u64>,
    /// The kind's field indices the rows keep, increasing (`fields`); `None`: all.
    pub fields: Option<Vec<usize>>,
}

impl NexmarkSourceSpec {
    /// The schema of the rows.
    pub fn schema(&self) -> Schema {
        let all = rows::schema(self.kind);
        match &self.fields {
            None => all,
            Some(keep) => Schema {
                fields: keep.iter().map(|&i| all.fields[i].clone()).collect(),
            },
        }
    }

    /// The default event time: `dateTime`, in order (out-of-orderness 0); `None` when
    /// `fields` leaves `dateTime` out.
    pub fn default_event_time(&self) -> Option<EventTimeSpec> {
        Some(EventTimeSpec {
            field: "dateTime".to_string(),
            index: self.schema().index_of("dateTime")?,
            max_out_of_orderness: Duration::ZERO,
            idle_timeout: None,
            watermark_interval: DEFAULT_WATERMARK_INTERVAL,
        })
    }
}

const KINDS: &[(&str, Kind)] = &[
    ("person", Kind::Person),
    ("auction", Kind::Auction),
    ("bid", Kind::Bid),
];
const MODES: &[(&str, Mode)] = &[("beam", Mode::Beam), ("flink", Mode::Flink)];
const TIMINGS: &[(&str, Timing)] = &[("beam", Timing::Beam), ("flink", Timing::Flink)];

/// Parses a rate: an integer, or `N[K|M|G][/s]` (`"10M/s"`, `"500K"`, `"1000/s"`).
pub fn parse_rate(text: &str) -> Option<u64> {
    let t = text.trim();
    let t = t.strip_suffix("/s").unwrap_or(t).trim();
    let (digits, scale) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1_000),
        (i, 'm' | 'M') => (&t[..i], 1_000_000),
        (i, 'g' | 'G') => (&t[..i], 1_000_000_000),
        _ => (t, 1),
    };
    let n: u64 = digits.trim().parse().ok()?;
    n.checked_mul(scale).filter(|&r| r > 0)
}

fn rate(s: &mut Section, key: &str, errs: &mut Errors) -> Option<u64> {
    let path = s.at(key);
    match s.get(key) {
        None => Some(DEFAULT_RATE),
        Some(toml::Value::Integer(i)) if *i > 0 => Some(*i as u64),
        Some(toml::Value::String(t)) if parse_rate(t).is_some() => parse_rate(t),
        Some(v) => {
            errs.push(
                &path,
                format_args!("{v} is not a rate (a positive integer, or \"10M/s\", \"500K/s\")"),
            );
            None
        }
    }
}

/// The table of a `type = "nexmark"` source.
pub(super) fn source(s: &mut Section, errs: &mut Errors) -> Option<NexmarkSourceSpec> {
    let kind = s.req("kind", errs, |s, k, e| {
        s.choice(k, e, "nexmark kind", KINDS)
    });
    let events = match s.has("events") {
        true => s.int("events", errs, 0..=i64::MAX).map(|v| v as u64),
        false => Some(DEFAULT_EVENTS),
    };
    let mode = match s.has("mode") {
        true => s.choice("mode", errs, "nexmark mode", MODES),
        false => Some(Mode::Beam),
    };
    let timing = match s.has("timing") {
        true => s.choice("timing", errs, "nexmark timing", TIMINGS),
        false => Some(Timing::Flink),
    };
    let base_time = match s.has("base_time") {
        true => s.int("base_time", errs, 0..=i64::MAX / 2),
        false => Some(crate::nexmark::config::BEAM_BASE_TIME),
    };
    let emit_rate = match s.has("emit_rate") {
        true => rate(s, "emit_rate", errs).map(Some),
        false => Some(None),
    };
    let rate = rate(s, "rate", errs);
    if s.get("schema").is_some() {
        errs.push(
            &s.at("schema"),
            "a nexmark source's schema is fixed by its kind; remove it",
        );
    }
    let fields = match s.has("fields") {
        true => fields(s, kind, errs).map(Some),
        false => Some(None),
    };
    let mut config = NexmarkConfig::new(mode?, events?);
    config.timing = timing?;
    config.rate = rate?;
    config.base_time = base_time?;
    Some(NexmarkSourceSpec {
        config,
        kind: kind?,
        emit_rate: emit_rate?,
        fields: fields?,
    })
}

/// `fields`: names of the kind's fields, kept in record order whatever order they are given.
fn fields(s: &mut Section, kind: Option<Kind>, errs: &mut Errors) -> Option<Vec<usize>> {
    let path = s.at("fields");
    let items = s.array("fields", errs)?;
    let all = rows::fields(kind?);
    let mut keep = Vec::new();
    for item in items {
        match item
            .as_str()
            .and_then(|n| all.iter().position(|(f, _)| *f == n))
        {
            Some(i) => keep.push(i),
            None => {
                let known: Vec<&str> = all.iter().map(|(f, _)| *f).collect();
                errs.push(
                    &path,
                    format_args!("{item} is not a field of this kind ({})", known.join(", ")),
                );
                return None;
            }
        }
    }
    keep.sort_unstable();
    keep.dedup();
    Some(keep)
}

#[cfg(test)]
mod tests {
    use super::parse_rate;

    #[test]
    fn rates_parse_with_suffixes() {
        assert_eq!(parse_rate("10M/s"), Some(10_000_000));
        assert_eq!(parse_rate("500K/s"), Some(500_000));
        assert_eq!(parse_rate("1000/s"), Some(1000));
        assert_eq!(parse_rate(" 7 "), Some(7));
        assert_eq!(parse_rate("2g"), Some(2_000_000_000));
        for bad in ["", "0/s", "M/s", "-1", "1.5M/s", "99999999999999999999G"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
    }
}
