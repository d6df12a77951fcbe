//! Anomaly detection with weir's library API: a generated stream of sensor readings (out of
//! order by up to 100 ms of event time, with planted anomalies) → key_by(sensor) → the
//! built-in windowed z-score ([`WindowedZScore`]: each reading against the sensor's other
//! readings of the last 2 s of event time) → the anomalies printed on stdout.
//!
//! Run: `cargo run --example anomaly -- [READINGS] [WORKERS]` (default 200000 readings,
//! 2 workers). Exits with status 1 unless every planted anomaly was found.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use weir::operator::zscore_window::{WindowedZScore, WindowedZScoreConfig};
use weir::record::{Row, RowKey, Value};
use weir::runtime::task::EventTime;
use weir::runtime::{RunConfig, Stream};
use weir::sink::stdout::StdoutSink;
use weir::sink::Encoder;
use weir::source::generator::{splitmix64, GeneratorSource};
use weir::time::WatermarkConfig;

/// Sensors in the stream.
const SENSORS: u64 = 8;
/// About one reading in this many is a planted anomaly.
const PLANT_EVERY: u64 = 20_000;
/// Fields of a reading row.
const SENSOR: usize = 0;
const VALUE: usize = 1;
const TS: usize = 2;
const SEQ: usize = 3;

/// A uniform number in `[-0.5, 0.5)` drawn from `x`.
fn uniform(x: u64) -> f64 {
    (splitmix64(x) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

/// Whether reading `seq` is a planted anomaly.
fn planted(seq: u64) -> bool {
    splitmix64(seq ^ 0xA11).is_multiple_of(PLANT_EVERY)
}

/// Reading `seq` of `sensor` as a row `sensor, value, ts, seq`: a level per sensor plus
/// noise (a sum of four uniforms, standard deviation about 2.3, never beyond 8), or 60 away
/// for a planted anomaly; its event time is `seq` ms minus up to 99 ms of jitter.
fn reading(sensor: u64, seq: u64) -> Row {
    let noise: f64 = (0..4).map(|j| 4.0 * uniform(seq * 4 + j)).sum();
    let level = 100.0 + 10.0 * sensor as f64;
    let value = match planted(seq) {
        true if seq.is_multiple_of(2) => level + 60.0,
        true => level - 60.0,
        false => level + noise,
    };
    let ts = seq as i64 - (splitmix64(seq ^ 0x7) % 100) as i64;
    [
        Value::I64(sensor as i64),
        Value::F64((value * 100.0).round() / 100.0),
        Value::Ts(ts),
        Value::I64(seq as i64),
    ]
    .into_iter()
    .collect()
}

/// Prints each flagged reading and counts the planted ones among them.
struct Report {
    planted_found: Arc<AtomicU64>,
}

impl Encoder<Row> for Report {
    fn encode(&self, r: &Row, out: &mut Vec<u8>) {
        let seq = match r[SEQ] {
            Value::I64(s) => s as u64,
            _ => u64::MAX,
        };
        let mark = if planted(seq) {
            self.planted_found.fetch_add(1, Ordering::Relaxed);
            "planted"
        } else {
            "FALSE ALARM"
        };
        let z = r.get(4).and_then(Value::as_f64).unwrap_or(f64::NAN);
        let line = format!(
            "sensor {} at {} ms: value {} z {z:.1} ({mark})\n",
            r[SENSOR], r[TS], r[VALUE]
        );
        out.extend_from_slice(line.as_bytes());
    }
}

fn main() -> Result<(), weir::Error> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().ok());
    let readings = args.next().flatten().unwrap_or(200_000);
    let workers = args.next().flatten().unwrap_or(2).clamp(1, 64) as usize;
    // events_per_ms = 1: the generator's `ts` is the sequence number.
    let source = GeneratorSource::new(readings, SENSORS, |sensor, _value, seq: i64| {
        reading(sensor, seq as u64)
    })
    .events_per_ms(1);
    let event_time = EventTime {
        extract: Arc::new(|r: &Row| match r[TS] {
            Value::Ts(t) => t,
            _ => i64::MIN,
        }),
        config: WatermarkConfig {
            max_out_of_orderness_ms: 100,
            interval_ms: 50,
            idle_timeout_ms: None,
        },
    };
    let zscore = WindowedZScoreConfig {
        field: VALUE,
        ts_field: TS,
        window_ms: 2_000,
        threshold: Some(6.0),
        min_count: 20,
    };
    let planted_found = Arc::new(AtomicU64::new(0));
    let report =
        Stream::from_source_with_event_time(Some("readings"), Box::new(source), event_time)
            .key_by(|r: &Row| RowKey::from_fields(r, &[SENSOR]))
            .process(move || WindowedZScore::new(zscore))
            .sink(StdoutSink::new(Arc::new(Report {
                planted_found: planted_found.clone(),
            })))
            .run(&RunConfig {
                workers,
                ..RunConfig::default()
            })?;
    let planted_total = (0..readings).filter(|&s| planted(s)).count() as u64;
    let found = planted_found.load(Ordering::Relaxed);
    eprintln!(
        "{} readings, {} flagged, {found} of {planted_total} planted anomalies found",
        report.records_in, report.sink.records
    );
    if found < planted_total {
        std::process::exit(1);
    }
    Ok(())
}
