//! Whether an existing dead-letter file may be replaced: only when weir can prove it wrote it
//! (a checkpoint of this directory records it, or every line is one of weir's dead-letter
//! records), or the user passed `--overwrite`.

use std::io::BufRead;
use std::path::Path;

/// The keys of a dead-letter record, sorted.
const KEYS: [&str; 4] = ["line", "raw", "reason", "source"];

/// The keys of a late record's line (`runtime::late_letters`), sorted, without the optional
/// `line`.
const LATE_KEYS: [&str; 4] = ["output", "reason", "record", "stage"];

/// Whether `line` is one of weir's dead-letter records: a JSON object with exactly the keys
/// `source`, `line`, `reason`, `raw`, or a late record's line (`stage`, `output`, `reason`
/// = `"late"`, `record`, and optionally `line`).
fn is_record(line: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(line)
    else {
        return false;
    };
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys == KEYS {
        return map["line"].is_u64();
    }
    let numbered = keys.first() == Some(&"line");
    if numbered && !map["line"].is_u64() {
        return false;
    }
    keys[usize::from(numbered)..] == LATE_KEYS
        && map["reason"] == "late"
        && map["record"].is_object()
        && map["output"].is_string()
        && map["stage"].is_string()
}

/// Whether a last line torn by a crash begins like one of weir's records.
fn is_torn_record(line: &[u8]) -> bool {
    if line.starts_with(b"{\"source\":") || line.starts_with(b"{\"output\":") {
        return true;
    }
    // A late record that knows its input line: `{"line":N,"output":...`.
    let Some(rest) = line.strip_prefix(b"{\"line\":") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest[digits..].starts_with(b",\"output\":")
}

/// Whether the file at `path` holds only weir's dead-letter records (an empty file does; a
/// last line torn by a crash is allowed). `false` when it cannot be read.
pub fn looks_like_ours(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return true,
            // A last line torn by a crash.
            Ok(_) if line.last() != Some(&b'\n') => return is_torn_record(&line),
            Ok(_) if is_record(&line) => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_weirs_records_only() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("d.jsonl");
        std::fs::write(&p, "").unwrap();
        assert!(looks_like_ours(&p));
        let rec = r#"{"source":"in.csv","line":3,"reason":"bad","raw":"x"}"#;
        std::fs::write(&p, format!("{rec}\n{rec}\n{{\"source\":\"in.c")).unwrap();
        assert!(looks_like_ours(&p));
        std::fs::write(&p, "key,value\na,1\n").unwrap();
        assert!(!looks_like_ours(&p));
        std::fs::write(&p, "key,value").unwrap();
        assert!(!looks_like_ours(&p), "one line without a newline");
        std::fs::write(&p, "{\"source\":\"x\",\"line\":1,\"reason\":\"r\"}\n").unwrap();
        assert!(!looks_like_ours(&p), "a key missing");
        assert!(!looks_like_ours(&tmp.path().join("missing")));
    }

    #[test]
    fn recognizes_late_records_too() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("d.jsonl");
        let late = r#"{"output":"late","reason":"late","record":{"key":1,"ts":-4},"stage":"w"}"#;
        let numbered = r#"{"line":7,"output":"late_left","reason":"late","record":{},"stage":"j"}"#;
        let dead = r#"{"source":"in.csv","line":3,"reason":"bad","raw":"x"}"#;
        std::fs::write(&p, format!("{late}\n{dead}\n{numbered}\n{{\"output\":\"la")).unwrap();
        assert!(looks_like_ours(&p));
        std::fs::write(&p, format!("{late}\n{{\"line\":12,\"output\":\"l")).unwrap();
        assert!(looks_like_ours(&p), "a torn numbered late record");
        for foreign in [
            r#"{"output":"late","reason":"other","record":{},"stage":"w"}"#,
            r#"{"output":"late","reason":"late","record":3,"stage":"w"}"#,
            r#"{"line":"7","output":"late","reason":"late","record":{},"stage":"w"}"#,
            r#"{"output":"late","reason":"late","record":{},"stage":"w","x":1}"#,
        ] {
            std::fs::write(&p, format!("{foreign}\n")).unwrap();
            assert!(!looks_like_ours(&p), "{foreign}");
        }
        std::fs::write(&p, "{\"line\":,\"output\":").unwrap();
        assert!(
            !looks_like_ours(&p),
            "a torn line that is not a record's start"
        );
    }
}
