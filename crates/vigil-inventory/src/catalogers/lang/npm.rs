//! `package-lock.json` and `npm-shrinkwrap.json`: lockfile v2/v3
//! `packages` (keys `node_modules/...`, links and the root skipped) and v1
//! `dependencies` (nested).

use serde_json::Value;

use super::{Dep, Format, file_name};

/// The format.
pub const FORMAT: Format = Format { id: "npm-lock", ecosystem: "npm", matches, parse };

fn matches(path: &str) -> bool {
    matches!(file_name(path), "package-lock.json" | "npm-shrinkwrap.json") && !path.contains("/node_modules/")
}

fn v1(deps: &serde_json::Map<String, Value>, out: &mut Vec<Dep>, depth: usize) {
    if depth > 64 {
        return;
    }
    for (name, d) in deps {
        if let Some(v) = d.get("version").and_then(Value::as_str)
            && !v.starts_with("file:")
            && !v.starts_with("link:")
        {
            out.push(Dep::new(name.as_str(), v));
        }
        if let Some(nested) = d.get("dependencies").and_then(Value::as_object) {
            v1(nested, out, depth + 1);
        }
    }
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        for (key, p) in packages {
            let Some((_, name)) = key.rsplit_once("node_modules/") else { continue };
            if p.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = p.get("name").and_then(Value::as_str).unwrap_or(name);
            if let Some(v) = p.get("version").and_then(Value::as_str) {
                out.push(Dep::new(name, v));
            }
        }
    } else if let Some(deps) = doc.get("dependencies").and_then(Value::as_object) {
        v1(deps, &mut out, 0);
    } else {
        return Err("neither `packages` nor `dependencies`: not a package-lock".into());
    }
    Ok(out)
}
