//! Keys of rows, built and hashed without intermediate buffers (issue 10, step 2).
//!
//! A `key_by` over a row selects the key fields ([`row_key`]) and hashes them once with the
//! stable key-group hash ([`stable_hash_values`]); the hash travels with the record
//! ([`crate::exchange::Keyed::hash`]) to routing, the key group and the state table probe.
//!
//! The hash is over the key's *canonical bytes* ([`Value::canonical_bytes`]): it is persisted
//! through checkpoints, so its input must not change. What changed is how the bytes are
//! gathered: straight into a fixed stack buffer with one copy per field, instead of through a
//! growable `SmallVec` one slice at a time (which made hashing a 5-byte key ~350
//! instructions, 9 % of a `rolling_sum.toml` run). Keys longer than the buffer take the
//! general path; both give the same value (tested against [`Value::canonical_bytes`]).

use super::{Row, RowKey, Value};
use crate::state::key_group::stable_hash_bytes;

#[path = "key_hash_short.rs"]
pub(crate) mod short;

#[path = "key_plan.rs"]
mod plan;
pub use plan::KeyPlan;

/// Bytes of the stack buffer; longer canonical keys go through a `Vec`.
const INLINE: usize = 128;

/// The key made of the fields of `row` at `key` (indices checked by the pipeline loader),
/// hashed once while it is built ([`RowKey`]).
#[inline]
pub fn row_key(row: &Row, key: &[usize]) -> RowKey {
    RowKey::from_fields(row, key)
}

/// Writes the canonical bytes of `v` at the start of `out`; `None` if they do not fit.
#[inline]
pub(super) fn put(v: &Value, out: &mut [u8]) -> Option<usize> {
    let (tag, payload): (u8, [u8; 8]) = match v {
        Value::Null => {
            *out.first_mut()? = 0;
            return Some(1);
        }
        Value::Str(s) => {
            let bytes = s.as_bytes();
            let len = u32::try_from(bytes.len()).ok()?;
            let total = 5 + bytes.len();
            let dst = out.get_mut(..total)?;
            dst[0] = 3;
            dst[1..5].copy_from_slice(&len.to_le_bytes());
            dst[5..].copy_from_slice(bytes);
            return Some(total);
        }
        Value::I64(x) => (1, x.to_le_bytes()),
        Value::F64(x) => (2, x.to_bits().to_le_bytes()),
        Value::Ts(x) => (4, x.to_le_bytes()),
    };
    let dst = out.get_mut(..9)?;
    dst[0] = tag;
    dst[1..].copy_from_slice(&payload);
    Some(9)
}

/// Longest string whose one-field key is hashed from a 32-byte stack buffer
/// ([`stable_hash_str`]).
const SHORT_STR: usize = 32 - 5;

/// The stable key-group hash of a key made of one string field, from the string's bytes: the
/// hash of its canonical bytes (`3`, the length as u32 little-endian, the bytes), gathered in
/// a small stack buffer without going through [`Value`] (issue 10, step 4).
#[inline]
pub fn stable_hash_str(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    if n > SHORT_STR {
        return stable_hash_long_str(bytes);
    }
    let mut buf = [0u8; 32];
    buf[0] = 3;
    // `n ≤ 27`: the cast is exact.
    buf[1..5].copy_from_slice(&(n as u32).to_le_bytes());
    // Up to 16 bytes without a `memcpy` call (`buf[5..]` has 27 bytes).
    super::put::copy_short(&mut buf[5..], bytes);
    stable_hash_bytes(&buf[..5 + n])
}

/// [`stable_hash_str`] for strings longer than its stack buffer.
#[cold]
fn stable_hash_long_str(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    if 5 + n <= INLINE {
        // Still on the stack: no allocation per record for keys up to 123 bytes.
        let mut buf = [0u8; INLINE];
        buf[0] = 3;
        buf[1..5].copy_from_slice(&(n as u32).to_le_bytes());
        buf[5..5 + n].copy_from_slice(bytes);
        return stable_hash_bytes(&buf[..5 + n]);
    }
    let mut buf = Vec::with_capacity(5 + bytes.len());
    buf.push(3);
    // As `Value::canonical_bytes` writes the length.
    buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    buf.extend_from_slice(bytes);
    stable_hash_bytes(&buf)
}

/// The stable key-group hash of the canonical bytes of `values`, in order.
#[inline]
pub fn stable_hash_values(values: &[Value]) -> u64 {
    if let [Value::Str(s)] = values {
        return stable_hash_str(s.as_bytes());
    }
    let mut buf = [0u8; INLINE];
    let mut n = 0;
    for v in values {
        match put(v, &mut buf[n..]) {
            Some(k) => n += k,
            None => return stable_hash_long(values),
        }
    }
    stable_hash_bytes(&buf[..n])
}

/// [`stable_hash_values`] for keys whose canonical bytes exceed the stack buffer.
#[cold]
fn stable_hash_long(values: &[Value]) -> u64 {
    let mut buf = Vec::new();
    for v in values {
        v.canonical_bytes(&mut buf);
    }
    stable_hash_bytes(&buf)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition: xxh3 of the concatenated canonical bytes.
    pub(crate) fn reference(values: &[Value]) -> u64 {
        let mut buf = Vec::new();
        for v in values {
            v.canonical_bytes(&mut buf);
        }
        stable_hash_bytes(&buf)
    }

    /// Any value, strings of 0–80 characters.
    pub(crate) fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::I64),
            any::<f64>().prop_map(Value::F64),
            any::<i64>().prop_map(Value::Ts),
            ".{0,80}".prop_map(|s: String| Value::Str(s.as_str().into())),
        ]
    }

    proptest! {
        #[test]
        fn equals_the_canonical_definition(values in proptest::collection::vec(value(), 0..4)) {
            prop_assert_eq!(stable_hash_values(&values), reference(&values));
        }
    }

    proptest! {
        #[test]
        fn one_string_from_its_bytes_equals_the_definition(s in ".{0,60}") {
            let v = [Value::Str(s.as_str().into())];
            prop_assert_eq!(stable_hash_str(s.as_bytes()), reference(&v));
        }
    }

    #[test]
    fn long_keys_take_the_general_path_with_the_same_hash() {
        let long = Value::Str("x".repeat(200).as_str().into());
        let edge = Value::Str("y".repeat(INLINE - 5).as_str().into());
        for values in [
            vec![long.clone()],
            vec![edge.clone()],
            vec![Value::I64(1), edge],
        ] {
            assert_eq!(stable_hash_values(&values), reference(&values));
        }
    }

    #[test]
    fn a_known_key_keeps_its_hash() {
        // Pinned: key groups of existing checkpoints depend on this value.
        let key = [Value::Str("7535".into())];
        let mut canonical = vec![3u8, 4, 0, 0, 0];
        canonical.extend_from_slice(b"7535");
        assert_eq!(stable_hash_values(&key), stable_hash_bytes(&canonical));
    }

    #[test]
    fn row_key_selects_fields_in_key_order() {
        let row: Row = [Value::I64(1), Value::Str("a".into()), Value::Ts(3)]
            .into_iter()
            .collect();
        let key = row_key(&row, &[2, 1]);
        assert_eq!(
            key.values().collect::<Vec<_>>(),
            [Value::Ts(3), Value::Str("a".into())]
        );
    }
}
