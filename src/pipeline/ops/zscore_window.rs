//! The `window` of `process zscore`: statistics over the key's last window of event time
//! ([`crate::operator::zscore_window`]) instead of all its earlier records.
//!
//! ```toml
//! [[ops]]
//! type = "process"
//! function = "zscore"
//! field = "value"
//! window = "1m"                # needs [source.event_time]; its field must reach the op
//! threshold = 3.0
//! ```

use super::event_time::millis;
use crate::operator::zscore_window::WindowedZScoreConfig;
use crate::pipeline::walk::{Errors, Section};
use crate::record::Schema;
use std::time::Duration;

/// A validated `process zscore` with a `window`.
#[derive(Clone, Debug, PartialEq)]
pub struct ZScoreWindowSpec {
    /// Index of the scored numeric field.
    pub index: usize,
    /// Index of the event-time field in the input.
    pub ts_index: usize,
    /// Length of the window of event time (at least 1 ms).
    pub window: Duration,
    /// Name of the appended score field (default `score`).
    pub out_name: String,
    /// Emit only records with `|score| >= threshold`.
    pub threshold: Option<f64>,
    /// Other records of the window needed before a score is computed (at least 2).
    pub min_count: u64,
}

impl ZScoreWindowSpec {
    /// The operator's configuration.
    pub fn config(&self) -> WindowedZScoreConfig {
        WindowedZScoreConfig {
            field: self.index,
            ts_field: self.ts_index,
            window_ms: millis(self.window),
            threshold: self.threshold,
            min_count: self.min_count,
        }
    }
}

/// The op's window and the index of the event-time field in its input: `Some(None)` without
/// `window` (the running form), `None` after an error.
pub(super) fn window(
    s: &mut Section,
    schema: Option<&Schema>,
    event_time: Option<&str>,
    errs: &mut Errors,
) -> Option<Option<(Duration, usize)>> {
    if !s.has("window") {
        return Some(None);
    }
    let window = s.duration("window", errs);
    if window.is_some_and(|w| millis(w) == 0) {
        errs.push(&s.at("window"), "must be at least 1ms");
        return None;
    }
    // Without a schema the input is invalid and already reported.
    let schema = schema?;
    let Some(name) = event_time else {
        errs.push(
            &s.at("window"),
            "a windowed zscore needs event time: declare [source.event_time]",
        );
        return None;
    };
    let Some(ts_index) = schema.index_of(name) else {
        errs.push(
            &s.at("window"),
            format_args!(
                "a windowed zscore needs the event-time field {name:?} in its input (fields: {})",
                schema.names().join(", ")
            ),
        );
        return None;
    };
    Some(Some((window?, ts_index)))
}
