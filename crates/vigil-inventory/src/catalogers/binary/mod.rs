//! Packages compiled into executables: Go binaries (the module list the Go
//! toolchain embeds) and Rust binaries built with `cargo auditable` (its
//! `.dep-v0` section). One module per kind, registered in [`KINDS`].
//!
//! [`sniff`] runs on an executable ELF file's bytes — while an image's
//! layers stream past, or on a directory's file — and keeps only the
//! embedded metadata, tagged with its kind; [`catalog`] turns that into
//! packages. Binaries installed by OS packages are left to their OS
//! package, as language files are.

use object::{Object, ObjectSection, ObjectSegment};
use vigil_core::inventory::Package;

use super::lang::{Dep, MAX_ENTRIES, package};
use super::{Context, Found};
use crate::error::Result;

mod auditable;
mod go;

/// Cataloger id.
pub const ID: &str = "binary";

/// What the kinds read of an executable: named sections, and bytes at
/// virtual addresses (through the loadable segments).
pub(crate) trait Binary<'a> {
    /// The contents of the section called `name`.
    fn section(&self, name: &str) -> Option<&'a [u8]>;
    /// `size` bytes at virtual address `address`.
    fn read_at(&self, address: u64, size: u64) -> Option<&'a [u8]>;
}

/// An ELF file parsed by `object`, from memory or read lazily from disk.
struct Elf<'a, R: object::ReadRef<'a>>(object::File<'a, R>);

impl<'a, R: object::ReadRef<'a>> Binary<'a> for Elf<'a, R> {
    fn section(&self, name: &str) -> Option<&'a [u8]> {
        self.0.section_by_name(name)?.data().ok()
    }

    fn read_at(&self, address: u64, size: u64) -> Option<&'a [u8]> {
        self.0.segments().find_map(|segment| segment.data_range(address, size).ok().flatten())
    }
}

/// One kind of embedded metadata.
struct Kind {
    /// Recorded as the package's cataloger (`go-binary`).
    id: &'static str,
    /// OSV ecosystem of its packages.
    ecosystem: &'static str,
    /// The metadata of an executable, if it carries this kind.
    extract: for<'a> fn(&dyn Binary<'a>) -> Option<Vec<u8>>,
    /// The dependencies in extracted metadata, or why it is unreadable.
    parse: fn(&[u8]) -> std::result::Result<Vec<Dep>, String>,
}

/// Every kind, tried in this order.
static KINDS: &[Kind] = &[
    Kind { id: go::ID, ecosystem: "Go", extract: go::extract, parse: go::parse },
    Kind { id: auditable::ID, ecosystem: "crates.io", extract: auditable::extract, parse: auditable::parse },
];

/// The ids of every kind of embedded metadata read.
pub fn kind_ids() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.id).collect()
}

/// The first kind of metadata `binary` carries, as `KIND-ID NUL METADATA`.
fn tagged(binary: &dyn Binary<'_>) -> Option<Vec<u8>> {
    KINDS.iter().find_map(|kind| {
        let mut out = kind.id.as_bytes().to_vec();
        out.push(0);
        out.extend((kind.extract)(binary)?);
        Some(out)
    })
}

/// The embedded metadata of an ELF file's bytes, as `KIND-ID NUL METADATA`.
pub fn sniff(bytes: &[u8]) -> Option<Vec<u8>> {
    tagged(&Elf(object::File::parse(bytes).ok()?))
}

/// The same for a file on disk, reading only its headers and the sections
/// that matter rather than the whole file.
pub fn sniff_file(file: &std::fs::File) -> Option<Vec<u8>> {
    let cache = object::ReadCache::new(file);
    tagged(&Elf(object::File::parse(&cache).ok()?))
}

/// The packages in what [`sniff`] kept of the binary at `path`.
pub fn packages(path: &str, sniffed: &[u8]) -> std::result::Result<Vec<Package>, String> {
    let split = sniffed.iter().position(|&b| b == 0).ok_or_else(|| format!("{path}: damaged binary metadata"))?;
    let (id, metadata) = (&sniffed[..split], &sniffed[split + 1..]);
    let kind =
        KINDS.iter().find(|k| k.id.as_bytes() == id).ok_or_else(|| format!("{path}: unknown binary metadata"))?;
    let deps = (kind.parse)(metadata).map_err(|e| format!("{}: {path}: {e}", kind.id))?;
    Ok(deps.into_iter().map(|d| package(kind.ecosystem, kind.id, path, d)).collect())
}

/// Binaries are found by content, not by name.
pub fn wants(_path: &str) -> bool {
    false
}

/// Reads every executable in the target that is not an OS package's.
pub fn catalog(ctx: &Context<'_>) -> Result<Found> {
    let mut found = Found::default();
    let mut files = Vec::new();
    ctx.fs.walk("/", MAX_ENTRIES, &mut |path| {
        if !ctx.owned.contains(path) {
            files.push(path.to_owned());
        }
    })?;
    for path in files {
        match ctx.fs.sniffed(&path, sniff_file) {
            Ok(Some(sniffed)) => match packages(&path, &sniffed) {
                Ok(p) => found.packages.extend(p),
                Err(e) => found.warnings.push(e),
            },
            Ok(None) => {}
            Err(e) => found.warnings.push(format!("{ID}: {e}")),
        }
    }
    Ok(found)
}
