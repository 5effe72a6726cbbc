//! `poetry.lock`: every `[[package]]`.

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "poetry-lock", ecosystem: "PyPI", files: "poetry.lock", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "poetry.lock"
}

/// `[[package]]` tables with `name` and `version` (shared with uv.lock).
pub(super) fn toml_packages(text: &str, keep: fn(&toml::Table) -> bool) -> Result<Vec<Dep>, String> {
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut out = Vec::new();
    for (i, p) in doc.get("package").and_then(|p| p.as_array()).into_iter().flatten().enumerate() {
        let Some(p) = p.as_table() else { return Err(format!("package {} is not a table", i + 1)) };
        let (Some(name), Some(version)) =
            (p.get("name").and_then(|v| v.as_str()), p.get("version").and_then(|v| v.as_str()))
        else {
            return Err(format!("package {} has no name or version", i + 1));
        };
        if keep(p) {
            out.push(Dep::new(name, version));
        }
    }
    Ok(out)
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    toml_packages(text, |_| true)
}
