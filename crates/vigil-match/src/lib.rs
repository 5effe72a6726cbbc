//! Matching: an inventory against the advisory database gives findings.
//!
//! Distro rules: Debian and Ubuntu advisories are keyed by the *source*
//! package and its version, Alpine's by origin, RPM advisories by the binary
//! package name with its epoch; language packages match by name in their
//! ecosystem. One advisory matching one package through several entries is
//! one finding. Unfixed states (`needed`, `deferred`, `no-dsa`, ...) are
//! findings with no fix, labelled so they can be filtered but never lost;
//! RustSec informational advisories (`unmaintained`, `unsound`, `notice`)
//! are a separate kind of finding.
//!
//! A record without a severity (Go and PyPI records carry none) takes one
//! from another record about the same vulnerability, through a shared CVE
//! or GHSA id ([`vigil_vulndb::Database::borrowed_severity`] has the order of
//! preference), and the finding names that record in `severity_from`.
//!
//! Priority orders remediation: known-exploited (CISA KEV) first, then
//! `risk = impact x likelihood`, where impact is the CVSS base score (or the
//! middle of the severity band when only a rating is known: critical 9.5,
//! high 8.0, medium 5.5, low 2.0, unknown 5.0) and likelihood is the EPSS
//! probability (0.01 when EPSS has no score), then severity, then id.
//!
//! [`coverage`] says, for every ecosystem of the inventory, whether the
//! database holds advisories for it, so a scan without data never looks clean.
//!
//! [`identity`] says when findings of two scans are the same finding, for
//! baselines and diffs here and for the server's finding lifecycle.
//!
//! [`fixplan`] gives, for each vulnerable package, the lowest version that
//! clears its advisories, and the smallest set of upgrades that passes a gate.
//!
//! This crate renders nothing.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod coverage;
pub mod fixplan;
pub mod identity;

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use vigil_core::inventory::{Inventory, Package};
use vigil_core::severity::Severity;
use vigil_vulndb::evaluate::Evaluation;
use vigil_vulndb::feeds::{EpssScore, KevEntry};
use vigil_vulndb::{BorrowedSeverity, Candidate, Database};

pub use coverage::{Coverage, CoverageKind, CoverageStatus, coverage};

/// A vulnerability or an informational advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A vulnerability.
    Vulnerability,
    /// An informational advisory (RustSec `unmaintained`, `unsound`, `notice`).
    Informational,
}

/// Whether a fix exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixStatus {
    /// A fixed version is published.
    FixAvailable,
    /// No fix yet (Ubuntu `needed`/`needs-triage`/`pending`/`deferred`, Debian `no-dsa`/`postponed`, no fixed event).
    NoFixYet,
    /// The distribution will not fix it (`ignored`, `will-not-fix`, `end-of-life`).
    WillNotFix,
}

/// One advisory matching one package.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Advisory id (`DSA-4839-1`, `GHSA-...`, `RUSTSEC-...`).
    pub id: String,
    /// Other ids (CVE, GHSA, ...).
    pub aliases: Vec<String>,
    /// Summary line.
    pub summary: Option<String>,
    /// Vulnerability or informational.
    pub kind: Kind,
    /// The RustSec category of an informational finding.
    pub informational: Option<String>,
    /// The package as installed.
    pub package: Package,
    /// The name and version the advisory was matched on (the source
    /// package for Debian/Ubuntu, the origin for Alpine), when they differ.
    pub matched_as: Option<String>,
    /// The advisory's ecosystem entry (`Debian:10`).
    pub advisory_ecosystem: String,
    /// Versions that fix it.
    pub fixed: Vec<String>,
    /// Fix status.
    pub fix_status: FixStatus,
    /// The source's own status word, when it gave one.
    pub status: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// CVSS base score, when scored from a vector.
    pub cvss_score: Option<f64>,
    /// The CVSS vector.
    pub cvss_vector: Option<String>,
    /// Where the severity came from (`CVSS_V3`, `database_specific.priority`, ...).
    pub severity_source: Option<String>,
    /// The record the severity was taken from, when the advisory's own
    /// record has none.
    pub severity_from: Option<SeverityFrom>,
    /// CISA KEV entry, when exploited in the wild.
    pub kev: Option<KevEntry>,
    /// EPSS score, when known.
    pub epss: Option<EpssScore>,
    /// `impact x likelihood` (see the crate docs).
    pub risk: f64,
    /// Every comparison that made it match.
    pub evaluation: Evaluation,
    /// What it is next to a baseline (an earlier scan), when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
}

/// A finding next to a baseline, in SARIF's words (`baselineState`); a
/// baseline finding no longer found is listed apart, as fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineState {
    /// Not in the baseline.
    New,
    /// In the baseline, at the same installed version.
    Unchanged,
    /// In the baseline, at another installed version (upgraded or
    /// downgraded, and still affected).
    Updated,
}

impl BaselineState {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Updated => "updated",
        }
    }
}

/// Another record that gave a finding its severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityFrom {
    /// Its id (`GHSA-...`, `UBUNTU-CVE-...`).
    pub id: String,
    /// The id both records carry (`CVE-...`).
    pub alias: String,
}

