//! [`Text`]: the string of a [`super::Value`], 16 bytes, whose heap buffer is recycled per
//! thread.
//!
//! A string of up to 15 bytes lives inline: the bytes, zero-padded, then the length in the
//! last byte. A longer one lives in a heap buffer taken from the free list of the building
//! thread (`record::text_pool`), so that long strings cost no allocation per record either.
//! The length byte takes only the values 0..=15, and a heap text marks itself with 16: the
//! remaining 239 values are a niche in which [`super::Value`] keeps its tag, so a `Value` is
//! 16 bytes too (half of the 32 it was with a 24-byte `CompactString`), and a [`super::Row`]
//! of 8 inline values 136 bytes instead of 264 (see [`super::layout`]). The layout is plain
//! safe Rust (an enum whose
//! inline variant ends in a 16-valued length); the only `unsafe` is skipping the UTF-8 check
//! of bytes copied from a `&str`.

// A heap text is a `Box<String>` on purpose: a thin 8-byte pointer fits the 16-byte `Text`
// (a `String` is 24 bytes), and the box is recycled with its buffer.
#![allow(clippy::box_collection, clippy::vec_box)]

use super::free_list::Lent;
use super::text_pool::{give, lend, take};
use compact_str::CompactString;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// Set (for good) when the process makes its first heap text; see [`Text::any_heap_made`].
static HEAP_MADE: AtomicBool = AtomicBool::new(false);

/// The length of an inline text. Its 16 values leave 240 others of the byte free, which
/// the enums around a `Text` use for their tags.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[rustfmt::skip]
enum Len {
    L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15,
}

/// [`Len`] by value.
#[rustfmt::skip]
const LENS: [Len; 16] = [
    Len::L0, Len::L1, Len::L2, Len::L3, Len::L4, Len::L5, Len::L6, Len::L7,
    Len::L8, Len::L9, Len::L10, Len::L11, Len::L12, Len::L13, Len::L14, Len::L15,
];

/// An inline text: the bytes (valid UTF-8 up to `len`, zero after it) and the length last.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C)]
struct Inline {
    bytes: [u8; Text::INLINE],
    len: Len,
}

impl Inline {
    const EMPTY: Inline = Inline {
        bytes: [0; Text::INLINE],
        len: Len::L0,
    };

    /// `s` inline; `s` has at most [`Text::INLINE`] bytes. Copies with two overlapping
    /// fixed-size moves instead of a `memcpy` call of variable length.
    #[inline]
    fn new(s: &str) -> Inline {
        let s = s.as_bytes();
        let n = s.len();
        debug_assert!(n <= Text::INLINE);
        let mut out = Inline::EMPTY;
        let b = &mut out.bytes;
        if n >= 8 {
            b[..8].copy_from_slice(&s[..8]);
            b[n - 8..n].copy_from_slice(&s[n - 8..]);
        } else if n >= 4 {
            b[..4].copy_from_slice(&s[..4]);
            b[n - 4..n].copy_from_slice(&s[n - 4..]);
        } else if n > 0 {
            b[0] = s[0];
            b[n / 2] = s[n / 2];
            b[n - 1] = s[n - 1];
        }
        out.len = LENS[n & 15];
        out
    }

    #[inline]
    #[allow(unsafe_code)]
    fn as_str(&self) -> &str {
        let bytes = &self.bytes[..self.len as usize];
        // SAFETY: an `Inline` is only made by `Inline::new` (and copies), which copies the
        // whole of a `&str` into `bytes[..len]`: those bytes are valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }
}

/// Inline bytes, or a heap buffer.
enum Repr {
    Inline(Inline),
    Heap(Box<String>),
}

/// A string value: inline up to 15 bytes, else in a heap buffer recycled per thread.
pub struct Text(Repr);

const _: () = assert!(std::mem::size_of::<Text>() == 16);
const _: () = assert!(std::mem::size_of::<super::Value>() == 16);

impl Text {
    /// Bytes kept inline (no heap buffer).
    pub const INLINE: usize = 15;

    /// `s` as a `Text`; a long one reuses a free buffer of this thread when there is one.
    #[inline]
    pub fn new(s: &str) -> Self {
        if s.len() <= Self::INLINE {
            return Text(Repr::Inline(Inline::new(s)));
        }
        Self::new_long(s)
    }

    #[inline(never)]
    fn new_long(s: &str) -> Self {
        Self::long_in(take(), s)
    }

    /// The long `s` in `buf`, a free (empty) buffer, or a new one.
    #[inline(always)]
    fn long_in(buf: Option<Box<String>>, s: &str) -> Self {
        let mut buf = buf.unwrap_or_else(|| Box::new(String::with_capacity(s.len())));
        buf.push_str(s);
        Self::from_heap(buf)
    }

