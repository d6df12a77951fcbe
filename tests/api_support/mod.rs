//! Shared helpers of the typed-API integration tests: a sink collecting every record, and a
//! checkpointing run configuration.

#![allow(dead_code)] // each test crate uses a different subset

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weir::runtime::{CheckpointConfig, RestoreFrom, RunConfig};
use weir::sink::{Sink, SinkPartition, SinkStats};
use weir::Error;

/// Collects every record into a shared vector (per partition, merged at the end).
#[derive(Clone, Default)]
pub struct Collect<T>(pub Arc<Mutex<Vec<T>>>);

/// One worker's part of a [`Collect`]; fails after `fail_after` records when set.
pub struct CollectPartition<T> {
    pub shared: Arc<Mutex<Vec<T>>>,
    pub mine: Vec<T>,
    pub fail_after: Option<usize>,
}

impl<T: Clone + Send + 'static> Sink<T> for Collect<T> {
    fn open_partition(
        &self,
        _w: usize,
        _n: usize,
        _tx: bool,
    ) -> weir::Result<Box<dyn SinkPartition<T>>> {
        Ok(Box::new(CollectPartition {
            shared: self.0.clone(),
            mine: Vec::new(),
            fail_after: None,
        }))
    }
}

impl<T: Clone + Send> SinkPartition<T> for CollectPartition<T> {
    fn write_batch(&mut self, batch: &[T]) -> weir::Result<()> {
        self.mine.extend_from_slice(batch);
        if self.fail_after.is_some_and(|n| self.mine.len() > n) {
            return Err(Error::Runtime("disk on fire".into()));
        }
        Ok(())
    }
    fn finish(&mut self) -> weir::Result<SinkStats> {
        let records = self.mine.len() as u64;
        self.shared.lock().unwrap().append(&mut self.mine);
        Ok(SinkStats {
            records,
            checksum: 0,
        })
    }
}

impl<T: Clone> Collect<T> {
    /// Everything collected so far (emptying it).
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A run of `workers` unpinned workers checkpointing into `dir/ckpt` every `interval`, dead
/// letters in `dir`.
pub fn checkpointing(dir: &Path, workers: usize, interval: Duration, restore: bool) -> RunConfig {
    RunConfig {
        workers,
        pin: false,
        dead_letter_path: dir.join("dead.jsonl"),
        checkpoint: Some(CheckpointConfig {
            dir: dir.join("ckpt"),
            interval,
            retain: 10,
            restore: if restore {
                RestoreFrom::Latest
            } else {
                RestoreFrom::None
            },
            restore_required: restore,
            allow_at_least_once: false,
            lineage: None,
        }),
        ..RunConfig::default()
    }
}
