//! Late records nobody consumes go to the dead-letter file, exactly once across restores.
//!
//! A stage's `late` side output (`late_left`, `late_right` for interval joins) with no
//! consumer ends in a [`LateLetters`] emit, fused into the stage's task like a sink. Each
//! late record becomes one JSON line of the job's dead-letter file:
//! `{"stage":"w","output":"late","reason":"late","record":{…fields…}}` (plus `"line"` when the
//! record still knows its input line; rows do not). Late records are well-formed, so they
//! never fail the job, even with `--on-error fail`; they are counted in the run summary
//! (`late=N`).
//!
//! # Why the file stays exactly-once under checkpoints
//! Every task that writes dead letters has its own handle ([`DeadLetters::handle`]): a buffer
//! of its lines, and the one file shared by the job (a mutex around an append-mode file).
//! A task buffers the lines of the records of the current *epoch* — the records between two
//! barriers of its input — and appends them, in one locked write, at the next barrier: a
//! source when it injects barrier `k`, a stage when its inputs aligned on `k` (everything
//! before `k` on every input processed, nothing after). After appending, the task records the
//! file length, read under the same lock, for checkpoint `k`
//! ([`super::snapshot::Checkpoints::add_dead_letter_len`]); the MANIFEST keeps the largest
//! length of all tasks of all workers.
//!
//! 1. Every line of epoch `≤ k` is in the file before checkpoint `k` completes: each task
//!    appends its epoch-`k` lines before contributing to `k`, and `k` completes only when every
//!    task of every worker contributed.
//! 2. No line of epoch `> k` is in the file before checkpoint `k` completes: such lines are
//!    appended at barrier `k + 1` or later, and the coordinator triggers `k + 1` only after `k`
//!    completed (or failed). Lines after a task's last barrier (the end of the input) are not
//!    appended when the task ends — a worker may end while another has not yet contributed to
//!    `k` — but set aside ([`DeadLetters::defer`]) and appended by the job once every worker
//!    ended, before the final, `finished` checkpoint records the length.
//!
//! So when checkpoint `k` completes, the file holds exactly the lines of epochs `≤ k`, and
//! every length recorded for `k` lies between the end of the last of them and the start of
//! the first later line: the largest one is exactly the end of epoch `k`'s lines. A restore
//! from `k` truncates the file to it (`runtime::job`); the replayed records write their
//! lines again. The one exception, as for malformed lines: a task holding more than 16 MiB of
//! lines in one epoch appends them early (bounded memory), and those may be repeated.
//!
//! Without checkpoints a [`LateLetters`] appends after every batch.

use super::emit::Emit;
use crate::sink::SinkStats;
use crate::source::DeadLetters;
use crate::time::WatermarkEvent;
use std::sync::Arc;

/// Adds a late record's fields to its dead-letter line (`"record"`, and `"line"` if known).
pub type LateFormat<T> =
    Arc<dyn Fn(&T, &mut serde_json::Map<String, serde_json::Value>) + Send + Sync>;

/// Writes the late records of one stage's side output to the dead-letter file (one worker).
pub struct LateLetters<T> {
    dead: DeadLetters,
    stage: String,
    output: String,
    format: Option<LateFormat<T>>,
    transactional: bool,
}

impl<T> LateLetters<T> {
    /// Late records of side output `output` of stage `stage`, written through `dead` (a handle
    /// of its own); `format` adds their fields (none: only the stage and the reason);
    /// `transactional` when the job checkpoints.
    pub fn new(
        dead: DeadLetters,
        stage: String,
        output: String,
        format: Option<LateFormat<T>>,
        transactional: bool,
    ) -> Self {
        LateLetters {
            dead,
            stage,
            output,
            format,
            transactional,
        }
    }

    /// The dead-letter line of `record`.
    fn line(&self, record: &T) -> Vec<u8> {
        let mut m = serde_json::Map::new();
        m.insert("stage".into(), self.stage.clone().into());
        m.insert("output".into(), self.output.clone().into());
        m.insert("reason".into(), "late".into());
        if let Some(f) = &self.format {
            f(record, &mut m);
        }
        serde_json::Value::Object(m).to_string().into_bytes()
    }
}

impl<T: Send> Emit<T> for LateLetters<T> {
    fn push(&mut self, batch: &mut Vec<T>) -> crate::Result<()> {
        for r in batch.drain(..) {
            let line = self.line(&r);
            self.dead.report_late(&line)?;
        }
        if !self.transactional {
            self.dead.append(false)?;
        }
        Ok(())
    }

    fn barrier(&mut self, _k: u64) -> crate::Result<()> {
        self.dead.append(true).map(drop)
    }

    fn watermark(&mut self, _event: WatermarkEvent) {}

    fn end(&mut self) -> crate::Result<()> {
        Ok(())
    }

    fn blocked(&self) -> bool {
        false
    }

    fn flush(&mut self) -> bool {
        false
    }

    fn finish(&mut self, _stats: &mut SinkStats) -> crate::Result<()> {
        self.dead.defer();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::dead_letter::OnError;

    fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn lines_reach_the_file_at_barriers_and_deferred_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead.jsonl");
        // `Fail` does not apply to late records.
        let root = DeadLetters::new(path.clone(), OnError::Fail);
        let format: LateFormat<i64> = Arc::new(|r, m| {
            m.insert("record".into(), serde_json::json!({ "v": r }));
        });
        let mut e = LateLetters::new(root.handle(), "w".into(), "late".into(), Some(format), true);
        e.push(&mut vec![1, 2]).unwrap();
        assert!(lines(&path).is_empty(), "buffered until the barrier");
        e.barrier(1).unwrap();
        let after_1 = root.file_len().unwrap();
        e.push(&mut vec![3]).unwrap();
        e.end().unwrap();
        e.finish(&mut SinkStats::default()).unwrap();
        assert_eq!(root.file_len().unwrap(), after_1, "the end defers");
        let got = lines(&path);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0]["stage"], "w");
        assert_eq!(got[0]["reason"], "late");
        assert_eq!(got[1]["record"]["v"], 2);
        let mut job = root.handle();
        job.append_deferred().unwrap();
        assert_eq!(lines(&path)[2]["record"]["v"], 3);
        assert_eq!(root.late_count(), 3);
    }

    #[test]
    fn without_checkpoints_each_batch_is_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dead.jsonl");
        let root = DeadLetters::new(path.clone(), OnError::DeadLetter);
        let mut e =
            LateLetters::<u8>::new(root.handle(), "j".into(), "late_left".into(), None, false);
        e.push(&mut vec![0, 0, 0]).unwrap();
        let got = lines(&path);
        assert_eq!(got.len(), 3);
        assert_eq!(got[2]["output"], "late_left");
        assert!(got[2].get("record").is_none());
    }
}
