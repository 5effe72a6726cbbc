//! `pnpm-lock.yaml`, every lockfile version (5.x, 6.0, 9.0), read with a
//! YAML parser: each entry of `packages` is one package.
//!
//! An entry's own `name:` and `version:` fields (written for tarball, git
//! and other non-registry packages) win over its key. Otherwise the key
//! says it, as pnpm's own `dependency-path` parses it: `/name/1.0.0` and
//! `/@scope/name/1.0.0_peer@2.0.0` (v5, possibly behind a registry host,
//! `registry.example.com/name/1.0.0`), `/name@1.0.0(peer@2.0.0)` (v6),
//! `name@1.0.0` (v9); the version must be a SemVer version. A git entry
//! without a version is listed without one, with its commit; local
//! directories (`file:`, `link:`) are the project's own code. Aliases are
//! read from the importers' and packages' dependency maps (`cjs:
//! ansi-regex@5.0.1`): the real package is reported, the alias kept as a
//! property. An entry that says neither name nor version is a warning
//! naming it; the rest of the file is still read.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::npm::split_spec;
use super::{Dep, Format, Input, Parsed, Parser, file_name, yaml};

/// The format.
pub const FORMAT: Format =
    Format { id: "pnpm-lock", ecosystem: "npm", files: "pnpm-lock.yaml", matches, parse: Parser::Entries(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "pnpm-lock.yaml" && !path.contains("/node_modules/")
}

/// A version with its peer-dependency suffix (`(peer@1)` in v6 and v9,
/// `_peer@1` in v5) dropped.
fn without_peers(version: &str) -> &str {
    let version = version.split('(').next().unwrap_or(version);
    version.split('_').next().unwrap_or(version)
}

/// Whether `version` is a SemVer 2.0 version, as node-semver's `valid()` checks it.
fn is_semver(version: &str) -> bool {
    let identifiers =
        |s: &str| s.split('.').all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let v = version.strip_prefix('v').unwrap_or(version);
    let (v, build) = v.split_once('+').map_or((v, None), |(v, b)| (v, Some(b)));
    let (core, pre) = v.split_once('-').map_or((v, None), |(c, p)| (c, Some(p)));
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n.len() == 1 || !n.starts_with('0')))
        && pre.is_none_or(identifiers)
        && build.is_none_or(identifiers)
}

/// Whether `name` can be an npm package name (`name`, `@scope/name`).
fn is_package_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(':')
        && match name.strip_prefix('@') {
            Some(rest) => rest.matches('/').count() == 1,
            None => !name.contains('/'),
        }
}

/// Name and version a package key spells, when it spells both.
fn from_key(key: &str) -> Option<(String, String)> {
    let key = key.trim_start_matches('/');
    // v6 and v9: name@version.
    if let Some((name, version)) = split_spec(key).filter(|(name, _)| is_package_name(name)) {
        let version = without_peers(version);
        return is_semver(version).then(|| (name.to_owned(), version.to_owned()));
    }
    // v5: [host/]name/version or [host/]@scope/name/version.
    let parts: Vec<&str> = key.split('/').collect();
    let (&last, rest) = parts.split_last()?;
    let version = without_peers(last);
    if !is_semver(version) {
        return None;
    }
    let name = match rest {
        [.., scope, name] if scope.starts_with('@') => format!("{scope}/{name}"),
        [.., name] if !name.starts_with('@') && !name.is_empty() => (*name).to_owned(),
        _ => return None,
    };
    Some((name, version.to_owned()))
}

/// The reference a dependency map gives (`1.0.0`, `/name/1.0.0`, or `{version: ...}`).
fn reference(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value.get("version").and_then(Value::as_str))
}

/// The `packages` key a dependency `name` with reference `r` points at.
fn key_of<'a>(packages: &'a Map<String, Value>, name: &str, r: &str) -> Option<&'a str> {
    let bare = without_peers(r);
    [
        r.to_owned(),
        format!("/{r}"),
        format!("/{name}/{r}"),
        format!("/{name}@{r}"),
        format!("{name}@{r}"),
        format!("{name}@{bare}"),
    ]
    .into_iter()
    .find_map(|k| packages.get_key_value(&k).map(|(k, _)| k.as_str()))
}

