//! Routing a batch to several workers: every record is written once, into its destination's
//! batch.
//!
//! An exchange with more than one worker splits each batch by key group. Done record by
//! record (`drain` → key function → `push` into the destination), a row was moved out of the
//! source batch, into a temporary and into the destination's batch, with an indirect call of
//! the key function and three capacity checks per record (PERF.md, "Issue 10, step 6
//! (session 8): the exchange, the stage and the emitters"). Here a batch is routed in two
//! passes: the keys and hashes of the whole batch (one call of the route's batch key
//! function), then one loop that finds each record's destination from its hash (a table
//! lookup by key group) and moves the record, key and hash into that destination's batch,
//! whose room was reserved for the whole batch beforehand. (A separate pass writing the
//! destinations to a scratch vector cost ~12 instructions per record more, PERF.md, "Issue
//! 10, step 8 (session 10): two workers".) Records keep their order within each destination
//! (a key's records reach its worker in the order they were read).

use super::batch::KeyedBatch;
use super::route::Route;
use super::short_row;
use super::Outbox;
use crate::state::KeyGroupRouter;

/// The reusable buffers of one exchange edge's sender for routing batches.
pub struct Scatter<K, I> {
    /// Hash of each record of the batch being routed.
    hashes: Vec<u64>,
    /// Key of each record (moved out by [`scatter`]).
    keys: Vec<K>,
    /// The records, as the stage's input (moved out by [`scatter`]).
    values: Vec<I>,
}

impl<K, I> Default for Scatter<K, I> {
    fn default() -> Self {
        Scatter {
            hashes: Vec::new(),
            keys: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<K, I> Scatter<K, I>
where
    K: Send + 'static,
    I: Send + 'static,
{
    /// Routes every record of `records` (leaving it empty) into the outbox by key group
    /// through `router` (records of a [`Route::LOCAL_ONLY`] route all go to `worker`).
    pub fn route<X, R: Route<X, K, I>>(
        &mut self,
        records: &mut Vec<X>,
        route: &R,
        router: &KeyGroupRouter,
        worker: usize,
        outbox: &mut Outbox<KeyedBatch<K, I>>,
    ) {
        self.hashes.clear();
        route.keys_into(records, &mut self.hashes, &mut self.keys);
        // An identity route swaps the vectors here: no record is copied before `scatter`.
        route.move_all(records, &mut self.values);
        let dest_of = |h: u64| match R::LOCAL_ONLY {
            true => worker,
            false => router.worker(router.key_group(h)),
        };
        let (hashes, keys, values) = (&self.hashes, &mut self.keys, &mut self.values);
        outbox.fill_all(|bufs| scatter(bufs, dest_of, hashes, keys, values));
    }
}

/// Moves record `i` of `values`, with `keys[i]` and `hashes[i]`, to the end of batch
/// `bufs[dest_of(hashes[i])]`, in order, leaving `keys` and `values` empty. Each record and
/// key is copied once (no temporary).
///
/// # Panics
/// When the three inputs differ in length or a destination is not an index of `bufs` (a bug
/// of the caller: the records not yet moved are then leaked, never dropped twice).
pub fn scatter<K, I: 'static>(
    bufs: &mut [KeyedBatch<K, I>],
    dest_of: impl Fn(u64) -> usize,
    hashes: &[u64],
    keys: &mut Vec<K>,
    values: &mut Vec<I>,
) {
    let n = values.len();
    assert!(
        keys.len() == n && hashes.len() == n,
        "scatter: inputs of different lengths"
    );
    // Room for the whole batch in every destination: no capacity check per record. (A
    // recycled batch keeps the capacity it grew to, so this allocates only while warming up.)
    for b in bufs.iter_mut() {
        b.hashes.reserve(n);
        b.keys.reserve(n);
        b.values.reserve(n);
    }
    let (src_keys, src_values) = (keys.as_ptr(), values.as_ptr());
    let short_rows = short_row::enabled::<I>();
    // The items are moved out bitwise below: the source vectors must no longer own them.
    // Should the loop stop early (a bad destination panics), the rest leaks; nothing is
    // dropped twice.
    #[allow(unsafe_code)]
    // SAFETY: 0 ≤ capacity, and `src_keys`/`src_values` stay valid (no reallocation follows).
    unsafe {
        keys.set_len(0);
        values.set_len(0);
    }
    for (i, &hash) in hashes.iter().enumerate() {
        let b = &mut bufs[dest_of(hash)];
        let at = b.values.len();
        debug_assert!(at < b.values.capacity() && at < b.keys.capacity());
        debug_assert!(at < b.hashes.capacity() && b.keys.len() == at && b.hashes.len() == at);
        // `i < n`, the original length of `keys` and `values`, so item `i` is initialised and
        // (their lengths being 0 now) owned by nobody else; each `i` is read once. `at` is
        // the length of `b`'s three vectors (the batch invariant), below their capacity
        // (reserved `n` above, and at most `n` items are added).
        #[allow(unsafe_code)]
        // SAFETY: source item `i` is initialised and unowned, destination slot `at` is spare
        // capacity of the same type: one bitwise move (a plain write of the hash), after which
        // `at + 1` items of each vector are valid.
        unsafe {
            short_row::move_record(src_values.add(i), b.values.as_mut_ptr().add(at), short_rows);
            move_item(src_keys.add(i), b.keys.as_mut_ptr().add(at));
            b.hashes.as_mut_ptr().add(at).write(hash);
            b.values.set_len(at + 1);
            b.keys.set_len(at + 1);
            b.hashes.set_len(at + 1);
        }
    }
}

/// Copies one item bitwise from `src` to `dst` (`ptr::copy_nonoverlapping(src, dst, 1)`) as
/// fixed-size copies of at most 128 bytes, which the compiler inlines as moves: one copy of a
/// 136-byte row was a `memcpy` call, ~29 instructions per routed record (PERF.md, "Issue 10,
/// step 7 (session 9): the exchange, the stage and the emitters").
///
/// Callers guarantee what `copy_nonoverlapping(src, dst, 1)` needs: `src` valid for reading
/// one `T`, `dst` valid for writing one, both aligned, the two not overlapping.
#[allow(unsafe_code)]
#[inline(always)]
// SAFETY: the contract above; the copies below cover bytes `0..size_of::<T>()` of both, once.
pub(super) unsafe fn move_item<T>(src: *const T, dst: *mut T) {
    const HEAD: usize = 128;
    let n = std::mem::size_of::<T>();
    if n <= HEAD {
        // SAFETY: the caller's contract, for one `T`.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, 1) };
        return;
    }
    let (s, d) = (src.cast::<u8>(), dst.cast::<u8>());
    // Bytes `0..128` and `128..n` of one `T`: within both items, each byte copied once.
    // SAFETY: the caller's contract, for the `n` bytes of one `T` (`HEAD < n`).
    unsafe {
        std::ptr::copy_nonoverlapping(s, d, HEAD);
        std::ptr::copy_nonoverlapping(s.add(HEAD), d.add(HEAD), n - HEAD);
    }
}

#[cfg(test)]
#[path = "scatter_tests.rs"]
mod tests;
