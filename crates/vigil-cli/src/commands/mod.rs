//! One module per command group; each turns parsed arguments into calls on
//! the library crates and prints the result.

pub mod cache;
pub mod client;
pub mod comply;
pub mod db;
pub mod diff;
pub mod explain;
pub mod fixplan;
pub mod help;
pub mod sbom;
pub mod scan;
pub mod server;
pub mod version;
pub mod webscan;

use std::path::Path;

use anyhow::{Context, Result};
use vigil_core::inventory::Inventory;
use vigil_image::engine::{Engine, Kind};
use vigil_image::registry::{Credentials, Reference, RegistryOptions};

use crate::cli::{CacheDirArg, ImageArgs};

/// The layer cache: `--cache-dir`/`VIGIL_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/vigil`, else `~/.cache/vigil`; layers live in `layers/`.
pub fn layer_cache(dir: &CacheDirArg) -> Result<vigil_image::LayerCache> {
    let dir = dir
        .cache_dir
        .clone()
        .or_else(|| crate::config::xdg("XDG_CACHE_HOME", ".cache").map(|d| d.join("vigil")))
        .context("cannot tell where the layer cache lives: set --cache-dir, VIGIL_CACHE_DIR or HOME")?;
    Ok(vigil_image::LayerCache::new(dir.join("layers")))
}

/// The inventory of a target: a path (a container image as docker-archive,
/// oci-archive or OCI layout; a directory; a lockfile or SBOM) or, when no
/// such path exists, an image reference pulled from its registry.
pub fn inventory(target: &str, image: &ImageArgs, quiet: bool) -> Result<Inventory> {
    inventory_with(target, image, quiet, None)
}

/// Like [`inventory`], also keeping what `extra` scanners read and handing them the file view.
pub fn inventory_with(
    target: &str,
    image: &ImageArgs,
    quiet: bool,
    extra: Option<vigil_inventory::Extra>,
) -> Result<Inventory> {
    let options = vigil_inventory::Options {
        platform: image.platform.clone(),
        layer_cache: if image.no_cache { None } else { Some(layer_cache(&image.cache)?) },
        registry: RegistryOptions {
            credentials: image
                .username
                .clone()
                .zip(image.password.clone())
                .map(|(username, password)| Credentials { username, password }),
            plain_http: image.insecure_registry,
            mirrors: image.registry_mirror.clone(),
        },
        progress: Some(std::sync::Arc::new(crate::progress::Bars::new(quiet))),
        max_file_bytes: image.max_file_mib.saturating_mul(1 << 20),
        max_image_bytes: image.max_image_mib.saturating_mul(1 << 20),
        max_image_entries: image.max_image_entries,
        extra,
    };
    let path = Path::new(target);
    let engine_prefix = [("docker:", Kind::Docker), ("podman:", Kind::Podman)]
        .into_iter()
        .find(|(prefix, _)| target.starts_with(prefix) && !path.exists());
    let (inventory, info) = if let Some((prefix, kind)) = engine_prefix {
        let name = &target[prefix.len()..];
        let engine = Engine::find(&[kind]).with_context(|| {
            format!(
                "{target}: no {} socket found; start the engine (for Podman: podman system service), or set {}",
                prefix.trim_end_matches(':'),
                if kind == Kind::Docker { "DOCKER_HOST" } else { "CONTAINER_HOST" }
            )
        })?;
        vigil_inventory::inventory_engine(&engine, name, &options)?
    } else if let Some((archive, name)) = (!path.exists())
        .then(|| target.match_indices(':').map(|(i, _)| (&target[..i], &target[i + 1..])))
        .into_iter()
        .flatten()
        .find(|(archive, _)| vigil_inventory::is_image(Path::new(archive)))
    {
        // PATH:NAME, one image of an archive or layout holding several.
        vigil_inventory::inventory_image_named(Path::new(archive), Some(name), &options)?
    } else if vigil_inventory::is_image(path) {
        vigil_inventory::inventory_image(path, &options)?
    } else if path.is_dir() {
        return Ok(vigil_inventory::inventory_dir(path, &options)?);
    } else if path.exists() {
        return Ok(vigil_inventory::inventory_file(path, &options)?);
    } else {
        let forced = target.strip_prefix("docker://").or_else(|| target.strip_prefix("registry:"));
        let name = forced.unwrap_or(target);
        let reference =
            Reference::parse(name).map_err(|e| anyhow::anyhow!("{target}: no such file or directory, and {e}"))?;
        // As `docker run` would: an image the local engine has is the one scanned.
        let local = match forced {
            Some(_) => None,
            None => vigil_inventory::inventory_local_image(name, &options)?,
        };
        match local {
            Some(found) => found,
            None => vigil_inventory::inventory_registry(&reference, &options)
                .context("not a file or directory here, and pulling it from its registry failed")?,
        }
    };
    if !quiet {
        let platform = info.platform.as_deref().map(|p| format!(", {p}")).unwrap_or_default();
        let digest = info.manifest_digest.as_deref().map(|d| format!(", manifest {d}")).unwrap_or_default();
        let layers = info.layers.len();
        let plural = if layers == 1 { "" } else { "s" };
        eprintln!(
            "{target}: {}{platform}{digest}; {layers} layer{plural}, {} from the layer cache",
            info.format, info.cached_layers
        );
    }
    Ok(inventory)
}
