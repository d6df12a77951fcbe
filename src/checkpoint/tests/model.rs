//! Model-based property test: random states checkpointed with N workers, restored with M.

use super::*;
use proptest::prelude::*;

/// A random state: key group → (state name → bytes).
fn state() -> impl Strategy<Value = BTreeMap<u16, BTreeMap<String, Vec<u8>>>> {
    prop::collection::btree_map(
        0..M,
        prop::collection::btree_map("[a-c]", prop::collection::vec(any::<u8>(), 0..40), 1..3),
        0..8,
    )
}

/// Worker `w` of `n`'s snapshot of `state`.
fn split(state: &BTreeMap<u16, BTreeMap<String, Vec<u8>>>, w: u32, n: u32) -> WorkerSnapshot {
    let range = (w * u32::from(M) / n) as u16..((w + 1) * u32::from(M) / n) as u16;
    let groups = state
        .range(range.clone())
        .map(|(&kg, states)| GroupSnapshot {
            key_group: kg,
            states: states
                .iter()
                .map(|(name, bytes)| StateSnapshot {
                    name: name.clone(),
                    entries: 1,
                    bytes: bytes.clone(),
                })
                .collect(),
        })
        .collect();
    WorkerSnapshot {
        worker: w,
        key_groups: range,
        groups,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Checkpoint with `old` workers, restore with `new`: every new worker reads exactly
    /// the model's sections of its key groups — also when the state files are split into
    /// segments of at most `limit` bytes (`None`: the default 1 GiB, one segment).
    #[test]
    fn rescaled_restore_matches_the_model(
        state in state(),
        old in 1u32..5,
        new in 1u32..5,
        limit in prop::option::of(0u64..300),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        if let Some(limit) = limit {
            store.set_segment_limit(limit);
        }
        let mut manifest = Manifest::new(1, FP, M, old);
        for w in 0..old {
            manifest.files.push(store.write_worker_state(1, &split(&state, w, old)).unwrap());
        }
        store.commit(&manifest).unwrap();
        let restored = store.load_latest(FP).unwrap().unwrap();
        for w in 0..new {
            let range = (w * u32::from(M) / new) as u16..((w + 1) * u32::from(M) / new) as u16;
            let got = read_range(&restored, range.clone());
            let want: Model = state
                .range(range)
                .flat_map(|(&kg, s)| s.iter().map(move |(n, b)| ((kg, n.clone()), b.clone())))
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
