//! What a data message carries: a batch of records, and for keyed edges the records with
//! their keys and hashes in parallel vectors.
//!
//! A keyed edge's batch is a [`KeyedBatch`]: the records in one vector, their keys and stable
//! hashes in two others. Keeping the records apart from their keys lets a one-worker edge move
//! the source's whole batch of records into the ring without touching a record (a `Vec` swap),
//! adding only each record's key and hash; the stage reads the hashes as a compact array to
//! prefetch state and hands each record to the operator in its slot.

/// A batch buffer an [`super::Outbox`] fills and a receiver hands back.
pub trait Batch: Send {
    /// An empty batch with room for `n` records.
    fn with_capacity(n: usize) -> Self;
    /// Number of records.
    fn len(&self) -> usize;
    /// Whether there is no record.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Drops every record, keeping the capacity.
    fn clear(&mut self);
}

impl<T: Send> Batch for Vec<T> {
    #[inline]
    fn with_capacity(n: usize) -> Self {
        Vec::with_capacity(n)
    }
    #[inline]
    fn len(&self) -> usize {
        Vec::len(self)
    }
    #[inline]
    fn clear(&mut self) {
        Vec::clear(self)
    }
}

/// Records with their keys and the keys' stable hashes: element `i` of each vector belongs to
/// record `i` (the three always have the same length).
#[derive(Debug)]
pub struct KeyedBatch<K, I> {
    /// Stable hash of each key ([`crate::state::StableKey`]); [`super::LOCAL`] for records
    /// of unkeyed streams.
    pub(super) hashes: Vec<u64>,
    /// The keys.
    pub(super) keys: Vec<K>,
    /// The records.
    pub(super) values: Vec<I>,
}

impl<K, I> KeyedBatch<K, I> {
    /// Appends one record with its key and hash.
    #[inline]
    pub fn push(&mut self, hash: u64, key: K, value: I) {
        self.hashes.push(hash);
        self.keys.push(key);
        self.values.push(value);
    }

    /// Appends every record of `records` (leaving it empty), with the keys and hashes
    /// `keys_of` appends for them (one call for the batch), and `move_values` to move the
    /// records themselves (which may swap the vectors when this batch holds no record yet).
    #[inline]
    pub fn append_keyed<X>(
        &mut self,
        records: &mut Vec<X>,
        keys_of: impl FnOnce(&[X], &mut Vec<u64>, &mut Vec<K>),
        move_values: impl FnOnce(&mut Vec<X>, &mut Vec<I>),
    ) {
        keys_of(records, &mut self.hashes, &mut self.keys);
        move_values(records, &mut self.values);
        debug_assert_eq!(self.values.len(), self.keys.len());
        debug_assert_eq!(self.values.len(), self.hashes.len());
        debug_assert!(records.is_empty());
    }

    /// The hashes, keys and records, as slices of equal length.
    #[inline]
    pub fn parts_mut(&mut self) -> (&[u64], &[K], &mut [I]) {
        let n = self.values.len();
        (&self.hashes[..n], &self.keys[..n], &mut self.values[..n])
    }

    /// The records (in order).
    pub fn values(&self) -> &[I] {
        &self.values
    }
}

impl<K: Send + 'static, I: Send + 'static> Batch for KeyedBatch<K, I> {
    fn with_capacity(n: usize) -> Self {
        KeyedBatch {
            hashes: Vec::with_capacity(n),
            keys: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
        }
    }
    #[inline]
    fn len(&self) -> usize {
        self.values.len()
    }
    #[inline]
    fn clear(&mut self) {
        self.hashes.clear();
        super::spent::clear_spent(&mut self.keys);
        super::spent::clear_spent(&mut self.values);
    }
}

/// Moves the records of `src` to the end of `dst` unchanged: when `dst` is empty the two
/// vectors are swapped (no record is copied), else `src` is appended (one bulk copy).
#[inline]
pub fn move_whole<T>(src: &mut Vec<T>, dst: &mut Vec<T>) {
    if dst.is_empty() {
        std::mem::swap(src, dst);
    } else {
        dst.append(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_keyed_keeps_records_keys_and_hashes_together() {
        let mut b = KeyedBatch::<u32, String>::with_capacity(2);
        b.push(7, 70, "x".into());
        let mut src: Vec<String> = vec!["a".into(), "bb".into(), "ccc".into()];
        b.append_keyed(
            &mut src,
            |rs, h, k| {
                h.extend(rs.iter().map(|s| s.len() as u64));
                k.extend(rs.iter().map(|s| s.len() as u32 * 10));
            },
            move_whole,
        );
        assert!(src.is_empty());
        let (h, k, v) = b.parts_mut();
        assert_eq!(h, &[7, 1, 2, 3]);
        assert_eq!(k, &[70, 10, 20, 30]);
        assert_eq!(v, &["x", "a", "bb", "ccc"]);
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn move_whole_swaps_into_an_empty_batch_and_appends_otherwise() {
        let mut src = Vec::with_capacity(8);
        src.extend([1, 2, 3]);
        let ptr = src.as_ptr();
        let mut dst = Vec::new();
        move_whole(&mut src, &mut dst);
        assert_eq!(dst, [1, 2, 3]);
        assert_eq!(dst.as_ptr(), ptr, "moved whole, not copied");
        assert!(src.is_empty());
        src.extend([4, 5]);
        move_whole(&mut src, &mut dst);
        assert_eq!(dst, [1, 2, 3, 4, 5]);
        assert!(src.is_empty());
    }
}
