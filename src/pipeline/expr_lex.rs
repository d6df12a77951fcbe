//! The tokens of expressions.

/// A token's kind and value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A quoted string.
    Str(String),
    /// A field, function or keyword name.
    Ident(String),
    /// An operator.
    Op(&'static str),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
}

/// A token, its text and 1-based column (in chars).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) text: String,
    pub(super) col: usize,
}

/// Operators, longest first so that `<=` wins over `<`.
const OPS: [&str; 17] = [
    "==", "!=", "<>", "<=", ">=", "&&", "||", "=", "<", ">", "!", "+", "-", "*", "/", "%", "^",
];

/// Splits `text` into tokens.
///
/// # Errors
/// An unexpected character, an unterminated string or a number out of range, with its column.
pub(super) fn lex(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '_') {
                i += 1;
            }
            let float = i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit();
            if float {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let digits: String = chars[start..i].iter().filter(|&&c| c != '_').collect();
            match float {
                true => Tok::Float(digits.parse().map_err(|_| bad_number(&digits, col))?),
                false => Tok::Int(digits.parse().map_err(|_| bad_number(&digits, col))?),
            }
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            Tok::Ident(chars[start..i].iter().collect())
        } else if c == '\'' || c == '"' {
            let (s, end) = string(&chars, i, col)?;
            i = end;
            Tok::Str(s)
        } else if c == '(' || c == ')' || c == ',' {
            i += 1;
            match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                _ => Tok::Comma,
            }
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op) && **op != "^") else {
                return Err(format!("unexpected character {c:?} at column {col}"));
            };
            i += op.chars().count();
            Tok::Op(op)
        };
        out.push(Token {
            tok,
            text: chars[start..i].iter().collect(),
            col,
        });
    }
    Ok(out)
}

fn bad_number(digits: &str, col: usize) -> String {
    format!("number {digits} at column {col} is out of range")
}

/// A string quoted by `chars[start]`; a doubled quote stands for one. Returns the string and
/// the index after the closing quote.
fn string(chars: &[char], start: usize, col: usize) -> Result<(String, usize), String> {
    let quote = chars[start];
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(format!("unterminated string at column {col}")),
            Some(&c) if c == quote => {
                if chars.get(i + 1) == Some(&quote) {
                    s.push(quote);
                    i += 2;
                } else {
                    return Ok((s, i + 1));
                }
            }
            Some(&c) => {
                s.push(c);
                i += 1;
            }
        }
    }
}
