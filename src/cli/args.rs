//! Command-line arguments (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// weir: a single-node, thread-per-core stateful stream processor.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline file.
    Run(RunArgs),
    /// Check a pipeline file; report every error with its field path (exit 2).
    Validate(ValidateArgs),
    /// Run a benchmark workload (WORKLOADS.md) and print events/s.
    Bench(BenchArgs),
    /// List the checkpoints of a directory, or describe one checkpoint.
    Inspect(InspectArgs),
    /// Generate the deterministic benchmark events as a file.
    Gen(GenArgs),
    /// The Nexmark benchmark: `weir nexmark gen` writes its events as JSON lines.
    Nexmark(super::nexmark::NexmarkArgs),
}

/// `weir run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// Override a pipeline field: `--set source.path=ev.csv` (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Worker threads (default: the pipeline's `runtime.workers`, else the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// What to do with a malformed input record.
    #[arg(long, value_enum)]
    pub on_error: Option<OnErrorArg>,
    /// Where malformed input records go (JSON lines).
    #[arg(long)]
    pub dead_letter: Option<PathBuf>,
    /// Checkpoint directory (enables checkpoints).
    #[arg(long)]
    pub checkpoint_dir: Option<PathBuf>,
    /// Time between checkpoints, e.g. `500ms`, `2s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub checkpoint_interval: Option<std::time::Duration>,
    /// Complete checkpoints to keep.
    #[arg(long)]
    pub checkpoint_retain: Option<usize>,
    /// Restore from `latest` or a checkpoint directory.
    #[arg(long, value_name = "latest|PATH")]
    pub restore: Option<String>,
    /// Start a new lineage although the checkpoint directory holds checkpoints of this
    /// pipeline: the old checkpoints and output are kept until the new run's first checkpoint.
    #[arg(long, conflicts_with = "restore")]
    pub fresh: bool,
    /// Let weir replace files it cannot prove it wrote: part files in a sink directory without
    /// weir's marker, an existing dead-letter file that is not weir's.
    #[arg(long)]
    pub overwrite: bool,
    /// With `--restore`: fail when there is no checkpoint.
    #[arg(long)]
    pub restore_required: bool,
    /// Allow restoring a pipeline whose source cannot rewind (stdin): at-least-once.
    #[arg(long)]
    pub allow_at_least_once: bool,
    /// Serve Prometheus metrics on this address (e.g. `127.0.0.1:9184`; port 0: any).
    #[arg(long)]
    pub metrics_addr: Option<String>,
    /// Records per ring batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Capacity of each ring between workers, in batches (default 64; small values test
    /// backpressure).
    #[arg(long)]
    pub ring_capacity: Option<usize>,
    /// Do not pin workers to cores.
    #[arg(long)]
    pub no_pin: bool,
    /// Where keyed state lives (default: the pipeline's `[state] backend`, else `heap`).
    #[arg(long, value_enum)]
    pub state_backend: Option<crate::state::BackendKind>,
    /// Working files of the mmap backend (default: `[state] dir`, else under the
    /// checkpoint directory, else the temp directory).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

/// `--on-error` values.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnErrorArg {
    /// Malformed records go to the dead-letter file (default).
    DeadLetter,
    /// The first malformed record stops the run (exit 65).
    Fail,
}

/// `weir validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The pipeline file (TOML).
    pub pipeline: PathBuf,
    /// Override a pipeline field (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Also print the stage graph: which edges are exchanges (`=>`) and which are fused (`->`).
    #[arg(long)]
    pub graph: bool,
}

/// Benchmark workloads.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Workload {
    /// Keyed rolling sum.
    W1,
    /// Two exchanges: count per key, re-keyed by the count, count of keys per count.
    W6,
    /// 1 s tumbling event-time windows per key (closed loop; open-loop latency with `--rate`).
    W2,
    /// Session windows per key, 30 s gap.
    W3,
    /// Dedup of event ids within a 10 min event-time TTL.
    W4,
    /// Interval join of orders and payments (payment within 60 s of its order).
    W5,
    /// Restore time: write a checkpoint of `--keys` W1 keys, then restore it (`--workers`).
    Restore,
    /// Incremental checkpoint: `--keys` W1 keys checkpointed, then `--runs` times 1 % of them
    /// touched and checkpointed again (timed).
    Checkpoint,
}

