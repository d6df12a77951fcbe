//! The TCP source on real loopback sockets: many concurrent clients, a client sending garbage,
//! a client that stalls in the middle of a line, a client cut off mid-line, and `connect` mode.
//! Expected outputs come from a model of what the clients sent.

mod tcp_support;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use tcp_support::{assert_rolling_matches, dead_letters, model, output_lines, Running};

const CLIENTS: usize = 50;
const LINES: usize = 2_000;

/// What client `c` sends: `LINES` records over keys shared with other clients.
fn client_records(c: usize) -> Vec<(String, i64)> {
    (0..LINES)
        .map(|j| (format!("k{}-{}", c % 10, j % 5), (c * 100_000 + j) as i64))
        .collect()
}

/// Sends `records` as CSV lines in pieces of uneven sizes.
fn send(port: u16, records: &[(String, i64)]) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let text: String = records.iter().map(|(k, v)| format!("{k},{v}\n")).collect();
    for piece in text.as_bytes().chunks(997) {
        s.write_all(piece).expect("send");
    }
}

#[test]
fn fifty_clients_garbage_and_a_stalled_client() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // 50 clients, the garbage client, the staller.
    let extra = format!("max_clients = {}", CLIENTS + 2);
    std::fs::write(
        dir.path().join("p.toml"),
        tcp_support::rolling_pipeline(&out, &extra),
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
            "--dead-letter",
            "dead.jsonl",
        ],
    );
    let port = weir.port();

    // The staller: a line split by a pause longer than everything else, then a cut line.
    let staller = std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"s,1\ns,2\ns,").unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        s.write_all(b"3\ns,4").unwrap();
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| std::thread::spawn(move || send(port, &client_records(c))))
        .collect();
    let mut garbage = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let long = "x".repeat(200);
    garbage
        .write_all(format!("nocomma\nk,notanumber\n{long},1\ng,7\r\n\r\n\0junk\n").as_bytes())
        .unwrap();
    garbage.write_all(b"\xff\xfe,1\n").unwrap();
    drop(garbage);
    for c in clients {
        c.join().unwrap();
    }
    staller.join().unwrap();

    let (code, stderr) = weir.wait(Duration::from_secs(120));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("at-least-once"), "{stderr}");
    let mut sent: Vec<(String, i64)> = (0..CLIENTS).flat_map(client_records).collect();
    sent.extend([("g", 7), ("s", 1), ("s", 2), ("s", 3)].map(|(k, v)| (k.to_string(), v)));
    assert_rolling_matches(&output_lines(&out), &model(&sent));

    let dead = dead_letters(&dir.path().join("dead.jsonl"));
    let reasons: Vec<&str> = dead.iter().map(|d| d["reason"].as_str().unwrap()).collect();
    assert_eq!(dead.len(), 6, "{reasons:?}");
    let count = |needle: &str| reasons.iter().filter(|r| r.contains(needle)).count();
    assert_eq!(count("line longer than 64 bytes"), 1, "{reasons:?}");
    assert_eq!(count("connection closed in the middle of a line"), 1);
    let cut = dead
        .iter()
        .find(|d| d["reason"].as_str().unwrap().contains("middle"));
    assert_eq!(cut.unwrap()["raw"], "s,4");
    assert_eq!(
        count("expected 2 fields"),
        2,
        "nocomma and the NUL line: {reasons:?}"
    );
    assert!(dead.iter().all(|d| d["source"] == "tcp:127.0.0.1:0"));
}

#[test]
fn connect_mode_reads_a_server_until_it_closes() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let pipeline = tcp_support::rolling_pipeline(&out, "").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("connect = \"127.0.0.1:{port}\""),
    );
    std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
    let weir = Running::start(dir.path(), &["run", "p.toml", "--workers", "2", "--no-pin"]);
    let records: Vec<(String, i64)> = (0..5_000).map(|i| (format!("c{}", i % 3), i)).collect();
    let (mut conn, _) = server.accept().unwrap();
    let text: String = records.iter().map(|(k, v)| format!("{k},{v}\n")).collect();
    conn.write_all(text.as_bytes()).unwrap();
    drop(conn);
    let (code, stderr) = weir.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
    assert_rolling_matches(&output_lines(&out), &model(&records));
}

#[test]
fn a_busy_port_is_reported_before_work_starts() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let pipeline = tcp_support::rolling_pipeline(&dir.path().join("out"), "")
        .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
    let weir = Running::start(dir.path(), &["run", "p.toml", "--no-pin"]);
    let (code, stderr) = weir.wait(Duration::from_secs(30));
    assert_eq!(code, Some(74), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
}
