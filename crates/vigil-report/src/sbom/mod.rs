//! SBOM renderers, one module per format.

pub(crate) mod cyclonedx;
mod spdx;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;

use vigil_core::inventory::{ImageMeta, Inventory, purl_encode};

/// The SBOM formats Vigil writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    CycloneDx,
    /// SPDX 2.3 JSON.
    Spdx,
    /// Vigil's inventory as JSON (the `Inventory` type, serialised).
    Json,
}

/// The package URL of an image pulled from a registry, by its manifest
/// digest (`pkg:oci/app@sha256%3A...?repository_url=ghcr.io/org/app&arch=amd64`).
pub(crate) fn image_purl(image: &ImageMeta) -> Option<String> {
    let (repository, digest) = (image.repository.as_ref()?, image.manifest_digest.as_ref()?);
    let name = repository.rsplit('/').next()?;
    let url: Vec<String> = repository.split('/').map(purl_encode).collect();
    let arch = image.platform.as_deref().and_then(|p| p.split('/').nth(1)).map(|a| format!("&arch={}", purl_encode(a)));
    Some(format!(
        "pkg:oci/{}@{}?repository_url={}{}",
        purl_encode(name),
        purl_encode(digest),
        url.join("/"),
        arch.unwrap_or_default()
    ))
}

/// What a renderer needs besides the inventory.
pub(crate) struct Stamp {
    /// RFC 3339 creation time.
    pub created: String,
    /// A UUID derived from the inventory, so the same inventory gets the same id.
    pub uuid: String,
}

impl Stamp {
    /// The stamp of `inventory` created at `created`.
    pub(crate) fn of(inventory: &Inventory, created: &str) -> std::io::Result<Stamp> {
        Ok(Stamp { created: created.to_owned(), uuid: content_uuid(inventory)? })
    }
}

/// Feeds what is written to two differently seeded hashers.
struct Hashing([DefaultHasher; 2]);

impl Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.iter_mut().for_each(|h| h.write(bytes));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A UUID (version 4 layout) from a hash of the inventory's contents, hashed
/// as it is serialized rather than from a copy.
fn content_uuid(inv: &Inventory) -> std::io::Result<String> {
    let mut hashing = Hashing([0usize, 1].map(|seed| {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        h
    }));
    serde_json::to_writer(&mut hashing, inv).map_err(std::io::Error::other)?;
    let [hi, lo] = hashing.0.map(|h| h.finish());
    Ok(format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        0x8000 | ((lo >> 48) & 0x3fff),
        lo & 0xffff_ffff_ffff
    ))
}

/// Writes `value` as pretty JSON through a buffer, keeping the kind of an
/// I/O error so a closed pipe is still recognised as one.
pub(crate) fn write_json(value: &impl serde::Serialize, out: &mut dyn Write) -> std::io::Result<()> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buffered, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => std::io::Error::new(kind, e),
        None => std::io::Error::other(e),
    })?;
    writeln!(buffered)?;
    buffered.flush()
}

/// Writes `inventory` as an SBOM, streaming: packages are serialized one at
/// a time, straight to `out`. `created` is the RFC 3339 time to stamp.
pub fn write_sbom(
    inventory: &Inventory,
    format: SbomFormat,
    created: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        SbomFormat::CycloneDx => {
            let stamp = Stamp::of(inventory, created)?;
            write_json(&cyclonedx::Bom { inventory, stamp: &stamp, properties: Vec::new(), vulnerabilities: None }, out)
        }
        SbomFormat::Spdx => write_json(&spdx::Document { inventory, stamp: &Stamp::of(inventory, created)? }, out),
        SbomFormat::Json => write_json(inventory, out),
    }
}
