//! Merges of runs whose entries share a hash: the newest entry of each *key* wins, and a
//! deletion is dropped only when the merge reaches the oldest run. (The hashes are made up,
//! so that two keys collide; the expected results are hand-checked.)

use super::run::{write_run, GroupEntries};
use super::{Codec, MmapMaps};
use crate::state::expiry::{Clock, TtlTime};
use crate::state::{KeyContext, StateCodec};

const CLOCK0: Clock = Clock {
    time: TtlTime::Processing,
    now: 0,
    first: 0,
};

/// A shared hash of key group 0 (its low 7 bits are the group).
const H: u64 = 0x1234_5678_9abc_de00;

/// `key, [value]` as a run stores it (no value: a deletion).
fn entry(k: u64, v: Option<i64>) -> Vec<u8> {
    let mut b = Vec::new();
    k.encode(&mut b);
    if let Some(v) = v {
        v.encode(&mut b);
    }
    b
}

fn push_run(m: &mut MmapMaps<u64, i64>, group: GroupEntries<'_>) {
    let path = m.next_path();
    let run = write_run(&path, 0..1, false, &[group]).unwrap();
    m.runs.push(run);
}

fn get(m: &MmapMaps<u64, i64>, k: u64, hash: u64) -> Option<i64> {
    let ctx = KeyContext {
        key: &k,
        local_group: 0,
        hash,
        now_ms: 0,
    };
    m.get(&ctx, CLOCK0).copied()
}

#[test]
fn merges_keep_the_newest_entry_of_each_key_among_equal_hashes() {
    let mut m = MmapMaps::<u64, i64>::new(Codec::of(), 0..1, None, None, 1000).unwrap();
    let base = entry(1, Some(5));
    let (a1, a2, a3) = (entry(1, Some(10)), entry(2, Some(20)), entry(3, Some(30)));
    let (b2, b1) = (entry(2, Some(21)), entry(1, None));
    push_run(&mut m, vec![(H, false, &base[..])]);
    let older = vec![
        (H, false, &a1[..]),
        (H, false, &a2[..]),
        (H + 128, false, &a3[..]),
    ];
    push_run(&mut m, older);
    push_run(&mut m, vec![(H, false, &b2[..]), (H, true, &b1[..])]);

    m.merge(2).unwrap(); // the newest two: key 1's deletion must stay (the base has key 1)
    assert_eq!(m.runs(), 2);
    assert_eq!(m.runs[1].entries(), 3, "keys 1 (deleted), 2 and 3");
    assert_eq!(
        get(&m, 1, H),
        None,
        "the deletion still hides the base's value"
    );
    assert_eq!(get(&m, 2, H), Some(21));
    assert_eq!(get(&m, 3, H + 128), Some(30));

    let mut m2 = MmapMaps::<u64, i64>::new(Codec::of(), 0..1, None, None, 1000).unwrap();
    std::mem::swap(&mut m.runs, &mut m2.runs); // a fresh cache: lookups go to the runs
    m2.merge(2).unwrap(); // reaches the oldest run: the deletion goes
    assert_eq!(m2.runs(), 1);
    assert_eq!(m2.runs[0].entries(), 2, "keys 2 and 3");
    assert_eq!(get(&m2, 1, H), None);
    assert_eq!(get(&m2, 2, H), Some(21));
    assert_eq!(get(&m2, 3, H + 128), Some(30));
}
