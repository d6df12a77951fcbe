//! The compiled form of an expression ([`Node`]) and its evaluation on a row.
//!
//! Nodes are typed when they are built (see [`super::expr`]): each is evaluated by the one
//! `eval_*` method of its type, and the others return `None`. Numeric and boolean nodes never
//! allocate; a null field, a division by zero or an overflow evaluates to `None` (SQL's NULL),
//! which a filter treats as false.

use super::spec::Cmp;
use crate::record::{Row, Value};
use compact_str::CompactString;
use std::borrow::Cow;

/// The type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// UTF-8 string.
    Str,
    /// Timestamp, epoch ms.
    Ts,
    /// Boolean (predicates only; not a column type).
    Bool,
}

impl Ty {
    /// The name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Int => "i64",
            Ty::Float => "f64",
            Ty::Str => "string",
            Ty::Ts => "timestamp",
            Ty::Bool => "boolean",
        }
    }

    /// Integers and timestamps evaluate as `i64`.
    pub fn is_integral(self) -> bool {
        matches!(self, Ty::Int | Ty::Ts)
    }
}

/// An arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (integers: truncating)
    Div,
    /// `%` (integers: truncating remainder)
    Rem,
}

/// One piece of a `format(ts, '…')` pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimePart {
    /// `yyyy`
    Year,
    /// `MM`
    Month,
    /// `dd`
    Day,
    /// `HH`
    Hour,
    /// `mm`
    Minute,
    /// `ss`
    Second,
    /// `SSS`
    Milli,
    /// Text copied as is.
    Text(String),
}

/// A typed expression node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A field of the input row.
    Field(usize),
    /// An integer (or timestamp) constant.
    Int(i64),
    /// A float constant.
    Float(f64),
    /// A string constant.
    Str(CompactString),
    /// A boolean constant.
    Bool(bool),
    /// Integer arithmetic (checked: overflow and division by zero are null).
    IntOp(Arith, Box<Node>, Box<Node>),
    /// Float arithmetic.
    FloatOp(Arith, Box<Node>, Box<Node>),
    /// An integer as a float.
    ToFloat(Box<Node>),
    /// A float truncated to an integer (null when out of range or NaN).
    ToInt(Box<Node>),
    /// Integer negation.
    NegInt(Box<Node>),
    /// Float negation.
    NegFloat(Box<Node>),
    /// Comparison of two integers.
    CmpInt(Cmp, Box<Node>, Box<Node>),
    /// Comparison of two floats.
    CmpFloat(Cmp, Box<Node>, Box<Node>),
    /// Comparison of two strings (by bytes).
    CmpStr(Cmp, Box<Node>, Box<Node>),
    /// Comparison of two booleans.
    CmpBool(Cmp, Box<Node>, Box<Node>),
    /// Both true.
    And(Box<Node>, Box<Node>),
    /// Either true.
    Or(Box<Node>, Box<Node>),
    /// Not true.
    Not(Box<Node>),
    /// An integer among constants.
    InInt(Box<Node>, Vec<i64>),
    /// A string among constants.
    InStr(Box<Node>, Vec<CompactString>),
    /// `if(cond, then, else)` (a null condition takes `else`).
    If(Box<Node>, Box<Node>, Box<Node>),
    /// Absolute value of an integer.
    AbsInt(Box<Node>),
    /// Absolute value of a float.
    AbsFloat(Box<Node>),
    /// UTC hour (0..=23) of a timestamp.
    Hour(Box<Node>),
    /// UTC minute (0..=59) of a timestamp.
    Minute(Box<Node>),
    /// `yyyy-MM-dd` (UTC) of a timestamp.
    Date(Box<Node>),
    /// A timestamp formatted by a pattern (UTC).
    Format(Box<Node>, Vec<TimePart>),
    /// Occurrences of a byte in a string.
    CountChar(Box<Node>, u8),
    /// An integer `n` written as the exact decimal `n / 10^scale` with `scale` decimals.
    Decimal(Box<Node>, u32),
    /// Length of a string in bytes.
    Len(Box<Node>),
}

fn int_op(op: Arith, a: i64, b: i64) -> Option<i64> {
    match op {
        Arith::Add => a.checked_add(b),
        Arith::Sub => a.checked_sub(b),
        Arith::Mul => a.checked_mul(b),
        Arith::Div => a.checked_div(b),
        Arith::Rem => a.checked_rem(b),
    }
}

fn float_op(op: Arith, a: f64, b: f64) -> f64 {
    match op {
        Arith::Add => a + b,
        Arith::Sub => a - b,
        Arith::Mul => a * b,
        Arith::Div => a / b,
        Arith::Rem => a % b,
    }
}

