use super::*;
use xxhash_rust::xxh3::xxh3_64;

/// Encodes a number as a decimal line; optional header `n`.
struct Lines {
    header: bool,
}

impl Encoder<u64> for Lines {
    fn encode(&self, record: &u64, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{record}\n").as_bytes());
    }
    fn header(&self) -> Option<Vec<u8>> {
        self.header.then(|| b"n\n".to_vec())
    }
}

fn sink(dir: &Path, header: bool) -> FileSink<u64> {
    FileSink::new(dir, Arc::new(Lines { header }))
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v = names(dir).unwrap();
    v.sort();
    v
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// `cat DIR/part-*`.
fn cat(dir: &Path) -> String {
    listing(dir)
        .iter()
        .filter(|n| n.starts_with("part-"))
        .map(|n| read(dir, n))
        .collect()
}

fn checksum(records: impl IntoIterator<Item = u64>) -> u64 {
    records.into_iter().fold(0u64, |acc, r| {
        acc.wrapping_add(xxh3_64(format!("{r}\n").as_bytes()))
    })
}

#[test]
fn names_parse() {
    use PartName::*;
    assert_eq!(
        PartName::parse("part-00003"),
        Some(Published {
            worker: 3,
            epoch: None
        })
    );
    assert_eq!(
        PartName::parse("part-00003-0000000012"),
        Some(Published {
            worker: 3,
            epoch: Some(12)
        })
    );
    assert_eq!(
        PartName::parse(".part-00003-0000000012.pending"),
        Some(Pending {
            worker: 3,
            epoch: 12
        })
    );
    assert_eq!(
        PartName::parse(".part-00003-0000000012.inprogress"),
        Some(InProgress)
    );
    assert_eq!(PartName::parse(".part-00003.inprogress"), Some(InProgress));
    for bad in [
        "part-",
        "part-x",
        ".part-00003.pending",
        "part-1-2-3",
        "notes.txt",
        ".part-1-.inprogress",
    ] {
        assert_eq!(PartName::parse(bad), None, "{bad}");
    }
}

#[test]
fn without_checkpoints_each_worker_publishes_one_file_at_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let s = sink(&dir, true);
    s.check().unwrap();
    s.recover(None).unwrap();
    let mut p0 = s.open_partition(0, 2, false).unwrap();
    let mut p1 = s.open_partition(1, 2, false).unwrap();
    // Enough records to pass the write-out threshold several times.
    let records: Vec<u64> = (0..200_000).collect();
    for chunk in records.chunks(1000) {
        p0.write_batch(chunk).unwrap();
    }
    p1.write_batch(&[7, 8]).unwrap();
    assert_eq!(
        listing(&dir),
        [".part-00000.inprogress", ".part-00001.inprogress"]
    );
    let mut stats = p0.finish().unwrap();
    assert_eq!(
        stats,
        SinkStats {
            records: 200_000,
            checksum: checksum(0..200_000)
        }
    );
    stats.merge(p1.finish().unwrap());
    assert_eq!(stats.records, 200_002);
    assert_eq!(listing(&dir), ["part-00000", "part-00001"]);
    let want: String = records.iter().map(|r| format!("{r}\n")).collect();
    assert_eq!(read(&dir, "part-00000"), format!("n\n{want}"));
    assert_eq!(read(&dir, "part-00001"), "n\n7\n8\n");
}

#[test]
fn epochs_are_pending_until_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let s = sink(&dir, false);
    s.recover(None).unwrap();
    let mut p = s.open_partition(1, 2, true).unwrap();
    p.write_batch(&[1, 2]).unwrap();
    assert_eq!(listing(&dir), [".part-00001-0000000001.inprogress"]);
    p.pre_commit(1).unwrap();
    p.pre_commit(2).unwrap(); // Nothing written in epoch 2: no file.
    p.write_batch(&[3]).unwrap();
    p.pre_commit(3).unwrap();
    p.write_batch(&[4]).unwrap();
    assert_eq!(
        listing(&dir),
        [
            ".part-00001-0000000001.pending",
            ".part-00001-0000000003.pending",
            ".part-00001-0000000004.inprogress"
        ]
    );
    assert_eq!(cat(&dir), "");
    s.commit(1).unwrap();
    assert_eq!(cat(&dir), "1\n2\n");
    s.commit(3).unwrap();
    assert_eq!(cat(&dir), "1\n2\n3\n");
    // finish under checkpoints does not publish; the final checkpoint does.
    assert_eq!(
        p.finish().unwrap(),
        SinkStats {
            records: 4,
            checksum: checksum([1, 2, 3, 4])
        }
    );
    assert_eq!(cat(&dir), "1\n2\n3\n");
    p.pre_commit(4).unwrap();
    s.commit(4).unwrap();
    assert_eq!(cat(&dir), "1\n2\n3\n4\n");
    assert_eq!(
        listing(&dir),
        [
            "part-00001-0000000001",
            "part-00001-0000000003",
            "part-00001-0000000004"
        ]
    );
}

#[test]
fn recover_publishes_up_to_the_checkpoint_and_drops_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let s = sink(&dir, true);
    s.recover(None).unwrap();
    let (mut p0, mut p1) = (
        s.open_partition(0, 2, true).unwrap(),
        s.open_partition(1, 2, true).unwrap(),
    );
    for (epoch, records) in [(1, [10, 11]), (2, [20, 21]), (3, [30, 31])] {
        p0.write_batch(&records[..1]).unwrap();
        p1.write_batch(&records[1..]).unwrap();
        p0.pre_commit(epoch).unwrap();
        p1.pre_commit(epoch).unwrap();
    }
    s.commit(1).unwrap();
    p0.write_batch(&[40]).unwrap();
    // Crash: epochs 2 and 3 pending, epoch 4 in progress. Restore from checkpoint 2.
    drop((p0, p1));
    let s = sink(&dir, true);
    s.recover(Some(2)).unwrap();
    assert_eq!(
        listing(&dir),
        [
            "part-00000-0000000001",
            "part-00000-0000000002",
            "part-00001-0000000001",
            "part-00001-0000000002"
        ]
    );
    assert_eq!(cat(&dir), "n\n10\nn\n20\nn\n11\nn\n21\n");
    // The restored run continues at epoch 3, here with one worker.
    let mut p = s.open_partition(0, 1, true).unwrap();
    p.write_batch(&[30, 31]).unwrap();
    assert_eq!(listing(&dir)[0], ".part-00000-0000000003.inprogress");
    p.pre_commit(3).unwrap();
    s.commit(3).unwrap();
    assert_eq!(read(&dir, "part-00000-0000000003"), "n\n30\n31\n");

    // Restoring an older checkpoint retracts the epochs published after it.
    s.recover(Some(1)).unwrap();
    assert_eq!(
        listing(&dir),
        ["part-00000-0000000001", "part-00001-0000000001"]
    );
    // A fresh start deletes every output file, and only those.
    std::fs::write(dir.join("README"), "keep").unwrap();
    s.recover(None).unwrap();
    assert_eq!(listing(&dir), ["README"]);
}

#[test]
fn check_names_an_unwritable_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let s = sink(&blocker.join("out"), false);
    let err = s.check().unwrap_err();
    assert!(err.to_string().contains("file/out"), "{err}");
    assert!(matches!(err, Error::Io { .. }));
    let ok = sink(&tmp.path().join("a/b"), false);
    ok.check().unwrap();
    assert!(tmp.path().join("a/b").is_dir());
    assert!(
        listing(&tmp.path().join("a/b")).is_empty(),
        "the probe is removed"
    );
}
