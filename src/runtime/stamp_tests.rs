//! A stamp survives each operator kind in a running job: an updating aggregate, a join and an
//! event-time window, through real exchanges (rings, `Msg::Stamp`). The source emits one row
//! per poll, row `i` stamped `BASE + i`, so the expected stamp of every output is known from
//! the input alone: the row that produced it (aggregate), the later of the two rows it joins
//! (join: with one worker the stage reads poll `i`'s rows in the round after poll `i`), or
//! the first row whose timestamp moves the watermark past the window's end (window). Between
//! two rows the source leaves a wrong stamp on the worker thread, so only stamps that
//! travelled with the batches pass.

use crate::operator::aggregate::{AggDef, UpdatingAggregate};
use crate::operator::aggregate_acc::UpdFn;
use crate::operator::join::JoinOperator;
use crate::operator::rolling::{AggFn, Aggregate};
use crate::operator::window::{WindowConfig, WindowKind, WindowOperator};
use crate::record::{Row, RowKey, Value};
use crate::runtime::task::EventTime;
use crate::runtime::{stamp, RunConfig, Stream};
use crate::sink::{Sink, SinkPartition, SinkStats};
use crate::source::{DeadLetters, Poll, RangePosition, Source, SourceResult, SourceSplit};
use crate::time::WatermarkConfig;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const BASE: u64 = 1_000;

/// Rows `(key, side, id, ts)`, one per poll on worker 0, row `i` stamped `BASE + i`.
struct Scripted(Arc<Vec<Row>>, Arc<AtomicBool>);

struct ScriptedSplit {
    rows: Arc<Vec<Row>>,
    next: usize,
    /// Set when the split ended.
    done: Arc<AtomicBool>,
}

/// What the noise source leaves on the worker thread.
const WRONG: u64 = 7;

/// A source without rows whose polls leave [`WRONG`] on the worker thread until the scripted
/// split ends: its task runs between the scripted source's and the stages', so a stage gets
/// the right stamp only if it travelled with the batch.
struct Noise(Arc<AtomicBool>);

impl Source<Row> for Noise {
    fn name(&self) -> String {
        "noise".into()
    }
    fn replayable(&self) -> bool {
        false
    }
    fn open_split(
        &self,
        _worker: usize,
        _workers: usize,
        _resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<Row>>> {
        Ok(Box::new(NoiseSplit(Arc::clone(&self.0))))
    }
}

struct NoiseSplit(Arc<AtomicBool>);

impl SourceSplit<Row> for NoiseSplit {
    fn poll_batch(
        &mut self,
        _out: &mut Vec<Row>,
        _max: usize,
        _d: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        stamp::set(WRONG);
        Ok(match self.0.load(Ordering::Relaxed) {
            true => Poll::End,
            false => Poll::Idle,
        })
    }
    fn position(&self) -> Vec<RangePosition> {
        Vec::new()
    }
    fn records_read(&self) -> u64 {
        0
    }
}

impl Source<Row> for Scripted {
    fn name(&self) -> String {
        "scripted".into()
    }
    fn replayable(&self) -> bool {
        false
    }
    fn open_split(
        &self,
        worker: usize,
        _workers: usize,
        _resume: Option<Vec<RangePosition>>,
    ) -> SourceResult<Box<dyn SourceSplit<Row>>> {
        let rows = match worker {
            0 => Arc::clone(&self.0),
            _ => Arc::new(Vec::new()),
        };
        Ok(Box::new(ScriptedSplit {
            rows,
            next: 0,
            done: Arc::clone(&self.1),
        }))
    }
}

impl SourceSplit<Row> for ScriptedSplit {
    fn poll_batch(
        &mut self,
        out: &mut Vec<Row>,
        _max: usize,
        _d: &mut DeadLetters,
    ) -> SourceResult<Poll> {
        let Some(row) = self.rows.get(self.next) else {
            self.done.store(true, Ordering::Relaxed);
            return Ok(Poll::End);
        };
        stamp::set(BASE + self.next as u64);
        out.push(row.clone());
        self.next += 1;
        Ok(Poll::Ready)
    }
    fn position(&self) -> Vec<RangePosition> {
        Vec::new()
    }
    fn records_read(&self) -> u64 {
        self.next as u64
    }
}

/// Keeps `(stamp at receipt, row)` of every output.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<(u64, Row)>>>);

struct RecordingPartition(Arc<Mutex<Vec<(u64, Row)>>>);

impl Sink<Row> for Recording {
    fn open_partition(
        &self,
        _w: usize,
        _n: usize,
        _t: bool,
    ) -> crate::Result<Box<dyn SinkPartition<Row>>> {
        Ok(Box::new(RecordingPartition(Arc::clone(&self.0))))
    }
}

impl SinkPartition<Row> for RecordingPartition {
    fn write_batch(&mut self, batch: &[Row]) -> crate::Result<()> {
        let s = stamp::current();
        let mut got = self.0.lock().unwrap_or_else(|e| e.into_inner());
        got.extend(batch.iter().map(|r| (s, r.clone())));
        Ok(())
    }
    fn finish(&mut self) -> crate::Result<SinkStats> {
        Ok(SinkStats::default())
    }
}

fn row(key: &str, side: i64, id: i64, ts: i64) -> Row {
    [
        Value::Str(key.into()),
        Value::I64(side),
        Value::I64(id),
        Value::Ts(ts),
    ]
    .into_iter()
    .collect()
}

fn int(row: &Row, i: usize) -> i64 {
    match row.get(i) {
        Some(Value::I64(v) | Value::Ts(v)) => *v,
        other => panic!("field {i} of {row:?}: {other:?}"),
    }
}

fn key_of(row: &Row) -> RowKey {
    crate::record::key_hash::row_key(row, &[0])
}

/// The scripted rows, and the noise job that must run beside the job reading them.
fn source(rows: Vec<Row>) -> (Stream<Row>, crate::runtime::Job) {
    let done = Arc::new(AtomicBool::new(false));
    let noise = Stream::from_source(Noise(Arc::clone(&done))).sink(Recording::default());
    let time = EventTime {
        extract: Arc::new(|r: &Row| int(r, 3)),
        config: WatermarkConfig {
            max_out_of_orderness_ms: 0,
            interval_ms: 0,
            idle_timeout_ms: None,
        },
    };
    let rows = Box::new(Scripted(Arc::new(rows), done));
    (Stream::from_source_with_event_time(None, rows, time), noise)
}

/// Runs `job` with stamps on and returns what the sink received.
fn run(
    (job, noise): (crate::runtime::Job, crate::runtime::Job),
    sink: &Recording,
    workers: usize,
) -> Vec<(u64, Row)> {
    // The noise job's tasks come first, so they are stepped after the scripted source's.
    let job = noise.and(job);
    let _on = stamp::enable();
    let config = RunConfig {
        workers,
        batch_size: 4,
        ..RunConfig::default()
    };
    job.run(&config).expect("job runs");
    let got = sink.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(!got.is_empty());
    got
}

#[test]
fn an_updating_aggregate_charges_each_update_to_its_input() {
    let keys = ["a", "b", "a", "c", "a", "b", "c", "c", "a", "b"];
    let rows: Vec<Row> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| row(k, 0, i as i64, i as i64))
        .collect();
    for workers in [1, 2] {
        let sink = Recording::default();
        let count = AggDef {
            func: UpdFn::Count,
            field: None,
            filter: None,
        };
        let (src, noise) = source(rows.clone());
        let job = src
            .key_by(key_of)
            .process(move || UpdatingAggregate::new(vec![count.clone()], None))
            .sink(sink.clone());
        let got = run((job, noise), &sink, workers);
        assert_eq!(got.len(), keys.len(), "{got:?}");
        for (s, out) in &got {
            let Some(Value::Str(k)) = out.first() else {
                panic!("{out:?}")
            };
            let n = int(out, out.len() - 1) as usize;
            // The n-th row of key k made this update.
            let i = keys
                .iter()
                .enumerate()
                .filter(|(_, x)| **x == &**k)
                .nth(n - 1)
                .map(|(i, _)| i);
            assert_eq!(
                Some(*s),
                i.map(|i| BASE + i as u64),
                "{out:?} ({workers} workers)"
            );
        }
    }
}

