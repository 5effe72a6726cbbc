//! dpkg: `/var/lib/dpkg/status` and, for distroless images, every file in
//! `/var/lib/dpkg/status.d/`. Only packages whose `Status` ends in
//! `installed` count. `Source: name (version)` gives the source package
//! Debian and Ubuntu advisories are keyed by (binNMUs carry a different
//! source version).

use std::collections::HashSet;
use std::io::BufRead;

use vigil_core::inventory::{Location, Package, SourcePackage, purl_encode};

use super::{Context, Found};
use crate::error::Result;

/// Cataloger id.
pub const ID: &str = "dpkg";

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d";
const INFO: &str = "/var/lib/dpkg/info";

/// Longest line of a status file read; a longer one (hostile input) is
/// skipped with a warning rather than held in memory.
const MAX_LINE: usize = 16 << 20;

/// Reads deb822 paragraphs of `(field, value)` one at a time from a stream,
/// as dpkg's own parser does: a line starting with a space or tab continues
/// the field before it, even when it holds nothing else (dpkg warns of a
/// "blank line in value" and keeps reading the field); only an empty line
/// ends a paragraph, and the fields of a paragraph may come in any order.
/// A status file of a million packages is never held whole.
pub struct Paragraphs<R> {
    reader: R,
    line: Vec<u8>,
    /// Lines over [`MAX_LINE`] skipped so far (by line number).
    pub overlong: Vec<usize>,
    number: usize,
}

impl<R: BufRead> Paragraphs<R> {
    /// Paragraphs of `reader`.
    pub fn new(reader: R) -> Paragraphs<R> {
        Paragraphs { reader, line: Vec::new(), overlong: Vec::new(), number: 0 }
    }

    /// The next line into `self.line` without its end; `false` at the end.
    /// A line over [`MAX_LINE`] is consumed without being kept.
    fn next_line(&mut self) -> std::io::Result<bool> {
        self.line.clear();
        let mut read_any = false;
        let mut too_long = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            read_any = true;
            let (chunk, ends) = match buf.iter().position(|&b| b == b'\n') {
                Some(at) => (&buf[..at], Some(at + 1)),
                None => (buf, None),
            };
            if self.line.len() + chunk.len() > MAX_LINE {
                too_long = true;
            } else if !too_long {
                self.line.extend_from_slice(chunk);
            }
            let used = ends.unwrap_or(buf.len());
            self.reader.consume(used);
            if ends.is_some() {
                break;
            }
        }
        if !read_any {
            return Ok(false);
        }
        self.number += 1;
        if too_long {
            self.overlong.push(self.number);
            self.line.clear();
            // Kept as a line of its own, so it neither ends nor joins a paragraph.
            self.line.extend_from_slice(b"#");
        }
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        }
        Ok(true)
    }
}

impl<R: BufRead> Iterator for Paragraphs<R> {
    type Item = std::io::Result<Vec<(String, String)>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut current: Vec<(String, String)> = Vec::new();
        loop {
            match self.next_line() {
                Err(e) => return Some(Err(e)),
                Ok(false) => return (!current.is_empty()).then_some(Ok(current)),
                Ok(true) => {}
            }
            let line = String::from_utf8_lossy(&self.line);
            if line.is_empty() {
                if !current.is_empty() {
                    return Some(Ok(current));
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
    }
}

fn field<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Packages of one status file, read paragraph by paragraph, and what was
/// wrong with it.
fn parse(ctx: &Context<'_>, path: &str, reader: impl BufRead, require_status: bool) -> (Vec<Package>, Vec<String>) {
    let ecosystem = ctx.os_ecosystem(if ctx.os.is_some_and(|o| o.id == "ubuntu") { "Ubuntu" } else { "Debian" });
    let namespace = ctx.os.map_or("debian", |o| if o.id == "ubuntu" { "ubuntu" } else { "debian" });
    let distro = ctx.distro();
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut paragraphs = Paragraphs::new(reader);
    for p in paragraphs.by_ref() {
        let p = match p {
            Ok(p) => p,
            Err(e) => {
                warnings.push(format!("{ID}: {path}: {e}"));
                break;
            }
        };
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
    if let Some(first) = paragraphs.overlong.first() {
        warnings.push(format!(
            "{ID}: {path}: {} line(s) over {} MiB left out (the first is line {first})",
            paragraphs.overlong.len(),
            MAX_LINE >> 20
        ));
    }
    out.shrink_to_fit();
    (out, warnings)
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
    if let Some(reader) = ctx.fs.stream(STATUS)? {
        let (packages, warnings) = parse(ctx, STATUS, reader, true);
        found.packages = packages;
        found.warnings.extend(warnings);
        // File lists: `info/NAME.list`, or `info/NAME:ARCH.list` for multi-arch packages.
        let lists: HashSet<String> =
            ctx.fs.read_dir(INFO)?.into_iter().filter(|name| name.ends_with(".list")).collect();
        for p in &found.packages {
            let arch = p.arch.as_deref().unwrap_or("");
            for list in [format!("{}.list", p.name), format!("{}:{arch}.list", p.name)] {
                if !lists.contains(&list) {
                    continue;
                }
                match ctx.fs.read(&format!("{INFO}/{list}")) {
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
        if name.ends_with(".md5sums") {
            // `HASH  relative/path` lines: the files the package installed.
            match ctx.fs.read(&path) {
                Ok(Some(bytes)) => found.owned.extend(
                    String::from_utf8_lossy(&bytes)
                        .lines()
                        .filter_map(|l| l.split_once("  "))
                        .map(|(_, f)| format!("/{}", f.trim())),
                ),
                Ok(None) => {}
                Err(e) => found.warnings.push(format!("dpkg: {e}")),
            }
            continue;
        }
        match ctx.fs.stream(&path) {
            // Distroless entries usually carry no Status field: presence means installed.
            Ok(Some(reader)) => {
                let (packages, warnings) = parse(ctx, &path, reader, false);
                found.packages.extend(packages);
                found.warnings.extend(warnings);
            }
            Ok(None) => {}
            Err(e) => found.warnings.push(format!("dpkg: {e}")),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_and_fields() {
        let text = "Package: a\nDescription: x\n more\n  \n Source: fake\nSource: real\n\n \nPackage: b\r\n";
        let p: Vec<_> = Paragraphs::new(text.as_bytes()).map(Result::unwrap).collect();
        assert_eq!(p.len(), 2);
        assert_eq!(field(&p[0], "description"), Some("x\nmore\n\nSource: fake"));
        assert_eq!(field(&p[0], "source"), Some("real"), "a line of spaces continues the description");
        assert_eq!(field(&p[1], "package"), Some("b"));
    }

    #[test]
    fn an_overlong_line_is_skipped_not_held() {
        let text = format!("Package: a\nVersion: 1\nJunk: {}\nStatus: ok\n\nPackage: b\n", "x".repeat(MAX_LINE + 10));
        let mut paragraphs = Paragraphs::new(std::io::BufReader::with_capacity(4096, text.as_bytes()));
        let p: Vec<_> = paragraphs.by_ref().map(Result::unwrap).collect();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (field(&p[0], "version"), field(&p[0], "status"), field(&p[0], "junk")),
            (Some("1"), Some("ok"), None)
        );
        assert_eq!(paragraphs.overlong, [3]);
    }
}
