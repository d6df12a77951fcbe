//! How the records of an upstream stream enter a stage's ring: each record's key and hash,
//! and the record as the stage's input type.

use super::batch::KeyedBatch;

/// The conversion of an exchange edge from records `X` to a stage's input `I` keyed by `K`.
pub trait Route<X, K, I>: Clone + Send + Sync + 'static {
    /// The record's stable key hash ([`super::LOCAL`]: stays on its worker) and key.
    fn key(&self, record: &X) -> (u64, K);

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
        dst.append_with(src, |r| self.key(r), |s, d| self.move_all(s, d));
    }
}
