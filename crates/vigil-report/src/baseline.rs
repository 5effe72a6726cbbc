//! Baselines and diffs: what changed between an earlier scan and a later
//! one. A side is a Vigil JSON report read back ([`Side::from_report`]),
//! a scan just made ([`Side::of_report`]) or what a server holds for an
//! asset. [`compare`] pairs findings by their identity
//! ([`vigil_match::identity`], the server's definition: advisory with its
//! aliases merged, package, location), so a re-ordered lockfile or a rebuilt
//! image with the same packages shows no change and an advisory renamed to
//! its alias is not new, and lists packages added, removed and changed.
//!
//! A single lockfile scanned as a file is found at a path that depends on
//! where it was checked out (`/main/package-lock.json` and
//! `/pr/package-lock.json`), or on the server, under the path it was
//! uploaded with; a side whose packages all come from one file is compared
//! by that file's name alone.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use vigil_core::inventory::{Inventory, Package};
use vigil_core::severity::Severity;
use vigil_match::identity::{Place, Tracked, identity, merge_aliases, pair, vuln_key};
use vigil_match::{BaselineState, Finding, FixStatus, Kind, SeverityFrom};

use crate::ScanReport;

/// A finding as comparisons and their reports show it: what a JSON report
/// records of it, read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Advisory id.
    pub id: String,
    /// Other ids.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Summary line.
    #[serde(default)]
    pub summary: Option<String>,
    /// Vulnerability or informational.
    #[serde(default = "vulnerability")]
    pub kind: Kind,
    /// The package as installed.
    pub package: Package,
    /// Versions that fix it.
    #[serde(default)]
    pub fixed: Vec<String>,
    /// Fix status.
    #[serde(default = "no_fix_yet")]
    pub fix_status: FixStatus,
    /// The source's own status word.
    #[serde(default)]
    pub status: Option<String>,
    /// Severity.
    #[serde(default = "unknown")]
    pub severity: Severity,
    /// CVSS base score.
    #[serde(default)]
    pub cvss_score: Option<f64>,
    /// Where the severity came from.
    #[serde(default)]
    pub severity_source: Option<String>,
    /// The record the severity was taken from.
    #[serde(default)]
    pub severity_from: Option<SeverityFrom>,
    /// When CISA KEV listed it, if it did.
    #[serde(default)]
    pub kev: Option<KevDate>,
    /// Its EPSS score, when known.
    #[serde(default)]
    pub epss: Option<EpssOnly>,
    /// What it is next to the other side of a comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
}

fn vulnerability() -> Kind {
    Kind::Vulnerability
}

fn no_fix_yet() -> FixStatus {
    FixStatus::NoFixYet
}

fn unknown() -> Severity {
    Severity::Unknown
}

/// The date a KEV entry was added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KevDate {
    /// The CVE.
    #[serde(default)]
    pub cve_id: String,
    /// YYYY-MM-DD.
    pub date_added: String,
}

/// An EPSS score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpssOnly {
    /// Probability of exploitation in the next 30 days.
    pub score: f64,
}

impl From<&Finding> for Record {
    fn from(f: &Finding) -> Record {
        Record {
            id: f.id.clone(),
            aliases: f.aliases.clone(),
            summary: f.summary.clone(),
            kind: f.kind.clone(),
            package: f.package.clone(),
            fixed: f.fixed.clone(),
            fix_status: f.fix_status,
            status: f.status.clone(),
            severity: f.severity,
            cvss_score: f.cvss_score,
            severity_source: f.severity_source.clone(),
            severity_from: f.severity_from.clone(),
            kev: f.kev.as_ref().map(|k| KevDate { cve_id: k.cve_id.clone(), date_added: k.date_added.clone() }),
            epss: f.epss.as_ref().map(|e| EpssOnly { score: e.score }),
            baseline: f.baseline,
        }
    }
}

impl Record {
    /// Every id it is known by.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, Default)]
pub struct Side {
    /// What was scanned, as the scan named it.
    pub target: String,
    /// When it was scanned, when known.
    pub scanned_at: Option<String>,
    /// Where this side was read (a report file, a server's asset, a target scanned now).
    pub source: String,
    /// Its findings.
    pub findings: Vec<Record>,
    /// Its packages; `None` when the source does not list them (a report
    /// of schema 2).
    pub packages: Option<Vec<Package>>,
}

/// Why a file is not a baseline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a Vigil JSON report.
    #[error("{0}: not a Vigil JSON report (write one with `vigil scan TARGET --format json=FILE`): {1}")]
    NotAReport(String, String),
    /// A report of a later layout.
    #[error("{0}: a report of schema {1}, written by a newer Vigil; this one reads schema {max} and earlier", max = crate::SCAN_SCHEMA_VERSION)]
    Newer(String, u32),
}

