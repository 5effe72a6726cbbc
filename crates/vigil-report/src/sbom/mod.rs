//! SBOM renderers, one module per format.

mod cyclonedx;
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

/// A UUID (version 4 layout) from a hash of the inventory's contents.
fn content_uuid(inv: &Inventory) -> String {
    let json = serde_json::to_string(inv).unwrap_or_default();
    let mut words = [0u64; 2];
    for (i, w) in words.iter_mut().enumerate() {
        let mut h = DefaultHasher::new();
        (i, &json).hash(&mut h);
        *w = h.finish();
    }
    let hi = words[0];
    let lo = words[1];
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0x0fff,
        0x8000 | ((lo >> 48) & 0x3fff),
        lo & 0xffff_ffff_ffff
    )
}

/// The CycloneDX document of `inventory`, for formats that extend it.
pub(crate) fn cyclonedx_document(inventory: &Inventory, created: &str) -> serde_json::Value {
    cyclonedx::render(inventory, &Stamp { created: created.to_owned(), uuid: content_uuid(inventory) })
}

/// Writes `inventory` as an SBOM. `created` is the RFC 3339 time to stamp.
pub fn write_sbom(
    inventory: &Inventory,
    format: SbomFormat,
    created: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let stamp = Stamp { created: created.to_owned(), uuid: content_uuid(inventory) };
    let doc = match format {
        SbomFormat::CycloneDx => cyclonedx::render(inventory, &stamp),
        SbomFormat::Spdx => spdx::render(inventory, &stamp),
        SbomFormat::Json => serde_json::to_value(inventory).map_err(std::io::Error::other)?,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(|e| match e.io_error_kind() {
        // Keep the kind, so a closed pipe is still recognised as one.
        Some(kind) => std::io::Error::new(kind, e),
        None => std::io::Error::other(e),
    })?;
    writeln!(out)
}
