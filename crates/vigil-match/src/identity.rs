//! A finding's identity across scans: the advisory with its aliases
//! merged, the package, and the file it was found in. One definition,
//! shared by the scanner (`vigil scan --baseline`, `vigil diff`) and the
//! server's finding lifecycle, so both call the same things new and fixed.
//!
//! Two advisories that name each other (a GHSA and the PYSEC record
//! aliasing the same CVE, a DSA and its upstream CVE) on the same package
//! and file are one finding, filed under one key: the lowest CVE id among
//! them, else the lowest GHSA id, else the lowest id ([`vuln_key`]). The
//! installed version and the image layer are not part of the identity, so
//! an upgrade that stays vulnerable, a re-ordered lockfile or a rebuilt
//! image keeps the finding. When an advisory gains or loses an alias
//! between two scans its key moves; [`pair`] still pairs the two findings
//! through the id they share.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};

/// Where a package finding is: (ecosystem, package name, location path).
pub type Place<'a> = (&'a str, &'a str, &'a str);

/// The key a group of ids is filed under.
pub fn vuln_key<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let ids: BTreeSet<&str> = ids.into_iter().collect();
    let pick = |prefix: &str| ids.iter().filter(|i| i.starts_with(prefix)).min_by(|a, b| cve_order(a, b)).copied();
    pick("CVE-").or_else(|| pick("GHSA-")).or_else(|| ids.iter().next().copied()).unwrap_or_default().to_owned()
}

/// Orders CVE ids by year, then number (`CVE-2021-9999` before `CVE-2021-10000`).
fn cve_order(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| {
        let mut it = s.splitn(3, '-').skip(1).map(|p| p.parse::<u64>().unwrap_or(u64::MAX));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    };
    parts(a).cmp(&parts(b)).then_with(|| a.cmp(b))
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity of a package finding: 32 hexadecimal digits.
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

/// Groups `items` that are one vulnerability: the same place, sharing an
/// id (directly or through another item). Each group lists indices in
/// order; groups come in the order of their first item.
pub fn merge_aliases<'a, T>(
    items: &'a [T],
    place: impl Fn(&'a T) -> Place<'a>,
    ids: impl Fn(&'a T) -> Vec<&'a str>,
) -> Vec<Vec<usize>> {
    let mut by_place: BTreeMap<Place<'a>, Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        by_place.entry(place(item)).or_default().push(i);
    }
    let mut sets = UnionFind((0..items.len()).collect());
    for members in by_place.values() {
        let mut owner: HashMap<&str, usize> = HashMap::new();
        for &i in members {
            for id in ids(&items[i]) {
                match owner.get(id) {
                    Some(&j) => sets.union(i, j),
                    None => {
                        owner.insert(id, i);
                    }
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..items.len() {
        groups.entry(sets.find(i)).or_default().push(i);
    }
    groups.into_values().collect()
}

/// A finding as [`pair`] sees it.
#[derive(Debug, Clone)]
pub struct Tracked<'a> {
    /// Its identity ([`identity`] for package findings; results carry their own).
    pub identity: &'a str,
    /// Where a package finding is; `None` for findings paired by identity alone.
    pub place: Option<Place<'a>>,
    /// Every id and alias it is known by.
    pub ids: Vec<&'a str>,
}

/// Pairs each `later` finding with the `earlier` one it continues: the same
/// identity first; then, for package findings whose key moved because an
/// advisory gained or lost an alias, the first unpaired earlier finding at
/// the same place sharing an id. An earlier finding pairs at most once.
/// Returns, for each later finding, the index of its earlier one.
pub fn pair(earlier: &[Tracked<'_>], later: &[Tracked<'_>]) -> Vec<Option<usize>> {
    let by_identity: HashMap<&str, usize> = earlier.iter().enumerate().map(|(i, e)| (e.identity, i)).collect();
    let mut claimed: HashSet<usize> = HashSet::new();
    let mut pairs: Vec<Option<usize>> =
        later.iter().map(|l| by_identity.get(l.identity).copied().filter(|&i| claimed.insert(i))).collect();
    let mut by_place: HashMap<Place<'_>, Vec<usize>> = HashMap::new();
    for (i, e) in earlier.iter().enumerate() {
        if let Some(place) = e.place {
            by_place.entry(place).or_default().push(i);
        }
    }
    for (l, slot) in later.iter().zip(pairs.iter_mut()) {
        let (None, Some(place)) = (*slot, l.place) else { continue };
        let ids: HashSet<&str> = l.ids.iter().copied().collect();
        let same = by_place
            .get(&place)
            .into_iter()
            .flatten()
            .copied()
            .find(|i| !claimed.contains(i) && earlier[*i].ids.iter().any(|id| ids.contains(id)));
        if let Some(i) = same {
            claimed.insert(i);
            *slot = Some(i);
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_prefer_cves_then_ghsas() {
        assert_eq!(vuln_key(["PYSEC-2023-62", "GHSA-m2qf", "CVE-2023-30861"]), "CVE-2023-30861");
        assert_eq!(vuln_key(["CVE-2021-10000", "CVE-2021-9999"]), "CVE-2021-9999");
        assert_eq!(vuln_key(["RUSTSEC-2021-0003", "GHSA-xxxx"]), "GHSA-xxxx");
        assert_eq!(vuln_key(["RUSTSEC-2021-0003"]), "RUSTSEC-2021-0003");
    }

    #[test]
    fn identity_ignores_version_and_layer() {
        assert_eq!(identity("CVE-1", "npm", "a", "/p"), identity("CVE-1", "npm", "a", "/p"));
        assert_ne!(identity("CVE-1", "npm", "a", "/p"), identity("CVE-1", "npm", "a", "/q"));
        assert_eq!(identity("CVE-1", "npm", "a", "/p").len(), 32);
    }

    #[test]
    fn aliases_merge_only_at_one_place() {
        let items = [
            (("PyPI", "flask", "/r.txt"), vec!["PYSEC-2023-62", "CVE-2023-30861"]),
            (("PyPI", "flask", "/r.txt"), vec!["GHSA-m2qf", "CVE-2023-30861"]),
            (("PyPI", "flask", "/other.txt"), vec!["GHSA-m2qf"]),
            (("PyPI", "flask", "/r.txt"), vec!["PYSEC-2019-179"]),
        ];
        let groups = merge_aliases(&items, |i| i.0, |i| i.1.clone());
        assert_eq!(groups, [vec![0, 1], vec![2], vec![3]]);
    }

    #[test]
    fn pairs_by_identity_then_by_a_shared_id_at_the_same_place() {
        let place = Some(("PyPI", "flask", "/r.txt"));
        let earlier = [
            Tracked { identity: "a", place, ids: vec!["GHSA-1"] },
            Tracked { identity: "b", place, ids: vec!["PYSEC-2"] },
            Tracked { identity: "c", place: None, ids: vec!["X"] },
        ];
        let later = [
            Tracked { identity: "z", place, ids: vec!["CVE-1", "GHSA-1"] },
            Tracked { identity: "b", place, ids: vec!["PYSEC-2"] },
            Tracked { identity: "y", place: None, ids: vec!["X"] },
            Tracked { identity: "b", place, ids: vec!["PYSEC-2"] },
        ];
        assert_eq!(pair(&earlier, &later), [Some(0), Some(1), None, None]);
    }
}
