//! Inspection for `weir inspect`: a summary of every checkpoint in a directory, and the
//! per-key-group detail of one, each printable as a table.

use super::restore::{self, read_manifest};
use super::store::{scan, MANIFEST};
use super::{ArchivedGroupSnapshot, FileEntry};
use crate::source::RangePosition;
use crate::{Error, Result};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// One checkpoint directory as listed by [`list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointSummary {
    /// Checkpoint id.
    pub id: u64,
    /// Its directory.
    pub path: PathBuf,
    /// Commit time (ms since the Unix epoch); `None` without a readable MANIFEST.
    pub created_ms: Option<u64>,
    /// True when its MANIFEST exists and is valid (state files are checked by [`describe`]).
    pub complete: bool,
    /// Worker count (from the MANIFEST, else the number of state files present).
    pub workers: u32,
    /// Bytes of all files in the directory.
    pub total_bytes: u64,
    /// Bytes written new and shared with earlier checkpoints (hard-linked run files of the
    /// mmap backend), from the MANIFEST; `None` without a readable MANIFEST.
    pub written: Option<super::CheckpointBytes>,
    /// Replay positions per source split.
    pub sources: Vec<Vec<RangePosition>>,
    /// The final checkpoint of a finished job.
    pub finished: bool,
    /// Why the MANIFEST is unusable, if it exists but is.
    pub problem: Option<String>,
}

/// Lists the checkpoints in `dir`, ascending by id, complete or not.
///
/// # Errors
/// [`Error::Io`] when `dir` or a checkpoint directory cannot be read.
pub fn list(dir: &Path) -> Result<Vec<CheckpointSummary>> {
    let mut out = Vec::new();
    for (id, path) in scan(dir)? {
        let mut total_bytes = 0;
        let mut state_files = 0u32;
        for entry in fs::read_dir(&path).map_err(|e| Error::io(&path, e))? {
            let entry = entry.map_err(|e| Error::io(&path, e))?;
            total_bytes += entry
                .metadata()
                .map_err(|e| Error::io(entry.path(), e))?
                .len();
            state_files += u32::from(entry.path().extension().is_some_and(|x| x == "state"));
        }
        let mut summary = CheckpointSummary {
            id,
            path: path.clone(),
            created_ms: None,
            complete: false,
            workers: state_files,
            total_bytes,
            written: None,
            sources: Vec::new(),
            finished: false,
            problem: None,
        };
        if path.join(MANIFEST).exists() {
            match read_manifest(&path) {
                Ok(m) => {
                    summary.created_ms = Some(m.created_ms);
                    summary.written = Some(super::CheckpointBytes::of(&m));
                    summary.complete = true;
                    summary.workers = m.workers;
                    summary.sources = m.sources;
                    summary.finished = m.finished;
                }
                Err(e) => summary.problem = Some(reason_of(e)),
            }
        }
        out.push(summary);
    }
    Ok(out)
}

/// The reason of a checkpoint error (the whole message for other errors).
fn reason_of(e: Error) -> String {
    match e {
        Error::Checkpoint { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// A table of [`CheckpointSummary`]s (what `weir inspect DIR` prints).
pub struct CheckpointTable<'a>(pub &'a [CheckpointSummary]);

impl fmt::Display for CheckpointTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10}  {:<23}  {:<10}  {:>7}  {:>10}  {:>10}  {:>10}  {:<8}  SOURCE OFFSETS (split: next/end)",
            "ID", "CREATED (UTC)", "STATUS", "WORKERS", "BYTES", "NEW", "SHARED", "FINISHED"
        )?;
        for s in self.0 {
            let created = s.created_ms.map_or_else(|| "-".to_string(), format_utc_ms);
            let status = match (&s.problem, s.complete) {
                (Some(_), _) => "BAD",
                (None, true) => "complete",
                (None, false) => "incomplete",
            };
            let sources: Vec<String> = s
                .sources
                .iter()
                .enumerate()
                .map(|(i, ranges)| {
                    let r: Vec<String> = ranges
                        .iter()
                        .map(|r| format!("{}/{}", r.next, end_text(r.end)))
                        .collect();
                    format!("{i}: {}", r.join(","))
                })
                .collect();
            writeln!(
                f,
                "{:<10}  {:<23}  {:<10}  {:>7}  {:>10}  {:>10}  {:>10}  {:<8}  {}",
                s.id,
                created,
                status,
                s.workers,
                s.total_bytes,
                s.written
                    .map_or_else(|| "-".to_string(), |w| w.new.to_string()),
                s.written
                    .map_or_else(|| "-".to_string(), |w| w.shared.to_string()),
                if s.finished { "yes" } else { "no" },
                sources.join("  ")
            )?;
            if let Some(problem) = &s.problem {
                writeln!(
                    f,
                    "            {}: {problem}",
                    s.path.join(MANIFEST).display()
                )?;
            }
        }
        Ok(())
    }
}

