//! `conan.lock` (Conan, the ConanCenter ecosystem), JSON in both of its
//! forms: Conan 2's lockfile (`"version": "0.5"`, lists of references in
//! `requires`, `build_requires` and `python_requires`) and Conan 1's graph
//! lock (`graph_lock.nodes`, each with a `ref` or `pref`; the node without
//! one is the consumer, the project itself). A reference is
//! `name/version[@user/channel][#revision[%timestamp]]`: user and channel
//! become properties (and purl qualifiers), build requirements are marked
//! `scope=build`.

use serde_json::Value;

use super::{Dep, Format, Input, Parsed, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "conan-lock", ecosystem: "ConanCenter", files: "conan.lock", matches, parse: Parser::Entries(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "conan.lock"
}

/// The package a reference names, or `None` when it is not `name/version`.
fn reference(r: &str) -> Option<Dep> {
    let r = r.split(['#', ':']).next()?;
    let (name_version, user_channel) = match r.split_once('@') {
        Some((nv, uc)) => (nv, Some(uc)),
        None => (r, None),
    };
    let (name, version) = name_version.split_once('/')?;
    if name.is_empty() || version.is_empty() || version.contains('/') {
        return None;
    }
    let mut dep = Dep::new(name, version);
    if let Some((user, channel)) = user_channel.and_then(|uc| uc.split_once('/')) {
        // `_/_` is Conan's spelling of no user and no channel.
        if user != "_" {
            dep = dep.with("user", user);
        }
        if channel != "_" {
            dep = dep.with("channel", channel);
        }
    }
    Some(dep)
}

fn add(out: &mut Parsed, r: &str, build: bool) {
    match reference(r) {
        Some(dep) if build => out.push(dep.with("scope", "build")),
        Some(dep) => out.push(dep),
        None => out.skip(r, "not a `name/version` reference"),
    }
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let doc: Value = serde_json::from_slice(input.bytes).map_err(|e| e.to_string())?;
    let mut out = Parsed::default();
    if let Some(nodes) = doc.get("graph_lock").and_then(|g| g.get("nodes")).and_then(Value::as_object) {
        for node in nodes.values() {
            let r = node.get("ref").or_else(|| node.get("pref")).and_then(Value::as_str);
            if let Some(r) = r.filter(|r| !r.is_empty()) {
                add(&mut out, r, node.get("context").and_then(Value::as_str) == Some("build"));
            }
        }
    } else if doc.get("requires").is_some() || doc.get("build_requires").is_some() {
        for (section, build) in [("requires", false), ("build_requires", true), ("python_requires", true)] {
            for r in doc.get(section).and_then(Value::as_array).into_iter().flatten() {
                match r.as_str() {
                    Some(r) => add(&mut out, r, build),
                    None => out.skip(r.to_string(), "not a reference string"),
                }
            }
        }
    } else {
        return Err("neither `requires` (Conan 2) nor `graph_lock` (Conan 1): not a conan.lock".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let got = |r: &str| reference(r).map(|d| format!("{}@{} {:?}", d.name, d.version, d.properties));
        assert_eq!(got("zlib/1.2.13#ba80149e7e575e8da6f9f2b0b80ea243%1796031643.05").unwrap(), "zlib@1.2.13 {}");
        assert_eq!(
            got("fmt/9.1.0@mycompany/stable#f97da3").unwrap(),
            r#"fmt@9.1.0 {"channel": "stable", "user": "mycompany"}"#
        );
        assert_eq!(got("openssl/1.1.1q:d3cb35098bed776c3c7b6c348a6c30ac27a7423b").unwrap(), "openssl@1.1.1q {}");
        assert_eq!(got("pkg/1.0@_/_").unwrap(), "pkg@1.0 {}");
        assert_eq!(got("nonsense"), None);
        assert_eq!(got("a/b/c"), None);
    }
}
