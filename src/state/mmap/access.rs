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
/// Bytes in memory (a run whose file is still being written) need no reading.
pub(super) fn will_need(map: &super::backing::Backing, offset: usize, len: usize) {
    let super::backing::Backing::Map(map) = map else {
        return;
    };
    let end = offset.saturating_add(len).min(map.len());
    if offset < end {
        let _ = map.advise_range(memmap2::Advice::WillNeed, offset, end - offset);
    }
}

/// A lookup that took longer than this read the disk (a page-cache hit takes well under one).
const SLOW: std::time::Duration = std::time::Duration::from_micros(20);
/// Fast lookups after a slow one during which a run still counts as cold.
const COLD_FOR: u8 = 64;

/// Whether a run's lookups read the disk lately: then a lookup's index window is read ahead
/// (with `MADV_WILLNEED`) when its record is prefetched, a few records before it is
/// processed, so that the reads of several records overlap (the disk serves parallel reads
/// several times faster than one after another; `scripts/randread.py`). While the run's pages
/// are resident no such system call is made.
#[derive(Debug, Default)]
pub(super) struct Temperature(std::cell::Cell<u8>);

impl Temperature {
    /// Runs `f` (a lookup), noting whether it was slow.
    #[inline]
    pub(super) fn timed<R>(&self, f: impl FnOnce() -> R) -> R {
        let t = std::time::Instant::now();
        let r = f();
        let cold = match t.elapsed() > SLOW {
            true => COLD_FOR,
            false => self.0.get().saturating_sub(1),
        };
        self.0.set(cold);
        r
    }

    /// Whether a lookup was slow within the last [`COLD_FOR`] ones.
    #[inline]
    pub(super) fn is_cold(&self) -> bool {
        self.0.get() > 0
    }
}
