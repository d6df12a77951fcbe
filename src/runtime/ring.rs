//! Bounded single-producer single-consumer ring (temporary implementation over
//! `crossbeam::queue::ArrayQueue`; replaced by the lock-free SPSC ring).

use crossbeam::queue::ArrayQueue;
use std::sync::Arc;

/// Creates a ring holding at most `capacity` items.
pub fn ring<T>(capacity: usize) -> (Producer<T>, Consumer<T>) {
    let q = Arc::new(ArrayQueue::new(capacity.max(1)));
    (Producer { q: q.clone() }, Consumer { q })
}

/// The sending half. `Send` but used by one thread.
pub struct Producer<T> {
    q: Arc<ArrayQueue<T>>,
}

/// The receiving half. `Send` but used by one thread.
pub struct Consumer<T> {
    q: Arc<ArrayQueue<T>>,
}

impl<T> Producer<T> {
    /// Pushes `value`, or gives it back when the ring is full.
    ///
    /// # Errors
    /// Returns the value when the ring is full.
    #[inline]
    pub fn push(&mut self, value: T) -> Result<(), T> {
        self.q.push(value)
    }

    /// Whether the ring is full now.
    pub fn is_full(&self) -> bool {
        self.q.is_full()
    }
}

impl<T> Consumer<T> {
    /// Pops the oldest item, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        self.q.pop()
    }

    /// Whether the ring is empty now.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }
}
