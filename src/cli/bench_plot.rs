//! `weir bench --plot FILE.svg`: the latency percentile curve and, per 100 ms, throughput and
//! p99 with checkpoint intervals marked (plotters, SVG).

use crate::metrics::latency::LatencyReport;
use plotters::prelude::*;
use std::path::Path;

/// Quantiles of the percentile curve: 0, 0.9, 0.99, … up to 0.999999, with steps between.
fn curve(report: &LatencyReport) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    for step in 0..=60 {
        // x = number of nines: quantile 1 - 10^-x.
        let nines = f64::from(step) / 10.0;
        let q = 1.0 - 10f64.powf(-nines);
        points.push((nines, report.at(q).max(1) as f64 / 1e3));
    }
    points
}

fn err(e: impl std::fmt::Display) -> crate::Error {
    crate::Error::Runtime(format!("plot: {e}"))
}

/// Draws the report of one run into `path`.
///
/// # Errors
/// The file cannot be written, or drawing fails.
pub fn draw(path: &Path, title: &str, report: &LatencyReport) -> crate::Result<()> {
    let root = SVGBackend::new(path, (1000, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(450);
    let pts = curve(report);
    let max_us = pts.iter().map(|p| p.1).fold(1.0, f64::max) * 1.2;
    let mut chart = ChartBuilder::on(&top)
        .caption(
            format!("{title}: latency by percentile"),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..6f64, (1f64..max_us).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("percentile (0 = p0, 1 = p90, 2 = p99, 3 = p99.9, ...)")
        .y_desc("latency (µs)")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(pts, &BLUE))
        .map_err(err)?;

    let series = &report.series;
    let secs = series.len().max(1) as f64 / 10.0;
    let max_rate = series
        .iter()
        .map(|p| p.samples as f64 * 10.0)
        .fold(1.0, f64::max)
        * 1.2;
    let max_p99 = series
        .iter()
        .map(|p| p.p99_ns as f64 / 1e3)
        .fold(1.0, f64::max)
        * 1.2;
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            "per 100 ms: throughput (blue), p99 (green), checkpoints (red)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(70)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0f64..secs, 0f64..max_rate)
        .map_err(err)?
        .set_secondary_coord(0f64..secs, (1f64..max_p99).log_scale());
    chart
        .configure_mesh()
        .x_desc("seconds")
        .y_desc("events/s")
        .draw()
        .map_err(err)?;
    chart
        .configure_secondary_axes()
        .y_desc("p99 (µs)")
        .draw()
        .map_err(err)?;
    let t = |start_ms: u64| start_ms as f64 / 1e3;
    chart
        .draw_series(LineSeries::new(
            series
                .iter()
                .map(|p| (t(p.start_ms), p.samples as f64 * 10.0)),
            &BLUE,
        ))
        .map_err(err)?;
    chart
        .draw_secondary_series(LineSeries::new(
            series
                .iter()
                .map(|p| (t(p.start_ms), (p.p99_ns as f64 / 1e3).max(1.0))),
            &GREEN,
        ))
        .map_err(err)?;
    for p in series.iter().filter(|p| p.checkpoint) {
        let x = t(p.start_ms);
        chart
            .draw_series(LineSeries::new([(x, 0.0), (x, max_rate)], &RED))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}