/// The fields that make a JSON document a Vigil report.
#[derive(Deserialize)]
struct Probe {
    schema_version: Option<serde::de::IgnoredAny>,
    database_built_at: Option<serde::de::IgnoredAny>,
    findings: Option<serde::de::IgnoredAny>,
}

/// A Vigil JSON report, as far as comparisons read it.
#[derive(Deserialize)]
struct ReportFile {
    target: String,
    #[serde(default)]
    scanned_at: Option<String>,
    findings: Vec<Record>,
    #[serde(default)]
    packages: Option<Vec<Package>>,
}

/// Whether `bytes` hold a Vigil JSON report (a JSON object with its
/// `schema_version`, `database_built_at` and `findings`), read without
/// building a tree.
pub fn is_report(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Probe>(bytes)
        .is_ok_and(|p| p.schema_version.is_some() && p.database_built_at.is_some() && p.findings.is_some())
}

impl Side {
    /// Reads a Vigil JSON report; `name` names it in errors and reports.
    pub fn from_report(bytes: &[u8], name: &str) -> Result<Side, Error> {
        if !is_report(bytes) {
            let why = match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Err(e) => e.to_string(),
                Ok(_) => "no schema_version, database_built_at and findings".into(),
            };
            return Err(Error::NotAReport(name.into(), why));
        }
        let schema = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes)
            .ok()
            .and_then(|m| m.get("schema_version").and_then(serde_json::Value::as_u64))
            .unwrap_or(0);
        if schema > u64::from(crate::SCAN_SCHEMA_VERSION) {
            return Err(Error::Newer(name.into(), u32::try_from(schema).unwrap_or(u32::MAX)));
        }
        let report: ReportFile =
            serde_json::from_slice(bytes).map_err(|e| Error::NotAReport(name.into(), e.to_string()))?;
        Ok(Side {
            target: report.target,
            scanned_at: report.scanned_at,
            source: name.into(),
            findings: report.findings,
            packages: report.packages,
        })
    }

    /// A scan just made.
    pub fn of_report(report: &ScanReport, source: &str) -> Side {
        Side {
            target: report.target.clone(),
            scanned_at: Some(report.scanned_at.clone()),
            source: source.into(),
            findings: report.findings.iter().map(Record::from).collect(),
            packages: Some(report.inventory.packages.clone()),
        }
    }

    /// The one file all of a side's packages come from (a lockfile scanned
    /// alone), and the name it is compared under: its file name.
    fn single_file(&self) -> Option<(&str, String)> {
        let mut locations: Vec<&str> = match &self.packages {
            Some(packages) => packages.iter().map(|p| p.location.path.as_str()).collect(),
            None => self.findings.iter().map(|f| f.package.location.path.as_str()).collect(),
        };
        locations.sort_unstable();
        locations.dedup();
        let [only] = locations[..] else { return None };
        let name = only.rsplit(['/', '\\']).next().unwrap_or(only);
        (!name.is_empty()).then(|| (only, format!("/{name}")))
    }
}

/// Where a side's packages and findings are compared.
struct Locator<'a> {
    single: Option<(&'a str, String)>,
}

impl<'a> Locator<'a> {
    fn of(side: &'a Side) -> Locator<'a> {
        Locator { single: side.single_file() }
    }

    fn at<'b>(&'b self, path: &'b str) -> &'b str {
        match &self.single {
            Some((only, name)) if *only == path => name,
            _ => path,
        }
    }
}

/// A side's findings grouped into identities.
struct Identities<'a> {
    groups: Vec<Vec<usize>>,
    identities: Vec<String>,
    places: Vec<Place<'a>>,
    ids: Vec<Vec<&'a str>>,
}

fn identities<'a>(records: &'a [Record], locator: &'a Locator<'a>) -> Identities<'a> {
    let place = |r: &'a Record| -> Place<'a> {
        (r.package.ecosystem.as_str(), r.package.name.as_str(), locator.at(&r.package.location.path))
    };
    let groups = merge_aliases(records, place, |r| r.ids().collect());
    let mut out = Identities { groups: Vec::new(), identities: Vec::new(), places: Vec::new(), ids: Vec::new() };
    for members in groups {
        let mut ids: Vec<&str> = members.iter().flat_map(|&i| records[i].ids()).collect();
        ids.sort_unstable();
        ids.dedup();
        let (ecosystem, name, location) = place(&records[members[0]]);
        out.identities.push(identity(&vuln_key(ids.iter().copied()), ecosystem, name, location));
        out.places.push((ecosystem, name, location));
        out.ids.push(ids);
        out.groups.push(members);
    }
    out
}

