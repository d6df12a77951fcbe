//! `weir nexmark gen`: writes the Nexmark event stream (NEXMARK.md) as JSON lines, one
//! object per event with `kind` and the §5 fields (`dateTime`, `initialBid`, …; times in ms).

use crate::error::{Error, EXIT_OK};
use crate::nexmark::{event, Mode, NexmarkConfig, Timing};
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `weir nexmark`.
#[derive(Debug, Args)]
pub struct NexmarkArgs {
    /// The Nexmark command.
    #[command(subcommand)]
    pub command: NexmarkCommand,
}

/// The Nexmark commands.
#[derive(Debug, Subcommand)]
pub enum NexmarkCommand {
    /// Write the generator's events as JSON lines.
    Gen(NexmarkGenArgs),
}

/// Field generation of `weir nexmark gen`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ModeArg {
    /// Beam's generator, bit-exact (bids without channel and url).
    Beam,
    /// nexmark-flink's fields (bid channel and url), seeded per event.
    Flink,
}

/// Timestamp formula of `weir nexmark gen`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TimingArg {
    /// Integer µs delay per event (Beam; 0 above 2M events/s).
    Beam,
    /// Float µs delay per event (nexmark-flink).
    Flink,
}

/// Parses `--rate` as the pipeline file's `rate` is parsed.
fn rate_arg(text: &str) -> Result<u64, String> {
    crate::pipeline::nexmark::parse_rate(text)
        .ok_or_else(|| format!("{text:?} is not a rate (e.g. 10M/s, 500K/s, 1000/s, 1000)"))
}

/// `weir nexmark gen`.
#[derive(Debug, Args)]
pub struct NexmarkGenArgs {
    /// Number of events.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Field generation.
    #[arg(long, value_enum, default_value = "beam")]
    pub mode: ModeArg,
    /// Event-time rate, events per second: `10M/s`, `500K/s`, `1000/s` or `1000`, as the
    /// pipeline file's `rate` (default: 100 in beam mode, Beam's 10 ms between events;
    /// 10,000,000 in flink mode, as the V1 runs).
    #[arg(long, value_parser = rate_arg)]
    pub rate: Option<u64>,
    /// Timestamp formula (default: the mode's own).
    #[arg(long, value_enum)]
    pub timing: Option<TimingArg>,
    /// Time of event number 0, epoch ms (default 1436918400000, Beam's).
    #[arg(long)]
    pub base_time: Option<i64>,
    /// Output file, which must not exist yet (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `weir nexmark`.
///
/// # Errors
/// A bad config ([`Error::Config`]), an existing `--out` file ([`Error::Refused`]), I/O errors
/// naming the output.
pub fn run(args: &NexmarkArgs) -> crate::Result<i32> {
    match &args.command {
        NexmarkCommand::Gen(gen) => run_gen(gen),
    }
}

/// The generator config of the arguments.
///
/// # Errors
/// [`Error::Config`] for an unusable rate.
pub fn config_of(args: &NexmarkGenArgs) -> crate::Result<NexmarkConfig> {
    let mode = match args.mode {
        ModeArg::Beam => Mode::Beam,
        ModeArg::Flink => Mode::Flink,
    };
    let mut config = NexmarkConfig::new(mode, args.events);
    if let Some(rate) = args.rate {
        config.rate = rate;
    }
    if let Some(timing) = args.timing {
        config.timing = match timing {
            TimingArg::Beam => Timing::Beam,
            TimingArg::Flink => Timing::Flink,
        };
    }
    if let Some(base) = args.base_time {
        config.base_time = base;
    }
    config.check().map_err(Error::Config)?;
    Ok(config)
}

fn run_gen(args: &NexmarkGenArgs) -> crate::Result<i32> {
    let config = config_of(args)?;
    let (sink, path): (Box<dyn Write>, &Path) = match &args.out {
        None => (Box::new(std::io::stdout().lock()), Path::new("<stdout>")),
        Some(path) => (Box::new(create_new(path)?), path.as_path()),
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
    let io = |e| Error::io(path, e);
    for k in 0..config.events {
        serde_json::to_writer(&mut w, &event(&config, k)).map_err(|e| io(e.into()))?;
        w.write_all(b"\n").map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(EXIT_OK)
}

/// Creates `path`, refusing to replace a file weir did not write. An existing non-regular
/// file (`/dev/null`, a FIFO) is written to, not replaced.
fn create_new(path: &Path) -> crate::Result<std::fs::File> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::Refused(format!(
                    "{}: exists; weir nexmark gen does not replace files (remove it or pick \
                     another --out)",
                    path.display()
                ))
            } else {
                Error::io(path, e)
            }
        })
}
