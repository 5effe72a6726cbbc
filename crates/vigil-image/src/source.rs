//! Image sources: an OCI image layout directory, or a tar file holding a
//! docker-archive (`manifest.json` with `Layers`) or an OCI layout
//! (oci-archive). Tar members are found once and then read in place, so a
//! multi-gigabyte archive is never copied or extracted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::layers::{Budget, apply};
use crate::{Limits, Tree};

/// What the image is.
#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    /// `docker-archive`, `oci-layout` or `oci-archive`.
    pub format: String,
    /// Layer digests (or names), bottom first.
    pub layers: Vec<String>,
    /// Tags recorded in a docker-archive.
    pub tags: Vec<String>,
}

/// Where a blob lives: a file of its own, or a member of the outer tar.
enum Blobs {
    Dir(std::path::PathBuf),
    Tar { file: std::path::PathBuf, members: HashMap<String, (u64, u64)> },
}

impl Blobs {
    fn open(&self, name: &str, image: &str) -> Result<Box<dyn Read>> {
        match self {
            Blobs::Dir(root) => {
                let path = root.join(name);
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

    fn json(&self, name: &str, image: &str) -> Result<Value> {
        let mut text = Vec::new();
        self.open(name, image)?
            .take(64 << 20)
            .read_to_end(&mut text)
            .map_err(|source| Error::Io { path: format!("{image}:{name}"), source })?;
        serde_json::from_slice(&text)
            .map_err(|e| Error::Format { image: image.to_owned(), message: format!("{name}: not valid JSON: {e}") })
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

/// `blobs/sha256/HEX` for a digest.
fn blob_path(digest: &str) -> Option<String> {
    let (algorithm, hex) = digest.split_once(':')?;
    (!hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && algorithm.bytes().all(|b| b.is_ascii_alphanumeric()))
    .then(|| format!("blobs/{algorithm}/{hex}"))
}

/// Picks the image manifest of an OCI index: the one for `linux/amd64`
/// when several platforms are offered, following nested indexes.
fn oci_manifest(blobs: &Blobs, index: &Value, image: &str, depth: usize) -> Result<Value> {
    let bad = |message: String| Error::Format { image: image.to_owned(), message };
    let manifests = index["manifests"].as_array().ok_or_else(|| bad("index without manifests".into()))?;
    let chosen = manifests
        .iter()
        .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
        .or_else(|| manifests.iter().find(|m| m["platform"]["architecture"] != "unknown"))
        .ok_or_else(|| bad("index lists no image".into()))?;
    let digest = chosen["digest"].as_str().ok_or_else(|| bad("manifest without digest".into()))?;
    let path = blob_path(digest).ok_or_else(|| bad(format!("malformed digest {digest:?}")))?;
    let doc = blobs.json(&path, image)?;
    if doc.get("manifests").is_some() {
        if depth > 4 {
            return Err(bad("indexes nested too deeply".into()));
        }
        return oci_manifest(blobs, &doc, image, depth + 1);
    }
    Ok(doc)
}

/// Opens the image at `path` and merges its layers. `wanted` names the
/// paths whose contents are kept.
pub fn open(path: &Path, wanted: &dyn Fn(&str) -> bool, limits: Limits) -> Result<(Tree, ImageInfo)> {
    let image = path.display().to_string();
    let bad = |message: String| Error::Format { image: image.clone(), message };
    let (blobs, format) = if path.is_dir() {
        (Blobs::Dir(path.to_owned()), "oci-layout")
    } else {
        let members = tar_members(path, &image)?;
        let format = if members.contains_key("manifest.json") { "docker-archive" } else { "oci-archive" };
        (Blobs::Tar { file: path.to_owned(), members }, format)
    };
    let mut tags = Vec::new();
    let layers: Vec<(String, String)> = if format == "docker-archive" {
        let manifest = blobs.json("manifest.json", &image)?;
        let first =
            manifest.as_array().and_then(|m| m.first()).ok_or_else(|| bad("manifest.json lists no image".into()))?;
        tags =
            first["RepoTags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect();
        first["Layers"]
            .as_array()
            .ok_or_else(|| bad("manifest.json has no Layers".into()))?
            .iter()
            .filter_map(Value::as_str)
            .map(|l| {
                let id = l
                    .strip_prefix("blobs/")
                    .and_then(|b| b.split_once('/'))
                    .map_or_else(|| l.to_owned(), |(a, h)| format!("{a}:{h}"));
                (l.to_owned(), id)
            })
            .collect()
    } else {
        if !blobs.exists("index.json") {
            return Err(bad("neither a docker-archive (manifest.json) nor an OCI layout (index.json)".into()));
        }
        let index = blobs.json("index.json", &image)?;
        let manifest = oci_manifest(&blobs, &index, &image, 0)?;
        manifest["layers"]
            .as_array()
            .ok_or_else(|| bad("image manifest has no layers".into()))?
            .iter()
            .map(|l| {
                let digest = l["digest"].as_str().unwrap_or_default().to_owned();
                blob_path(&digest)
                    .map(|p| (p, digest.clone()))
                    .ok_or_else(|| bad(format!("malformed layer digest {digest:?}")))
            })
            .collect::<Result<_>>()?
    };
    let format = if format == "oci-layout" || path.is_dir() { "oci-layout" } else { format };
    let mut tree = Tree::default();
    let mut budget = Budget { bytes: 0, entries: 0, limits };
    for (name, id) in &layers {
        let reader = blobs.open(name, &image)?;
        apply(&mut tree, reader, id, &image, wanted, &mut budget)?;
    }
    Ok((tree, ImageInfo { format: format.to_owned(), layers: layers.into_iter().map(|(_, id)| id).collect(), tags }))
}
