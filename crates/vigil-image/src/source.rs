//! Image sources: an OCI image layout directory, or a tar file holding a
//! docker-archive (`manifest.json` with `Layers`) or an OCI layout
//! (oci-archive). Tar members are found once and then read in place, so a
//! multi-gigabyte archive is never copied or extracted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest::{Fetch, diff_ids, layer_sources};
use crate::{ImageInfo, LayerSource, MAX_JSON_BYTES, ReadOptions, Selection, Tree, merge};

/// Where a blob lives: a file of its own, or a member of the outer tar.
enum Blobs {
    Dir(std::path::PathBuf),
    Tar { file: std::path::PathBuf, members: HashMap<String, (u64, u64)> },
}

impl Blobs {
    fn open(&self, name: &str, image: &str) -> Result<Box<dyn Read + Send>> {
        match self {
            Blobs::Dir(root) => {
                let path = Self::inside(root, name, image)?;
                let f = File::open(&path).map_err(|source| Error::Io { path: path.display().to_string(), source })?;
                Ok(Box::new(f))
            }
            Blobs::Tar { file, members } => {
                let &(offset, size) = members.get(name.trim_start_matches("./")).ok_or_else(|| Error::Format {
                    image: image.to_owned(),
                    message: format!("{name} is named by the manifest but missing from the archive"),
                })?;
                let mut f =
                    File::open(file).map_err(|source| Error::Io { path: file.display().to_string(), source })?;
                f.seek(SeekFrom::Start(offset))
                    .map_err(|source| Error::Io { path: file.display().to_string(), source })?;
                Ok(Box::new(f.take(size)))
            }
        }
    }

    /// `root/name` once links are resolved, refused when that leaves the layout directory.
    fn inside(root: &Path, name: &str, image: &str) -> Result<std::path::PathBuf> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| Error::Io { path, source }
        };
        let base = root.canonicalize().map_err(io(root))?;
        let path = root.join(name);
        let real = path.canonicalize().map_err(io(&path))?;
        if !real.starts_with(&base) {
            return Err(Error::Format {
                image: image.to_owned(),
                message: format!("{name} is a link to {}, outside the layout; not followed", real.display()),
            });
        }
        Ok(real)
    }

    fn json(&self, name: &str, image: &str) -> Result<Value> {
        let mut text = Vec::new();
        self.open(name, image)?
            .take(MAX_JSON_BYTES)
            .read_to_end(&mut text)
            .map_err(|source| Error::Io { path: format!("{image}:{name}"), source })?;
        serde_json::from_slice(&text)
            .map_err(|e| Error::Format { image: image.to_owned(), message: format!("{name}: not valid JSON: {e}") })
    }

    /// A blob's stored size, when cheap to tell.
    fn size(&self, name: &str) -> Option<u64> {
        match self {
            Blobs::Dir(root) => std::fs::metadata(root.join(name)).ok().map(|m| m.len()),
            Blobs::Tar { members, .. } => members.get(name.trim_start_matches("./")).map(|&(_, size)| size),
        }
    }

    fn exists(&self, name: &str) -> bool {
        match self {
            Blobs::Dir(root) => root.join(name).is_file(),
            Blobs::Tar { members, .. } => members.contains_key(name),
        }
    }
}

/// The member names of a tar file with their data offsets and sizes.
fn tar_members(path: &Path, image: &str) -> Result<HashMap<String, (u64, u64)>> {
    let file = File::open(path).map_err(|source| Error::Io { path: image.to_owned(), source })?;
    let mut archive = tar::Archive::new(file);
    let mut members = HashMap::new();
    let entries = archive
        .entries_with_seek()
        .map_err(|e| Error::Format { image: image.to_owned(), message: format!("not a tar archive: {e}") })?;
    for entry in entries {
        let entry = entry
            .map_err(|e| Error::Format { image: image.to_owned(), message: format!("corrupt tar archive: {e}") })?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).trim_start_matches("./").to_owned();
        members.insert(name, (entry.raw_file_position(), entry.size()));
    }
    Ok(members)
}

/// Reads a JSON blob of an OCI layout, checking its digest.
fn verified_json(blobs: &Blobs, digest: &Digest, image: &str) -> Result<Value> {
    let name = digest.blob_path();
    let mut text = Vec::new();
    blobs
        .open(&name, image)?
        .take(MAX_JSON_BYTES)
        .read_to_end(&mut text)
        .map_err(|source| Error::Io { path: format!("{image}:{name}"), source })?;
    if !digest.matches(&text) {
        return Err(Error::Format {
            image: image.to_owned(),
            message: format!("{name}: content does not match its digest"),
        });
    }
    serde_json::from_slice(&text)
        .map_err(|e| Error::Format { image: image.to_owned(), message: format!("{name}: not valid JSON: {e}") })
}