/// The middle of a severity band, for ranking findings without a CVSS score.
fn impact(severity: Severity, cvss: Option<f64>) -> f64 {
    cvss.unwrap_or(match severity {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::None => 0.0,
        Severity::Unknown => 5.0,
    })
}

/// Fix status from the fixed versions and the source's status word.
fn fix_status(fixed: &[String], status: Option<&str>) -> FixStatus {
    if !fixed.is_empty() {
        return FixStatus::FixAvailable;
    }
    match status.map(str::to_ascii_lowercase).as_deref() {
        Some("ignored" | "will-not-fix" | "wontfix" | "end-of-life" | "not-affected-eol") => FixStatus::WillNotFix,
        _ => FixStatus::NoFixYet,
    }
}

/// The name and version advisories for `p` are keyed by: the source
/// package for dpkg, the origin (with the binary's version) for apk, the
/// package itself otherwise.
pub fn lookup_key(p: &Package) -> (String, String) {
    match (&p.source, p.cataloger.as_str()) {
        (Some(s), "dpkg") => (s.name.clone(), s.version.clone()),
        (Some(s), "apk") => (s.name.clone(), p.version.clone()),
        _ => (p.name.clone(), p.version.clone()),
    }
}

/// The order in which findings should be fixed: exploited first, then risk.
pub fn priority_order(a: &Finding, b: &Finding) -> Ordering {
    b.kev
        .is_some()
        .cmp(&a.kev.is_some())
        .then_with(|| (a.kind != Kind::Vulnerability).cmp(&(b.kind != Kind::Vulnerability)))
        .then_with(|| b.risk.total_cmp(&a.risk))
        .then_with(|| b.severity.cmp(&a.severity))
        .then_with(|| a.id.cmp(&b.id))
        .then_with(|| a.package.name.cmp(&b.package.name))
}

/// Matches every package of `inventory`; findings come in priority order.
/// Packages without a version (unpinned requirements, dependencies locked
/// to a git commit) are never matched: no advisory range can place them.
pub fn match_inventory(db: &Database, inventory: &Inventory) -> vigil_vulndb::Result<Vec<Finding>> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut borrowed = HashMap::new();
    for p in inventory.packages.iter().filter(|p| !p.version.is_empty()) {
        let (name, version) = lookup_key(p);
        let mut seen: Vec<String> = Vec::new();
        for c in db.lookup(&p.ecosystem, &name, &version)? {
            if seen.contains(&c.id) {
                continue;
            }
            seen.push(c.id.clone());
            let matched_as = (name != p.name || version != p.version).then(|| format!("{name} {version}"));
            findings.push(finding(db, p.clone(), matched_as, c, &mut borrowed)?);
        }
    }
    findings.sort_by(priority_order);
    Ok(findings)
}

/// The severities borrowed so far, by advisory id.
type Borrowed = HashMap<String, Option<BorrowedSeverity>>;

fn finding(
    db: &Database,
    package: Package,
    matched_as: Option<String>,
    c: Candidate,
    borrowed: &mut Borrowed,
) -> vigil_vulndb::Result<Finding> {
    let mut ids = vec![c.id.clone()];
    ids.extend(c.aliases.iter().cloned());
    let kev = db.kev(&ids)?;
    let epss = db.epss(&ids)?;
    let own = c.severity.filter(|s| *s != Severity::Unknown);
    let lent = match (own, borrowed.get(&c.id)) {
        (Some(_), _) => None,
        (None, Some(known)) => known.clone(),
        (None, None) => {
            let found = db.borrowed_severity(&c.id, &c.aliases)?;
            borrowed.insert(c.id.clone(), found.clone());
            found
        }
    };
    let (severity, cvss_score, cvss_vector, severity_source, severity_from) = match lent {
        Some(b) => (b.severity, b.cvss_score, b.cvss_vector, b.source, Some(SeverityFrom { id: b.id, alias: b.alias })),
        None => (c.severity.unwrap_or(Severity::Unknown), c.cvss_score, c.cvss_vector, c.severity_source, None),
    };
    let likelihood = epss.as_ref().map_or(0.01, |e| e.score);
    Ok(Finding {
        risk: impact(severity, cvss_score) * likelihood,
        fix_status: fix_status(&c.fixed, c.status.as_deref()),
        kind: if c.informational.is_some() { Kind::Informational } else { Kind::Vulnerability },
        informational: c.informational,
        id: c.id,
        aliases: c.aliases,
        summary: c.summary,
        package,
        matched_as,
        advisory_ecosystem: c.ecosystem,
        fixed: c.fixed,
        status: c.status,
        severity,
        cvss_score,
        cvss_vector,
        severity_source,
        severity_from,
        kev,
        epss,
        evaluation: c.evaluation,
        baseline: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_states() {
        assert_eq!(fix_status(&["1.0".into()], Some("needed")), FixStatus::FixAvailable);
        assert_eq!(fix_status(&[], Some("needed")), FixStatus::NoFixYet);
        assert_eq!(fix_status(&[], Some("ignored")), FixStatus::WillNotFix);
        assert_eq!(fix_status(&[], None), FixStatus::NoFixYet);
    }

    #[test]
    fn impact_falls_back_to_the_band() {
        assert_eq!(impact(Severity::High, None), 8.0);
        assert_eq!(impact(Severity::High, Some(7.1)), 7.1);
    }
}
