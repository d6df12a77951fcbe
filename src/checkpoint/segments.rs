//! Splitting a worker's snapshot into segments small enough for rkyv's 32-bit relative
//! offsets (an archive must stay under 2 GiB), and the rule that joins them again.
//!
//! A segment is itself a [`WorkerSnapshot`] (same `worker`) holding a run of the snapshot's
//! *pieces*: a piece is one state of one key group, or a slice of its bytes when the state
//! alone exceeds the limit. Concatenating the segments' groups in order gives back the
//! snapshot, with one rule: **adjacent pieces of the same key group and state name form one
//! section, their bytes concatenated** (a split key group appears as the last group of one
//! segment and the first of the next). A snapshot that fits the limit is one segment equal
//! to itself.

use super::{GroupSnapshot, StateSnapshot, WorkerSnapshot};
use std::ops::Range;

/// Default segment limit: 1 GiB of state bytes per archive, half of what 32-bit relative
/// offsets can address, leaving room for the index and alignment.
pub const DEFAULT_SEGMENT_BYTES: u64 = 1 << 30;

/// Bytes counted per piece on top of its state bytes (name, lengths, pointers, padding) —
/// generous, so that the estimate bounds the archive's size.
const PIECE_OVERHEAD: u64 = 64;

/// One piece: state `state` of group `group` (indices into the snapshot), bytes `bytes`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Piece {
    group: usize,
    state: usize,
    bytes: Range<usize>,
}

/// The pieces of each segment, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    segments: Vec<Vec<Piece>>,
}

impl Plan {
    /// Splits `snapshot` so that each segment's estimated archive size stays within `limit`
    /// bytes (a piece costs its bytes plus a fixed overhead; a state larger than a segment is
    /// cut into slices). Groups without states are kept as zero-length pieces.
    pub fn new(snapshot: &WorkerSnapshot, limit: u64) -> Self {
        let limit = limit.max(PIECE_OVERHEAD + 1);
        let slice_max = usize::try_from(limit - PIECE_OVERHEAD).unwrap_or(usize::MAX);
        let mut segments = vec![Vec::new()];
        let mut used = 0u64;
        let mut push = |piece: Piece, segments: &mut Vec<Vec<Piece>>| {
            let cost = PIECE_OVERHEAD + piece.bytes.len() as u64;
            let current = segments.last().map_or(0, Vec::len);
            if current > 0 && used + cost > limit {
                segments.push(Vec::new());
                used = 0;
            }
            used += cost;
            if let Some(last) = segments.last_mut() {
                last.push(piece);
            }
        };
        for (g, group) in snapshot.groups.iter().enumerate() {
            if group.states.is_empty() {
                push(
                    Piece {
                        group: g,
                        state: usize::MAX,
                        bytes: 0..0,
                    },
                    &mut segments,
                );
            }
            for (s, state) in group.states.iter().enumerate() {
                let len = state.bytes.len();
                let mut start: usize = 0;
                loop {
                    let end = len.min(start.saturating_add(slice_max));
                    push(
                        Piece {
                            group: g,
                            state: s,
                            bytes: start..end,
                        },
                        &mut segments,
                    );
                    start = end;
                    if start >= len {
                        break;
                    }
                }
            }
        }
        Plan { segments }
    }

