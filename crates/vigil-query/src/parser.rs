//! The grammar, by recursive descent:
//!
//! ```text
//! query      := or?
//! or         := and ("or" and)*
//! and        := unary (["and"] unary)*          two terms side by side are and-ed
//! unary      := "not" unary | "(" or ")" | comparison
//! comparison := FIELD op VALUE
//!             | FIELD ":" "(" VALUE ("," VALUE)* ")"
//!             | FIELD "in" "(" VALUE ("," VALUE)* ")"
//! op         := ":" | "=" | "!=" | ">" | ">=" | "<" | "<="
//! ```
//!
//! Keywords are case-insensitive. Parsing knows nothing of fields; the
//! catalogue checks them when the expression is compiled.

use crate::error::Error;
use crate::lexer::{Lexer, RawValue, Token};
use crate::{MAX_DEPTH, MAX_QUERY_BYTES, MAX_TERMS};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `:` or `=`: equal (or, for a value ending in `*`, starts with).
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `in (...)` or `:(...)`: equal to one of the values.
    In,
}

impl Op {
    fn from_token(op: &str) -> Op {
        match op {
            "!=" => Op::Ne,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            _ => Op::Eq,
        }
    }
}

/// A value as written in the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The text, unquoted.
    pub text: String,
    /// Whether it was quoted (a quoted `*` is a literal star).
    pub quoted: bool,
    /// The 1-based column it starts at.
    pub column: usize,
}

impl From<RawValue> for Value {
    fn from(raw: RawValue) -> Value {
        Value { text: raw.text, quoted: raw.quoted, column: raw.column }
    }
}

/// One `field op value(s)` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The field as written (`severity`, `label.env`).
    pub field: String,
    /// The column the field name starts at.
    pub column: usize,
    /// The operator.
    pub op: Op,
    /// One value, or several for [`Op::In`].
    pub values: Vec<Value>,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// The empty query: everything matches.
    All,
    /// Every part holds.
    And(Vec<Expr>),
    /// At least one part holds.
    Or(Vec<Expr>),
    /// The part does not hold.
    Not(Box<Expr>),
    /// A comparison.
    Compare(Comparison),
}

impl Expr {
    /// Every comparison in the expression, in order.
    pub fn comparisons(&self) -> Vec<&Comparison> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                Expr::All => {}
                Expr::And(parts) | Expr::Or(parts) => stack.extend(parts.iter().rev()),
                Expr::Not(inner) => stack.push(inner),
                Expr::Compare(c) => out.push(c),
            }
        }
        out
    }
}

/// Parses a query. The empty (or blank) query is [`Expr::All`].
pub fn parse(query: &str) -> Result<Expr, Error> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(Error::at(1, format!("the query is longer than {MAX_QUERY_BYTES} bytes")));
    }
    if query.trim().is_empty() {
        return Ok(Expr::All);
    }
    let mut parser = Parser { lexer: Lexer::new(query), terms: 0 };
    let expr = parser.or(0)?;
    match parser.lexer.next()? {
        (Token::End, _) => Ok(expr),
        (Token::Close, column) => Err(Error::at(column, "unmatched `)`")),
        (token, column) => Err(Error::at(column, format!("unexpected {}", describe(&token)))),
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Word(w) => format!("`{w}`"),
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::Comma => "`,`".into(),
        Token::Op(op) => format!("`{op}`"),
        Token::End => "end of the query".into(),
    }
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

struct Parser {
    lexer: Lexer,
    terms: usize,
}

