//! Model checks of the SPSC ring under loom (`scripts/loom.sh`): every interleaving of a
//! producer thread and a consumer, with tiny sizes so the search stays small.

use super::ring;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Counts its drops in a shared (loom-modelled) counter.
struct Counted(usize, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::Relaxed);
    }
}

/// Pushes `value`, yielding to the model while the ring is full.
fn push_blocking<T>(tx: &mut super::Producer<T>, mut value: T) {
    while let Err(back) = tx.push(value) {
        value = back;
        thread::yield_now();
    }
}

#[test]
fn fifo_producer_vs_consumer() {
    loom::model(|| {
        let (mut tx, mut rx) = ring::<usize>(2);
        let producer = thread::spawn(move || {
            for i in 0..3 {
                push_blocking(&mut tx, i);
            }
        });
        let mut expected = 0;
        while expected < 3 {
            match rx.pop() {
                Some(v) => {
                    assert_eq!(v, expected);
                    expected += 1;
                }
                None => thread::yield_now(),
            }
        }
        producer.join().unwrap();
        assert_eq!(rx.pop(), None);
    });
}

#[test]
fn heap_items_are_published_whole() {
    // A `Box` write must be visible to the consumer (loom checks the cell accesses).
    loom::model(|| {
        let (mut tx, mut rx) = ring::<Box<usize>>(2);
        let producer = thread::spawn(move || {
            for i in 0..3 {
                push_blocking(&mut tx, Box::new(i));
            }
        });
        for i in 0..3 {
            let v = loop {
                if let Some(v) = rx.pop() {
                    break v;
                }
                thread::yield_now();
            };
            assert_eq!(*v, i);
        }
        producer.join().unwrap();
    });
}

#[test]
fn unconsumed_items_dropped_once() {
    // The consumer takes one item and leaves; the last half to go drops the rest.
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = ring::<Counted>(2);
        let d = drops.clone();
        let producer = thread::spawn(move || {
            for i in 0..3 {
                push_blocking(&mut tx, Counted(i, d.clone()));
            }
            // `tx` dropped here, possibly after the consumer.
        });
        let first = loop {
            if let Some(v) = rx.pop() {
                break v;
            }
            thread::yield_now();
        };
        assert_eq!(first.0, 0);
        drop(first);
        // Wait until the producer has pushed everything, then drop the consumer while the
        // producer may still hold its half.
        while rx.len() < 2 {
            thread::yield_now();
        }
        drop(rx);
        producer.join().unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    });
}

#[test]
fn consumer_leaves_early() {
    // The consumer drops its half without popping, racing the producer's pushes and drop.
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, rx) = ring::<Counted>(2);
        let d = drops.clone();
        let producer = thread::spawn(move || {
            let mut pushed = 0;
            for i in 0..3 {
                if tx.push(Counted(i, d.clone())).is_ok() {
                    pushed += 1;
                }
            }
            pushed
        });
        drop(rx);
        let pushed = producer.join().unwrap();
        assert_eq!(pushed, 2);
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    });
}
