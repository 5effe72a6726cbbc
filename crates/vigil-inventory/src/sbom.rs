//! SBOMs as targets: CycloneDX JSON (`components`, nested ones included)
//! and SPDX 2.x JSON (`packages` with a `purl` external reference). Each
//! package URL becomes a package of the OSV ecosystem its type names:
//! `deb` and `apk` and `rpm` take the release from the `distro` qualifier,
//! the source package from `upstream` (as Syft and Trivy write them), and
//! an rpm `epoch` qualifier joins the version. A `pkg:oci` purl (the
//! CycloneDX metadata component, the SPDX `CONTAINER` package) names the
//! image the SBOM describes rather than a package in it.

use serde_json::Value;
use vigil_core::inventory::{ImageMeta, Inventory, Location, Package, SourcePackage};

use crate::os::ecosystem_for;

/// Percent-decoding of a purl component.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A parsed package URL.
struct Purl {
    kind: String,
    namespace: Option<String>,
    name: String,
    version: String,
    qualifiers: Vec<(String, String)>,
}

fn parse_purl(purl: &str) -> Option<Purl> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split('#').next()?;
    let (rest, qualifiers) = match rest.split_once('?') {
        Some((r, q)) => (
            r,
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), decode(v)))
                .collect(),
        ),
        None => (rest, Vec::new()),
    };
    let (path, version) = rest.rsplit_once('@')?;
    let mut parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts.len() < 2 {
        return None;
    }
    let kind = parts.remove(0).to_ascii_lowercase();
    let name = decode(parts.pop()?);
    let namespace = (!parts.is_empty()).then(|| parts.iter().map(|p| decode(p)).collect::<Vec<_>>().join("/"));
    Some(Purl { kind, namespace, name, version: decode(version), qualifiers })
}

impl Purl {
    fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// `distro=debian-12` / `distro=bookworm` / `distro=3.18.4` as (id, version).
    fn distro(&self, default_id: &str) -> (String, Option<String>) {
        match self.qualifier("distro") {
            Some(d) => match d.rsplit_once('-') {
                Some((id, v)) if v.starts_with(|c: char| c.is_ascii_digit()) => {
                    (id.to_ascii_lowercase(), Some(v.to_owned()))
                }
                _ if d.starts_with(|c: char| c.is_ascii_digit()) => (default_id.to_owned(), Some(d.to_owned())),
                _ => (default_id.to_owned(), None),
            },
            None => (default_id.to_owned(), None),
        }
    }
}

