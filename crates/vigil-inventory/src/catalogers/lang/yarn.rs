//! `yarn.lock`, classic (v1) and berry (v2 and later).
//!
//! Berry lockfiles are YAML (a `__metadata` entry says so) and are read with
//! a YAML parser. Classic lockfiles have a syntax of their own, read here
//! the way yarn's `lockfile/parse.js` reads it: quoted or bare strings,
//! `key value` pairs, `key:` opening a block indented two more spaces,
//! comma-separated keys sharing a block, `#` comments. Field names may be
//! quoted (`"version" "1.0.0"`) as yarn itself allows.
//!
//! Each entry is one package: the real package of an alias
//! (`cjs@npm:ansi-regex@5.0.1`, the alias kept as a property), its version
//! from the `version` field, the commit of a git source. Workspaces,
//! `file:`, `link:` and `portal:` entries are the project's own code. An
//! entry that cannot be read is a warning naming it; the rest of the file
//! is still read.

use serde_json::Value;

use super::npm::split_spec;
use super::{Dep, Format, Input, Parsed, Parser, file_name, git_commit, yaml};

/// The format.
pub const FORMAT: Format =
    Format { id: "yarn-lock", ecosystem: "npm", files: "yarn.lock", matches, parse: Parser::Entries(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "yarn.lock" && !path.contains("/node_modules/")
}

/// A value in a classic lockfile.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A string, number or boolean, as written.
    Scalar(String),
    /// A block of `key value` and `key:` entries, in order.
    Block(Vec<(String, Node)>),
}

impl Node {
    fn get(&self, key: &str) -> Option<&str> {
        match self {
            Node::Block(fields) => fields.iter().find(|(k, _)| k == key).and_then(|(_, v)| match v {
                Node::Scalar(s) => Some(s.as_str()),
                Node::Block(_) => None,
            }),
            Node::Scalar(_) => None,
        }
    }
}

/// A token of the classic syntax.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Newline,
    /// Leading spaces of a line, in levels of two.
    Indent(usize),
    Str(String),
    Colon,
    Comma,
    Comment,
    Invalid(String),
}

/// Splits classic lockfile text into tokens, line by line (so an error
/// stays in its line).
fn tokens(text: &str) -> Vec<(usize, Token)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let spaces = line.len() - line.trim_start_matches(' ').len();
        let mut rest = &line[spaces..];
        if spaces > 0 && !rest.is_empty() {
            out.push((
                line_no,
                if spaces % 2 == 0 { Token::Indent(spaces / 2) } else { Token::Invalid("odd indent".into()) },
            ));
        }
        while let Some(c) = rest.chars().next() {
            match c {
                ' ' | '\t' | '\r' => rest = &rest[1..],
                '#' => {
                    out.push((line_no, Token::Comment));
                    rest = "";
                }
                ':' => {
                    out.push((line_no, Token::Colon));
                    rest = &rest[1..];
                }
                ',' => {
                    out.push((line_no, Token::Comma));
                    rest = &rest[1..];
                }
                '"' => {
                    // A JSON string: up to the first quote not escaped.
                    let bytes = rest.as_bytes();
                    let mut end = None;
                    let mut i = 1;
                    while i < bytes.len() {
                        match bytes[i] {
                            b'\\' => i += 2,
                            b'"' => {
                                end = Some(i + 1);
                                break;
                            }
                            _ => i += 1,
                        }
                    }
                    let Some(end) = end else {
                        out.push((line_no, Token::Invalid("unterminated string".into())));
                        break;
                    };
                    match serde_json::from_str::<String>(&rest[..end]) {
                        Ok(s) => out.push((line_no, Token::Str(s))),
                        Err(_) => out.push((line_no, Token::Invalid("bad string".into()))),
                    }
                    rest = &rest[end..];
                }
                _ => {
                    let end = rest.find([':', ' ', ',', '\r']).unwrap_or(rest.len());
                    out.push((line_no, Token::Str(rest[..end].to_owned())));
                    rest = &rest[end..];
                }
            }
        }
        out.push((line_no, Token::Newline));
    }
    out
}

/// Reads classic lockfile tokens into blocks.
struct Reader {
    tokens: Vec<(usize, Token)>,
    at: usize,
}

impl Reader {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn line(&self) -> usize {
        self.tokens.get(self.at).or(self.tokens.last()).map_or(0, |(l, _)| *l)
    }

