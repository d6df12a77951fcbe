//! What `weir run` does for socket sources: the spool's place, and the at-least-once notice.

use crate::error::Error;
use crate::pipeline::spec::{Plan, SourceSpec};
use crate::runtime::RunConfig;

/// Name of the spool directory inside the checkpoint directory.
pub const SPOOL_DIR: &str = "spool";

/// Points a spooling TCP source at `<checkpoint dir>/spool`; says on stderr that a TCP source
/// without a spool is at-least-once.
///
/// # Errors
/// `spool = true` without a checkpoint directory.
pub fn prepare(plan: &mut Plan, config: &RunConfig) -> crate::Result<()> {
    let SourceSpec::Tcp(tcp) = &mut plan.source else {
        return Ok(());
    };
    if !tcp.spool {
        eprintln!(
            "weir: {}: socket input is at-least-once (records received after the last \
             checkpoint are lost on a crash); set source.spool = true for exactly-once",
            plan.name
        );
        return Ok(());
    }
    match &config.checkpoint {
        Some(cc) => {
            tcp.spool_dir = Some(cc.dir.join(SPOOL_DIR));
            Ok(())
        }
        None => Err(Error::Config(vec![
            "source.spool: needs a checkpoint directory (--checkpoint-dir or [checkpoint])"
                .to_string(),
        ])),
    }
}
