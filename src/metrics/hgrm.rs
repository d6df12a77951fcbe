//! The classic HdrHistogram percentile-distribution text (`.hgrm`), loadable in the usual HDR
//! plotters: `Value Percentile TotalCount 1/(1-Percentile)` rows, then a Mean/Max footer.

use hdrhistogram::Histogram;
use std::fmt::Write;

/// The percentile distribution of `h`, values divided by `scale` (e.g. 1000 for ns → µs),
/// with `ticks` reporting steps per half distance to 100 %.
pub fn percentile_distribution(h: &Histogram<u64>, scale: f64, ticks: u32) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    for v in h.iter_quantiles(ticks) {
        let q = v.quantile_iterated_to();
        let value = v.value_iterated_to() as f64 / scale;
        total += v.count_since_last_iteration();
        if q < 1.0 {
            let _ = writeln!(
                out,
                "{value:12.3} {q:2.12} {:10} {:14.2}",
                total,
                1.0 / (1.0 - q)
            );
        } else {
            let _ = writeln!(out, "{value:12.3} {q:2.12} {:10} {:>14}", total, "inf");
        }
    }
    let mean = h.mean() / scale;
    let stdev = h.stdev() / scale;
    let _ = writeln!(
        out,
        "#[Mean    = {mean:12.3}, StdDeviation   = {stdev:12.3}]"
    );
    let _ = writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        h.max() as f64 / scale,
        h.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden case of the C library: 2 once and 4 ten times.
    #[test]
    fn matches_the_reference_rows() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        h.record(2).unwrap();
        h.record_n(4, 10).unwrap();
        let text = percentile_distribution(&h, 1.0, 5);
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(2)
            .take_while(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect())
            .collect();
        let first = &rows[0];
        assert_eq!(&first[..], ["2.000", "0.000000000000", "1", "1.00"]);
        assert_eq!(&rows[1][..], ["4.000", "0.100000000000", "11", "1.11"]);
        assert_eq!(
            &rows.last().unwrap()[..],
            ["4.000", "1.000000000000", "11", "inf"]
        );
        assert!(text.contains("#[Max     =        4.000, Total count    =           11]"));
    }
}