    /// The block at `level`, up to the first line indented less.
    fn block(&mut self, level: usize, depth: usize) -> Result<Vec<(String, Node)>, String> {
        if depth > 32 {
            return Err(format!("line {}: nested too deep", self.line()));
        }
        let mut fields = Vec::new();
        loop {
            // At the start of a line: its indent decides whether it belongs here.
            let indent = match self.peek() {
                None => break,
                Some(Token::Indent(n)) => *n,
                Some(Token::Newline) | Some(Token::Comment) => {
                    self.at += 1;
                    continue;
                }
                Some(_) => 0,
            };
            if indent < level {
                break;
            }
            if indent > level {
                return Err(format!("line {}: unexpected indent", self.line()));
            }
            if indent > 0 {
                self.at += 1;
            }
            let mut keys = Vec::new();
            loop {
                match self.peek() {
                    Some(Token::Str(s)) => keys.push(s.clone()),
                    _ => return Err(format!("line {}: expected a key", self.line())),
                }
                self.at += 1;
                if self.peek() == Some(&Token::Comma) {
                    self.at += 1;
                } else {
                    break;
                }
            }
            let colon = self.peek() == Some(&Token::Colon);
            if colon {
                self.at += 1;
            }
            let value = match self.peek() {
                Some(Token::Str(s)) => {
                    let v = Node::Scalar(s.clone());
                    self.at += 1;
                    v
                }
                Some(Token::Newline) | Some(Token::Comment) | None if colon => {
                    Node::Block(self.block(level + 1, depth + 1)?)
                }
                _ => return Err(format!("line {}: expected a value", self.line())),
            };
            match self.peek() {
                Some(Token::Newline) | Some(Token::Comment) | None | Some(Token::Indent(_)) => {}
                _ => return Err(format!("line {}: unexpected text after the value", self.line())),
            }
            fields.extend(keys.into_iter().map(|k| (k, value.clone())));
        }
        Ok(fields)
    }
}

/// The entries of a classic lockfile, each `(header, block or error)`: an
/// entry runs from a line that starts with a key to the next such line.
fn classic_entries(text: &str) -> Vec<(String, Result<Node, String>)> {
    let all = tokens(text);
    let starts: Vec<usize> = (0..all.len())
        .filter(|&i| {
            (i == 0 || all[i - 1].1 == Token::Newline)
                && !matches!(all[i].1, Token::Newline | Token::Comment | Token::Indent(_))
        })
        .collect();
    let mut out = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(all.len());
        let line = all[start].0;
        let header = text.lines().nth(line - 1).unwrap_or("").trim_end().trim_end_matches(':').to_owned();
        let mut reader = Reader { tokens: all[start..end].to_vec(), at: 0 };
        let block = reader.block(0, 0).and_then(|fields| match fields.into_iter().next() {
            // Comma-separated keys share one block: one entry, named by its whole header.
            Some((_, node)) if reader.at == reader.tokens.len() => Ok(node),
            _ => Err(format!("line {line}: unexpected text")),
        });
        out.push((header, block));
    }
    out
}

/// Whether a descriptor's range or a resolution is the project's own code.
fn is_local(range: &str) -> bool {
    ["workspace:", "file:", "link:", "portal:", "exec:"].iter().any(|p| range.starts_with(p))
}

/// The first descriptor of an entry header (`"a@^1, a@^1.1"`), split into name and range.
fn first_descriptor(header: &str) -> Option<(&str, &str)> {
    let first = header.split(',').next()?.trim().trim_matches('"');
    split_spec(first)
}

/// One entry, from its header and fields: berry's `resolution` locator
/// (`name@npm:1.0.0`) names the real package; the resolved source (classic
/// `resolved`, berry `resolution`) gives a git commit.
fn entry(header: &str, version: Option<&str>, resolution: Option<&str>, source: Option<&str>, out: &mut Parsed) {
    let Some((descriptor_name, range)) = first_descriptor(header) else {
        out.skip(header, "not a `name@range` entry");
        return;
    };
    let resolved_as = resolution.and_then(split_spec);
    if is_local(range) || resolved_as.is_some_and(|(_, r)| is_local(r)) {
        return;
    }
    // The real package: berry's resolution, or an `npm:` alias's target.
    let aliased = range.strip_prefix("npm:").and_then(split_spec).map(|(n, _)| n);
    let name = resolved_as.map(|(n, _)| n).or(aliased).unwrap_or(descriptor_name);
    let Some(version) = version.filter(|v| !v.is_empty()) else {
        out.skip(header, "no version");
        return;
    };
    let mut dep = Dep::new(name, version);
    if name != descriptor_name {
        dep = dep.with("alias", descriptor_name);
    }
    if let Some(sha) = source.and_then(git_commit) {
        dep = dep.with("commit", sha);
    }
    out.push(dep);
}