impl<'a> Identities<'a> {
    fn tracked(&self) -> Vec<Tracked<'_>> {
        (0..self.groups.len())
            .map(|g| Tracked { identity: &self.identities[g], place: Some(self.places[g]), ids: self.ids[g].clone() })
            .collect()
    }
}

/// A package as a diff lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageRef {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// OSV ecosystem.
    pub ecosystem: String,
    /// Package URL.
    pub purl: String,
    /// The file it was found in.
    pub location: String,
}

impl From<&Package> for PackageRef {
    fn from(p: &Package) -> PackageRef {
        PackageRef {
            name: p.name.clone(),
            version: p.version.clone(),
            ecosystem: p.ecosystem.clone(),
            purl: p.purl.clone(),
            location: p.location.path.clone(),
        }
    }
}

/// A package found at another version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionChange {
    /// The package as it is now.
    pub package: PackageRef,
    /// The version before.
    pub from: String,
    /// `upgraded`, `downgraded`, or `changed` (versions the ecosystem cannot order).
    pub direction: &'static str,
}

/// Packages added, removed and changed between two sides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackageChanges {
    /// Only in the later side.
    pub added: Vec<PackageRef>,
    /// Only in the earlier side.
    pub removed: Vec<PackageRef>,
    /// In both, at another version.
    pub changed: Vec<VersionChange>,
}

impl PackageChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// One package's entries in the earlier side and in the later one.
type Versions<'p> = (Vec<&'p Package>, Vec<&'p Package>);

/// Packages are the same package at the same place: the ecosystem's base
/// name (a distribution upgrade from `Debian:11` to `Debian:12` upgrades
/// its packages), the name, and the file.
fn package_changes(earlier: &[Package], e_loc: &Locator<'_>, later: &[Package], l_loc: &Locator<'_>) -> PackageChanges {
    let key = |p: &'_ Package, loc: &'_ Locator<'_>| -> (String, String, String) {
        let base = p.ecosystem.split(':').next().unwrap_or_default();
        (base.to_owned(), p.name.clone(), loc.at(&p.location.path).to_owned())
    };
    let mut sides: BTreeMap<(String, String, String), Versions<'_>> = BTreeMap::new();
    for p in earlier {
        sides.entry(key(p, e_loc)).or_default().0.push(p);
    }
    for p in later {
        sides.entry(key(p, l_loc)).or_default().1.push(p);
    }
    let mut changes = PackageChanges::default();
    for (before, after) in sides.values() {
        let before_versions: HashSet<&str> = before.iter().map(|p| p.version.as_str()).collect();
        let after_versions: HashSet<&str> = after.iter().map(|p| p.version.as_str()).collect();
        let mut gone: Vec<&Package> =
            before.iter().copied().filter(|p| !after_versions.contains(p.version.as_str())).collect();
        let mut came: Vec<&Package> =
            after.iter().copied().filter(|p| !before_versions.contains(p.version.as_str())).collect();
        let scheme = came.first().or(gone.first()).and_then(|p| vigil_version::Scheme::for_ecosystem(&p.ecosystem));
        let order = |a: &&Package, b: &&Package| match scheme {
            Some(s) => s.compare(&a.version, &b.version).then_with(|| a.version.cmp(&b.version)),
            None => a.version.cmp(&b.version),
        };
        gone.sort_by(order);
        came.sort_by(order);
        let paired = gone.len().min(came.len());
        for (old, new) in gone.iter().zip(&came) {
            let direction = match scheme.map(|s| s.compare(&old.version, &new.version)) {
                Some(std::cmp::Ordering::Less) => "upgraded",
                Some(std::cmp::Ordering::Greater) => "downgraded",
                _ => "changed",
            };
            changes.changed.push(VersionChange {
                package: PackageRef::from(*new),
                from: old.version.clone(),
                direction,
            });
        }
        changes.removed.extend(gone[paired..].iter().map(|p| PackageRef::from(*p)));
        changes.added.extend(came[paired..].iter().map(|p| PackageRef::from(*p)));
    }
    changes
}

/// What a later side is next to an earlier one.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// For each later finding, in order: new, unchanged or updated.
    pub states: Vec<BaselineState>,
    /// Earlier findings no longer found, in their order.
    pub fixed: Vec<Record>,
    /// Packages added, removed and changed, when both sides list packages.
    pub packages: Option<PackageChanges>,
}

