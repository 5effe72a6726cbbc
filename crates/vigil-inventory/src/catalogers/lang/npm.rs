//! `package-lock.json`, `npm-shrinkwrap.json` and npm's hidden lockfile
//! `node_modules/.package-lock.json` (npm 7 and later keep it beside the
//! installed packages, so images that ship `node_modules` carry it).
//!
//! Lockfile v2/v3 `packages` are read (keys `node_modules/...`; the root,
//! workspace folders and links are the project itself), else v1
//! `dependencies` (nested). An alias (`"cjs": "npm:ansi-regex@5.0.1"`) is
//! reported as the real package with the alias as a property; a git
//! dependency takes its version from the entry and records the commit, and
//! where the entry has no version (v1) it is listed without one. `file:`
//! and `link:` dependencies are the project's own code.

use serde_json::{Map, Value};

use super::{Dep, Format, Input, Parsed, Parser, file_name, git_commit};

/// `package-lock.json` and `npm-shrinkwrap.json`.
pub const FORMAT: Format = Format {
    id: "npm-lock",
    ecosystem: "npm",
    files: "package-lock.json, npm-shrinkwrap.json",
    matches,
    parse: Parser::Entries(parse),
};

/// `node_modules/.package-lock.json`.
pub const HIDDEN_FORMAT: Format = Format {
    id: "npm-hidden-lock",
    ecosystem: "npm",
    files: "node_modules/.package-lock.json",
    matches: matches_hidden,
    parse: Parser::Entries(parse),
};

fn matches(path: &str) -> bool {
    matches!(file_name(path), "package-lock.json" | "npm-shrinkwrap.json") && !path.contains("/node_modules/")
}

fn matches_hidden(path: &str) -> bool {
    path.ends_with("/node_modules/.package-lock.json")
}

/// Whether a v1 version is the project's own code.
fn is_local(spec: &str) -> bool {
    spec.starts_with("file:") || spec.starts_with("link:")
}

/// One v1 `dependencies` entry, nested ones included.
fn v1(deps: &Map<String, Value>, out: &mut Parsed, depth: usize) {
    if depth > 64 {
        return;
    }
    for (key, d) in deps {
        match d.get("version").and_then(Value::as_str) {
            Some(v) if is_local(v) => {}
            Some(v) => match v.strip_prefix("npm:").and_then(split_spec) {
                Some((name, version)) => out.push(Dep::new(name, version).with("alias", key.as_str())),
                None if v.starts_with(|c: char| c.is_ascii_digit()) => out.push(Dep::new(key.as_str(), v)),
                None => {
                    // A git or tarball source: the lockfile holds no version.
                    let mut dep = Dep::new(key.as_str(), "");
                    if let Some(sha) = git_commit(v) {
                        dep = dep.with("commit", sha);
                    }
                    out.push(dep);
                }
            },
            None => out.skip(key.as_str(), "no version"),
        }
        if let Some(nested) = d.get("dependencies").and_then(Value::as_object) {
            v1(nested, out, depth + 1);
        }
    }
}

/// `name@version` (`@scope/name@version`) split at the version's `@`.
pub(super) fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let at = match spec.strip_prefix('@') {
        Some(rest) => rest.find('@')? + 1,
        None => spec.find('@')?,
    };
    let (name, version) = (&spec[..at], &spec[at + 1..]);
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

/// Lockfile v2/v3 `packages`.
fn v2(packages: &Map<String, Value>, out: &mut Parsed) {
    for (key, p) in packages {
        // The root (""), and workspace folders: the project itself.
        let Some((_, installed_as)) = key.rsplit_once("node_modules/") else { continue };
        if p.get("link").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let name = p.get("name").and_then(Value::as_str).unwrap_or(installed_as);
        let Some(version) = p.get("version").and_then(Value::as_str) else {
            out.skip(key.as_str(), "no version");
            continue;
        };
        let mut dep = Dep::new(name, version);
        if name != installed_as {
            dep = dep.with("alias", installed_as);
        }
        if let Some(sha) = p.get("resolved").and_then(Value::as_str).and_then(git_commit) {
            dep = dep.with("commit", sha);
        }
        out.push(dep);
    }
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let doc: Value = serde_json::from_slice(input.bytes).map_err(|e| e.to_string())?;
    let mut out = Parsed::default();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        v2(packages, &mut out);
    } else if let Some(deps) = doc.get("dependencies").and_then(Value::as_object) {
        v1(deps, &mut out, 0);
    } else if doc.get("lockfileVersion").is_none() {
        return Err("neither `packages` nor `dependencies`: not a package-lock".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Parsed {
        let none = |_: &str| Ok(None);
        parse(&Input { path: "/package-lock.json", bytes: json.as_bytes(), read: &none }).unwrap()
    }

    #[test]
    fn v1_aliases_git_and_local_dependencies() {
        let parsed = read(
            r#"{"lockfileVersion": 1, "dependencies": {
                "cjs": {"version": "npm:@scope/real@5.0.1"},
                "gitdep": {"version": "git+https://TOKEN@github.com/o/r.git#7cb30ffee96d60d15d394a1d9a65afffb91e1ce1"},
                "local": {"version": "file:../local"},
                "broken": {"resolved": "x"},
                "plain": {"version": "1.2.3", "dependencies": {"nested": {"version": "2.0.0"}}}
            }}"#,
        );
        let got: Vec<(String, String, String)> =
            parsed.deps.iter().map(|d| (d.name.clone(), d.version.clone(), format!("{:?}", d.properties))).collect();
        assert_eq!(
            got,
            [
                ("@scope/real".into(), "5.0.1".into(), r#"{"alias": "cjs"}"#.into()),
                ("gitdep".into(), "".into(), r#"{"commit": "7cb30ffee96d60d15d394a1d9a65afffb91e1ce1"}"#.into()),
                ("plain".into(), "1.2.3".into(), "{}".into()),
                ("nested".into(), "2.0.0".into(), "{}".into()),
            ]
        );
        assert_eq!(parsed.skipped, [("broken".to_owned(), "no version".to_owned())]);
    }

    #[test]
    fn specs_split_at_the_version() {
        assert_eq!(split_spec("@babel/core@7.0.0"), Some(("@babel/core", "7.0.0")));
        assert_eq!(split_spec("lodash@4.17.20"), Some(("lodash", "4.17.20")));
        assert_eq!(split_spec("@babel/core"), None);
        assert_eq!(split_spec("lodash@"), None);
    }
}
