//! The refusal of a run that would silently start over: it prints the user's own command line
//! with `--restore latest`, and the flag to start over.

use crate::checkpoint::Manifest;
use crate::error::Error;
use std::path::Path;

/// `arg` quoted for a POSIX shell when it needs it.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./=:,@%+".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// This process's command line, quoted, plus `extra`.
pub fn command_line(extra: &[&str]) -> String {
    std::env::args_os()
        .map(|a| quote(&a.to_string_lossy()))
        .chain(extra.iter().map(|a| a.to_string()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The refusal: `dir` holds the complete checkpoint at `newest` (its manifest when readable).
pub fn refusal(dir: &Path, newest: &Path, manifest: Option<&Manifest>, fingerprint: u64) -> Error {
    let fresh = "To start over instead, add --fresh (the existing checkpoints and output are \
                 kept until the new run's first checkpoint is committed).";
    let what = match manifest {
        Some(m) if m.fingerprint != fingerprint => {
            return Error::Refused(format!(
                "checkpoint directory {} holds checkpoints of another pipeline (newest: {}). \
                 Use another --checkpoint-dir.\n{fresh}",
                dir.display(),
                newest.display()
            ));
        }
        Some(m) if m.finished => format!(
            "the final checkpoint {} of a completed run of this pipeline",
            m.id
        ),
        Some(m) => format!("checkpoint {} of this pipeline", m.id),
        None => format!("the checkpoint {}", newest.display()),
    };
    Error::Refused(format!(
        "checkpoint directory {} holds {what}; running without --restore or --fresh would \
         start over.\nTo resume:\n  {}\n{fresh}",
        dir.display(),
        command_line(&["--restore", "latest"])
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_the_shell_would_split() {
        assert_eq!(quote("--set=sink.path=out"), "--set=sink.path=out");
        assert_eq!(quote("my file"), "'my file'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
