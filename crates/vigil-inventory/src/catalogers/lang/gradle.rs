//! Gradle's dependency locking: `gradle.lockfile` and
//! `buildscript-gradle.lockfile` (Gradle 6 and later, one line
//! `group:name:version=configuration,...` per module; `empty=...` lists the
//! configurations without dependencies) and the per-configuration files of
//! Gradle 4.8 to 5 (`gradle/dependency-locks/*.lockfile`, one
//! `group:name:version` per line). Lines starting with `#` are comments.

use super::{Dep, Format, Input, Parsed, Parser, file_name};

/// The format.
pub const FORMAT: Format = Format {
    id: "gradle-lockfile",
    ecosystem: "Maven",
    files: "gradle.lockfile",
    matches,
    parse: Parser::Entries(parse),
};

fn matches(path: &str) -> bool {
    let name = file_name(path);
    name == "gradle.lockfile"
        || name == "buildscript-gradle.lockfile"
        || (name.ends_with(".lockfile") && path.contains("/gradle/dependency-locks/"))
}

fn parse(input: &Input<'_>) -> Result<Parsed, String> {
    let mut out = Parsed::default();
    for line in input.text().lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let module = line.split_once('=').map_or(line, |(m, _)| m).trim();
        if module == "empty" {
            continue;
        }
        match module.split(':').collect::<Vec<_>>().as_slice() {
            [group, name, version] if !group.is_empty() && !name.is_empty() && !version.is_empty() => {
                out.push(Dep::new(format!("{group}:{name}"), *version));
            }
            _ => out.skip(line, "not a `group:name:version` line"),
        }
    }
    Ok(out)
}
