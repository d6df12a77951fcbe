//! The live progress line on stderr (only when stderr is a terminal): records/s in and out,
//! dead letters, the last checkpoint barrier.

use super::live::Live;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Stops the progress line (and clears it) when dropped.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the progress line when stderr is a terminal; `None` otherwise (silent).
pub fn start(live: Arc<Live>) -> Option<Progress> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("weir-progress".into())
        .spawn(move || {
            let mut last = (0u64, 0u64);
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_secs(1));
                let snap = live.snapshot();
                let input: u64 = snap.iter().map(|s| s.source_records).sum();
                let output: u64 = snap.iter().map(|s| s.sink_records).sum();
                let dead: u64 = snap.iter().map(|s| s.dead_letters).sum();
                let barriers = snap.iter().map(|s| s.barriers).max().unwrap_or(0);
                eprint!(
                    "\r\x1b[2Kweir: in {} rec/s, out {} rec/s, total in {input}, dead-lettered {dead}, checkpoint barriers {barriers}",
                    input.saturating_sub(last.0),
                    output.saturating_sub(last.1)
                );
                let _ = std::io::stderr().flush();
                last = (input, output);
            }
            eprint!("\r\x1b[2K");
        })
        .ok()?;
    Some(Progress {
        stop,
        thread: Some(thread),
    })
}
