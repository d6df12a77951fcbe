//! The mmap backend's cache bound follows the memory the process may use.
//!
//! The mmap backend keeps up to `cache_entries` decoded entries per state object and worker
//! in anonymous memory; everything else lives in run files, whose pages the kernel may drop
//! (page cache counts toward a memory cgroup, but is reclaimed when the cgroup reaches its
//! limit, anonymous memory is not). Inside a memory cgroup the default cache (1M entries,
//! about 100 MB per state and worker) can alone exceed the limit, so the cache bound is capped
//! at a quarter of the limit ([`CACHE_SHARE`]) divided by the workers and by a conservative
//! cost per cached entry ([`BYTES_PER_CACHED_ENTRY`]). Outside a limited cgroup nothing
//! changes.

use super::backend::StateBackend;
use std::path::{Path, PathBuf};

/// Anonymous bytes one cached entry may cost: its boxed entry, its table slot (at the table's
/// load factor) and allocator overhead, for small keys and values (W1's `u64 → i64` measures
/// about 100 bytes); generous on purpose.
pub const BYTES_PER_CACHED_ENTRY: u64 = 256;

/// The fraction (1 / `CACHE_SHARE`) of the memory limit that the caches of all workers may
/// use together; the rest is for the engine's buffers and the mapped run files' pages.
pub const CACHE_SHARE: u64 = 4;

/// Fewest entries a capped cache keeps (below this, flushes would write tiny runs).
pub const MIN_CACHE_ENTRIES: usize = 4096;

/// Limits at or above this are "no limit" (cgroup v1 reports `i64::MAX` rounded to pages).
const UNLIMITED: u64 = 1 << 60;

/// The memory limit of the cgroup this process runs in (the smallest limit on its path: a
/// parent's limit applies too), for cgroup v1 (`memory.limit_in_bytes`) and v2
/// (`memory.max`); `None` when there is none or it cannot be read.
pub fn cgroup_memory_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let (v1, v2) = parse_proc_cgroup(&text);
    let v1 = v1.and_then(|p| {
        smallest_on_path(
            Path::new("/sys/fs/cgroup/memory"),
            &p,
            "memory.limit_in_bytes",
        )
    });
    let v2 = v2.and_then(|p| smallest_on_path(Path::new("/sys/fs/cgroup"), &p, "memory.max"));
    match (v1, v2) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The v1 memory controller's path and the v2 path from `/proc/self/cgroup` text.
fn parse_proc_cgroup(text: &str) -> (Option<String>, Option<String>) {
    let (mut v1, mut v2) = (None, None);
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path.to_string());
        } else if id == "0" && controllers.is_empty() {
            v2 = Some(path.to_string());
        }
    }
    (v1, v2)
}

/// A limit file's value (`None` for `max`, for an absurdly large value, or for garbage).
fn parse_limit(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().filter(|&v| v < UNLIMITED)
}

/// The smallest limit in `file` of the cgroups from `root/path` up to `root`.
fn smallest_on_path(root: &Path, path: &str, file: &str) -> Option<u64> {
    let mut dir: PathBuf = root.join(path.trim_start_matches('/'));
    let mut best: Option<u64> = None;
    loop {
        let limit = std::fs::read_to_string(dir.join(file))
            .ok()
            .and_then(|t| parse_limit(&t));
        best = match (best, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if dir == root || !dir.pop() || !dir.starts_with(root) {
            return best;
        }
    }
}

/// Cache entries per state object and worker that fit a memory `limit` shared by `workers`.
pub fn cache_entries_for(limit: u64, workers: usize) -> usize {
    let per_worker = limit / CACHE_SHARE / workers.max(1) as u64;
    let entries = per_worker / BYTES_PER_CACHED_ENTRY;
    usize::try_from(entries)
        .unwrap_or(usize::MAX)
        .max(MIN_CACHE_ENTRIES)
}

/// `backend` with its cache bound capped for a memory `limit` shared by `workers` (the heap
/// backend, or no limit: unchanged). A cap is logged.
pub fn cap(backend: StateBackend, workers: usize, limit: Option<u64>) -> StateBackend {
    match (backend, limit) {
        (StateBackend::Mmap { dir, cache_entries }, Some(limit)) => {
            let fit = cache_entries_for(limit, workers);
            if fit < cache_entries {
                tracing::info!(
                    limit_bytes = limit,
                    workers,
                    cache_entries = fit,
                    "mmap state cache capped to fit the cgroup's memory limit"
                );
            }
            StateBackend::Mmap {
                dir,
                cache_entries: cache_entries.min(fit),
            }
        }
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_cgroup_lines_of_both_versions_are_found() {
        let v1 = "12:pids:/a\n9:memory:/weir-run-42\n1:name=systemd:/x\n0::/y\n";
        assert_eq!(
            parse_proc_cgroup(v1),
            (Some("/weir-run-42".into()), Some("/y".into()))
        );
        let v2 = "0::/user.slice/job\n";
        assert_eq!(
            parse_proc_cgroup(v2),
            (None, Some("/user.slice/job".into()))
        );
        assert_eq!(parse_proc_cgroup("garbage\n::\n"), (None, None));
    }

    #[test]
    fn limits_parse_and_unlimited_is_none() {
        assert_eq!(parse_limit("134217728\n"), Some(134_217_728));
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712"), None);
        assert_eq!(parse_limit(""), None);
    }

    #[test]
    fn the_smallest_limit_on_the_path_applies() {
        let root = tempfile::tempdir().unwrap();
        let child = root.path().join("a/b");
        std::fs::create_dir_all(&child).unwrap();
        std::fs::write(root.path().join("a/m"), "1000000\n").unwrap();
        std::fs::write(child.join("m"), "max\n").unwrap();
        assert_eq!(smallest_on_path(root.path(), "/a/b", "m"), Some(1_000_000));
        std::fs::write(child.join("m"), "5000\n").unwrap();
        assert_eq!(smallest_on_path(root.path(), "/a/b", "m"), Some(5000));
        assert_eq!(smallest_on_path(root.path(), "/c", "m"), None);
    }

    #[test]
    fn the_cache_is_capped_only_under_a_limit() {
        let mmap = StateBackend::Mmap {
            dir: None,
            cache_entries: 1 << 20,
        };
        assert_eq!(cap(mmap.clone(), 2, None), mmap);
        assert_eq!(
            cap(StateBackend::Heap, 1, Some(1 << 20)),
            StateBackend::Heap
        );
        let capped = cap(mmap.clone(), 1, Some(128 << 20));
        let expected = (128 << 20) / CACHE_SHARE / BYTES_PER_CACHED_ENTRY;
        assert!(
            matches!(capped, StateBackend::Mmap { cache_entries, .. } if cache_entries as u64 == expected)
        );
        // Two workers share the limit; a tiny limit keeps the minimum; a large one the setting.
        assert_eq!(cache_entries_for(128 << 20, 2) as u64, expected / 2);
        assert_eq!(cache_entries_for(1 << 20, 8), MIN_CACHE_ENTRIES);
        assert_eq!(cap(mmap.clone(), 1, Some(1 << 40)), mmap);
    }
}
