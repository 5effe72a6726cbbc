//! `composer.lock`: `packages` and `packages-dev`.

use serde_json::Value;

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "composer-lock", ecosystem: "Packagist", files: "composer.lock", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "composer.lock"
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for section in ["packages", "packages-dev"] {
        for p in doc.get(section).and_then(Value::as_array).into_iter().flatten() {
            if let (Some(n), Some(v)) =
                (p.get("name").and_then(Value::as_str), p.get("version").and_then(Value::as_str))
            {
                out.push(Dep::new(n, v.strip_prefix('v').unwrap_or(v)));
            }
        }
    }
    Ok(out)
}
