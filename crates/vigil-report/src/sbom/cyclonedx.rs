//! CycloneDX 1.6 JSON: the target as the metadata component (a
//! `container` for images, with digest and purl), the OS as an
//! `operating-system` component, every package a `library` with its purl,
//! licence name and Vigil properties (location, layer, source package,
//! ecosystem, cataloger, and what the lockfile recorded: `vigil:alias`,
//! `vigil:commit`, ...).

use std::collections::HashSet;

use serde_json::{Value, json};
use vigil_core::inventory::Inventory;

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

pub(crate) fn render(inv: &Inventory, stamp: &Stamp) -> Value {
    let mut components = Vec::new();
    if let Some(os) = &inv.os {
        let mut c = json!({
            "type": "operating-system",
            "bom-ref": "os",
            "name": os.id,
        });
        if let Some(v) = &os.version_id {
            c["version"] = json!(v);
        }
        if let Some(p) = &os.pretty_name {
            c["description"] = json!(p);
        }
        components.push(c);
    }
    let mut refs = HashSet::new();
    for p in &inv.packages {
        let mut bom_ref = p.purl.clone();
        let mut n = 1;
        while !refs.insert(bom_ref.clone()) {
            n += 1;
            bom_ref = format!("{}#{n}", p.purl);
        }
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
        components.push(c);
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", stamp.uuid),
        "version": 1,
        "metadata": {
            "timestamp": stamp.created,
            "tools": {"components": [{"type": "application", "name": "vigil", "version": env!("CARGO_PKG_VERSION")}]},
            "component": target(inv),
        },
        "components": components,
    })
}
