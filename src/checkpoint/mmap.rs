//! The only `unsafe` of the checkpoint store: memory maps of state files (memmap2), and the
//! block preallocation that keeps a write through a map from dying of SIGBUS on a full disk.
//!
//! Every function here is safe to call; the invariants that make the `unsafe` blocks sound are
//! upheld by the store (see each `SAFETY` comment):
//! 1. state files are only created and written by this process, which holds the directory's
//!    advisory lock ([`super::CheckpointStore::open`]), and a complete checkpoint's files are
//!    never written again (they are only deleted, which keeps existing maps valid on Unix);
//! 2. a map is only read after the file length was checked against the MANIFEST.
#![allow(unsafe_code)]

use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::File;
use std::io;

/// Reserves `len` bytes of disk blocks for `file` (growing it to `len`), so that a later write
/// through a map cannot fail with SIGBUS for want of space: a full disk is an error here.
///
/// # Errors
/// The OS error (`ENOSPC` on a full disk).
pub(crate) fn preallocate(file: &File, len: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let len = libc::off_t::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large"))?;
        // SAFETY: 1. `file` is an open file owned by the caller, so its descriptor is valid
        // for the whole call; 2. posix_fallocate takes no pointers and only extends the file.
        let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        file.set_len(len)
    }
}

/// Maps a freshly created, preallocated state file for writing.
///
/// # Errors
/// The OS error of `mmap`.
pub(crate) fn map_for_write(file: &File) -> io::Result<MmapMut> {
    // SAFETY: 1. the file was just created by this process inside a checkpoint directory
    // that has no MANIFEST yet, under the store's exclusive directory lock, so no other
    // process maps or truncates it (invariant 1 of the module); 2. its length was set before
    // mapping and is not changed while the map lives.
    // (SAFETY: reasons 1–2 above.)
    unsafe { MmapOptions::new().map_mut(file) }
}

/// Maps a committed state file read-only, pre-faulting its pages (it is read in full for the
/// checksum right away).
///
/// # Errors
/// The OS error of `mmap`.
pub(crate) fn map_for_read(file: &File) -> io::Result<Mmap> {
    // SAFETY: 1. the file belongs to a committed checkpoint, which weir never writes or
    // truncates again (invariant 1); deleting it keeps the pages of this map valid;
    // 2. the caller checked its length against the MANIFEST first (invariant 2); 3. the
    // bytes are treated as untrusted: they are checksummed and then only read through
    // validating `rkyv::access`, never `access_unchecked`.
    // (SAFETY: reasons 1–3 above.)
    unsafe { MmapOptions::new().populate().map(file) }
}
