//! [`RunWriter`]: writes a run one key group at a time, so that a merge of runs larger than
//! memory holds only one group's entries (not the whole run) in memory.
//!
//! The layout is [`super::run`]'s. The index and the data of the groups given so far go to two
//! temporary files; [`RunWriter::finish`] writes the header and directory (known only once
//! every group was given) and appends both temporary files to them (`std::io::copy`, which the
//! kernel does without a user-space copy on Linux), then renames the result into place.

use super::filter::Filter;
use super::run::{GroupEntries, Run, RunError, ENTRY, GROUP, HEADER, MAGIC, TOMBSTONE};
use super::sparse::Sparse;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One group's place in the temporary files.
struct Placed {
    first: usize,
    count: usize,
    data_off: usize,
    data_len: usize,
    crc: u32,
}

/// A run being written group by group; see the module docs.
pub(crate) struct RunWriter {
    path: PathBuf,
    range: Range<u16>,
    timed: bool,
    index: BufWriter<File>,
    data: BufWriter<File>,
    placed: Vec<Placed>,
    /// Per group given, its filter and sparse index (set in the run [`RunWriter::finish`]
    /// opens, so that its first lookups need not read the index to build them).
    aids: Vec<(Filter, Sparse)>,
    entries: usize,
    data_len: usize,
}

fn tmp(path: &Path, ext: &str) -> PathBuf {
    path.with_extension(ext)
}

fn too_big() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, "run group over 4 GiB")
}

impl RunWriter {
    /// Starts a run of `range` to be renamed to `path` by [`RunWriter::finish`].
    ///
    /// # Errors
    /// The temporary files cannot be created.
    pub(crate) fn create(path: &Path, range: Range<u16>, timed: bool) -> Result<Self, RunError> {
        let io = |source| RunError::Io {
            path: path.to_path_buf(),
            source,
        };
        let open = |p: PathBuf| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(p)
        };
        let index = open(tmp(path, "tmpi")).map_err(io)?;
        let data = open(tmp(path, "tmpd")).map_err(io)?;
        Ok(RunWriter {
            path: path.to_path_buf(),
            placed: Vec::with_capacity(range.len()),
            aids: Vec::with_capacity(range.len()),
            range,
            timed,
            index: BufWriter::with_capacity(1 << 20, index),
            data: BufWriter::with_capacity(1 << 20, data),
            entries: 0,
            data_len: 0,
        })
    }

    /// Appends the next key group's entries (sorted by hash); called once per group of the
    /// range, in order.
    ///
    /// # Errors
    /// Writing failed, or an entry or a group is over 2 GiB / 4 GiB.
    pub(crate) fn group(&mut self, g: &GroupEntries<'_>) -> Result<(), RunError> {
        self.write_group(g).map_err(|source| RunError::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn write_group(&mut self, g: &GroupEntries<'_>) -> std::io::Result<()> {
        let mut crc = crc32fast::Hasher::new();
        let mut off = 0usize;
        let mut rec = [0u8; ENTRY];
        for (hash, tomb, bytes) in g {
            let len = u32::try_from(bytes.len())
                .ok()
                .filter(|l| l & TOMBSTONE == 0)
                .ok_or_else(too_big)?;
            let flag = if *tomb { TOMBSTONE } else { 0 };
            let at = u32::try_from(off).map_err(|_| too_big())?;
            rec[..8].copy_from_slice(&hash.to_le_bytes());
            rec[8..12].copy_from_slice(&at.to_le_bytes());
            rec[12..].copy_from_slice(&(len | flag).to_le_bytes());
            self.index.write_all(&rec)?;
            crc.update(&rec);
            off += bytes.len();
        }
        for (_, _, bytes) in g {
            crc.update(bytes);
            self.data.write_all(bytes)?;
        }
        self.placed.push(Placed {
            first: self.entries,
            count: g.len(),
            data_off: self.data_len,
            data_len: off,
            crc: crc.finalize(),
        });
        self.aids.push(super::sparse::aids(g));
        self.entries += g.len();
        self.data_len += off;
        Ok(())
    }

    /// Writes the header and directory, appends the index and data, renames the file into
    /// place and opens it. The temporary files are removed, also on error (and when the writer is dropped unfinished).
    ///
    /// # Errors
    /// Writing failed, or fewer groups were given than the range has.
    pub(crate) fn finish(self) -> Result<Run, RunError> {
        let path = self.path.clone();
        let io = |source| RunError::Io {
            path: path.clone(),
            source,
        };
        let out = tmp(&path, "tmp");
        let mut this = self;
        let result = this.assemble(&out);
        let aids = std::mem::take(&mut this.aids);
        drop(this); // removes the temporary files
        if let Err(e) = result {
            let _ = std::fs::remove_file(&out);
            return Err(io(e));
        }
        std::fs::rename(&out, &path).map_err(io)?;
        let run = Run::open(&path, None)?;
        run.set_aids(aids);
        Ok(run)
    }

    fn assemble(&mut self, out: &Path) -> std::io::Result<()> {
        if self.placed.len() != self.range.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "run written with groups missing",
            ));
        }
        self.index.flush()?;
        self.data.flush()?;
        let dir_end = HEADER + self.placed.len() * GROUP;
        let index_start = dir_end + 8;
        let data_start = index_start + self.entries * ENTRY;
        let mut head = Vec::with_capacity(dir_end + 8);
        head.extend_from_slice(MAGIC);
        for v in [
            u32::from(self.timed),
            self.range.start.into(),
            self.range.end.into(),
            0,
        ] {
            head.extend_from_slice(&v.to_le_bytes());
        }
        head.extend_from_slice(&(self.entries as u64).to_le_bytes());
        for p in &self.placed {
            let at = [
                index_start + p.first * ENTRY,
                p.count,
                data_start + p.data_off,
                p.data_len,
            ];
            for v in at {
                head.extend_from_slice(&(v as u64).to_le_bytes());
            }
            head.extend_from_slice(&p.crc.to_le_bytes());
            head.extend_from_slice(&0u32.to_le_bytes());
        }
        let dir_crc = crc32fast::hash(&head);
        head.extend_from_slice(&dir_crc.to_le_bytes());
        head.extend_from_slice(&0u32.to_le_bytes());
        let mut file = File::create(out)?;
        file.write_all(&head)?;
        for part in [self.index.get_mut(), self.data.get_mut()] {
            use std::io::Seek;
            part.seek(std::io::SeekFrom::Start(0))?;
            std::io::copy(part, &mut file)?;
        }
        Ok(())
    }
}

