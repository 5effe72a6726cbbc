//! Container images as one file tree: the layers of a docker-archive
//! (`docker save`, `podman save`), an OCI image layout directory or an
//! oci-archive are applied in order, with whiteouts (`.wh.NAME`) and opaque
//! directories (`.wh..wh..opq`), into a [`Tree`] that remembers, for every
//! path, its kind and the layer it came from, and keeps the contents of the
//! files a caller asked for. Nothing is extracted to disk.
//!
//! Hostile input: entry names are normalised (`./`, `..` cannot climb out,
//! absolute names are made relative), link targets are kept as data and
//! resolved only inside the tree, decompressed bytes and entry counts are
//! capped, and every failure names the image, layer and entry.
//!
//! This crate parses no packages.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod layers;
mod source;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use error::{Error, Result};
pub use source::{ImageInfo, open};

/// Caps for hostile images.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most decompressed bytes read over all layers.
    pub max_total_bytes: u64,
    /// Most entries over all layers.
    pub max_entries: u64,
    /// Largest file whose contents are kept.
    pub max_file_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_total_bytes: 64 << 30, max_entries: 10_000_000, max_file_bytes: 512 << 20 }
    }
}

/// What a path is in the merged tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A directory.
    Dir,
    /// A regular file; `data` is kept only for wanted files.
    File {
        /// Size in bytes.
        size: u64,
        /// Contents, when the caller wanted this path.
        data: Option<Arc<Vec<u8>>>,
    },
    /// A symbolic link to `target` (as written in the image).
    Symlink(String),
}

/// A path's node and the layer (digest) that put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What it is.
    pub node: Node,
    /// The layer's digest (`sha256:...`) or, in a docker-archive without
    /// digests, its file name.
    pub layer: String,
}

/// The merged file tree of an image: absolute paths (`/etc/os-release`) to entries.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// Every path, sorted.
    pub entries: BTreeMap<String, Entry>,
}
