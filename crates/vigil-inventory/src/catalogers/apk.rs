//! apk: `/lib/apk/db/installed`, one stanza per package of `X:value`
//! lines (`P` name, `V` version, `A` arch, `o` origin, `L` licence).
//! Alpine advisories are keyed by origin, recorded as the source package.

use vigil_core::inventory::{Location, Package, SourcePackage, purl_encode};

use super::{Context, Found};
use crate::error::Result;

/// Cataloger id.
pub const ID: &str = "apk";

const INSTALLED: &str = "/lib/apk/db/installed";

/// The installed database.
pub fn wants(path: &str) -> bool {
    path == INSTALLED
}

/// Reads the apk installed database.
pub fn catalog(ctx: &Context<'_>) -> Result<Found> {
    let mut found = Found::default();
    let Some(bytes) = ctx.fs.read(INSTALLED)? else {
        return Ok(found);
    };
    let text = String::from_utf8_lossy(&bytes);
    let base = match ctx.os.map(|o| o.id.as_str()) {
        Some("wolfi") => "Wolfi",
        Some("chainguard") => "Chainguard",
        _ => "Alpine",
    };
    let ecosystem = ctx.os_ecosystem(base);
    let namespace = base.to_ascii_lowercase();
    let distro = ctx.os.and_then(|o| o.version_id.clone());
    for (n, stanza) in text.split("\n\n").enumerate() {
        let mut fields = std::collections::HashMap::new();
        let mut dir = "";
        for line in stanza.lines() {
            if let Some(d) = line.strip_prefix("F:") {
                dir = d;
            } else if let Some(file) = line.strip_prefix("R:") {
                found.owned.push(if dir.is_empty() { format!("/{file}") } else { format!("/{dir}/{file}") });
            }
            if let Some((k, v)) = line.split_once(':')
                && k.len() == 1
            {
                fields.entry(k).or_insert(v);
            }
        }
        let (Some(name), Some(version)) = (fields.get("P"), fields.get("V")) else {
            if !stanza.trim().is_empty() {
                found.warnings.push(format!("apk: {INSTALLED}: stanza {} has no P: or V: line", n + 1));
            }
            continue;
        };
        let arch = fields.get("A").map(|s| (*s).to_owned());
        let mut qualifiers = Vec::new();
        if let Some(a) = &arch {
            qualifiers.push(format!("arch={}", purl_encode(a)));
        }
        if let Some(origin) = fields.get("o").filter(|o| *o != name) {
            qualifiers.push(format!("upstream={}", purl_encode(origin)));
        }
        if let Some(d) = &distro {
            qualifiers.push(format!("distro={}", purl_encode(d)));
        }
        let mut purl = format!("pkg:apk/{namespace}/{}@{}", purl_encode(name), purl_encode(version));
        // Canonical purls list qualifiers sorted by key.
        qualifiers.sort();
        if !qualifiers.is_empty() {
            purl.push('?');
            purl.push_str(&qualifiers.join("&"));
        }
        found.packages.push(Package {
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            version_source: None,
            ecosystem: ecosystem.clone(),
            purl,
            source: Some(SourcePackage {
                name: fields.get("o").unwrap_or(name).to_string(),
                version: (*version).to_owned(),
            }),
            arch,
            license: fields.get("L").map(|s| (*s).to_owned()),
            location: Location { path: INSTALLED.to_owned(), layer: None },
            cataloger: ID.to_owned(),
            properties: Default::default(),
        });
    }
    Ok(found)
}
