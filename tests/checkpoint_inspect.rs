//! `weir inspect DIR` and `weir inspect DIR/chk-N` against what is on disk.

mod checkpoint_support;

use checkpoint_support::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// One row of `weir inspect DIR`.
#[derive(Debug)]
struct Row {
    id: u64,
    status: String,
    workers: u64,
    bytes: u64,
    finished: String,
    /// "split: next/end" pairs, per split.
    offsets: Vec<(usize, Vec<(u64, u64)>)>,
}

fn parse_rows(stdout: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for line in stdout.lines().skip(1) {
        let t: Vec<&str> = line.split_whitespace().collect();
        let Some(id) = t.first().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let at = t
            .iter()
            .position(|s| ["complete", "incomplete", "BAD"].contains(s))
            .expect("a status column");
        let mut offsets = Vec::new();
        // After STATUS: WORKERS, BYTES, NEW, SHARED, FINISHED.
        let mut i = at + 6;
        while i + 1 < t.len() {
            let split = t[i].trim_end_matches(':').parse().expect("split index");
            let ranges = t[i + 1]
                .split(',')
                .map(|r| {
                    let (n, e) = r.split_once('/').expect("next/end");
                    (n.parse().expect("next"), e.parse().expect("end"))
                })
                .collect();
            offsets.push((split, ranges));
            i += 2;
        }
        rows.push(Row {
            id,
            status: t[at].to_string(),
            workers: t[at + 1].parse().expect("workers"),
            bytes: t[at + 2].parse().expect("bytes"),
            finished: t[at + 5].to_string(),
            offsets,
        });
    }
    rows
}

fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").metadata().expect("stat").len())
        .sum()
}