/// Whether the text is a berry (YAML) lockfile.
fn is_berry(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("__metadata:") || l.starts_with("\"__metadata\":"))
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let text = input.text();
    let mut out = Parsed::default();
    if is_berry(&text) {
        let doc = yaml(&text)?;
        let entries = doc.as_object().ok_or("not a YAML mapping: not a yarn lockfile")?;
        for (header, fields) in entries {
            if header == "__metadata" {
                continue;
            }
            let field = |f: &str| fields.get(f).and_then(Value::as_str).map(str::to_owned);
            // Numbers and booleans are YAML's reading of unquoted versions (`version: 1.0`).
            let version = field("version")
                .or_else(|| fields.get("version").filter(|v| v.is_number() || v.is_boolean()).map(|v| v.to_string()));
            let resolution = field("resolution");
            entry(header, version.as_deref(), resolution.as_deref(), resolution.as_deref(), &mut out);
        }
    } else {
        for (header, block) in classic_entries(&text) {
            match block {
                Ok(node) => entry(&header, node.get("version"), None, node.get("resolved"), &mut out),
                Err(e) => out.skip(header, format!("unreadable ({e})")),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Parsed {
        let none = |_: &str| Ok(None);
        parse(&Input { path: "/yarn.lock", bytes: text.as_bytes(), read: &none }).unwrap()
    }

    fn names(p: &Parsed) -> Vec<String> {
        p.deps.iter().map(|d| format!("{}@{} {:?}", d.name, d.version, d.properties)).collect()
    }

    #[test]
    fn berry_entries_aliases_and_workspaces() {
        let text = "__metadata:\n  version: 6\n  cacheKey: 8\n\n\
\"@babel/code-frame@npm:^7.0.0, @babel/code-frame@npm:^7.12.13\":\n  version: 7.12.13\n  resolution: \"@babel/code-frame@npm:7.12.13\"\n\n\
\"cjs@npm:ansi-regex@5.0.1\":\n  version: 5.0.1\n  resolution: \"ansi-regex@npm:5.0.1\"\n\n\
\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n";
        assert_eq!(names(&read(text)), ["@babel/code-frame@7.12.13 {}", "ansi-regex@5.0.1 {\"alias\": \"cjs\"}"]);
    }

    #[test]
    fn berry_quoted_keys_and_numbers() {
        let text = "__metadata:\n  \"version\": 8\n\n\"left-pad@npm:^1.3.0\":\n  \"version\": \"1.3.0\"\n  \"resolution\": \"left-pad@npm:1.3.0\"\n\n\
\"two@npm:2.0\":\n  version: 2.0\n  resolution: \"two@npm:2.0\"\n";
        assert_eq!(names(&read(text)), ["left-pad@1.3.0 {}", "two@2.0 {}"]);
    }

    #[test]
    fn classic_quoted_fields_comments_and_shared_blocks() {
        let text = "# yarn lockfile v1\n\n\
\"a@^1.0.0\", a@^1.1.0:\n  \"version\" \"1.2.0\"\n  resolved \"https://r/a.tgz#0123456789abcdef\"\n  dependencies:\n    b \"^2\"\n\n\
b@^2:\n  version \"2.0.0\" # trailing comment\n\n\
broken@^1:\n  version \"1.0.0\n\n\
\"cjs@npm:ansi-regex@5.0.1\":\n  version \"5.0.1\"\n\n\
\"local@file:../x\":\n  version \"0.1.0\"\n";
        let parsed = read(text);
        assert_eq!(names(&parsed), ["a@1.2.0 {}", "b@2.0.0 {}", "ansi-regex@5.0.1 {\"alias\": \"cjs\"}"]);
        assert_eq!(parsed.skipped.len(), 1, "{:?}", parsed.skipped);
        assert_eq!(parsed.skipped[0].0, "broken@^1");
    }
}