/// The package a purl names, or `None` for types Vigil does not match.
fn package(purl: &str, location: &str) -> Option<Package> {
    let p = parse_purl(purl)?;
    let ns = p.namespace.clone();
    // npm scopes, Go module paths and Composer vendors are part of the name.
    let joined = ns.as_ref().map_or_else(|| p.name.clone(), |n| format!("{n}/{}", p.name));
    let source = |version: &str| {
        p.qualifier("upstream").map(|u| match u.split_once('@') {
            Some((n, v)) => SourcePackage { name: n.to_owned(), version: v.to_owned() },
            None => SourcePackage { name: u.to_owned(), version: version.to_owned() },
        })
    };
    let (ecosystem, name, version, source, cataloger) = match p.kind.as_str() {
        "cargo" => ("crates.io".to_owned(), p.name.clone(), p.version.clone(), None, "sbom"),
        "npm" => ("npm".to_owned(), joined, p.version.clone(), None, "sbom"),
        "pypi" => ("PyPI".to_owned(), p.name.clone(), p.version.clone(), None, "sbom"),
        "golang" => ("Go".to_owned(), joined, p.version.clone(), None, "sbom"),
        "gem" => ("RubyGems".to_owned(), p.name.clone(), p.version.clone(), None, "sbom"),
        "composer" => ("Packagist".to_owned(), joined, p.version.clone(), None, "sbom"),
        "nuget" => ("NuGet".to_owned(), p.name.clone(), p.version.clone(), None, "sbom"),
        "pub" => ("Pub".to_owned(), p.name.clone(), p.version.clone(), None, "sbom"),
        "hex" => ("Hex".to_owned(), p.name.clone(), p.version.clone(), None, "sbom"),
        "cran" => ("CRAN".to_owned(), p.name.clone(), p.version.clone(), None, "sbom"),
        "conan" => ("ConanCenter".to_owned(), p.name.clone(), p.version.clone(), None, "sbom"),
        "maven" => (
            "Maven".to_owned(),
            ns.map_or(p.name.clone(), |n| format!("{}:{}", n.replace('/', "."), p.name)),
            p.version.clone(),
            None,
            "sbom",
        ),
        "deb" => {
            let (id, v) = p.distro(ns.as_deref().unwrap_or("debian"));
            let base = if id == "ubuntu" { "Ubuntu" } else { "Debian" };
            let eco = ecosystem_for(&id, v.as_deref()).unwrap_or_else(|| base.to_owned());
            let src =
                source(&p.version).or_else(|| Some(SourcePackage { name: p.name.clone(), version: p.version.clone() }));
            (eco, p.name.clone(), p.version.clone(), src, "dpkg")
        }
        "apk" => {
            let (id, v) = p.distro(ns.as_deref().unwrap_or("alpine"));
            let eco = ecosystem_for(&id, v.as_deref()).unwrap_or_else(|| "Alpine".to_owned());
            let src =
                source(&p.version).or_else(|| Some(SourcePackage { name: p.name.clone(), version: p.version.clone() }));
            (eco, p.name.clone(), p.version.clone(), src, "apk")
        }
        "rpm" => {
            let (id, v) = p.distro(ns.as_deref().unwrap_or("redhat"));
            let eco = ecosystem_for(&id, v.as_deref()).unwrap_or_else(|| "Red Hat".to_owned());
            let version = match p.qualifier("epoch").filter(|e| *e != "0") {
                Some(e) => format!("{e}:{}", p.version),
                None => p.version.clone(),
            };
            (eco, p.name.clone(), version, None, "rpm")
        }
        _ => return None,
    };
    Some(Package {
        name,
        version,
        version_source: None,
        ecosystem,
        purl: purl.to_owned(),
        source,
        arch: p.qualifier("arch").map(str::to_owned),
        license: None,
        location: Location { path: location.to_owned(), layer: None },
        cataloger: cataloger.to_owned(),
        // Conan references keep their user and channel.
        properties: ["user", "channel"]
            .iter()
            .filter(|_| p.kind == "conan")
            .filter_map(|k| Some(((*k).to_owned(), p.qualifier(k)?.to_owned())))
            .collect(),
    })
}

fn cyclonedx_purls(components: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    for c in components.as_array().into_iter().flatten() {
        if let Some(p) = c.get("purl").and_then(Value::as_str) {
            out.push(p.to_owned());
        }
        if let Some(nested) = c.get("components") {
            cyclonedx_purls(nested, out, depth + 1);
        }
    }
}

/// The image an SBOM describes, from its `pkg:oci` purl (as Vigil and Trivy
/// write it): the repository and the manifest digest.
fn image_from_purl(purl: &str) -> Option<ImageMeta> {
    let p = parse_purl(purl).filter(|p| p.kind == "oci")?;
    Some(ImageMeta {
        format: "sbom".into(),
        repository: p.qualifier("repository_url").map(str::to_owned),
        manifest_digest: Some(p.version.clone()).filter(|v| v.starts_with("sha256:")),
        platform: p.qualifier("arch").map(|a| format!("linux/{a}")),
        ..ImageMeta::default()
    })
}

/// The top-level keys that make a JSON document an SBOM; everything else is
/// skipped without being kept.
#[derive(serde::Deserialize)]
struct Probe<'a> {
    #[serde(rename = "bomFormat", borrow, default)]
    bom_format: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "spdxVersion", default)]
    spdx_version: Option<serde::de::IgnoredAny>,
}

/// Whether `bytes` is a CycloneDX or SPDX JSON document, read without
/// building it: any JSON file may be one, and most (lockfiles) are not.
pub fn is_sbom(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Probe<'_>>(bytes)
        .is_ok_and(|p| p.bom_format.as_deref() == Some("CycloneDX") || p.spdx_version.is_some())
}

