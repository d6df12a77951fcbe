//! End-to-end latency of an open-loop run: per sink partition, a histogram of all samples, one
//! per 100 ms interval (throughput and p99 over time), and which intervals held a checkpoint.

use hdrhistogram::Histogram;

/// Width of a time-series interval, in nanoseconds (100 ms).
pub const INTERVAL_NS: u64 = 100_000_000;
/// Highest latency recorded exactly (60 s, in ns); larger ones are clamped to it.
const MAX_NS: u64 = 60_000_000_000;

/// A histogram of 1 ns ..= 60 s with `sigfig` significant figures (2 or 3).
fn histogram(sigfig: u8) -> Histogram<u64> {
    // The bounds are constants hdrhistogram accepts (low >= 1, high >= 2 * low, sigfig <= 5).
    Histogram::new_with_bounds(1, MAX_NS, sigfig).expect("constant, valid bounds")
}

/// One partition's latency samples (not shared: merged at the end).
#[derive(Clone)]
pub struct LatencyRecorder {
    /// Schedule origin (ns on [`super::clock::now_ns`]'s clock); intervals count from it.
    origin_ns: u64,
    all: Histogram<u64>,
    /// Per interval since `origin_ns`: its samples (2 significant figures).
    intervals: Vec<Histogram<u64>>,
    /// Intervals in which this partition passed a checkpoint barrier.
    checkpoints: Vec<usize>,
    /// Time of the last batch recorded (ns), 0 before any.
    last_ns: u64,
}

impl LatencyRecorder {
    /// A recorder whose intervals start at `origin_ns`.
    pub fn new(origin_ns: u64) -> Self {
        LatencyRecorder {
            origin_ns,
            all: histogram(3),
            intervals: Vec::new(),
            checkpoints: Vec::new(),
            last_ns: 0,
        }
    }

    /// Time of the last batch recorded (ns on the shared clock), 0 before any.
    pub fn last_ns(&self) -> u64 {
        self.last_ns
    }

    /// The schedule origin of the intervals.
    pub fn origin_ns(&self) -> u64 {
        self.origin_ns
    }

    fn interval(&mut self, now_ns: u64) -> usize {
        let i = (now_ns.saturating_sub(self.origin_ns) / INTERVAL_NS) as usize;
        while self.intervals.len() <= i {
            self.intervals.push(histogram(2));
        }
        i
    }

    /// Records the latencies of outputs received at `now_ns` whose events were scheduled at
    /// `scheduled` (ns): one clock read per batch, by the caller. An output stamped later than
    /// its receipt (a window closed early by the end of input) is not a sample.
    pub fn record_batch(&mut self, now_ns: u64, scheduled: impl Iterator<Item = u64>) {
        let i = self.interval(now_ns);
        self.last_ns = self.last_ns.max(now_ns);
        for s in scheduled.filter(|s| *s <= now_ns) {
            let v = (now_ns - s).clamp(1, MAX_NS);
            self.all.saturating_record(v);
            self.intervals[i].saturating_record(v);
        }
    }

    /// The latency at quantile `q` (0..=1) of every sample so far, in ns (0 without samples).
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.all.is_empty() {
            0
        } else {
            self.all.value_at_quantile(q)
        }
    }

    /// Notes that a checkpoint barrier passed at `now_ns`.
    pub fn checkpoint(&mut self, now_ns: u64) {
        let i = self.interval(now_ns);
        self.checkpoints.push(i);
    }

    /// Adds another partition's samples.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        let _ = self.all.add(&other.all);
        for (i, h) in other.intervals.iter().enumerate() {
            let _ = self.interval(self.origin_ns + i as u64 * INTERVAL_NS);
            let _ = self.intervals[i].add(h);
        }
        self.checkpoints.extend(&other.checkpoints);
        self.last_ns = self.last_ns.max(other.last_ns);
    }

    /// The merged figures.
    pub fn report(&self) -> LatencyReport {
        let mut ck = self.checkpoints.clone();
        ck.sort_unstable();
        ck.dedup();
        let mut near = histogram(2);
        for &i in &ck {
            if let Some(h) = self.intervals.get(i) {
                let _ = near.add(h);
            }
        }
        LatencyReport {
            all: self.all.clone(),
            series: self
                .intervals
                .iter()
                .enumerate()
                .map(|(i, h)| SeriesPoint {
                    start_ms: i as u64 * INTERVAL_NS / 1_000_000,
                    samples: h.len(),
                    p99_ns: h.value_at_quantile(0.99),
                    checkpoint: ck.binary_search(&i).is_ok(),
                })
                .collect(),
            near_checkpoints: near,
        }
    }
}

