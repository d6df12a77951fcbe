//! The Prometheus endpoint: `--metrics-addr ADDR` serves the live counters as OpenMetrics text
//! (`prometheus-client`) from a small thread on a plain `std::net` listener.
//!
//! Metrics (per worker unless noted): `weir_source_records_total`, `weir_sink_records_total`,
//! `weir_dead_letters_total`, `weir_checkpoint_barriers_total`; job-wide:
//! `weir_checkpoints_retained`, `weir_checkpoint_last_id`,
//! `weir_checkpoint_last_success_timestamp_seconds`, `weir_checkpoint_last_size_bytes`,
//! `weir_uptime_seconds`; per stage and worker: `weir_stage_records_in_total`,
//! `weir_stage_records_out_total`, `weir_stage_input_queued_messages` (backpressure),
//! `weir_stage_watermark_seconds`, `weir_stage_watermark_lag_seconds`,
//! `weir_stage_late_records_total`, `weir_stage_state_entries`, `weir_stage_state_bytes` (at
//! the last checkpoint); job-wide `weir_checkpoint_last_duration_seconds`; in latency runs
//! (`weir bench --rate --metrics-addr`) `weir_latency_seconds{worker,quantile}`.

use super::live::Live;
use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// The label of per-worker metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabel {
    worker: u64,
}

/// The label of per-stage metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabel {
    stage: String,
    worker: u64,
}

/// Per stage and worker: records in and out, the watermark and its lag behind processing
/// time, and the messages queued in the stage's input rings (backpressure).
fn stage_metrics(live: &Live, registry: &mut Registry) {
    let counter = |name: &str, help: &str, registry: &mut Registry| {
        let family = Family::<StageLabel, Counter>::default();
        registry.register(name, help, family.clone());
        family
    };
    let gauge = |name: &str, help: &str, registry: &mut Registry| {
        let family = Family::<StageLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(name, help, family.clone());
        family
    };
    let records_in = counter(
        "stage_records_in",
        "Records a stage read from its input rings",
        registry,
    );
    let records_out = counter("stage_records_out", "Records a stage emitted", registry);
    let queued = gauge(
        "stage_input_queued_messages",
        "Messages waiting in a stage's input rings (backpressure)",
        registry,
    );
    let watermark = gauge(
        "stage_watermark_seconds",
        "A stage's event-time watermark (absent before the first)",
        registry,
    );
    let lag = gauge(
        "stage_watermark_lag_seconds",
        "Processing time minus a stage's event-time watermark",
        registry,
    );
    let late = counter(
        "stage_late_records",
        "Records a stage sent to its late side outputs",
        registry,
    );
    let state_entries = gauge(
        "stage_state_entries",
        "Keyed state entries of a stage on a worker at its last checkpoint",
        registry,
    );
    let state_bytes = gauge("stage_state_bytes", "Encoded bytes of that state", registry);
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    for s in live.stages() {
        let label = StageLabel {
            stage: s.stage.clone(),
            worker: s.worker as u64,
        };
        records_in.get_or_create(&label).inc_by(s.records_in);
        records_out.get_or_create(&label).inc_by(s.records_out);
        queued.get_or_create(&label).set(s.queued as f64);
        late.get_or_create(&label).inc_by(s.late);
        state_entries
            .get_or_create(&label)
            .set(s.state_entries as f64);
        state_bytes.get_or_create(&label).set(s.state_bytes as f64);
        if s.watermark_ms != i64::MIN && s.watermark_ms != i64::MAX {
            let wm = s.watermark_ms as f64 / 1e3;
            watermark.get_or_create(&label).set(wm);
            lag.get_or_create(&label).set(now_s - wm);
        }
    }
}

/// The labels of the latency summary.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuantileLabel {
    worker: u64,
    quantile: String,
}

/// End-to-end latency per worker (latency runs: outputs carry their scheduled time), as
/// p50/p99/p99.9/max of the samples so far.
fn latency_metrics(live: &Live, registry: &mut Registry) {
    let workers = live.latency();
    if workers.iter().all(|w| w.iter().all(|v| *v == 0)) {
        return;
    }
    let family = Family::<QuantileLabel, Gauge<f64, AtomicU64>>::default();
    registry.register(
        "latency_seconds",
        "End-to-end latency of the worker's outputs so far (scheduled time to sink)",
        family.clone(),
    );
    for (w, values) in workers.iter().enumerate() {
        for (q, v) in super::live::LATENCY_QUANTILES.iter().zip(values) {
            let label = QuantileLabel {
                worker: w as u64,
                quantile: q.to_string(),
            };
            family.get_or_create(&label).set(*v as f64 / 1e9);
        }
    }
}

