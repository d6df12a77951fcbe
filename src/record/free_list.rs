//! A bounded per-thread free list of heap buffers, shared by [`super::Text`]'s strings
//! ([`super::text_pool`]) and long [`super::RowKey`]s' bytes ([`super::key_buf`]).
//!
//! A dropped buffer goes to the list of the dropping thread (unless it is too large, or the
//! list is full by count or bytes), and the next buffer built on that thread takes it: the
//! row path's long strings and keys allocate nothing per record in steady state. During
//! thread exit the list may be gone; a buffer is then simply freed.

use std::cell::{RefCell, RefMut};
use std::thread::LocalKey;

/// A buffer that can be kept empty on a free list.
pub(crate) trait Buffer {
    /// Its capacity in bytes.
    fn capacity(&self) -> usize;
    /// Empties it, keeping the capacity.
    fn clear(&mut self);
}

impl Buffer for Box<String> {
    fn capacity(&self) -> usize {
        String::capacity(self)
    }
    fn clear(&mut self) {
        String::clear(self)
    }
}

impl Buffer for Vec<u8> {
    fn capacity(&self) -> usize {
        Vec::capacity(self)
    }
    fn clear(&mut self) {
        Vec::clear(self)
    }
}

/// Free buffers (empty, with capacity) and their total capacity, within fixed bounds.
pub(crate) struct FreeList<T> {
    free: Vec<T>,
    bytes: usize,
    /// Buffers kept at most.
    max_buffers: usize,
    /// Total capacity kept at most.
    max_bytes: usize,
    /// Buffers larger than this are freed, not kept.
    max_buffer: usize,
}

impl<T: Buffer> FreeList<T> {
    /// An empty list with these bounds (for a `thread_local!`).
    pub(crate) const fn new(max_buffers: usize, max_bytes: usize, max_buffer: usize) -> Self {
        FreeList {
            free: Vec::new(),
            bytes: 0,
            max_buffers,
            max_bytes,
            max_buffer,
        }
    }

    /// Buffers on the list.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.free.len()
    }
}

impl<T: Buffer> FreeList<T> {
    /// Keeps `buf` (emptied) when it is not too large and the list has room; else frees it.
    #[inline]
    fn keep(&mut self, mut buf: T) {
        let cap = buf.capacity();
        if cap > 0
            && cap <= self.max_buffer
            && self.free.len() < self.max_buffers
            && self.bytes + cap <= self.max_bytes
        {
            buf.clear();
            self.bytes += cap;
            self.free.push(buf);
        }
    }
}

/// Returns `buf` to this thread's list `list` (or frees it: too large, list full, or gone).
#[inline]
pub(crate) fn give<T: Buffer + 'static>(list: &'static LocalKey<RefCell<FreeList<T>>>, buf: T) {
    lend(list, |lent| lent.give(buf));
}

/// This thread's list as [`lend`] hands it to its visitor: borrowed once, or nothing (the
/// list is gone or busy: a buffer given is freed, none is taken).
pub(crate) struct Lent<'a, T>(Option<RefMut<'a, FreeList<T>>>);

impl<T: Buffer> Lent<'_, T> {
    /// Returns `buf` to the list as [`give`] does.
    #[inline]
    pub(crate) fn give(&mut self, buf: T) {
        if let Some(list) = &mut self.0 {
            list.keep(buf);
        }
    }

    /// An empty buffer from the list, as [`take`] gives it.
    #[inline]
    pub(crate) fn take(&mut self) -> Option<T> {
        let list = self.0.as_mut()?;
        let buf = list.free.pop()?;
        list.bytes -= buf.capacity();
        Some(buf)
    }
}

/// Runs `visit` with this thread's list `list` borrowed once ([`Lent`]): the buffers it gives
/// and takes go as [`give`] and [`take`] would, without a look-up each (a batch's in one go).
#[inline]
pub(crate) fn lend<T: Buffer + 'static>(
    list: &'static LocalKey<RefCell<FreeList<T>>>,
    visit: impl FnOnce(&mut Lent<'_, T>),
) {
    let mut visit = Some(visit);
    let _ = list.try_with(|l| {
        if let Some(v) = visit.take() {
            v(&mut Lent(l.try_borrow_mut().ok()));
        }
    });
    // The list is gone (thread exit): buffers given are freed, none taken.
    if let Some(v) = visit {
        v(&mut Lent(None));
    }
}

/// An empty buffer from this thread's list `list`, if it has one.
#[inline]
pub(crate) fn take<T: Buffer + 'static>(
    list: &'static LocalKey<RefCell<FreeList<T>>>,
) -> Option<T> {
    list.try_with(|l| {
        let mut l = l.try_borrow_mut().ok()?;
        let buf = l.free.pop()?;
        l.bytes -= buf.capacity();
        Some(buf)
    })
    .ok()
    .flatten()
}
