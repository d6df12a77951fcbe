//! Checking a checkpoint's state sections against the pipeline's keyed state *before* any
//! worker starts, so that an unusable newest checkpoint (a state name the pipeline does not
//! have, bytes that do not decode) is skipped for an older one instead of failing the run.

use crate::error::StateSectionError;
use crate::state::KeyedStateStore;

/// Checks one state section `(key_group, state_name, bytes)` of a checkpoint; see
/// [`super::CheckpointStore::load_latest_checked`].
pub type SectionCheck<'a> =
    dyn FnMut(u16, &str, &[u8]) -> Result<(), StateSectionError> + Send + 'a;

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

/// Decodes the section into the matching state of `states` as the only key group it owns,
/// then drops it: a check that holds at most one section in memory at a time.
///
/// # Errors
/// As [`restore_section`].
pub fn check_section(
    states: &mut [&mut dyn KeyedStateStore],
    kg: u16,
    name: &str,
    bytes: &[u8],
) -> Result<(), StateSectionError> {
    let state = states
        .iter_mut()
        .find(|s| s.name() == name)
        .ok_or(StateSectionError::UnknownState)?;
    // `kg` comes from the archive: at 65535 the range is empty and the restore rejects it.
    state.set_key_groups(kg..kg.saturating_add(1));
    let result = state.restore_group(kg, bytes);
    state.set_key_groups(0..0);
    Ok(result?)
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
        assert_eq!(check_section(&mut states, 3, "sum", &good), Ok(()));
        assert_eq!(
            check_section(&mut states, 3, "max", &good),
            Err(StateSectionError::UnknownState)
        );
        assert_eq!(
            check_section(&mut states, 3, "sum", &good[..good.len() - 1]),
            Err(StateSectionError::Codec(CodecError::Truncated))
        );
        assert!(check_section(&mut states, u16::MAX, "sum", &good).is_err());
    }
}
