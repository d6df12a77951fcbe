//! `weir inspect --json`: the listing and one checkpoint's description agree with the files on
//! disk (directory names, sizes) and with the run that wrote them.

mod cli_support;

use cli_support::{output, stderr, weir};

fn json(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = output(weir().arg("inspect").args(args).arg("--json"));
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn listing_and_detail_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let out = output(
        weir()
            .args([
                "run",
                "fixtures/rolling_sum.toml",
                "--workers",
                "2",
                "--no-pin",
            ])
            .arg(format!(
                "--set=sink.path={}",
                dir.path().join("out").display()
            ))
            .arg("--dead-letter")
            .arg(dir.path().join("dead.jsonl"))
            .arg("--checkpoint-dir")
            .arg(&ck),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let list = json(&[ck.as_os_str()]);
    let items = list["checkpoints"].as_array().expect("checkpoints array");
    assert!(!items.is_empty());
    let last = items.last().unwrap();
    assert_eq!(
        (last["complete"].as_bool(), last["finished"].as_bool()),
        (Some(true), Some(true))
    );
    let path = std::path::PathBuf::from(last["path"].as_str().unwrap());
    let on_disk: u64 = std::fs::read_dir(&path)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(last["total_bytes"], on_disk);
    assert_eq!(last["workers"], 2);
    assert_eq!(
        last["sources"].as_array().unwrap().len(),
        2,
        "one entry per split"
    );

    let detail = json(&[path.as_os_str()]);
    assert_eq!(detail["id"], last["id"]);
    assert_eq!(detail["workers"], 2);
    assert_eq!(detail["finished"], true);
    let files = detail["files"].as_array().unwrap();
    let state_files = std::fs::read_dir(&path)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "state")
        })
        .count();
    assert_eq!(files.len(), state_files, "{detail}");
    for f in files {
        let len = std::fs::metadata(path.join(f["name"].as_str().unwrap()))
            .unwrap()
            .len();
        assert_eq!(f["len"], len);
    }
    assert_eq!(detail["sources"], last["sources"]);
}