/// The layers of a docker-archive, from `manifest.json` and the image config.
fn docker_layers(blobs: &Blobs, image: &str, tag: Option<&str>, info: &mut ImageInfo) -> Result<Vec<LayerSource>> {
    let bad = |message: String| Error::Format { image: image.to_owned(), message };
    let manifest = blobs.json("manifest.json", image)?;
    let images =
        manifest.as_array().filter(|m| !m.is_empty()).ok_or_else(|| bad("manifest.json lists no image".into()))?;
    let tags_of = |m: &Value| -> Vec<String> {
        m["RepoTags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect()
    };
    let all_tags = || images.iter().flat_map(tags_of).collect::<Vec<_>>().join(", ");
    let first = match tag {
        Some(tag) => images
            .iter()
            .find(|m| tags_of(m).iter().any(|t| t == tag || t.rsplit('/').next() == Some(tag)))
            .ok_or_else(|| bad(format!("no image tagged {tag} in this archive; it holds {}", all_tags())))?,
        None if images.len() > 1 => {
            return Err(bad(format!(
                "the archive holds {} images ({}); choose one with PATH:TAG",
                images.len(),
                all_tags()
            )));
        }
        None => &images[0],
    };
    info.tags =
        first["RepoTags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect();
    let names: Vec<&str> = first["Layers"]
        .as_array()
        .ok_or_else(|| bad("manifest.json has no Layers".into()))?
        .iter()
        .map(|l| l.as_str().ok_or_else(|| bad("manifest.json: a layer name is not a string".into())))
        .collect::<Result<_>>()?;
    let config = match first["Config"].as_str() {
        Some(name) => blobs.json(name, image)?,
        None => Value::Null,
    };
    let diff_ids = diff_ids(&config, names.len());
    if diff_ids.is_none() {
        info.warnings.push(format!(
            "{image}: the image config lists no diff_id for each layer, so layers cannot be verified or cached"
        ));
    }
    Ok(names
        .iter()
        .enumerate()
        .map(|(i, &name)| {
            // Docker 25+ writes layers as OCI blobs named by their digest.
            let blob = name.strip_prefix("blobs/").and_then(|b| Digest::parse(&b.replacen('/', ":", 1)));
            LayerSource {
                id: blob
                    .as_ref()
                    .or(diff_ids.as_ref().map(|d| &d[i]))
                    .map_or_else(|| name.to_owned(), Digest::to_string),
                name: name.to_owned(),
                blob,
                diff_id: diff_ids.as_ref().map(|d| d[i].clone()),
                size: blobs.size(name),
            }
        })
        .collect())
}

/// The layers of an OCI layout (directory or archive): index, then the
/// manifest for the platform, then the config, each verified.
fn oci_layers(
    blobs: &Blobs,
    image: &str,
    reference: Option<&str>,
    options: &ReadOptions<'_>,
    info: &mut ImageInfo,
) -> Result<Vec<LayerSource>> {
    let bad = |message: String| Error::Format { image: image.to_owned(), message };
    if !blobs.exists("index.json") {
        return Err(bad("neither a docker-archive (manifest.json) nor an OCI layout (index.json)".into()));
    }
    let mut index = blobs.json("index.json", image)?;
    // Images in a layout are named by the `org.opencontainers.image.ref.name` annotation (skopeo's oci:DIR:REF).
    let ref_name = |m: &Value| m["annotations"]["org.opencontainers.image.ref.name"].as_str().map(str::to_owned);
    let entries = index["manifests"].as_array().cloned().unwrap_or_default();
    let names: Vec<String> = entries.iter().filter_map(ref_name).collect();
    match reference {
        Some(wanted) => {
            let chosen: Vec<Value> = entries.into_iter().filter(|m| ref_name(m).as_deref() == Some(wanted)).collect();
            if chosen.is_empty() {
                return Err(bad(format!("no image named {wanted} in this layout; it holds {}", names.join(", "))));
            }
            index["manifests"] = Value::Array(chosen);
        }
        None if names.len() > 1 && entries.iter().all(|m| m["platform"].is_null()) => {
            return Err(bad(format!(
                "the layout holds {} images ({}); choose one with PATH:NAME",
                names.len(),
                names.join(", ")
            )));
        }
        None => {}
    }
    let json = |digest: &Digest| verified_json(blobs, digest, image);
    let fetch = Fetch { manifest: &json, config: &json };
    layer_sources(index, options.platform.as_ref(), image, &fetch, Digest::blob_path, info)
}

/// Opens the image at `path` (a docker-archive or oci-archive tar file, or
/// an OCI layout directory), verifies and merges its layers.
pub fn open(path: &Path, selection: &Selection<'_>, options: &ReadOptions<'_>) -> Result<(Tree, ImageInfo)> {
    open_named(path, None, selection, options)
}

/// Like [`open`], for the image called `name` in an archive or layout that
/// holds several: a docker-archive tag (`app:1`) or an OCI layout's
/// `org.opencontainers.image.ref.name`.
pub fn open_named(
    path: &Path,
    name: Option<&str>,
    selection: &Selection<'_>,
    options: &ReadOptions<'_>,
) -> Result<(Tree, ImageInfo)> {
    let image = path.display().to_string();
    let (blobs, format) = if path.is_dir() {
        (Blobs::Dir(path.to_owned()), "oci-layout")
    } else {
        let members = tar_members(path, &image)?;
        let format = if members.contains_key("manifest.json") { "docker-archive" } else { "oci-archive" };
        (Blobs::Tar { file: path.to_owned(), members }, format)
    };
    let mut info = ImageInfo { format: format.to_owned(), ..ImageInfo::default() };
    let layers = if format == "docker-archive" {
        docker_layers(&blobs, &image, name, &mut info)?
    } else {
        oci_layers(&blobs, &image, name, options, &mut info)?
    };
    let tree = merge(&image, &layers, &|layer| blobs.open(&layer.name, &image), selection, options, &mut info)?;
    Ok((tree, info))
}