#[test]
fn a_join_charges_each_pair_to_its_later_row() {
    // (key, side): left rows side 0, right rows side 1.
    let script = [
        ("a", 0),
        ("b", 1),
        ("a", 1),
        ("b", 0),
        ("a", 0),
        ("c", 1),
        ("b", 1),
        ("c", 0),
    ];
    let rows: Vec<Row> = script
        .iter()
        .enumerate()
        .map(|(i, (k, s))| row(k, *s, i as i64, i as i64))
        .collect();
    let sink = Recording::default();
    let (src, noise) = source(rows);
    let left = src.clone().filter(|r| int(r, 1) == 0).key_by(key_of);
    let right = src.filter(|r| int(r, 1) == 1).key_by(key_of);
    let job = left
        .connect(right)
        .process(|| JoinOperator::new(None))
        .sink(sink.clone());
    let got = run((job, noise), &sink, 1);
    // Pairs: a(0)-a(2), a(4)-a(2), b(3)-b(1), b(3)-b(6), c(7)-c(5).
    assert_eq!(got.len(), 5, "{got:?}");
    for (s, out) in &got {
        // Output = left fields, then right fields: ids at 2 and 6.
        let later = int(out, 2).max(int(out, 6)) as u64;
        assert_eq!(*s, BASE + later, "{out:?}");
    }
}

#[test]
fn a_window_is_charged_to_the_row_whose_watermark_fired_it() {
    // Timestamps avoid each window end e and e - 1, so "fires at wm >= e - 1" and "at wm >= e"
    // agree: window [0,10) fires at ts 12 (row 3), [10,20) at 25 (row 5), [20,30) at 31
    // (row 7), [30,40) at 45 (row 8), [40,50) at the end (after row 8).
    let ts = [0, 3, 5, 12, 14, 25, 27, 31, 45];
    let rows: Vec<Row> = ts
        .iter()
        .enumerate()
        .map(|(i, t)| row("k", 0, i as i64, *t))
        .collect();
    let sink = Recording::default();
    let cfg = WindowConfig {
        kind: WindowKind::Tumbling { size: 10 },
        allowed_lateness_ms: 0,
        ts_field: 3,
        aggs: vec![Aggregate {
            func: AggFn::Count,
            field: None,
        }],
    };
    let (src, noise) = source(rows);
    let job = src
        .key_by(key_of)
        .process(move || WindowOperator::new(cfg.clone()).expect("valid window"))
        .sink(sink.clone());
    let got = run((job, noise), &sink, 1);
    assert_eq!(got.len(), 5, "{got:?}");
    for (s, out) in &got {
        let end = int(out, 2);
        let firing = ts.iter().position(|&t| t > end).unwrap_or(ts.len() - 1);
        assert_eq!(*s, BASE + firing as u64, "{out:?}");
    }
}
