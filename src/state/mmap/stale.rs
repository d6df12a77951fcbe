//! Working directories left behind by a killed process (kill -9 skips the drop that removes
//! them): removed when a new state object creates its own next to them, so that run files no
//! checkpoint links any more do not hold disk space forever.
//!
//! Only what weir provably wrote goes: a directory named `weir-state-{pid}-{hex}-{seq}`
//! whose process `pid` no longer runs (no `/proc/{pid}`, Linux), holding nothing but
//! `run-{n}.wr` and `run-{n}.tmp` files. Anything else — another name, a live process, a
//! foreign file inside — is left alone.

use std::path::Path;

/// The pid in a working directory name, if the name is one weir gives.
fn pid_of(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("weir-state-")?;
    let parts: Vec<&str> = rest.split('-').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = parts.len() == 3
        && digits(parts[0])
        && !parts[1].is_empty()
        && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
        && digits(parts[2]);
    ok.then(|| parts[0].parse().ok()).flatten()
}

/// Whether `name` is a working run file (`run-{n}.wr` or its temporaries `run-{n}.tmp`,
/// `.tmpi`, `.tmpd`).
fn is_working_run(name: &str) -> bool {
    let stem = name
        .strip_suffix(".wr")
        .or_else(|| name.strip_suffix(".tmp"))
        .or_else(|| name.strip_suffix(".tmpi"))
        .or_else(|| name.strip_suffix(".tmpd"))
        .and_then(|s| s.strip_prefix("run-"));
    stem.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether process `pid` is running (Linux: `/proc/{pid}` exists; elsewhere assumed yes).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    !cfg!(target_os = "linux") || Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the stale working directories in `base` (see the module docs); returns how many.
pub(super) fn remove_stale(base: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(pid_of) else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !alive(pid) && remove_if_only_runs(&entry.path()) {
            removed += 1;
        }
    }
    removed
}

/// Removes `dir` and its files when it holds working run files only.
fn remove_if_only_runs(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let plain = entry.file_type().is_ok_and(|t| t.is_file());
        if !plain || !entry.file_name().to_str().is_some_and(is_working_run) {
            return false;
        }
        files.push(entry.path());
    }
    files.iter().all(|f| std::fs::remove_file(f).is_ok()) && std::fs::remove_dir(dir).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_directories_of_dead_processes_go_and_nothing_else() {
        let base = std::env::temp_dir().join(format!("weir-stale-test-{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        // pid 0 never names a user process's /proc entry ("/proc/0" does not exist).
        let dead = base.join("weir-state-0-00ab-1");
        let foreign = base.join("weir-state-0-00ab-2");
        let mine = base.join(format!("weir-state-{}-00ab-3", std::process::id()));
        let other = base.join("my-notes");
        for d in [&dead, &foreign, &mine, &other] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("run-000001.wr"), b"x").unwrap();
        }
        std::fs::write(foreign.join("notes.txt"), b"keep").unwrap();
        assert_eq!(remove_stale(&base), 1);
        assert!(!dead.exists());
        assert!(foreign.join("notes.txt").exists() && foreign.join("run-000001.wr").exists());
        assert!(mine.exists() && other.exists());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn names_are_recognized_strictly() {
        assert_eq!(pid_of("weir-state-12-0f-3"), Some(12));
        assert_eq!(pid_of("weir-state-12-0f"), None);
        assert_eq!(pid_of("weir-state-x-0f-3"), None);
        assert!(is_working_run("run-000003.wr") && is_working_run("run-1.tmp"));
        assert!(is_working_run("run-000004.tmpi") && is_working_run("run-000004.tmpd"));
        assert!(!is_working_run("run-.wr") && !is_working_run("run-1.wr.bak"));
    }
}
