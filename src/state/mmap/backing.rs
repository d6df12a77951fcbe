//! The bytes behind a [`super::run::Run`]: a mapped file, or (while a background thread
//! writes the file) the same bytes in memory.
//!
//! A flush builds the whole run file in memory, opens it from there at once (lookups see the
//! flushed entries immediately) and hands the same bytes to the writer thread
//! ([`super::writer_thread`]); once the file is written the run is switched to a mapping of
//! it ([`super::run::Run::remap`]): same bytes, so every offset parsed stays valid.

#![allow(unsafe_code)] // mapping a file; see `Backing::map`

use std::fs::File;
use std::sync::Arc;

/// The bytes of a run; see the module docs.
pub(crate) enum Backing {
    /// A memory-mapped run file.
    Map(memmap2::Mmap),
    /// The file's bytes, shared with the thread writing them.
    Mem(Arc<Vec<u8>>),
}

impl Backing {
    /// Maps `file` read-only.
    ///
    /// # Errors
    /// The mapping fails.
    pub(crate) fn map(file: &File) -> std::io::Result<Backing> {
        // Every read of a run is bounds-checked, so even a file changed behind weir's back
        // cannot cause reads outside the mapping.
        // SAFETY: run files are written completely before they are mapped, never modified.
        let map = unsafe { memmap2::Mmap::map(file) }?;
        super::access::advise_random(&map);
        Ok(Backing::Map(map))
    }

    /// Whether the bytes are in memory (the file may not be written yet).
    pub(crate) fn in_memory(&self) -> bool {
        matches!(self, Backing::Mem(_))
    }
}

impl std::ops::Deref for Backing {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Backing::Map(m) => m,
            Backing::Mem(v) => v,
        }
    }
}
