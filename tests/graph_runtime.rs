//! Jobs that are graphs, through the typed API: two keyed stages in a row under tiny rings and
//! frequent checkpoints (no deadlock), unions, a two-input keyed join, side outputs, several
//! sinks — each against a direct computation.

mod api_support;

use api_support::{checkpointing, Collect};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weir::dataflow::Stream;
use weir::operator::{KeyedCoOperator, KeyedOperator};
use weir::runtime::RunConfig;
use weir::sink::{Sink, SinkPartition, SinkStats};
use weir::source::generator::{splitmix64, GeneratorSource};
use weir::state::{KeyContext, KeyedStateStore, ListState, ValueState};

/// Counts records per key; emits `(key, count so far)`.
struct Count {
    n: ValueState<u64, u64>,
}

impl Count {
    fn new() -> Self {
        Count {
            n: ValueState::new("n"),
        }
    }
}

impl<T> KeyedOperator<u64, T, (u64, u64)> for Count {
    fn process(&mut self, ctx: &KeyContext<'_, u64>, _e: &mut T, out: &mut Vec<(u64, u64)>) {
        let n = self.n.get(ctx).copied().unwrap_or(0) + 1;
        self.n.update(ctx, n);
        out.push((*ctx.key, n));
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.n]
    }
}

fn generator(
    events: u64,
    keys: u64,
) -> GeneratorSource<impl Fn(u64, i64, i64) -> (u64, i64) + Clone + Send + Sync> {
    GeneratorSource::new(events, keys, |k, v, _ts| (k, v))
}

fn config(workers: usize) -> RunConfig {
    RunConfig {
        workers,
        pin: false,
        batch_size: 64,
        ring_capacity: 4,
        ..RunConfig::default()
    }
}

/// W6's check: for every n, the emitted key counts are exactly 1..c_n, where c_n is the number
/// of keys with at least n events.
fn check_two_stage(events: u64, keys: u64, out: Vec<(u64, u64)>) {
    let mut per_key: HashMap<u64, u64> = HashMap::new();
    for i in 0..events {
        *per_key.entry(splitmix64(i) % keys).or_default() += 1;
    }
    let mut expected: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for &c in per_key.values() {
        for n in 1..=c {
            let v = expected.entry(n).or_default();
            v.push(v.len() as u64 + 1);
        }
    }
    let mut got: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (n, keys_at_n) in out {
        got.entry(n).or_default().push(keys_at_n);
    }
    for v in got.values_mut() {
        v.sort_unstable();
    }
    assert_eq!(got, expected);
}

fn two_stage_job(events: u64, keys: u64, out: Collect<(u64, u64)>) -> weir::dataflow::Job {
    Stream::from_source(generator(events, keys))
        .key_by(|e: &(u64, i64)| e.0)
        .process_named(Some("per_key"), Count::new)
        .key_by(|e: &(u64, u64)| e.1)
        .process_named(Some("per_n"), Count::new)
        .sink(out)
}

/// Two exchanges, rings of capacity 1–2, batches of one record, a checkpoint every 2 ms: the
/// job must finish (see the deadlock argument in src/runtime/task/stage.rs) with the exact
/// result, on 1 and 2 workers.
#[test]
fn two_keyed_stages_under_tiny_rings_and_frequent_checkpoints_do_not_deadlock() {
    let (events, keys) = (6_000u64, 50u64);
    for workers in [1, 2] {
        for ring_capacity in [1, 2] {
            let dir = tempfile::tempdir().unwrap();
            let out = Collect::default();
            let config = RunConfig {
                batch_size: 1,
                ring_capacity,
                ..checkpointing(dir.path(), workers, Duration::from_millis(2), false)
            };
            let report = two_stage_job(events, keys, out.clone())
                .run(&config)
                .unwrap();
            assert_eq!(report.records_in, events);
            assert!(
                !report.checkpoints.is_empty(),
                "checkpoints completed during the run"
            );
            check_two_stage(events, keys, out.take());
        }
    }
}

#[test]
fn two_keyed_stages_without_checkpoints() {
    let (events, keys) = (40_000u64, 300u64);
    for workers in 1..=3 {
        let out = Collect::default();
        two_stage_job(events, keys, out.clone())
            .run(&config(workers))
            .unwrap();
        check_two_stage(events, keys, out.take());
    }
}

