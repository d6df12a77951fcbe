//! How the records of an upstream stream enter a stage's ring: each record's key and hash,
//! and the record as the stage's input type.

use super::batch::KeyedBatch;

/// The conversion of an exchange edge from records `X` to a stage's input `I` keyed by `K`.
pub trait Route<X, K, I>: Clone + Send + Sync + 'static {
    /// Whether every record stays on its worker (an unkeyed stream: its hashes are all
    /// [`super::LOCAL`]); when false, every record goes to the worker of its hash's key group.
    const LOCAL_ONLY: bool = false;

    /// The record's stable key hash ([`super::LOCAL`]: stays on its worker) and key.
    fn key(&self, record: &X) -> (u64, K);

    /// Appends the stable key hash and key of every record of `records` to `hashes` and
    /// `keys` (routes with a user's key function override this with one call per batch).
    #[inline]
    fn keys_into(&self, records: &[X], hashes: &mut Vec<u64>, keys: &mut Vec<K>) {
        hashes.reserve(records.len());
        keys.reserve(records.len());
        for r in records {
            let (hash, key) = self.key(r);
            hashes.push(hash);
            keys.push(key);
        }
    }

    /// The record as the stage's input.
    fn value(&self, record: X) -> I;

    /// Moves every record of `src` (leaving it empty) to the end of `dst`, converted with
    /// [`Route::value`]. Routes whose input is their record unchanged override this with
    /// [`super::batch::move_whole`]: the batch moves without copying a record.
    #[inline]
    fn move_all(&self, src: &mut Vec<X>, dst: &mut Vec<I>) {
        dst.extend(src.drain(..).map(|r| self.value(r)));
    }

    /// Appends every record of `src` (leaving it empty) with its key and hash to `dst`.
    #[inline]
    fn append(&self, src: &mut Vec<X>, dst: &mut KeyedBatch<K, I>) {
        dst.append_keyed(
            src,
            |r, h, k| self.keys_into(r, h, k),
            |s, d| self.move_all(s, d),
        );
    }
}
