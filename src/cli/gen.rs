//! `weir gen`: writes the deterministic benchmark events (WORKLOADS.md) as CSV or JSON lines.

use super::args::{GenArgs, GenFormat};
use crate::error::{Error, EXIT_OK};
use crate::source::generator::splitmix64;
use std::io::Write;

/// Runs `weir gen`.
///
/// # Errors
/// I/O errors naming the output path; `--keys 0` or `--events-per-ms 0`.
pub fn run(args: &GenArgs) -> crate::Result<i32> {
    if args.keys == 0 || args.events_per_ms == 0 {
        return Err(Error::Config(vec![
            "--keys and --events-per-ms: must be at least 1".into(),
        ]));
    }
    let path = &args.out;
    let sink: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(path).map_err(|e| Error::io(path, e))?)
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
    let io = |e| Error::io(path, e);
    if args.format == GenFormat::Csv {
        w.write_all(b"key,value,ts\n").map_err(io)?;
    }
    let mut ibuf = itoa::Buffer::new();
    for i in 0..args.events {
        let key = splitmix64(i) % args.keys;
        let value = i % 100;
        let ts = i / args.events_per_ms;
        match args.format {
            GenFormat::Csv => {
                w.write_all(ibuf.format(key).as_bytes()).map_err(io)?;
                w.write_all(b",").map_err(io)?;
                w.write_all(ibuf.format(value).as_bytes()).map_err(io)?;
                w.write_all(b",").map_err(io)?;
                w.write_all(ibuf.format(ts).as_bytes()).map_err(io)?;
                w.write_all(b"\n").map_err(io)?;
            }
            GenFormat::Jsonl => {
                writeln!(w, "{{\"key\":{key},\"value\":{value},\"ts\":{ts}}}").map_err(io)?;
            }
        }
    }
    w.flush().map_err(io)?;
    Ok(EXIT_OK)
}
