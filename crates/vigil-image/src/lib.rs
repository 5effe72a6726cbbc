//! Container images as one file tree: the layers of a docker-archive
//! (`docker save`, `podman save`), an OCI image layout directory, an
//! oci-archive, an image in a registry ([`registry`]) or in a local Docker or
//! Podman engine ([`engine`]) are verified
//! against their digests and applied in order, with whiteouts (`.wh.NAME`) and opaque
//! directories (`.wh..wh..opq`), into a [`Tree`] that remembers, for every
//! path, its kind and the layer it came from, and keeps the contents of the
//! files a caller asked for. Nothing is extracted to disk. A [`LayerCache`]
//! keeps what each verified layer does, so rescans skip the layer walk.
//!
//! Hostile input: entry names are normalised (`./`, `..` cannot climb out,
//! absolute names are made relative), link targets are kept as data and
//! resolved only inside the tree, decompressed bytes and entry counts are
//! capped, and every failure names the image, layer and entry.
//!
//! This crate parses no packages.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
pub mod credentials;
mod digest;
pub mod engine;
mod error;
mod layers;
mod manifest;
pub mod registry;
mod source;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use vigil_core::progress::{NoProgress, Progress};

pub use cache::LayerCache;
pub use digest::Digest;
pub use error::{Error, Result};
pub use manifest::Platform;
pub use source::{open, open_named};

use crate::layers::{Budget, Expected, Layer, read_layer};

/// Largest manifest, index or config document read.
const MAX_JSON_BYTES: u64 = 16 << 20;

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
        /// What the selection's sniffer kept of an executable's contents.
        sniffed: Option<Arc<Vec<u8>>>,
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

/// Keeps what matters of an executable's contents (embedded build metadata,
/// say), or nothing: from its bytes, or from a file it was spooled to.
#[derive(Clone, Copy)]
pub struct Sniffer {
    /// For executables up to [`SPOOL_EXECUTABLES_ABOVE`] bytes, read into memory.
    pub bytes: fn(&[u8]) -> Option<Vec<u8>>,
    /// For larger ones, spooled to an anonymous temporary file so memory stays flat.
    pub file: fn(&std::fs::File) -> Option<Vec<u8>>,
}

/// Executables larger than this are spooled to a temporary file for the
/// sniffer instead of being held in memory (layers are read four at a time).
pub const SPOOL_EXECUTABLES_ABOVE: u64 = 32 << 20;

/// Which files' contents to keep, and a name for that choice: cached
/// layers are only reused for the same `id`.
#[derive(Clone, Copy)]
pub struct Selection<'a> {
    /// Whether the contents of the file at this absolute path are kept.
    pub wanted: &'a (dyn Fn(&str) -> bool + Sync),
    /// Called with the contents of every executable ELF file (any `x` bit,
    /// up to the file size cap) that is not wanted; what it returns is kept
    /// as the file's `sniffed` bytes (embedded build metadata, say).
    pub sniff: Option<Sniffer>,
    /// Changes whenever `wanted` or `sniff` would answer differently.
    pub id: &'a str,
}

/// How to read an image.
#[derive(Clone, Default)]
pub struct ReadOptions<'a> {
    /// Caps for hostile images.
    pub limits: Limits,
    /// The platform to pick from a multi-platform index (`linux/amd64` when not given).
    pub platform: Option<Platform>,
    /// Where verified layers are cached, if anywhere.
    pub cache: Option<&'a LayerCache>,
    /// Told of each layer read (its stored bytes), if anyone is listening.
    pub progress: Option<&'a dyn Progress>,
}

/// What the image is and how it was read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageInfo {
    /// `docker-archive`, `oci-layout`, `oci-archive`, `registry` or `engine`.
    pub format: String,
    /// The image manifest's digest, when it was chosen from an index or pulled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// The platform chosen from a multi-platform index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Layer digests (or names), bottom first.
    pub layers: Vec<String>,
    /// Tags recorded in a docker-archive.
    pub tags: Vec<String>,
    /// How many layers came from the layer cache.
    pub cached_layers: usize,
    /// Problems that did not stop the read (an unverifiable layer, a cache that could not be written).
    pub warnings: Vec<String>,
}

