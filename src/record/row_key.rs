//! [`RowKey`]: the key of a keyed row, kept as its canonical bytes with its stable hash
//! (issue 10, step 5).
//!
//! The key-group hash is defined over the key's *canonical bytes* (each value's tag and
//! little-endian payload, [`Value::canonical_bytes`]), so the key is stored as exactly those
//! bytes, hashed once while they are written:
//!
//! - building it from a row is one copy of the key field's bytes into a zeroed inline buffer
//!   and one xxh3 (no `Value` clone, no second pass over the key to hash it); a key of one
//!   string of up to 15 bytes or one number is put together as three words in registers and
//!   hashed from them (`record::row_key_short`, issue 10, step 6);
//! - [`StableKey::stable_hash`] returns the stored hash (the exchange, the state table and
//!   restore all ask for it);
//! - equality is the hash, then a fixed-size compare of the inline buffer (bytes after the
//!   key are zero, so equal keys have equal buffers): no `Value`-by-`Value` compare, no
//!   `memcmp` call on a state table probe.
//!
//! Keys whose canonical bytes exceed [`INLINE`] bytes (a string of more than 41 bytes) go to
//! a heap buffer recycled per thread (`record::key_buf`). The values are decoded back from
//! the bytes when an operator outputs the key
//! ([`RowKey::append_to`]). The checkpoint encoding is unchanged (`record::state_codec`): it
//! is the field count and the canonical bytes.

use super::key_buf::KeyBuf;
use super::key_hash::put;
use super::put::copy_short;
use super::{Row, Text, Value};
use crate::state::key_group::stable_hash_bytes;
use crate::state::StableKey;

/// Canonical bytes kept inline: a 41-byte string key, two i64 fields, or a 32-byte string and
/// an i64 fit; the key is then 56 bytes (was 72 as a `SmallVec` of two `Value`s).
pub const INLINE: usize = 46;

/// The canonical bytes of a key. Invariant: a key whose bytes fit in [`INLINE`] is always
/// `Inline`, with zeros after its `len` bytes (so equal keys have equal representations).
#[derive(Clone)]
enum Bytes {
    /// Up to [`INLINE`] bytes.
    Inline { len: u8, buf: [u8; INLINE] },
    /// More than [`INLINE`] bytes.
    Heap(KeyBuf),
}

/// The key of a keyed row: the values of its key fields, in order, held as their canonical
/// bytes with their stable hash (see the module docs).
///
/// ```
/// use weir::record::{RowKey, Value};
/// use weir::state::StableKey;
///
/// let key = RowKey::from_values(&[Value::Str("7535".into()), Value::I64(3)]);
/// assert_eq!(key.values().collect::<Vec<_>>(), [Value::Str("7535".into()), Value::I64(3)]);
/// assert_eq!(key, RowKey::from_values(&[Value::Str("7535".into()), Value::I64(3)]));
/// assert_eq!(key.stable_hash(), weir::record::key_hash::stable_hash_values(
///     &[Value::Str("7535".into()), Value::I64(3)]));
/// ```
#[derive(Clone)]
pub struct RowKey {
    /// The stable hash of `bytes`.
    hash: u64,
    bytes: Bytes,
}

impl RowKey {
    /// The key made of `values`, in order.
    pub fn from_values(values: &[Value]) -> Self {
        Self::from_iter_values(values.iter())
    }

    /// The key made of the fields of `row` at `fields`, in order (`Null` for a missing one).
    #[inline]
    pub fn from_fields(row: &[Value], fields: &[usize]) -> Self {
        const NULL: &Value = &Value::Null;
        if let [i] = fields {
            return Self::from_value(row.get(*i).unwrap_or(NULL));
        }
        Self::from_iter_values(fields.iter().map(|&i| row.get(i).unwrap_or(NULL)))
    }

    /// The key made of one value.
    #[inline(always)]
    pub fn from_value(v: &Value) -> Self {
        // One string of up to 15 bytes (the common key): built and hashed as words, in
        // registers (`record::row_key_short`); one compare of the value's last byte.
        if let Value::Str(s) = v {
            if let Some((bytes, n)) = s.inline_parts() {
                return Self::from_inline_str(bytes, n);
            }
        }
        Self::from_other_value(v)
    }

