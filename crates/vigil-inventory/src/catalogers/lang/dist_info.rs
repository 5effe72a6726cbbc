//! Installed Python packages: `*.dist-info/METADATA` and
//! `*.egg-info/PKG-INFO` (`Name:` and `Version:` headers).

use super::{Dep, Format, Parser};

/// The format.
pub const FORMAT: Format = Format {
    id: "python-installed",
    ecosystem: "PyPI",
    files: "*.dist-info/METADATA, *.egg-info/PKG-INFO",
    matches,
    parse: Parser::Deps(parse),
};

fn matches(path: &str) -> bool {
    (path.ends_with("/METADATA") && path.contains(".dist-info/"))
        || (path.ends_with("/PKG-INFO") && path.contains(".egg-info/"))
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let text: &str = &String::from_utf8_lossy(bytes);
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name.get_or_insert(v.trim());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version.get_or_insert(v.trim());
        }
    }
    match (name, version) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Ok(vec![Dep::new(n, v)]),
        _ => Err("no Name: and Version: headers".into()),
    }
}
