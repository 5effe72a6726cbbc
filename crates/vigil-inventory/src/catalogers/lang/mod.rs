//! Language package catalogers: lockfiles and installed-package metadata
//! found anywhere in the target. One module per file format, registered in
//! [`FORMATS`]; the target is walked once and every file is offered to the
//! formats whose name test it passes.
//!
//! A file that does not parse is a warning naming it. Inside a file that
//! does, an entry that cannot be read is left out with a warning naming the
//! file and the entry, never the loss of the file; a file with entries that
//! yields no package at all is a warning; packages the file does not pin to
//! a version are listed without one and counted in a warning, since they
//! cannot be matched.

use std::collections::{BTreeMap, HashMap, HashSet};

use vigil_core::ecosystem::normalize_name;
use vigil_core::inventory::{Location, Package, purl_encode};

use super::{Context, Found};
use crate::error::Result;

mod cargo;
mod composer;
mod composer_installed;
mod conan;
mod deps_json;
mod dist_info;
mod gemfile;
mod gemspec;
mod gomod;
mod gradle;
mod gradle_verification;
mod jar;
mod mix;
mod node_modules;
mod npm;
mod nuget;
mod pdm;
mod pipfile;
mod pnpm;
mod poetry;
mod pom;
mod pubspec;
mod renv;
mod requirements;
mod uv;
mod yarn;

/// Cataloger id.
pub const ID: &str = "lang";

/// Most files and directories walked in one target.
pub(crate) const MAX_ENTRIES: usize = 5_000_000;

/// Entries named in one warning before the rest are only counted.
const NAMED_IN_WARNING: usize = 10;

/// Longest entry quoted in a warning, in characters.
const QUOTED_ENTRY: usize = 120;

/// One dependency read from a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dep {
    /// Name as the ecosystem spells it (the real package, never an alias).
    pub name: String,
    /// Exact version; empty when the file pins none.
    pub version: String,
    /// Where the version was read, when not from the dependency's own record.
    pub version_source: Option<String>,
    /// Further facts, as [`Package::properties`] holds them (`alias`, `commit`, ...).
    pub properties: BTreeMap<String, String>,
    /// The file it was read from, when not the file parsed (a requirements include).
    pub file: Option<String>,
}

impl Dep {
    /// A dependency.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Dep {
        Dep { name: name.into(), version: version.into(), ..Dep::default() }
    }

    /// The dependency with one more property.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Dep {
        self.properties.insert(key.to_owned(), value.into());
        self
    }
}

/// What a parser reads: one file, and the rest of the target for formats
/// that refer to other files (requirements includes, Maven parents).
pub struct Input<'a> {
    /// The file's path inside the target, starting with `/`.
    pub path: &'a str,
    /// Its contents.
    pub bytes: &'a [u8],
    /// Reads another file of the target by its path inside it.
    pub read: &'a ReadFile<'a>,
}

/// Reads a file of the target by its path inside it; `Ok(None)` when there is none.
pub type ReadFile<'a> = dyn Fn(&str) -> Result<Option<Vec<u8>>, String> + 'a;

impl Input<'_> {
    /// The contents as text (invalid UTF-8 replaced).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.bytes)
    }
}

/// What a parser found in one file.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Dependencies read.
    pub deps: Vec<Dep>,
    /// Entries left out, each with the reason (`(entry, reason)`).
    pub skipped: Vec<(String, String)>,
    /// Package entries the file holds, read or not; the project itself and
    /// its local packages do not count.
    pub entries: usize,
}

impl Parsed {
    /// Adds a dependency read from an entry.
    pub fn push(&mut self, dep: Dep) {
        self.entries += 1;
        self.deps.push(dep);
    }

    /// Records an entry that could not be read, and why. Only the start of
    /// the entry is kept, as much as a warning quotes: a hostile 200 MiB
    /// line is not held a second time.
    pub fn skip(&mut self, entry: impl Into<String>, reason: impl Into<String>) {
        self.entries += 1;
        let mut entry = entry.into();
        if let Some((cut, _)) = entry.char_indices().nth(QUOTED_ENTRY + 1) {
            entry.truncate(cut);
            entry.shrink_to_fit();
        }
        self.skipped.push((entry, reason.into()));
    }
}