    /// [`Self::from_value`] of any value but a short string (out of line, so that the short
    /// string's path needs no stack frame).
    #[inline(never)]
    fn from_other_value(v: &Value) -> Self {
        match v {
            Value::Str(s) => Self::from_str_value(s.as_bytes()),
            Value::I64(x) => Self::from_tagged_word(1, *x as u64),
            Value::F64(x) => Self::from_tagged_word(2, x.to_bits()),
            Value::Ts(x) => Self::from_tagged_word(4, *x as u64),
            Value::Null => Self::from_values(std::slice::from_ref(v)),
        }
    }

    /// The key made of one string value, from the string's bytes: `3`, the length as u32
    /// little-endian, the bytes.
    #[inline]
    fn from_str_value(s: &[u8]) -> Self {
        let n = s.len();
        if n > INLINE - 5 {
            return Self::heap(long_str_bytes(s));
        }
        let mut buf = [0u8; INLINE];
        buf[0] = 3;
        // `n ≤ 41`: the casts are exact.
        buf[1..5].copy_from_slice(&(n as u32).to_le_bytes());
        // Up to 16 bytes without a `memcpy` call.
        copy_short(&mut buf[5..], s);
        RowKey {
            hash: stable_hash_bytes(&buf[..5 + n]),
            bytes: Bytes::Inline {
                len: (5 + n) as u8,
                buf,
            },
        }
    }

    /// The key of `values`: written inline while they fit, else on the heap.
    fn from_iter_values<'a>(values: impl Iterator<Item = &'a Value> + Clone) -> Self {
        let mut buf = [0u8; INLINE];
        let mut n = 0;
        for v in values.clone() {
            match put(v, &mut buf[n..]) {
                Some(k) => n += k,
                None => {
                    let mut heap = KeyBuf::new();
                    for v in values {
                        v.canonical_bytes(heap.vec());
                    }
                    return Self::heap(heap);
                }
            }
        }
        Self::inline(buf, n)
    }

    /// An inline key of the first `len` bytes of `buf` (the rest zero, `len ≤ INLINE`).
    #[inline]
    fn inline(buf: [u8; INLINE], len: usize) -> Self {
        RowKey {
            hash: stable_hash_bytes(&buf[..len]),
            // `len ≤ INLINE < 256`.
            bytes: Bytes::Inline {
                len: len as u8,
                buf,
            },
        }
    }

    /// The key of canonical bytes known to be well-formed (written by [`Value::canonical_bytes`]
    /// or checked by the state codec).
    pub(crate) fn from_canonical(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..bytes.len()].copy_from_slice(bytes);
            return Self::inline(buf, bytes.len());
        }
        Self::heap(KeyBuf::from_slice(bytes))
    }

    /// The key of well-formed canonical bytes longer than [`INLINE`] (in a buffer recycled
    /// per thread, `record::key_buf`).
    #[cold]
    fn heap(bytes: KeyBuf) -> Self {
        if bytes.as_slice().len() <= INLINE {
            return Self::from_canonical(bytes.as_slice());
        }
        RowKey {
            hash: stable_hash_bytes(bytes.as_slice()),
            bytes: Bytes::Heap(bytes),
        }
    }

    /// The key's canonical bytes (the input of its stable hash).
    #[inline]
    pub fn canonical_bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Inline { len, buf } => &buf[..*len as usize],
            Bytes::Heap(b) => b.as_slice(),
        }
    }

    /// Whether the key holds its bytes on the heap (more than [`INLINE`] canonical bytes):
    /// dropping a key for which this is false frees nothing.
    #[inline]
    pub fn is_heap_allocated(&self) -> bool {
        matches!(self.bytes, Bytes::Heap(_))
    }

    /// The key's values, in order.
    pub fn values(&self) -> Values<'_> {
        Values {
            rest: self.canonical_bytes(),
        }
    }

    /// Appends the key's values to `row` (operators that output the key).
    #[inline]
    pub fn append_to(&self, row: &mut Row) {
        // One inline string (the common key): its bytes are at 5.., without a decode loop.
        if let Bytes::Inline { len, buf } = &self.bytes {
            let n = *len as usize;
            if buf[0] == 3
                && n >= 5
                && u32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize == n - 5
            {
                row.push(Value::Str(Text::new(key_str(&buf[5..n]))));
                return;
            }
        }
        let mut rest = self.canonical_bytes();
        while let Some(v) = next_value(&mut rest) {
            row.push(v);
        }
    }
}

