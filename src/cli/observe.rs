//! What `weir run` shows of a running job: the Prometheus endpoint (`--metrics-addr`) and the
//! progress line (stderr is a terminal). Both read the live counters, enabled only then.

use super::args::RunArgs;
use crate::metrics::{live, progress, prometheus};
use crate::runtime::RunConfig;
use std::io::IsTerminal;

/// Enables the live counters and starts the endpoint and the progress line as asked; the
/// returned guard stops the progress line when dropped.
///
/// # Errors
/// The metrics address cannot be bound.
pub fn start(args: &RunArgs, config: &RunConfig) -> crate::Result<Option<progress::Progress>> {
    if args.metrics_addr.is_none() && !std::io::stderr().is_terminal() {
        return Ok(None);
    }
    let live = live::enable(config.checkpoint.as_ref().map(|c| c.dir.clone()));
    if let Some(addr) = &args.metrics_addr {
        let bound = prometheus::serve(addr, live.clone())?;
        eprintln!("weir: metrics on http://{bound}/metrics");
    }
    Ok(progress::start(live))
}