impl From<Vec<Dep>> for Parsed {
    fn from(deps: Vec<Dep>) -> Parsed {
        Parsed { entries: deps.len(), deps, skipped: Vec::new() }
    }
}

/// One file format.
pub struct Format {
    /// Short id (`cargo-lock`), recorded as the package's cataloger.
    pub id: &'static str,
    /// OSV ecosystem of its packages.
    pub ecosystem: &'static str,
    /// The files it reads, as messages name them (`Cargo.lock`).
    pub files: &'static str,
    /// Whether a file (path inside the target) is of this format.
    pub matches: fn(&str) -> bool,
    /// Reads the dependencies of a file, or says why the file cannot be read at all.
    pub parse: Parser,
}

/// How a format reads its files.
pub enum Parser {
    /// A file of one package or of plain entries: its dependencies.
    Deps(fn(&[u8]) -> Result<Vec<Dep>, String>),
    /// A lockfile whose entries are read one by one (entries that cannot
    /// be read are reported), possibly referring to other files.
    Entries(fn(&Input<'_>) -> Result<Parsed, String>),
}

impl Parser {
    /// Reads one file.
    fn parse(&self, input: &Input<'_>) -> Result<Parsed, String> {
        match self {
            Parser::Deps(parse) => parse(input.bytes).map(Parsed::from),
            Parser::Entries(parse) => parse(input),
        }
    }
}

/// Every language format.
pub static FORMATS: &[Format] = &[
    cargo::FORMAT,
    npm::FORMAT,
    npm::HIDDEN_FORMAT,
    yarn::FORMAT,
    pnpm::FORMAT,
    node_modules::FORMAT,
    requirements::FORMAT,
    poetry::FORMAT,
    uv::FORMAT,
    pdm::FORMAT,
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
    gradle::FORMAT,
    gradle_verification::FORMAT,
    jar::FORMAT,
    pubspec::FORMAT,
    mix::FORMAT,
    conan::FORMAT,
    renv::FORMAT,
];

/// The files every format reads, for messages (`Cargo.lock, package-lock.json, ...`).
pub fn format_files() -> String {
    let mut names: Vec<&str> = Vec::new();
    for f in FORMATS {
        if !names.contains(&f.files) {
            names.push(f.files);
        }
    }
    names.join(", ")
}

/// The file name part of a path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The path of `relative` as written in the file at `base` (both inside the
/// target), with `.` and `..` applied; `None` when it leaves the target's root.
pub(crate) fn relative_to(base: &str, relative: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    let start = if relative.starts_with('/') { "" } else { base.rsplit_once('/').map_or("", |(dir, _)| dir) };
    for part in start.split('/').chain(relative.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// The commit a git source is locked to: `git+https://host/repo.git#<sha>`,
/// yarn berry's `...#commit=<sha>`; `None` for other sources (a registry
/// tarball's `#<sha1>` is a checksum, not a commit).
pub(crate) fn git_commit(source: &str) -> Option<&str> {
    let (location, fragment) = source.rsplit_once('#')?;
    let (sha, explicit) = match fragment.strip_prefix("commit=") {
        Some(sha) => (sha, true),
        None => (fragment, false),
    };
    let git = explicit
        || ["git+", "git://", "git@", "github:", "gitlab:", "bitbucket:"].iter().any(|p| location.contains(p))
        || location.ends_with(".git");
    (git && sha.len() >= 7 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha)
}

/// A YAML document (pnpm, yarn berry and pub lockfiles) as JSON values.
pub(crate) fn yaml(text: &str) -> Result<serde_json::Value, String> {
    serde_saphyr::from_str_with_options(text, yaml_options(text)).map_err(|e| e.to_string())
}

/// Parser options for hostile YAML: the budget grows with the input, so
/// large files are read whole while alias expansion ("billion laughs") and
/// deep nesting stay refused.
pub fn yaml_options(text: &str) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(text.len());
    budget.max_events = budget.max_events.max(text.len().saturating_mul(2));
    budget.max_depth = 256;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// The package URL of a dependency; without a version when it has none.
pub fn purl(ecosystem: &str, name: &str, version: &str) -> String {
    let v = if version.is_empty() { String::new() } else { format!("@{}", purl_encode(version)) };
    let path = |name: &str| name.split('/').map(purl_encode).collect::<Vec<_>>().join("/");
    match ecosystem {
        "crates.io" => format!("pkg:cargo/{}{v}", purl_encode(name)),
        "npm" => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, n)) => format!("pkg:npm/%40{}/{}{v}", purl_encode(scope), purl_encode(n)),
            None => format!("pkg:npm/{}{v}", purl_encode(name)),
        },
        "PyPI" => format!("pkg:pypi/{}{v}", purl_encode(&normalize_name("PyPI", name))),
        "Go" => format!("pkg:golang/{}{v}", path(name)),
        "RubyGems" => format!("pkg:gem/{}{v}", purl_encode(name)),
        "Packagist" => format!("pkg:composer/{}{v}", path(name)),
        "NuGet" => format!("pkg:nuget/{}{v}", purl_encode(name)),
        "Maven" => match name.split_once(':') {
            Some((group, artifact)) => format!("pkg:maven/{}/{}{v}", purl_encode(group), purl_encode(artifact)),
            None => format!("pkg:maven/{}{v}", purl_encode(name)),
        },
        "Pub" => format!("pkg:pub/{}{v}", purl_encode(&name.to_ascii_lowercase())),
        "Hex" => format!("pkg:hex/{}{v}", purl_encode(&name.to_ascii_lowercase())),
        "CRAN" => format!("pkg:cran/{}{v}", purl_encode(name)),
        "ConanCenter" => format!("pkg:conan/{}{v}", purl_encode(name)),
        other => format!("pkg:generic/{}{v}?ecosystem={}", purl_encode(name), purl_encode(other)),
    }
}

/// The package URL of a dependency with the qualifiers its properties
/// carry (a Conan reference's `user` and `channel`).
fn qualified_purl(ecosystem: &str, dep: &Dep) -> String {
    let mut purl = purl(ecosystem, &dep.name, &dep.version);
    let qualifiers: Vec<String> = ["channel", "user"]
        .iter()
        .filter(|_| ecosystem == "ConanCenter")
        .filter_map(|k| dep.properties.get(*k).map(|v| format!("{k}={}", purl_encode(v))))
        .collect();
    if !qualifiers.is_empty() {
        purl.push('?');
        purl.push_str(&qualifiers.join("&"));
    }
    purl
}

/// An entry as a warning quotes it: on one line, and cut when long.
fn quoted(entry: &str) -> String {
    let one_line: String = entry.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match one_line.char_indices().nth(QUOTED_ENTRY) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// `a, b, c and 4 more`.
fn listed(items: &[String]) -> String {
    let named: Vec<String> = items.iter().take(NAMED_IN_WARNING).map(|i| quoted(i)).collect();
    match items.len().saturating_sub(NAMED_IN_WARNING) {
        0 => named.join(", "),
        more => format!("{} and {more} more", named.join(", ")),
    }
}

/// The packages and warnings of one file of `format`, or a message naming
/// the file and why it cannot be read at all.
pub fn packages(format: &Format, input: &Input<'_>) -> Result<Found, String> {
    Ok(found(format, input.path, parse(format, input)?))
}

/// What one file of `format` holds, read; the dependencies own their text,
/// so the file's bytes can be dropped before [`found`] makes packages of them.
pub fn parse(format: &Format, input: &Input<'_>) -> Result<Parsed, String> {
    format.parse.parse(input).map_err(|e| format!("{}: {}: {e}", format.id, input.path))
}

/// The packages and warnings of what [`parse`] read from the file at `path`.
pub fn found(format: &Format, path: &str, parsed: Parsed) -> Found {
    let prefix = format!("{}: {path}", format.id);
    let mut found = Found::default();
    // Skipped entries, one warning per reason.
    let mut reasons: Vec<(&str, Vec<String>)> = Vec::new();
    for (entry, reason) in &parsed.skipped {
        match reasons.iter_mut().find(|(r, _)| r == reason) {
            Some((_, entries)) => entries.push(entry.clone()),
            None => reasons.push((reason, vec![entry.clone()])),
        }
    }
    for (reason, entries) in reasons {
        let noun = if entries.len() == 1 { "entry" } else { "entries" };
        found.warnings.push(format!("{prefix}: {} {noun} left out, {reason}: {}", entries.len(), listed(&entries)));
    }
    if parsed.deps.is_empty() && parsed.entries > 0 && parsed.skipped.is_empty() {
        found.warnings.push(format!("{prefix}: {} entries but no package could be read", parsed.entries));
    }
    // One package per name, version and file; properties merged into the first. The keys
    // borrow from the dependencies, so a lockfile of a million packages is not copied for it.
    let mut deps = parsed.deps;
    let mut duplicates: Vec<(usize, usize)> = Vec::new();
    {
        let mut first: HashMap<(&str, &str, Option<&str>), usize> = HashMap::with_capacity(deps.len());
        for (i, d) in deps.iter().enumerate() {
            match first.entry((d.name.as_str(), d.version.as_str(), d.file.as_deref())) {
                std::collections::hash_map::Entry::Occupied(seen) => duplicates.push((i, *seen.get())),
                std::collections::hash_map::Entry::Vacant(new) => {
                    new.insert(i);
                }
            }
        }
    }
    for &(duplicate, kept) in &duplicates {
        for (k, v) in std::mem::take(&mut deps[duplicate].properties) {
            deps[kept].properties.entry(k).or_insert(v);
        }
    }
    if !duplicates.is_empty() {
        let dropped: HashSet<usize> = duplicates.iter().map(|&(d, _)| d).collect();
        let mut i = 0;
        deps.retain(|_| {
            i += 1;
            !dropped.contains(&(i - 1))
        });
    }
    let unpinned: Vec<String> = deps
        .iter()
        .filter(|d| d.version.is_empty())
        .map(|d| match d.properties.get("commit") {
            Some(commit) => format!("{} (git commit {})", d.name, commit.get(..12).unwrap_or(commit)),
            None => d.name.clone(),
        })
        .collect();
    if !unpinned.is_empty() {
        let (noun, verb) = if unpinned.len() == 1 { ("package", "is") } else { ("packages", "are") };
        found.warnings.push(format!(
            "{prefix}: {} {noun} without a version {verb} listed but not matched (not pinned, or locked to a commit): {}",
            unpinned.len(),
            listed(&unpinned)
        ));
    }
    found.packages = deps.into_iter().map(|d| package(format.ecosystem, format.id, path, d)).collect();
    found
}

/// The package of a dependency of `ecosystem` that the cataloger `id` read from `path`.
pub(crate) fn package(ecosystem: &str, id: &str, path: &str, dep: Dep) -> Package {
    Package {
        purl: qualified_purl(ecosystem, &dep),
        ecosystem: ecosystem.to_owned(),
        name: dep.name,
        version: dep.version,
        version_source: dep.version_source,
        source: None,
        arch: None,
        license: None,
        location: Location { path: dep.file.unwrap_or_else(|| path.to_owned()), layer: None },
        cataloger: id.to_owned(),
        properties: dep.properties,
    }
}

/// Files of any language format.
pub fn wants(path: &str) -> bool {
    FORMATS.iter().any(|f| (f.matches)(path))
}

/// Drops what npm's hidden lockfile already says: a package installed at
/// `DIR/node_modules/.../package.json` with the same name and version as
/// an entry of `DIR/node_modules/.package-lock.json` is that entry.
fn drop_installed_seen_in_hidden_lockfiles(packages: &mut Vec<Package>) {
    let hidden: HashSet<(String, String, String)> = packages
        .iter()
        .filter(|p| p.cataloger == npm::HIDDEN_FORMAT.id)
        .filter_map(|p| {
            let dir = p.location.path.strip_suffix(".package-lock.json")?;
            Some((dir.to_owned(), p.name.clone(), p.version.clone()))
        })
        .collect();
    packages.retain(|p| {
        p.cataloger != node_modules::FORMAT.id
            || !hidden
                .iter()
                .any(|(dir, n, v)| p.location.path.starts_with(dir.as_str()) && *n == p.name && *v == p.version)
    });
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
    let read = |path: &str| ctx.fs.read(path).map_err(|e| e.to_string());
    for (path, format) in files {
        let bytes = match ctx.fs.read(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(e) => {
                found.warnings.push(format!("{}: {e}", format.id));
                continue;
            }
        };
        match packages(format, &Input { path: &path, bytes: &bytes, read: &read }) {
            Ok(file) => {
                found.packages.extend(file.packages);
                found.warnings.extend(file.warnings);
            }
            Err(e) => found.warnings.push(e),
        }
    }
    drop_installed_seen_in_hidden_lockfiles(&mut found.packages);
    // A file included by another (a requirements `-r`) is also read on its own.
    let mut seen = HashSet::new();
    found
        .packages
        .retain(|p| seen.insert((p.cataloger.clone(), p.name.clone(), p.version.clone(), p.location.path.clone())));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_commits_but_not_checksums() {
        let sha = "7cb30ffee96d60d15d394a1d9a65afffb91e1ce1";
        assert_eq!(git_commit(&format!("git+https://TOKEN@github.com/o/r.git#{sha}")), Some(sha));
        assert_eq!(git_commit(&format!("left-pad@git://127.0.0.1:48732/repo#commit={sha}")), Some(sha));
        assert_eq!(git_commit(&format!("https://github.com/o/r.git#{sha}")), Some(sha));
        assert_eq!(git_commit(&format!("https://registry.yarnpkg.com/a/-/a-1.0.0.tgz#{sha}")), None);
        assert_eq!(git_commit("git+https://github.com/o/r.git#main"), None);
    }

    #[test]
    fn relative_paths_stay_inside_the_root() {
        assert_eq!(relative_to("/app/requirements.txt", "base.txt").as_deref(), Some("/app/base.txt"));
        assert_eq!(relative_to("/app/req/dev.txt", "../base.txt").as_deref(), Some("/app/base.txt"));
        assert_eq!(relative_to("/app/req/dev.txt", "./x/./y.txt").as_deref(), Some("/app/req/x/y.txt"));
        assert_eq!(relative_to("/app/dev.txt", "/etc/base.txt").as_deref(), Some("/etc/base.txt"));
        assert_eq!(relative_to("/app/dev.txt", "../../base.txt"), None);
        assert_eq!(relative_to("/dev.txt", "../base.txt"), None);
    }

    #[test]
    fn warnings_name_the_file_and_entries() {
        fn parse(_: &Input<'_>) -> Result<Parsed, String> {
            let mut p = Parsed::default();
            p.push(Dep::new("a", "1.0"));
            p.push(Dep::new("a", "1.0").with("alias", "b"));
            p.push(Dep::new("c", "").with("commit", "0123456789abcdef0123"));
            p.skip("weird\nkey", "not a package key");
            p.skip("x".repeat(500), "not a package key");
            Ok(p)
        }
        let format =
            Format { id: "t", ecosystem: "npm", files: "t.lock", matches: |_| true, parse: Parser::Entries(parse) };
        let read = |_: &str| Ok(None);
        let found = packages(&format, &Input { path: "/p/t.lock", bytes: b"", read: &read }).unwrap();
        assert_eq!(found.packages.len(), 2, "duplicates merged");
        assert_eq!(found.packages[0].properties.get("alias").map(String::as_str), Some("b"));
        assert_eq!(found.packages[1].purl, "pkg:npm/c");
        assert_eq!(found.warnings.len(), 2, "{:?}", found.warnings);
        assert!(found.warnings[0].starts_with("t: /p/t.lock: 2 entries left out, not a package key: weird key, xxx"));
        assert!(found.warnings[0].ends_with("x…"), "{}", found.warnings[0]);
        assert!(
            found.warnings[1].ends_with("not matched (not pinned, or locked to a commit): c (git commit 0123456789ab)")
        );
    }

    #[test]
    fn entries_without_packages_are_a_warning() {
        fn parse(_: &Input<'_>) -> Result<Parsed, String> {
            Ok(Parsed { entries: 3, ..Parsed::default() })
        }
        let format =
            Format { id: "t", ecosystem: "npm", files: "t.lock", matches: |_| true, parse: Parser::Entries(parse) };
        let read = |_: &str| Ok(None);
        let found = packages(&format, &Input { path: "/t.lock", bytes: b"", read: &read }).unwrap();
        assert_eq!(found.warnings, ["t: /t.lock: 3 entries but no package could be read"]);
    }
}
