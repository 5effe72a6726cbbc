//! CycloneDX 1.6 JSON: the target as the metadata component, the OS as an
//! `operating-system` component, every package a `library` with its purl,
//! licence name and Vigil properties (location, layer, source package,
//! ecosystem, cataloger).

use std::collections::HashSet;

use serde_json::{Value, json};
use vigil_core::inventory::Inventory;

use super::Stamp;

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
        if let Some(layer) = &p.location.layer {
            properties.push(json!({"name": "vigil:location:layer", "value": layer}));
        }
        if let Some(s) = &p.source {
            properties.push(json!({"name": "vigil:source:name", "value": s.name}));
            properties.push(json!({"name": "vigil:source:version", "value": s.version}));
        }
        let mut c = json!({
            "type": "library",
            "bom-ref": bom_ref,
            "name": p.name,
            "version": p.version,
            "purl": p.purl,
            "properties": properties,
        });
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
            "component": {"type": "file", "bom-ref": "target", "name": inv.target},
        },
        "components": components,
    })
}