    /// Number of segments (at least one).
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Segment `i` of `snapshot` as its own snapshot (the pieces' bytes copied). Its
    /// `key_groups` run from its first group to its last, except that the first segment
    /// starts and the last one ends where `snapshot`'s do; the first piece of a state carries its entry count, further
    /// slices 0.
    ///
    /// # Panics
    /// When `i` is out of range or `snapshot` is not the one the plan was made for.
    pub fn segment(&self, snapshot: &WorkerSnapshot, i: usize) -> WorkerSnapshot {
        let pieces = &self.segments[i];
        let mut groups: Vec<GroupSnapshot> = Vec::new();
        let mut last_group = None;
        for p in pieces {
            let group = &snapshot.groups[p.group];
            if last_group != Some(p.group) {
                groups.push(GroupSnapshot {
                    key_group: group.key_group,
                    states: Vec::new(),
                });
                last_group = Some(p.group);
            }
            if let (Some(state), Some(out)) = (group.states.get(p.state), groups.last_mut()) {
                out.states.push(StateSnapshot {
                    name: state.name.clone(),
                    entries: if p.bytes.start == 0 { state.entries } else { 0 },
                    bytes: state.bytes[p.bytes.clone()].to_vec(),
                });
            }
        }
        // The first segment starts at the snapshot's first key group, the last ends at its
        // end; in between, a segment runs from its first group to its last.
        let whole = &snapshot.key_groups;
        let start = match groups.first() {
            Some(g) if i > 0 => g.key_group,
            _ => whole.start,
        };
        let end = match groups.last() {
            Some(g) if i + 1 < self.segments.len() => g.key_group.saturating_add(1),
            _ => whole.end,
        };
        let key_groups = start..end;
        WorkerSnapshot {
            worker: snapshot.worker,
            key_groups,
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The sections of a sequence of segments, adjacent pieces of one (group, state) joined.
    fn joined(segments: &[WorkerSnapshot]) -> Vec<(u16, String, u64, Vec<u8>)> {
        let mut out: Vec<(u16, String, u64, Vec<u8>)> = Vec::new();
        for seg in segments {
            for g in &seg.groups {
                for s in &g.states {
                    match out.last_mut() {
                        Some(last) if last.0 == g.key_group && last.1 == s.name => {
                            last.2 += s.entries;
                            last.3.extend_from_slice(&s.bytes);
                        }
                        _ => out.push((g.key_group, s.name.clone(), s.entries, s.bytes.clone())),
                    }
                }
            }
        }
        out
    }

    fn sections(snapshot: &WorkerSnapshot) -> Vec<(u16, String, u64, Vec<u8>)> {
        joined(std::slice::from_ref(snapshot))
    }

    fn snapshot_of(groups: Vec<(u16, Vec<(String, usize)>)>) -> WorkerSnapshot {
        WorkerSnapshot {
            worker: 3,
            key_groups: 0..64,
            groups: groups
                .into_iter()
                .map(|(kg, states)| GroupSnapshot {
                    key_group: kg,
                    states: states
                        .into_iter()
                        .map(|(name, len)| StateSnapshot {
                            entries: len as u64 + 1,
                            bytes: (0..len).map(|i| (i as u8) ^ kg as u8).collect(),
                            name,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_snapshot_within_the_limit_is_one_segment_equal_to_itself() {
        let snap = snapshot_of(vec![(1, vec![("a".into(), 10)]), (5, vec![])]);
        let plan = Plan::new(&snap, DEFAULT_SEGMENT_BYTES);
        assert_eq!(plan.len(), 1);
        assert_eq!(plan.segment(&snap, 0), snap);
    }

    #[test]
    fn a_large_state_is_sliced_and_the_slices_join_back() {
        // 100 + 64 bytes per segment at most: a 1000-byte state becomes 10 slices.
        let snap = snapshot_of(vec![(2, vec![("big".into(), 1000), ("small".into(), 3)])]);
        let plan = Plan::new(&snap, 164);
        assert_eq!(plan.len(), 11);
        let segs: Vec<_> = (0..plan.len()).map(|i| plan.segment(&snap, i)).collect();
        assert_eq!(segs[0].key_groups, 0..3);
        assert!(segs[1..10].iter().all(|s| s.key_groups == (2..3)));
        assert_eq!(segs[10].key_groups, 2..64);
        assert_eq!(segs[0].groups[0].states[0].entries, 1001);
        assert_eq!(segs[1].groups[0].states[0].entries, 0);
        assert_eq!(joined(&segs), sections(&snap));
    }

    proptest! {
        #[test]
        fn segments_join_back_to_the_snapshot(
            groups in proptest::collection::btree_map(
                0u16..64,
                proptest::collection::vec((0usize..4, 0usize..300), 0..4),
                0..10,
            ),
            limit in 0u64..600,
        ) {
            let groups = groups
                .into_iter()
                .map(|(kg, states)| {
                    // Distinct names in a group, as the runtime writes them.
                    let mut seen = std::collections::BTreeMap::new();
                    for (name, len) in states {
                        seen.entry(format!("s{name}")).or_insert(len);
                    }
                    (kg, seen.into_iter().collect())
                })
                .collect();
            let snap = snapshot_of(groups);
            let plan = Plan::new(&snap, limit);
            let segs: Vec<_> = (0..plan.len()).map(|i| plan.segment(&snap, i)).collect();
            prop_assert_eq!(joined(&segs), sections(&snap));
            let limit = limit.max(PIECE_OVERHEAD + 1);
            for seg in &segs {
                let cost: u64 = seg.groups.iter().flat_map(|g| &g.states)
                    .map(|s| PIECE_OVERHEAD + s.bytes.len() as u64).sum();
                let pieces = seg.groups.iter().map(|g| g.states.len().max(1)).sum::<usize>();
                prop_assert!(cost <= limit || pieces == 1, "segment over the limit");
                for g in &seg.groups {
                    prop_assert!(seg.key_groups.contains(&g.key_group));
                }
            }
        }
    }
}
