//! `weir run`'s pre-flight: before any work starts, refuse what would destroy data weir cannot
//! prove is its own, then settle the files of the run's lineage (see [`crate::safety`]).
//!
//! Every refusal happens before the first change on disk. Then:
//! * without checkpoints: the sink directory's part files and the dead-letter file of the
//!   previous run go (they are weir's: marked directory, dead-letter records);
//! * a fresh lineage with checkpoints keeps the previous lineage (checkpoints, published part
//!   files, dead-letter file moved aside) until its first checkpoint is committed;
//! * a restore checks that the dead-letter file and the sink directory are the lineage's own,
//!   finishes a retirement a crash interrupted, and brings back a dead-letter file that a
//!   killed `--fresh` moved aside.

use super::args::RunArgs;
use super::resume_hint;
use crate::checkpoint::{self, CheckpointStore, Manifest};
use crate::error::Error;
use crate::pipeline::spec::{Plan, SinkSpec, SourceSpec};
use crate::runtime::{CheckpointConfig, RestoreFrom, RunConfig};
use crate::safety::dead_letters;
use crate::safety::lineage::{self, Lineage, Retire};
use crate::safety::paths::{self, Role, Use};
use crate::safety::sink_dir::{self, SinkDir};
use crate::sink::file::PartName;
use std::path::{Path, PathBuf};

/// What the pre-flight looks at.
struct Paths {
    /// The file sinks' directories (none for stdout and null sinks).
    sinks: Vec<PathBuf>,
    /// The dead-letter file, absolute.
    dead: PathBuf,
    /// `--overwrite`.
    overwrite: bool,
}

/// Runs the pre-flight for `plan` under `config` (flags applied); marks `config` as checked
/// and, with checkpoints, sets its lineage.
///
/// # Errors
/// [`Error::Config`] for overlapping paths, [`Error::Refused`] for a run that would destroy
/// data (a user's files, checkpoints resumable without `--restore`), [`Error::Io`].
pub fn prepare(plan: &Plan, args: &RunArgs, config: &mut RunConfig) -> crate::Result<()> {
    check_overlaps(plan, args, config)?;
    for (_, path) in file_sources(plan) {
        // A missing input is reported before anything changes on disk.
        std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    }
    let p = Paths {
        sinks: sink_dirs(plan)
            .into_iter()
            .map(|(_, path)| path.to_path_buf())
            .collect(),
        dead: paths::absolute(&config.dead_letter_path),
        overwrite: args.overwrite,
    };
    match config.checkpoint.as_mut() {
        None if args.fresh => {
            return Err(Error::Config(vec![
                "--fresh: needs --checkpoint-dir (or a [checkpoint] table in the pipeline)".into(),
            ]))
        }
        None => plain_start(&p)?,
        Some(cc) => with_checkpoints(cc, plan.fingerprint, &p, args.fresh)?,
    }
    config.preflight = true;
    Ok(())
}

/// The output directory of a file sink; `None` for other sinks and for `path = "-"`
/// (standard output).
fn sink_dir_of(spec: &SinkSpec) -> Option<&Path> {
    match spec {
        SinkSpec::File { path, .. } if path.as_os_str() != "-" => Some(path),
        _ => None,
    }
}

/// Every file sink's directory, with its field path (`sink.path`, `sinks.NAME.path`).
fn sink_dirs(plan: &Plan) -> Vec<(String, &Path)> {
    match &plan.graph {
        None => sink_dir_of(&plan.sink)
            .map(|p| ("sink.path".to_string(), p))
            .into_iter()
            .collect(),
        Some(g) => g
            .sinks
            .iter()
            .zip(&g.sink_specs)
            .filter_map(|((name, _, _), spec)| {
                sink_dir_of(spec).map(|p| (format!("sinks.{name}.path"), p))
            })
            .collect(),
    }
}

/// Every file source's path, with its field path (`source.path`, `sources.NAME.path`).
fn file_sources(plan: &Plan) -> Vec<(String, &Path)> {
    fn path_of(spec: &SourceSpec) -> Option<&Path> {
        match spec {
            SourceSpec::File { path, .. } => Some(path.as_path()),
            _ => None,
        }
    }
    match &plan.graph {
        None => path_of(&plan.source)
            .map(|p| ("source.path".to_string(), p))
            .into_iter()
            .collect(),
        Some(g) => g
            .sources
            .iter()
            .zip(&g.source_specs)
            .filter_map(|((name, _), spec)| {
                path_of(spec).map(|p| (format!("sources.{name}.path"), p))
            })
            .collect(),
    }
}

