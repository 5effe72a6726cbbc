//! Composer's `vendor/composer/installed.json`: what `composer install`
//! put in `vendor/`, which PHP images carry even when `composer.lock` was
//! left out. Composer 2 writes `{"packages": [...]}`, Composer 1 a bare
//! array; each package has `name` and `version` (a leading `v` dropped, as
//! for `composer.lock`).

use serde_json::Value;

use super::{Dep, Format, Parser};

/// The format.
pub const FORMAT: Format = Format {
    id: "composer-installed",
    ecosystem: "Packagist",
    files: "vendor/composer/installed.json",
    matches,
    parse: Parser::Deps(parse),
};

fn matches(path: &str) -> bool {
    path.ends_with("/vendor/composer/installed.json")
}

fn parse(bytes: &[u8]) -> Result<Vec<Dep>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let packages = match &doc {
        Value::Array(list) => list,
        Value::Object(_) => doc.get("packages").and_then(Value::as_array).ok_or("no `packages`: not installed.json")?,
        _ => return Err("not installed.json: neither an object nor an array".into()),
    };
    Ok(packages
        .iter()
        .filter_map(|p| {
            let (name, version) = (p.get("name")?.as_str()?, p.get("version")?.as_str()?);
            Some(Dep::new(name, version.strip_prefix('v').unwrap_or(version)))
        })
        .collect())
}
