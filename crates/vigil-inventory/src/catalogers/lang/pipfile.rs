//! `Pipfile.lock`: the `default` and `develop` sections (`"version": "==1.2"`).

use serde_json::Value;

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "pipfile-lock", ecosystem: "PyPI", files: "Pipfile.lock", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "Pipfile.lock"
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for section in ["default", "develop"] {
        for (name, p) in doc.get(section).and_then(Value::as_object).into_iter().flatten() {
            if let Some(v) = p.get("version").and_then(Value::as_str).and_then(|v| v.strip_prefix("==")) {
                out.push(Dep::new(name.as_str(), v));
            }
        }
    }
    Ok(out)
}