/// One layer to read: how the source finds it, how it is shown, and the
/// digests its content must have.
pub(crate) struct LayerSource {
    /// The member name, blob path or digest the source opens.
    pub name: String,
    /// The digest (or name) recorded as every file's layer.
    pub id: String,
    /// The digest of the stored (possibly compressed) blob.
    pub blob: Option<Digest>,
    /// The digest of the uncompressed tar; the cache key.
    pub diff_id: Option<Digest>,
    /// The stored size in bytes, when the manifest or archive says.
    pub size: Option<u64>,
}

/// Reports the bytes read through it.
pub(crate) struct Reported<'a, R> {
    pub inner: R,
    pub progress: &'a dyn Progress,
}

impl<R: Read> Read for Reported<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Opens a layer's stored bytes; called from the threads that read layers.
pub(crate) type OpenLayer<'a> = dyn Fn(&LayerSource) -> Result<Box<dyn Read + Send>> + Sync + 'a;

/// Most layers read at once: decompression is CPU-bound and downloads
/// overlap, as `docker pull` runs three at a time.
const MAX_PARALLEL_LAYERS: usize = 4;

/// Reads (or takes from the cache) every layer and merges them, bottom
/// first. Layers not in the cache are read on several threads at once;
/// the first error, in layer order, is returned.
pub(crate) fn merge(
    image: &str,
    layers: &[LayerSource],
    open: &OpenLayer<'_>,
    selection: &Selection<'_>,
    options: &ReadOptions<'_>,
    info: &mut ImageInfo,
) -> Result<Tree> {
    let mut done: Vec<Option<Layer>> = layers
        .iter()
        .map(|l| options.cache.zip(l.diff_id.as_ref()).and_then(|(cache, id)| cache.get(id, selection.id)))
        .collect();
    info.layers = layers.iter().map(|l| l.id.clone()).collect();
    info.cached_layers = done.iter().filter(|d| d.is_some()).count();
    let todo: Vec<usize> = (0..layers.len()).filter(|&i| done[i].is_none()).collect();
    let budget = Budget { bytes: AtomicU64::new(0), entries: AtomicU64::new(0), limits: options.limits };
    let progress = options.progress.unwrap_or(&NoProgress);
    let total = todo.iter().map(|&i| layers[i].size).sum::<Option<u64>>();
    let plural = if todo.len() == 1 { "" } else { "s" };
    if !todo.is_empty() {
        progress.begin(&format!("read {} layer{plural}", todo.len()), total, true);
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, Result<Layer>)>> = Mutex::new(Vec::new());
    let cache_failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let read_one = |i: usize| -> Result<Layer> {
        let layer = &layers[i];
        let expected = Expected { blob: layer.blob.as_ref(), diff_id: layer.diff_id.as_ref() };
        let reader = Reported { inner: open(layer)?, progress };
        let read = read_layer(reader, &layer.id, image, &expected, selection, &budget)?;
        if let Some((cache, diff_id)) = options.cache.zip(layer.diff_id.as_ref())
            && let Err(e) = cache.put(diff_id, selection.id, &read)
            && let Ok(mut failures) = cache_failures.lock()
        {
            failures.push(format!("could not write the layer cache in {}: {e}", cache.dir().display()));
        }
        Ok(read)
    };
    let workers = todo.len().min(MAX_PARALLEL_LAYERS).min(std::thread::available_parallelism().map_or(1, |n| n.get()));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let Some(&i) = todo.get(next.fetch_add(1, Ordering::Relaxed)) else { break };
                    let result = read_one(i);
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    if let Ok(mut r) = results.lock() {
                        r.push((i, result));
                    }
                }
            });
        }
    });
    if !todo.is_empty() {
        progress.end();
    }
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    for (i, result) in results {
        done[i] = Some(result?);
    }
    info.warnings.extend(cache_failures.into_inner().unwrap_or_default());
    let mut tree = Tree::default();
    for (layer, read) in layers.iter().zip(&done) {
        let Some(read) = read else {
            return Err(Error::Layer {
                image: image.to_owned(),
                layer: layer.id.clone(),
                message: "was not read (an earlier error stopped the reads)".into(),
            });
        };
        tree.apply(read, &layer.id);
    }
    Ok(tree)
}
