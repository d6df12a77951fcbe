//! The sink directory's ownership marker and the removal of weir's own part files.
//!
//! A directory weir writes output into carries `.weir-sink`: a first line `weir sink`, then
//! one line per lineage whose part files the directory may hold. Without the marker, a
//! non-empty directory is the user's and is refused (unless `--overwrite`); with it, weir
//! deletes only names that [`PartName::parse`] accepts, never anything else.

use crate::error::Error;
use crate::sink::file::PartName;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Name of the marker file.
pub const MARKER: &str = ".weir-sink";
/// First line of the marker.
const HEADER: &str = "weir sink";
/// Temporary name of the marker while it is rewritten.
const MARKER_TMP: &str = ".weir-sink.tmp";
/// Names shown when refusing a directory.
const SHOWN: usize = 5;

/// What a sink directory holds, as far as ownership goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkDir {
    /// It does not exist or is empty.
    Empty,
    /// It carries weir's marker, naming these lineages.
    Marked(Vec<String>),
    /// It holds files and no marker: the user's. Some of its names, sorted.
    Foreign(Vec<String>),
}

/// The names in `dir`, sorted (empty when it does not exist).
///
/// # Errors
/// [`Error::Io`] when `dir` exists but cannot be read.
pub fn names(dir: &Path) -> crate::Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        out.push(entry.file_name().to_string_lossy().into_owned());
    }
    out.sort();
    Ok(out)
}

/// Classifies `dir`.
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::Config`] when it is a file.
pub fn inspect(dir: &Path) -> crate::Result<SinkDir> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Config(vec![format!(
            "sink.path: {} is a file, not a directory",
            dir.display()
        )]));
    }
    // A marker write killed before its rename leaves weir's own temporary name: not the user's.
    let names: Vec<String> = names(dir)?
        .into_iter()
        .filter(|n| n != MARKER_TMP)
        .collect();
    if names.is_empty() {
        return Ok(SinkDir::Empty);
    }
    if names.iter().any(|n| n == MARKER) {
        return Ok(SinkDir::Marked(read_marker(dir)?));
    }
    Ok(SinkDir::Foreign(names))
}

/// The lineages named by `dir`'s marker (a marker without the header names none).
fn read_marker(dir: &Path) -> crate::Result<Vec<String>> {
    let path = dir.join(MARKER);
    let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Ok(Vec::new());
    }
    Ok(lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// The refusal of a foreign directory: names it and what is in it.
pub fn refusal(dir: &Path, names: &[String]) -> Error {
    let mut shown = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        shown.push_str(&format!(", … ({} entries)", names.len()));
    }
    Error::Refused(format!(
        "sink.path: {} is not empty and weir did not create it (no {MARKER} marker); it holds: \
         {shown}. Choose an empty or new directory, or pass --overwrite to let weir replace \
         its part files there (other files are left alone)",
        dir.display()
    ))
}

/// Creates `dir` if needed and writes its marker naming `lineages` (atomically: temporary
/// name, fsync, rename, directory fsync).
///
/// # Errors
/// [`Error::Io`] when the directory or the marker cannot be written.
pub fn write_marker(dir: &Path, lineages: &[String]) -> crate::Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(MARKER_TMP);
    let mut text = format!("{HEADER}\n");
    for l in lineages {
        text.push_str(l);
        text.push('\n');
    }
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(MARKER))?;
        fs::File::open(dir)?.sync_all()
    };
    write().map_err(|e| Error::io(dir.join(MARKER), e))
}

/// Deletes the part files of `dir` (names that parse as weir's) for which `doomed` holds;
/// returns their paths. Nothing else is touched.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be read or a file cannot be deleted.
pub fn remove_parts(dir: &Path, doomed: impl Fn(&PartName) -> bool) -> crate::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for name in names(dir)? {
        if PartName::parse(&name).is_some_and(|p| doomed(&p)) {
            let path = dir.join(&name);
            match fs::remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }
    if !removed.is_empty() {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(removed)
}

/// The largest epoch among `dir`'s part files (0 when none).
///
/// # Errors
/// [`Error::Io`] when the directory cannot be read.
pub fn newest_epoch(dir: &Path) -> crate::Result<u64> {
    Ok(names(dir)?
        .iter()
        .filter_map(|n| PartName::parse(n).and_then(|p| p.epoch()))
        .max()
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_marker_write_leaves_an_empty_directory() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(MARKER_TMP), b"half").unwrap();
        assert!(matches!(inspect(tmp.path()).unwrap(), SinkDir::Empty));
        fs::write(tmp.path().join("mine.txt"), b"user").unwrap();
        assert!(matches!(inspect(tmp.path()).unwrap(), SinkDir::Foreign(n) if n == ["mine.txt"]));
    }

    #[test]
    fn foreign_marked_and_empty_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        assert_eq!(inspect(&dir).unwrap(), SinkDir::Empty);
        fs::create_dir(&dir).unwrap();
        assert_eq!(inspect(&dir).unwrap(), SinkDir::Empty);
        fs::write(dir.join("part-00000"), "mine\n").unwrap();
        fs::write(dir.join("notes.txt"), "mine too\n").unwrap();
        let SinkDir::Foreign(names) = inspect(&dir).unwrap() else {
            panic!("a user's directory is foreign");
        };
        assert_eq!(names, ["notes.txt", "part-00000"]);
        let msg = refusal(&dir, &names).to_string();
        assert!(msg.contains("part-00000") && msg.contains(&*dir.to_string_lossy()));
        write_marker(&dir, &["a1".into(), "b2".into()]).unwrap();
        assert_eq!(
            inspect(&dir).unwrap(),
            SinkDir::Marked(vec!["a1".into(), "b2".into()])
        );
    }

    #[test]
    fn removes_only_names_that_parse_as_parts() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for name in [
            "part-00000-0000000003",
            "part-00001",
            ".part-00000-0000000004.pending",
            ".part-00000.inprogress",
            "part-notes",
            "part-00000.bak",
            ".part-x.pending",
            "keep.csv",
        ] {
            fs::write(dir.join(name), name).unwrap();
        }
        assert_eq!(newest_epoch(dir).unwrap(), 4);
        let removed = remove_parts(dir, |p| p.epoch().is_none_or(|e| e < 4)).unwrap();
        assert_eq!(removed.len(), 3);
        let left = names(dir).unwrap();
        assert_eq!(
            left,
            [
                ".part-00000-0000000004.pending",
                ".part-x.pending",
                "keep.csv",
                "part-00000.bak",
                "part-notes"
            ]
        );
    }
}
