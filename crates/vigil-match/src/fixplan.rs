//! Minimal fix plans: for each vulnerable package the lowest version that
//! clears its advisories, and the smallest set of such upgrades that makes a
//! scan pass its gate.
//!
//! **Lowest clearing version.** The candidates are the `fixed` events of
//! every advisory entry the database holds for the package (not only of the
//! advisories affecting the installed version: an advisory introduced in a
//! later branch can affect the first fix of another one), strictly above the
//! installed version, in the ecosystem's version order. A candidate is
//! accepted only when no vulnerability entry of the package matches it, each
//! re-evaluated at the candidate with the matcher's own range evaluation
//! ([`vigil_vulndb::evaluate::evaluate_affected`]), so a fix in one branch
//! that another advisory still covers is skipped and the advisories that
//! still match it are named. Listed `versions[]` are never candidates (a
//! listed version is affected by definition), nor is the version after a
//! `last_affected` (no one knows which it is). Informational advisories
//! (RustSec `unmaintained`, `unsound`, `notice`) never fail a gate and do
//! not hold a candidate back. A package with no accepted candidate has no
//! fix available and stays in the plan as such.
//!
//! **Which upgrades.** Debian and Ubuntu advisories key on the source
//! package and Alpine's on the origin ([`crate::lookup_key`]), so one change
//! is one (ecosystem, lookup name, lookup version): upgrading the source
//! package upgrades every binary package built from it. A finding can only
//! be removed by upgrading its own package, so the smallest set of changes
//! that passes the gate is exactly the changes of the packages holding a
//! finding that counts against the gate; the plan orders them by gate
//! findings removed, then findings removed, then the worst severity. Upgrades
//! that remove only findings the gate does not count are listed as optional.
//!
//! [`Planner`] remembers each (ecosystem, package, from-version) it
//! computed, so a fleet-wide plan computes each once.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use vigil_core::severity::Severity;
use vigil_version::Scheme;
use vigil_vulndb::Database;
use vigil_vulndb::evaluate::{evaluate_affected, fixed_versions};

use crate::{Finding, Kind, lookup_key};

/// A candidate version skipped because advisories still match it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The candidate.
    pub version: String,
    /// The advisories whose `fixed` event it is.
    pub fixes: Vec<String>,
    /// The vulnerability advisories that still match it.
    pub still_affected_by: Vec<String>,
}

/// The lowest version of a package that clears its advisories, and why
/// lower candidates were not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clearing {
    /// The lowest clearing version; `None` when no fix is available.
    pub to: Option<String>,
    /// Candidates between the installed version and `to` that advisories
    /// still match (all candidates when `to` is `None`).
    pub skipped: Vec<Skipped>,
    /// Why there is no clearing version, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_fix_reason: Option<String>,
}

/// One finding an upgrade removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// The advisory id.
    pub id: String,
    /// The installed package it was found on.
    pub package: String,
    /// Its severity.
    pub severity: Severity,
    /// Whether it counts against the gate.
    pub counts: bool,
}

/// One change: upgrade a package (for Debian/Ubuntu the source package,
/// for Alpine the origin) to its lowest clearing version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Upgrade {
    /// The package's ecosystem (`crates.io`, `Debian:12`).
    pub ecosystem: String,
    /// The name advisories key on (the source package for Debian/Ubuntu).
    pub package: String,
    /// The version installed (the source version for Debian/Ubuntu).
    pub from: String,
    /// The lowest clearing version and the candidates skipped.
    #[serde(flatten)]
    pub clearing: Clearing,
    /// The installed packages it changes (binary packages of a source package).
    pub installed: Vec<String>,
    /// The findings it removes.
    pub removes: Vec<Removed>,
    /// How many of them count against the gate.
    pub gate_findings: usize,
    /// Findings removed per severity.
    pub severities: BTreeMap<Severity, usize>,
}

impl Upgrade {
    /// The worst severity among the findings it removes.
    pub fn worst(&self) -> Severity {
        self.removes.iter().map(|r| r.severity).max().unwrap_or(Severity::Unknown)
    }
}

/// Findings counted per severity, before or after a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Vulnerability findings.
    pub findings: usize,
    /// Of which count against the gate.
    pub gate_findings: usize,
    /// Per severity.
    pub severities: BTreeMap<Severity, usize>,
}

impl Tally {
    fn add(&mut self, severity: Severity, counts: bool) {
        self.findings += 1;
        self.gate_findings += usize::from(counts);
        *self.severities.entry(severity).or_default() += 1;
    }
}

