//! Two-input keyed stages: both inputs travel on one set of rings as [`Either`], and
//! [`CoOperator`] hands each record to `process1` or `process2`.

use crate::operator::{KeyedCoOperator, KeyedOperator};
use crate::state::{KeyContext, KeyedStateStore};
use std::marker::PhantomData;

/// A record of the first (`Left`) or second (`Right`) input of a two-input stage.
#[derive(Clone, Debug, PartialEq)]
pub enum Either<A, B> {
    /// From the first input.
    Left(A),
    /// From the second input.
    Right(B),
}

/// A [`KeyedCoOperator`] seen as a one-input [`KeyedOperator`] over [`Either`].
pub struct CoOperator<Op, A, B> {
    inner: Op,
    _t: PhantomData<fn(A, B)>,
}

impl<Op, A, B> CoOperator<Op, A, B> {
    /// Wraps `inner`.
    pub fn new(inner: Op) -> Self {
        CoOperator {
            inner,
            _t: PhantomData,
        }
    }
}

impl<K, A, B, O, Op> KeyedOperator<K, Either<A, B>, O> for CoOperator<Op, A, B>
where
    Op: KeyedCoOperator<K, A, B, O>,
{
    #[inline]
    fn process(&mut self, ctx: &KeyContext<'_, K>, input: &mut Either<A, B>, out: &mut Vec<O>) {
        match input {
            Either::Left(a) => self.inner.process1(ctx, a, out),
            Either::Right(b) => self.inner.process2(ctx, b, out),
        }
    }
    #[inline]
    fn prefetch(&self, local_group: usize, hash: u64) {
        self.inner.prefetch(local_group, hash)
    }
    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        self.inner.states()
    }
    fn operator_states(&mut self) -> Vec<&mut dyn crate::state::OperatorStateStore> {
        self.inner.operator_states()
    }
    fn on_watermark(&mut self, watermark_ms: i64, out: &mut Vec<O>) {
        self.inner.on_watermark(watermark_ms, out)
    }
    fn on_processing_time(&mut self, now_ms: u64, out: &mut Vec<O>) {
        self.inner.on_processing_time(now_ms, out)
    }
    fn side_outputs(&self) -> Vec<&'static str> {
        self.inner.side_outputs()
    }
    fn drain_side(&mut self, index: usize, out: &mut Vec<O>) {
        self.inner.drain_side(index, out)
    }
    fn close(&mut self, out: &mut Vec<O>) {
        self.inner.close(out)
    }
}
