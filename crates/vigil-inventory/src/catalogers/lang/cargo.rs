//! `Cargo.lock` (v1-v4): every `[[package]]` that comes from a registry or
//! git source; workspace members (no `source`) are the project itself.

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "cargo-lock", ecosystem: "crates.io", files: "Cargo.lock", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "Cargo.lock"
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut out = Vec::new();
    for (i, p) in doc.get("package").and_then(|p| p.as_array()).into_iter().flatten().enumerate() {
        let (Some(name), Some(version)) =
            (p.get("name").and_then(|v| v.as_str()), p.get("version").and_then(|v| v.as_str()))
        else {
            return Err(format!("package {} has no name or version", i + 1));
        };
        if p.get("source").is_some() {
            out.push(Dep::new(name, version));
        }
    }
    Ok(out)
}