/// Compares `later` with `earlier`.
pub fn compare(earlier: &Side, later: &Side) -> Comparison {
    let (e_loc, l_loc) = (Locator::of(earlier), Locator::of(later));
    let e_ids = identities(&earlier.findings, &e_loc);
    let l_ids = identities(&later.findings, &l_loc);
    let pairs = pair(&e_ids.tracked(), &l_ids.tracked());
    let mut states = vec![BaselineState::New; later.findings.len()];
    for (g, paired) in pairs.iter().enumerate() {
        let Some(e) = paired else { continue };
        let versions = |side: &Side, members: &[usize]| -> Vec<String> {
            let mut v: Vec<String> = members.iter().map(|&i| side.findings[i].package.version.clone()).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let state = if versions(earlier, &e_ids.groups[*e]) == versions(later, &l_ids.groups[g]) {
            BaselineState::Unchanged
        } else {
            BaselineState::Updated
        };
        for &i in &l_ids.groups[g] {
            states[i] = state;
        }
    }
    let kept: HashSet<usize> = pairs.iter().flatten().copied().collect();
    let mut fixed_members: Vec<usize> =
        (0..e_ids.groups.len()).filter(|g| !kept.contains(g)).flat_map(|g| e_ids.groups[g].clone()).collect();
    fixed_members.sort_unstable();
    let fixed = fixed_members.into_iter().map(|i| earlier.findings[i].clone()).collect();
    let packages = match (&earlier.packages, &later.packages) {
        (Some(e), Some(l)) => Some(package_changes(e, &e_loc, l, &l_loc)),
        _ => None,
    };
    Comparison { states, fixed, packages }
}

/// What a scan's report says about its baseline.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineInfo {
    /// Where the baseline was read.
    pub source: String,
    /// What the baseline scanned.
    pub target: String,
    /// When the baseline scan ran.
    pub scanned_at: Option<String>,
    /// Vulnerabilities not in the baseline.
    pub new: usize,
    /// Vulnerabilities in the baseline at the same version.
    pub unchanged: usize,
    /// Vulnerabilities in the baseline at another version.
    pub updated: usize,
    /// Baseline findings no longer found.
    pub fixed: Vec<Record>,
    /// Packages added, removed and changed since the baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<PackageChanges>,
}

/// Marks each of `findings` (everything a scan of `inventory` found,
/// before filters and suppressions, so a finding filtered out now is not
/// called fixed) new, unchanged or updated next to `baseline`; returns the
/// baseline's findings no longer found and the packages changed, for
/// [`ScanReport::with_baseline`].
pub fn mark(findings: &mut [Finding], inventory: &Inventory, baseline: &Side) -> BaselineInfo {
    let now = Side {
        target: inventory.target.clone(),
        scanned_at: None,
        source: String::new(),
        findings: findings.iter().map(Record::from).collect(),
        packages: Some(inventory.packages.clone()),
    };
    let comparison = compare(baseline, &now);
    for (f, state) in findings.iter_mut().zip(&comparison.states) {
        f.baseline = Some(*state);
    }
    BaselineInfo {
        source: baseline.source.clone(),
        target: baseline.target.clone(),
        scanned_at: baseline.scanned_at.clone(),
        new: 0,
        unchanged: 0,
        updated: 0,
        fixed: comparison.fixed,
        packages: comparison.packages,
    }
}

impl ScanReport {
    /// Records the baseline [`mark`] compared the findings with, counting
    /// the report's findings by their mark.
    pub fn with_baseline(mut self, mut info: BaselineInfo) -> ScanReport {
        let count = |s: BaselineState| {
            self.findings.iter().filter(|f| f.kind == Kind::Vulnerability && f.baseline == Some(s)).count()
        };
        info.new = count(BaselineState::New);
        info.unchanged = count(BaselineState::Unchanged);
        info.updated = count(BaselineState::Updated);
        self.baseline = Some(info);
        self
    }
}

#[cfg(test)]
mod tests {
    use vigil_core::inventory::Location;

    use super::*;