impl Node {
    /// The value of an integer or timestamp node.
    pub fn eval_int(&self, row: &Row) -> Option<i64> {
        match self {
            Node::Field(i) => match row.get(*i)? {
                Value::I64(v) | Value::Ts(v) => Some(*v),
                _ => None,
            },
            Node::Int(v) => Some(*v),
            Node::IntOp(op, a, b) => int_op(*op, a.eval_int(row)?, b.eval_int(row)?),
            Node::NegInt(a) => a.eval_int(row)?.checked_neg(),
            Node::AbsInt(a) => a.eval_int(row)?.checked_abs(),
            Node::ToInt(a) => {
                let f = a.eval_float(row)?.trunc();
                // i64::MAX as f64 rounds up to 2^63, which does not fit.
                (f >= i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64)
            }
            Node::Hour(t) => Some(super::expr_time::hour(t.eval_int(row)?)),
            Node::Minute(t) => Some(super::expr_time::minute(t.eval_int(row)?)),
            Node::CountChar(s, c) => {
                Some(s.eval_str(row)?.bytes().filter(|b| b == c).count() as i64)
            }
            Node::Len(s) => Some(s.eval_str(row)?.len() as i64),
            Node::If(c, a, b) => match c.eval_bool(row) {
                Some(true) => a.eval_int(row),
                _ => b.eval_int(row),
            },
            _ => None,
        }
    }

    /// The value of a float node.
    pub fn eval_float(&self, row: &Row) -> Option<f64> {
        match self {
            Node::Field(i) => match row.get(*i)? {
                Value::F64(v) => Some(*v),
                _ => None,
            },
            Node::Float(v) => Some(*v),
            Node::FloatOp(op, a, b) => Some(float_op(*op, a.eval_float(row)?, b.eval_float(row)?)),
            Node::ToFloat(a) => Some(a.eval_int(row)? as f64),
            Node::NegFloat(a) => Some(-a.eval_float(row)?),
            Node::AbsFloat(a) => Some(a.eval_float(row)?.abs()),
            Node::If(c, a, b) => match c.eval_bool(row) {
                Some(true) => a.eval_float(row),
                _ => b.eval_float(row),
            },
            _ => None,
        }
    }

    /// The value of a string node (borrowed from the row or the node when possible).
    pub fn eval_str<'a>(&'a self, row: &'a Row) -> Option<Cow<'a, str>> {
        match self {
            Node::Field(i) => match row.get(*i)? {
                Value::Str(s) => Some(Cow::Borrowed(s.as_str())),
                _ => None,
            },
            Node::Str(s) => Some(Cow::Borrowed(s.as_str())),
            Node::Date(t) => Some(Cow::Owned(super::expr_time::date(t.eval_int(row)?))),
            Node::Format(t, parts) => Some(Cow::Owned(super::expr_time::format(
                t.eval_int(row)?,
                parts,
            ))),
            Node::Decimal(n, scale) => Some(Cow::Owned(decimal(n.eval_int(row)?, *scale))),
            Node::If(c, a, b) => match c.eval_bool(row) {
                Some(true) => a.eval_str(row),
                _ => b.eval_str(row),
            },
            _ => None,
        }
    }

