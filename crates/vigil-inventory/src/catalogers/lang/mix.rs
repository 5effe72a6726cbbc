//! `mix.lock` (Elixir's Mix, the Hex ecosystem): one Elixir map literal,
//! read here as Elixir data (never evaluated): maps with `"key": value`
//! or `"key" => value` entries, tuples, lists and keyword lists, strings,
//! atoms, numbers, booleans and `nil`.
//!
//! A Hex entry is `{:hex, :package, "version", checksum, managers, deps,
//! "repo", checksum}`: the package is its second element (it may differ
//! from the entry's key), the version its third. A Git entry (`{:git, url,
//! commit, options}`) has no Hex version: it is listed without one, with
//! its commit. Entries of other kinds are warnings naming them.

use super::{Dep, Format, Input, Parsed, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "mix-lock", ecosystem: "Hex", files: "mix.lock", matches, parse: Parser::Entries(parse) };

/// Deepest nesting of maps, tuples and lists read.
const MAX_DEPTH: usize = 64;

fn matches(path: &str) -> bool {
    file_name(path) == "mix.lock"
}

/// An Elixir literal.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Map(Vec<(Term, Term)>),
    Tuple(Vec<Term>),
    List(Vec<Term>),
    Str(String),
    Atom(String),
    /// Numbers, `true`, `false`, `nil`: kept as written.
    Other(String),
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn error(&self, what: &str) -> String {
        let line = self.text[..self.at.min(self.text.len())].matches('\n').count() + 1;
        format!("line {line}: {what}")
    }

    /// Skips whitespace and `#` comments.
    fn skip(&mut self) {
        loop {
            let rest = &self.text[self.at..];
            let trimmed = rest.trim_start();
            self.at += rest.len() - trimmed.len();
            if trimmed.starts_with('#') {
                self.at += trimmed.find('\n').unwrap_or(trimmed.len());
            } else {
                return;
            }
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip();
        self.text[self.at..].chars().next()
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip();
        if self.text[self.at..].starts_with(s) {
            self.at += s.len();
            true
        } else {
            false
        }
    }

    /// A double-quoted string (`\"`, `\\` and the usual escapes).
    fn string(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(self.error("expected a string"));
        }
        let mut out = String::new();
        let mut chars = self.text[self.at..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }

    /// A bare word: an atom's or keyword's name, a number, `true`.
    fn word(&mut self) -> String {
        self.skip();
        let rest = &self.text[self.at..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '?' | '!' | '@' | '-' | '+')))
            .unwrap_or(rest.len());
        self.at += end;
        rest[..end].to_owned()
    }

    /// Items up to `close`, separated by commas (a trailing comma allowed).
    fn items(&mut self, close: &str, depth: usize, pairs: bool) -> Result<Vec<(Term, Term)>, String> {
        let mut out = Vec::new();
        loop {
            if self.eat(close) {
                return Ok(out);
            }
            out.push(self.item(depth, pairs)?);
            if !self.eat(",") {
                return if self.eat(close) { Ok(out) } else { Err(self.error(&format!("expected `,` or `{close}`"))) };
            }
        }
    }

    /// One item: `key: value` (a keyword), `key => value` (maps), or a value.
    fn item(&mut self, depth: usize, pairs: bool) -> Result<(Term, Term), String> {
        let start = self.at;
        // `name: value` and `"name": value`.
        let keyword = match self.peek() {
            Some('"') => self.string().ok().filter(|_| self.text[self.at..].starts_with(':')).map(Term::Str),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let w = self.word();
                self.text[self.at..].starts_with(':').then_some(Term::Atom(w))
            }
            _ => None,
        };
        if let Some(key) = keyword
            && self.eat(":")
        {
            return Ok((key, self.value(depth + 1)?));
        }
        self.at = start;
        let value = self.value(depth + 1)?;
        if pairs && self.eat("=>") {
            return Ok((value, self.value(depth + 1)?));
        }
        Ok((Term::Other(String::new()), value))
    }

    fn value(&mut self, depth: usize) -> Result<Term, String> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deep"));
        }
        match self.peek() {
            Some('%') if self.eat("%{") => Ok(Term::Map(self.items("}", depth, true)?)),
            Some('{') => {
                self.eat("{");
                Ok(Term::Tuple(self.items("}", depth, false)?.into_iter().map(unkeyed).collect()))
            }
            Some('[') => {
                self.eat("[");
                Ok(Term::List(self.items("]", depth, false)?.into_iter().map(unkeyed).collect()))
            }
            Some('"') => self.string().map(Term::Str),
            Some(':') => {
                self.eat(":");
                if self.peek() == Some('"') { self.string().map(Term::Atom) } else { Ok(Term::Atom(self.word())) }
            }
            Some(c) if c.is_alphanumeric() || c == '-' => Ok(Term::Other(self.word())),
            _ => Err(self.error("expected a value")),
        }
    }
}

/// A list or tuple item: a keyword item becomes the `{key, value}` tuple it stands for.
fn unkeyed((key, value): (Term, Term)) -> Term {
    match key {
        Term::Other(k) if k.is_empty() => value,
        key => Term::Tuple(vec![key, value]),
    }
}

/// The text of a string or atom.
fn text(term: Option<&Term>) -> Option<&str> {
    match term? {
        Term::Str(s) | Term::Atom(s) => Some(s),
        _ => None,
    }
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let source = input.text();
    let mut reader = Reader { text: &source, at: 0 };
    let Term::Map(entries) = reader.value(0)? else {
        return Err("not an Elixir map: not a mix.lock".into());
    };
    if reader.peek().is_some() {
        return Err(reader.error("text after the map"));
    }
    let mut out = Parsed::default();
    for (key, value) in entries {
        let key = text(Some(&key)).unwrap_or_default().to_owned();
        let Term::Tuple(fields) = value else {
            out.skip(key, "not a lock entry (a tuple)");
            continue;
        };
        match text(fields.first()) {
            Some("hex") => match (text(fields.get(1)), text(fields.get(2))) {
                (Some(name), Some(version)) => out.push(Dep::new(name, version)),
                _ => out.skip(key, "a Hex entry without package name and version"),
            },
            Some("git") => match text(fields.get(2)) {
                Some(commit) => out.push(Dep::new(key, "").with("commit", commit)),
                None => out.skip(key, "a Git entry without a commit"),
            },
            Some(other) => out.skip(key, format!("an entry of a kind Vigil does not read ({other})")),
            None => out.skip(key, "not a lock entry (a tuple)"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elixir_terms() {
        let mut r =
            Reader { text: r#"%{"a" => [x: 1, y: "two"], b: {:ok, :"quoted atom", nil}, "c": %{}} # done"#, at: 0 };
        let Term::Map(entries) = r.value(0).unwrap() else { panic!() };
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[0].1,
            Term::List(vec![
                Term::Tuple(vec![Term::Atom("x".into()), Term::Other("1".into())]),
                Term::Tuple(vec![Term::Atom("y".into()), Term::Str("two".into())])
            ])
        );
        assert_eq!(entries[1].0, Term::Atom("b".into()));
        assert_eq!(
            entries[1].1,
            Term::Tuple(vec![Term::Atom("ok".into()), Term::Atom("quoted atom".into()), Term::Other("nil".into())])
        );
        assert_eq!(r.peek(), None);
        let mut deep = Reader { text: &"[".repeat(1000), at: 0 };
        assert!(deep.value(0).is_err());
    }
}
