//! Real packages and versions, read from OSV bulk exports
//! (`<dir>/<Ecosystem>/all.zip`): the names advisories name, with versions
//! the advisories say are affected and versions they say are fixed.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// One package the advisories name.
#[derive(Debug, Clone)]
pub struct PoolPackage {
    /// OSV ecosystem.
    pub ecosystem: String,
    /// Name.
    pub name: String,
    /// Versions some advisory lists as affected (or introduces a range at).
    pub affected: Vec<String>,
    /// Versions some advisory names as the fix, oldest first.
    pub fixed: Vec<String>,
}

/// Most versions kept per package and list.
const MAX_VERSIONS: usize = 64;

/// Reads every `all.zip` under `dir`.
pub fn read(dir: &Path) -> Result<Vec<PoolPackage>> {
    let mut by_key: BTreeMap<(String, String), PoolPackage> = BTreeMap::new();
    let mut ecosystems: Vec<_> =
        std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.flatten().collect();
    ecosystems.sort_by_key(|e| e.file_name());
    for entry in ecosystems {
        let zip_path = entry.path().join("all.zip");
        if !zip_path.is_file() {
            continue;
        }
        let file = std::fs::File::open(&zip_path).with_context(|| format!("opening {}", zip_path.display()))?;
        let mut archive = zip::ZipArchive::new(file).with_context(|| format!("reading {}", zip_path.display()))?;
        for i in 0..archive.len() {
            let mut member = archive.by_index(i)?;
            let mut text = String::new();
            if member.size() > 8 << 20 || member.read_to_string(&mut text).is_err() {
                continue;
            }
            let Ok(record) = serde_json::from_str::<Value>(&text) else { continue };
            for affected in record["affected"].as_array().into_iter().flatten() {
                add(&mut by_key, affected);
            }
        }
    }
    let mut pool: Vec<PoolPackage> = by_key.into_values().filter(|p| !p.affected.is_empty()).collect();
    for p in &mut pool {
        p.affected.sort();
        p.affected.dedup();
        // Fixes in the ecosystem's own order: the last is the newest.
        if let Some(scheme) = vigil_version::Scheme::for_ecosystem(&p.ecosystem) {
            p.fixed.sort_by(|a, b| scheme.compare(a, b));
        }
        p.fixed.dedup();
    }
    anyhow::ensure!(!pool.is_empty(), "no affected packages found under {}", dir.display());
    Ok(pool)
}

fn add(by_key: &mut BTreeMap<(String, String), PoolPackage>, affected: &Value) {
    let (Some(ecosystem), Some(name)) =
        (affected["package"]["ecosystem"].as_str(), affected["package"]["name"].as_str())
    else {
        return;
    };
    let entry = by_key.entry((ecosystem.to_string(), name.to_string())).or_insert_with(|| PoolPackage {
        ecosystem: ecosystem.to_string(),
        name: name.to_string(),
        affected: Vec::new(),
        fixed: Vec::new(),
    });
    let push = |list: &mut Vec<String>, v: &str| {
        if list.len() < MAX_VERSIONS && !v.is_empty() && v != "0" {
            list.push(v.to_string());
        }
    };
    for v in affected["versions"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        push(&mut entry.affected, v);
    }
    for range in affected["ranges"].as_array().into_iter().flatten() {
        if range["type"].as_str() == Some("GIT") {
            continue;
        }
        for event in range["events"].as_array().into_iter().flatten() {
            if let Some(v) = event["introduced"].as_str() {
                push(&mut entry.affected, v);
            }
            if let Some(v) = event["last_affected"].as_str() {
                push(&mut entry.affected, v);
            }
            if let Some(v) = event["fixed"].as_str() {
                push(&mut entry.fixed, v);
            }
        }
    }
}
