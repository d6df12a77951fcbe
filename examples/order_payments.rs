//! A two-source join written against weir's typed library API: orders and payments, keyed by
//! order id, matched by a two-input keyed operator (`KeyedCoOperator`) that keeps each side's
//! unmatched records in keyed state; unmatched payments (no order seen yet) are reported on a
//! side output. Two sinks: the matches to stdout, the payment counts to stderr at the end.
//!
//! Run: `cargo run --release --example order_payments -- [ORDERS]`

use std::sync::Arc;
use weir::dataflow::Stream;
use weir::operator::KeyedCoOperator;
use weir::runtime::RunConfig;
use weir::sink::null::NullSink;
use weir::sink::stdout::StdoutSink;
use weir::sink::Encoder;
use weir::source::generator::GeneratorSource;
use weir::state::{KeyContext, KeyedStateStore, ValueState};

/// An order or a payment: `(order id, amount in cents)`.
type Event = (u64, i64);

/// A matched order and payment.
#[derive(Clone, Debug)]
struct Matched {
    order: u64,
    ordered: i64,
    paid: i64,
}

/// Joins each order with its payment, whichever arrives first.
struct OrderPayment {
    /// The amount of an order still waiting for its payment.
    order: ValueState<u64, i64>,
    /// The amount of a payment that arrived before its order.
    early_payment: ValueState<u64, i64>,
    /// Payments that arrived before their order (side output "early").
    early: Vec<Matched>,
}

impl KeyedCoOperator<u64, Event, Event, Matched> for OrderPayment {
    fn process1(&mut self, ctx: &KeyContext<'_, u64>, order: &mut Event, out: &mut Vec<Matched>) {
        let order = *order;
        match self.early_payment.clear(ctx) {
            Some(paid) => out.push(Matched {
                order: order.0,
                ordered: order.1,
                paid,
            }),
            None => self.order.update(ctx, order.1),
        }
    }

    fn process2(&mut self, ctx: &KeyContext<'_, u64>, payment: &mut Event, out: &mut Vec<Matched>) {
        let payment = *payment;
        match self.order.clear(ctx) {
            Some(ordered) => out.push(Matched {
                order: payment.0,
                ordered,
                paid: payment.1,
            }),
            None => {
                self.early_payment.update(ctx, payment.1);
                self.early.push(Matched {
                    order: payment.0,
                    ordered: 0,
                    paid: payment.1,
                });
            }
        }
    }

    fn states(&mut self) -> Vec<&mut dyn KeyedStateStore> {
        vec![&mut self.order, &mut self.early_payment]
    }

    fn side_outputs(&self) -> Vec<&'static str> {
        vec!["early"]
    }

    fn drain_side(&mut self, _index: usize, out: &mut Vec<Matched>) {
        out.append(&mut self.early);
    }
}

/// Writes `order,ordered,paid` lines.
struct MatchedCsv;

impl Encoder<Matched> for MatchedCsv {
    fn encode(&self, m: &Matched, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{},{},{}\n", m.order, m.ordered, m.paid).as_bytes());
    }
}

fn main() -> Result<(), weir::Error> {
    let orders_n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse::<u64>().ok())
        .unwrap_or(10);
    // Order i has id splitmix64(i) (the generator's key with u64::MAX keys: unique) and
    // amount i % 100; its payment, from the second source, carries the same id and amount.
    // The two sources run side by side, so some payments arrive before their order.
    let orders = GeneratorSource::new(orders_n, u64::MAX, |id, amount, _ts| (id, amount));
    let payments = GeneratorSource::new(orders_n, u64::MAX, |id, amount, _ts| (id, amount));
    let matched = Stream::from_named_source("orders", orders)
        .key_by(|o: &Event| o.0)
        .connect(Stream::from_named_source("payments", payments).key_by(|p: &Event| p.0))
        .process(|| OrderPayment {
            order: ValueState::new("order"),
            early_payment: ValueState::new("early_payment"),
            early: Vec::new(),
        });
    let early = matched.side_output("early");
    let report = matched
        .sink(StdoutSink::new(Arc::new(MatchedCsv)))
        .and(early.sink(NullSink::new(|m: &Matched| m.order)))
        .run(&RunConfig {
            workers: 2,
            ..RunConfig::default()
        })?;
    eprintln!(
        "{} events in, {} records out (matches and early payments)",
        report.records_in, report.sink.records
    );
    Ok(())
}
