//! `go.mod`: `require` lines (block and single), with `replace`
//! directives applied (a replacement with a version replaces the module
//! and version; a local-path replacement drops the module).

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "go-mod", ecosystem: "Go", files: "go.mod", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "go.mod" && !path.contains("/vendor/")
}

/// A `replace` directive: old module, optional old version, and the
/// replacement module and version (`None` for a local path).
struct Replace {
    module: String,
    version: Option<String>,
    with: Option<(String, String)>,
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let mut requires: Vec<(String, String)> = Vec::new();
    let mut replaces: Vec<Replace> = Vec::new();
    let mut block: Option<&str> = None;
    for raw in text.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = None;
            continue;
        }
        let (directive, rest) = match block {
            Some(b) => (b, line),
            None => {
                let (d, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(d);
                    continue;
                }
                (d, rest)
            }
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        match directive {
            "require" if words.len() >= 2 => requires.push((words[0].to_owned(), words[1].to_owned())),
            "replace" => {
                let Some(arrow) = words.iter().position(|w| *w == "=>") else { continue };
                let old = words.first().map(|s| (*s).to_owned()).unwrap_or_default();
                let old_version = (arrow == 2).then(|| words[1].to_owned());
                let new = words.get(arrow + 1).map(|s| (*s).to_owned());
                let new_version = words.get(arrow + 2).map(|s| (*s).to_owned());
                replaces.push(Replace { module: old, version: old_version, with: new.zip(new_version) });
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (module, version) in requires {
        let replaced = replaces.iter().find(|r| r.module == module && r.version.as_ref().is_none_or(|v| *v == version));
        match replaced.map(|r| &r.with) {
            Some(Some((new, new_version))) => out.push(Dep::new(new.as_str(), new_version.as_str())),
            Some(None) => {}
            None => out.push(Dep::new(module, version)),
        }
    }
    Ok(out)
}
