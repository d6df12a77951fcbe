//! A small, stable, validated binary codec for state keys and values.
//!
//! Checkpoint sections are written with this codec (little-endian, length-prefixed). Decoding
//! is bounds-checked and never trusts the input. Changing an encoding changes the checkpoint
//! format: bump the checkpoint `FORMAT_VERSION`.

/// A decoding failure.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    /// The input ended early.
    #[error("truncated state bytes")]
    Truncated,
    /// The input holds an invalid value.
    #[error("invalid state bytes: {0}")]
    Invalid(&'static str),
}

/// A type with a stable binary encoding.
pub trait StateCodec: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Decodes one value from the front of `input`, advancing it.
    ///
    /// # Errors
    /// [`CodecError`] on truncated or invalid bytes.
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError>;
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], CodecError> {
    if input.len() < n {
        return Err(CodecError::Truncated);
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

macro_rules! codec_num {
    ($($t:ty),*) => {$(
        impl StateCodec for $t {
            #[inline]
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            #[inline]
            fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
                let b = take(input, std::mem::size_of::<$t>())?;
                Ok(<$t>::from_le_bytes(b.try_into().map_err(|_| CodecError::Truncated)?))
            }
        }
    )*};
}
codec_num!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl StateCodec for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        match take(input, 1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(CodecError::Invalid("bool")),
        }
    }
}

impl StateCodec for String {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u32).encode(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let n = u32::decode(input)? as usize;
        let b = take(input, n)?;
        String::from_utf8(b.to_vec()).map_err(|_| CodecError::Invalid("utf-8"))
    }
}

impl<T: StateCodec> StateCodec for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u32).encode(out);
        for v in self {
            v.encode(out);
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let n = u32::decode(input)? as usize;
        // Do not trust n for the allocation: each element takes at least one byte or more.
        let mut v = Vec::with_capacity(n.min(input.len()));
        for _ in 0..n {
            v.push(T::decode(input)?);
        }
        Ok(v)
    }
}

impl<T: StateCodec> StateCodec for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        match take(input, 1)?[0] {
            0 => Ok(None),
            1 => Ok(Some(T::decode(input)?)),
            _ => Err(CodecError::Invalid("option tag")),
        }
    }
}

impl<A: StateCodec, B: StateCodec> StateCodec for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok((A::decode(input)?, B::decode(input)?))
    }
}

impl<A: StateCodec, B: StateCodec, C: StateCodec> StateCodec for (A, B, C) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
        self.2.encode(out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok((A::decode(input)?, B::decode(input)?, C::decode(input)?))
    }
}

impl StateCodec for () {
    fn encode(&self, _out: &mut Vec<u8>) {}
    fn decode(_input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(())
    }
}

/// Encodes a map as `len u32` then `len` pairs (in the map's iteration order).
fn encode_map<'a, K: StateCodec + 'a, V: StateCodec + 'a>(
    len: usize,
    pairs: impl Iterator<Item = (&'a K, &'a V)>,
    out: &mut Vec<u8>,
) {
    (len as u32).encode(out);
    for (k, v) in pairs {
        k.encode(out);
        v.encode(out);
    }
}

/// Decodes `len u32` pairs through `insert`, which returns whether the key was new.
fn decode_map<K: StateCodec, V: StateCodec>(
    input: &mut &[u8],
    mut insert: impl FnMut(K, V) -> bool,
) -> Result<(), CodecError> {
    let n = u32::decode(input)?;
    for _ in 0..n {
        let k = K::decode(input)?;
        let v = V::decode(input)?;
        if !insert(k, v) {
            return Err(CodecError::Invalid("duplicate map key"));
        }
    }
    Ok(())
}

impl<K, V, S> StateCodec for hashbrown::HashMap<K, V, S>
where
    K: StateCodec + std::hash::Hash + Eq,
    V: StateCodec,
    S: std::hash::BuildHasher + Default,
{
    fn encode(&self, out: &mut Vec<u8>) {
        encode_map(self.len(), self.iter(), out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let mut m = Self::default();
        decode_map(input, |k, v| m.insert(k, v).is_none())?;
        Ok(m)
    }
}

impl<K, V> StateCodec for ahash::AHashMap<K, V>
where
    K: StateCodec + std::hash::Hash + Eq,
    V: StateCodec,
{
    fn encode(&self, out: &mut Vec<u8>) {
        encode_map(self.len(), self.iter(), out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let mut m = Self::default();
        decode_map(input, |k, v| m.insert(k, v).is_none())?;
        Ok(m)
    }
}

impl<K: StateCodec + Ord, V: StateCodec> StateCodec for std::collections::BTreeMap<K, V> {
    fn encode(&self, out: &mut Vec<u8>) {
        encode_map(self.len(), self.iter(), out);
    }
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let mut m = Self::new();
        decode_map(input, |k, v| m.insert(k, v).is_none())?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip<T: StateCodec + PartialEq + std::fmt::Debug>(v: T) {
        let mut out = Vec::new();
        v.encode(&mut out);
        let mut input = out.as_slice();
        assert_eq!(T::decode(&mut input).unwrap(), v);
        assert!(input.is_empty());
        // Every strict prefix fails cleanly.
        for cut in 0..out.len() {
            let mut p = &out[..cut];
            assert!(T::decode(&mut p).is_err(), "prefix {cut} of {v:?} decoded");
        }
    }

    #[test]
    fn maps_roundtrip_and_reject_truncation() {
        let mut m = ahash::AHashMap::new();
        m.insert(1u64, "one".to_string());
        m.insert(2, String::new());
        roundtrip(m);
        let b: std::collections::BTreeMap<i32, Vec<u8>> = [(1, vec![1, 2]), (-5, vec![])].into();
        roundtrip(b);
        let mut h: hashbrown::HashMap<u8, i64, ahash::RandomState> = Default::default();
        h.insert(7, -7);
        roundtrip(h);
    }

    #[test]
    fn duplicate_map_keys_are_invalid() {
        let mut out = Vec::new();
        2u32.encode(&mut out);
        for _ in 0..2 {
            1u8.encode(&mut out);
            9u8.encode(&mut out);
        }
        let r = std::collections::BTreeMap::<u8, u8>::decode(&mut out.as_slice());
        assert_eq!(r, Err(CodecError::Invalid("duplicate map key")));
    }

    #[test]
    fn invalid_tags_are_rejected() {
        assert_eq!(
            bool::decode(&mut &[2u8][..]),
            Err(CodecError::Invalid("bool"))
        );
        assert!(Option::<u8>::decode(&mut &[3u8, 0][..]).is_err());
        assert!(String::decode(&mut &[1u8, 0, 0, 0, 0xff][..]).is_err());
    }
}
