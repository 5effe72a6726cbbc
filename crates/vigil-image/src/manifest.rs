//! OCI and Docker (schema 2) manifests, indexes and image configs, wherever
//! they come from (an OCI layout or a registry): choosing the image for a
//! platform from an index, and reading the config and layer descriptors.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::{ImageInfo, LayerSource};

/// An image platform: `os/architecture[/variant]`, as `--platform` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, `windows`, ...
    pub os: String,
    /// `amd64`, `arm64`, `arm`, `s390x`, ...
    pub architecture: String,
    /// `v7`, `v8`, ... when it matters.
    pub variant: Option<String>,
}

impl Default for Platform {
    /// `linux/amd64`: the same image on every machine Vigil runs on, so a
    /// scan's result does not depend on the CI runner's architecture.
    fn default() -> Self {
        Platform { os: "linux".into(), architecture: "amd64".into(), variant: None }
    }
}

impl FromStr for Platform {
    type Err = String;

    /// `linux/arm64`, `linux/arm/v7`, or an architecture alone (`arm64`, on linux).
    fn from_str(text: &str) -> std::result::Result<Platform, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !parts.iter().all(ok) {
            return Err(format!("{text:?} is not a platform such as linux/amd64 or linux/arm/v7"));
        }
        match parts[..] {
            [arch] => Ok(Platform { os: "linux".into(), architecture: arch.into(), variant: None }),
            [os, arch] => Ok(Platform { os: os.into(), architecture: arch.into(), variant: None }),
            [os, arch, variant] => {
                Ok(Platform { os: os.into(), architecture: arch.into(), variant: Some(variant.into()) })
            }
            _ => Err(format!("{text:?} is not a platform such as linux/amd64 or linux/arm/v7")),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Platform {
    fn of(descriptor: &Value) -> Option<Platform> {
        let p = &descriptor["platform"];
        Some(Platform {
            os: p["os"].as_str()?.to_owned(),
            architecture: p["architecture"].as_str()?.to_owned(),
            variant: p["variant"].as_str().map(str::to_owned),
        })
    }

    /// The variant, with arm64's implied `v8` made explicit (as Docker normalises it).
    fn variant(&self) -> Option<&str> {
        self.variant.as_deref().or((self.architecture == "arm64").then_some("v8"))
    }

    /// Whether an image for `offered` runs here; a requested variant must match.
    fn accepts(&self, offered: &Platform) -> bool {
        self.os == offered.os
            && self.architecture == offered.architecture
            && (self.variant.is_none() || self.variant() == offered.variant())
    }
}

/// A content descriptor: what a manifest says about a blob.
#[derive(Debug, Clone)]
pub(crate) struct Descriptor {
    pub digest: Digest,
    pub size: Option<u64>,
}

fn descriptor(value: &Value, what: &str, image: &str) -> Result<Descriptor> {
    let text = value["digest"].as_str().unwrap_or_default();
    let digest = Digest::parse(text).ok_or_else(|| Error::Format {
        image: image.to_owned(),
        message: format!("{what} has a malformed digest {text:?} (expected sha256:<64 hex digits>)"),
    })?;
    Ok(Descriptor { digest, size: value["size"].as_u64() })
}

/// Whether a manifest document is an index (OCI index or Docker manifest list).
fn is_index(doc: &Value) -> bool {
    doc.get("manifests").is_some()
}

/// The manifest to read from an index: the one for `platform` when given
/// (an error listing what is offered otherwise), else the one for the
/// default platform, else the only real image in it.
pub(crate) fn choose(
    index: &Value,
    platform: Option<&Platform>,
    image: &str,
) -> Result<(Descriptor, Option<Platform>)> {
    let bad = |message: String| Error::Format { image: image.to_owned(), message };
    let manifests = index["manifests"].as_array().ok_or_else(|| bad("index without manifests".into()))?;
    // Attestation manifests in buildx indexes carry the platform unknown/unknown.
    let images: Vec<(&Value, Option<Platform>)> = manifests
        .iter()
        .map(|m| (m, Platform::of(m)))
        .filter(|(_, p)| p.as_ref().is_none_or(|p| p.os != "unknown"))
        .collect();
    let wanted = platform.cloned().unwrap_or_default();
    let found = images.iter().find(|(_, p)| p.as_ref().is_some_and(|p| wanted.accepts(p)));
    let chosen = match (found, platform) {
        (Some(found), _) => found,
        (None, None) if images.len() == 1 => &images[0],
        (None, _) => {
            let offered: Vec<String> = images.iter().filter_map(|(_, p)| p.as_ref().map(Platform::to_string)).collect();
            return Err(bad(format!(
                "no image for {wanted} in this index; it offers {}; choose one with --platform",
                if offered.is_empty() { "none with a platform".to_owned() } else { offered.join(", ") }
            )));
        }
    };
    Ok((descriptor(chosen.0, "an index entry", image)?, chosen.1.clone()))
}

/// Where an image's documents come from: each call returns the JSON blob
/// with that digest, already checked against it.
pub(crate) struct Fetch<'a> {
    /// An image manifest or index.
    pub manifest: &'a dyn Fn(&Digest) -> Result<Value>,
    /// An image config.
    pub config: &'a dyn Fn(&Digest) -> Result<Value>,
}

/// Follows `doc` (an index or an image manifest) down to the image for the
/// platform and lists its layers; `name` says how the source opens a blob.
/// Records the chosen platform and manifest digest in `info`.
pub(crate) fn layer_sources(
    mut doc: Value,
    platform: Option<&Platform>,
    image: &str,
    fetch: &Fetch<'_>,
    name: fn(&Digest) -> String,
    info: &mut ImageInfo,
) -> Result<Vec<LayerSource>> {
    let mut depth = 0;
    while is_index(&doc) {
        depth += 1;
        if depth > 4 {
            return Err(Error::Format { image: image.to_owned(), message: "indexes nested too deeply".into() });
        }
        let (chosen, chosen_platform) = choose(&doc, platform, image)?;
        if let Some(p) = chosen_platform {
            info.platform = Some(p.to_string());
        }
        info.manifest_digest = Some(chosen.digest.to_string());
        doc = (fetch.manifest)(&chosen.digest)?;
    }
    let manifest = image_manifest(&doc, image)?;
    let config = (fetch.config)(&manifest.config.digest)?;
    let diff_ids = diff_ids(&config, manifest.layers.len());
    Ok(manifest
        .layers
        .into_iter()
        .enumerate()
        .map(|(i, l)| LayerSource {
            id: l.digest.to_string(),
            name: name(&l.digest),
            blob: Some(l.digest),
            diff_id: diff_ids.as_ref().map(|d| d[i].clone()),
            size: l.size,
        })
        .collect())
}

/// The config and layer descriptors of an image manifest.
struct ImageManifest {
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// Reads an OCI or Docker schema 2 image manifest.
fn image_manifest(doc: &Value, image: &str) -> Result<ImageManifest> {
    let bad = |message: String| Error::Format { image: image.to_owned(), message };
    if doc["schemaVersion"] == 1 {
        return Err(bad("Docker schema 1 manifests (deprecated since 2017) are not supported".into()));
    }
    let config = descriptor(&doc["config"], "the image config", image)?;
    let layers = doc["layers"]
        .as_array()
        .ok_or_else(|| bad("image manifest has no layers".into()))?
        .iter()
        .enumerate()
        .map(|(i, l)| descriptor(l, &format!("layer {i}"), image))
        .collect::<Result<Vec<_>>>()?;
    Ok(ImageManifest { config, layers })
}

/// The digests of the uncompressed layers (`rootfs.diff_ids`) of an image
/// config, when it lists one valid digest per layer.
pub(crate) fn diff_ids(config: &Value, layers: usize) -> Option<Vec<Digest>> {
    let ids: Vec<Digest> = config["rootfs"]["diff_ids"]
        .as_array()?
        .iter()
        .map(|d| d.as_str().and_then(Digest::parse))
        .collect::<Option<_>>()?;
    (ids.len() == layers).then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_platforms() {
        assert_eq!("linux/arm/v7".parse::<Platform>().unwrap().to_string(), "linux/arm/v7");
        assert_eq!("arm64".parse::<Platform>().unwrap().to_string(), "linux/arm64");
        assert!("linux//amd64".parse::<Platform>().is_err());
        assert!("a/b/c/d".parse::<Platform>().is_err());
    }

    #[test]
    fn chooses_by_platform_and_skips_attestations() {
        let d = |n: u8| format!("sha256:{}", format!("{n:02x}").repeat(32));
        let index = serde_json::json!({"manifests": [
            {"digest": d(1), "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
            {"digest": d(2), "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": d(3), "platform": {"os": "unknown", "architecture": "unknown"}},
        ]});
        let pick = |p: Option<&str>| {
            choose(&index, p.map(|p| p.parse().unwrap()).as_ref(), "img").map(|c| c.0.digest.to_string())
        };
        assert_eq!(pick(None).unwrap(), d(2), "linux/amd64 by default");
        assert_eq!(pick(Some("linux/arm")).unwrap(), d(1));
        assert_eq!(pick(Some("linux/arm/v7")).unwrap(), d(1));
        let err = pick(Some("linux/arm/v6")).unwrap_err().to_string();
        assert!(err.contains("linux/arm/v7, linux/amd64") && err.contains("--platform"), "{err}");
        let arm64 =
            serde_json::json!({"manifests": [{"digest": d(4), "platform": {"os": "linux", "architecture": "arm64"}}]});
        let arm64_v8: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(choose(&arm64, Some(&arm64_v8), "img").unwrap().0.digest.to_string(), d(4), "arm64 is v8");
        let only_arm = serde_json::json!({"manifests": [
            {"digest": d(1), "platform": {"os": "linux", "architecture": "arm64"}},
            {"digest": d(3), "platform": {"os": "unknown", "architecture": "unknown"}}]});
        assert_eq!(choose(&only_arm, None, "img").unwrap().0.digest.to_string(), d(1), "the only image");
    }
}
