//! rpm: the package database in all three of its formats, each holding one
//! RPM header blob per package: SQLite (`rpmdb.sqlite`, rpm >= 4.16:
//! Fedora, RHEL 9 and clones, CBL-Mariner), Berkeley DB hash (`Packages`,
//! RHEL/CentOS <= 8, Amazon Linux 2; see `bdb`) and NDB (`Packages.db`,
//! SUSE; see `ndb`). Headers are parsed here with every offset
//! bounds-checked.
//!
//! The version is `[epoch:]version-release`; the source package comes from
//! the `SOURCERPM` tag (`util-linux-2.32.1-42.el8_8.src.rpm`).

use rusqlite::{Connection, OpenFlags};
use vigil_core::inventory::{Location, Package, SourcePackage, purl_encode};

use super::{Context, Found};
use crate::error::Result;

/// Cataloger id.
pub const ID: &str = "rpm";

mod bdb;
mod ndb;

/// The database files rpm may use, newest format first, and their format.
const DATABASES: &[(&str, Format)] = &[
    ("/usr/lib/sysimage/rpm/rpmdb.sqlite", Format::Sqlite),
    ("/var/lib/rpm/rpmdb.sqlite", Format::Sqlite),
    ("/usr/lib/sysimage/rpm/Packages.db", Format::Ndb),
    ("/var/lib/rpm/Packages.db", Format::Ndb),
    ("/usr/lib/sysimage/rpm/Packages", Format::BerkeleyDb),
    ("/var/lib/rpm/Packages", Format::BerkeleyDb),
];

/// The on-disk formats of the rpm database.
#[derive(Clone, Copy)]
enum Format {
    Sqlite,
    Ndb,
    BerkeleyDb,
}

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// A parsed header: its index entries and data store.
pub struct Header<'a> {
    entries: Vec<[u32; 4]>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

