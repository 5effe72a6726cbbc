//! Rust binaries built with `cargo auditable`: the dependency tree it
//! embeds as zlib-compressed JSON in the `.dep-v0` section. Crates from
//! crates.io that are compiled into the binary (not build-time only) are
//! reported; the binary's own crate and path or git crates are not.

use std::io::Read;

use serde_json::Value;

use super::Binary;
use crate::catalogers::lang::Dep;

/// Cataloger id of cargo-auditable packages.
pub const ID: &str = "cargo-auditable";

/// Largest decompressed dependency list accepted.
const MAX_JSON_BYTES: u64 = 16 << 20;

/// The decompressed JSON of the `.dep-v0` section.
pub fn extract(binary: &dyn Binary<'_>) -> Option<Vec<u8>> {
    let data = binary.section(".dep-v0")?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(data).take(MAX_JSON_BYTES).read_to_end(&mut json).ok()?;
    Some(json)
}

/// The crates.io packages compiled into the binary.
pub fn parse(metadata: &[u8]) -> Result<Vec<Dep>, String> {
    let doc: Value = serde_json::from_slice(metadata).map_err(|e| format!("dependency list is not JSON: {e}"))?;
    let packages = doc["packages"].as_array().ok_or("dependency list without packages")?;
    Ok(packages
        .iter()
        .filter(|p| p["source"] == "crates.io" && p["kind"] != "build")
        .filter_map(|p| Some(Dep::new(p["name"].as_str()?, p["version"].as_str()?)))
        .collect())
}
