//! Checking a checkpoint's state sections against the pipeline's keyed state *before* any
//! worker starts, so that an unusable newest checkpoint (a state name the pipeline does not
//! have, bytes that do not decode) is skipped for an older one instead of failing the run.

use crate::error::StateSectionError;
use crate::state::KeyedStateStore;

/// Checks one state section `(key_group, state_name, bytes)` of a checkpoint; see
/// [`super::CheckpointStore::load_latest_checked`].
pub type SectionCheck<'a> =
    dyn FnMut(u16, &str, &[u8]) -> Result<(), StateSectionError> + Send + 'a;

/// Makes one [`SectionCheck`] per checking thread (the state files of a checkpoint are
/// checked in parallel); see [`super::CheckpointStore::load_latest_checked`].
pub type SectionChecks<'a> = dyn Fn() -> Box<SectionCheck<'static>> + Sync + 'a;

/// Checks that accept every section (a plain load).
pub(crate) fn accept_all() -> Box<SectionCheck<'static>> {
    Box::new(|_, _, _| Ok(()))
}

/// Adds the section `(kg, name, bytes)` to the state called `name` among `states`.
///
/// # Errors
/// [`StateSectionError::UnknownState`] when no state has that name,
/// [`StateSectionError::Codec`] when the bytes do not decode (or `kg` is not owned).
pub fn restore_section(
    states: &mut [&mut dyn KeyedStateStore],
    kg: u16,
    name: &str,
    bytes: &[u8],
) -> Result<(), StateSectionError> {
    let state = states
        .iter_mut()
        .find(|s| s.name() == name)
        .ok_or(StateSectionError::UnknownState)?;
    state.restore_group(kg, bytes)?;
    Ok(())
}

/// Checks that the section would restore into the state called `name` among `states`
/// ([`KeyedStateStore::check_section`]: decoded, nothing kept).
///
/// # Errors
/// As [`restore_section`].
pub fn check_section(
    states: &[&mut dyn KeyedStateStore],
    name: &str,
    bytes: &[u8],
) -> Result<(), StateSectionError> {
    let state = states
        .iter()
        .find(|s| s.name() == name)
        .ok_or(StateSectionError::UnknownState)?;
    Ok(state.check_section(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::codec::StateCodec;
    use crate::state::{CodecError, ValueState};

    fn encoded_section() -> Vec<u8> {
        // Tag 0 (no TTL), count 1, key 7u64, value 9i64 — the ValueState section layout.
        let mut out = vec![0u8];
        1u32.encode(&mut out);
        7u64.encode(&mut out);
        9i64.encode(&mut out);
        out
    }

    #[test]
    fn unknown_names_and_bad_bytes_are_typed_errors() {
        let mut sum: ValueState<u64, i64> = ValueState::new("sum");
        let mut states: Vec<&mut dyn KeyedStateStore> = vec![&mut sum];
        let good = encoded_section();
        assert_eq!(check_section(&states, "sum", &good), Ok(()));
        assert_eq!(
            check_section(&states, "max", &good),
            Err(StateSectionError::UnknownState)
        );
        let cut = &good[..good.len() - 1];
        assert_eq!(
            check_section(&states, "sum", cut),
            Err(StateSectionError::Codec(CodecError::Truncated))
        );
        // The restore agrees with the check.
        states[0].set_key_groups(3..4);
        assert_eq!(
            restore_section(&mut states, 3, "sum", cut),
            Err(StateSectionError::Codec(CodecError::Truncated))
        );
        assert_eq!(restore_section(&mut states, 3, "sum", &good), Ok(()));
        assert_eq!(states[0].entries_in_group(3), 1);
        assert!(restore_section(&mut states, 9, "sum", &good).is_err());
    }
}
