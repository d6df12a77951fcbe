//! The section check of a restore: before the workers start, every state section of the
//! checkpoint is decoded by the matching state of a throwaway instance of the job's keyed
//! operator, so that a
//! checkpoint the pipeline cannot restore is skipped (or reported, exit 78) before anything
//! was read, written or deleted.

use crate::checkpoint::{check_section, SectionCheck};
use crate::operator::KeyedOperator;
use std::sync::Arc;

/// Checks of `(key_group, state_name, bytes)` sections, each against a fresh operator made
/// by `factory` (see [`crate::checkpoint::SectionChecks`]): each section is decoded by its
/// state and dropped. (Key groups are checked against the state files' ranges by the
/// checkpoint layer.)
pub(crate) fn section_checks<K, T, O, Op>(
    factory: &Arc<dyn Fn() -> Op + Send + Sync>,
) -> impl Fn() -> Box<SectionCheck<'static>> + Sync + '_
where
    Op: KeyedOperator<K, T, O> + 'static,
{
    move || {
        let mut op = factory();
        Box::new(move |_kg: u16, name: &str, bytes: &[u8]| check_section(&op.states(), name, bytes))
    }
}
