//! What is installed in a root filesystem.
//!
//! [`inventory_dir`] opens a directory as a read-only [`fs::RootFs`] (paths
//! never leave the root, reads are capped), detects the OS ([`os`]) and runs
//! every cataloger in [`catalogers::CATALOGERS`] (dpkg, apk, rpm). A
//! cataloger that fails becomes a warning naming the file; the others still
//! run. The result is a [`vigil_core::inventory::Inventory`].
//!
//! This crate matches nothing and knows nothing of advisories or output formats.
//!
//! ```no_run
//! let inv = vigil_inventory::inventory_dir(std::path::Path::new("/"), &vigil_inventory::Options::default())?;
//! println!("{} packages on {:?}", inv.packages.len(), inv.os.map(|o| o.pretty_name));
//! # Ok::<(), vigil_inventory::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod catalogers;
mod error;
pub mod fs;
pub mod os;

use std::collections::HashSet;
use std::path::Path;

pub use error::{Error, Result};
use vigil_core::inventory::Inventory;

use crate::catalogers::{CATALOGERS, Context};
use crate::fs::RootFs;

/// Caps for hostile targets.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Largest single file read, in bytes.
    pub max_file_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_file_bytes: 512 << 20 }
    }
}

/// The inventory of one lockfile or package-metadata file (a `Cargo.lock`,
/// `package-lock.json`, `requirements.txt`, ...), read as its file name says.
pub fn inventory_file(path: &Path, options: &Options) -> Result<Inventory> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let lookup = format!("/{name}");
    let format = catalogers::lang::FORMATS.iter().find(|f| (f.matches)(&lookup)).ok_or_else(|| Error::Path {
        path: path.display().to_string(),
        message: "not a directory or a lockfile Vigil reads (Cargo.lock, package-lock.json, requirements*.txt, \
                  poetry.lock, uv.lock, Pipfile.lock, composer.lock, Gemfile.lock, go.mod, packages.lock.json)"
            .into(),
    })?;
    let meta = std::fs::metadata(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    if meta.len() > options.max_file_bytes {
        return Err(Error::Path { path: path.display().to_string(), message: "over the file size limit".into() });
    }
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let packages = catalogers::lang::packages(format, &path.display().to_string(), &String::from_utf8_lossy(&bytes))
        .map_err(|message| Error::Path { path: path.display().to_string(), message })?;
    Ok(Inventory { target: path.display().to_string(), os: None, packages, warnings: Vec::new() })
}

/// The inventory of the root filesystem at `root`.
pub fn inventory_dir(root: &Path, options: &Options) -> Result<Inventory> {
    let fs = RootFs::open(root, options.max_file_bytes)?;
    let mut inventory = Inventory { target: root.display().to_string(), ..Inventory::default() };
    match os::detect(&fs) {
        Ok(os) => inventory.os = os,
        Err(e) => inventory.warnings.push(format!("os detection: {e}")),
    }
    let mut owned = HashSet::new();
    for cataloger in CATALOGERS {
        let ctx = Context { fs: &fs, os: inventory.os.as_ref(), owned: &owned };
        match (cataloger.catalog)(&ctx) {
            Ok(found) => {
                inventory.packages.extend(found.packages);
                inventory.warnings.extend(found.warnings);
                owned.extend(found.owned);
            }
            Err(e) => inventory.warnings.push(format!("{}: {e}", cataloger.id)),
        }
    }
    inventory.packages.sort_by(|a, b| {
        (&a.ecosystem, &a.name, &a.version, &a.location.path).cmp(&(
            &b.ecosystem,
            &b.name,
            &b.version,
            &b.location.path,
        ))
    });
    Ok(inventory)
}
