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
pub mod sbom;

use std::collections::HashSet;
use std::path::Path;

pub use error::{Error, Result};
use vigil_core::inventory::Inventory;

use crate::catalogers::{CATALOGERS, Context};
use crate::fs::RootFs;

/// Caps for hostile targets, and how images are read.
#[derive(Clone)]
pub struct Options {
    /// Largest single file read, in bytes.
    pub max_file_bytes: u64,
    /// Most bytes an image may decompress to, over all its layers.
    pub max_image_bytes: u64,
    /// Most entries over all of an image's layers.
    pub max_image_entries: u64,
    /// The platform to take from a multi-platform image (`linux/amd64` when not given).
    pub platform: Option<vigil_image::Platform>,
    /// Where verified image layers are cached, if anywhere.
    pub layer_cache: Option<vigil_image::LayerCache>,
    /// Credentials and transport for registry pulls.
    pub registry: vigil_image::registry::RegistryOptions,
    /// Told of each image layer read, if anyone is listening.
    pub progress: Option<std::sync::Arc<dyn vigil_core::progress::Progress>>,
    /// Files other scanners read, kept from image layers too, and where the
    /// image's file view is handed over once read.
    pub extra: Option<Extra>,
}

/// What a scanner besides the catalogers needs of an image (configuration
/// and secret checks): the contents of more files, and the file view itself.
#[derive(Clone)]
pub struct Extra {
    /// Names `wanted`: changes whenever it would answer differently (part of the layer cache key).
    pub id: String,
    /// Whether the contents of the file at this absolute path are kept.
    pub wanted: std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>,
    /// Receives the image's file view once its layers are merged.
    pub view: std::sync::Arc<std::sync::Mutex<Option<RootFs>>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("max_file_bytes", &self.max_file_bytes)
            .field("max_image_bytes", &self.max_image_bytes)
            .field("max_image_entries", &self.max_image_entries)
            .field("platform", &self.platform)
            .field("layer_cache", &self.layer_cache)
            .field("registry", &self.registry)
            .field("progress", &self.progress.is_some())
            .field("extra", &self.extra.as_ref().map(|e| &e.id))
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        let image = vigil_image::Limits::default();
        Options {
            max_file_bytes: image.max_file_bytes,
            max_image_bytes: image.max_total_bytes,
            max_image_entries: image.max_entries,
            platform: None,
            layer_cache: None,
            registry: Default::default(),
            progress: None,
            extra: None,
        }
    }
}

impl Options {
    fn image_options(&self) -> vigil_image::ReadOptions<'_> {
        vigil_image::ReadOptions {
            limits: vigil_image::Limits {
                max_file_bytes: self.max_file_bytes,
                max_total_bytes: self.max_image_bytes,
                max_entries: self.max_image_entries,
            },
            platform: self.platform.clone(),
            cache: self.layer_cache.as_ref(),
            progress: self.progress.as_deref(),
        }
    }
}

/// Names what [`wanted`] keeps from image layers, with the cataloger and
/// format ids: bump it when an existing format starts reading other file
/// names, so layers cached under the old selection are not reused.
const SELECTION_REVISION: &str = "3";

