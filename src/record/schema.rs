//! Schemas: named, typed fields.

use serde::{Deserialize, Serialize};

/// The type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// 64-bit signed integer.
    I64,
    /// 64-bit float.
    F64,
    /// UTF-8 string.
    String,
    /// Milliseconds since the Unix epoch (input: integer milliseconds or RFC 3339).
    Timestamp,
}

/// A named, typed field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Field type.
    #[serde(rename = "type")]
    pub ty: FieldType,
}

/// An ordered list of fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// The fields in order.
    pub fields: Vec<Field>,
}

impl Schema {
    /// Index of the field named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Field names, for error messages.
    pub fn names(&self) -> Vec<&str> {
        self.fields.iter().map(|f| f.name.as_str()).collect()
    }
}
