//! The [`Route`]s of the typed API's exchange edges: `key_by` into a keyed stage, an unkeyed
//! stream into a union, and each side of a two-input stage.

use super::co::Either;
use crate::exchange::{batch::move_whole, Route, LOCAL};
use crate::state::StableKey;
use std::marker::PhantomData;
use std::sync::Arc;

/// The key function of a batch: appends the stable hash and key of each record of a batch.
pub(crate) type BatchKeyFn<K, T> = dyn Fn(&[T], &mut Vec<u64>, &mut Vec<K>) + Send + Sync;

/// `key_by`: the record's key from the user's function, hashed once here; the record itself
/// is the stage's input, unchanged (a one-worker batch moves whole).
///
/// The user's function is kept twice: for one record, and inside a loop over a whole batch
/// (monomorphised where the function's type is known, in [`KeyBy::new`]), so that keying a
/// batch costs one indirect call, not one per record.
pub(crate) struct KeyBy<K, T> {
    key_of: Arc<dyn Fn(&T) -> K + Send + Sync>,
    keys_of: Arc<BatchKeyFn<K, T>>,
}

impl<K: StableKey + 'static, T: 'static> KeyBy<K, T> {
    /// The route of the key function `f`.
    pub fn new<F>(f: F) -> Self
    where
        F: Fn(&T) -> K + Send + Sync + Clone + 'static,
    {
        let one = f.clone();
        KeyBy {
            key_of: Arc::new(one),
            keys_of: Arc::new(
                move |records: &[T], hashes: &mut Vec<u64>, keys: &mut Vec<K>| {
                    // Two passes over exact-size iterators: one capacity check per batch, not
                    // two per record (the hash of a row key is a field of the key).
                    let start = keys.len();
                    keys.extend(records.iter().map(&f));
                    hashes.extend(keys[start..].iter().map(StableKey::stable_hash));
                },
            ),
        }
    }
}

impl<K, T> Clone for KeyBy<K, T> {
    fn clone(&self) -> Self {
        KeyBy {
            key_of: self.key_of.clone(),
            keys_of: self.keys_of.clone(),
        }
    }
}

impl<K: StableKey + 'static, T: 'static> Route<T, K, T> for KeyBy<K, T> {
    #[inline]
    fn key(&self, record: &T) -> (u64, K) {
        let key = (self.key_of)(record);
        (key.stable_hash(), key)
    }
    #[inline]
    fn keys_into(&self, records: &[T], hashes: &mut Vec<u64>, keys: &mut Vec<K>) {
        (self.keys_of)(records, hashes, keys)
    }
    #[inline]
    fn value(&self, record: T) -> T {
        record
    }
    #[inline]
    fn move_all(&self, src: &mut Vec<T>, dst: &mut Vec<T>) {
        move_whole(src, dst)
    }
}

/// A record of an unkeyed stream into a union: it stays on the worker that holds it.
pub(crate) struct Local<T>(pub PhantomData<fn(T)>);

impl<T> Clone for Local<T> {
    fn clone(&self) -> Self {
        Local(PhantomData)
    }
}

impl<T: 'static> Route<T, (), T> for Local<T> {
    const LOCAL_ONLY: bool = true;

    #[inline]
    fn key(&self, _record: &T) -> (u64, ()) {
        (LOCAL, ())
    }
    #[inline]
    fn keys_into(&self, records: &[T], hashes: &mut Vec<u64>, keys: &mut Vec<()>) {
        hashes.extend(records.iter().map(|_| LOCAL));
        keys.extend(records.iter().map(|_| ()));
    }
    #[inline]
    fn value(&self, record: T) -> T {
        record
    }
    #[inline]
    fn move_all(&self, src: &mut Vec<T>, dst: &mut Vec<T>) {
        move_whole(src, dst)
    }
}

/// The first input of a two-input stage: keyed as `key_by`, wrapped as [`Either::Left`].
pub(crate) struct LeftOf<K, A, B>(pub KeyBy<K, A>, pub PhantomData<fn(B)>);

impl<K, A, B> Clone for LeftOf<K, A, B> {
    fn clone(&self) -> Self {
        LeftOf(self.0.clone(), PhantomData)
    }
}

impl<K: StableKey + 'static, A: 'static, B: 'static> Route<A, K, Either<A, B>> for LeftOf<K, A, B> {
    #[inline]
    fn key(&self, record: &A) -> (u64, K) {
        self.0.key(record)
    }
    #[inline]
    fn keys_into(&self, records: &[A], hashes: &mut Vec<u64>, keys: &mut Vec<K>) {
        self.0.keys_into(records, hashes, keys)
    }
    #[inline]
    fn value(&self, record: A) -> Either<A, B> {
        Either::Left(record)
    }
}

/// The second input of a two-input stage: keyed as `key_by`, wrapped as [`Either::Right`].
pub(crate) struct RightOf<K, A, B>(pub KeyBy<K, B>, pub PhantomData<fn(A)>);

impl<K, A, B> Clone for RightOf<K, A, B> {
    fn clone(&self) -> Self {
        RightOf(self.0.clone(), PhantomData)
    }
}

impl<K: StableKey + 'static, A: 'static, B: 'static> Route<B, K, Either<A, B>>
    for RightOf<K, A, B>
{
    #[inline]
    fn key(&self, record: &B) -> (u64, K) {
        self.0.key(record)
    }
    #[inline]
    fn keys_into(&self, records: &[B], hashes: &mut Vec<u64>, keys: &mut Vec<K>) {
        self.0.keys_into(records, hashes, keys)
    }
    #[inline]
    fn value(&self, record: B) -> Either<A, B> {
        Either::Right(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Keying a batch (two passes) appends what keying each record alone gives, after
        /// whatever the vectors held.
        #[test]
        fn keying_a_batch_equals_keying_each_record(
            held in proptest::collection::vec(any::<u64>(), 0..5),
            records in proptest::collection::vec(any::<u32>(), 0..300),
        ) {
            let route = KeyBy::new(|r: &u32| format!("k{}", r % 97));
            let mut hashes = held.clone();
            let mut keys: Vec<String> = held.iter().map(|h| h.to_string()).collect();
            route.keys_into(&records, &mut hashes, &mut keys);
            let mut want_hashes = held.clone();
            let mut want_keys: Vec<String> = held.iter().map(|h| h.to_string()).collect();
            for r in &records {
                let (h, k) = route.key(r);
                want_hashes.push(h);
                want_keys.push(k);
            }
            prop_assert_eq!(hashes, want_hashes);
            prop_assert_eq!(keys, want_keys);
        }
    }
}
