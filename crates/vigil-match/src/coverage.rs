//! Whether the database can say anything about what was found: for every
//! ecosystem in the inventory (an OS release such as `Debian:12`, a
//! language ecosystem such as `PyPI`), how many advisories the database
//! holds for it, and for an operating system Vigil detects but has no
//! advisories for at all (`arch`, `fedora 40`), that it cannot be matched.
//! A scan that found nothing because it had no data must never look clean.

use std::collections::BTreeMap;

use serde::Serialize;
use vigil_core::ecosystem::Ecosystem;
use vigil_core::inventory::Inventory;
use vigil_version::Scheme;
use vigil_vulndb::Database;

/// What kind of packages an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageKind {
    /// The operating system's packages (dpkg, apk, rpm).
    Os,
    /// Language packages (lockfiles, installed metadata, binaries).
    Language,
}

/// Whether an ecosystem's packages were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageStatus {
    /// The database holds advisories for it.
    Covered,
    /// The database holds none: its packages were not checked.
    NoAdvisories,
    /// Vigil cannot match it at all (an OS it has no advisory ecosystem
    /// for, an ecosystem it has no version ordering for).
    Unsupported,
}

impl CoverageStatus {
    /// Lower-case words.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageStatus::Covered => "covered",
            CoverageStatus::NoAdvisories => "no advisories",
            CoverageStatus::Unsupported => "unsupported",
        }
    }
}

/// One ecosystem of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// OS or language packages.
    pub kind: CoverageKind,
    /// The ecosystem its packages are looked up in (`Debian:12`, `PyPI`),
    /// or, for an OS Vigil cannot match, the OS as detected (`arch`).
    pub ecosystem: String,
    /// Packages of the inventory in it.
    pub packages: usize,
    /// Advisories the database holds for it.
    pub advisories: u64,
    /// Whether its packages were checked.
    pub status: CoverageStatus,
    /// What a person should know or do, when not simply covered.
    pub note: Option<String>,
}

impl Coverage {
    /// Whether the packages of this entry went unchecked.
    pub fn is_gap(&self) -> bool {
        self.status != CoverageStatus::Covered
    }

    /// One line for people: `Debian:12: no advisories in the database, 145 packages not checked (...)`.
    pub fn describe(&self) -> String {
        let plural = if self.packages == 1 { "" } else { "s" };
        let head = match self.status {
            CoverageStatus::Covered => {
                format!("{}: {} advisories for {} package{plural}", self.ecosystem, self.advisories, self.packages)
            }
            CoverageStatus::NoAdvisories => format!(
                "{}: no advisories in the database, {} package{plural} not checked",
                self.ecosystem, self.packages
            ),
            CoverageStatus::Unsupported => {
                format!("{}: Vigil cannot match it, {} package{plural} not checked", self.ecosystem, self.packages)
            }
        };
        match &self.note {
            Some(note) => format!("{head} ({note})"),
            None => head,
        }
    }
}

fn kind_of(ecosystem: &Ecosystem) -> CoverageKind {
    match ecosystem.scheme() {
        Some(Scheme::Dpkg | Scheme::Rpm | Scheme::Apk) => CoverageKind::Os,
        _ => CoverageKind::Language,
    }
}

/// The coverage of every ecosystem in `inventory`, OS first, then by name.
pub fn coverage(db: &Database, inventory: &Inventory) -> vigil_vulndb::Result<Vec<Coverage>> {
    let mut packages: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &inventory.packages {
        *packages.entry(p.ecosystem.as_str()).or_default() += 1;
    }
    let mut out = Vec::new();
    if let Some(os) = inventory.os.as_ref().filter(|os| os.ecosystem.is_none()) {
        // Detected, but Vigil knows no advisory ecosystem for this OS release.
        let name = match &os.version_id {
            Some(v) => format!("{} {v}", os.id),
            None => os.id.clone(),
        };
        let os_packages: Vec<&str> =
            packages.keys().copied().filter(|e| kind_of(&Ecosystem::parse(e)) == CoverageKind::Os).collect();
        let note = match os_packages.as_slice() {
            [] => "no advisory source Vigil reads covers this OS, and none of its packages were read".to_owned(),
            bases => format!(
                "no advisory source Vigil reads covers this OS; its packages are looked up as {}, without a release",
                bases.join(", ")
            ),
        };
        out.push(Coverage {
            kind: CoverageKind::Os,
            ecosystem: name,
            packages: os_packages.iter().map(|e| packages[e]).sum(),
            advisories: 0,
            status: CoverageStatus::Unsupported,
            note: Some(note),
        });
    }
    for (&name, &count) in &packages {
        let ecosystem = Ecosystem::parse(name);
        let kind = kind_of(&ecosystem);
        let (advisories, status, note) = if ecosystem.scheme().is_none() {
            (0, CoverageStatus::Unsupported, Some("Vigil has no version ordering for it".to_owned()))
        } else {
            let advisories = db.advisories_for(name)?;
            let note = match (advisories, kind, ecosystem.release()) {
                (0, _, _) => Some(format!(
                    "update the database from a source that has {} advisories: vigil db update --ecosystem {}",
                    name,
                    ecosystem.base()
                )),
                (_, CoverageKind::Os, None) => {
                    Some("the OS release is unknown: advisories of every release apply".to_owned())
                }
                _ => None,
            };
            let status = if advisories == 0 { CoverageStatus::NoAdvisories } else { CoverageStatus::Covered };
            (advisories, status, note)
        };
        out.push(Coverage { kind, ecosystem: name.to_owned(), packages: count, advisories, status, note });
    }
    out.sort_by_key(|c| c.kind != CoverageKind::Os);
    Ok(out)
}
