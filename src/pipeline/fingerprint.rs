//! The plan's fingerprint: XXH3-64 of a canonical encoding of the dataflow.
//!
//! Covered: the input schema, every op with its parameters (including output names), the key,
//! the schemas between the stages, and `max_parallelism`. Not covered: the name, paths, formats,
//! workers, batch size, error handling and checkpoint settings — so a checkpoint can be restored
//! with another input path or worker count, but not into a different pipeline.
//!
//! The encoding is tagged and length-prefixed, little endian. It is persisted (in checkpoint
//! manifests): changing it invalidates every checkpoint, so bump [`ENCODING_TAG`] when it must.

use super::spec::{AggFn, AggSpec, Cmp, KeyedOp, Plan, StatelessOp};
use crate::record::{FieldType, Schema, Value};

/// Prefix of the encoding; its version is the trailing number.
pub const ENCODING_TAG: &[u8] = b"weir.plan.v1";

pub(super) struct Canon(pub(super) Vec<u8>);

impl Canon {
    pub(super) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    pub(super) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(super) fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn schema(&mut self, schema: &Schema) {
        self.u64(schema.fields.len() as u64);
        for f in &schema.fields {
            self.str(&f.name);
            self.u8(match f.ty {
                FieldType::I64 => 1,
                FieldType::F64 => 2,
                FieldType::String => 3,
                FieldType::Timestamp => 4,
            });
        }
    }

    fn opt_schema(&mut self, schema: Option<&Schema>) {
        match schema {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.schema(s);
            }
        }
    }

    pub(super) fn indices(&mut self, indices: &[usize]) {
        self.u64(indices.len() as u64);
        for &i in indices {
            self.u64(i as u64);
        }
    }

    fn stateless(&mut self, ops: &[StatelessOp]) {
        self.u64(ops.len() as u64);
        for op in ops {
            match op {
                StatelessOp::Filter {
                    index,
                    cmp,
                    constant,
                } => {
                    self.u8(1);
                    self.u64(*index as u64);
                    self.u8(match cmp {
                        Cmp::Eq => 1,
                        Cmp::Ne => 2,
                        Cmp::Lt => 3,
                        Cmp::Le => 4,
                        Cmp::Gt => 5,
                        Cmp::Ge => 6,
                    });
                    self.value(constant);
                }
                StatelessOp::Select { indices } => {
                    self.u8(2);
                    self.indices(indices);
                }
                StatelessOp::Where(e) => {
                    self.u8(3);
                    self.text(&e.source);
                }
                StatelessOp::Project(columns) => {
                    self.u8(4);
                    self.u64(columns.len() as u64);
                    for c in columns {
                        self.text(&c.source);
                    }
                }
            }
        }
    }

    /// The aggregates of a rolling op or a window, in output order.
    pub(super) fn agg_specs(&mut self, aggs: &[AggSpec]) {
        self.u64(aggs.len() as u64);
        for a in aggs {
            self.u8(match a.func {
                AggFn::Sum => 1,
                AggFn::Count => 2,
                AggFn::Min => 3,
                AggFn::Max => 4,
                AggFn::Avg => 5,
            });
            self.u64(a.index.map_or(u64::MAX, |i| i as u64));
            self.str(&a.out_name);
        }
    }

    pub(super) fn text(&mut self, t: &str) {
        self.u64(t.len() as u64);
        self.0.extend_from_slice(t.as_bytes());
    }

    fn value(&mut self, v: &Value) {
        let mut bytes = Vec::new();
        v.canonical_bytes(&mut bytes);
        self.u64(bytes.len() as u64);
        self.0.extend_from_slice(&bytes);
    }

    fn keyed(&mut self, op: Option<&KeyedOp>) {
        match op {
            None => self.u8(0),
            Some(KeyedOp::Rolling(aggs)) => {
                self.u8(1);
                self.agg_specs(aggs);
            }
            Some(KeyedOp::Aggregate(a)) => self.aggregate(a),
            Some(KeyedOp::TopN(t)) => self.top_n(t),
            Some(KeyedOp::MaxRows(m)) => self.max_rows(m),
            Some(KeyedOp::Window(w)) => self.window(w),
            Some(KeyedOp::Dedup { ttl }) => {
                self.u8(2);
                self.u64(ttl.map_or(u64::MAX, |d| d.as_millis() as u64));
            }
            Some(KeyedOp::DedupEventTime { ttl, ts_index }) => {
                self.u8(5);
                self.u64(ttl.as_millis() as u64);
                self.u64(*ts_index as u64);
            }
            Some(KeyedOp::ZScore {
                index,
                out_name,
                threshold,
                min_count,
            }) => {
                self.u8(3);
                self.u64(*index as u64);
                self.str(out_name);
                self.u64(threshold.map_or(u64::MAX, f64::to_bits));
                self.u64(*min_count);
            }
            Some(KeyedOp::ZScoreWindow(z)) => self.zscore_window(z),
        }
    }
}

/// The fingerprint of `plan` (its `fingerprint` field is ignored).
pub(crate) fn fingerprint(plan: &Plan) -> u64 {
    let mut c = Canon(Vec::with_capacity(256));
    c.0.extend_from_slice(ENCODING_TAG);
    c.schema(&plan.input_schema);
    c.stateless(&plan.pre);
    c.opt_schema(plan.keyed_input_schema.as_ref());
    match &plan.key {
        None => c.u8(0),
        Some(key) => {
            c.u8(1);
            c.indices(key);
        }
    }
    c.keyed(plan.keyed.as_ref());
    c.opt_schema(plan.keyed_output_schema.as_ref());
    c.stateless(&plan.post);
    c.schema(&plan.output_schema);
    c.u64(u64::from(plan.runtime.max_parallelism));
    xxhash_rust::xxh3::xxh3_64(&c.0)
}
