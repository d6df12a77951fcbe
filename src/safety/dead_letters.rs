//! Whether an existing dead-letter file may be replaced: only when weir can prove it wrote it
//! (a checkpoint of this directory records it, or every line is one of weir's dead-letter
//! records), or the user passed `--overwrite`.

use std::io::BufRead;
use std::path::Path;

/// The keys of a dead-letter record, sorted.
const KEYS: [&str; 4] = ["line", "raw", "reason", "source"];

/// Whether `line` is one of weir's dead-letter records: a JSON object with exactly the keys
/// `source`, `line`, `reason`, `raw`.
fn is_record(line: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(line)
    else {
        return false;
    };
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys == KEYS && map["line"].is_u64()
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
            Ok(_) if line.last() != Some(&b'\n') => return line.starts_with(b"{\"source\":"),
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
}
