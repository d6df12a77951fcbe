//! Bounded lock-free single-producer single-consumer ring.
//!
//! One heap buffer of `capacity` slots of `MaybeUninit<T>` and two positions, `head` (next
//! slot to pop, written by the consumer only) and `tail` (next slot to push, written by the
//! producer only), each on its own cache line. Positions run over `0..2 * capacity` so that a
//! full ring (`tail - head == capacity`) and an empty one (`tail == head`) differ without a
//! spare slot; the slot of position `p` is `p % capacity`.
//!
//! Each side keeps its own position in a plain field and a *cached* copy of the other side's
//! position; it reloads that copy (`Acquire`) only when the ring looks full (producer) or
//! empty (consumer), and publishes its own position with a `Release` store after writing
//! (producer) or reading (consumer) a slot. A push or pop that finds room in the cache thus
//! touches no shared cache line except the slot and its own position.
//!
//! [`Producer`] and [`Consumer`] are `Send` (for `T: Send`) but not `Sync`: each is owned by
//! one thread. Items still in the ring when both halves are gone are dropped exactly once.
//!
//! ```
//! let (mut tx, mut rx) = weir::runtime::ring::ring::<u32>(2);
//! assert!(tx.push(1).is_ok());
//! assert!(tx.push(2).is_ok());
//! assert_eq!(tx.push(3), Err(3)); // full: the value comes back
//! assert_eq!(rx.pop(), Some(1));
//! assert_eq!(rx.pop(), Some(2));
//! assert_eq!(rx.pop(), None);
//! ```
#![allow(unsafe_code)]

use crossbeam_utils::CachePadded;
use std::cell::Cell;
use std::fmt;
use std::mem::MaybeUninit;

use sync::{Arc, AtomicUsize, Ordering, UnsafeCell};

/// Shim: loom's model types under `cfg(loom)`, std's otherwise (same method names).
#[cfg(loom)]
mod sync {
    pub(super) use loom::cell::UnsafeCell;
    pub(super) use loom::sync::atomic::{AtomicUsize, Ordering};
    pub(super) use loom::sync::Arc;
}

/// Shim: loom's model types under `cfg(loom)`, std's otherwise (same method names).
#[cfg(not(loom))]
mod sync {
    pub(super) use std::sync::atomic::{AtomicUsize, Ordering};
    pub(super) use std::sync::Arc;

    /// `std::cell::UnsafeCell` with loom's closure-based access API.
    pub(super) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(super) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        /// Calls `f` with a raw pointer to the contents.
        #[inline(always)]
        pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// Creates a ring holding at most `capacity` items (a `capacity` of 0 is taken as 1).
///
/// # Panics
/// Panics if `capacity > usize::MAX / 2` (positions run over `0..2 * capacity`).
pub fn ring<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    let capacity = capacity.max(1);
    assert!(
        capacity <= usize::MAX / 2,
        "ring capacity {capacity} too large"
    );
    let buf = (0..capacity)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let shared = Arc::new(Shared {
        head: CachePadded::new(AtomicUsize::new(0)),
        tail: CachePadded::new(AtomicUsize::new(0)),
        buf,
    });
    let producer = Producer {
        shared: shared.clone(),
        tail: 0,
        cached_head: Cell::new(0),
    };
    let consumer = Consumer {
        shared,
        head: 0,
        cached_tail: Cell::new(0),
    };
    (producer, consumer)
}

/// The buffer and positions shared by both halves.
struct Shared<T> {
    /// Position of the next slot to pop, in `0..2 * capacity`; stored by the consumer only.
    head: CachePadded<AtomicUsize>,
    /// Position of the next slot to push, in `0..2 * capacity`; stored by the producer only.
    tail: CachePadded<AtomicUsize>,
    /// The slots. Invariant: the slots of positions `head..tail` (mod `2 * capacity`) hold
    /// initialised items owned by the ring; all others are uninitialised.
    buf: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: 1. `Shared` moves `T`s between threads, so it requires `T: Send`.
// 2. Each slot is accessed by one side at a time: the producer only writes the slot at `tail`
//    while it is free, the consumer only reads the slot at `head` while it is full, and the
//    Release/Acquire pairs on `head` and `tail` order those accesses (see `push` and `pop`).
// 3. Only one `Producer` and one `Consumer` exist, and they take `&mut self` to push/pop.
// (SAFETY: reasons 1–3 above.)
unsafe impl<T: Send> Sync for Shared<T> {}
// SAFETY: 1. `Shared` owns its `T`s; sending it sends them, which `T: Send` allows.
unsafe impl<T: Send> Send for Shared<T> {}

impl<T> Shared<T> {
    /// Number of slots.
    #[inline(always)]
    fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Number of items between positions `head` and `tail`.
    #[inline(always)]
    fn distance(&self, head: usize, tail: usize) -> usize {
        if tail >= head {
            tail - head
        } else {
            tail + 2 * self.capacity() - head
        }
    }

    /// The position after `pos`.
    #[inline(always)]
    fn next(&self, pos: usize) -> usize {
        if pos + 1 == 2 * self.capacity() {
            0
        } else {
            pos + 1
        }
    }

