//! `yarn.lock`, classic (v1: `name@range:` blocks with `version "x"`) and
//! berry (v2+: `"name@npm:range":` blocks with `version: x`); workspace and
//! link entries (the project itself) are skipped.

use super::{Dep, Format, file_name};

/// The format.
pub const FORMAT: Format = Format { id: "yarn-lock", ecosystem: "npm", matches, parse };

fn matches(path: &str) -> bool {
    file_name(path) == "yarn.lock" && !path.contains("/node_modules/")
}

/// The package name of one spec (`@scope/name@^1.0`, `name@npm:^1.0`).
fn spec_name(spec: &str) -> Option<&str> {
    let spec = spec.trim().trim_matches('"');
    let at = if let Some(rest) = spec.strip_prefix('@') { rest.find('@').map(|i| i + 1) } else { spec.find('@') }?;
    Some(&spec[..at])
}

pub(super) fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let mut out: Vec<Dep> = Vec::new();
    let mut name: Option<String> = None;
    let mut skip = false;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            let header = line.trim_end().trim_end_matches(':');
            skip = header == "__metadata";
            name = if skip { None } else { header.split(", ").next().and_then(spec_name).map(str::to_owned) };
            if !skip && name.is_none() {
                return Err(format!("cannot read the entry {header:?}"));
            }
            skip |= header.contains("@workspace:") || header.contains("@link:") || header.contains("@portal:");
            continue;
        }
        let field = line.trim();
        let version = field.strip_prefix("version ").or_else(|| field.strip_prefix("version: "));
        if let (Some(v), Some(n), false) = (version, &name, skip) {
            let dep = Dep::new(n.as_str(), v.trim().trim_matches('"'));
            if !out.contains(&dep) {
                out.push(dep);
            }
        }
        if field.starts_with("resolution:") && (field.contains("@workspace:") || field.contains("@link:")) {
            out.retain(|d| Some(&d.name) != name.as_ref());
            skip = true;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berry_entries_and_workspaces() {
        let text = "__metadata:\n  version: 6\n  cacheKey: 8\n\n\
\"@babel/code-frame@npm:^7.0.0, @babel/code-frame@npm:^7.12.13\":\n  version: 7.12.13\n  resolution: \"@babel/code-frame@npm:7.12.13\"\n\n\
\"lodash@npm:4.17.20\":\n  version: 4.17.20\n  resolution: \"lodash@npm:4.17.20\"\n\n\
\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n";
        assert_eq!(
            parse(text.as_bytes()).unwrap(),
            [Dep::new("@babel/code-frame", "7.12.13"), Dep::new("lodash", "4.17.20")]
        );
    }
}
