//! The section check of a restore: before the workers start, every state section of the
//! checkpoint is decoded into a throwaway instance of the job's keyed operator, so that a
//! checkpoint the pipeline cannot restore is skipped (or reported, exit 78) before anything
//! was read, written or deleted.

use crate::checkpoint::check_section;
use crate::error::StateSectionError;
use crate::operator::KeyedOperator;
use std::sync::Arc;

/// A check of `(key_group, state_name, bytes)` sections against a fresh operator made by
/// `factory` (see [`crate::checkpoint::SectionCheck`]). It holds one section's entries at a
/// time.
pub(crate) fn section_checker<K, T, O, Op>(
    factory: &Arc<dyn Fn() -> Op + Send + Sync>,
) -> impl FnMut(u16, &str, &[u8]) -> Result<(), StateSectionError> + Send
where
    Op: KeyedOperator<K, T, O>,
{
    let mut op = factory();
    move |kg, name, bytes| check_section(&mut op.states(), kg, name, bytes)
}
