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
                    "\r\x1b[2Kweir: in {} rec/s, out {} rec/s, total in {input}, dead-lettered {dead}, checkpoint barriers {barriers}{}{}",
                    input.saturating_sub(last.0),
                    output.saturating_sub(last.1),
                    watermark_lag(&live),
                    last_checkpoint(&live),
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

/// `, watermark lag 1.2s` from the stage furthest behind (event-time jobs only).
fn watermark_lag(live: &Live) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    live.stages()
        .iter()
        .map(|s| s.watermark_ms)
        .filter(|wm| *wm != i64::MIN && *wm != i64::MAX)
        .min()
        .map(|wm| format!(", watermark lag {:.1}s", (now_ms - wm) as f64 / 1e3))
        .unwrap_or_default()
}

/// `, last checkpoint 120ms` (duration of the last committed one).
fn last_checkpoint(live: &Live) -> String {
    live.last_checkpoint_duration()
        .map(|d| format!(", last checkpoint {}ms", d.as_millis()))
        .unwrap_or_default()
}