/// The string of a string value's canonical bytes (the bytes after its tag and length).
///
/// Every constructor writes those bytes from a `&str` ([`RowKey::from_values`] and friends)
/// or checks them first (the state codec, `record::state_codec`), so they are UTF-8 and the
/// check is skipped here: it cost ~70 instructions per output row (most of
/// `std::str::from_utf8`'s cost on a short string).
#[allow(unsafe_code)]
#[inline]
fn key_str(bytes: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: `bytes` are a string value's canonical bytes inside a `RowKey`, and every
    // `RowKey` constructor takes them from a `&str` or checks them as UTF-8 (see above).
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// The canonical bytes of a one-string key too long for the inline buffer.
#[cold]
fn long_str_bytes(s: &[u8]) -> KeyBuf {
    let mut b = KeyBuf::new();
    let v = b.vec();
    v.push(3);
    // As `Value::canonical_bytes` writes the length.
    v.extend_from_slice(&(s.len() as u32).to_le_bytes());
    v.extend_from_slice(s);
    b
}

/// Decodes the next value of well-formed canonical bytes (`None` at the end, and on bytes
/// that are not well-formed, which no constructor makes).
#[inline]
fn next_value(rest: &mut &[u8]) -> Option<Value> {
    let (&tag, tail) = rest.split_first()?;
    if tag == 0 {
        *rest = tail;
        return Some(Value::Null);
    }
    if tag == 3 {
        let len: [u8; 4] = tail.get(..4)?.try_into().ok()?;
        let n = u32::from_le_bytes(len) as usize;
        let s = tail.get(4..4 + n)?;
        *rest = &tail[4 + n..];
        return Some(Value::Str(Text::new(key_str(s))));
    }
    let word: [u8; 8] = tail.get(..8)?.try_into().ok()?;
    *rest = &tail[8..];
    let x = i64::from_le_bytes(word);
    match tag {
        1 => Some(Value::I64(x)),
        2 => Some(Value::F64(f64::from_bits(x as u64))),
        4 => Some(Value::Ts(x)),
        _ => None,
    }
}

/// The values of a [`RowKey`], decoded from its canonical bytes.
#[derive(Clone, Debug)]
pub struct Values<'a> {
    rest: &'a [u8],
}

impl Iterator for Values<'_> {
    type Item = Value;

    #[inline]
    fn next(&mut self) -> Option<Value> {
        next_value(&mut self.rest)
    }
}

impl Default for RowKey {
    /// The key of no values.
    fn default() -> Self {
        Self::inline([0u8; INLINE], 0)
    }
}

impl PartialEq for RowKey {
    /// Equal canonical bytes (so floats compare by bit pattern, as they hash).
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && match (&self.bytes, &other.bytes) {
                // Zero-padded: one fixed-size compare, no length-dependent `memcmp` call.
                (Bytes::Inline { len: a, buf: x }, Bytes::Inline { len: b, buf: y }) => {
                    a == b && x == y
                }
                (Bytes::Heap(x), Bytes::Heap(y)) => x == y,
                _ => false,
            }
    }
}

impl Eq for RowKey {}

impl std::hash::Hash for RowKey {
    /// The stable hash (a function of the canonical bytes, which equality compares).
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl std::fmt::Debug for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RowKey")
            .field(&self.values().collect::<Vec<_>>())
            .finish()
    }
}

impl StableKey for RowKey {
    /// Computed once, when the key was built.
    #[inline]
    fn stable_hash(&self) -> u64 {
        self.hash
    }
}

#[path = "row_key_short.rs"]
mod short;

#[cfg(test)]
#[path = "row_key_short_tests.rs"]
mod short_tests;

#[cfg(test)]
#[path = "row_key_tests.rs"]
mod tests;