#[test]
fn union_of_two_sources_feeds_one_keyed_stage() {
    let (a, b, keys) = (7_000u64, 5_000u64, 31u64);
    for workers in [1, 2] {
        let out = Collect::default();
        let left = Stream::from_named_source("a", generator(a, keys));
        let right = Stream::from_named_source("b", generator(b, keys));
        left.union([right])
            .key_by(|e: &(u64, i64)| e.0)
            .process(Count::new)
            .sink(out.clone())
            .run(&config(workers))
            .unwrap();
        let mut last: HashMap<u64, u64> = HashMap::new();
        for (k, n) in out.take() {
            let e = last.entry(k).or_default();
            *e = (*e).max(n);
        }
        let mut expected: HashMap<u64, u64> = HashMap::new();
        for i in (0..a).chain(0..b) {
            *expected.entry(splitmix64(i) % keys).or_default() += 1;
        }
        assert_eq!(last, expected);
    }
}

/// Inner equi-join: each side's records are kept per key; a record meets every record of
/// the other side seen before it, so each matching pair is emitted once.
struct Join {
    left: ListState<u64, i64>,
    right: ListState<u64, i64>,
}

impl KeyedCoOperator<u64, (u64, i64), (u64, i64), (u64, i64, i64)> for Join {
    fn process1(
        &mut self,
        ctx: &KeyContext<'_, u64>,
        a: &mut (u64, i64),
        out: &mut Vec<(u64, i64, i64)>,
    ) {
        let a = *a;
        for b in self.right.get(ctx) {
            out.push((a.0, a.1, *b));
        }
        self.left.add(ctx, a.1);
    }
    fn process2(
        &mut self,
        ctx: &KeyContext<'_, u64>,
        b: &mut (u64, i64),
        out: &mut Vec<(u64, i64, i64)>,
    ) {
        let b = *b;
        for a in self.left.get(ctx) {
            out.push((b.0, *a, b.1));
        }
        self.right.add(ctx, b.1);
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.left, &mut self.right]
    }
}

#[test]
fn connected_streams_join_each_pair_exactly_once() {
    let (a, b, keys) = (400u64, 300u64, 37u64);
    for workers in [1, 2] {
        let out = Collect::default();
        let left =
            Stream::from_named_source("left", GeneratorSource::new(a, keys, |k, v, _| (k, v)))
                .key_by(|e: &(u64, i64)| e.0);
        let right = Stream::from_named_source(
            "right",
            GeneratorSource::new(b, keys, |k, v, _| (k, v + 1000)),
        )
        .key_by(|e: &(u64, i64)| e.0);
        left.connect(right)
            .process(|| Join {
                left: ListState::new("left"),
                right: ListState::new("right"),
            })
            .sink(out.clone())
            .run(&config(workers))
            .unwrap();
        let mut got = out.take();
        got.sort_unstable();
        let mut expected = Vec::new();
        for i in 0..a {
            for j in 0..b {
                let (ka, kb) = (splitmix64(i) % keys, splitmix64(j) % keys);
                if ka == kb {
                    expected.push((ka, (i % 100) as i64, (j % 100) as i64 + 1000));
                }
            }
        }
        expected.sort_unstable();
        assert_eq!(got, expected);
    }
}

/// Emits even values on the main output and odd ones on the side output "odd".
struct SplitOdd {
    odd: Vec<(u64, i64)>,
}

impl KeyedOperator<u64, (u64, i64), (u64, i64)> for SplitOdd {
    fn process(
        &mut self,
        _ctx: &KeyContext<'_, u64>,
        e: &mut (u64, i64),
        out: &mut Vec<(u64, i64)>,
    ) {
        let e = *e;
        if e.1 % 2 == 0 {
            out.push(e);
        } else {
            self.odd.push(e);
        }
    }
    fn side_outputs(&self) -> Vec<&'static str> {
        vec!["odd"]
    }
    fn drain_side(&mut self, index: usize, out: &mut Vec<(u64, i64)>) {
        assert_eq!(index, 0);
        out.append(&mut self.odd);
    }
}