    /// The slot of position `pos`.
    #[inline(always)]
    fn slot(&self, pos: usize) -> &UnsafeCell<MaybeUninit<T>> {
        let cap = self.capacity();
        &self.buf[if pos < cap { pos } else { pos - cap }]
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // `&mut self`: both halves are gone and the `Arc` synchronised with their last uses.
        let tail = self.tail.load(Ordering::Relaxed);
        let mut pos = self.head.load(Ordering::Relaxed);
        while pos != tail {
            // SAFETY: 1. `pos` is in `head..tail`, so the slot holds an initialised item
            //    (invariant of `buf`).
            // 2. Nobody else can reach the slot any more (`&mut self`), and `pos` advances
            //    past it, so the item is dropped exactly once.
            self.slot(pos)
                // SAFETY: reasons 1–3 above.
                .with_mut(|p| unsafe { (*p).assume_init_drop() });
            pos = self.next(pos);
        }
    }
}

/// The sending half. `Send` (for `T: Send`) but not `Sync`: owned by one thread.
///
/// ```compile_fail
/// fn is_sync<T: Sync>() {}
/// is_sync::<weir::runtime::ring::Producer<u64>>();
/// ```
pub struct Producer<T> {
    /// The shared buffer and positions.
    shared: Arc<Shared<T>>,
    /// Own position, the value last stored to `shared.tail` (the producer is its only writer).
    tail: usize,
    /// Cached copy of `shared.head`; may be stale (behind), never ahead.
    cached_head: Cell<usize>,
}

impl<T> Producer<T> {
    /// Pushes `value`, or gives it back when the ring is full.
    ///
    /// # Errors
    /// Returns the value when the ring is full.
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), T> {
        let shared = &*self.shared;
        let tail = self.tail;
        if shared.distance(self.cached_head.get(), tail) == shared.capacity()
            && self.refresh_head() == shared.capacity()
        {
            return Err(value);
        }
        debug_assert!(shared.distance(self.cached_head.get(), tail) < shared.capacity());
        // SAFETY: 1. `distance(head, tail) < capacity` with a head not newer than the real
        //    one, so the slot of `tail` is outside `head..tail`: it is uninitialised and the
        //    consumer does not touch it until we publish `tail + 1` below.
        // 2. The Acquire load of `head` that showed the slot free synchronises with the
        //    consumer's Release store made after it read the slot's previous item, so our write
        //    happens after that read.
        // 3. Writing a `MaybeUninit` over an uninitialised slot drops nothing.
        shared
            .slot(tail)
            // SAFETY: reasons 1–3 above.
            .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
        let next = shared.next(tail);
        // Release: the write of the slot happens before the consumer sees the new tail.
        shared.tail.store(next, Ordering::Release);
        self.tail = next;
        Ok(())
    }

    /// Whether the ring is full now (the consumer may pop at any time after).
    pub fn is_full(&self) -> bool {
        self.refresh_head() == self.shared.capacity()
    }

    /// Number of items in the ring now (the consumer may pop at any time after).
    pub fn len(&self) -> usize {
        self.refresh_head()
    }

    /// Whether the ring is empty now (the consumer may pop at any time after, so this only
    /// ever goes from `false` to `true` without a push).
    pub fn is_empty(&self) -> bool {
        self.refresh_head() == 0
    }

    /// Maximum number of items the ring holds.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Reloads the cached head (Acquire) and returns the number of items in the ring.
    #[inline]
    fn refresh_head(&self) -> usize {
        let head = self.shared.head.load(Ordering::Acquire);
        self.cached_head.set(head);
        self.shared.distance(head, self.tail)
    }
}

/// The receiving half. `Send` (for `T: Send`) but not `Sync`: owned by one thread.
///
/// ```compile_fail
/// fn is_sync<T: Sync>() {}
/// is_sync::<weir::runtime::ring::Consumer<u64>>();
/// ```
pub struct Consumer<T> {
    /// The shared buffer and positions.
    shared: Arc<Shared<T>>,
    /// Own position, the value last stored to `shared.head` (the consumer is its only writer).
    head: usize,
    /// Cached copy of `shared.tail`; may be stale (behind), never ahead.
    cached_tail: Cell<usize>,
}

impl<T> Consumer<T> {
    /// Pops the oldest item, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        let shared = &*self.shared;
        let head = self.head;
        if self.cached_tail.get() == head && self.refresh_tail() == 0 {
            return None;
        }
        debug_assert!(shared.distance(head, self.cached_tail.get()) > 0);
        // SAFETY: 1. `head != tail` with a tail not newer than the real one, so the slot of
        //    `head` is in `head..tail`: it holds an initialised item and the producer does not
        //    touch it until we publish `head + 1` below.
        // 2. The Acquire load of `tail` that showed the slot full synchronises with the
        //    producer's Release store made after it wrote the slot, so our read sees the item.
        // 3. The item is moved out once: `head` advances past the slot right after.
        let value = shared
            .slot(head)
            // SAFETY: reasons 1–3 above.
            .with_mut(|p| unsafe { (*p).assume_init_read() });
        let next = shared.next(head);
        // Release: the read of the slot happens before the producer sees the slot free.
        shared.head.store(next, Ordering::Release);
        self.head = next;
        Some(value)
    }

    /// Whether the ring is empty now (the producer may push at any time after).
    pub fn is_empty(&self) -> bool {
        self.refresh_tail() == 0
    }

    /// Number of items in the ring now (the producer may push at any time after).
    pub fn len(&self) -> usize {
        self.refresh_tail()
    }

    /// Maximum number of items the ring holds.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// Reloads the cached tail (Acquire) and returns the number of items in the ring.
    #[inline]
    fn refresh_tail(&self) -> usize {
        let tail = self.shared.tail.load(Ordering::Acquire);
        self.cached_tail.set(tail);
        self.shared.distance(self.head, tail)
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .finish()
    }
}

impl<T> fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
