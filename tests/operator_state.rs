//! Operator state (not keyed) through a real checkpoint and restore with another worker
//! count: a list redistributed evenly (`OperatorListState`) and a union list
//! (`UnionListState`), at 1 → 2 and 2 → 1 workers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weir::checkpoint::CheckpointStore;
use weir::dataflow::Stream;
use weir::operator::KeyedOperator;
use weir::runtime::{CheckpointConfig, RestoreFrom, RunConfig};
use weir::sink::{Sink, SinkPartition, SinkStats};
use weir::source::generator::GeneratorSource;
use weir::state::{KeyContext, OperatorListState, OperatorStateStore, UnionListState};

/// What each instance held right after it was built (restored), per run.
type Seen = Arc<Mutex<Vec<(Vec<u64>, Vec<u64>)>>>;

/// Appends every record's value to its even list, and one marker per instance to its union
/// list; reports what it was restored with at its first processing-time tick.
struct Tally {
    even: OperatorListState<u64>,
    union: UnionListState<u64>,
    seen: Seen,
    reported: bool,
    marker: u64,
}

impl KeyedOperator<u64, (u64, i64), (u64, i64)> for Tally {
    fn process(
        &mut self,
        _ctx: &KeyContext<'_, u64>,
        e: &mut (u64, i64),
        out: &mut Vec<(u64, i64)>,
    ) {
        let e = *e;
        self.even.add(e.1 as u64);
        if !self.union.get().contains(&self.marker) {
            self.union.add(self.marker);
        }
        out.push(e);
    }
    fn on_processing_time(&mut self, _now_ms: u64, _out: &mut Vec<(u64, i64)>) {
        if !self.reported {
            self.reported = true;
            let even = self.even.get().to_vec();
            let union = self.union.get().to_vec();
            self.seen.lock().unwrap().push((even, union));
        }
    }
    fn operator_states(&mut self) -> Vec<&mut dyn OperatorStateStore> {
        vec![&mut self.even, &mut self.union]
    }
}

/// A sink that fails once a checkpoint has been committed (so that the run stops with a
/// checkpoint to restore), or never.
#[derive(Clone)]
struct StopAfterCommit {
    fail: bool,
    commits: Arc<AtomicU64>,
}

struct Part {
    fail: bool,
    commits: Arc<AtomicU64>,
}

impl Sink<(u64, i64)> for StopAfterCommit {
    fn open_partition(
        &self,
        _w: usize,
        _n: usize,
        _tx: bool,
    ) -> weir::Result<Box<dyn SinkPartition<(u64, i64)>>> {
        Ok(Box::new(Part {
            fail: self.fail,
            commits: self.commits.clone(),
        }))
    }
    fn commit(&self, _epoch: u64) -> weir::Result<()> {
        self.commits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl SinkPartition<(u64, i64)> for Part {
    fn write_batch(&mut self, _batch: &[(u64, i64)]) -> weir::Result<()> {
        if self.fail && self.commits.load(Ordering::SeqCst) >= 2 {
            return Err(weir::Error::Runtime(
                "stop after a committed checkpoint".into(),
            ));
        }
        std::thread::sleep(Duration::from_micros(200));
        Ok(())
    }
    fn finish(&mut self) -> weir::Result<SinkStats> {
        Ok(SinkStats::default())
    }
}

fn run(dir: &std::path::Path, workers: usize, restore: bool, fail: bool, seen: &Seen) -> bool {
    static MARKER: AtomicU64 = AtomicU64::new(1);
    let seen = seen.clone();
    let config = RunConfig {
        workers,
        pin: false,
        batch_size: 8,
        ring_capacity: 4,
        dead_letter_path: dir.join("dead.jsonl"),
        checkpoint: Some(CheckpointConfig {
            dir: dir.join("ckpt"),
            interval: Duration::from_millis(5),
            retain: 10,
            restore: if restore {
                RestoreFrom::Latest
            } else {
                RestoreFrom::None
            },
            restore_required: restore,
            allow_at_least_once: false,
            lineage: None,
        }),
        fingerprint: 42,
        ..RunConfig::default()
    };
    let sink = StopAfterCommit {
        fail,
        commits: Arc::default(),
    };
    Stream::from_source(GeneratorSource::new(20_000, 50, |k, v, _| (k, v)))
        .key_by(|e: &(u64, i64)| e.0)
        .process_named(Some("tally"), move || Tally {
            even: OperatorListState::new("values"),
            union: UnionListState::new("markers"),
            seen: seen.clone(),
            reported: false,
            marker: MARKER.fetch_add(1, Ordering::SeqCst),
        })
        .sink(sink)
        .run(&config)
        .is_ok()
}

/// The operator state of the newest checkpoint: all even items, all union items.
fn checkpointed(dir: &std::path::Path) -> (Vec<u64>, Vec<u64>) {
    let store = CheckpointStore::open(&dir.join("ckpt")).unwrap();
    let restored = store.load_latest(42).unwrap().expect("a checkpoint");
    let (mut even, mut union) = (Vec::new(), Vec::new());
    for snap in restored.manifest.operator_state.iter().flatten() {
        let items = snap
            .items
            .iter()
            .map(|b| u64::from_le_bytes(b[..8].try_into().unwrap()));
        match snap.name.as_str() {
            "tally/values" => even.extend(items),
            "tally/markers" => union.extend(items),
            other => panic!("unexpected operator state {other}"),
        }
    }
    even.sort_unstable();
    union.sort_unstable();
    (even, union)
}

fn counts(v: &[u64]) -> HashMap<u64, usize> {
    let mut m = HashMap::new();
    for x in v {
        *m.entry(*x).or_default() += 1;
    }
    m
}

#[test]
fn list_and_union_state_redistribute_on_rescale() {
    for (before, after) in [(1, 2), (2, 1)] {
        let dir = tempfile::tempdir().unwrap();
        let seen: Seen = Arc::default();
        assert!(
            !run(dir.path(), before, false, true, &seen),
            "the first run stops after a checkpoint"
        );
        let (even, union) = checkpointed(dir.path());
        assert!(!even.is_empty() && union.len() == before, "{union:?}");
        seen.lock().unwrap().clear();
        assert!(
            run(dir.path(), after, true, false, &seen),
            "the restored run finishes"
        );
        let restored = seen.lock().unwrap().clone();
        assert_eq!(restored.len(), after, "every new instance reported");
        // Even: every item exactly once over the new instances, dealt out evenly.
        let mut all: Vec<u64> = restored.iter().flat_map(|(e, _)| e.clone()).collect();
        all.sort_unstable();
        assert_eq!(counts(&all), counts(&even), "{before} → {after}");
        let sizes: Vec<usize> = restored.iter().map(|(e, _)| e.len()).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
        // Union: every new instance has all of it.
        for (_, u) in &restored {
            let mut u = u.clone();
            u.sort_unstable();
            assert_eq!(u, union, "{before} → {after}");
        }
    }
}
