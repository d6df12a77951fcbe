//! Expressions of pipeline files: the predicates of `filter` (`where = "…"`) and the computed
//! columns of `select` (`{ expr = "…", as = "name" }`).
//!
//! ```text
//! auction % 123 == 0
//! category == 10 && state in ('OR', 'ID', 'CA')
//! decimal(price * 908, 3)                      -- "29537240.908": price·0.908, exact
//! if(hour(dateTime) >= 8 && hour(dateTime) <= 18, 'dayTime', 'nightTime')
//! ```
//!
//! - Values: field names, integers (`42`), floats (`0.908`), strings (`'OR'` or `"OR"`),
//!   `true`, `false`.
//! - Operators, loosest first: `||`/`or`; `&&`/`and`; `!`/`not`; comparisons
//!   (`==`, `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`) and `x [not] in (c1, c2, …)` (constants);
//!   `+ -`; `* / %`; unary `-`.
//!   Integer arithmetic stays integral (`/` truncates); an integer meets a float as a float.
//!   A timestamp plus or minus an integer (ms) is a timestamp; two timestamps subtract to an
//!   integer.
//! - Functions: `hour(ts)`, `minute(ts)` (UTC, integers); `date(ts)` (`yyyy-MM-dd`);
//!   `format(ts, 'HH:mm')` (`yyyy MM dd HH mm ss SSS`); `count_char(s, 'c')`; `len(s)`;
//!   `decimal(n, scale)` (the integer `n` as the exact decimal `n / 10^scale`, a string);
//!   `abs(x)`; `float(x)`; `int(x)` (truncates); `if(cond, a, b)`.
//! - Types are checked when the file is validated; errors name the field
//!   (`cannot compare field "state" (string) with 10 (i64)`). A null field, a division by zero
//!   or an overflow makes the value null: a filter drops the row, a column is empty.
//!
//! An expression compiles once to a typed tree ([`Node`]) that numeric and boolean
//! expressions evaluate without allocating.

use super::expr_eval::{Arith, Node, Ty};
use super::spec::Cmp;
use crate::record::{FieldType, Row, Schema, Value};

/// A compiled expression: its source text, typed tree and type.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// The text it was compiled from (the fingerprint hashes it).
    pub source: String,
    /// The typed tree.
    pub node: Node,
    /// Its type.
    pub ty: Ty,
}

impl Expr {
    /// Compiles `text` against the fields of `schema`.
    ///
    /// # Errors
    /// A message naming the problem (syntax with its column, unknown field with the known
    /// ones, mismatched types naming the field).
    pub fn compile(text: &str, schema: &Schema) -> Result<Expr, String> {
        let tokens = super::expr_lex::lex(text)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            schema,
        };
        let t = p.or()?;
        if let Some(tok) = p.tokens.get(p.pos) {
            return Err(format!("unexpected {} at column {}", tok.text, tok.col));
        }
        Ok(Expr {
            source: text.to_string(),
            node: t.node,
            ty: t.ty,
        })
    }

    /// Whether the row passes (a boolean expression; null is false).
    #[inline]
    pub fn test(&self, row: &Row) -> bool {
        self.node.eval_bool(row) == Some(true)
    }

    /// The value of the expression on `row`.
    #[inline]
    pub fn value(&self, row: &Row) -> Value {
        if let Node::Field(i) = self.node {
            return row.get(i).cloned().unwrap_or(Value::Null);
        }
        self.node.value(self.ty, row)
    }

    /// The field type of a column computed by this expression (`None` for booleans).
    pub fn field_type(&self) -> Option<FieldType> {
        match self.ty {
            Ty::Int => Some(FieldType::I64),
            Ty::Float => Some(FieldType::F64),
            Ty::Str => Some(FieldType::String),
            Ty::Ts => Some(FieldType::Timestamp),
            Ty::Bool => None,
        }
    }
}

use super::expr_lex::{Tok, Token};

/// A typed node and how to name it in errors.
pub(super) struct Typed {
    pub(super) node: Node,
    pub(super) ty: Ty,
    pub(super) desc: String,
}

impl Typed {
    fn new(node: Node, ty: Ty, desc: impl Into<String>) -> Typed {
        Typed {
            node,
            ty,
            desc: desc.into(),
        }
    }

    fn named(&self) -> String {
        format!("{} ({})", self.desc, self.ty.name())
    }

    fn boxed(self) -> Box<Node> {
        Box::new(self.node)
    }

    /// The node as a float (integers converted).
    fn float(self) -> Box<Node> {
        if self.ty.is_integral() {
            Box::new(Node::ToFloat(self.boxed()))
        } else {
            self.boxed()
        }
    }

    fn numeric(&self) -> bool {
        matches!(self.ty, Ty::Int | Ty::Ts | Ty::Float)
    }
}

