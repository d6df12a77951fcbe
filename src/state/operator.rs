//! Operator state: state of an operator instance rather than of a key (Flink's operator
//! state). A list of items per instance, checkpointed with the MANIFEST, and redistributed on
//! a restore with another worker count:
//!
//! * [`OperatorListState`] — *even* redistribution: the items of all old instances, in worker
//!   order, are dealt out round-robin (item `i` to new instance `i % N`);
//! * [`UnionListState`] — *union* redistribution: every new instance gets every item.
//!
//! Meant for small state (offsets, counters, a few buffered records): it travels in the
//! MANIFEST, not in the state files.

use super::codec::{CodecError, StateCodec};
use serde::{Deserialize, Serialize};

/// How a list of operator state is handed out on restore.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Redistribution {
    /// Round-robin over the new instances.
    Even,
    /// Every new instance gets all items.
    Union,
}

/// One instance's list, as a checkpoint holds it.
///
/// Persisted (in the MANIFEST): changing fields changes the format: bump
/// [`crate::checkpoint::FORMAT_VERSION`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorSnapshot {
    /// `stage/state`.
    pub name: String,
    /// `true` for union redistribution.
    pub union: bool,
    /// The encoded items.
    pub items: Vec<Vec<u8>>,
}

/// An operator state object as the runtime sees it.
pub trait OperatorStateStore: Send {
    /// The state's name (unique within its operator).
    fn name(&self) -> &str;
    /// How it is redistributed on restore.
    fn redistribution(&self) -> Redistribution;
    /// Encodes every item.
    fn snapshot(&self) -> Vec<Vec<u8>>;
    /// Replaces the items with `items` (this instance's share on restore).
    ///
    /// # Errors
    /// An item does not decode.
    fn restore(&mut self, items: &[Vec<u8>]) -> Result<(), CodecError>;
}

macro_rules! operator_list {
    ($(#[$doc:meta])* $name:ident, $mode:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T> {
            name: String,
            items: Vec<T>,
        }

        impl<T> $name<T> {
            /// An empty list called `name`.
            pub fn new(name: &str) -> Self {
                $name {
                    name: name.to_string(),
                    items: Vec::new(),
                }
            }

            /// The items.
            pub fn get(&self) -> &[T] {
                &self.items
            }

            /// Appends an item.
            pub fn add(&mut self, item: T) {
                self.items.push(item);
            }

            /// Replaces the items.
            pub fn update(&mut self, items: Vec<T>) {
                self.items = items;
            }

            /// Removes and returns every item.
            pub fn take(&mut self) -> Vec<T> {
                std::mem::take(&mut self.items)
            }
        }

        impl<T: StateCodec + Send> OperatorStateStore for $name<T> {
            fn name(&self) -> &str {
                &self.name
            }
            fn redistribution(&self) -> Redistribution {
                $mode
            }
            fn snapshot(&self) -> Vec<Vec<u8>> {
                self.items
                    .iter()
                    .map(|t| {
                        let mut out = Vec::new();
                        t.encode(&mut out);
                        out
                    })
                    .collect()
            }
            fn restore(&mut self, items: &[Vec<u8>]) -> Result<(), CodecError> {
                self.items = items
                    .iter()
                    .map(|bytes| T::decode(&mut bytes.as_slice()))
                    .collect::<Result<_, _>>()?;
                Ok(())
            }
        }
    };
}

operator_list!(
    /// A list of operator state redistributed evenly (round-robin) on rescale.
    OperatorListState,
    Redistribution::Even
);
operator_list!(
    /// A list of operator state of which every instance gets the whole (union) on restore.
    UnionListState,
    Redistribution::Union
);

/// Hands the lists of `old` instances (index = old worker) out to `workers` new instances:
/// per state name, even lists round-robin in old-worker order, union lists whole to all.
pub fn redistribute(old: &[Vec<OperatorSnapshot>], workers: usize) -> Vec<Vec<OperatorSnapshot>> {
    let mut names: Vec<(String, bool)> = Vec::new();
    for s in old.iter().flatten() {
        if !names.iter().any(|(n, _)| *n == s.name) {
            names.push((s.name.clone(), s.union));
        }
    }
    let mut out: Vec<Vec<OperatorSnapshot>> = vec![Vec::new(); workers];
    for (name, union) in names {
        let all: Vec<&Vec<u8>> = old
            .iter()
            .flatten()
            .filter(|s| s.name == name)
            .flat_map(|s| s.items.iter())
            .collect();
        for (w, mine) in out.iter_mut().enumerate() {
            let items = all
                .iter()
                .enumerate()
                .filter(|(i, _)| union || i % workers == w)
                .map(|(_, item)| (*item).clone())
                .collect();
            mine.push(OperatorSnapshot {
                name: name.clone(),
                union,
                items,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(name: &str, union: bool, items: &[u8]) -> OperatorSnapshot {
        OperatorSnapshot {
            name: name.into(),
            union,
            items: items.iter().map(|&b| vec![b]).collect(),
        }
    }

    fn items(s: &[OperatorSnapshot], name: &str) -> Vec<u8> {
        s.iter()
            .filter(|s| s.name == name)
            .flat_map(|s| s.items.iter().map(|i| i[0]))
            .collect()
    }

    #[test]
    fn even_lists_are_dealt_round_robin_and_union_lists_go_to_all() {
        let old = vec![
            vec![snap("a", false, &[1, 2, 3]), snap("u", true, &[10])],
            vec![snap("a", false, &[4, 5]), snap("u", true, &[11, 12])],
        ];
        // 2 → 1: one instance gets everything of both kinds.
        let one = redistribute(&old, 1);
        assert_eq!(items(&one[0], "a"), vec![1, 2, 3, 4, 5]);
        assert_eq!(items(&one[0], "u"), vec![10, 11, 12]);
        // 2 → 3: even lists spread, nothing lost or duplicated; union lists everywhere.
        let three = redistribute(&old, 3);
        let mut all: Vec<u8> = three.iter().flat_map(|w| items(w, "a")).collect();
        all.sort_unstable();
        assert_eq!(all, vec![1, 2, 3, 4, 5]);
        assert!(three.iter().all(|w| items(w, "a").len() <= 2));
        assert!(three.iter().all(|w| items(w, "u") == vec![10, 11, 12]));
        // 1 → 2.
        let two = redistribute(&one, 2);
        assert_eq!(items(&two[0], "a"), vec![1, 3, 5]);
        assert_eq!(items(&two[1], "a"), vec![2, 4]);
        assert_eq!(items(&two[1], "u"), vec![10, 11, 12]);
    }

    #[test]
    fn lists_round_trip_through_their_codec() {
        let mut a = OperatorListState::<u64>::new("offsets");
        a.add(7);
        a.add(u64::MAX);
        let mut b = OperatorListState::<u64>::new("offsets");
        b.restore(&a.snapshot()).unwrap();
        assert_eq!(b.get(), &[7, u64::MAX]);
        assert!(b.restore(&[vec![1, 2]]).is_err(), "truncated item");
    }
}
