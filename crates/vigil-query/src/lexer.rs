//! Splits a query into tokens, each with the 1-based character column it
//! starts at. Values are read in their own mode (after an operator) so that
//! a purl or a timestamp, which hold `:`, needs no quotes.

use crate::error::Error;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// A field name or keyword: letters, digits, `.`, `_`, `-`, `*`.
    Word(String),
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
    /// `:`, `=`, `!=`, `>`, `>=`, `<`, `<=`
    Op(&'static str),
    /// The end of the query.
    End,
}

/// A value as written: its text and whether it was quoted (a quoted
/// value is exact: `*` in it is a literal star).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawValue {
    pub text: String,
    pub quoted: bool,
    pub column: usize,
}

/// A cursor over the query's characters.
pub(crate) struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '*')
}

impl Lexer {
    pub(crate) fn new(source: &str) -> Lexer {
        Lexer { chars: source.chars().collect(), pos: 0 }
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    /// Whether the next non-space character is `c`.
    pub(crate) fn next_is(&mut self, c: char) -> bool {
        self.skip_space();
        self.chars.get(self.pos) == Some(&c)
    }

    /// The next token without consuming it.
    pub(crate) fn peek(&mut self) -> Result<(Token, usize), Error> {
        let saved = self.pos;
        let token = self.next();
        self.pos = saved;
        token
    }

    /// The next token.
    pub(crate) fn next(&mut self) -> Result<(Token, usize), Error> {
        self.skip_space();
        let column = self.pos + 1;
        let Some(&c) = self.chars.get(self.pos) else { return Ok((Token::End, column)) };
        let two = |lexer: &Lexer, next: char| lexer.chars.get(lexer.pos + 1) == Some(&next);
        let token = match c {
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            ':' => Token::Op(":"),
            '=' => Token::Op("="),
            '!' if two(self, '=') => Token::Op("!="),
            '>' if two(self, '=') => Token::Op(">="),
            '<' if two(self, '=') => Token::Op("<="),
            '>' => Token::Op(">"),
            '<' => Token::Op("<"),
            c if is_word_char(c) => {
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(|&c| is_word_char(c)) {
                    self.pos += 1;
                }
                return Ok((Token::Word(self.chars[start..self.pos].iter().collect()), column));
            }
            '"' => return Err(Error::at(column, "a quoted value where a field name was expected")),
            other => return Err(Error::at(column, format!("unexpected character `{other}`"))),
        };
        self.pos += match token {
            Token::Op(op) => op.len(),
            _ => 1,
        };
        Ok((token, column))
    }

    /// Reads a value: a double-quoted string (`\"` and `\\` escapes) or a
    /// run of characters up to white space, `(`, `)` or `,`.
    pub(crate) fn value(&mut self) -> Result<RawValue, Error> {
        self.skip_space();
        let column = self.pos + 1;
        match self.chars.get(self.pos) {
            None => Err(Error::at(column, "a value is missing")),
            Some('"') => {
                self.pos += 1;
                let mut text = String::new();
                loop {
                    match self.chars.get(self.pos) {
                        None => return Err(Error::at(column, "unterminated quoted value").hint("close it with `\"`")),
                        Some('"') => {
                            self.pos += 1;
                            return Ok(RawValue { text, quoted: true, column });
                        }
                        Some('\\') if matches!(self.chars.get(self.pos + 1), Some('"' | '\\')) => {
                            text.push(self.chars[self.pos + 1]);
                            self.pos += 2;
                        }
                        Some(&c) => {
                            text.push(c);
                            self.pos += 1;
                        }
                    }
                }
            }
            Some(c) if matches!(c, '(' | ')' | ',') => {
                Err(Error::at(column, format!("a value is missing before `{c}`")))
            }
            Some(_) => {
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(|&c| !c.is_whitespace() && !matches!(c, '(' | ')' | ',')) {
                    self.pos += 1;
                }
                Ok(RawValue { text: self.chars[start..self.pos].iter().collect(), quoted: false, column })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_columns() {
        let mut lexer = Lexer::new("severity>=high");
        assert_eq!(lexer.next().unwrap(), (Token::Word("severity".into()), 1));
        assert_eq!(lexer.next().unwrap(), (Token::Op(">="), 9));
        assert_eq!(lexer.value().unwrap(), RawValue { text: "high".into(), quoted: false, column: 11 });
        assert_eq!(lexer.next().unwrap(), (Token::End, 15));
    }

    #[test]
    fn values_hold_colons_and_quotes_escape() {
        let mut lexer = Lexer::new(r#"pkg:npm/lodash@4.17.20) "a \"b\" c""#);
        assert_eq!(lexer.value().unwrap().text, "pkg:npm/lodash@4.17.20");
        assert_eq!(lexer.next().unwrap().0, Token::Close);
        let quoted = lexer.value().unwrap();
        assert_eq!((quoted.text.as_str(), quoted.quoted), ("a \"b\" c", true));
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let err = Lexer::new("\"abc").value().unwrap_err();
        assert_eq!(err.column, 1);
    }
}
