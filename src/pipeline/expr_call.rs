//! Function calls of expressions: `hour`, `minute`, `date`, `format`, `count_char`, `len`,
//! `decimal`, `abs`, `float`, `int`, `if`.

use super::expr::{Parser, Typed};
use super::expr_eval::{Node, Ty};

impl Parser<'_> {
    /// The call of `name` (its `(` consumed) at column `col`.
    pub(super) fn call(&mut self, name: &str, col: usize) -> Result<Typed, String> {
        let args = self.args()?;
        let lower = name.to_ascii_lowercase();
        let want = |n: usize| -> Result<(), String> {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "{name}() at column {col} takes {n} argument{}, found {}",
                    if n == 1 { "" } else { "s" },
                    args.len()
                ))
            }
        };
        let arity = match lower.as_str() {
            "hour" | "minute" | "date" | "len" | "abs" | "float" | "int" => 1,
            "format" | "count_char" | "decimal" => 2,
            "if" => 3,
            _ => {
                return Err(format!(
                    "unknown function {name}() at column {col} (functions: hour, minute, date, \
                     format, count_char, len, decimal, abs, float, int, if)"
                ))
            }
        };
        want(arity)?;
        let desc = format!("{name}(…)");
        let mut args = args.into_iter();
        let mut next = || {
            args.next()
                .ok_or_else(|| format!("{name}(): missing argument"))
        };
        let (node, ty) = match lower.as_str() {
            "hour" => (Node::Hour(integral(next()?, name)?), Ty::Int),
            "minute" => (Node::Minute(integral(next()?, name)?), Ty::Int),
            "date" => (Node::Date(integral(next()?, name)?), Ty::Str),
            "format" => {
                let ts = integral(next()?, name)?;
                let pattern = constant_str(next()?, name)?;
                let parts = super::expr_time::parse_pattern(&pattern)
                    .map_err(|e| format!("{name}(): {e}"))?;
                (Node::Format(ts, parts), Ty::Str)
            }
            "count_char" => {
                let s = string(next()?, name)?;
                let c = constant_str(next()?, name)?;
                let &[byte] = c.as_bytes() else {
                    return Err(format!(
                        "{name}(): the second argument must be one ASCII character"
                    ));
                };
                (Node::CountChar(s, byte), Ty::Int)
            }
            "len" => (Node::Len(string(next()?, name)?), Ty::Int),
            "decimal" => {
                let n = integral(next()?, name)?;
                let scale = match next()?.node {
                    Node::Int(s @ 0..=18) => s as u32,
                    _ => return Err(format!("{name}(): the scale must be an integer in 0..=18")),
                };
                (Node::Decimal(n, scale), Ty::Str)
            }
            "abs" => {
                let x = next()?;
                match x.ty {
                    Ty::Int => (Node::AbsInt(Box::new(x.node)), Ty::Int),
                    Ty::Float => (Node::AbsFloat(Box::new(x.node)), Ty::Float),
                    _ => return Err(format!("{name}() needs a number, found {}", describe(&x))),
                }
            }
            "float" => {
                let x = next()?;
                match x.ty {
                    Ty::Int | Ty::Ts => (Node::ToFloat(Box::new(x.node)), Ty::Float),
                    Ty::Float => (x.node, Ty::Float),
                    _ => return Err(format!("{name}() needs a number, found {}", describe(&x))),
                }
            }
            "int" => {
                let x = next()?;
                match x.ty {
                    Ty::Float => (Node::ToInt(Box::new(x.node)), Ty::Int),
                    Ty::Int | Ty::Ts => (x.node, Ty::Int),
                    _ => return Err(format!("{name}() needs a number, found {}", describe(&x))),
                }
            }
            _ => {
                let (c, a, b) = (next()?, next()?, next()?);
                if c.ty != Ty::Bool {
                    return Err(format!("{name}(): the condition is {}", describe(&c)));
                }
                let ty = branch_type(&a, &b, name)?;
                let (a, b) = (coerce(a, ty), coerce(b, ty));
                (Node::If(Box::new(c.node), a, b), ty)
            }
        };
        Ok(Typed { node, ty, desc })
    }
}

fn describe(t: &Typed) -> String {
    format!("{} ({})", t.desc, t.ty.name())
}

fn integral(t: Typed, f: &str) -> Result<Box<Node>, String> {
    match t.ty {
        Ty::Int | Ty::Ts => Ok(Box::new(t.node)),
        _ => Err(format!(
            "{f}() needs a timestamp or integer, found {}",
            describe(&t)
        )),
    }
}

fn string(t: Typed, f: &str) -> Result<Box<Node>, String> {
    match t.ty {
        Ty::Str => Ok(Box::new(t.node)),
        _ => Err(format!("{f}() needs a string, found {}", describe(&t))),
    }
}

fn constant_str(t: Typed, f: &str) -> Result<String, String> {
    match t.node {
        Node::Str(s) => Ok(s.to_string()),
        _ => Err(format!("{f}(): expected a quoted string, found {}", t.desc)),
    }
}

/// The type of `if`'s result: both branches' (an integer meeting a float is a float).
fn branch_type(a: &Typed, b: &Typed, f: &str) -> Result<Ty, String> {
    match (a.ty, b.ty) {
        (x, y) if x == y => Ok(x),
        (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ok(Ty::Float),
        _ => Err(format!(
            "{f}(): the branches differ: {} and {}",
            describe(a),
            describe(b)
        )),
    }
}

fn coerce(t: Typed, ty: Ty) -> Box<Node> {
    match (t.ty, ty) {
        (Ty::Int, Ty::Float) => Box::new(Node::ToFloat(Box::new(t.node))),
        _ => Box::new(t.node),
    }
}
