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

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// A field read as text when it is a string, and skipped (never kept) when
/// it is anything else: one odd entry does not fail the file, and a huge
/// value is borrowed from the input rather than copied.
#[derive(Default)]
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'a>, D::Error> {
        deserializer.deserialize_any(TextVisitor(std::marker::PhantomData))
    }
}

struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Borrowed(v))))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'a>, E> {
        Ok(Text(Some(Cow::Owned(v.to_owned()))))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Text<'a>, E> {
        Ok(Text(v.then_some(Cow::Borrowed("true"))))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Text<'a>, E> {
        Ok(Text(None))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Text<'a>, E> {
        Ok(Text(None))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Text<'a>, E> {
        Ok(Text(None))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Text<'a>, E> {
        Ok(Text(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// What a v2/v3 `packages` entry says that Vigil reads; every other field
/// (dependencies, integrity, ...) is skipped as the parser meets it.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Entry<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(borrow)]
    version: Text<'a>,
    #[serde(borrow)]
    resolved: Text<'a>,
    #[serde(borrow)]
    link: Text<'a>,
}

/// An entry, or `None` when the value is not an object.
struct EntryOrNot<'a>(Option<Entry<'a>>);

impl<'de> Deserialize<'de> for EntryOrNot<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<EntryOrNot<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EntryOrNot<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a package entry")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EntryOrNot<'de>, A::Error> {
                Entry::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|e| EntryOrNot(Some(e)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<EntryOrNot<'de>, A::Error> {
                TextVisitor(std::marker::PhantomData).visit_seq(seq).map(|_| EntryOrNot(None))
            }

            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<EntryOrNot<'de>, E> {
                Ok(EntryOrNot(None))
            }

            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<EntryOrNot<'de>, E> {
                Ok(EntryOrNot(None))
            }

            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<EntryOrNot<'de>, E> {
                Ok(EntryOrNot(None))
            }

            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<EntryOrNot<'de>, E> {
                Ok(EntryOrNot(None))
            }

            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<EntryOrNot<'de>, E> {
                Ok(EntryOrNot(None))
            }

            fn visit_unit<E: serde::de::Error>(self) -> Result<EntryOrNot<'de>, E> {
                Ok(EntryOrNot(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// One lockfile v2/v3 `packages` entry.
fn v2(key: &str, p: &Entry<'_>, out: &mut Parsed) {
    // The root (""), and workspace folders: the project itself.
    let Some((_, installed_as)) = key.rsplit_once("node_modules/") else { return };
    if p.link.0.as_deref() == Some("true") {
        return;
    }
    let name = p.name.0.as_deref().unwrap_or(installed_as);
    let Some(version) = p.version.0.as_deref() else {
        out.skip(key, "no version");
        return;
    };
    let mut dep = Dep::new(name, version);
    if name != installed_as {
        dep = dep.with("alias", installed_as);
    }
    if let Some(sha) = p.resolved.0.as_deref().and_then(git_commit) {
        dep = dep.with("commit", sha);
    }
    out.push(dep);
}

/// The `packages` map, read entry by entry as the parser meets it: a lockfile
/// of hundreds of thousands of packages is never held as a tree.
struct PackagesSeed<'p>(&'p mut Parsed);

impl<'de> DeserializeSeed<'de> for PackagesSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PackagesSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map of packages")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text<'de>>()? {
            // One entry at a time, dropped once read; an entry that is not an object has no version.
            let entry: Option<Entry<'de>> = map.next_value::<EntryOrNot<'de>>()?.0;
            v2(key.0.as_deref().unwrap_or_default(), &entry.unwrap_or_default(), self.0);
        }
        Ok(())
    }

    // Anything else where `packages` should be is not a v2 lockfile's: ignored, as a tree reader would.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The top level: `packages` streamed (v2, v3), `dependencies` kept for v1
/// lockfiles only (a v2 lockfile repeats its packages there).
struct LockVisitor<'p> {
    out: &'p mut Parsed,
    v1: Option<Map<String, Value>>,
    has_packages: bool,
    has_version: bool,
}

impl<'de> Visitor<'de> for &mut LockVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a package-lock object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "packages" => {
                    self.has_packages = true;
                    self.v1 = None;
                    map.next_value_seed(PackagesSeed(self.out))?;
                }
                "dependencies" if !self.has_packages => {
                    self.v1 = match map.next_value::<Value>()? {
                        Value::Object(deps) => Some(deps),
                        _ => None,
                    };
                }
                "lockfileVersion" => {
                    self.has_version = true;
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    let mut lock = LockVisitor { out: &mut out, v1: None, has_packages: false, has_version: false };
    let mut de = serde_json::Deserializer::from_slice(input.bytes);
    de.deserialize_map(&mut lock).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    let (v1_deps, has_packages, has_version) = (lock.v1.take(), lock.has_packages, lock.has_version);
    if let Some(deps) = v1_deps {
        v1(&deps, &mut out, 0);
    } else if !has_packages && !has_version {
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
