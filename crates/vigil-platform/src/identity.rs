//! A finding's identity: (asset, advisory with its aliases merged,
//! package, location). Two advisories that name each other (a GHSA and
//! the PYSEC record aliasing the same CVE, a DSA and its upstream CVE) on
//! the same package and file are one finding, filed under one key: the
//! lowest CVE id among them, else the lowest GHSA id, else the lowest id.
//! The installed version and the image layer are not part of the identity,
//! so an upgrade that stays vulnerable, or a rebuilt image, keeps the finding.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};
use vigil_match::{FixStatus, Kind};
use vigil_store::findings::Observed;

/// The key a group of ids is filed under.
pub fn vuln_key(ids: &BTreeSet<String>) -> String {
    let pick = |prefix: &str| ids.iter().filter(|i| i.starts_with(prefix)).min_by(|a, b| cve_order(a, b)).cloned();
    pick("CVE-").or_else(|| pick("GHSA-")).or_else(|| ids.iter().next().cloned()).unwrap_or_default()
}

/// Orders CVE ids by year, then number (`CVE-2021-9999` before `CVE-2021-10000`).
fn cve_order(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| {
        let mut it = s.splitn(3, '-').skip(1).map(|p| p.parse::<u64>().unwrap_or(u64::MAX));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    };
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity of a package finding.
pub fn identity(key: &str, ecosystem: &str, package: &str, location: &str) -> String {
    let digest = Sha256::digest(format!("package\n{key}\n{ecosystem}\n{package}\n{location}").as_bytes());
    hex(&digest[..16])
}

/// Disjoint sets over indices.
struct UnionFind(Vec<usize>);

impl UnionFind {
    fn find(&mut self, i: usize) -> usize {
        let mut root = i;
        while self.0[root] != root {
            root = self.0[root];
        }
        let mut i = i;
        while self.0[i] != root {
            let next = self.0[i];
            self.0[i] = root;
            i = next;
        }
        root
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

fn fix_word(status: FixStatus) -> &'static str {
    match status {
        FixStatus::FixAvailable => "available",
        FixStatus::NoFixYet => "none",
        FixStatus::WillNotFix => "wontfix",
    }
}

/// Turns matcher findings into observations, one per identity.
/// Informational advisories (RustSec `unmaintained`, ...) are not tracked.
pub fn observe(findings: &[vigil_match::Finding]) -> Vec<Observed> {
    let vulns: Vec<&vigil_match::Finding> = findings.iter().filter(|f| f.kind == Kind::Vulnerability).collect();
    // Group by package and location, then merge ids that name each other.
    let mut by_place: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, f) in vulns.iter().enumerate() {
        by_place.entry((&f.package.ecosystem, &f.package.name, &f.package.location.path)).or_default().push(i);
    }
    let mut sets = UnionFind((0..vulns.len()).collect());
    for members in by_place.values() {
        let mut owner: HashMap<&str, usize> = HashMap::new();
        for &i in members {
            for id in std::iter::once(&vulns[i].id).chain(&vulns[i].aliases) {
                match owner.get(id.as_str()) {
                    Some(&j) => sets.union(i, j),
                    None => {
                        owner.insert(id, i);
                    }
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..vulns.len() {
        groups.entry(sets.find(i)).or_default().push(i);
    }
    groups.values().map(|members| merge(members.iter().map(|&i| vulns[i]).collect())).collect()
}

/// One observation from findings that are the same vulnerability.
fn merge(members: Vec<&vigil_match::Finding>) -> Observed {
    let ids: BTreeSet<String> =
        members.iter().flat_map(|f| std::iter::once(&f.id).chain(&f.aliases)).cloned().collect();
    let key = vuln_key(&ids);
    // The most severe member speaks for the group; fixes are pooled.
    let lead = members
        .iter()
        .max_by(|a, b| {
            a.severity.cmp(&b.severity).then_with(|| a.risk.total_cmp(&b.risk)).then_with(|| b.id.cmp(&a.id))
        })
        .copied()
        .unwrap_or(members[0]);
    let fixed: BTreeSet<String> = members.iter().flat_map(|f| f.fixed.iter().cloned()).collect();
    let fix = members
        .iter()
        .map(|f| f.fix_status)
        .min_by_key(|s| match s {
            FixStatus::FixAvailable => 0,
            FixStatus::NoFixYet => 1,
            FixStatus::WillNotFix => 2,
        })
        .unwrap_or(lead.fix_status);
    let kev = members.iter().find_map(|f| f.kev.as_ref());
    let epss = members.iter().filter_map(|f| f.epss.as_ref().map(|e| e.score)).max_by(f64::total_cmp);
    let p = &lead.package;
    let details = serde_json::json!({
        "advisories": members.iter().map(|f| &f.id).collect::<Vec<_>>(),
        "matched_as": lead.matched_as,
        "advisory_ecosystem": lead.advisory_ecosystem,
        "status": lead.status,
        "evaluation": lead.evaluation.checks.iter().map(|c| c.describe()).collect::<Vec<_>>(),
    });
    let mut observed = Observed {
        identity: identity(&key, &p.ecosystem, &p.name, &p.location.path),
        source: "package".into(),
        vuln_key: key,
        vuln_ids: ids.into_iter().collect(),
        title: lead.summary.clone(),
        package: Some((p.name.clone(), p.version.clone(), p.ecosystem.clone(), p.purl.clone())),
        location: p.location.path.clone(),
        layer: p.location.layer.clone(),
        severity: lead.severity as i64,
        severity_source: lead.severity_source.clone(),
        cvss: lead.cvss_score,
        cvss_vector: lead.cvss_vector.clone(),
        epss,
        kev: kev.is_some(),
        kev_added: kev.map(|k| k.date_added.clone()),
        fix: fix_word(fix).into(),
        fixed_versions: fixed.into_iter().collect(),
        risk: members.iter().map(|f| f.risk).fold(0.0, f64::max),
        details: Some(details.to_string()),
        observed_hash: String::new(),
    };
    observed.observed_hash = observed_hash(&observed);
    observed
}

/// A digest of what an observation says, to skip rewriting unchanged rows.
pub fn observed_hash(o: &Observed) -> String {
    let text = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{}|{:?}|{}|{:?}",
        o.vuln_ids,
        o.title,
        o.package,
        o.location,
        o.layer,
        o.severity,
        o.severity_source,
        o.cvss,
        o.cvss_vector,
        o.epss,
        o.kev,
        o.kev_added,
        o.fix,
        o.fixed_versions,
        o.risk,
        o.details
    );
    hex(&Sha256::digest(text.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_prefer_cves_then_ghsas() {
        let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(vuln_key(&set(&["PYSEC-2023-62", "GHSA-m2qf", "CVE-2023-30861"])), "CVE-2023-30861");
        assert_eq!(vuln_key(&set(&["CVE-2021-10000", "CVE-2021-9999"])), "CVE-2021-9999");
        assert_eq!(vuln_key(&set(&["RUSTSEC-2021-0003", "GHSA-xxxx"])), "GHSA-xxxx");
        assert_eq!(vuln_key(&set(&["RUSTSEC-2021-0003"])), "RUSTSEC-2021-0003");
    }

    #[test]
    fn identity_ignores_version_and_layer() {
        assert_eq!(identity("CVE-1", "npm", "a", "/p"), identity("CVE-1", "npm", "a", "/p"));
        assert_ne!(identity("CVE-1", "npm", "a", "/p"), identity("CVE-1", "npm", "a", "/q"));
        assert_eq!(identity("CVE-1", "npm", "a", "/p").len(), 32);
    }
}
