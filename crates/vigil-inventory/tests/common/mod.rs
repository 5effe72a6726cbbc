//! Helpers shared by the inventory integration tests; each test binary uses a subset.
#![allow(dead_code)]

use vigil_core::inventory::Inventory;

/// `name \t version \t source \t source-version`, sorted, as dpkg-query prints it.
pub fn dpkg_lines(inv: &Inventory) -> Vec<String> {
    let mut lines: Vec<String> = inv
        .packages
        .iter()
        .filter(|p| p.cataloger == "dpkg")
        .map(|p| {
            let s = p.source.as_ref().unwrap();
            format!("{}\t{}\t{}\t{}", p.name, p.version, s.name, s.version)
        })
        .collect();
    lines.sort();
    lines
}

/// Flips the given bytes (positions wrap around) and optionally truncates:
/// the mutation every hostile-input property test applies to a real file.
pub fn mutate(mut data: Vec<u8>, flips: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    for (i, b) in flips {
        let len = data.len();
        data[i % len] ^= b | 1;
    }
    if let Some(c) = cut {
        data.truncate(c % (data.len() + 1));
    }
    data
}

/// `purl ecosystem path cataloger` of every package, sorted: what two forms of one target must share.
pub fn comparable(inv: &Inventory) -> Vec<String> {
    let mut v: Vec<String> = inv
        .packages
        .iter()
        .map(|p| format!("{} {} {} {}", p.purl, p.ecosystem, p.location.path, p.cataloger))
        .collect();
    v.sort();
    v
}
