//! `pdm.lock` (PDM): every `[[package]]`, except local ones (a `path`,
//! or an editable install): those are the project's own code.

use super::poetry::toml_packages;
use super::{Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "pdm-lock", ecosystem: "PyPI", files: "pdm.lock", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "pdm.lock"
}

fn parse(bytes: &[u8]) -> Result<Vec<super::Dep>, String> {
    toml_packages(&String::from_utf8_lossy(bytes), |p| {
        !p.contains_key("path") && p.get("editable").and_then(|e| e.as_bool()) != Some(true)
    })
}
