//! .NET `*.deps.json`: the dependency manifest `dotnet publish` writes next
//! to an application, and what .NET container images carry (lock files
//! rarely ship). Every `libraries` entry of type `package` is a NuGet
//! package, keyed `Name/Version`; projects and framework references are not.

use serde_json::Value;

use super::{Dep, Format, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "dotnet-deps", ecosystem: "NuGet", files: "*.deps.json", matches, parse: Parser::Deps(parse) };

fn matches(path: &str) -> bool {
    file_name(path).ends_with(".deps.json")
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let libraries = doc.get("libraries").and_then(Value::as_object).ok_or("no `libraries`: not a .deps.json file")?;
    let mut out = Vec::new();
    for (key, library) in libraries {
        if library.get("type").and_then(Value::as_str) != Some("package") {
            continue;
        }
        let (name, version) = key.rsplit_once('/').ok_or_else(|| format!("library {key:?} is not Name/Version"))?;
        if name.is_empty() || version.is_empty() {
            return Err(format!("library {key:?} is not Name/Version"));
        }
        out.push(Dep::new(name, version));
    }
    Ok(out)
}