/// Renders the current counters as OpenMetrics text.
pub fn render(live: &Live) -> String {
    let mut registry = Registry::with_prefix("weir");
    let per_worker = |name: &str, help: &str, registry: &mut Registry| {
        let family = Family::<WorkerLabel, Counter>::default();
        registry.register(name, help, family.clone());
        family
    };
    let source = per_worker(
        "source_records",
        "Records produced by the worker's source split",
        &mut registry,
    );
    let sink = per_worker(
        "sink_records",
        "Records received by the worker's sink partition",
        &mut registry,
    );
    let dead = per_worker(
        "dead_letters",
        "Malformed records dead-lettered by the worker's split",
        &mut registry,
    );
    let barriers = per_worker(
        "checkpoint_barriers",
        "Checkpoint barriers the worker's sink partition passed",
        &mut registry,
    );
    for (w, s) in live.snapshot().iter().enumerate() {
        let label = WorkerLabel { worker: w as u64 };
        source.get_or_create(&label).inc_by(s.source_records);
        sink.get_or_create(&label).inc_by(s.sink_records);
        dead.get_or_create(&label).inc_by(s.dead_letters);
        barriers.get_or_create(&label).inc_by(s.barriers);
    }
    stage_metrics(live, &mut registry);
    latency_metrics(live, &mut registry);
    let gauge = |name: &str, help: &str, value: f64, registry: &mut Registry| {
        let g = Gauge::<f64, AtomicU64>::default();
        g.set(value);
        registry.register(name, help, g);
    };
    gauge(
        "uptime_seconds",
        "Seconds since the job started",
        live.uptime_secs(),
        &mut registry,
    );
    if let Some(d) = live.last_checkpoint_duration() {
        gauge(
            "checkpoint_last_duration_seconds",
            "Trigger to committed MANIFEST of the last checkpoint",
            d.as_secs_f64(),
            &mut registry,
        );
    }
    if let Some(dir) = live.checkpoint_dir() {
        let complete: Vec<_> = crate::checkpoint::list(&dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|c| c.complete)
            .collect();
        gauge(
            "checkpoints_retained",
            "Complete checkpoints in the checkpoint directory",
            complete.len() as f64,
            &mut registry,
        );
        if let Some(last) = complete.last() {
            gauge(
                "checkpoint_last_id",
                "Id of the newest complete checkpoint",
                last.id as f64,
                &mut registry,
            );
            gauge(
                "checkpoint_last_success_timestamp_seconds",
                "Commit time of the newest complete checkpoint",
                last.created_ms.unwrap_or(0) as f64 / 1e3,
                &mut registry,
            );
            gauge(
                "checkpoint_last_size_bytes",
                "Bytes of the newest complete checkpoint",
                last.total_bytes as f64,
                &mut registry,
            );
        }
    }
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = encode(&mut text, &registry);
    text
}

/// Binds `addr` and serves [`render`] on every request from a background thread; returns the
/// bound address.
///
/// # Errors
/// The address cannot be bound.
pub fn serve(addr: &str, live: Arc<Live>) -> crate::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).map_err(|e| crate::Error::io(addr, e))?;
    let local = listener
        .local_addr()
        .map_err(|e| crate::Error::io(addr, e))?;
    std::thread::Builder::new()
        .name("weir-metrics".into())
        .spawn(move || {
            for conn in listener.incoming() {
                match conn {
                    Ok(c) => {
                        if let Err(e) = answer(c, &live) {
                            tracing::debug!(error = %e, "metrics: request failed");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "metrics: accept failed"),
                }
            }
        })
        .map_err(|e| crate::Error::Runtime(format!("no metrics thread: {e}")))?;
    Ok(local)
}

/// Reads one HTTP request (its head) and answers with the metrics (`GET /metrics` or `/`).
fn answer(mut conn: TcpStream, live: &Live) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body, kind) = if method == "GET" && (path == "/metrics" || path == "/") {
        (
            "200 OK",
            render(live),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )
    } else {
        ("404 Not Found", "see /metrics\n".to_string(), "text/plain")
    };
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[test]
    fn renders_per_worker_counters() {
        let live = super::super::live::enable(None);
        live.worker(1).sink_records.store(42, Ordering::Relaxed);
        let text = render(&live);
        assert!(
            text.contains("weir_sink_records_total{worker=\"1\"} 42"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE weir_source_records counter"),
            "{text}"
        );
        assert!(text.contains("weir_uptime_seconds"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn renders_per_stage_counters_and_checkpoint_duration() {
        let live = super::super::live::enable(None);
        let stage = live.stage("per_key", 0);
        stage.publish(10, 9, 2, 1_700_000_000_000, 3);
        stage.publish_state(7, 100);
        live.checkpoint_committed(std::time::Duration::from_millis(250));
        live.worker(3).latency_ns[1].store(2_000_000, Ordering::Relaxed);
        let text = render(&live);
        for want in [
            "weir_stage_records_in_total{stage=\"per_key\",worker=\"0\"} 10",
            "weir_stage_records_out_total{stage=\"per_key\",worker=\"0\"} 9",
            "weir_stage_late_records_total{stage=\"per_key\",worker=\"0\"} 2",
            "weir_stage_input_queued_messages{stage=\"per_key\",worker=\"0\"} 3",
            "weir_stage_state_entries{stage=\"per_key\",worker=\"0\"} 7",
            "weir_stage_watermark_seconds{stage=\"per_key\",worker=\"0\"} 1700000000",
            "weir_checkpoint_last_duration_seconds 0.25",
            "weir_latency_seconds{worker=\"3\",quantile=\"0.99\"} 0.002",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
    }
}
