//! Heap buffers of long [`super::RowKey`]s, recycled per thread (issue 10, step 5).
//!
//! A key whose canonical bytes do not fit inline (a string key of more than 41 bytes) keeps
//! them in a heap buffer. Like [`super::Text`]'s strings, a dropped buffer goes to a bounded
//! free list of the dropping thread and the next long key built there takes it, so building
//! long keys allocates nothing per record in steady state: `key_by` builds keys on the
//! source's thread, and the keyed stage hands each spent batch, keys included, back to it.

use super::free_list::{self, FreeList};
use std::cell::RefCell;

/// Free buffers kept per thread at most.
const MAX_BUFFERS: usize = 4096;
/// Buffers larger than this are freed, not kept.
const MAX_BUFFER: usize = 4096;

thread_local! {
    static FREE: RefCell<FreeList<Vec<u8>>> =
        const { RefCell::new(FreeList::new(MAX_BUFFERS, MAX_BUFFERS * MAX_BUFFER, MAX_BUFFER)) };
}

/// The bytes of a long key, in a buffer that returns to its thread's free list when dropped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct KeyBuf(Vec<u8>);

impl KeyBuf {
    /// An empty buffer, recycled when this thread has one.
    pub(crate) fn new() -> Self {
        KeyBuf(free_list::take(&FREE).unwrap_or_default())
    }

    /// A buffer holding a copy of `bytes`.
    pub(crate) fn from_slice(bytes: &[u8]) -> Self {
        let mut b = Self::new();
        b.0.extend_from_slice(bytes);
        b
    }

    /// The buffer, to append to.
    pub(crate) fn vec(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl Clone for KeyBuf {
    fn clone(&self) -> Self {
        Self::from_slice(&self.0)
    }
}

impl Drop for KeyBuf {
    fn drop(&mut self) {
        free_list::give(&FREE, std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_buffer_is_taken_by_the_next_key_of_the_thread() {
        let a = KeyBuf::from_slice(&[7u8; 60]);
        let ptr = a.as_slice().as_ptr();
        drop(a);
        let b = KeyBuf::from_slice(&[8u8; 50]);
        assert_eq!(b.as_slice().as_ptr(), ptr, "the freed buffer is reused");
        assert_eq!(b.as_slice(), &[8u8; 50]);
        let c = b.clone();
        assert_eq!(c, b);
        assert_ne!(c.as_slice().as_ptr(), b.as_slice().as_ptr());
    }

    #[test]
    fn oversized_buffers_are_freed_not_kept() {
        let before = FREE.with(|f| f.borrow().len());
        drop(KeyBuf::from_slice(&vec![1u8; MAX_BUFFER + 1]));
        assert_eq!(FREE.with(|f| f.borrow().len()), before);
    }
}