/// The inventory an SBOM describes; `None` when the JSON is not an SBOM.
pub fn inventory(doc: &Value, location: &str) -> Option<Inventory> {
    let mut purls = Vec::new();
    let mut inventory_image = None;
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        cyclonedx_purls(&doc["components"], &mut purls, 0);
        let component = &doc["metadata"]["component"];
        match component["purl"].as_str() {
            Some(p) => purls.push(p.to_owned()),
            // An image without a registry: its manifest digest as the version.
            None if component["type"] == "container" => {
                let digest = component["version"].as_str().filter(|v| v.starts_with("sha256:"));
                inventory_image = Some(ImageMeta {
                    format: "sbom".into(),
                    manifest_digest: digest.map(str::to_owned),
                    ..ImageMeta::default()
                });
            }
            None => {}
        }
    } else if doc.get("spdxVersion").is_some() {
        for p in doc["packages"].as_array().into_iter().flatten() {
            for r in p["externalRefs"].as_array().into_iter().flatten() {
                if r["referenceType"] == "purl"
                    && let Some(locator) = r["referenceLocator"].as_str()
                {
                    purls.push(locator.to_owned());
                }
            }
        }
    } else {
        return None;
    }
    let mut inventory = Inventory { target: location.to_owned(), image: inventory_image, ..Inventory::default() };
    for purl in purls {
        // The image the SBOM is about, not a package in it.
        if let Some(image) = image_from_purl(&purl) {
            inventory.image.get_or_insert(image);
            continue;
        }
        match package(&purl, location) {
            Some(p) => inventory.packages.push(p),
            None => inventory.warnings.push(format!("sbom: {location}: {purl}: not a package type Vigil matches")),
        }
    }
    inventory.packages.sort_by(|a, b| (&a.ecosystem, &a.name, &a.version).cmp(&(&b.ecosystem, &b.name, &b.version)));
    inventory.packages.dedup_by(|a, b| a.purl == b.purl);
    Some(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_to_packages() {
        let deb = package("pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12", "/x")
            .unwrap();
        assert_eq!((deb.ecosystem.as_str(), deb.source.as_ref().unwrap().name.as_str()), ("Debian:12", "openssl"));
        let apk =
            package("pkg:apk/alpine/ssl_client@1.36.1-r15?arch=x86_64&upstream=busybox&distro=3.19.0", "/x").unwrap();
        assert_eq!((apk.ecosystem.as_str(), apk.source.as_ref().unwrap().name.as_str()), ("Alpine:v3.19", "busybox"));
        let rpm =
            package("pkg:rpm/almalinux/bind-libs@9.16.23-18.el9_4.6?arch=x86_64&epoch=32&distro=almalinux-9.4", "/x")
                .unwrap();
        assert_eq!((rpm.ecosystem.as_str(), rpm.version.as_str()), ("AlmaLinux:9", "32:9.16.23-18.el9_4.6"));
        let npm = package("pkg:npm/%40babel/code-frame@7.12.13", "/x").unwrap();
        assert_eq!(npm.name, "@babel/code-frame");
        let mvn = package("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "/x").unwrap();
        assert_eq!((mvn.ecosystem.as_str(), mvn.name.as_str()), ("Maven", "org.apache.logging.log4j:log4j-core"));
        assert!(package("pkg:generic/thing@1", "/x").is_none());
        let conan = package("pkg:conan/fmt@9.1.0?channel=stable&user=mycompany", "/x").unwrap();
        assert_eq!((conan.ecosystem.as_str(), conan.properties["user"].as_str()), ("ConanCenter", "mycompany"));
        for (purl, ecosystem) in
            [("pkg:pub/http@0.13.6", "Pub"), ("pkg:hex/cowboy@2.9.0", "Hex"), ("pkg:cran/R6@2.5.1", "CRAN")]
        {
            assert_eq!(package(purl, "/x").unwrap().ecosystem, ecosystem);
        }
        let image = image_from_purl("pkg:oci/app@sha256%3Aab12?repository_url=ghcr.io/org/app&arch=arm64").unwrap();
        assert_eq!(image.repository.as_deref(), Some("ghcr.io/org/app"));
        assert_eq!(image.manifest_digest.as_deref(), Some("sha256:ab12"));
        assert_eq!(image.platform.as_deref(), Some("linux/arm64"));
        assert!(package("not a purl", "/x").is_none());
    }
}