    /// The value of a boolean node.
    pub fn eval_bool(&self, row: &Row) -> Option<bool> {
        let cmp = |c: &Cmp, o: std::cmp::Ordering| c.holds(o);
        match self {
            Node::Bool(b) => Some(*b),
            Node::CmpInt(c, a, b) => Some(cmp(c, a.eval_int(row)?.cmp(&b.eval_int(row)?))),
            Node::CmpFloat(c, a, b) => {
                Some(cmp(c, a.eval_float(row)?.partial_cmp(&b.eval_float(row)?)?))
            }
            Node::CmpStr(c, a, b) => Some(cmp(c, a.eval_str(row)?.cmp(&b.eval_str(row)?))),
            Node::CmpBool(c, a, b) => Some(cmp(c, a.eval_bool(row)?.cmp(&b.eval_bool(row)?))),
            // SQL's three-valued logic: false wins over null in `and`, true in `or`.
            Node::And(a, b) => match (a.eval_bool(row), b.eval_bool(row)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Node::Or(a, b) => match (a.eval_bool(row), b.eval_bool(row)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Node::Not(a) => a.eval_bool(row).map(|b| !b),
            Node::InInt(a, set) => {
                let v = a.eval_int(row)?;
                Some(set.contains(&v))
            }
            Node::InStr(a, set) => {
                let v = a.eval_str(row)?;
                Some(set.iter().any(|s| s.as_str() == v))
            }
            Node::If(c, a, b) => match c.eval_bool(row) {
                Some(true) => a.eval_bool(row),
                _ => b.eval_bool(row),
            },
            _ => None,
        }
    }

    /// The value of a node of type `ty` as a row value (null for null).
    pub fn value(&self, ty: Ty, row: &Row) -> Value {
        if let Node::Decimal(n, scale) = self {
            // Straight to a row string (no intermediate `String`).
            return n.eval_int(row).map_or(Value::Null, |n| {
                Value::Str(decimal_compact(n, *scale).into())
            });
        }
        let v = match ty {
            Ty::Int => self.eval_int(row).map(Value::I64),
            Ty::Ts => self.eval_int(row).map(Value::Ts),
            Ty::Float => self.eval_float(row).map(Value::F64),
            Ty::Str => self
                .eval_str(row)
                .map(|s| Value::Str(crate::record::Text::new(&s))),
            Ty::Bool => self.eval_bool(row).map(|b| Value::I64(i64::from(b))),
        };
        v.unwrap_or(Value::Null)
    }
}

/// `n / 10^scale` written with exactly `scale` decimals (`decimal(29537240908, 3)` is
/// `"29537240.908"`), in integer arithmetic.
pub fn decimal(n: i64, scale: u32) -> String {
    decimal_compact(n, scale).into_string()
}

/// [`decimal`] as a row string, built in a stack buffer: with `scale ≤ 18` (as the
/// expression checks) the text is at most 22 bytes, which a `CompactString` keeps inline.
/// Larger scales (only reachable from Rust) take a slower, general path.
pub fn decimal_compact(n: i64, scale: u32) -> CompactString {
    const MAX_FAST_SCALE: u32 = 18;
    if scale > MAX_FAST_SCALE {
        return decimal_general(n, scale).into();
    }
    let pow = 10u64.pow(scale);
    let abs = n.unsigned_abs();
    let mut buf = [0u8; 48];
    let mut len = 0;
    if n < 0 {
        buf[0] = b'-';
        len = 1;
    }
    let mut ints = itoa::Buffer::new();
    let int = ints.format(abs / pow).as_bytes();
    buf[len..len + int.len()].copy_from_slice(int);
    len += int.len();
    if scale > 0 {
        buf[len] = b'.';
        len += 1;
        let mut frac = abs % pow;
        for b in buf[len..len + scale as usize].iter_mut().rev() {
            *b = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        len += scale as usize;
    }
    ascii_compact(&buf[..len])
}

/// The string of `text`, made only of `-`, `.` and ASCII digits, without a UTF-8 check.
#[allow(unsafe_code)]
fn ascii_compact(text: &[u8]) -> CompactString {
    debug_assert!(text
        .iter()
        .all(|b| b.is_ascii_digit() || *b == b'-' || *b == b'.'));
    // SAFETY: `decimal_compact` writes only `b'-'`, `b'.'`, the ASCII digits of
    // `itoa::Buffer::format` and `b'0' + d` for `d < 10`: ASCII, so valid UTF-8.
    unsafe { CompactString::from_utf8_unchecked(text) }
}

/// [`decimal`] for any scale.
fn decimal_general(n: i64, scale: u32) -> String {
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    let digits = n.unsigned_abs().to_string();
    let scale = scale as usize;
    if scale == 0 {
        out.push_str(&digits);
        return out;
    }
    if digits.len() <= scale {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', scale - digits.len()));
        out.push_str(&digits);
    } else {
        let (int, frac) = digits.split_at(digits.len() - scale);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{decimal, decimal_general};

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal(32_530_001 * 908, 3), "29537240.908");
        assert_eq!(decimal(100 * 908, 3), "90.800");
        assert_eq!(decimal(908, 3), "0.908");
        assert_eq!(decimal(8, 3), "0.008");
        assert_eq!(decimal(-8, 3), "-0.008");
        assert_eq!(decimal(-1500, 3), "-1.500");
        assert_eq!(decimal(42, 0), "42");
        assert_eq!(decimal(i64::MIN, 2), "-92233720368547758.08");
        assert_eq!(decimal(i64::MIN, 18), "-9.223372036854775808");
        assert_eq!(decimal(-1, 18), "-0.000000000000000001");
        assert_eq!(decimal(5, 20), "0.00000000000000000005");
    }

    #[test]
    fn the_stack_path_agrees_with_the_general_one() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x as i64) >> (x % 64);
            for scale in 0..=18 {
                assert_eq!(decimal(n, scale), decimal_general(n, scale), "{n} {scale}");
            }
        }
    }
}