/// A fix plan for one set of findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The upgrades that pass the gate, most gate findings removed first.
    pub steps: Vec<Upgrade>,
    /// Packages holding gate findings that no known version clears: while
    /// they are there, upgrades alone cannot pass the gate.
    pub no_fix: Vec<Upgrade>,
    /// Upgrades that remove only findings the gate does not count.
    pub optional: Vec<Upgrade>,
    /// Vulnerability findings before the plan.
    pub before: Tally,
    /// Vulnerability findings left once every step is applied.
    pub after: Tally,
}

impl Plan {
    /// Whether applying the steps leaves no finding the gate counts.
    pub fn clears_gate_findings(&self) -> bool {
        self.after.gate_findings == 0
    }
}

/// The identity of one change: ecosystem, lookup name, lookup version.
type Key = (String, String, String);

/// Computes fix plans against one advisory database, remembering each
/// package's clearing version.
pub struct Planner<'a> {
    db: &'a Database,
    known: HashMap<Key, Clearing>,
}

impl<'a> Planner<'a> {
    /// A planner over `db`.
    pub fn new(db: &'a Database) -> Planner<'a> {
        Planner { db, known: HashMap::new() }
    }

    /// How many distinct (ecosystem, package, version) it has computed.
    pub fn computed(&self) -> usize {
        self.known.len()
    }

    /// The lowest version of `name` in `ecosystem` above `installed` that
    /// no vulnerability advisory of the package matches.
    pub fn clearing(&mut self, ecosystem: &str, name: &str, installed: &str) -> vigil_vulndb::Result<Clearing> {
        let key = (ecosystem.to_owned(), name.to_owned(), installed.to_owned());
        if let Some(known) = self.known.get(&key) {
            return Ok(known.clone());
        }
        let found = lowest_clearing(self.db, ecosystem, name, installed)?;
        self.known.insert(key, found.clone());
        Ok(found)
    }

    /// The plan for `findings` (as reported, after filters and suppressions),
    /// where `counts` says which findings fail the gate.
    pub fn plan(&mut self, findings: &[Finding], counts: &dyn Fn(&Finding) -> bool) -> vigil_vulndb::Result<Plan> {
        let mut groups: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
        let mut before = Tally::default();
        for f in findings.iter().filter(|f| f.kind == Kind::Vulnerability) {
            before.add(f.severity, counts(f));
            let (name, version) = lookup_key(&f.package);
            groups.entry((f.package.ecosystem.clone(), name, version)).or_default().push(f);
        }
        let (mut steps, mut no_fix, mut optional) = (Vec::new(), Vec::new(), Vec::new());
        let mut after = Tally::default();
        for ((ecosystem, package, from), group) in groups {
            let clearing = self.clearing(&ecosystem, &package, &from)?;
            let mut installed: Vec<String> = group.iter().map(|f| f.package.name.clone()).collect();
            installed.sort();
            installed.dedup();
            let removes: Vec<Removed> = group
                .iter()
                .map(|f| Removed {
                    id: f.id.clone(),
                    package: f.package.name.clone(),
                    severity: f.severity,
                    counts: counts(f),
                })
                .collect();
            let mut severities = BTreeMap::new();
            for r in &removes {
                *severities.entry(r.severity).or_default() += 1;
            }
            let gate_findings = removes.iter().filter(|r| r.counts).count();
            let upgrade = Upgrade { ecosystem, package, from, clearing, installed, removes, gate_findings, severities };
            let fixable = upgrade.clearing.to.is_some();
            if gate_findings > 0 && fixable {
                steps.push(upgrade);
                continue;
            }
            for r in &upgrade.removes {
                after.add(r.severity, r.counts);
            }
            match (gate_findings > 0, fixable) {
                (true, _) => no_fix.push(upgrade),
                (false, true) => optional.push(upgrade),
                (false, false) => {}
            }
        }
        let order = |a: &Upgrade, b: &Upgrade| {
            b.gate_findings
                .cmp(&a.gate_findings)
                .then_with(|| b.removes.len().cmp(&a.removes.len()))
                .then_with(|| b.worst().cmp(&a.worst()))
                .then_with(|| (&a.ecosystem, &a.package, &a.from).cmp(&(&b.ecosystem, &b.package, &b.from)))
        };
        steps.sort_by(order);
        no_fix.sort_by(order);
        optional.sort_by(order);
        Ok(Plan { steps, no_fix, optional, before, after })
    }
}

/// The lowest clearing version of one package (see the module docs).
pub fn lowest_clearing(db: &Database, ecosystem: &str, name: &str, installed: &str) -> vigil_vulndb::Result<Clearing> {
    let Some(scheme) = Scheme::for_ecosystem(ecosystem) else {
        return Ok(Clearing {
            to: None,
            skipped: Vec::new(),
            no_fix_reason: Some(format!("no version ordering is known for {ecosystem}")),
        });
    };
    let entries = db.entries(ecosystem, name)?;
    // Every fixed event above the installed version, with the advisories it fixes.
    let mut candidates: Vec<(String, Vec<String>)> = Vec::new();
    for e in &entries {
        for v in fixed_versions(&e.affected) {
            if scheme.compare(&v, installed).is_le() {
                continue;
            }
            match candidates.iter_mut().find(|(c, _)| scheme.compare(c, &v).is_eq()) {
                Some((_, ids)) if !ids.contains(&e.id) => ids.push(e.id.clone()),
                Some(_) => {}
                None => candidates.push((v, vec![e.id.clone()])),
            }
        }
    }
    candidates.sort_by(|a, b| scheme.compare(&a.0, &b.0).then_with(|| a.0.cmp(&b.0)));
    let mut skipped = Vec::new();
    for (version, fixes) in candidates {
        let mut still: Vec<String> = entries
            .iter()
            .filter(|e| e.informational.is_none())
            .filter(|e| evaluate_affected(e.affected.clone(), &e.ecosystem, &version).affected)
            .map(|e| e.id.clone())
            .collect();
        still.dedup();
        if still.is_empty() {
            return Ok(Clearing { to: Some(version), skipped, no_fix_reason: None });
        }
        skipped.push(Skipped { version, fixes, still_affected_by: still });
    }
    let reason = if skipped.is_empty() {
        "no advisory of the package names a fixed version above the installed one".to_owned()
    } else {
        "every fixed version above the installed one is still affected by an advisory".to_owned()
    };
    Ok(Clearing { to: None, skipped, no_fix_reason: Some(reason) })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use vigil_core::inventory::{Location, Package};
    use vigil_vulndb::{Limits, NoProgress, import};

    use super::*;
    use crate::match_inventory;

    /// A database of `records` (OSV JSON), built by the real importer.
    fn database(dir: &Path, records: &[&str]) -> Database {
        let input = dir.join("osv");
        std::fs::create_dir_all(&input).unwrap();
        for (i, r) in records.iter().enumerate() {
            std::fs::write(input.join(format!("{i}.json")), r).unwrap();
        }
        let db = dir.join("vigil.db");
        import(&[input], &db, Limits::default(), &NoProgress).unwrap();
        Database::open(&db).unwrap()
    }

    fn record(id: &str, severity: Option<&str>, package: &str, events: &str, informational: bool) -> String {
        let severity = severity.map(|s| format!(r#","database_specific":{{"severity":"{s}"}}"#)).unwrap_or_default();
        let informational = if informational { r#","database_specific":{"informational":"unsound"}"# } else { "" };
        format!(
            r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z"{severity},
               "affected":[{{"package":{{"ecosystem":"crates.io","name":"{package}"}}{informational},
               "ranges":[{{"type":"SEMVER","events":{events}}}]}}]}}"#
        )
    }

    fn package(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            version_source: None,
            ecosystem: "crates.io".into(),
            purl: format!("pkg:cargo/{name}@{version}"),
            source: None,
            arch: None,
            license: None,
            location: Location { path: "Cargo.lock".into(), layer: None },
            cataloger: "cargo-lock".into(),
            properties: Default::default(),
        }
    }

    fn inventory(packages: Vec<Package>) -> vigil_core::inventory::Inventory {
        vigil_core::inventory::Inventory { target: "Cargo.lock".into(), packages, ..Default::default() }
    }

    /// tokio's real ranges (RUSTSEC-2021-0072, -2021-0124, -2023-0001; the
    /// unsound RUSTSEC-2023-0005 is informational).
    fn tokio_records() -> Vec<String> {
        vec![
            record(
                "RUSTSEC-2021-0072",
                Some("HIGH"),
                "tokio",
                r#"[{"introduced":"0.3.0"},{"fixed":"1.5.1"},{"introduced":"1.6.0"},{"fixed":"1.6.3"},
                   {"introduced":"1.7.0"},{"fixed":"1.7.2"},{"introduced":"1.8.0"},{"fixed":"1.8.1"}]"#,
                false,
            ),
            record(
                "RUSTSEC-2021-0124",
                Some("MEDIUM"),
                "tokio",
                r#"[{"introduced":"0.1.14"},{"fixed":"1.8.4"},{"introduced":"1.9.0"},{"fixed":"1.13.1"}]"#,
                false,
            ),
            record(
                "RUSTSEC-2023-0001",
                Some("MEDIUM"),
                "tokio",
                r#"[{"introduced":"1.7.0"},{"fixed":"1.18.4"},{"introduced":"1.19.0"},{"fixed":"1.20.3"}]"#,
                false,
            ),
            record("RUSTSEC-2023-0005", None, "tokio", r#"[{"introduced":"0.2.0"},{"fixed":"1.18.5"}]"#, true),
            record("RUSTSEC-2099-0001", Some("LOW"), "noway", r#"[{"introduced":"0"}]"#, false),
            record("RUSTSEC-2099-0002", Some("LOW"), "later", r#"[{"introduced":"0"},{"fixed":"2.0.0"}]"#, false),
            record(
                "RUSTSEC-2099-0003",
                Some("CRITICAL"),
                "later",
                r#"[{"introduced":"1.9.0"},{"fixed":"2.1.0"}]"#,
                false,
            ),
        ]
    }

    #[test]
    fn the_first_fix_of_one_advisory_is_skipped_when_another_still_matches() {
        let dir = tempfile::tempdir().unwrap();
        let records = tokio_records();
        let db = database(dir.path(), &records.iter().map(String::as_str).collect::<Vec<_>>());
        let c = lowest_clearing(&db, "crates.io", "tokio", "1.8.0").unwrap();
        assert_eq!(c.to.as_deref(), Some("1.18.4"), "{c:?}");
        let skipped: Vec<&str> = c.skipped.iter().map(|s| s.version.as_str()).collect();
        assert_eq!(skipped, ["1.8.1", "1.8.4", "1.13.1"]);
        assert_eq!(c.skipped[0].fixes, ["RUSTSEC-2021-0072"]);
        assert_eq!(c.skipped[0].still_affected_by, ["RUSTSEC-2021-0124", "RUSTSEC-2023-0001"]);
        // A version already past every fix has nothing to clear.
        assert_eq!(lowest_clearing(&db, "crates.io", "tokio", "1.19.0").unwrap().to.as_deref(), Some("1.20.3"));
    }

    #[test]
    fn an_advisory_not_affecting_the_installed_version_can_hold_back_a_fix() {
        let dir = tempfile::tempdir().unwrap();
        let records = tokio_records();
        let db = database(dir.path(), &records.iter().map(String::as_str).collect::<Vec<_>>());
        // 1.0.0 is affected by -0002 only; its fix 2.0.0 falls in -0003's range.
        let c = lowest_clearing(&db, "crates.io", "later", "1.0.0").unwrap();
        assert_eq!(c.to.as_deref(), Some("2.1.0"));
        assert_eq!(c.skipped[0].still_affected_by, ["RUSTSEC-2099-0003"]);
        let none = lowest_clearing(&db, "crates.io", "noway", "1.0.0").unwrap();
        assert_eq!(none.to, None);
        assert!(none.no_fix_reason.unwrap().contains("no advisory"));
    }

    #[test]
    fn the_plan_passes_the_gate_and_a_rematch_confirms_it() {
        let dir = tempfile::tempdir().unwrap();
        let records = tokio_records();
        let db = database(dir.path(), &records.iter().map(String::as_str).collect::<Vec<_>>());
        let inv = inventory(vec![package("tokio", "1.8.0"), package("later", "1.0.0"), package("noway", "1.0.0")]);
        let findings = match_inventory(&db, &inv).unwrap();
        // The gate: medium or worse.
        let counts = |f: &Finding| f.kind == Kind::Vulnerability && f.severity >= Severity::Medium;
        let mut planner = Planner::new(&db);
        let plan = planner.plan(&findings, &counts).unwrap();
        let steps: Vec<(&str, Option<&str>, usize)> =
            plan.steps.iter().map(|u| (u.package.as_str(), u.clearing.to.as_deref(), u.gate_findings)).collect();
        assert_eq!(steps, [("tokio", Some("1.18.4"), 3)]);
        assert!(plan.no_fix.is_empty(), "noway's finding is low: the gate does not need it");
        assert_eq!(plan.optional.iter().map(|u| u.package.as_str()).collect::<Vec<_>>(), ["later"]);
        assert_eq!(plan.before.gate_findings, 3);
        assert!(plan.clears_gate_findings());
        assert_eq!(plan.after.findings, 2, "later and noway stay");

        // Applying the steps and matching again leaves no gate finding.
        let mut upgraded = inv.clone();
        for p in &mut upgraded.packages {
            if let Some(step) = plan.steps.iter().find(|u| u.package == p.name) {
                p.version = step.clearing.to.clone().unwrap();
            }
        }
        let again = match_inventory(&db, &upgraded).unwrap();
        assert!(!again.iter().any(counts), "{again:?}");

        // With every vulnerability counted, noway blocks the gate.
        let plan = planner.plan(&findings, &|f: &Finding| f.kind == Kind::Vulnerability).unwrap();
        assert_eq!(plan.steps.len(), 2);
        assert_eq!(plan.no_fix.iter().map(|u| u.package.as_str()).collect::<Vec<_>>(), ["noway"]);
        assert!(!plan.clears_gate_findings());
        assert_eq!(planner.computed(), 3, "each package computed once over both plans");
    }
}