impl Drop for RunWriter {
    fn drop(&mut self) {
        // The two temporary files this writer created (finished or abandoned).
        let _ = std::fs::remove_file(tmp(&self.path, "tmpi"));
        let _ = std::fs::remove_file(tmp(&self.path, "tmpd"));
    }
}

#[cfg(test)]
mod tests {
    use super::super::run::write_run;
    use super::*;

    fn groups(seed: u64) -> Vec<Vec<(u64, bool, Vec<u8>)>> {
        (0..4u64)
            .map(|g| {
                (0..(g * 7 + seed) % 13)
                    .map(|i| {
                        let bytes = vec![(g * 31 + i) as u8; (i % 5 + 1) as usize];
                        (g * 1000 + i, i % 4 == 3, bytes)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn streamed_runs_are_byte_for_byte_the_in_memory_ones() {
        let dir = tempfile::tempdir().unwrap();
        for seed in 0..5 {
            let owned = groups(seed);
            let gs: Vec<GroupEntries<'_>> = owned
                .iter()
                .map(|g| g.iter().map(|(h, t, b)| (*h, *t, b.as_slice())).collect())
                .collect();
            let a = dir.path().join(format!("a{seed}.wr"));
            let b = dir.path().join(format!("b{seed}.wr"));
            write_run(&a, 8..12, seed % 2 == 0, &gs).unwrap();
            let mut w = RunWriter::create(&b, 8..12, seed % 2 == 0).unwrap();
            for g in &gs {
                w.group(g).unwrap();
            }
            let run = w.finish().unwrap();
            assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
            let n: usize = gs.iter().map(Vec::len).sum();
            assert_eq!(run.entries() as usize, n);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.ends_with(".wr"))
            .collect();
        assert!(names.is_empty(), "temporary files left: {names:?}");
    }

    #[test]
    fn a_run_missing_groups_is_not_written_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run-000001.wr");
        let mut w = RunWriter::create(&path, 0..3, false).unwrap();
        w.group(&vec![(1, false, &[1u8, 2][..])]).unwrap();
        assert!(w.finish().is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
