//! `renv.lock` (R's renv, the CRAN ecosystem): the JSON `Packages` map.
//! Packages installed from a package repository (CRAN, or a mirror of it
//! such as Posit Package Manager) are reported; those from Bioconductor,
//! GitHub, GitLab, Bitbucket, git, a URL or a local path are not CRAN
//! releases, so they are warnings naming them rather than CRAN packages.

use serde_json::Value;

use super::{Dep, Format, Input, Parsed, Parser, file_name};

/// The format.
pub const FORMAT: Format =
    Format { id: "renv-lock", ecosystem: "CRAN", files: "renv.lock", matches, parse: Parser::Entries(parse) };

fn matches(path: &str) -> bool {
    file_name(path) == "renv.lock"
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let doc: Value = serde_json::from_slice(input.bytes).map_err(|e| e.to_string())?;
    let packages = doc.get("Packages").and_then(Value::as_object).ok_or("no `Packages`: not a renv.lock")?;
    let mut out = Parsed::default();
    for (key, p) in packages {
        let field = |f: &str| p.get(f).and_then(Value::as_str).filter(|s| !s.is_empty());
        let name = field("Package").unwrap_or(key);
        let Some(version) = field("Version") else {
            out.skip(key.as_str(), "no version");
            continue;
        };
        match field("Source") {
            Some("Repository") | None => out.push(Dep::new(name, version)),
            Some(other) => out.skip(key.as_str(), format!("installed from {other}, not a CRAN release, not matched")),
        }
    }
    Ok(out)
}