/// The inventory of one file: a CycloneDX or SPDX JSON SBOM, or a lockfile
/// or package-metadata file (a `Cargo.lock`, `package-lock.json`,
/// `requirements.txt`, ...) read as its file name says.
pub fn inventory_file(path: &Path, options: &Options) -> Result<Inventory> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.to_ascii_lowercase().ends_with(".json") {
        // CycloneDX and SPDX documents: any JSON file may be one.
        let meta = std::fs::metadata(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        if meta.len() <= options.max_file_bytes {
            let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
            // Looked at key by key first: a 200 MiB package-lock.json is not built into a tree to learn it is no SBOM.
            if sbom::is_sbom(&bytes)
                && let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&bytes)
                && let Some(inventory) = sbom::inventory(&doc, &path.display().to_string())
            {
                return Ok(finish(inventory));
            }
        }
    }
    if let Some(packages) = binary_file(path)? {
        return Ok(finish(Inventory { target: path.display().to_string(), packages, ..Inventory::default() }));
    }
    let shown = path.display().to_string();
    // What a lockfile may refer to (a requirements `-r`) stays inside the
    // scanned root: the current directory when the file is in it, else the file's own.
    let absolute = std::path::absolute(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let cwd = std::env::current_dir().ok().filter(|cwd| absolute.starts_with(cwd));
    let root = cwd.clone().or_else(|| absolute.parent().map(Path::to_owned)).unwrap_or_else(|| "/".into());
    let inside = format!("/{}", absolute.strip_prefix(&root).unwrap_or(&absolute).to_string_lossy());
    let format = catalogers::lang::FORMATS.iter().find(|f| (f.matches)(&inside)).ok_or_else(|| Error::Path {
        path: shown.clone(),
        message: format!(
            "not an image, a directory, a CycloneDX or SPDX JSON SBOM, a Go or cargo-auditable binary, or a lockfile \
             Vigil reads ({})",
            catalogers::lang::format_files()
        ),
    })?;
    let meta = std::fs::metadata(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    if meta.len() > options.max_file_bytes {
        return Err(Error::Path { path: shown, message: "over the file size limit".into() });
    }
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    let fs = RootFs::open(&root, options.max_file_bytes)?;
    let read = |p: &str| fs.read(p).map_err(|e| e.to_string());
    let input = catalogers::lang::Input { path: &inside, bytes: &bytes, read: &read };
    // The message names the format and the file (as the user gave it).
    let parsed = catalogers::lang::parse(format, &input).map_err(|message| Error::Unreadable {
        message: vigil_core::excerpt::clip(&redact(&message.replacen(&inside, &shown, 1))).into_owned(),
    })?;
    // What was read owns its text: the file is let go before packages are made of it.
    drop(bytes);
    let found = catalogers::lang::found(format, &inside, parsed);
    // Paths inside the root, as the user would name them.
    let display = |p: &str| {
        if p == inside {
            shown.clone()
        } else if cwd.is_some() {
            p.trim_start_matches('/').to_owned()
        } else {
            root.join(p.trim_start_matches('/')).display().to_string()
        }
    };
    let mut packages = found.packages;
    for p in &mut packages {
        p.location.path = display(&p.location.path);
    }
    let prefix = format!("{}: {inside}", format.id);
    let warnings =
        found.warnings.into_iter().map(|w| w.replacen(&prefix, &format!("{}: {shown}", format.id), 1)).collect();
    Ok(finish(Inventory { target: shown, packages, warnings, ..Inventory::default() }))
}

/// `message` without credentials.
fn redact(message: &str) -> String {
    vigil_core::redact::credentials(message).into_owned()
}

/// Every inventory leaves this crate through here: credentials are removed
/// from every URL it holds before anyone can write it.
fn finish(mut inventory: Inventory) -> Inventory {
    inventory.redact_credentials();
    // Warnings quoting hostile input are cut to an excerpt.
    for w in &mut inventory.warnings {
        if let std::borrow::Cow::Owned(clipped) = vigil_core::excerpt::clip(w) {
            *w = clipped;
        }
    }
    inventory
}

/// The packages compiled into `path` when it is a Go or cargo-auditable
/// ELF binary; `None` when it is not an ELF file.
fn binary_file(path: &Path) -> Result<Option<Vec<vigil_core::inventory::Package>>> {
    use std::io::Read;
    let io = |source| Error::Io { path: path.to_owned(), source };
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path).map_err(io)?;
    if file.read_exact(&mut magic).is_err() || magic != *b"\x7fELF" {
        return Ok(None);
    }
    let shown = path.display().to_string();
    let sniffed = catalogers::binary::sniff_file(&file).ok_or_else(|| Error::Path {
        path: shown.clone(),
        message: "an ELF binary without Go build information or a cargo-auditable dependency list".into(),
    })?;
    catalogers::binary::packages(&shown, &sniffed).map(Some).map_err(|message| Error::Unreadable { message })
}

/// Whether any cataloger (or OS detection) reads the file at `path`.
pub fn wanted(path: &str) -> bool {
    os::wants(path) || CATALOGERS.iter().any(|c| (c.wants)(path))
}

