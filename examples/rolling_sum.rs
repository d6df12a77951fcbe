//! A keyed rolling sum written against weir's typed library API, without the CLI:
//! generator → key_by(key) → a keyed operator with a `ValueState` → stdout.
//!
//! Run: `cargo run --release --example rolling_sum -- [EVENTS] [KEYS]`

use std::sync::Arc;
use weir::operator::KeyedOperator;
use weir::runtime::{RunConfig, Stream};
use weir::sink::stdout::StdoutSink;
use weir::sink::Encoder;
use weir::source::generator::GeneratorSource;
use weir::state::{KeyContext, KeyedStateStore, ValueState};

/// One event of the generator.
#[derive(Clone, Copy, Debug)]
struct Event {
    key: u64,
    value: i64,
}

/// Emits `(key, running sum)` for every event.
struct RollingSum {
    sum: ValueState<u64, i64>,
}

impl KeyedOperator<u64, Event, (u64, i64)> for RollingSum {
    fn process(&mut self, ctx: &KeyContext<'_, u64>, e: &mut Event, out: &mut Vec<(u64, i64)>) {
        let e = *e;
        let sum = self.sum.get_or_insert_with(ctx, || 0);
        *sum += e.value;
        out.push((e.key, *sum));
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.sum]
    }
}

/// Writes `key,sum` lines.
struct PairCsv;

impl Encoder<(u64, i64)> for PairCsv {
    fn encode(&self, r: &(u64, i64), out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{},{}\n", r.0, r.1).as_bytes());
    }
}

fn main() -> Result<(), weir::Error> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let events = args.next().and_then(Result::ok).unwrap_or(20);
    let keys = args.next().and_then(Result::ok).unwrap_or(3);
    let source = GeneratorSource::new(events, keys, |key, value, _ts| Event { key, value });
    let report = Stream::from_source(source)
        .key_by(|e: &Event| e.key)
        .process(|| RollingSum {
            sum: ValueState::new("sum"),
        })
        .sink(StdoutSink::new(Arc::new(PairCsv)))
        .run(&RunConfig {
            workers: 2,
            ..RunConfig::default()
        })?;
    eprintln!(
        "{} events in, {} results out",
        report.records_in, report.sink.records
    );
    Ok(())
}
