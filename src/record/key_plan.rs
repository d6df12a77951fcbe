//! [`KeyPlan`]: how `key_by` builds a row's key, compiled once per `key_by` (issue 10,
//! step 6).
//!
//! A pipeline's `key_by` names its key fields once; the plan keeps the common case, one
//! field, as a bare index, so building a key is one bounds-checked read of the row and
//! [`RowKey::from_value`] (a short string or a number is built and hashed as words,
//! `record::row_key_short`), inlined into the `key_by` closure. Several fields take
//! [`RowKey::from_fields`]. Both give the key [`RowKey::from_fields`] gives (tested).

use crate::record::{RowKey, Value};

/// The key fields of a `key_by`, compiled for building keys.
///
/// ```
/// use weir::record::key_hash::KeyPlan;
/// use weir::record::{RowKey, Value};
///
/// let row = [Value::I64(1), Value::Str("7535".into())];
/// let plan = KeyPlan::new(&[1]);
/// assert_eq!(plan.key(&row), RowKey::from_values(&[Value::Str("7535".into())]));
/// ```
#[derive(Clone, Debug)]
pub struct KeyPlan(Fields);

/// The key's field indices.
#[derive(Clone, Debug)]
enum Fields {
    /// One field (the common key).
    One(usize),
    /// Any other number of fields, in key order.
    Many(Box<[usize]>),
}

impl KeyPlan {
    /// The plan of a key made of the fields at `fields`, in order.
    pub fn new(fields: &[usize]) -> Self {
        match fields {
            [i] => KeyPlan(Fields::One(*i)),
            _ => KeyPlan(Fields::Many(fields.into())),
        }
    }

    /// The key of `row` (`Null` for a missing field).
    #[inline(always)]
    pub fn key(&self, row: &[Value]) -> RowKey {
        match &self.0 {
            Fields::One(i) => match row.get(*i) {
                Some(v) => RowKey::from_value(v),
                None => RowKey::from_value(&Value::Null),
            },
            Fields::Many(fields) => RowKey::from_fields(row, fields),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::key_hash::tests::value;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn equals_from_fields(
            row in proptest::collection::vec(value(), 0..5),
            fields in proptest::collection::vec(0usize..6, 0..4),
        ) {
            // Indices past the row's end read as `Null`, on both paths.
            let plan = KeyPlan::new(&fields);
            let key = plan.key(&row);
            prop_assert_eq!(&key, &RowKey::from_fields(&row, &fields));
            let general: Vec<Value> =
                fields.iter().map(|&i| row.get(i).cloned().unwrap_or(Value::Null)).collect();
            prop_assert_eq!(&key, &RowKey::from_values(&general));
        }
    }
}
