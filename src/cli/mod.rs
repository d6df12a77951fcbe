//! The command line: `weir run | validate | bench | inspect | gen`.
//!
//! Exit codes are mapped in one place ([`crate::error::Error::exit_code`]).

pub mod args;
pub mod bench;
mod bench_checkpoint;
mod bench_latency;
mod bench_latency_jobs;
pub mod bench_nexmark;
pub mod bench_nexmark_latency;
mod bench_pipeline;
mod bench_plot;
mod bench_restore;
mod bench_restore_first;
mod bench_restore_runs;
mod bench_time;
mod bench_w2;
mod bench_w6;
pub mod build;
pub mod build_graph;
pub mod build_nexmark;
mod build_updating;
pub mod gen;
pub mod inspect;
mod inspect_json;
pub mod late_rows;
mod latency_io;
pub mod nexmark;
mod observe;
pub mod preflight;
mod resume_hint;
pub mod run;
mod run_fallback;
mod scratch;
mod sigpipe;
pub mod socket;
mod state_flags;
mod thread_cpu;

use crate::error::{Error, EXIT_OK, EXIT_USAGE};
use args::{Cli, Command};
use clap::Parser;

/// Parses the process arguments, runs the command, returns the exit code.
pub fn main() -> i32 {
    sigpipe::restore_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    init_logging();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("weir: {e}");
            e.exit_code()
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn dispatch(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Bench(args) => bench::run(&args),
        Command::Gen(args) => gen::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Validate(args) => Ok(run::validate(&args)),
        Command::Inspect(args) => inspect::run(&args),
        Command::Nexmark(args) => nexmark::run(&args),
    }
}