/// One state of one key group, as found in a state file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateDetail {
    /// The state's name.
    pub name: String,
    /// Number of entries.
    pub entries: u64,
    /// Encoded bytes.
    pub bytes: u64,
}

/// One key group's states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDetail {
    /// The key group.
    pub key_group: u16,
    /// The state file holding it.
    pub file: String,
    /// Its states.
    pub states: Vec<StateDetail>,
}

/// Everything about one checkpoint, from its MANIFEST and its validated state files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointDetail {
    /// Checkpoint id.
    pub id: u64,
    /// Its directory.
    pub path: PathBuf,
    /// On-disk format version.
    pub format_version: u32,
    /// Fingerprint of the pipeline that wrote it.
    pub fingerprint: u64,
    /// Commit time, ms since the Unix epoch.
    pub created_ms: u64,
    /// Number of key groups.
    pub max_parallelism: u16,
    /// Worker count of the run that wrote it.
    pub workers: u32,
    /// Sink epochs `≤ sink_epoch` are committed.
    pub sink_epoch: u64,
    /// The final checkpoint of a finished job.
    pub finished: bool,
    /// The state files.
    pub files: Vec<FileEntry>,
    /// The key groups holding state, ascending.
    pub groups: Vec<GroupDetail>,
    /// Replay positions per source split.
    pub sources: Vec<Vec<RangePosition>>,
    /// Operator state per worker (`stage/state` lists).
    pub operator_state: Vec<Vec<crate::state::operator::OperatorSnapshot>>,
}

/// Validates the checkpoint at `chk` (any pipeline) and describes it per key group and split.
///
/// # Errors
/// [`Error::Checkpoint`] naming the offending file, as for a restore.
pub fn describe(chk: &Path) -> Result<CheckpointDetail> {
    let restored = restore::load(chk, None)?;
    let mut groups = Vec::new();
    for file in restored.files() {
        for root in file.archives()? {
            for g in root.groups.iter() {
                add_group(&mut groups, &file.entry.name, g);
            }
        }
    }
    let m = restored.manifest;
    Ok(CheckpointDetail {
        id: m.id,
        path: restored.path,
        format_version: m.format_version,
        fingerprint: m.fingerprint,
        created_ms: m.created_ms,
        max_parallelism: m.max_parallelism,
        workers: m.workers,
        sink_epoch: m.sink_epoch,
        finished: m.finished,
        files: m.files,
        groups,
        sources: m.sources,
        operator_state: m.operator_state,
    })
}

/// Adds an archived group to `groups`, joining it with the previous one when a segment
/// boundary split it ([`super::segments`]): a continued state adds its entries and bytes.
fn add_group(groups: &mut Vec<GroupDetail>, file: &str, g: &ArchivedGroupSnapshot) {
    let kg = g.key_group.to_native();
    let continues = groups
        .last()
        .is_some_and(|last| last.key_group == kg && last.file == file);
    if !continues {
        groups.push(GroupDetail {
            key_group: kg,
            file: file.to_string(),
            states: Vec::new(),
        });
    }
    let Some(group) = groups.last_mut() else {
        return;
    };
    for (i, s) in g.states.iter().enumerate() {
        let (entries, bytes) = (s.entries.to_native(), s.bytes.len() as u64);
        match group.states.last_mut() {
            Some(last) if continues && i == 0 && last.name == s.name.as_str() => {
                last.entries += entries;
                last.bytes += bytes;
            }
            _ => group.states.push(StateDetail {
                name: s.name.to_string(),
                entries,
                bytes,
            }),
        }
    }
}

