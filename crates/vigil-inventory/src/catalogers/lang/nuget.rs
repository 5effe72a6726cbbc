//! NuGet `packages.lock.json`: every framework's resolved packages
//! (project references skipped).

use serde_json::Value;

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "nuget-lock", ecosystem: "NuGet", files: "packages.lock.json", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "packages.lock.json"
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let frameworks =
        doc.get("dependencies").and_then(Value::as_object).ok_or("no `dependencies`: not a NuGet lock file")?;
    let mut out: Vec<Dep> = Vec::new();
    for deps in frameworks.values().filter_map(Value::as_object) {
        for (name, d) in deps {
            if d.get("type").and_then(Value::as_str) == Some("Project") {
                continue;
            }
            if let Some(v) = d.get("resolved").and_then(Value::as_str) {
                let dep = Dep::new(name.as_str(), v);
                if !out.contains(&dep) {
                    out.push(dep);
                }
            }
        }
    }
    Ok(out)
}