/// One 100 ms interval of the time series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesPoint {
    /// Interval start, ms after the schedule origin.
    pub start_ms: u64,
    /// Outputs received in the interval.
    pub samples: u64,
    /// Their 99th percentile latency (ns).
    pub p99_ns: u64,
    /// A checkpoint barrier passed a sink partition in the interval.
    pub checkpoint: bool,
}

/// Merged latency figures of a run.
pub struct LatencyReport {
    /// Every sample (ns).
    pub all: Histogram<u64>,
    /// Throughput and p99 per 100 ms.
    pub series: Vec<SeriesPoint>,
    /// The samples of intervals with a checkpoint.
    pub near_checkpoints: Histogram<u64>,
}

/// The percentiles reported: label and quantile.
pub const PERCENTILES: [(&str, f64); 6] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p99", 0.99),
    ("p999", 0.999),
    ("p9999", 0.9999),
    ("max", 1.0),
];

impl LatencyReport {
    /// The value at quantile `q` (ns).
    pub fn at(&self, q: f64) -> u64 {
        if q >= 1.0 {
            self.all.max()
        } else {
            self.all.value_at_quantile(q)
        }
    }

    /// Of the samples at or above quantile `q`'s value, the share recorded in intervals with
    /// a checkpoint (0 when there are none).
    pub fn checkpoint_share(&self, q: f64) -> f64 {
        let v = self.at(q);
        // Samples at or above the start of v's bucket at the coarser precision (the
        // checkpoint intervals' histograms have 2 significant figures, `all` has 3).
        let low = self.near_checkpoints.lowest_equivalent(v);
        let tail = |h: &Histogram<u64>| {
            h.len()
                - if low == 0 {
                    0
                } else {
                    h.count_between(0, low - 1)
                }
        };
        let all = tail(&self.all);
        if all == 0 {
            return 0.0;
        }
        (tail(&self.near_checkpoints) as f64 / all as f64).min(1.0)
    }

    /// The share of all samples recorded in intervals with a checkpoint (the share a tail
    /// unaffected by checkpoints would show).
    pub fn checkpoint_base_share(&self) -> f64 {
        if self.all.is_empty() {
            0.0
        } else {
            self.near_checkpoints.len() as f64 / self.all.len() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_partitions_and_marks_checkpoint_intervals() {
        let mut a = LatencyRecorder::new(1_000);
        let mut b = LatencyRecorder::new(1_000);
        // Interval 0: 98 samples of 10 ms from a.
        a.record_batch(
            1_000 + 50_000_000,
            std::iter::repeat_n(1_000 + 40_000_000, 98),
        );
        // Interval 2: a checkpoint, and 2 samples of 20 ms from b.
        b.checkpoint(1_000 + 210_000_000);
        b.record_batch(
            1_000 + 220_000_000,
            std::iter::repeat_n(1_000 + 200_000_000, 2),
        );
        a.merge(&b);
        let r = a.report();
        assert_eq!(r.all.len(), 100);
        let near = |v: u64, want: u64| v.abs_diff(want) * 100 <= want;
        assert!(near(r.at(0.5), 10_000_000), "{}", r.at(0.5));
        assert!(near(r.at(1.0), 20_000_000));
        assert_eq!(r.series.len(), 3);
        assert_eq!((r.series[0].samples, r.series[0].checkpoint), (98, false));
        assert_eq!((r.series[1].samples, r.series[1].checkpoint), (0, false));
        assert_eq!((r.series[2].samples, r.series[2].checkpoint), (2, true));
        assert!((r.checkpoint_base_share() - 0.02).abs() < 1e-9);
        assert!(
            (r.checkpoint_share(1.0) - 1.0).abs() < 1e-9,
            "the max is a checkpoint sample"
        );
        assert!(r.checkpoint_share(0.5) < 0.05);
    }
}
