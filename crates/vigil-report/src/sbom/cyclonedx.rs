//! CycloneDX 1.6 JSON: the target as the metadata component (a
//! `container` for images, with digest and purl), the OS as an
//! `operating-system` component, every package a `library` with its purl,
//! licence name and Vigil properties (location, layer, source package,
//! ecosystem, cataloger, and what the lockfile recorded: `vigil:alias`,
//! `vigil:commit`, ...). Written component by component as it is
//! serialized, so memory does not grow with the document.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};
use vigil_core::inventory::{Inventory, Package};

use super::Stamp;

/// The metadata component: the file or directory scanned, or the container
/// image with its manifest digest, purl, platform and layers.
fn target(inv: &Inventory) -> Value {
    let Some(image) = &inv.image else { return json!({"type": "file", "bom-ref": "target", "name": inv.target}) };
    let mut c = json!({"type": "container", "bom-ref": "target", "name": inv.target});
    if let Some(digest) = &image.manifest_digest {
        c["version"] = json!(digest);
        if let Some(hex) = digest.strip_prefix("sha256:") {
            c["hashes"] = json!([{"alg": "SHA-256", "content": hex}]);
        }
    }
    if let Some(purl) = super::image_purl(image) {
        c["purl"] = json!(purl);
    }
    let mut properties = vec![json!({"name": "vigil:image:format", "value": image.format})];
    properties.extend(image.platform.iter().map(|p| json!({"name": "vigil:image:platform", "value": p})));
    properties.extend(image.layers.iter().map(|l| json!({"name": "vigil:image:layer", "value": l})));
    properties.extend(image.tags.iter().map(|t| json!({"name": "vigil:image:tag", "value": t})));
    c["properties"] = json!(properties);
    c
}

/// Unique `bom-ref`s: a package's purl, or `PURL#2`, `PURL#3`, ... for the
/// second and later packages with the same purl. Purls are borrowed from
/// the inventory, so a million packages cost a table of pointers.
#[derive(Default)]
struct BomRefs<'a> {
    seen: HashSet<&'a str>,
    made: HashSet<String>,
}

impl<'a> BomRefs<'a> {
    fn next(&mut self, purl: &'a str) -> Cow<'a, str> {
        if !self.made.contains(purl) && self.seen.insert(purl) {
            return Cow::Borrowed(purl);
        }
        (2..)
            .map(|n| format!("{purl}#{n}"))
            .find(|r| !self.seen.contains(r.as_str()) && !self.made.contains(r))
            .map(|r| {
                self.made.insert(r.clone());
                Cow::Owned(r)
            })
            .unwrap_or(Cow::Borrowed(purl))
    }
}

/// The `operating-system` component.
fn os_component(os: &vigil_core::inventory::OsInfo) -> Value {
    let mut c = json!({"type": "operating-system", "bom-ref": "os", "name": os.id});
    if let Some(v) = &os.version_id {
        c["version"] = json!(v);
    }
    if let Some(p) = &os.pretty_name {
        c["description"] = json!(p);
    }
    c
}

/// One package as a `library` component.
fn component(p: &Package, bom_ref: &str) -> Value {
    let mut properties = vec![
        json!({"name": "vigil:ecosystem", "value": p.ecosystem}),
        json!({"name": "vigil:location:path", "value": p.location.path}),
        json!({"name": "vigil:cataloger", "value": p.cataloger}),
    ];
    if let Some(source) = &p.version_source {
        properties.push(json!({"name": "vigil:version:source", "value": source}));
    }
    if let Some(layer) = &p.location.layer {
        properties.push(json!({"name": "vigil:location:layer", "value": layer}));
    }
    if let Some(s) = &p.source {
        properties.push(json!({"name": "vigil:source:name", "value": s.name}));
        properties.push(json!({"name": "vigil:source:version", "value": s.version}));
    }
    properties.extend(p.properties.iter().map(|(k, v)| json!({"name": format!("vigil:{k}"), "value": v})));
    let mut c = json!({
        "type": "library",
        "bom-ref": bom_ref,
        "name": p.name,
        "purl": p.purl,
        "properties": properties,
    });
    // A package the file does not pin has no version, rather than an empty one.
    if !p.version.is_empty() {
        c["version"] = json!(p.version);
    }
    if let Some(l) = &p.license {
        c["licenses"] = json!([{"license": {"name": l}}]);
    }
    c
}

/// The components, serialized one at a time.
struct Components<'a>(&'a Inventory);

impl Serialize for Components<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let inv = self.0;
        let mut refs = BomRefs::default();
        let os = inv.os.iter().map(os_component);
        serializer.collect_seq(os.chain(inv.packages.iter().map(|p| component(p, &refs.next(&p.purl)))))
    }
}

/// A CycloneDX 1.6 document of an inventory, written as it is serialized:
/// never held whole in memory. Scan reports add their vulnerabilities and
/// metadata properties.
pub(crate) struct Bom<'a> {
    /// The inventory.
    pub inventory: &'a Inventory,
    /// Time and serial number.
    pub stamp: &'a Stamp,
    /// Extra `metadata.properties`.
    pub properties: Vec<Value>,
    /// The `vulnerabilities` array, for scan reports.
    pub vulnerabilities: Option<Vec<Value>>,
}

impl Serialize for Bom<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut metadata = json!({
            "timestamp": self.stamp.created,
            "tools": {"components": [{"type": "application", "name": "vigil", "version": env!("CARGO_PKG_VERSION")}]},
            "component": target(self.inventory),
        });
        if !self.properties.is_empty() {
            metadata["properties"] = json!(self.properties);
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json")?;
        map.serialize_entry("bomFormat", "CycloneDX")?;
        map.serialize_entry("specVersion", "1.6")?;
        map.serialize_entry("serialNumber", &format!("urn:uuid:{}", self.stamp.uuid))?;
        map.serialize_entry("version", &1)?;
        map.serialize_entry("metadata", &metadata)?;
        map.serialize_entry("components", &Components(self.inventory))?;
        if let Some(vulnerabilities) = &self.vulnerabilities {
            map.serialize_entry("vulnerabilities", vulnerabilities)?;
        }
        map.end()
    }
}
