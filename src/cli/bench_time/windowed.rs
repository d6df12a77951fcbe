//! The engine side shared by the window workloads (W2 tumbling, W3 sessions): a strided source
//! with event time, keyed by the event's key, one window operator whose keys held are tracked
//! for the state peak, and a hashing null sink.

use super::peak::PeakHeld;
use super::source::StridedSource;
use super::{event_time, outcome, Outcome};
use crate::operator::window::{WindowFunction, WindowKind, Windowed};
use crate::runtime::{RunConfig, Stream};
use crate::sink::null::NullSink;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One window workload: its events and its window.
pub(super) struct WindowBench<I, O, F> {
    /// Job name.
    pub name: &'static str,
    /// Event `i` over `keys` keys.
    pub event: fn(u64, u64) -> I,
    /// An event's key.
    pub key: fn(&I) -> u64,
    /// An event's timestamp, ms.
    pub ts: fn(&I) -> i64,
    /// Watermark bound (out-of-orderness), ms.
    pub bound_ms: i64,
    /// The window.
    pub kind: WindowKind,
    /// What each window computes.
    pub function: F,
    /// The sink's hash of one output.
    pub out_hash: fn(&O) -> u64,
}

impl<I, O, F> WindowBench<I, O, F>
where
    I: Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
    F: WindowFunction<u64, I, O> + Copy + Send + Sync + 'static,
{
    /// Runs the workload on the engine over `events` events and `keys` keys.
    ///
    /// # Errors
    /// An invalid window kind; engine failures.
    pub fn engine(&self, events: u64, keys: u64, config: &RunConfig) -> crate::Result<Outcome> {
        let (kind, function) = (self.kind, self.function);
        let operator = move || Windowed::<u64, I, O, F>::with_function(kind, 0, function);
        operator().map_err(|e| crate::error::Error::Config(vec![e.to_string()]))?;
        let peak = Arc::new(AtomicU64::new(0));
        let total = peak.clone();
        let (event, key) = (self.event, self.key);
        let source = StridedSource::new(events, move |i| event(i, keys));
        let report = Stream::from_source_with_event_time(
            Some(self.name),
            Box::new(source),
            event_time(self.ts, self.bound_ms),
        )
        .key_by(key)
        .process(move || {
            // Checked above: the window kind is a constant.
            let op = operator().expect("valid window kind");
            PeakHeld::new(op, Windowed::keys_held, total.clone())
        })
        .sink(NullSink::new(self.out_hash))
        .run(config)?;
        Ok(outcome(&report, peak.load(Ordering::Relaxed)))
    }
}
