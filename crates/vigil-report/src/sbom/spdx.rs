//! SPDX 2.3 JSON: one package per inventory package (purl as a
//! `PACKAGE-MANAGER` external reference), the OS as a package too, the
//! document `DESCRIBES` the target package which `CONTAINS` the rest.
//! Licences are recorded as found in `licenseComments`: package databases
//! do not use SPDX expressions, so `licenseDeclared` stays `NOASSERTION`.

use serde_json::{Value, json};
use vigil_core::inventory::Inventory;

use super::Stamp;

/// SPDX ids allow letters, digits, `.` and `-`.
fn spdx_id(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect()
}

pub(crate) fn render(inv: &Inventory, stamp: &Stamp) -> Value {
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
    let mut packages = vec![target];
    let mut relationships = vec![
        json!({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Target"}),
    ];
    if let Some(os) = &inv.os {
        packages.push(json!({
            "name": os.id,
            "SPDXID": "SPDXRef-OperatingSystem",
            "versionInfo": os.version_id.clone().unwrap_or_else(|| "NOASSERTION".into()),
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "OPERATING-SYSTEM",
        }));
        relationships.push(json!({"spdxElementId": "SPDXRef-Target", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-OperatingSystem"}));
    }
    for (i, p) in inv.packages.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}-{i}", spdx_id(&p.name));
        let mut pkg = json!({
            "name": p.name,
            "SPDXID": id,
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
        packages.push(pkg);
        relationships
            .push(json!({"spdxElementId": "SPDXRef-Target", "relationshipType": "CONTAINS", "relatedSpdxElement": id}));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": inv.target,
        "documentNamespace": format!("https://spdx.org/spdxdocs/vigil-{}", stamp.uuid),
        "creationInfo": {"created": stamp.created, "creators": [format!("Tool: vigil-{}", env!("CARGO_PKG_VERSION"))]},
        "packages": packages,
        "relationships": relationships,
    })
}