#[test]
fn side_outputs_and_several_sinks() {
    let (events, keys) = (10_000u64, 13u64);
    for workers in [1, 2] {
        let (even, odd, all) = (Collect::default(), Collect::default(), Collect::default());
        let source = Stream::from_source(generator(events, keys));
        let split = source
            .clone()
            .key_by(|e: &(u64, i64)| e.0)
            .process(|| SplitOdd { odd: Vec::new() });
        let job = split
            .side_output("odd")
            .sink(odd.clone())
            .and(split.sink(even.clone()))
            .and(source.sink(all.clone()));
        job.run(&config(workers)).unwrap();
        let (even, odd, all) = (even.take(), odd.take(), all.take());
        assert_eq!(all.len() as u64, events);
        assert!(even.iter().all(|e| e.1 % 2 == 0));
        assert!(odd.iter().all(|e| e.1 % 2 == 1));
        assert_eq!(even.len() + odd.len(), events as usize);
    }
}

#[test]
fn an_unknown_side_output_is_a_configuration_error() {
    let out = Collect::<(u64, i64)>::default();
    let err = Stream::from_source(generator(10, 3))
        .key_by(|e: &(u64, i64)| e.0)
        .process(|| SplitOdd { odd: Vec::new() })
        .side_output("late")
        .sink(out)
        .run(&config(1))
        .unwrap_err();
    assert!(matches!(err, weir::Error::Config(_)), "{err}");
}

/// A sink that checks the commit protocol: epoch `k` is published only after every
/// partition pre-committed it (a partition that pre-committed later would lose its output of
/// epoch `k` on a crash right after the commit).
#[derive(Clone, Default)]
struct ProtocolSink {
    pre_committed: Arc<Mutex<HashMap<usize, u64>>>,
    commits: Arc<Mutex<u64>>,
}

struct ProtocolPartition {
    worker: usize,
    pre_committed: Arc<Mutex<HashMap<usize, u64>>>,
}

impl Sink<(u64, u64)> for ProtocolSink {
    fn open_partition(
        &self,
        worker: usize,
        _n: usize,
        _tx: bool,
    ) -> weir::Result<Box<dyn SinkPartition<(u64, u64)>>> {
        self.pre_committed.lock().unwrap().insert(worker, 0);
        Ok(Box::new(ProtocolPartition {
            worker,
            pre_committed: self.pre_committed.clone(),
        }))
    }
    fn commit(&self, epoch: u64) -> weir::Result<()> {
        let pre = self.pre_committed.lock().unwrap();
        if let Some((w, k)) = pre.iter().find(|(_, k)| **k < epoch) {
            return Err(weir::Error::Runtime(format!(
                "epoch {epoch} published before partition {w} pre-committed it (it is at {k})"
            )));
        }
        *self.commits.lock().unwrap() += 1;
        Ok(())
    }
}

impl SinkPartition<(u64, u64)> for ProtocolPartition {
    fn write_batch(&mut self, _batch: &[(u64, u64)]) -> weir::Result<()> {
        Ok(())
    }
    fn pre_commit(&mut self, epoch: u64) -> weir::Result<()> {
        // A slow pre-commit (an fsync): an acknowledgement sent before it would let the
        // coordinator publish the epoch meanwhile.
        std::thread::sleep(Duration::from_millis(50));
        self.pre_committed
            .lock()
            .unwrap()
            .insert(self.worker, epoch);
        Ok(())
    }
    fn finish(&mut self) -> weir::Result<SinkStats> {
        Ok(SinkStats::default())
    }
}

#[test]
fn sinks_pre_commit_before_their_worker_acknowledges() {
    for workers in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let sink = ProtocolSink::default();
        let config = RunConfig {
            batch_size: 16,
            ring_capacity: 4,
            ..checkpointing(dir.path(), workers, Duration::from_millis(1), false)
        };
        two_stage_job_into(50_000, 500, sink.clone())
            .run(&config)
            .unwrap();
        assert!(
            *sink.commits.lock().unwrap() >= 2,
            "a checkpoint committed before the final one"
        );
    }
}

fn two_stage_job_into(
    events: u64,
    keys: u64,
    sink: impl Sink<(u64, u64)> + 'static,
) -> weir::dataflow::Job {
    Stream::from_source(generator(events, keys))
        .key_by(|e: &(u64, i64)| e.0)
        .process_named(Some("per_key"), Count::new)
        .key_by(|e: &(u64, u64)| e.1)
        .process_named(Some("per_n"), Count::new)
        .sink(sink)
}
