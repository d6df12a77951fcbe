//! Writing a run file straight from a key range, without going through a state's cache,
//! flushes and merges: the restore benchmark builds 1 GiB and 10 GiB of W1 state this way
//! (`weir bench --workload restore --state-backend mmap`). The file is byte for byte what the
//! backend writes for the same entries (same layout, same entry encoding, same order), so the
//! real restore path reads it (tested against a state built by updates).

use super::run::{GroupEntries, RunError};
use super::run_writer::RunWriter;
use crate::state::{StableKey, StateCodec};
use std::ops::Range;
use std::path::Path;

/// Entries gathered per scan of the keys (bounds the memory: 16 bytes each).
const PER_PASS: u64 = 16 << 20;

/// Writes at `path` a run of key groups `range` holding, for every key `k` in `0..keys`
/// whose key group (`key_group(k.stable_hash())`) is in `range`, the entry `k → value(k)` of
/// a `ValueState<u64, i64>` without TTL. Scans the keys once per batch of groups, so that at
/// most about [`PER_PASS`] entries are held at a time. Returns the file's length.
///
/// # Errors
/// [`RunError`] when writing fails (nothing is left at `path` then).
pub(crate) fn write_keyed_run(
    path: &Path,
    range: Range<u16>,
    keys: u64,
    key_group: impl Fn(u64) -> u16,
    value: impl Fn(u64) -> i64,
) -> Result<u64, RunError> {
    let groups = u64::from(range.end - range.start).max(1);
    let per_group = keys / 128 + 1; // key groups are about even (128 of them by default)
    let batch = (PER_PASS / per_group).clamp(1, groups) as u16;
    let mut writer = RunWriter::create(path, range.clone(), false)?;
    let mut start = range.start;
    let mut bytes = Vec::new();
    while start < range.end {
        let end = start.saturating_add(batch).min(range.end);
        let mut buckets: Vec<Vec<(u64, u64)>> = vec![Vec::new(); usize::from(end - start)];
        for k in 0..keys {
            let hash = k.stable_hash();
            let g = key_group(hash);
            if (start..end).contains(&g) {
                buckets[usize::from(g - start)].push((hash, k));
            }
        }
        for mut bucket in buckets {
            bucket.sort_unstable();
            bytes.clear();
            let mut ends = Vec::with_capacity(bucket.len());
            for &(_, k) in &bucket {
                k.encode(&mut bytes);
                value(k).encode(&mut bytes);
                ends.push(bytes.len());
            }
            let mut from = 0;
            let entries: GroupEntries<'_> = bucket
                .iter()
                .zip(&ends)
                .map(|(&(hash, _), &to)| {
                    let e = (hash, false, &bytes[from..to]);
                    from = to;
                    e
                })
                .collect();
            writer.group(&entries)?;
        }
        start = end;
    }
    let run = writer.finish()?;
    Ok(run.file_len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_util::{ctx, kg, RANGE_ALL};
    use crate::state::{KeyedStateStore, RunSource, StateBackend, ValueState};

    /// The bulk-written run restores to exactly the state that updates build, and is the
    /// same file the backend writes for it.
    #[test]
    fn a_bulk_run_is_the_run_updates_write() {
        let dir = tempfile::tempdir().unwrap();
        let backend = StateBackend::Mmap {
            dir: None,
            cache_entries: 1 << 20,
        };
        let range = 32..96;
        let mut built: ValueState<u64, i64> = ValueState::new("sum");
        built.set_backend(&backend);
        built.set_key_groups(range.clone());
        for k in 0..20_000u64 {
            if range.contains(&kg(&k)) {
                built.update(&ctx(&k, &range, 0), 3 * k as i64);
            }
        }
        let files = built.checkpoint_files(dir.path()).unwrap().unwrap();
        assert_eq!(files.len(), 1);
        let path = dir.path().join("bulk.wr");
        let len = write_keyed_run(&path, range.clone(), 20_000, kg_of, |k| 3 * k as i64).unwrap();
        let by_updates = std::fs::read(dir.path().join(&files[0].name)).unwrap();
        assert_eq!(len as usize, by_updates.len());
        assert!(std::fs::read(&path).unwrap() == by_updates, "same bytes");
        let mut r: ValueState<u64, i64> = ValueState::new("sum");
        r.set_backend(&backend);
        r.set_key_groups(RANGE_ALL);
        let src = [RunSource {
            name: "bulk.wr".into(),
            key_groups: range.clone(),
        }];
        assert!(r.restore_files(dir.path(), &src).unwrap());
        assert_eq!(r.get(&ctx(&7, &RANGE_ALL, 0)).copied(), {
            range.contains(&kg(&7u64)).then_some(21)
        });
        assert_eq!(r.len(), built.len());
        drop(crate::state::RestoreChecks::start());
    }

    fn kg_of(hash: u64) -> u16 {
        crate::state::key_group::key_group_of_hash(hash, 128)
    }
}