/// Refuses overlapping paths, naming both (by the flag when one was given, else by the
/// pipeline field).
fn check_overlaps(plan: &Plan, args: &RunArgs, config: &RunConfig) -> crate::Result<()> {
    let by = |flag: bool, flag_name: &'static str, field: &'static str| match flag {
        true => flag_name,
        false => field,
    };
    let mut uses = Vec::new();
    let mut add = |what: &str, path: &Path, role| {
        uses.push(Use {
            what: what.to_string(),
            path: path.to_path_buf(),
            role,
        })
    };
    for (what, path) in file_sources(plan) {
        add(&what, path, Role::Input);
    }
    for (what, path) in sink_dirs(plan) {
        add(&what, path, Role::Sink);
    }
    if let Some(cc) = &config.checkpoint {
        let what = by(
            args.checkpoint_dir.is_some(),
            "--checkpoint-dir",
            "checkpoint.dir",
        );
        add(what, &cc.dir, Role::Checkpoint);
    }
    let what = by(
        args.dead_letter.is_some(),
        "--dead-letter",
        "runtime.dead_letter_path",
    );
    add(what, &config.dead_letter_path, Role::DeadLetter);
    let errors = paths::check(&uses);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(errors))
    }
}

/// Each sink directory's state, refusing a foreign one without `--overwrite`.
fn sink_states(p: &Paths) -> crate::Result<Vec<(PathBuf, SinkDir)>> {
    let mut out = Vec::with_capacity(p.sinks.len());
    for dir in &p.sinks {
        let state = sink_dir::inspect(dir)?;
        if let SinkDir::Foreign(names) = &state {
            if !p.overwrite {
                return Err(sink_dir::refusal(dir, names));
            }
        }
        out.push((dir.clone(), state));
    }
    Ok(out)
}

/// Refuses an existing dead-letter file weir cannot prove it wrote (`proven`: a checkpoint
/// records it), unless `--overwrite`.
fn check_dead_letter(p: &Paths, proven: bool) -> crate::Result<()> {
    if !p.dead.is_file() || proven || p.overwrite || dead_letters::looks_like_ours(&p.dead) {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "dead-letter file {} exists and does not hold weir's dead-letter records; choose \
         another --dead-letter path, or pass --overwrite to replace it",
        p.dead.display()
    )))
}

/// Removes the dead-letter file, if any.
fn remove_dead_letter(dead: &Path) -> crate::Result<()> {
    match std::fs::remove_file(dead) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(dead, e)),
        _ => Ok(()),
    }
}

/// A run without checkpoints: replaces the previous run's output and dead letters.
fn plain_start(p: &Paths) -> crate::Result<()> {
    let states = sink_states(p)?;
    check_dead_letter(p, false)?;
    let id = lineage::new_id();
    for (dir, _) in states {
        sink_dir::remove_parts(&dir, |_| true)?;
        sink_dir::write_marker(&dir, std::slice::from_ref(&id))?;
    }
    remove_dead_letter(&p.dead)
}

/// A run with checkpoints: refuses a silent fresh start, then prepares the fresh or the
/// restored lineage.
fn with_checkpoints(
    cc: &mut CheckpointConfig,
    fingerprint: u64,
    p: &Paths,
    fresh: bool,
) -> crate::Result<()> {
    // Held until the pre-flight ends: another weir process using the directory (and its
    // sink) is reported before anything changes. The run takes the lock again.
    let store = match cc.dir.is_dir() {
        true => Some(CheckpointStore::open(&cc.dir)?),
        false => None,
    };
    let existing = match &store {
        Some(_) => checkpoint::scan(&cc.dir)?,
        None => Vec::new(),
    };
    let complete: Vec<&PathBuf> = existing
        .iter()
        .map(|(_, path)| path)
        .filter(|path| path.join("MANIFEST").exists())
        .collect();
    let newest = complete
        .last()
        .and_then(|path| checkpoint::read_manifest(path).ok());
    let target = match &cc.restore {
        RestoreFrom::None => {
            if let (Some(path), false) = (complete.last(), fresh) {
                return Err(resume_hint::refusal(
                    &cc.dir,
                    path,
                    newest.as_ref(),
                    fingerprint,
                ));
            }
            None
        }
        RestoreFrom::Latest => complete.iter().rev().find_map(|path| {
            checkpoint::read_manifest(path)
                .ok()
                .filter(|m| m.fingerprint == fingerprint)
        }),
        RestoreFrom::Path(path) => checkpoint::read_manifest(path)
            .ok()
            .filter(|m| m.fingerprint == fingerprint),
    };
    match target {
        Some(m) => restore_lineage(cc, store.as_ref(), &m, p),
        // The runtime reports the unusable checkpoints (or the missing one); nothing changes.
        None if cc.restore != RestoreFrom::None
            && (!complete.is_empty() || cc.restore_required) =>
        {
            Ok(())
        }
        None => fresh_lineage(cc, &existing, newest.as_ref(), p),
    }
}

