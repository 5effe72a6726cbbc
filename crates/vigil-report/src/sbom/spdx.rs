//! SPDX 2.3 JSON: one package per inventory package (purl as a
//! `PACKAGE-MANAGER` external reference), the OS as a package too, the
//! document `DESCRIBES` the target package which `CONTAINS` the rest.
//! Licences are recorded as found in `licenseComments`: package databases
//! do not use SPDX expressions, so `licenseDeclared` stays `NOASSERTION`.
//! Packages and relationships are written one at a time as the document is
//! serialized.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};
use vigil_core::inventory::{Inventory, Package};

use super::Stamp;

/// SPDX ids allow letters, digits, `.` and `-`.
fn spdx_id(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect()
}

/// The package describing the target: a file or directory, or the container image.
fn target(inv: &Inventory) -> Value {
    let mut target = json!({
        "name": inv.target,
        "SPDXID": "SPDXRef-Target",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": "FILE",
    });
    if let Some(image) = &inv.image {
        target["primaryPackagePurpose"] = json!("CONTAINER");
        if let Some(digest) = &image.manifest_digest {
            target["versionInfo"] = json!(digest);
            if let Some(hex) = digest.strip_prefix("sha256:") {
                target["checksums"] = json!([{"algorithm": "SHA256", "checksumValue": hex}]);
            }
        }
        if let Some(purl) = super::image_purl(image) {
            target["externalRefs"] =
                json!([{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]);
        }
    }
    target
}

/// The SPDX id of the `i`th package.
fn package_id(i: usize, p: &Package) -> String {
    format!("SPDXRef-Package-{}-{i}", spdx_id(&p.name))
}

/// One package.
fn package(i: usize, p: &Package) -> Value {
    let mut pkg = json!({
        "name": p.name,
        "SPDXID": package_id(i, p),
        "versionInfo": p.version,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "LIBRARY",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p.purl}],
        "comment": format!("found by {} at {}", p.cataloger, p.location.path),
    });
    if p.version.is_empty() {
        // Not pinned by the file: no version rather than an empty one.
        pkg.as_object_mut().map(|o| o.remove("versionInfo"));
    }
    let mut facts: Vec<String> = p.version_source.iter().map(|s| format!("version read from {s}")).collect();
    facts.extend(p.properties.iter().map(|(k, v)| format!("{k} {v}")));
    if !facts.is_empty() {
        pkg["comment"] = json!(format!("found by {} at {}; {}", p.cataloger, p.location.path, facts.join("; ")));
    }
    if let Some(s) = &p.source {
        pkg["sourceInfo"] = json!(format!("built from source package {} {}", s.name, s.version));
    }
    if let Some(l) = &p.license {
        pkg["licenseComments"] = json!(format!("declared by the package database as: {l}"));
    }
    pkg
}

/// The packages: the target, the OS, then every inventory package, one at a time.
struct Packages<'a>(&'a Inventory);

impl Serialize for Packages<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let inv = self.0;
        let os = inv.os.iter().map(|os| {
            json!({
                "name": os.id,
                "SPDXID": "SPDXRef-OperatingSystem",
                "versionInfo": os.version_id.clone().unwrap_or_else(|| "NOASSERTION".into()),
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "primaryPackagePurpose": "OPERATING-SYSTEM",
            })
        });
        let packages = inv.packages.iter().enumerate().map(|(i, p)| package(i, p));
        serializer.collect_seq(std::iter::once(target(inv)).chain(os).chain(packages))
    }
}

/// The document `DESCRIBES` the target, which `CONTAINS` the OS and every package.
struct Relationships<'a>(&'a Inventory);

impl Serialize for Relationships<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let inv = self.0;
        let contains = |id: String| json!({"spdxElementId": "SPDXRef-Target", "relationshipType": "CONTAINS", "relatedSpdxElement": id});
        let describes = json!({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Target"});
        let os = inv.os.iter().map(|_| contains("SPDXRef-OperatingSystem".to_owned()));
        let packages = inv.packages.iter().enumerate().map(|(i, p)| contains(package_id(i, p)));
        serializer.collect_seq(std::iter::once(describes).chain(os).chain(packages))
    }
}

/// An SPDX 2.3 document of an inventory, written as it is serialized.
pub(crate) struct Document<'a> {
    /// The inventory.
    pub inventory: &'a Inventory,
    /// Time and namespace.
    pub stamp: &'a Stamp,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (inv, stamp) = (self.inventory, self.stamp);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("spdxVersion", "SPDX-2.3")?;
        map.serialize_entry("dataLicense", "CC0-1.0")?;
        map.serialize_entry("SPDXID", "SPDXRef-DOCUMENT")?;
        map.serialize_entry("name", &inv.target)?;
        map.serialize_entry("documentNamespace", &format!("https://spdx.org/spdxdocs/vigil-{}", stamp.uuid))?;
        let creators = [format!("Tool: vigil-{}", env!("CARGO_PKG_VERSION"))];
        map.serialize_entry("creationInfo", &json!({"created": stamp.created, "creators": creators}))?;
        map.serialize_entry("packages", &Packages(inv))?;
        map.serialize_entry("relationships", &Relationships(inv))?;
        map.end()
    }
}