/// `weir bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A pipeline file whose source is a generator (open-loop latency run; needs `--rate`).
    pub pipeline: Option<PathBuf>,
    /// Measure this pipeline file end to end on `--input` (records/s, MB/s; median of `--runs`).
    #[arg(long = "pipeline", value_name = "FILE", conflicts_with = "pipeline")]
    pub pipeline_file: Option<PathBuf>,
    /// The input file of `--pipeline` (read once into the page cache before the runs).
    #[arg(long, value_name = "FILE", requires = "pipeline_file")]
    pub input: Option<PathBuf>,
    /// With `--pipeline`: override a pipeline field, as `weir run --set` (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE", requires = "pipeline_file")]
    pub sets: Vec<String>,
    /// Open-loop latency run at this rate (`1M/s`, `500k/s`; a list `1M/s,2M/s` is a sweep).
    #[arg(long)]
    pub rate: Option<String>,
    /// Length of each open-loop run.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub duration: std::time::Duration,
    /// Latency objective of a sweep, e.g. `p99.9=1ms`: the highest rate meeting it is reported.
    #[arg(long)]
    pub slo: Option<String>,
    /// Write the merged latency distribution as HdrHistogram `.hgrm` text (µs).
    #[arg(long)]
    pub hgrm: Option<PathBuf>,
    /// Draw the percentile curve and the per-100-ms throughput and p99 as SVG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// The workload.
    #[arg(long, value_enum, default_value = "w1")]
    pub workload: Workload,
    /// Run a Nexmark query file (`q0`, `q7`, ..., or `all`) from the in-process generator to a
    /// null sink, checkpoints every 10 s (see `weir::cli::bench_nexmark`).
    #[arg(long, value_name = "QUERY")]
    pub nexmark: Option<String>,
    /// Number of events.
    #[arg(long, default_value_t = 50_000_000)]
    pub events: u64,
    /// Number of distinct keys (w2 and w3: 100,000 unless given).
    #[arg(long, default_value_t = 1_000_000,
          default_value_ifs = [("workload", "w2", "100000"), ("workload", "w3", "100000")])]
    pub keys: u64,
    /// Worker threads.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Also run the single-threaded baseline loop and print the ratio.
    #[arg(long)]
    pub baseline: bool,
    /// Repetitions; the median is reported.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Take checkpoints at this interval (and report them), e.g. `1s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub checkpoint_interval: Option<std::time::Duration>,
    /// Checkpoint directory for `--checkpoint-interval` (default: a temporary directory).
    #[arg(long)]
    pub checkpoint_dir: Option<PathBuf>,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Latency runs: serve Prometheus text at this address (as `weir run`), including the
    /// live latency summary `weir_latency_seconds`.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// Where keyed state lives (W1, W6, restore).
    #[arg(long, value_enum, default_value = "heap")]
    pub state_backend: crate::state::BackendKind,
    /// Working files of the mmap backend (default: the temp directory).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Decoded entries the mmap backend keeps in memory per state object and worker.
    #[arg(long)]
    pub state_cache_entries: Option<usize>,
}

/// `weir inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A checkpoint directory (lists checkpoints) or one checkpoint (`ckpt/chk-0000000042`).
    pub path: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Output formats of `weir gen`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum GenFormat {
    /// `key,value,ts` with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// `weir gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of events.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Number of distinct keys.
    #[arg(long, default_value_t = 10_000)]
    pub keys: u64,
    /// Events per millisecond of event time.
    #[arg(long, default_value_t = 1000)]
    pub events_per_ms: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: GenFormat,
    /// Output file (`-` for stdout).
    #[arg(long)]
    pub out: PathBuf,
}
