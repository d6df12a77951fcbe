//! Canonical encodings of the keyed ops with many settings (window, aggregate, top_n,
//! max_rows, windowed z-score) for the plan's fingerprint.
//!
//! Each op writes its tag, then its settings field by field, then its **optional settings**
//! as `(tag, value)` pairs, each written only when it differs from its default, then a `0`.
//! A setting added later is an optional one: a pipeline that does not use it keeps its
//! fingerprint, so checkpoints written before the setting existed still restore. (These ops
//! were once hashed through their `Debug` text, which changed whenever a field was added.)

use super::fingerprint::Canon;
use super::ops::aggregate::{AggregateSpec, TopNSpec};
use super::ops::max_rows::MaxRowsSpec;
use super::ops::window::{WindowSpec, WindowTime};
use super::ops::zscore_window::ZScoreWindowSpec;
use crate::operator::aggregate_acc::UpdFn;
use crate::operator::window::WindowKind;

/// End of an op's optional settings.
const END: u8 = 0;

impl Canon {
    fn opt_indices(&mut self, indices: Option<&[usize]>) {
        match indices {
            None => self.u8(0),
            Some(i) => {
                self.u8(1);
                self.indices(i);
            }
        }
    }

    fn flag(&mut self, b: bool) {
        self.u8(u8::from(b));
    }

    /// A `window` op.
    pub(super) fn window(&mut self, w: &WindowSpec) {
        self.u8(4);
        match w.kind {
            WindowKind::Tumbling { size } => {
                self.u8(1);
                self.u64(size as u64);
            }
            WindowKind::Sliding { size, slide } => {
                self.u8(2);
                self.u64(size as u64);
                self.u64(slide as u64);
            }
            WindowKind::Session { gap } => {
                self.u8(3);
                self.u64(gap as u64);
            }
        }
        self.u64(w.allowed_lateness.as_millis() as u64);
        self.u64(w.ts_index as u64);
        self.agg_specs(&w.aggs);
        if w.time == WindowTime::Processing {
            self.u8(1);
        }
        self.u8(END);
    }

    /// An `aggregate` op.
    pub(super) fn aggregate(&mut self, a: &AggregateSpec) {
        self.u8(7);
        self.opt_indices(a.group_by.as_deref());
        self.opt_indices(a.upsert_key.as_deref());
        self.u64(a.aggs.len() as u64);
        for g in &a.aggs {
            self.u8(match g.func {
                UpdFn::Count => 1,
                UpdFn::Sum => 2,
                UpdFn::Min => 3,
                UpdFn::Max => 4,
                UpdFn::Avg => 5,
                UpdFn::CountDistinct => 6,
            });
            self.u64(g.index.map_or(u64::MAX, |i| i as u64));
            match &g.filter {
                None => self.u8(0),
                Some(e) => {
                    self.u8(1);
                    self.text(&e.source);
                }
            }
            self.str(&g.out_name);
        }
        self.u8(END);
    }

    /// A `top_n` op.
    pub(super) fn top_n(&mut self, t: &TopNSpec) {
        self.u8(8);
        self.opt_indices(t.group_by.as_deref());
        let c = &t.config;
        self.u64(c.n as u64);
        self.u64(c.order_by as u64);
        self.flag(c.descending);
        self.flag(c.later_wins_ties);
        self.flag(c.rank_column);
        if let Some((index, descending)) = c.then_by {
            self.u8(1);
            self.u64(index as u64);
            self.flag(descending);
        }
        self.u8(END);
    }

    /// A `max_rows` op.
    pub(super) fn max_rows(&mut self, m: &MaxRowsSpec) {
        self.u8(9);
        self.opt_indices(m.group_by.as_deref());
        self.u64(m.field as u64);
        self.u64(m.at as u64);
        if let Some(w) = m.window {
            self.u8(1);
            self.u64(w.size_ms as u64);
            self.flag(w.include_end);
        }
        self.u8(END);
    }

    /// A `process zscore` with a `window`.
    pub(super) fn zscore_window(&mut self, z: &ZScoreWindowSpec) {
        self.u8(10);
        self.u64(z.index as u64);
        self.u64(z.ts_index as u64);
        self.u64(z.window.as_millis() as u64);
        self.str(&z.out_name);
        self.u64(z.threshold.map_or(u64::MAX, f64::to_bits));
        self.u64(z.min_count);
        self.u8(END);
    }
}
