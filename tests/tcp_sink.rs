//! Backpressure over sockets: a slow consumer behind the TCP sink holds the pipeline back
//! without weir's memory growing, and a blocked pipeline stops reading its TCP source (the
//! client's writes block: TCP flow control) instead of buffering.

mod tcp_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use tcp_support::Running;

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// What a slow read measured.
struct Slow {
    bytes: u64,
    newlines: usize,
    /// Highest memory of weir in the first two seconds (the bounded buffers fill, slowly on
    /// a busy machine), and in the last second.
    early_peak: u64,
    late_peak: u64,
}

/// Reads `conn` slowly (16 KiB per 10 ms) for `slow`, sampling weir's memory.
fn read_slowly(conn: &mut TcpStream, pid: u32, slow: Duration) -> Slow {
    let mut buf = vec![0u8; 16 * 1024];
    let mut m = Slow {
        bytes: 0,
        newlines: 0,
        early_peak: 0,
        late_peak: 0,
    };
    let start = Instant::now();
    while start.elapsed() < slow {
        let n = conn.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        m.bytes += n as u64;
        m.newlines += buf[..n].iter().filter(|b| **b == b'\n').count();
        let now = rss(pid);
        if start.elapsed() < Duration::from_secs(2) {
            m.early_peak = m.early_peak.max(now);
        } else if start.elapsed() + Duration::from_secs(1) >= slow {
            m.late_peak = m.late_peak.max(now);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    m
}

const MIB: u64 = 1 << 20;

#[test]
fn a_slow_consumer_behind_the_tcp_sink_keeps_memory_bounded() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    // ~25 bytes per line: ~150 MB of output, far more than weir's bounded buffers.
    let events = 6_000_000u64;
    let pipeline = format!(
        "[source]\ntype = \"generator\"\nevents = {events}\nkeys = 1000\n\n\
         [sink]\ntype = \"tcp\"\nconnect = \"127.0.0.1:{port}\"\n"
    );
    std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
    let weir = Running::start(dir.path(), &["run", "p.toml", "--workers", "2", "--no-pin"]);
    let pid = weir.child.id();
    let (mut a, _) = server.accept().unwrap();
    let (b, _) = server.accept().unwrap();
    // Only one connection is read, slowly, for 5 s: the pipeline is held back. Memory may
    // fill the bounded buffers (rings, the partitions' resend buffers) early, but must not keep
    // growing with the output produced meanwhile (tens of MB per second unthrottled: an
    // unbounded buffer trips the 100 MiB bound; the growth bound catches a slower leak, with
    // room for buffers that fill late on a busy machine — 36 → 52 MiB seen at load 20).
    let slow = read_slowly(&mut a, pid, Duration::from_secs(5));
    assert!(slow.bytes < 20 * MIB, "the consumer was not slow");
    assert!(
        slow.early_peak.max(slow.late_peak) < 100 * MIB,
        "weir holds {} MiB behind a slow consumer",
        slow.early_peak.max(slow.late_peak) / MIB
    );
    assert!(
        slow.late_peak < slow.early_peak + 32 * MIB,
        "memory grew from {} MiB to {} MiB behind a slow consumer",
        slow.early_peak / MIB,
        slow.late_peak / MIB
    );
    // Then the consumer catches up: every record arrives (no broken connection: exactly once).
    let count = |conn: TcpStream| {
        std::thread::spawn(move || BufReader::new(conn).lines().map_while(Result::ok).count())
    };
    let (ta, tb) = (count(a), count(b));
    let (code, stderr) = weir.wait(Duration::from_secs(300));
    assert_eq!(code, Some(0), "{stderr}");
    // A line cut by the end of the slow phase is counted once, by `lines()` of the rest.
    let lines = ta.join().unwrap() + tb.join().unwrap() + slow.newlines;
    assert_eq!(lines as u64, events);
}

#[test]
fn a_blocked_pipeline_stops_reading_its_tcp_source() {
    let consumer = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = consumer.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = format!(
        "[source]\ntype = \"tcp\"\nlisten = \"127.0.0.1:0\"\nmax_clients = 1\n\
         schema = [ {{ name = \"key\", type = \"string\" }}, {{ name = \"value\", type = \"i64\" }} ]\n\n\
         [sink]\ntype = \"tcp\"\nconnect = \"127.0.0.1:{port}\"\n"
    );
    std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
    let weir = Running::start(dir.path(), &["run", "p.toml", "--workers", "1", "--no-pin"]);
    let pid = weir.child.id();
    let lines = 3_000_000u64;
    let text: Vec<u8> = (0..lines)
        .flat_map(|i| format!("k{},{i}\n", i % 100).into_bytes())
        .collect();
    let total = text.len() as u64;
    let mut client = TcpStream::connect(("127.0.0.1", weir.port())).unwrap();
    client
        .set_write_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    // The consumer accepts but does not read until told to: the client must get stuck.
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let (conn, _) = consumer.accept().unwrap();
        wait.recv().unwrap();
        BufReader::new(conn).lines().map_while(Result::ok).count()
    });
    let (mut sent, mut blocked_at) = (0usize, None);
    while sent < text.len() {
        match client.write(&text[sent..]) {
            Ok(n) => sent += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                blocked_at = Some((sent as u64, rss(pid)));
                break;
            }
            Err(e) => panic!("send: {e}"),
        }
    }
    let (sent_when_blocked, memory) = blocked_at.expect("the client was never held back");
    assert!(sent_when_blocked < total, "everything fit");
    assert!(memory < 256 * MIB, "weir holds {} MiB", memory / MIB);
    // Unblock: read everything; the client sends the rest.
    go.send(()).unwrap();
    client.set_write_timeout(None).unwrap();
    client.write_all(&text[sent..]).unwrap();
    drop(client);
    let (code, stderr) = weir.wait(Duration::from_secs(300));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(reader.join().unwrap() as u64, lines);
}
