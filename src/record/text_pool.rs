//! The per-thread free list of [`super::Text`]'s heap buffers.
//!
//! A heap buffer whose `Text` is dropped goes to a small free list of the dropping thread,
//! and the next long string built on that thread (decoded, cloned) takes a buffer from
//! there. Steady state on the row path allocates nothing because every buffer goes back to
//! the thread that takes buffers for the same kind of record: a keyed stage processes its
//! input rows in place and hands the batch back to the sending worker, whose decoder and
//! `key_by` made those strings (`runtime::task::stage`); an operator builds its outputs from
//! clones made on its own thread, which the sink after it drops there. The free list is
//! bounded (count and bytes), so a burst does not keep memory after it.

// A heap text is a `Box<String>` on purpose: a thin 8-byte pointer fits the 16-byte `Text`
// (a `String` is 24 bytes), and the box is recycled with its buffer.
#![allow(clippy::box_collection, clippy::vec_box)]

use super::free_list::{self, FreeList, Lent};
use std::cell::RefCell;

/// Free heap buffers kept per thread at most.
const MAX_BUFFERS: usize = 64 * 1024;
/// Bytes of free heap buffers kept per thread at most.
const MAX_BYTES: usize = 16 << 20;
/// Buffers larger than this are freed, not kept.
pub(super) const MAX_BUFFER: usize = 64 << 10;

thread_local! {
    static POOL: RefCell<FreeList<Box<String>>> =
        const { RefCell::new(FreeList::new(MAX_BUFFERS, MAX_BYTES, MAX_BUFFER)) };
}

/// Returns a heap buffer to this thread's free list (or frees it when the list is full).
#[inline]
pub(super) fn give(s: Box<String>) {
    free_list::give(&POOL, s);
}

/// Runs `visit` with this thread's free list borrowed once.
#[inline]
pub(super) fn lend(visit: impl FnOnce(&mut Lent<'_, Box<String>>)) {
    free_list::lend(&POOL, visit);
}

/// A free heap buffer of this thread (empty), if any.
#[inline]
pub(super) fn take() -> Option<Box<String>> {
    free_list::take(&POOL)
}

/// Buffers on this thread's free list (for tests).
#[cfg(test)]
pub(super) fn pooled() -> usize {
    POOL.with(|p| p.borrow().len())
}
