//! How the pages of mapped run files are read: advice to the kernel.
//!
//! Lookups in runs larger than the page cache the process is allowed are random reads. By
//! default a page fault on a file mapping reads ahead around the faulting page (up to the
//! device's read-ahead, 128 KiB typically), which under memory pressure evicts pages that were
//! still useful and spends disk bandwidth on bytes nobody reads. A run is therefore mapped with
//! `MADV_RANDOM` (a fault reads its own page only), and the scans that do read a group
//! sequentially (merges, the end-of-job visit, counts) ask for that group's pages up front with
//! `MADV_WILLNEED`, which starts their reads asynchronously and in large requests.
//!
//! Advice is a hint: when the kernel refuses it, nothing but speed changes, so errors are
//! ignored.

/// Advises the kernel that `map` is read at random (no read-ahead around faults).
pub(super) fn advise_random(map: &memmap2::Mmap) {
    let _ = map.advise(memmap2::Advice::Random);
}

/// Asks the kernel to start reading `len` bytes of `map` from `offset` (clamped to the map;
/// nothing for an empty range).
pub(super) fn will_need(map: &memmap2::Mmap, offset: usize, len: usize) {
    let end = offset.saturating_add(len).min(map.len());
    if offset < end {
        let _ = map.advise_range(memmap2::Advice::WillNeed, offset, end - offset);
    }
}
