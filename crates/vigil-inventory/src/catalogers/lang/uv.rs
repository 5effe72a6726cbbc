//! `uv.lock`: every `[[package]]` except the project itself (a virtual or
//! editable source).

use super::poetry::toml_packages;
use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "uv-lock", ecosystem: "PyPI", files: "uv.lock", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "uv.lock"
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    toml_packages(text, |p| {
        let source = p.get("source").and_then(|s| s.as_table());
        !source.is_some_and(|s| s.contains_key("virtual") || s.contains_key("editable"))
    })
}