    /// A text in the heap buffer `buf` (a string longer than [`Text::INLINE`] bytes).
    #[inline]
    pub(super) fn from_heap(buf: Box<String>) -> Self {
        if !HEAP_MADE.load(Relaxed) {
            HEAP_MADE.store(true, Relaxed);
        }
        Text(Repr::Heap(buf))
    }

    /// Whether this process ever made a heap text (the only two constructors of one set it
    /// first). False means every text anywhere is inline: a batch of rows that are not
    /// spilled owns no heap memory (`exchange::spent`). A text made on another thread and
    /// received through a ring, lock or channel reads as made (the flag is set before the
    /// text exists, and the hand-over orders that before the reader's load).
    #[inline]
    pub fn any_heap_made() -> bool {
        HEAP_MADE.load(Relaxed)
    }

    /// Replaces the text with `s`, reusing this value's own buffer when it has room.
    #[inline]
    pub fn set(&mut self, s: &str) {
        match &mut self.0 {
            Repr::Heap(buf) if s.len() <= buf.capacity() => {
                buf.clear();
                buf.push_str(s);
            }
            _ => *self = Text::new(s),
        }
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(i) => i.as_str(),
            Repr::Heap(buf) => buf.as_str(),
        }
    }

    /// Whether the text lives in a heap buffer (one made longer than [`Text::INLINE`] bytes).
    #[inline]
    pub fn is_heap_allocated(&self) -> bool {
        matches!(self.0, Repr::Heap(_))
    }

    /// An inline text's bytes, zero after its length, and the length (`None` for a heap
    /// text): the row key reads them as two words, without a length-dependent copy.
    #[inline]
    pub(crate) fn inline_parts(&self) -> Option<(&[u8; Text::INLINE], usize)> {
        match &self.0 {
            Repr::Inline(i) => Some((&i.bytes, i.len as usize)),
            Repr::Heap(_) => None,
        }
    }

    /// The text as a `CompactString` (a copy).
    pub fn to_compact(&self) -> CompactString {
        CompactString::new(self.as_str())
    }

    /// Runs `visit` with this thread's free list of heap buffers borrowed once ([`TextPool`]):
    /// texts made and released through it take and give buffers as [`Text::new`] and dropping
    /// do, without a free-list look-up each (a batch's texts in one go).
    pub(crate) fn with_pool(visit: impl FnOnce(&mut TextPool<'_, '_>)) {
        lend(|lent| visit(&mut TextPool(lent)));
    }

    /// The heap buffer, the text left empty (inline); `None` for an inline text.
    #[inline]
    fn take_heap(&mut self) -> Option<Box<String>> {
        if !self.is_heap_allocated() {
            return None;
        }
        match std::mem::replace(&mut self.0, Repr::Inline(Inline::EMPTY)) {
            Repr::Heap(buf) => Some(buf),
            Repr::Inline(_) => None,
        }
    }

    /// Gives the heap buffer to this thread's free list (out of line: a row's drop loop
    /// stays a byte compare per value).
    #[inline(never)]
    fn drop_heap(&mut self) {
        if let Some(buf) = self.take_heap() {
            give(buf);
        }
    }
}

/// The free list of [`Text::with_pool`], borrowed for a batch of texts.
pub(crate) struct TextPool<'a, 'b>(&'a mut Lent<'b, Box<String>>);

impl TextPool<'_, '_> {
    /// Leaves `text` inline: a heap text's buffer goes to the free list, the text is emptied.
    #[inline]
    pub(crate) fn release(&mut self, text: &mut Text) {
        if let Some(buf) = text.take_heap() {
            self.0.give(buf);
        }
    }

    /// `s` as a [`Text`] (as [`Text::new`]), a long one in a buffer from the free list.
    #[inline]
    pub(crate) fn text(&mut self, s: &str) -> Text {
        if s.len() <= Text::INLINE {
            return Text(Repr::Inline(Inline::new(s)));
        }
        Text::long_in(self.0.take(), s)
    }
}

impl Default for Text {
    #[inline]
    fn default() -> Self {
        Text(Repr::Inline(Inline::EMPTY))
    }
}

impl Drop for Text {
    #[inline]
    fn drop(&mut self) {
        if self.is_heap_allocated() {
            self.drop_heap();
        }
    }
}

impl Clone for Text {
    #[inline]
    fn clone(&self) -> Self {
        match &self.0 {
            Repr::Inline(i) => Text(Repr::Inline(*i)),
            Repr::Heap(buf) => Text::new(buf.as_str()),
        }
    }

    #[inline]
    fn clone_from(&mut self, source: &Self) {
        self.set(source.as_str());
    }
}

impl PartialEq for Text {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            // Zero-padded: equal strings are equal arrays.
            (Repr::Inline(a), Repr::Inline(b)) => a == b,
            _ => self.as_str() == other.as_str(),
        }
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Text {
    /// As the `str` (as `CompactString` did), so that `Borrow<str>` lookups agree.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}
