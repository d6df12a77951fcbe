//! The section check of a restore: before the workers start, every state section of the
//! checkpoint is decoded by the matching state of a throwaway instance of the job's keyed
//! operator, so that a
//! checkpoint the pipeline cannot restore is skipped (or reported, exit 78) before anything
//! was read, written or deleted.

use crate::checkpoint::check_section;
use crate::error::StateSectionError;
use crate::operator::KeyedOperator;
use std::sync::Arc;

/// A check of `(key_group, state_name, bytes)` sections against a fresh operator made by
/// `factory` (see [`crate::checkpoint::SectionCheck`]): each section is decoded by its state
/// and dropped. (Key groups are checked against the state files' ranges by the checkpoint
/// layer.)
pub(crate) fn section_checker<K, T, O, Op>(
    factory: &Arc<dyn Fn() -> Op + Send + Sync>,
) -> impl FnMut(u16, &str, &[u8]) -> Result<(), StateSectionError> + Send
where
    Op: KeyedOperator<K, T, O>,
{
    let mut op = factory();
    move |_kg, name, bytes| check_section(&op.states(), name, bytes)
}
