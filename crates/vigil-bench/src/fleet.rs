//! The generated fleet: deterministic inventories and uploads built from
//! the package pool, so every run of the generator builds the same assets.

use serde_json::{Value, json};
use vigil_platform::ingest::Upload;

use crate::pool::PoolPackage;

/// A small, seeded generator (SplitMix64): the same seed gives the same fleet.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// How the fleet is shaped.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Packages per inventory.
    pub packages: usize,
    /// The share of packages at a version some advisory lists as affected.
    pub affected_share: f64,
    /// Teams the assets are spread over.
    pub teams: usize,
    /// Packages not at an affected version are at the newest fix (else at
    /// any fix, which a later advisory often still affects).
    pub newest_fix: bool,
}

/// The package URL type of an OSV ecosystem.
fn purl_type(ecosystem: &str) -> &'static str {
    match ecosystem.split(':').next().unwrap_or_default() {
        "PyPI" => "pypi",
        "npm" => "npm",
        "Go" => "golang",
        "Maven" => "maven",
        "crates.io" => "cargo",
        "RubyGems" => "gem",
        "Packagist" => "composer",
        "Debian" | "Ubuntu" => "deb",
        "Alpine" => "apk",
        "AlmaLinux" => "rpm",
        _ => "generic",
    }
}

/// The inventory of asset `index`: `shape.packages` distinct packages of the
/// pool, each at an affected or a fixed version.
pub fn inventory(pool: &[PoolPackage], index: u64, shape: Shape, salt: u64) -> Value {
    let mut rng = Rng::new(index ^ (salt << 40));
    let mut chosen = std::collections::BTreeSet::new();
    let mut packages = Vec::with_capacity(shape.packages);
    while packages.len() < shape.packages.min(pool.len()) {
        let i = rng.below(pool.len());
        if !chosen.insert(i) {
            continue;
        }
        let p = &pool[i];
        let version = if rng.chance(shape.affected_share) || p.fixed.is_empty() {
            &p.affected[rng.below(p.affected.len())]
        } else if shape.newest_fix {
            &p.fixed[p.fixed.len() - 1]
        } else {
            &p.fixed[rng.below(p.fixed.len())]
        };
        packages.push(json!({
            "name": p.name,
            "version": version,
            "ecosystem": p.ecosystem,
            "purl": format!("pkg:{}/{}@{}", purl_type(&p.ecosystem), p.name.replace(':', "/"), version),
            "location": {"path": format!("/srv/app/{}.lock", purl_type(&p.ecosystem))},
            "cataloger": "bench",
        }));
    }
    json!({"target": format!("bench-{index}"), "os": null, "packages": packages, "warnings": []})
}

/// The upload of asset `index` with `inventory`.
pub fn upload(index: u64, inventory: Value, shape: Shape) -> anyhow::Result<Upload> {
    let kind = ["image", "host", "repository"][(index % 3) as usize];
    let mut tags = vec![format!("service-{}", index % 50)];
    if index.is_multiple_of(4) {
        tags.push("prod".into());
    }
    Ok(serde_json::from_value(json!({
        "asset": {
            "name": format!("bench-{kind}-{index:06}"),
            "kind": kind,
            "team": team_name(index % shape.teams.max(1) as u64),
            "labels": {"env": if index.is_multiple_of(4) { "prod" } else { "dev" }},
            "hostnames": [format!("node-{index}.bench.internal")],
        },
        "tags": tags,
        "scanner": "platform-bench",
        "inventory": inventory,
    }))?)
}

/// The name of team `i`.
pub fn team_name(i: u64) -> String {
    format!("team-{i:02}")
}
