//! Language package catalogers: lockfiles and installed-package metadata
//! found anywhere in the target. One module per file format, registered in
//! [`FORMATS`]; the target is walked once and every file is offered to the
//! formats whose name test it passes. A file that does not parse is a
//! warning naming it.

use vigil_core::ecosystem::normalize_name;
use vigil_core::inventory::{Location, Package, purl_encode};

use super::{Context, Found};
use crate::error::Result;

mod cargo;
mod composer;
mod composer_installed;
mod deps_json;
mod dist_info;
mod gemfile;
mod gemspec;
mod gomod;
mod jar;
mod node_modules;
mod npm;
mod nuget;
mod pipfile;
mod pnpm;
mod poetry;
mod pom;
mod requirements;
mod uv;
mod yarn;

/// Cataloger id.
pub const ID: &str = "lang";

/// Most files and directories walked in one target.
pub(crate) const MAX_ENTRIES: usize = 5_000_000;

/// One dependency read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    /// Name as the ecosystem spells it.
    pub name: String,
    /// Exact version.
    pub version: String,
    /// Where the version was read, when not from the dependency's own record.
    pub version_source: Option<String>,
}

impl Dep {
    /// A dependency.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Dep {
        Dep { name: name.into(), version: version.into(), version_source: None }
    }
}

/// One file format.
pub struct Format {
    /// Short id (`cargo-lock`), recorded as the package's cataloger.
    pub id: &'static str,
    /// OSV ecosystem of its packages.
    pub ecosystem: &'static str,
    /// Whether a file (path inside the target) is of this format.
    pub matches: fn(&str) -> bool,
    /// Reads the dependencies from the file's bytes, or says why not.
    pub parse: fn(&[u8]) -> Result<Vec<Dep>, String>,
}

/// Every language format.
pub static FORMATS: &[Format] = &[
    cargo::FORMAT,
    npm::FORMAT,
    yarn::FORMAT,
    pnpm::FORMAT,
    node_modules::FORMAT,
    requirements::FORMAT,
    poetry::FORMAT,
    uv::FORMAT,
    pipfile::FORMAT,
    dist_info::FORMAT,
    composer::FORMAT,
    composer_installed::FORMAT,
    gemfile::FORMAT,
    gemspec::FORMAT,
    gomod::FORMAT,
    nuget::FORMAT,
    deps_json::FORMAT,
    pom::FORMAT,
    jar::FORMAT,
];

/// The file name part of a path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The package URL of a dependency.
pub fn purl(ecosystem: &str, name: &str, version: &str) -> String {
    let v = purl_encode(version);
    match ecosystem {
        "crates.io" => format!("pkg:cargo/{}@{v}", purl_encode(name)),
        "npm" => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, n)) => format!("pkg:npm/%40{}/{}@{v}", purl_encode(scope), purl_encode(n)),
            None => format!("pkg:npm/{}@{v}", purl_encode(name)),
        },
        "PyPI" => format!("pkg:pypi/{}@{v}", purl_encode(&normalize_name("PyPI", name))),
        "Go" => format!("pkg:golang/{}@{v}", name.split('/').map(purl_encode).collect::<Vec<_>>().join("/")),
        "RubyGems" => format!("pkg:gem/{}@{v}", purl_encode(name)),
        "Packagist" => format!("pkg:composer/{}@{v}", name.split('/').map(purl_encode).collect::<Vec<_>>().join("/")),
        "NuGet" => format!("pkg:nuget/{}@{v}", purl_encode(name)),
        "Maven" => match name.split_once(':') {
            Some((group, artifact)) => format!("pkg:maven/{}/{}@{v}", purl_encode(group), purl_encode(artifact)),
            None => format!("pkg:maven/{}@{v}", purl_encode(name)),
        },
        other => format!("pkg:generic/{}@{v}?ecosystem={}", purl_encode(name), purl_encode(other)),
    }
}

/// The packages of one file of `format` found at `path`, or a message
/// naming the file and what is wrong with it.
pub fn packages(format: &Format, path: &str, bytes: &[u8]) -> Result<Vec<Package>, String> {
    let deps = (format.parse)(bytes).map_err(|e| format!("{}: {path}: {e}", format.id))?;
    Ok(deps.into_iter().map(|d| package(format.ecosystem, format.id, path, d)).collect())
}

/// The package of a dependency of `ecosystem` that the cataloger `id` read from `path`.
pub(crate) fn package(ecosystem: &str, id: &str, path: &str, dep: Dep) -> Package {
    Package {
        purl: purl(ecosystem, &dep.name, &dep.version),
        ecosystem: ecosystem.to_owned(),
        name: dep.name,
        version: dep.version,
        version_source: dep.version_source,
        source: None,
        arch: None,
        license: None,
        location: Location { path: path.to_owned(), layer: None },
        cataloger: id.to_owned(),
    }
}

/// Files of any language format.
pub fn wants(path: &str) -> bool {
    FORMATS.iter().any(|f| (f.matches)(path))
}

/// Walks the target and reads every language file.
pub fn catalog(ctx: &Context<'_>) -> Result<Found> {
    let mut found = Found::default();
    let mut files: Vec<(String, &Format)> = Vec::new();
    ctx.fs.walk("/", MAX_ENTRIES, &mut |path| {
        for format in FORMATS {
            if (format.matches)(path) && !ctx.owned.contains(path) {
                files.push((path.to_owned(), format));
            }
        }
    })?;
    for (path, format) in files {
        let bytes = match ctx.fs.read(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(e) => {
                found.warnings.push(format!("{}: {e}", format.id));
                continue;
            }
        };
        match packages(format, &path, &bytes) {
            Ok(packages) => found.packages.extend(packages),
            Err(e) => found.warnings.push(e),
        }
    }
    Ok(found)
}
