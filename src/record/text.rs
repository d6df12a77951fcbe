//! [`Text`]: the string of a [`super::Value`], whose heap buffer is recycled per thread.
//!
//! A string of up to 24 bytes lives inline (a `CompactString`), as before. A longer one needs
//! a heap buffer, and on the row path that used to mean an allocation per record per string
//! (decoder, key_by's key, an operator's output). Instead, a heap buffer whose `Text` is
//! dropped goes to a small free list of the dropping thread, and the next long string built
//! on that thread (decoded, cloned) takes a buffer from there.
//!
//! Steady state on the row path allocates nothing because every buffer goes back to the
//! thread that takes buffers for the same kind of record: a keyed stage processes its input
//! rows in place and hands the batch back to the sending worker, whose decoder and `key_by`
//! made those strings (`runtime::task::stage`); an operator builds its outputs from
//! clones made on its own thread, which the sink after it drops there. The free list is
//! bounded (count and bytes), so a burst does not keep memory after it.

use compact_str::CompactString;
use std::cell::RefCell;

/// Free heap buffers kept per thread at most.
const MAX_BUFFERS: usize = 64 * 1024;
/// Bytes of free heap buffers kept per thread at most.
const MAX_BYTES: usize = 16 << 20;
/// Buffers larger than this are freed, not kept.
const MAX_BUFFER: usize = 64 << 10;

/// The free heap buffers of one thread (empty strings with capacity) and their total bytes.
/// Kept as `String`s: a buffer moves between the two types without a copy
/// (`CompactString::into_string`, `from_string_buffer`), and `String::push_str` into a
/// buffer with room is cheaper than `CompactString`'s.
struct Pool {
    free: Vec<String>,
    bytes: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const { RefCell::new(Pool { free: Vec::new(), bytes: 0 }) };
}

/// Returns a heap buffer to this thread's free list (or frees it when the list is full).
#[inline]
fn give(s: CompactString) {
    let mut s = s.into_string();
    let cap = s.capacity();
    if cap > MAX_BUFFER {
        return;
    }
    s.clear();
    // During thread exit the pool may be gone: the buffer is then simply freed.
    let _ = POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.free.len() < MAX_BUFFERS && p.bytes + cap <= MAX_BYTES {
                p.bytes += cap;
                p.free.push(s);
            }
        }
    });
}

/// A free heap buffer of this thread, if any.
#[inline]
fn take() -> Option<String> {
    POOL.try_with(|p| {
        let mut p = p.try_borrow_mut().ok()?;
        let s = p.free.pop()?;
        p.bytes -= s.capacity();
        Some(s)
    })
    .ok()
    .flatten()
}

/// A string value: inline up to 24 bytes, else in a heap buffer recycled per thread.
#[derive(Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(CompactString);

impl Text {
    /// Bytes kept inline (no heap buffer).
    pub const INLINE: usize = std::mem::size_of::<CompactString>();

    /// `s` as a `Text`; a long one reuses a free buffer of this thread when there is one.
    #[inline]
    pub fn new(s: &str) -> Self {
        if s.len() <= Self::INLINE {
            return Text(CompactString::new(s));
        }
        Self::new_long(s)
    }

    #[inline]
    fn new_long(s: &str) -> Self {
        match take() {
            Some(mut buf) => {
                buf.push_str(s);
                Text(CompactString::from_string_buffer(buf))
            }
            None => Text(CompactString::new(s)),
        }
    }

    /// Replaces the text with `s`, reusing this value's own buffer when it has room.
    #[inline]
    pub fn set(&mut self, s: &str) {
        if s.len() <= self.0.capacity() {
            self.0.clear();
            self.0.push_str(s);
        } else {
            *self = Text::new(s);
        }
    }

    /// The string.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the text lives in a heap buffer (longer than [`Text::INLINE`] bytes).
    #[inline]
    pub fn is_heap_allocated(&self) -> bool {
        self.0.is_heap_allocated()
    }

    /// The text as a `CompactString` (a copy).
    pub fn to_compact(&self) -> CompactString {
        CompactString::new(self.as_str())
    }
}

impl Drop for Text {
    #[inline]
    fn drop(&mut self) {
        if self.0.is_heap_allocated() {
            give(std::mem::take(&mut self.0));
        }
    }
}

impl Clone for Text {
    #[inline]
    fn clone(&self) -> Self {
        if self.0.is_heap_allocated() {
            Text::new_long(self.as_str())
        } else {
            // Inline, or a `&'static str` (`CompactString::const_new`): a plain copy.
            Text(self.0.clone())
        }
    }

    #[inline]
    fn clone_from(&mut self, source: &Self) {
        self.set(source.as_str());
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    #[inline]
    fn from(s: &str) -> Self {
        Text::new(s)
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(CompactString::from(s))
    }
}

impl From<CompactString> for Text {
    #[inline]
    fn from(s: CompactString) -> Self {
        Text(s)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pooled() -> usize {
        POOL.with(|p| p.borrow().free.len())
    }

    #[test]
    fn short_texts_stay_inline_and_long_ones_reuse_a_dropped_buffer() {
        let short = Text::new("abc");
        assert!(!short.is_heap_allocated());
        let long = "x".repeat(40);
        let a = Text::new(&long);
        assert!(a.is_heap_allocated());
        let before = pooled();
        drop(a);
        assert_eq!(pooled(), before + 1);
        let b = Text::new(&"y".repeat(33));
        assert_eq!(pooled(), before);
        assert_eq!(b.as_str(), "y".repeat(33));
        let c = b.clone();
        assert_eq!(c, b);
        assert_eq!(&*c, "y".repeat(33));
    }

    #[test]
    fn set_reuses_the_own_buffer_and_grows_when_needed() {
        let mut t = Text::new(&"a".repeat(30));
        t.set("bc");
        assert_eq!(t.as_str(), "bc");
        assert!(t.is_heap_allocated());
        t.set(&"d".repeat(200));
        assert_eq!(t.as_str(), "d".repeat(200));
        let mut u = Text::new("z");
        u.clone_from(&t);
        assert_eq!(u, t);
    }

    #[test]
    fn huge_buffers_are_freed_not_kept() {
        let before = pooled();
        drop(Text::new(&"h".repeat(MAX_BUFFER + 1)));
        assert_eq!(pooled(), before);
    }

    #[test]
    fn order_and_equality_follow_the_string() {
        let long = |c: &str| Text::new(&c.repeat(30));
        assert!(long("a") < long("b"));
        assert!(Text::new("a") < long("a"));
        assert_eq!(Text::new("k"), "k");
    }
}
