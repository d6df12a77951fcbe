//! CPU time of the calling thread, for benchmarks on a loaded machine (wall time there counts
//! the time other processes ran too).

#![allow(unsafe_code)] // clock_gettime; see `thread_cpu_ms`

/// CPU time the calling thread has used, in milliseconds (0 when the clock is unavailable).
pub(crate) fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, exclusively borrowed timespec for the call to write into;
    // CLOCK_THREAD_CPUTIME_ID is a clock every Linux provides, and on error `ts` stays zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::thread_cpu_ms;

    #[test]
    fn thread_cpu_time_grows_with_work_on_this_thread() {
        let before = thread_cpu_ms();
        let mut x = 1u64;
        let mut after = before;
        // Spin until the clock moves (it has at least microsecond resolution).
        for _ in 0..1_000_000_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            after = thread_cpu_ms();
            if after > before {
                break;
            }
        }
        assert!(x != 0 || after > 0.0);
        assert!(after > before, "{before} -> {after}");
    }
}