/// The inventory of a container image: a docker-archive or oci-archive
/// tar file, or an OCI image layout directory, with what was read (format,
/// platform, layers, how many came from the cache). Every package records
/// the layer its database or lockfile came from.
pub fn inventory_image(path: &Path, options: &Options) -> Result<(Inventory, vigil_image::ImageInfo)> {
    inventory_image_named(path, None, options)
}

/// Like [`inventory_image`], for the image called `name` in an archive or
/// layout that holds several (a docker-archive tag, an OCI layout ref name).
pub fn inventory_image_named(
    path: &Path,
    name: Option<&str>,
    options: &Options,
) -> Result<(Inventory, vigil_image::ImageInfo)> {
    let (tree, info) =
        with_selection(options, |selection| vigil_image::open_named(path, name, selection, &options.image_options()))
            .map_err(|e| error::image_error(&path.display().to_string(), e))?;
    let target = match name {
        Some(name) => format!("{}:{name}", path.display()),
        None => path.display().to_string(),
    };
    Ok(image_inventory(tree, info, target, options))
}

/// The inventory of an image in a registry, pulled layer by layer (layers
/// already in the layer cache are not downloaded).
pub fn inventory_registry(
    reference: &vigil_image::registry::Reference,
    options: &Options,
) -> Result<(Inventory, vigil_image::ImageInfo)> {
    let (tree, info) = with_selection(options, |selection| {
        vigil_image::registry::pull(reference, &options.registry, selection, &options.image_options())
    })
    .map_err(|e| error::image_error(&reference.to_string(), e))?;
    let (mut inventory, info) = image_inventory(tree, info, reference.to_string(), options);
    if let Some(image) = &mut inventory.image {
        image.repository = Some(format!("{}/{}", reference.registry, reference.repository));
    }
    Ok((inventory, info))
}

