//! `pubspec.lock` (Dart and Flutter's pub, the Pub ecosystem), read with a
//! YAML parser: each entry of `packages` with its `source`. `hosted`
//! packages (pub.dev or another pub server) are reported by the name their
//! `description` gives, `git` packages with the commit they resolved to;
//! `path` packages are the project's own code and `sdk` packages ship with
//! the Flutter SDK rather than from pub.

use serde_json::Value;

use super::{Dep, Format, Input, Parsed, Parser, file_name, yaml};

/// The format.
pub const FORMAT: Format =
    Format { id: "pubspec-lock", ecosystem: "Pub", files: "pubspec.lock", matches, parse: Parser::Entries(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "pubspec.lock"
}

/// A scalar as text: YAML reads an unquoted `1.0` as a number.
fn scalar(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        v @ (Value::Number(_) | Value::Bool(_)) => Some(v.to_string()),
        _ => None,
    }
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let doc = yaml(&input.text())?;
    if !doc.is_object() {
        return Err("not a YAML mapping: not a pubspec.lock".into());
    }
    let mut out = Parsed::default();
    for (key, entry) in doc.get("packages").and_then(Value::as_object).into_iter().flatten() {
        let source = scalar(entry.get("source")).unwrap_or_default();
        let description = entry.get("description");
        if matches!(source.as_str(), "path" | "sdk") {
            continue;
        }
        let Some(version) = scalar(entry.get("version")).filter(|v| !v.is_empty()) else {
            out.skip(key.as_str(), "no version");
            continue;
        };
        let name = scalar(description.and_then(|d| d.get("name"))).unwrap_or_else(|| key.clone());
        let dep = Dep::new(name, version);
        match source.as_str() {
            "hosted" => out.push(dep),
            "git" => match scalar(description.and_then(|d| d.get("resolved-ref"))) {
                Some(commit) => out.push(dep.with("commit", commit)),
                None => out.push(dep),
            },
            other => out.skip(key.as_str(), format!("a package from a source Vigil does not know ({other:?})")),
        }
    }
    Ok(out)
}
