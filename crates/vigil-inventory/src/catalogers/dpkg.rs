//! dpkg: `/var/lib/dpkg/status` and, for distroless images, every file in
//! `/var/lib/dpkg/status.d/`. Only packages whose `Status` ends in
//! `installed` count. `Source: name (version)` gives the source package
//! Debian and Ubuntu advisories are keyed by (binNMUs carry a different
//! source version).

use vigil_core::inventory::{Location, Package, SourcePackage, purl_encode};

use super::{Context, Found};
use crate::error::Result;

/// Cataloger id.
pub const ID: &str = "dpkg";

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d";
const INFO: &str = "/var/lib/dpkg/info";

/// Splits deb822 text into paragraphs of `(field, value)`, as dpkg's own
/// parser does: a line starting with a space or tab continues the field
/// before it, even when it holds nothing else (dpkg warns of a "blank line
/// in value" and keeps reading the field); only an empty line ends a
/// paragraph, and the fields of a paragraph may come in any order.
pub fn paragraphs(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else if line.starts_with([' ', '\t']) {
            // Whitespace between paragraphs is skipped, as dpkg skips it.
            if let Some((_, value)) = current.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            current.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn field<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Packages of one status file.
fn parse(ctx: &Context<'_>, path: &str, text: &str, require_status: bool) -> Vec<Package> {
    let ecosystem = ctx.os_ecosystem(if ctx.os.is_some_and(|o| o.id == "ubuntu") { "Ubuntu" } else { "Debian" });
    let namespace = ctx.os.map_or("debian", |o| if o.id == "ubuntu" { "ubuntu" } else { "debian" });
    let distro = ctx.distro();
    let mut out = Vec::new();
    for p in paragraphs(text) {
        let (Some(name), Some(version)) = (field(&p, "Package"), field(&p, "Version")) else {
            continue;
        };
        let installed = field(&p, "Status").is_some_and(|s| s.split_whitespace().last() == Some("installed"));
        if require_status && !installed {
            continue;
        }
        let source = field(&p, "Source").map(|s| match s.split_once('(') {
            Some((n, v)) => {
                SourcePackage { name: n.trim().to_owned(), version: v.trim_end_matches(')').trim().to_owned() }
            }
            None => SourcePackage { name: s.trim().to_owned(), version: version.to_owned() },
        });
        let arch = field(&p, "Architecture").map(str::to_owned);
        let mut purl = format!("pkg:deb/{namespace}/{}@{}", purl_encode(name), purl_encode(version));
        let mut qualifiers = Vec::new();
        if let Some(a) = &arch {
            qualifiers.push(format!("arch={}", purl_encode(a)));
        }
        if let Some(s) = &source {
            // Syft's and Trivy's convention: the source package when it differs.
            if s.version != version {
                qualifiers.push(format!("upstream={}", purl_encode(&format!("{}@{}", s.name, s.version))));
            } else if s.name != name {
                qualifiers.push(format!("upstream={}", purl_encode(&s.name)));
            }
        }
        if let Some(d) = &distro {
            qualifiers.push(format!("distro={}", purl_encode(d)));
        }
        // Canonical purls list qualifiers sorted by key.
        qualifiers.sort();
        if !qualifiers.is_empty() {
            purl.push('?');
            purl.push_str(&qualifiers.join("&"));
        }
        out.push(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            version_source: None,
            ecosystem: ecosystem.clone(),
            purl,
            source: Some(
                source.unwrap_or_else(|| SourcePackage { name: name.to_owned(), version: version.to_owned() }),
            ),
            arch,
            license: None,
            location: Location { path: path.to_owned(), layer: None },
            cataloger: ID.to_owned(),
            properties: Default::default(),
        });
    }
    out
}

/// The status file, `status.d` entries and the file lists.
pub fn wants(path: &str) -> bool {
    path == STATUS
        || path.starts_with("/var/lib/dpkg/status.d/")
        || (path.starts_with("/var/lib/dpkg/info/") && path.ends_with(".list"))
}

/// Reads the dpkg status file and `status.d` entries.
pub fn catalog(ctx: &Context<'_>) -> Result<Found> {
    let mut found = Found::default();
    if let Some(bytes) = ctx.fs.read(STATUS)? {
        found.packages.extend(parse(ctx, STATUS, &String::from_utf8_lossy(&bytes), true));
        // File lists: `info/NAME.list`, or `info/NAME:ARCH.list` for multi-arch packages.
        for p in &found.packages {
            let arch = p.arch.as_deref().unwrap_or("");
            for list in [format!("{INFO}/{}.list", p.name), format!("{INFO}/{}:{arch}.list", p.name)] {
                match ctx.fs.read(&list) {
                    Ok(Some(bytes)) => {
                        found.owned.extend(String::from_utf8_lossy(&bytes).lines().map(str::to_owned));
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => found.warnings.push(format!("dpkg: {e}")),
                }
            }
        }
    }
    for name in ctx.fs.read_dir(STATUS_D)? {
        if name.starts_with('.') {
            continue;
        }
        let path = format!("{STATUS_D}/{name}");
        let bytes = match ctx.fs.read(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(e) => {
                found.warnings.push(format!("dpkg: {e}"));
                continue;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        if name.ends_with(".md5sums") {
            // `HASH  relative/path` lines: the files the package installed.
            found.owned.extend(text.lines().filter_map(|l| l.split_once("  ")).map(|(_, f)| format!("/{}", f.trim())));
        } else {
            // Distroless entries usually carry no Status field: presence means installed.
            found.packages.extend(parse(ctx, &path, &text, false));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_and_fields() {
        let p = paragraphs("Package: a\nDescription: x\n more\n  \n Source: fake\nSource: real\n\n \nPackage: b\r\n");
        assert_eq!(p.len(), 2);
        assert_eq!(field(&p[0], "description"), Some("x\nmore\n\nSource: fake"));
        assert_eq!(field(&p[0], "source"), Some("real"), "a line of spaces continues the description");
        assert_eq!(field(&p[1], "package"), Some("b"));
    }
}