/// Calls `read` with what images keep: the files catalogers (and the
/// `extra` scanners of `options`) read, and the metadata of binaries.
fn with_selection<T>(options: &Options, read: impl FnOnce(&vigil_image::Selection<'_>) -> T) -> T {
    let id = selection_id(options);
    let extra = options.extra.as_ref().map(|e| std::sync::Arc::clone(&e.wanted));
    let keep = move |path: &str| wanted(path) || extra.as_ref().is_some_and(|w| w(path));
    let sniffer = vigil_image::Sniffer { bytes: catalogers::binary::sniff, file: catalogers::binary::sniff_file };
    read(&vigil_image::Selection { wanted: &keep, sniff: Some(sniffer), id: &id })
}

/// The inventory of an image in a local Docker or Podman engine, exported through its API.
pub fn inventory_engine(
    engine: &vigil_image::engine::Engine,
    name: &str,
    options: &Options,
) -> Result<(Inventory, vigil_image::ImageInfo)> {
    let (tree, info) = with_selection(options, |selection| engine.open(name, selection, &options.image_options()))
        .map_err(|e| error::image_error(name, e))?;
    Ok(image_inventory(tree, info, name.to_owned(), options))
}

/// The inventory of the image `name` from the first local Docker or Podman
/// engine that has it; `None` when none does (or none runs).
pub fn inventory_local_image(name: &str, options: &Options) -> Result<Option<(Inventory, vigil_image::ImageInfo)>> {
    use vigil_image::engine::{Engine, Kind};
    let found = with_selection(options, |selection| {
        Engine::open_any(&[Kind::Docker, Kind::Podman], name, selection, &options.image_options())
    })
    .map_err(|e| error::image_error(name, e))?;
    Ok(found.map(|(tree, info)| image_inventory(tree, info, name.to_owned(), options)))
}

fn selection_id(options: &Options) -> String {
    // Every cataloger and format id is part of it, so adding one invalidates layers cached without its files.
    let catalogers: Vec<&str> = CATALOGERS.iter().map(|c| c.id).collect();
    let formats: Vec<&str> = catalogers::lang::FORMATS.iter().map(|f| f.id).collect();
    format!(
        "vigil-inventory {} selection {SELECTION_REVISION} catalogers {} formats {} binaries {} max {}{}",
        env!("CARGO_PKG_VERSION"),
        catalogers.join(","),
        formats.join(","),
        catalogers::binary::kind_ids().join(","),
        options.max_file_bytes,
        options.extra.as_ref().map(|e| format!(" extra {}", e.id)).unwrap_or_default()
    )
}

/// Catalogs a merged image tree; every package names its layer.
fn image_inventory(
    tree: vigil_image::Tree,
    info: vigil_image::ImageInfo,
    target: String,
    options: &Options,
) -> (Inventory, vigil_image::ImageInfo) {
    let fs = RootFs::image(std::sync::Arc::new(tree), options.max_file_bytes);
    let mut inventory = catalog(&fs, target);
    if let Some(extra) = &options.extra
        && let Ok(mut view) = extra.view.lock()
    {
        *view = Some(fs.clone());
    }
    for p in &mut inventory.packages {
        p.location.layer = fs.layer(&p.location.path);
    }
    inventory.warnings.extend(info.warnings.iter().cloned());
    inventory.image = Some(vigil_core::inventory::ImageMeta {
        format: info.format.clone(),
        repository: None,
        manifest_digest: info.manifest_digest.clone(),
        platform: info.platform.clone(),
        layers: info.layers.clone(),
        tags: info.tags.clone(),
    });
    (finish(inventory), info)
}

/// True when `path` is a container image Vigil reads: a tar file holding
/// `manifest.json` or `index.json`, or a directory with `oci-layout`.
pub fn is_image(path: &Path) -> bool {
    if path.is_dir() {
        return path.join("oci-layout").is_file() && path.join("index.json").is_file();
    }
    let Ok(file) = std::fs::File::open(path) else { return false };
    let mut archive = tar_probe(file);
    archive.any(|name| name == "manifest.json" || name == "index.json" || name == "oci-layout")
}

/// The first member names of a tar file (at most 64), empty if it is not one.
fn tar_probe(file: std::fs::File) -> impl Iterator<Item = String> {
    let mut names = Vec::new();
    let mut header = [0u8; 512];
    let mut reader = std::io::BufReader::new(file);
    use std::io::{Read, Seek, SeekFrom};
    for _ in 0..64 {
        if reader.read_exact(&mut header).is_err() || header[257..262] != *b"ustar" {
            break;
        }
        let name_end = header[..100].iter().position(|&b| b == 0).unwrap_or(100);
        names.push(String::from_utf8_lossy(&header[..name_end]).trim_start_matches("./").to_owned());
        let size_field =
            String::from_utf8_lossy(&header[124..136]).trim_matches(|c: char| c == '\0' || c == ' ').to_owned();
        let Ok(size) = u64::from_str_radix(&size_field, 8) else { break };
        if reader.seek(SeekFrom::Current(size.div_ceil(512) as i64 * 512)).is_err() {
            break;
        }
    }
    names.into_iter()
}

/// The inventory of the root filesystem at `root`.
pub fn inventory_dir(root: &Path, options: &Options) -> Result<Inventory> {
    let fs = RootFs::open(root, options.max_file_bytes)?;
    let inventory = catalog(&fs, root.display().to_string());
    if let Some(extra) = &options.extra
        && let Ok(mut view) = extra.view.lock()
    {
        *view = Some(fs);
    }
    Ok(finish(inventory))
}

/// Detects the OS and runs every cataloger over `fs`.
fn catalog(fs: &RootFs, target: String) -> Inventory {
    let mut inventory = Inventory { target, ..Inventory::default() };
    match os::detect(fs) {
        Ok(os) => inventory.os = os,
        Err(e) => inventory.warnings.push(format!("os detection: {e}")),
    }
    let mut owned = HashSet::new();
    for cataloger in CATALOGERS {
        let ctx = Context { fs, os: inventory.os.as_ref(), owned: &owned };
        match (cataloger.catalog)(&ctx) {
            Ok(mut found) => {
                // Moved, not copied: a million packages are never held twice.
                if inventory.packages.is_empty() {
                    inventory.packages = found.packages;
                } else {
                    inventory.packages.append(&mut found.packages);
                }
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
    inventory.packages.shrink_to_fit();
    inventory
}
