//! The sources and sinks of a Nexmark latency run, handed to the pipeline builder while it
//! builds the query's job ([`with`]): every Nexmark source becomes an open-loop source on
//! one shared schedule, every sink a latency sink. Scoped to the building thread and to the
//! call, so no other build sees them.

use crate::nexmark::open_loop::{OpenLoopRows, Schedule};
use crate::pipeline::spec::SourceSpec;
use crate::record::Row;
use crate::sink::latency::LatencySink;
use crate::sink::Sink;
use crate::source::Source;
use std::cell::RefCell;
use std::sync::Arc;

/// What a latency build uses in place of the plan's sources and sinks.
#[derive(Clone)]
pub(crate) struct LatencyIo {
    /// The schedule of every open-loop source.
    pub schedule: Arc<Schedule>,
    /// The sink every sink of the plan becomes (clones share their samples).
    pub sink: LatencySink<Row>,
}

thread_local! {
    static IO: RefCell<Option<LatencyIo>> = const { RefCell::new(None) };
}

/// Clears the override when the build returns (or unwinds).
struct Reset;

impl Drop for Reset {
    fn drop(&mut self) {
        IO.with(|io| io.borrow_mut().take());
    }
}

/// Runs `build` with `io` in place of the plan's sources and sinks.
pub(crate) fn with<R>(io: LatencyIo, build: impl FnOnce() -> R) -> R {
    IO.with(|slot| *slot.borrow_mut() = Some(io));
    let _reset = Reset;
    build()
}

/// The open-loop source replacing `spec`, during a latency build (Nexmark sources only).
pub(crate) fn source(spec: &SourceSpec) -> Option<Box<dyn Source<Row>>> {
    let SourceSpec::Nexmark(n) = spec else {
        return None;
    };
    let schedule = IO.with(|io| io.borrow().as_ref().map(|io| Arc::clone(&io.schedule)))?;
    // An unusable config falls through to the ordinary source, which reports it.
    let rows = OpenLoopRows::new(n.config.clone(), n.kind, schedule).ok()?;
    // The plan may be pruned: its source keeps only the fields the query reads.
    Some(Box::new(rows.with_fields(n.fields.clone())))
}

/// The latency sink replacing any sink, during a latency build.
pub(crate) fn sink() -> Option<Box<dyn Sink<Row>>> {
    IO.with(|io| {
        io.borrow()
            .as_ref()
            .map(|io| Box::new(io.sink.clone()) as Box<dyn Sink<Row>>)
    })
}
