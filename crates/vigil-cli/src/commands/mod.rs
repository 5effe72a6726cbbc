//! One module per command group; each turns parsed arguments into calls on
//! the library crates and prints the result.

pub mod db;
pub mod explain;
pub mod sbom;
pub mod scan;
pub mod version;

use std::path::Path;

use anyhow::{Context, Result};
use vigil_core::inventory::Inventory;

/// The inventory of a target: a container image (docker-archive,
/// oci-archive, OCI layout), a directory, or one lockfile.
pub fn inventory(target: &Path) -> Result<Inventory> {
    let options = vigil_inventory::Options::default();
    let inventory = if vigil_inventory::is_image(target) {
        vigil_inventory::inventory_image(target, &options)
    } else if target.is_dir() {
        vigil_inventory::inventory_dir(target, &options)
    } else {
        vigil_inventory::inventory_file(target, &options)
    };
    inventory.with_context(|| format!("reading {}", target.display()))
}
