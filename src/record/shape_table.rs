//! What the shape decoders (`csv_shape`, `json_shape`) share: a schema's shape as bit masks
//! and the table of their decoders, one monomorphised per field count and string pattern.

use super::{Field, FieldType};

/// The most fields a shape decoder takes.
pub(crate) const MAX_FIELDS: usize = 4;

/// A schema's shape: bit `k` of `strings` set when field `k` is a string, of `ts` when it is
/// a timestamp (else an `i64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShapeMasks {
    /// The string fields.
    pub(crate) strings: u32,
    /// The timestamp fields.
    pub(crate) ts: u32,
}

impl ShapeMasks {
    /// The masks of `fields`; `None` for no field, more than [`MAX_FIELDS`] or a float (those
    /// go to the general scan).
    pub(crate) fn of(fields: &[Field]) -> Option<Self> {
        if fields.is_empty() || fields.len() > MAX_FIELDS {
            return None;
        }
        let mut m = ShapeMasks { strings: 0, ts: 0 };
        for (k, f) in fields.iter().enumerate() {
            match f.ty {
                FieldType::String => m.strings |= 1 << k,
                FieldType::Timestamp => m.ts |= 1 << k,
                FieldType::I64 => {}
                FieldType::F64 => return None,
            }
        }
        Some(m)
    }
}

/// `Some(run::<N, STRINGS> as Type)` for `n` fields with string mask `strings` (`n` from 1
/// to [`MAX_FIELDS`]), else `None`: `shape_table!(run as Type, n, strings)`.
macro_rules! shape_table {
    ($run:ident as $ty:ty, $n:expr, $strings:expr; $($k:literal: [$($s:literal),*]);*) => {
        match ($n, $strings) {
            $($(($k, $s) => Some($run::<$k, $s> as $ty),)*)*
            _ => None,
        }
    };
    ($run:ident as $ty:ty, $n:expr, $strings:expr) => {
        $crate::record::shape_table::shape_table!($run as $ty, $n, $strings;
            1: [0, 1];
            2: [0, 1, 2, 3];
            3: [0, 1, 2, 3, 4, 5, 6, 7];
            4: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
    };
}
pub(crate) use shape_table;

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(types: &[FieldType]) -> Vec<Field> {
        let names = ["a", "b", "c", "d", "e"];
        types
            .iter()
            .zip(names)
            .map(|(&ty, name)| Field {
                name: name.into(),
                ty,
            })
            .collect()
    }

    #[test]
    fn masks_name_each_fields_kind_and_refuse_what_no_shape_takes() {
        use FieldType::*;
        let m = ShapeMasks::of(&fields(&[String, I64, Timestamp])).expect("a shape");
        assert_eq!((m.strings, m.ts), (0b001, 0b100));
        assert!(ShapeMasks::of(&fields(&[])).is_none());
        assert!(ShapeMasks::of(&fields(&[I64, F64])).is_none());
        assert!(ShapeMasks::of(&fields(&[I64; 5])).is_none());
    }

    fn sum<const N: usize, const S: u32>() -> usize {
        N * 100 + S as usize
    }

    #[test]
    fn the_table_has_every_string_pattern_of_one_to_four_fields() {
        for n in 1..=MAX_FIELDS {
            for s in 0..1u32 << n {
                let f = shape_table!(sum as fn() -> usize, n, s).expect("in the table");
                assert_eq!(f(), n * 100 + s as usize);
            }
            assert!(shape_table!(sum as fn() -> usize, n, 1u32 << n).is_none());
        }
        assert!(shape_table!(sum as fn() -> usize, 5, 0u32).is_none());
    }
}