impl fmt::Display for CheckpointDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "checkpoint {}  {}", self.id, self.path.display())?;
        writeln!(
            f,
            "created {} UTC  format {}  fingerprint {:016x}",
            format_utc_ms(self.created_ms),
            self.format_version,
            self.fingerprint
        )?;
        writeln!(
            f,
            "max_parallelism {}  workers {}  sink epoch {}  finished {}",
            self.max_parallelism,
            self.workers,
            self.sink_epoch,
            if self.finished { "yes" } else { "no" }
        )?;
        writeln!(
            f,
            "\n{:<12}  {:>12}  {:<10}  CRC32",
            "FILE", "BYTES", "KEY GROUPS"
        )?;
        for e in &self.files {
            let kg = format!("{}..{}", e.key_groups.start, e.key_groups.end);
            writeln!(
                f,
                "{:<12}  {:>12}  {:<10}  {:08x}",
                e.name, e.len, kg, e.checksum
            )?;
        }
        self.fmt_stages(f)?;
        writeln!(
            f,
            "\n{:>9}  {:<12}  {:<20}  {:>12}  {:>12}",
            "KEY GROUP", "FILE", "STATE", "ENTRIES", "BYTES"
        )?;
        for g in &self.groups {
            for s in &g.states {
                writeln!(
                    f,
                    "{:>9}  {:<12}  {:<20}  {:>12}  {:>12}",
                    g.key_group, g.file, s.name, s.entries, s.bytes
                )?;
            }
        }
        writeln!(
            f,
            "\n{:>5}  {:<12}  {:<30}  {:>14}  {:>14}  {:>10}",
            "SPLIT", "SOURCE", "RESOURCE", "NEXT", "END", "LINE"
        )?;
        for (split, ranges) in self.sources.iter().enumerate() {
            for r in ranges {
                let resource = if r.resource.is_empty() {
                    "(generator/stdin)"
                } else {
                    &r.resource
                };
                writeln!(
                    f,
                    "{split:>5}  {:<12}  {resource:<30}  {:>14}  {:>14}  {:>10}",
                    r.source,
                    r.next,
                    end_text(r.end),
                    r.line
                )?;
            }
        }
        Ok(())
    }
}

impl CheckpointDetail {
    /// Per stage (state names are `stage/state`): keyed entries and bytes over all key groups,
    /// and the operator state's items over all workers.
    fn fmt_stages(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keyed: std::collections::BTreeMap<&str, (u64, u64, usize)> = Default::default();
        for g in &self.groups {
            for s in &g.states {
                let e = keyed.entry(s.name.as_str()).or_default();
                e.0 += s.entries;
                e.1 += s.bytes;
                e.2 += 1;
            }
        }
        writeln!(
            f,
            "\n{:<28}  {:<9}  {:>12}  {:>12}  {:>10}",
            "STAGE/STATE", "KIND", "ENTRIES", "BYTES", "GROUPS"
        )?;
        for (name, (entries, bytes, groups)) in &keyed {
            writeln!(
                f,
                "{name:<28}  {:<9}  {entries:>12}  {bytes:>12}  {groups:>10}",
                "keyed"
            )?;
        }
        let mut operator: std::collections::BTreeMap<&str, (bool, u64, u64)> = Default::default();
        for s in self.operator_state.iter().flatten() {
            let e = operator.entry(s.name.as_str()).or_default();
            e.0 = s.union;
            e.1 += s.items.len() as u64;
            e.2 += s.items.iter().map(|i| i.len() as u64).sum::<u64>();
        }
        for (name, (union, items, bytes)) in &operator {
            let kind = if *union { "union" } else { "list" };
            writeln!(
                f,
                "{name:<28}  {kind:<9}  {items:>12}  {bytes:>12}  {:>10}",
                "-"
            )?;
        }
        Ok(())
    }
}

/// A range end for display (`∞` for unbounded).
fn end_text(end: u64) -> String {
    if end == u64::MAX {
        "∞".to_string()
    } else {
        end.to_string()
    }
}

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC) of ms since the Unix epoch.
fn format_utc_ms(ms: u64) -> String {
    let days = (ms / 86_400_000) as i64;
    let in_day = ms % 86_400_000;
    // Days → civil date (proleptic Gregorian), Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}.{milli:03}")
}

#[cfg(test)]
mod tests {
    use super::format_utc_ms;

    #[test]
    fn utc_formatting_matches_known_instants() {
        assert_eq!(format_utc_ms(0), "1970-01-01 00:00:00.000");
        // 2000-02-29 12:34:56.789 UTC (a leap day).
        assert_eq!(format_utc_ms(951_827_696_789), "2000-02-29 12:34:56.789");
        // 2024-12-31 23:59:59.999 UTC.
        assert_eq!(format_utc_ms(1_735_689_599_999), "2024-12-31 23:59:59.999");
    }
}
