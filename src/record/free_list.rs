//! A bounded per-thread free list of heap buffers, shared by [`super::Text`]'s strings
//! ([`super::text_pool`]) and long [`super::RowKey`]s' bytes ([`super::key_buf`]).
//!
//! A dropped buffer goes to the list of the dropping thread (unless it is too large, or the
//! list is full by count or bytes), and the next buffer built on that thread takes it: the
//! row path's long strings and keys allocate nothing per record in steady state. During
//! thread exit the list may be gone; a buffer is then simply freed.

use std::cell::RefCell;
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

/// Returns `buf` to this thread's list `list` (or frees it: too large, list full, or gone).
#[inline]
pub(crate) fn give<T: Buffer + 'static>(list: &'static LocalKey<RefCell<FreeList<T>>>, mut buf: T) {
    let cap = buf.capacity();
    let _ = list.try_with(|l| {
        if let Ok(mut l) = l.try_borrow_mut() {
            if cap > 0
                && cap <= l.max_buffer
                && l.free.len() < l.max_buffers
                && l.bytes + cap <= l.max_bytes
            {
                buf.clear();
                l.bytes += cap;
                l.free.push(buf);
            }
        }
    });
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