/// The dead-letter files moved aside by fresh starts (`FILE.weir-aside-START`), by start.
fn asides(dead: &Path) -> crate::Result<Vec<(u64, PathBuf)>> {
    let Some(parent) = dead.parent() else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(u64, PathBuf)> = sink_dir::names(parent)?
        .iter()
        .filter_map(|n| lineage::parse_aside(dead, n).map(|s| (s, parent.join(n))))
        .collect();
    out.sort();
    Ok(out)
}

/// A new lineage that keeps the previous one until its first committed checkpoint.
fn fresh_lineage(
    cc: &mut CheckpointConfig,
    existing: &[(u64, PathBuf)],
    newest: Option<&Manifest>,
    p: &Paths,
) -> crate::Result<()> {
    let states = sink_states(p)?;
    let aside = asides(&p.dead)?.pop();
    let recorded = newest.and_then(|m| m.dead_letter_path.as_ref()) == Some(&p.dead);
    check_dead_letter(p, recorded && aside.is_none())?;
    // Checks done: from here on, changes.
    let mut newest_epoch = 0;
    for dir in &p.sinks {
        newest_epoch = newest_epoch.max(sink_dir::newest_epoch(dir)?);
    }
    let newest_id = existing.last().map_or(0, |(id, _)| *id);
    let start = newest_id.max(newest_epoch) + 1;
    let id = lineage::new_id();
    for (dir, state) in states {
        sink_dir::remove_parts(&dir, |n| matches!(n, PartName::InProgress))?;
        let mut names = vec![id.clone()];
        if let SinkDir::Marked(older) = state {
            names.extend(older.into_iter().filter(|l| *l != id));
        }
        sink_dir::write_marker(&dir, &names)?;
    }
    let aside = match aside {
        // An earlier fresh start was killed: its dead letters were never committed.
        Some((_, path)) => {
            remove_dead_letter(&p.dead)?;
            Some(path)
        }
        None if p.dead.is_file() => {
            let path = lineage::aside_path(&p.dead, start);
            std::fs::rename(&p.dead, &path).map_err(|e| Error::io(&p.dead, e))?;
            Some(path)
        }
        None => None,
    };
    tracing::info!(lineage = %id, start, "starting a new lineage");
    cc.lineage = Some(Lineage {
        id,
        start,
        dead_letter_path: p.dead.clone(),
        retire: Some(Retire {
            sink_dirs: p.sinks.clone(),
            dead_letter_aside: aside,
        }),
    });
    Ok(())
}

/// Continues the lineage of checkpoint `m` (in `store`, the locked checkpoint directory).
fn restore_lineage(
    cc: &mut CheckpointConfig,
    store: Option<&CheckpointStore>,
    m: &Manifest,
    p: &Paths,
) -> crate::Result<()> {
    if let Some(recorded) = m.dead_letter_path.as_ref().filter(|r| **r != p.dead) {
        return Err(Error::Refused(format!(
            "checkpoint {} writes its dead letters to {}, but this run names {}: restoring \
             would append to neither correctly; pass --dead-letter {}",
            m.id,
            recorded.display(),
            p.dead.display(),
            recorded.display()
        )));
    }
    // A checkpoint without a lineage predates the marker: its sink directories are unmarked.
    let states = match &m.lineage {
        Some(_) => sink_states(p)?,
        None => Vec::new(),
    };
    for (dir, state) in &states {
        if let (SinkDir::Marked(names), Some(l)) = (state, &m.lineage) {
            if !names.contains(l) {
                return Err(Error::Refused(format!(
                    "sink directory {} holds the output of another run (lineage {}), not of \
                     checkpoint {}'s (lineage {l}); restore with that run's own sink path",
                    dir.display(),
                    names.join(", "),
                    m.id
                )));
            }
        }
    }
    let asides = asides(&p.dead)?;
    if asides.iter().any(|(start, _)| *start > m.id) {
        // The file at the path is then a killed fresh start's: replaced only if weir's.
        check_dead_letter(p, false)?;
    }
    // Checks done: from here on, changes.
    let mut restored_aside = false;
    for (start, path) in asides {
        if start > m.id && !restored_aside {
            // Moved aside by a fresh start after this checkpoint, which never committed.
            std::fs::rename(&path, &p.dead).map_err(|e| Error::io(&path, e))?;
            restored_aside = true;
        } else {
            remove_dead_letter(&path)?;
        }
    }
    let l = Lineage {
        id: m.lineage.clone().unwrap_or_else(lineage::new_id),
        start: m.lineage_start.unwrap_or(1),
        dead_letter_path: p.dead.clone(),
        retire: None,
    };
    for dir in &p.sinks {
        sink_dir::write_marker(dir, std::slice::from_ref(&l.id))?;
    }
    if let (Some(store), Some(_)) = (store, m.lineage_start) {
        // Finish a retirement that a crash interrupted.
        let retire = Retire {
            sink_dirs: p.sinks.clone(),
            dead_letter_aside: None,
        };
        lineage::retire(store, &l, &retire)?;
    }
    cc.lineage = Some(l);
    Ok(())
}