impl<'a> Header<'a> {
    /// Parses a header blob as rpmdb stores it (no lead, no magic):
    /// index count, data length, 16-byte index entries, data store.
    pub fn parse(blob: &'a [u8]) -> Option<Header<'a>> {
        let il = be32(blob, 0)? as usize;
        let dl = be32(blob, 4)? as usize;
        let index_end = il.checked_mul(16)?.checked_add(8)?;
        let data = blob.get(index_end..index_end.checked_add(dl)?)?;
        let entries = (0..il)
            .map(|i| {
                let at = 8 + i * 16;
                Some([be32(blob, at)?, be32(blob, at + 4)?, be32(blob, at + 8)?, be32(blob, at + 12)?])
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<[u32; 4]> {
        self.entries.iter().copied().find(|e| e[0] == tag)
    }

    /// A string tag (or the first string of an array).
    pub fn string(&self, tag: u32) -> Option<String> {
        let [_, kind, offset, _] = self.entry(tag)?;
        if !matches!(kind, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return None;
        }
        let rest = self.data.get(offset as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// Every string of a STRING_ARRAY tag (at most `count` of them).
    pub fn strings(&self, tag: u32) -> Vec<String> {
        let Some([_, TYPE_STRING_ARRAY, offset, count]) = self.entry(tag) else { return Vec::new() };
        let mut rest = self.data.get(offset as usize..).unwrap_or(&[]);
        let mut out = Vec::new();
        for _ in 0..count {
            let Some(end) = rest.iter().position(|&b| b == 0) else { break };
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            rest = &rest[end + 1..];
        }
        out
    }

    /// Every value of an INT32 tag.
    pub fn int32s(&self, tag: u32) -> Vec<u32> {
        let Some([_, TYPE_INT32, offset, count]) = self.entry(tag) else { return Vec::new() };
        (0..count as usize).map_while(|i| be32(self.data, (offset as usize).checked_add(i * 4)?)).collect()
    }

    /// The files the package installed: `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`.
    pub fn files(&self) -> Vec<String> {
        let dirs = self.strings(TAG_DIRNAMES);
        let index = self.int32s(TAG_DIRINDEXES);
        self.strings(TAG_BASENAMES)
            .into_iter()
            .zip(index)
            .filter_map(|(base, i)| dirs.get(i as usize).map(|d| format!("{d}{base}")))
            .collect()
    }

    /// The first value of an INT32 tag.
    pub fn int32(&self, tag: u32) -> Option<u32> {
        let [_, kind, offset, count] = self.entry(tag)?;
        (kind == TYPE_INT32 && count >= 1).then(|| be32(self.data, offset as usize)).flatten()
    }
}

/// Splits `name-version-release.src.rpm` into name and `version-release`.
fn source_rpm(s: &str) -> Option<SourcePackage> {
    let base = s.strip_suffix(".rpm")?;
    let base = base.rsplit_once('.').map_or(base, |(b, _arch)| b);
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some(SourcePackage { name: name.to_owned(), version: format!("{version}-{release}") })
}

/// The OSV ecosystem of an RPM-based OS: the detected release when Vigil
/// maps it (AlmaLinux, Rocky Linux), else the distribution's ecosystem
/// name, else the OS id itself (which matches no advisories rather than
/// the wrong ones).
fn rpm_ecosystem(ctx: &Context<'_>) -> String {
    let Some(os) = ctx.os else {
        return "Red Hat".to_owned();
    };
    if let Some(e) = &os.ecosystem {
        return e.clone();
    }
    match os.id.as_str() {
        "rhel" | "centos" => "Red Hat",
        "sles" | "sles_sap" | "sle-micro" => "SUSE",
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" => "openSUSE",
        "mageia" => "Mageia",
        "openeuler" => "openEuler",
        "photon" => "Photon OS",
        other => other,
    }
    .to_owned()
}

/// One package from a header.
fn package(ctx: &Context<'_>, header: &Header<'_>, path: &str) -> Option<Package> {
    let name = header.string(TAG_NAME)?;
    let version = header.string(TAG_VERSION)?;
    let release = header.string(TAG_RELEASE)?;
    let epoch = header.int32(TAG_EPOCH);
    let arch = header.string(TAG_ARCH);
    let evr = match epoch {
        Some(e) if e > 0 => format!("{e}:{version}-{release}"),
        _ => format!("{version}-{release}"),
    };
    let namespace = ctx.os.map_or("redhat", |o| o.id.as_str()).to_owned();
    let ecosystem = rpm_ecosystem(ctx);
    let mut qualifiers = Vec::new();
    if let Some(a) = &arch {
        qualifiers.push(format!("arch={}", purl_encode(a)));
    }
    if let Some(e) = epoch.filter(|e| *e > 0) {
        qualifiers.push(format!("epoch={e}"));
    }
    if let Some(d) = ctx.distro() {
        qualifiers.push(format!("distro={}", purl_encode(&d)));
    }
    let mut purl =
        format!("pkg:rpm/{namespace}/{}@{}", purl_encode(&name), purl_encode(&format!("{version}-{release}")));
    // Canonical purls list qualifiers sorted by key.
    qualifiers.sort();
    if !qualifiers.is_empty() {
        purl.push('?');
        purl.push_str(&qualifiers.join("&"));
    }
    Some(Package {
        source: header.string(TAG_SOURCERPM).as_deref().and_then(source_rpm),
        license: header.string(TAG_LICENSE),
        name,
        version: evr,
        version_source: None,
        ecosystem,
        purl,
        arch,
        location: Location { path: path.to_owned(), layer: None },
        cataloger: ID.to_owned(),
        properties: Default::default(),
    })
}

/// Every header blob of an `rpmdb.sqlite` given as bytes. SQLite needs a
/// file: the bytes go to a private temporary file, opened read-only and
/// immutable, so nothing is ever written next to the target's own copy.
fn sqlite_blobs(data: &[u8]) -> std::io::Result<Vec<Vec<u8>>> {
    let mut tmp = tempfile::NamedTempFile::new()?;
    std::io::Write::write_all(&mut tmp, data)?;
    let uri = format!(
        "file:{}?immutable=1",
        tmp.path().display().to_string().replace('%', "%25").replace('?', "%3f").replace('#', "%23")
    );
    let read = || -> rusqlite::Result<Vec<Vec<u8>>> {
        let conn = Connection::open_with_flags(uri, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI)?;
        let mut stmt = conn.prepare("SELECT blob FROM Packages")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        rows.collect()
    };
    read().map_err(std::io::Error::other)
}

/// The database files, in any of their places.
pub fn wants(path: &str) -> bool {
    DATABASES.iter().any(|(p, _)| *p == path)
}

/// Reads the first rpm database found.
pub fn catalog(ctx: &Context<'_>) -> Result<Found> {
    let mut found = Found::default();
    for &(path, format) in DATABASES {
        let data = match ctx.fs.read(path) {
            Ok(Some(data)) => data,
            Ok(None) => continue,
            Err(e) => {
                found.warnings.push(format!("rpm: {e}"));
                return Ok(found);
            }
        };
        let blobs = match format {
            Format::Sqlite => sqlite_blobs(&data).map_err(|e| e.to_string()),
            Format::Ndb => ndb::blobs(&data),
            Format::BerkeleyDb => bdb::blobs(&data),
        };
        match blobs {
            Ok(blobs) => {
                for (i, blob) in blobs.iter().enumerate() {
                    let header = Header::parse(blob);
                    match header.as_ref().and_then(|h| package(ctx, h, path)) {
                        Some(p) => {
                            found.packages.push(p);
                            found.owned.extend(header.map(|h| h.files()).unwrap_or_default());
                        }
                        None => {
                            found.warnings.push(format!("rpm: {path}: package header {} is malformed, skipped", i + 1))
                        }
                    }
                }
            }
            Err(e) => found.warnings.push(format!("rpm: {path}: not a readable rpm database: {e}")),
        }
        return Ok(found);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_file_lists() {
        // rpm's own bindings (`h[rpm.RPMTAG_FILENAMES]`) list /bin/bash, /bin/bashbug
        // and /bin/sh first for bash in this database.
        let db = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rpm/rpmdb.sqlite");
        let blobs = sqlite_blobs(&std::fs::read(db).unwrap()).unwrap();
        let bash = blobs
            .iter()
            .filter_map(|b| Header::parse(b))
            .find(|h| h.string(TAG_NAME).as_deref() == Some("bash"))
            .unwrap();
        assert_eq!(bash.files()[..3], ["/bin/bash", "/bin/bashbug", "/bin/sh"]);
    }

    #[test]
    fn source_rpm_names() {
        let s = source_rpm("util-linux-2.32.1-42.el8_8.src.rpm").unwrap();
        assert_eq!((s.name.as_str(), s.version.as_str()), ("util-linux", "2.32.1-42.el8_8"));
        assert!(source_rpm("garbage").is_none());
    }

    #[test]
    fn hostile_headers_do_not_panic() {
        for blob in [
            &[][..],
            &[0, 0, 0, 1][..],
            &[255, 255, 255, 255, 255, 255, 255, 255][..],
            &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0][..],
        ] {
            let _ = Header::parse(blob).map(|h| (h.string(TAG_NAME), h.int32(TAG_EPOCH)));
        }
        // One STRING entry pointing past the data store.
        let mut blob = vec![0, 0, 0, 1, 0, 0, 0, 2];
        blob.extend_from_slice(&[0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 9, 0, 0, 0, 1]);
        blob.extend_from_slice(b"a\0");
        let h = Header::parse(&blob).unwrap();
        assert_eq!(h.string(TAG_NAME), None);
    }
}