pub(super) struct Parser<'a> {
    pub(super) tokens: Vec<Token>,
    pub(super) pos: usize,
    pub(super) schema: &'a Schema,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    /// Consumes the next token when it is `want`.
    fn eat(&mut self, want: &Tok) -> bool {
        let hit = self.peek() == Some(want);
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), String> {
        if self.eat(want) {
            return Ok(());
        }
        Err(match self.tokens.get(self.pos) {
            Some(t) => format!("expected {what} at column {}, found {}", t.col, t.text),
            None => format!("expected {what} at the end"),
        })
    }

    fn keyword(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word));
        self.pos += usize::from(hit);
        hit
    }

    pub(super) fn or(&mut self) -> Result<Typed, String> {
        let mut left = self.and()?;
        while self.eat(&Tok::Op("||")) || self.keyword("or") {
            let right = self.and()?;
            left = logic(left, right, "or", Node::Or)?;
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Typed, String> {
        let mut left = self.not()?;
        while self.eat(&Tok::Op("&&")) || self.keyword("and") {
            let right = self.not()?;
            left = logic(left, right, "and", Node::And)?;
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Typed, String> {
        if self.eat(&Tok::Op("!")) || self.keyword("not") {
            let inner = self.not()?;
            if inner.ty != Ty::Bool {
                return Err(format!("not needs a boolean, found {}", inner.named()));
            }
            let desc = format!("not {}", inner.desc);
            return Ok(Typed::new(Node::Not(inner.boxed()), Ty::Bool, desc));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Typed, String> {
        let left = self.sum()?;
        let negated = {
            let save = self.pos;
            let not = self.keyword("not");
            if not && !matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("in")) {
                self.pos = save;
            }
            not && self.pos != save
        };
        if self.keyword("in") {
            let set = self.in_list(left)?;
            return Ok(match negated {
                true => {
                    let desc = format!("not ({})", set.desc);
                    Typed::new(Node::Not(set.boxed()), Ty::Bool, desc)
                }
                false => set,
            });
        }
        let cmp = match self.peek() {
            Some(Tok::Op(op)) => match *op {
                "==" | "=" => Some(Cmp::Eq),
                "!=" | "<>" => Some(Cmp::Ne),
                "<" => Some(Cmp::Lt),
                "<=" => Some(Cmp::Le),
                ">" => Some(Cmp::Gt),
                ">=" => Some(Cmp::Ge),
                _ => None,
            },
            _ => None,
        };
        let Some(cmp) = cmp else {
            return Ok(left);
        };
        self.pos += 1;
        let right = self.sum()?;
        compare(cmp, left, right)
    }

    /// `( c1, c2, … )` after `x in`.
    fn in_list(&mut self, left: Typed) -> Result<Typed, String> {
        self.expect(&Tok::LParen, "'(' after in")?;
        let (mut ints, mut strs) = (Vec::new(), Vec::new());
        loop {
            let neg = self.eat(&Tok::Op("-"));
            let tok = self.tokens.get(self.pos).cloned();
            self.pos += 1;
            match (left.ty, tok.map(|t| (t.tok, t.col))) {
                (Ty::Int | Ty::Ts, Some((Tok::Int(v), _))) => ints.push(if neg { -v } else { v }),
                (Ty::Str, Some((Tok::Str(s), _))) if !neg => strs.push(s.as_str().into()),
                (_, Some((_, col))) => {
                    return Err(format!(
                        "in: the list of {} holds constants of its type (column {col})",
                        left.named()
                    ))
                }
                (_, None) => return Err("in: unterminated list".to_string()),
            }
            if self.eat(&Tok::RParen) {
                break;
            }
            self.expect(&Tok::Comma, "',' or ')' in the in list")?;
        }
        let desc = format!("{} in (…)", left.desc);
        let node = match left.ty {
            Ty::Str => Node::InStr(left.boxed(), strs),
            _ => Node::InInt(left.boxed(), ints),
        };
        Ok(Typed::new(node, Ty::Bool, desc))
    }

    fn sum(&mut self) -> Result<Typed, String> {
        let mut left = self.product()?;
        loop {
            let op = if self.eat(&Tok::Op("+")) {
                Arith::Add
            } else if self.eat(&Tok::Op("-")) {
                Arith::Sub
            } else {
                return Ok(left);
            };
            let right = self.product()?;
            left = arith(op, left, right)?;
        }
    }

    fn product(&mut self) -> Result<Typed, String> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat(&Tok::Op("*")) {
                Arith::Mul
            } else if self.eat(&Tok::Op("/")) {
                Arith::Div
            } else if self.eat(&Tok::Op("%")) {
                Arith::Rem
            } else {
                return Ok(left);
            };
            let right = self.unary()?;
            left = arith(op, left, right)?;
        }
    }

    fn unary(&mut self) -> Result<Typed, String> {
        if !self.eat(&Tok::Op("-")) {
            return self.primary();
        }
        let inner = self.unary()?;
        let desc = format!("-{}", inner.desc);
        match inner.ty {
            Ty::Int => Ok(match inner.node {
                Node::Int(v) => Typed::new(Node::Int(v.wrapping_neg()), Ty::Int, desc),
                n => Typed::new(Node::NegInt(Box::new(n)), Ty::Int, desc),
            }),
            Ty::Float => Ok(match inner.node {
                Node::Float(v) => Typed::new(Node::Float(-v), Ty::Float, desc),
                n => Typed::new(Node::NegFloat(Box::new(n)), Ty::Float, desc),
            }),
            _ => Err(format!("cannot negate {}", inner.named())),
        }
    }

    fn primary(&mut self) -> Result<Typed, String> {
        let Some(token) = self.tokens.get(self.pos).cloned() else {
            return Err("unexpected end of the expression".to_string());
        };
        self.pos += 1;
        match token.tok {
            Tok::Int(v) => Ok(Typed::new(Node::Int(v), Ty::Int, token.text)),
            Tok::Float(v) => Ok(Typed::new(Node::Float(v), Ty::Float, token.text)),
            Tok::Str(s) => Ok(Typed::new(
                Node::Str(s.as_str().into()),
                Ty::Str,
                token.text,
            )),
            Tok::LParen => {
                let inner = self.or()?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(inner)
            }
            Tok::Ident(name) if self.eat(&Tok::LParen) => self.call(&name, token.col),
            Tok::Ident(name) => self.name(&name),
            _ => Err(format!("unexpected {} at column {}", token.text, token.col)),
        }
    }

    fn name(&self, name: &str) -> Result<Typed, String> {
        if name.eq_ignore_ascii_case("true") || name.eq_ignore_ascii_case("false") {
            let b = name.eq_ignore_ascii_case("true");
            return Ok(Typed::new(Node::Bool(b), Ty::Bool, name));
        }
        let Some(i) = self.schema.index_of(name) else {
            return Err(format!(
                "unknown field {name:?} (fields: {})",
                self.schema.names().join(", ")
            ));
        };
        let ty = match self.schema.fields[i].ty {
            FieldType::I64 => Ty::Int,
            FieldType::F64 => Ty::Float,
            FieldType::String => Ty::Str,
            FieldType::Timestamp => Ty::Ts,
        };
        Ok(Typed::new(Node::Field(i), ty, format!("field {name:?}")))
    }

    /// The arguments of a call, after its `(`.
    pub(super) fn args(&mut self) -> Result<Vec<Typed>, String> {
        let mut args = Vec::new();
        if self.eat(&Tok::RParen) {
            return Ok(args);
        }
        loop {
            args.push(self.or()?);
            if self.eat(&Tok::RParen) {
                return Ok(args);
            }
            self.expect(&Tok::Comma, "',' or ')' after an argument")?;
        }
    }
}

fn logic(
    a: Typed,
    b: Typed,
    word: &str,
    f: fn(Box<Node>, Box<Node>) -> Node,
) -> Result<Typed, String> {
    for side in [&a, &b] {
        if side.ty != Ty::Bool {
            return Err(format!("{word} needs booleans, found {}", side.named()));
        }
    }
    let desc = format!("{} {word} {}", a.desc, b.desc);
    Ok(Typed::new(f(a.boxed(), b.boxed()), Ty::Bool, desc))
}

fn compare(cmp: Cmp, a: Typed, b: Typed) -> Result<Typed, String> {
    let desc = format!("{} compared with {}", a.desc, b.desc);
    let node = match (a.ty, b.ty) {
        (x, y) if x.is_integral() && y.is_integral() => Node::CmpInt(cmp, a.boxed(), b.boxed()),
        _ if a.numeric() && b.numeric() => Node::CmpFloat(cmp, a.float(), b.float()),
        (Ty::Str, Ty::Str) => Node::CmpStr(cmp, a.boxed(), b.boxed()),
        (Ty::Bool, Ty::Bool) => Node::CmpBool(cmp, a.boxed(), b.boxed()),
        _ => return Err(format!("cannot compare {} with {}", a.named(), b.named())),
    };
    Ok(Typed::new(node, Ty::Bool, desc))
}

pub(super) fn arith(op: Arith, a: Typed, b: Typed) -> Result<Typed, String> {
    if !a.numeric() || !b.numeric() {
        let bad = if a.numeric() { &b } else { &a };
        return Err(format!("arithmetic needs numbers, found {}", bad.named()));
    }
    let desc = format!("{} {} {}", a.desc, symbol(op), b.desc);
    let ty = match (a.ty, b.ty, op) {
        (Ty::Ts, Ty::Int, Arith::Add | Arith::Sub) | (Ty::Int, Ty::Ts, Arith::Add) => Ty::Ts,
        (x, y, _) if x.is_integral() && y.is_integral() => Ty::Int,
        _ => Ty::Float,
    };
    let node = match ty {
        Ty::Float => Node::FloatOp(op, a.float(), b.float()),
        _ => Node::IntOp(op, a.boxed(), b.boxed()),
    };
    Ok(Typed::new(node, ty, desc))
}

fn symbol(op: Arith) -> &'static str {
    match op {
        Arith::Add => "+",
        Arith::Sub => "-",
        Arith::Mul => "*",
        Arith::Div => "/",
        Arith::Rem => "%",
    }
}