impl Parser {
    fn or(&mut self, depth: usize) -> Result<Expr, Error> {
        let mut parts = vec![self.and(depth)?];
        while let (Token::Word(w), _) = self.lexer.peek()?
            && is_keyword(&w, "or")
        {
            self.lexer.next()?;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, Error> {
        let mut parts = vec![self.unary(depth)?];
        loop {
            match self.lexer.peek()? {
                (Token::Word(w), _) if is_keyword(&w, "or") => break,
                (Token::Word(w), _) if is_keyword(&w, "and") => {
                    self.lexer.next()?;
                    parts.push(self.unary(depth)?);
                }
                (Token::Word(_) | Token::Open, _) => parts.push(self.unary(depth)?),
                _ => break,
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, Error> {
        let (token, column) = self.lexer.next()?;
        if depth >= MAX_DEPTH {
            return Err(Error::at(column, format!("the query nests deeper than {MAX_DEPTH} levels")));
        }
        match token {
            Token::Word(w) if is_keyword(&w, "not") => Ok(Expr::Not(Box::new(self.unary(depth + 1)?))),
            Token::Word(w) if is_keyword(&w, "and") || is_keyword(&w, "or") => {
                Err(Error::at(column, format!("`{w}` needs a term before it")))
            }
            Token::Open => {
                let inner = self.or(depth + 1)?;
                match self.lexer.next()? {
                    (Token::Close, _) => Ok(inner),
                    (token, at) => Err(Error::at(at, format!("expected `)`, found {}", describe(&token)))
                        .hint(format!("the `(` at column {column} is not closed"))),
                }
            }
            Token::Word(field) => self.comparison(field, column),
            Token::End => Err(Error::at(column, "the query ends where a term was expected")),
            other => Err(Error::at(column, format!("expected a field name, found {}", describe(&other)))),
        }
    }

    fn comparison(&mut self, field: String, column: usize) -> Result<Expr, Error> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(Error::at(column, format!("the query has more than {MAX_TERMS} terms")));
        }
        if !field.starts_with(|c: char| c.is_alphabetic()) || field.contains('*') {
            return Err(Error::at(column, format!("`{field}` is not a field name")));
        }
        let (op, values) = match self.lexer.next()? {
            (Token::Op(":"), _) if self.lexer.next_is('(') => {
                self.lexer.next()?;
                (Op::In, self.list()?)
            }
            (Token::Word(w), _) if is_keyword(&w, "in") => match self.lexer.next()? {
                (Token::Open, _) => (Op::In, self.list()?),
                (token, at) => {
                    return Err(Error::at(at, format!("expected `(` after `in`, found {}", describe(&token))));
                }
            },
            (Token::Op(op), _) => (Op::from_token(op), vec![self.lexer.value()?.into()]),
            (token, at) => {
                return Err(Error::at(at, format!("expected an operator after `{field}`, found {}", describe(&token)))
                    .hint("compare with `:`, `=`, `!=`, `<`, `<=`, `>`, `>=` or `in (...)`"));
            }
        };
        Ok(Expr::Compare(Comparison { field, column, op, values }))
    }

    /// `VALUE ("," VALUE)* ")"`, after the `(`.
    fn list(&mut self) -> Result<Vec<Value>, Error> {
        let mut values = Vec::new();
        loop {
            values.push(self.lexer.value()?.into());
            match self.lexer.next()? {
                (Token::Comma, _) => {}
                (Token::Close, _) => return Ok(values),
                (token, at) => return Err(Error::at(at, format!("expected `,` or `)`, found {}", describe(&token)))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(expr: &Expr) -> Vec<String> {
        expr.comparisons().iter().map(|c| c.field.clone()).collect()
    }

    #[test]
    fn precedence_not_and_or() {
        let expr = parse("a:1 or b:2 and not c:3").unwrap();
        let Expr::Or(parts) = &expr else { panic!("{expr:?}") };
        assert_eq!(parts.len(), 2);
        let Expr::And(right) = &parts[1] else { panic!("{parts:?}") };
        assert!(matches!(right[1], Expr::Not(_)));
        assert_eq!(fields(&expr), ["a", "b", "c"]);
    }

    #[test]
    fn implicit_and_and_parentheses() {
        let expr = parse("(a:1 OR b:2) c>=3").unwrap();
        let Expr::And(parts) = &expr else { panic!("{expr:?}") };
        assert!(matches!(parts[0], Expr::Or(_)));
        let Expr::Compare(c) = &parts[1] else { panic!() };
        assert_eq!((c.op, c.values[0].text.as_str(), c.column), (Op::Ge, "3", 14));
    }

    #[test]
    fn lists() {
        for q in ["severity in (high, critical)", "severity:(high,critical)", "severity IN (high , critical)"] {
            let expr = parse(q).unwrap();
            let Expr::Compare(c) = &expr else { panic!() };
            assert_eq!(c.op, Op::In, "{q}");
            assert_eq!(c.values.iter().map(|v| v.text.as_str()).collect::<Vec<_>>(), ["high", "critical"]);
        }
    }

    #[test]
    fn blank_is_everything() {
        assert_eq!(parse("  ").unwrap(), Expr::All);
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases = [
            ("severity", 9, "expected an operator"),
            ("(a:1", 5, "expected `)`"),
            ("a:1)", 4, "unmatched `)`"),
            ("a:1 and", 8, "ends where a term"),
            ("or a:1", 1, "needs a term"),
            ("a in b", 6, "expected `(`"),
            ("a:(1 2)", 6, "expected `,` or `)`"),
            ("a: ", 4, "value is missing"),
            ("1a:1", 1, "not a field name"),
            ("a:1 ; b:2", 5, "unexpected character"),
        ];
        for (q, column, text) in cases {
            let err = parse(q).unwrap_err();
            assert_eq!(err.column, column, "{q}: {err}");
            assert!(err.message.contains(text), "{q}: {err}");
        }
    }

    #[test]
    fn limits_are_errors_not_stack_overflows() {
        let deep = format!("{}a:1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).unwrap_err().message.contains("longer than"));
        let nested = format!("{}a:1{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&nested).unwrap_err().message.contains("deeper"));
        let nots = format!("{}a:1", "not ".repeat(40));
        assert!(parse(&nots).unwrap_err().message.contains("deeper"));
        let many = vec!["a:1"; 200].join(" or ");
        assert!(parse(&many).unwrap_err().message.contains("more than"));
    }
}
