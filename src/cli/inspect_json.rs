//! `weir inspect --json`: the same listing and description as JSON, for scripts.

use crate::checkpoint::{CheckpointDetail, CheckpointSummary};
use serde_json::{json, Value};

/// A checkpoint directory's listing: `{"checkpoints": [...]}`.
pub fn listing(summaries: &[CheckpointSummary]) -> Value {
    let items: Vec<Value> = summaries
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "path": s.path.display().to_string(),
                "created_ms": s.created_ms,
                "complete": s.complete,
                "workers": s.workers,
                "total_bytes": s.total_bytes,
                "new_bytes": s.written.map(|w| w.new),
                "shared_bytes": s.written.map(|w| w.shared),
                "finished": s.finished,
                "problem": s.problem,
                "sources": s.sources,
            })
        })
        .collect();
    json!({ "checkpoints": items })
}

/// One checkpoint's description.
pub fn detail(d: &CheckpointDetail) -> Value {
    let files: Vec<Value> = d
        .files
        .iter()
        .map(|f| serde_json::to_value(f).unwrap_or(Value::Null))
        .collect();
    let groups: Vec<Value> = d
        .groups
        .iter()
        .map(|g| {
            let states: Vec<Value> = g
                .states
                .iter()
                .map(|s| json!({"name": s.name, "entries": s.entries, "bytes": s.bytes}))
                .collect();
            json!({"key_group": g.key_group, "file": g.file, "states": states})
        })
        .collect();
    json!({
        "id": d.id,
        "path": d.path.display().to_string(),
        "format_version": d.format_version,
        "fingerprint": format!("{:016x}", d.fingerprint),
        "created_ms": d.created_ms,
        "max_parallelism": d.max_parallelism,
        "workers": d.workers,
        "sink_epoch": d.sink_epoch,
        "finished": d.finished,
        "files": files,
        "groups": groups,
        "sources": d.sources,
    })
}