    fn package(name: &str, version: &str, location: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            version_source: None,
            ecosystem: "PyPI".into(),
            purl: format!("pkg:pypi/{name}@{version}"),
            source: None,
            arch: None,
            license: None,
            location: Location { path: location.into(), layer: None },
            cataloger: "python".into(),
            properties: Default::default(),
        }
    }

    fn record(id: &str, aliases: &[&str], name: &str, version: &str, location: &str) -> Record {
        Record {
            id: id.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            summary: None,
            kind: Kind::Vulnerability,
            package: package(name, version, location),
            fixed: vec![],
            fix_status: FixStatus::NoFixYet,
            status: None,
            severity: Severity::High,
            cvss_score: None,
            severity_source: None,
            severity_from: None,
            kev: None,
            epss: None,
            baseline: None,
        }
    }

    fn side(target: &str, findings: Vec<Record>) -> Side {
        Side { target: target.into(), findings, ..Side::default() }
    }

    #[test]
    fn an_advisory_renamed_to_its_alias_is_not_new() {
        let before =
            side("r.txt", vec![record("GHSA-m2qf-hxjv-5gpq", &["CVE-2023-30861"], "flask", "2.2.2", "/r.txt")]);
        // The same vulnerability under the PYSEC id sharing the CVE: one key, one identity.
        let after = side("r.txt", vec![record("PYSEC-2023-62", &["CVE-2023-30861"], "flask", "2.2.2", "/r.txt")]);
        let c = compare(&before, &after);
        assert_eq!(c.states, [BaselineState::Unchanged]);
        assert!(c.fixed.is_empty());
        // A GHSA that gained its CVE alias: the key moves, the shared id pairs them.
        let before = side("r.txt", vec![record("GHSA-m2qf-hxjv-5gpq", &[], "flask", "2.2.2", "/r.txt")]);
        let after = side("r.txt", vec![record("CVE-2023-30861", &["GHSA-m2qf-hxjv-5gpq"], "flask", "2.2.3", "/r.txt")]);
        let c = compare(&before, &after);
        assert_eq!(c.states, [BaselineState::Updated]);
    }

    #[test]
    fn new_fixed_and_single_files_compared_by_name() {
        let before = side(
            "main/requirements.txt",
            vec![
                record("PYSEC-2019-179", &["CVE-2019-1010083"], "flask", "0.12", "/main/requirements.txt"),
                record("PYSEC-2012-1", &["CVE-2012-3458"], "beaker", "1.6.4", "/main/requirements.txt"),
            ],
        );
        let after = side(
            "pr/requirements.txt",
            vec![
                record("PYSEC-2019-179", &["CVE-2019-1010083"], "flask", "0.12", "/pr/requirements.txt"),
                record("PYSEC-2023-62", &["CVE-2023-30861"], "flask", "0.12", "/pr/requirements.txt"),
            ],
        );
        let c = compare(&before, &after);
        assert_eq!(c.states, [BaselineState::Unchanged, BaselineState::New]);
        assert_eq!(c.fixed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["PYSEC-2012-1"]);
        // Another file of a directory scan of several files is another place.
        let after = side(
            "pr",
            vec![
                record("PYSEC-2019-179", &[], "flask", "0.12", "/other/requirements.txt"),
                record("PYSEC-2012-1", &[], "beaker", "1.6.4", "/requirements.txt"),
            ],
        );
        assert_eq!(compare(&before, &after).states, [BaselineState::New, BaselineState::Unchanged]);
    }

    #[test]
    fn packages_added_removed_and_changed() {
        let before = vec![package("a", "1.0", "/r"), package("b", "2.0", "/r"), package("c", "1.0", "/r")];
        let after = vec![package("a", "1.1", "/r"), package("b", "1.9", "/r"), package("d", "1.0", "/r")];
        let mut e = side("x", vec![]);
        e.packages = Some(before);
        let mut l = side("x", vec![]);
        l.packages = Some(after);
        let p = compare(&e, &l).packages.unwrap();
        let changed: Vec<(&str, &str, &str, &str)> = p
            .changed
            .iter()
            .map(|c| (c.package.name.as_str(), c.from.as_str(), c.package.version.as_str(), c.direction))
            .collect();
        assert_eq!(changed, [("a", "1.0", "1.1", "upgraded"), ("b", "2.0", "1.9", "downgraded")]);
        assert_eq!(p.removed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["c"]);
        assert_eq!(p.added.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["d"]);
    }

    #[test]
    fn only_reports_are_baselines() {
        assert!(!is_report(br#"{"lockfileVersion": 3, "packages": {}}"#));
        assert!(!is_report(b"[1, 2]"));
        let err = Side::from_report(br#"{"name": "x"}"#, "x.json").unwrap_err().to_string();
        assert!(err.contains("not a Vigil JSON report"), "{err}");
        let newer = br#"{"schema_version": 99, "target": "t", "database_built_at": "x", "findings": []}"#;
        assert!(Side::from_report(newer, "n.json").unwrap_err().to_string().contains("schema 99"));
        let ok = br#"{"schema_version": 2, "target": "t", "database_built_at": "x", "findings": []}"#;
        assert!(Side::from_report(ok, "o.json").unwrap().packages.is_none());
    }
}