/// The MANIFEST's sources as (next, end) per split.
fn manifest_offsets(m: &serde_json::Value) -> Vec<(usize, Vec<(u64, u64)>)> {
    m["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .enumerate()
        .map(|(i, ranges)| {
            let r = ranges
                .as_array()
                .expect("ranges")
                .iter()
                .map(|r| {
                    (
                        r["next"].as_u64().expect("next"),
                        r["end"].as_u64().expect("end"),
                    )
                })
                .collect();
            (i, r)
        })
        .collect()
}

#[test]
fn inspect_lists_and_describes_checkpoints() {
    let s = Scenario::new("count", 100_000, 50_000);
    let (out, ckpt) = (s.path("out"), s.path("ckpt"));
    crash_after_checkpoint(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--checkpoint-retain", "10"]),
        &ckpt,
        2,
    );
    let ids = complete_ids(&ckpt);
    let newest = *ids.last().expect("a checkpoint");
    // A damaged copy (BAD) and an incomplete checkpoint (no MANIFEST).
    let bad = chk(&ckpt, 998);
    copy_dir(&chk(&ckpt, newest), &bad);
    edit_manifest(&bad, true, |m| m["id"] = 998.into());
    flip_byte(&bad.join("MANIFEST"), 12);
    let incomplete = chk(&ckpt, 999);
    fs::create_dir_all(&incomplete).expect("mkdir");
    fs::write(incomplete.join("w0.state"), [0u8; 100]).expect("write");

    let listed = output(weir().arg("inspect").arg(&ckpt));
    assert_exit(&listed, 0);
    let stdout = String::from_utf8_lossy(&listed.stdout).into_owned();
    let header = stdout.lines().next().expect("a header");
    for col in [
        "ID",
        "CREATED",
        "STATUS",
        "WORKERS",
        "BYTES",
        "NEW",
        "SHARED",
        "FINISHED",
        "SOURCE OFFSETS",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let rows = parse_rows(&stdout);
    let mut all: Vec<u64> = fs::read_dir(&ckpt)
        .expect("read_dir")
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_prefix("chk-")?
                .parse()
                .ok()
        })
        .collect();
    all.sort_unstable();
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        all,
        "{stdout}"
    );
    for row in &rows {
        let dir = chk(&ckpt, row.id);
        assert_eq!(row.bytes, dir_bytes(&dir), "bytes of {}", row.id);
        match row.id {
            998 => {
                assert_eq!(row.status, "BAD");
                let reason = format!("{}: checksum mismatch", dir.join("MANIFEST").display());
                assert!(stdout.contains(&reason), "{stdout}");
            }
            999 => {
                assert_eq!(row.status, "incomplete");
                assert_eq!(row.workers, 1, "state files present");
            }
            // A checkpoint in progress at the kill (no MANIFEST).
            _ if !dir.join("MANIFEST").exists() => assert_eq!(row.status, "incomplete"),
            id => {
                let m = read_manifest(&dir);
                assert_eq!(row.status, "complete", "{id}");
                assert_eq!(row.workers, 2);
                assert_eq!(row.finished, "no");
                assert_eq!(row.offsets, manifest_offsets(&m), "offsets of {id}");
            }
        }
    }

    // One checkpoint in detail.
    let one = chk(&ckpt, newest);
    let described = output(weir().arg("inspect").arg(&one));
    assert_exit(&described, 0);
    let text = String::from_utf8_lossy(&described.stdout).into_owned();
    assert!(text.contains(&format!("checkpoint {newest}")), "{text}");
    assert!(
        text.contains(&format!("workers 2  sink epoch {newest}  finished no")),
        "{text}"
    );
    let m = read_manifest(&one);
    for f in m["files"].as_array().expect("files") {
        let name = f["name"].as_str().expect("name");
        let len = fs::metadata(one.join(name)).expect("state file").len();
        let kg = format!("{}..{}", f["key_groups"]["start"], f["key_groups"]["end"]);
        assert!(
            text.lines().any(|l| {
                let t: Vec<&str> = l.split_whitespace().collect();
                t.len() == 4 && t[0] == name && t[1] == len.to_string() && t[2] == kg
            }),
            "file row of {name} ({len} bytes, {kg}): {text}"
        );
    }
    // KEY GROUP rows: "kg file state entries bytes"; the count state holds one entry per key
    // seen before the barrier, i.e. per distinct key in the output of epochs <= newest.
    let mut entries = 0u64;
    let mut groups = BTreeSet::new();
    let mut section = "";
    for l in text.lines() {
        if l.trim_start().starts_with("KEY GROUP") {
            section = "groups";
            continue;
        }
        if l.trim_start().starts_with("SPLIT") {
            section = "splits";
            continue;
        }
        let t: Vec<&str> = l.split_whitespace().collect();
        if section == "groups" && t.len() == 5 {
            let kg: u16 = t[0].parse().expect("key group");
            assert!(
                t[1] == "w0.state" && kg < 64 || t[1] == "w1.state" && (64..128).contains(&kg),
                "{l}"
            );
            assert!(groups.insert(kg), "key group {kg} listed twice");
            entries += t[3].parse::<u64>().expect("entries");
            assert!(t[4].parse::<u64>().expect("bytes") > 0);
        }
        if section == "splits" && t.len() == 5 {
            let split: usize = t[0].parse().expect("split");
            let r = &m["sources"][split][0];
            assert_eq!(t[1], s.input.display().to_string());
            assert_eq!(t[2], r["next"].to_string(), "{l}");
            assert_eq!(t[3], r["end"].to_string(), "{l}");
            assert_eq!(t[4], r["line"].to_string(), "{l}");
        }
    }
    assert!(
        entries > 0 && entries < 50_000,
        "killed before every key was seen: {entries}"
    );
    assert_eq!(
        entries,
        keys_up_to_epoch(&out, newest),
        "state entries = distinct keys so far"
    );

    // A damaged checkpoint is described as a restore would reject it.
    let bad_out = output(weir().arg("inspect").arg(&bad));
    assert_exit(&bad_out, EXIT_CHECKPOINT);
    assert!(
        stderr(&bad_out).contains("checksum mismatch"),
        "{}",
        stderr(&bad_out)
    );

    // A finished run's final checkpoint.
    let done = output(
        s.ckpt_cmd(&out, &ckpt, "20ms", 2)
            .args(["--restore", "latest"]),
    );
    assert_exit(&done, 0);
    let listed = output(weir().arg("inspect").arg(&ckpt));
    let rows = parse_rows(&String::from_utf8_lossy(&listed.stdout));
    let last = rows
        .iter()
        .rev()
        .find(|r| r.status == "complete")
        .expect("a row");
    assert_eq!(last.finished, "yes");
}

/// Distinct keys of the output files (published or pending) of epochs `<= epoch`.
fn keys_up_to_epoch(out: &Path, epoch: u64) -> u64 {
    let mut keys: BTreeMap<String, ()> = BTreeMap::new();
    for entry in fs::read_dir(out).expect("read_dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let stem = name.trim_start_matches('.').trim_end_matches(".pending");
        let Some(e) = stem
            .strip_prefix("part-")
            .and_then(|r| r.split_once('-'))
            .and_then(|(_, e)| e.parse::<u64>().ok())
        else {
            continue;
        };
        if e <= epoch && !name.ends_with(".inprogress") {
            for line in fs::read_to_string(out.join(&name)).expect("read").lines() {
                keys.insert(line.split(',').next().expect("key").to_string(), ());
            }
        }
    }
    keys.len() as u64
}
