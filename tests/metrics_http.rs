//! `weir run --metrics-addr`: a scrape over HTTP during a run shows the records the clients
//! sent, per worker, and the dead letters; unknown paths get 404.

mod tcp_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tcp_support::Running;

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("metrics endpoint");
    write!(s, "GET {path} HTTP/1.1\r\nHost: weir\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

/// Sum of a per-worker counter over the workers in a scrape.
fn total(scrape: &str, name: &str) -> u64 {
    scrape
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[test]
fn a_scrape_during_a_run_counts_what_clients_sent() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::write(
        dir.path().join("p.toml"),
        tcp_support::rolling_pipeline(&out, "max_clients = 1"),
    )
    .unwrap();
    let weir = Running::start(
        dir.path(),
        &[
            "run",
            "p.toml",
            "--workers",
            "2",
            "--no-pin",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
    );
    let port = weir.port();
    let addr = loop {
        let text = weir.stderr();
        if let Some(rest) = text.split("metrics on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let lines: String = (0..1000).map(|i| format!("k{},{i}\n", i % 10)).collect();
    client.write_all(lines.as_bytes()).unwrap();
    client.write_all(b"garbage\n").unwrap();
    // The client stays connected, so the job is still running while we scrape.
    let deadline = Instant::now() + Duration::from_secs(60);
    let scrape = loop {
        let response = get(&addr, "/metrics");
        if total(&response, "weir_sink_records_total") == 1000
            && total(&response, "weir_stage_records_out_total") == 1000
        {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "never saw 1000 records: {response}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(scrape.starts_with("HTTP/1.1 200 OK"), "{scrape}");
    assert_eq!(
        total(&scrape, "weir_source_records_total"),
        1000,
        "{scrape}"
    );
    assert!(
        scrape.contains("weir_sink_records_total{worker=\"1\"}"),
        "{scrape}"
    );
    assert_eq!(total(&scrape, "weir_dead_letters_total"), 1, "{scrape}");
    // Per stage (the rolling stage, named by the pipeline): every record went in and out.
    assert_eq!(
        total(&scrape, "weir_stage_records_in_total"),
        1000,
        "{scrape}"
    );
    assert_eq!(
        total(&scrape, "weir_stage_records_out_total"),
        1000,
        "{scrape}"
    );
    assert!(
        scrape.contains("weir_stage_input_queued_messages{"),
        "{scrape}"
    );
    assert!(get(&addr, "/nope").starts_with("HTTP/1.1 404"));
    drop(client);
    let (code, stderr) = weir.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
}

/// `weir bench --rate --metrics-addr`: a scrape during a latency run shows the live latency
/// summary per worker.
#[test]
fn a_latency_run_serves_its_latency_summary() {
    let dir = tempfile::tempdir().unwrap();
    let weir = Running::start(
        dir.path(),
        &[
            "bench",
            "--workload",
            "w1",
            "--keys",
            "1000",
            "--rate",
            "100k/s",
            "--duration",
            "4s",
            "--workers",
            "1",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let text = weir.stderr();
        if let Some(rest) = text.split("metrics on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no metrics address: {text}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let scrape = loop {
        let response = get(&addr, "/metrics");
        if response.contains("weir_latency_seconds{worker=\"0\",quantile=\"0.99\"}") {
            break response;
        }
        assert!(Instant::now() < deadline, "no latency summary: {response}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let p99 = scrape
        .lines()
        .find(|l| l.starts_with("weir_latency_seconds{worker=\"0\",quantile=\"0.99\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("a value");
    assert!(p99 > 0.0 && p99 < 60.0, "{p99}");
    let (code, stderr) = weir.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
}
