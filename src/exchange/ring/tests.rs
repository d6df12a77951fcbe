//! Unit tests of the SPSC ring (std atomics; see `loom_tests.rs` for the model checks).

use super::ring;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// Counts its drops in a shared counter.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn fifo_across_two_threads() {
    const N: u64 = 1 << 20;
    let (mut tx, mut rx) = ring::<u64>(7);
    let producer = thread::spawn(move || {
        for i in 0..N {
            let mut v = i;
            while let Err(back) = tx.push(v) {
                v = back;
                std::hint::spin_loop();
            }
        }
    });
    let mut expected = 0;
    while expected < N {
        match rx.pop() {
            Some(v) => {
                assert_eq!(v, expected);
                expected += 1;
            }
            None => std::hint::spin_loop(),
        }
    }
    producer.join().unwrap();
    assert_eq!(rx.pop(), None);
    assert!(rx.is_empty());
}

#[test]
fn batches_across_two_threads() {
    const BATCHES: usize = 20_000;
    let (mut tx, mut rx) = ring::<Vec<usize>>(4);
    let producer = thread::spawn(move || {
        for i in 0..BATCHES {
            let mut batch: Vec<usize> = (i..i + (i % 17)).collect();
            while let Err(back) = tx.push(batch) {
                batch = back;
                thread::yield_now();
            }
        }
    });
    for i in 0..BATCHES {
        let batch = loop {
            if let Some(b) = rx.pop() {
                break b;
            }
            thread::yield_now();
        };
        assert_eq!(batch, (i..i + (i % 17)).collect::<Vec<_>>());
    }
    producer.join().unwrap();
}

#[test]
fn capacity_one() {
    let (mut tx, mut rx) = ring::<String>(1);
    assert_eq!(tx.capacity(), 1);
    for round in 0..5 {
        let s = format!("item {round}");
        assert!(tx.push(s.clone()).is_ok());
        assert!(tx.is_full());
        assert_eq!(tx.push("extra".into()), Err("extra".to_string()));
        assert_eq!(rx.len(), 1);
        assert_eq!(rx.pop(), Some(s));
        assert_eq!(rx.pop(), None);
        assert!(!tx.is_full());
    }
}

#[test]
fn zero_capacity_is_one() {
    let (mut tx, mut rx) = ring::<u8>(0);
    assert_eq!(rx.capacity(), 1);
    assert_eq!(tx.push(1), Ok(()));
    assert_eq!(tx.push(2), Err(2));
    assert_eq!(rx.pop(), Some(1));
}

#[test]
fn full_and_empty_through_wraparound() {
    let (mut tx, mut rx) = ring::<u32>(3);
    assert!(rx.is_empty() && tx.is_empty() && !tx.is_full());
    let mut next_in = 0;
    let mut next_out = 0;
    // Several laps over 0..2*capacity, with the fill level varying between 0 and 3.
    for lap in 0..20 {
        let fill = lap % 4;
        while tx.len() < fill {
            tx.push(next_in).unwrap();
            next_in += 1;
        }
        assert_eq!(rx.len(), fill);
        assert_eq!(tx.is_full(), fill == 3);
        if tx.is_full() {
            assert_eq!(tx.push(99), Err(99));
        }
        while let Some(v) = rx.pop() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert!(rx.is_empty() && tx.is_empty());
    }
    assert_eq!(next_in, next_out);
    assert!(next_in > 20);
}

#[test]
fn unconsumed_items_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = ring::<Counted>(4);
    // Wrap the positions once so the leftovers straddle the end of the buffer.
    for _ in 0..3 {
        tx.push(Counted(drops.clone())).unwrap();
    }
    drop(rx.pop());
    drop(rx.pop());
    assert_eq!(drops.load(Ordering::Relaxed), 2);
    for _ in 0..3 {
        tx.push(Counted(drops.clone())).unwrap();
    }
    // A rejected push gives the value back (dropped here, counted once).
    assert!(tx.push(Counted(drops.clone())).is_err());
    assert_eq!(drops.load(Ordering::Relaxed), 3);
    drop(tx);
    assert_eq!(
        drops.load(Ordering::Relaxed),
        3,
        "items live while the consumer does"
    );
    drop(rx);
    // 7 created: 2 popped, 1 rejected, 4 left in the ring.
    assert_eq!(drops.load(Ordering::Relaxed), 7);
}

#[test]
fn items_dropped_when_dropped_on_other_thread() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, rx) = ring::<Counted>(8);
    for _ in 0..5 {
        tx.push(Counted(drops.clone())).unwrap();
    }
    thread::spawn(move || drop(rx)).join().unwrap();
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    drop(tx);
    assert_eq!(drops.load(Ordering::Relaxed), 5);
}

#[test]
fn zero_sized_items() {
    let (mut tx, mut rx) = ring::<()>(5);
    for _ in 0..5 {
        tx.push(()).unwrap();
    }
    assert!(tx.is_full());
    assert_eq!(tx.push(()), Err(()));
    for _ in 0..5 {
        assert_eq!(rx.pop(), Some(()));
    }
    assert_eq!(rx.pop(), None);
}

#[test]
fn zero_sized_items_with_drop_are_counted() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Zst;
    impl Drop for Zst {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }
    let (mut tx, mut rx) = ring::<Zst>(3);
    for _ in 0..3 {
        assert!(tx.push(Zst).is_ok());
    }
    drop(rx.pop());
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    drop((tx, rx));
    assert_eq!(DROPS.load(Ordering::Relaxed), 3);
}

#[test]
fn halves_are_send_not_sync() {
    fn is_send<T: Send>() {}
    is_send::<super::Producer<Vec<u64>>>();
    is_send::<super::Consumer<Vec<u64>>>();
    // Not `Sync`: checked at compile time by the doc test below (`compile_fail`).
}