/// For each package key, the names projects and packages depend on it by.
fn names_by_key<'a>(doc: &'a Value, packages: &'a Map<String, Value>) -> HashMap<&'a str, Vec<&'a str>> {
    let mut holders: Vec<&Value> = vec![doc];
    for section in ["importers", "packages", "snapshots"] {
        holders.extend(doc.get(section).and_then(Value::as_object).into_iter().flat_map(|m| m.values()));
    }
    let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
    for holder in holders {
        for kind in ["dependencies", "devDependencies", "optionalDependencies"] {
            for (name, value) in holder.get(kind).and_then(Value::as_object).into_iter().flatten() {
                if let Some(key) = reference(value).and_then(|r| key_of(packages, name, r)) {
                    let names = out.entry(key).or_default();
                    if !names.contains(&name.as_str()) {
                        names.push(name);
                    }
                }
            }
        }
    }
    out
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let doc = yaml(&input.text())?;
    if !doc.is_object() {
        return Err("not a YAML mapping: not a pnpm lockfile".into());
    }
    let Some(packages) = doc.get("packages").and_then(Value::as_object) else {
        // A project without dependencies has no `packages`.
        return Ok(Parsed::default());
    };
    let names = names_by_key(&doc, packages);
    let mut out = Parsed::default();
    for (key, entry) in packages {
        let resolution = entry.get("resolution");
        let kind = resolution.and_then(|r| r.get("type")).and_then(Value::as_str);
        if kind == Some("directory") || key.contains("@link:") || key.starts_with("link:") {
            continue;
        }
        let field = |f: &str| entry.get(f).and_then(Value::as_str).filter(|s| !s.is_empty());
        let keyed = from_key(key);
        let depended_as = names.get(key.as_str()).map(Vec::as_slice).unwrap_or_default();
        let key_name = split_spec(key.trim_start_matches('/')).map(|(n, _)| n).filter(|n| is_package_name(n));
        let Some(name) =
            field("name").or(keyed.as_ref().map(|(n, _)| n.as_str())).or(key_name).or(depended_as.first().copied())
        else {
            out.skip(key.as_str(), "neither the entry nor its key names the package");
            continue;
        };
        let commit = resolution.and_then(|r| r.get("commit")).and_then(Value::as_str);
        let version = field("version").or(keyed.as_ref().map(|(_, v)| v.as_str()));
        let mut dep = match (version, commit) {
            (Some(v), _) => Dep::new(name, v),
            (None, Some(_)) => Dep::new(name, ""),
            (None, None) => {
                out.skip(key.as_str(), "neither the entry nor its key gives a version");
                continue;
            }
        };
        if let Some(c) = commit {
            dep = dep.with("commit", c);
        }
        if let Some(alias) = depended_as.iter().find(|a| **a != name) {
            dep = dep.with("alias", *alias);
        }
        out.push(dep);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_lockfile_version() {
        let cases = [
            ("/lodash/4.17.20", Some(("lodash", "4.17.20"))),
            ("/@babel/code-frame/7.12.13", Some(("@babel/code-frame", "7.12.13"))),
            ("/acorn-jsx/5.3.2_acorn@8.7.0", Some(("acorn-jsx", "5.3.2"))),
            ("registry.example.com/foo/1.1.0", Some(("foo", "1.1.0"))),
            ("registry.example.com/@scope/foo/1.1.0_bar@2.0.0", Some(("@scope/foo", "1.1.0"))),
            ("/acorn-jsx@5.3.2(acorn@8.7.0)", Some(("acorn-jsx", "5.3.2"))),
            ("/@babel/code-frame@7.12.13", Some(("@babel/code-frame", "7.12.13"))),
            ("@babel/code-frame@7.12.13", Some(("@babel/code-frame", "7.12.13"))),
            ("react-dom@18.2.0(react@18.2.0)(@types/react@18.0.0)", Some(("react-dom", "18.2.0"))),
            ("/var/tmp/repo/7cb30ffee96d60d15d394a1d9a65afffb91e1ce1", None),
            ("github.com/user/repo/0123abc", None),
            ("file:../localdep", None),
            ("minimist@http://127.0.0.1:48731/minimist/-/minimist-1.2.5.tgz", None),
            ("@127.0.0.1+48731/minimist/-/minimist-1.2.5.tgz", None),
            ("/foo/01.2.3", None),
            ("/foo/1.2.3-rc.1+b.2", Some(("foo", "1.2.3-rc.1+b.2"))),
        ];
        for (key, want) in cases {
            assert_eq!(from_key(key), want.map(|(n, v)| (n.to_owned(), v.to_owned())), "{key}");
        }
    }
}
