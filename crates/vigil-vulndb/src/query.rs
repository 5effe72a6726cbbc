//! Read-side queries on a [`Database`]: package lookups with range
//! evaluation, single records, KEV/EPSS enrichment and status.

use std::cmp::Reverse;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use vigil_core::ecosystem::Ecosystem;
use vigil_core::osv::Record;
use vigil_version::Scheme;

use crate::entry::decode;
use vigil_core::severity::Severity;

use crate::error::Result;
use crate::evaluate::{Evaluation, evaluate_affected, fixed_versions};
use crate::feeds::{EpssScore, KevEntry};
use crate::record::Problem;
use crate::store::{Database, SourceCounts};
use vigil_core::time::rfc3339;

/// One advisory entry for a package, evaluated against a version.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The OSV id.
    pub id: String,
    /// Other ids (CVE, GHSA, ...).
    pub aliases: Vec<String>,
    /// Summary line.
    pub summary: Option<String>,
    /// The record's ecosystem for this entry (`Debian:11`).
    pub ecosystem: String,
    /// The package name as the record spells it.
    pub package: String,
    /// Severity, when known.
    pub severity: Option<Severity>,
    /// CVSS base score, when scored from a vector.
    pub cvss_score: Option<f64>,
    /// The vector scored.
    pub cvss_vector: Option<String>,
    /// Where the severity came from.
    pub severity_source: Option<String>,
    /// Fixed versions named by the entry.
    pub fixed: Vec<String>,
    /// Source fix status (`needed`, `deferred`, `no-dsa`, ...), if any.
    pub status: Option<String>,
    /// RustSec informational category, if this is not a vulnerability.
    pub informational: Option<String>,
    /// The evaluation with every comparison made.
    pub evaluation: Evaluation,
}

/// One affected entry of a package, decoded but not evaluated: what
/// re-evaluating the package at other versions needs (fix plans).
#[derive(Debug, Clone)]
pub struct PackageEntry {
    /// The OSV id.
    pub id: String,
    /// The record's ecosystem for this entry (`Debian:11`).
    pub ecosystem: String,
    /// RustSec informational category, if this is not a vulnerability.
    pub informational: Option<String>,
    /// Versions and ranges.
    pub affected: vigil_core::osv::Affected,
}

/// A severity taken from another record about the same vulnerability, for
/// a record that carries none (see [`Database::borrowed_severity`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BorrowedSeverity {
    /// The record it was taken from (`GHSA-...`, `UBUNTU-CVE-...`).
    pub id: String,
    /// The alias both records carry (`CVE-...`).
    pub alias: String,
    /// Qualitative severity.
    pub severity: Severity,
    /// CVSS base score, when scored from a vector.
    pub cvss_score: Option<f64>,
    /// The vector scored.
    pub cvss_vector: Option<String>,
    /// Where that record's severity came from (`CVSS_V3`, `database_specific.priority`, ...).
    pub source: Option<String>,
}

/// Distribution advisory id prefixes: their ratings are the distribution's own.
const DISTRIBUTION_PREFIXES: &[&str] = &[
    "DSA-",
    "DLA-",
    "DTSA-",
    "DEBIAN-",
    "USN-",
    "UBUNTU-",
    "ALSA-",
    "ALBA-",
    "ALEA-",
    "RLSA-",
    "RXSA-",
    "RHSA-",
    "RHBA-",
    "RHEA-",
    "ALPINE-",
    "SUSE-",
    "openSUSE-",
    "ALAS",
    "MGASA-",
    "PHSA-",
    "CGA-",
    "ELA-",
];

/// The order of records to borrow from; the smallest wins.
type BorrowKey = (u8, bool, Reverse<Severity>, Reverse<i64>, String);

/// Which records a missing severity is taken from first (lower first): the
/// GitHub Advisory Database, NVD's CVE records (as osv.dev publishes them),
/// distributions' records, then any other.
fn borrow_rank(id: &str) -> u8 {
    if id.starts_with("GHSA-") {
        0
    } else if id.starts_with("CVE-") {
        1
    } else if DISTRIBUTION_PREFIXES.iter().any(|p| id.starts_with(p)) {
        2
    } else {
        3
    }
}

/// One source as recorded by the last build.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    /// `osv`, `kev` or `epss`.
    pub kind: String,
    /// The ecosystem or feed name.
    pub name: String,
    /// URL or path it was read from.
    pub location: String,
    /// Counts.
    #[serde(flatten)]
    pub counts: SourceCounts,
    /// Extra detail (catalog version, score date).
    pub detail: Option<String>,
}

/// Advisory counts per ecosystem.
#[derive(Debug, Clone, Serialize)]
pub struct EcosystemCount {
    /// The ecosystem string as records spell it (`Debian:11`).
    pub ecosystem: String,
    /// Distinct advisories with an entry for it.
    pub advisories: u64,
}

/// Everything `vigil db status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The database file.
    pub path: String,
    /// File layout version.
    pub schema_version: u32,
    /// Build time, RFC 3339.
    pub built_at: String,
    /// Age in seconds.
    pub age_secs: i64,
    /// Vigil version that built it.
    pub built_by: Option<String>,
    /// Total advisories.
    pub advisories: u64,
    /// KEV entries.
    pub kev_entries: u64,
    /// EPSS scores.
    pub epss_scores: u64,
    /// EPSS score date, when known.
    pub epss_score_date: Option<String>,
    /// Sources read.
    pub sources: Vec<SourceStatus>,
    /// Per-ecosystem counts.
    pub ecosystems: Vec<EcosystemCount>,
    /// The operating system releases advisories exist for (`Debian:11`,
    /// `Ubuntu:18.04:LTS`), in release order: what OS targets can be checked.
    pub os_releases: Vec<String>,
    /// Skipped files (the first ones kept).
    pub problems: Vec<Problem>,
}

/// A sort key putting releases in numeric order (`Debian:9` before `Debian:10`).
fn release_order(ecosystem: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut rest = ecosystem;
    while !rest.is_empty() {
        let text_end = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let (text, after) = rest.split_at(text_end);
        let digits_end = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        let (digits, after) = after.split_at(digits_end);
        key.push((text.to_owned(), digits.parse().unwrap_or(0)));
        rest = after;
    }
    key
}

/// The index range holding every record ecosystem that `want` may cover:
/// `[Debian:11, Debian:11;)` holds `Debian:11` and `Debian:11:...` (`;`
/// follows `:`), `[Debian, Debian;)` every Debian release. [`Ecosystem::covers`]
/// makes the final call on what the range lets through.
fn ecosystem_bounds(want: &Ecosystem) -> (&str, String) {
    (want.as_str(), format!("{};", want.as_str()))
}

impl Database {
    /// Every entry for `name` in ecosystems that `ecosystem` covers, each
    /// evaluated for `version`, affected or not.
    pub fn candidates(&self, ecosystem: &str, name: &str, version: &str) -> Result<Vec<Candidate>> {
        self.evaluate_package(ecosystem, name, version, false)
    }

    /// The advisories that affect `version` of `name` in `ecosystem`.
    pub fn lookup(&self, ecosystem: &str, name: &str, version: &str) -> Result<Vec<Candidate>> {
        self.evaluate_package(ecosystem, name, version, true)
    }

    /// Every entry for `name` in ecosystems that `ecosystem` covers, decoded
    /// and unevaluated, sorted by id and ecosystem.
    pub fn entries(&self, ecosystem: &str, name: &str) -> Result<Vec<PackageEntry>> {
        let want = Ecosystem::parse(ecosystem).canonical();
        let key = want.normalize_name(name);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT f.ecosystem, f.entry, a.osv_id
                 FROM affected f JOIN advisories a ON a.id = f.advisory
                 WHERE f.base = ?1 AND f.name = ?2 AND f.ecosystem >= ?3 AND f.ecosystem < ?4",
            )
            .map_err(self.err())?;
        let (low, high) = ecosystem_bounds(&want);
        let mut rows = stmt.query(params![want.base(), key, low, high]).map_err(self.err())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(self.err())? {
            let eco: String = row.get(0).map_err(self.err())?;
            if !want.covers(&eco) {
                continue;
            }
            // As in lookups: a broken entry is skipped, not fatal.
            let Some(entry) = row.get_ref(1).map_err(self.err())?.as_blob().ok().and_then(decode) else { continue };
            out.push(PackageEntry {
                id: row.get(2).map_err(self.err())?,
                ecosystem: eco,
                informational: entry.informational,
                affected: entry.affected,
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.ecosystem.cmp(&b.ecosystem)));
        Ok(out)
    }

    /// Evaluates every entry of the package; advisory details are read only
    /// for the entries kept.
    fn evaluate_package(
        &self,
        ecosystem: &str,
        name: &str,
        version: &str,
        affected_only: bool,
    ) -> Result<Vec<Candidate>> {
        let want = Ecosystem::parse(ecosystem).canonical();
        let key = want.normalize_name(name);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT f.ecosystem, f.entry, a.osv_id, a.aliases, a.summary, a.severity, a.cvss_score,
                        a.cvss_vector, a.severity_source
                 FROM affected f JOIN advisories a ON a.id = f.advisory
                 WHERE f.base = ?1 AND f.name = ?2 AND f.ecosystem >= ?3 AND f.ecosystem < ?4",
            )
            .map_err(self.err())?;
        let (low, high) = ecosystem_bounds(&want);
        let mut rows = stmt.query(params![want.base(), key, low, high]).map_err(self.err())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(self.err())? {
            let eco: String = row.get(0).map_err(self.err())?;
            if !want.covers(&eco) {
                continue;
            }
            // Entries were encoded by this build; a broken one is skipped, not fatal.
            let entry = row.get_ref(1).map_err(self.err())?.as_blob().ok().and_then(decode);
            let Some(entry) = entry else { continue };
            let fixed = fixed_versions(&entry.affected);
            let evaluation = evaluate_affected(entry.affected, &eco, version);
            if affected_only && !evaluation.affected {
                continue;
            }
            let aliases: String = row.get(3).map_err(self.err())?;
            let severity: Option<String> = row.get(5).map_err(self.err())?;
            out.push(Candidate {
                id: row.get(2).map_err(self.err())?,
                aliases: aliases.lines().map(str::to_owned).collect(),
                summary: row.get(4).map_err(self.err())?,
                ecosystem: eco,
                package: entry.package,
                severity: severity.as_deref().and_then(Severity::from_rating),
                cvss_score: row.get(6).map_err(self.err())?,
                cvss_vector: row.get(7).map_err(self.err())?,
                severity_source: row.get(8).map_err(self.err())?,
                fixed,
                status: entry.status,
                informational: entry.informational,
                evaluation,
            });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.ecosystem.cmp(&b.ecosystem)));
        Ok(out)
    }

    /// How many entries the index holds for `name` in `ecosystem` (an
    /// index-only query: the floor under a lookup).
    pub fn candidate_count(&self, ecosystem: &str, name: &str) -> Result<usize> {
        let want = Ecosystem::parse(ecosystem).canonical();
        let key = want.normalize_name(name);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM affected
                 WHERE base = ?1 AND name = ?2 AND ecosystem >= ?3 AND ecosystem < ?4",
            )
            .map_err(self.err())?;
        let (low, high) = ecosystem_bounds(&want);
        let n: i64 = stmt.query_row(params![want.base(), key, low, high], |r| r.get(0)).map_err(self.err())?;
        Ok(n as usize)
    }

    /// For a record (`id`, with `aliases`) that carries no severity: the
    /// severity of another record about the same vulnerability, found through
    /// a shared CVE or GHSA id. Preferred, in order: a GHSA record, NVD's
    /// record of the CVE, a distribution's record, any other record; within
    /// one kind a CVSS-scored severity before a rating word, then the
    /// highest. Records naming more than one CVE (a DSA or USN bundling
    /// several fixes) are never used: their rating is that of the worst of
    /// them.
    pub fn borrowed_severity(&self, id: &str, aliases: &[String]) -> Result<Option<BorrowedSeverity>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.osv_id, a.aliases, a.severity, a.cvss_score, a.cvss_vector, a.severity_source
                 FROM aliases x JOIN advisories a ON a.id = x.advisory
                 WHERE x.alias = ?1 AND a.osv_id != ?2 AND a.severity IS NOT NULL",
            )
            .map_err(self.err())?;
        let shared = std::iter::once(id).chain(aliases.iter().map(String::as_str));
        let mut best: Option<(BorrowKey, BorrowedSeverity)> = None;
        for alias in shared.filter(|a| a.starts_with("CVE-") || a.starts_with("GHSA-")) {
            let mut rows = stmt.query(params![alias, id]).map_err(self.err())?;
            while let Some(row) = rows.next().map_err(self.err())? {
                let other: String = row.get(0).map_err(self.err())?;
                let other_aliases: String = row.get(1).map_err(self.err())?;
                let cves = std::iter::once(other.as_str())
                    .chain(other_aliases.lines())
                    .filter(|a| a.starts_with("CVE-"))
                    .collect::<std::collections::BTreeSet<_>>();
                let rating: String = row.get(2).map_err(self.err())?;
                let Some(severity) = Severity::from_rating(&rating).filter(|s| *s != Severity::Unknown) else {
                    continue;
                };
                if cves.len() > 1 {
                    continue;
                }
                let cvss_score: Option<f64> = row.get(3).map_err(self.err())?;
                // Lower is better: the kind of record, a score before a word, the highest, then the id.
                let tenths = cvss_score.map_or(-1, |s| (s * 10.0).round() as i64);
                let key =
                    (borrow_rank(&other), cvss_score.is_none(), Reverse(severity), Reverse(tenths), other.clone());
                if best.as_ref().is_some_and(|(k, _)| *k <= key) {
                    continue;
                }
                best = Some((
                    key,
                    BorrowedSeverity {
                        id: other,
                        alias: alias.to_owned(),
                        severity,
                        cvss_score,
                        cvss_vector: row.get(4).map_err(self.err())?,
                        source: row.get(5).map_err(self.err())?,
                    },
                ));
            }
        }
        Ok(best.map(|(_, b)| b))
    }

    /// Advisory counts per record ecosystem (`Debian:11`), as the build counted them.
    pub fn ecosystem_counts(&self) -> Result<Vec<EcosystemCount>> {
        let mut stmt = self.conn.prepare_cached("SELECT ecosystem, advisories FROM ecosystems").map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok(EcosystemCount { ecosystem: r.get(0)?, advisories: r.get::<_, i64>(1)? as u64 }))
            .map_err(self.err())?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(self.err())
    }

    /// How many advisories lookups in `ecosystem` can find: the sum over
    /// every record ecosystem it covers (`Ubuntu:22.04` covers
    /// `Ubuntu:22.04:LTS`; `Debian` every Debian release).
    pub fn advisories_for(&self, ecosystem: &str) -> Result<u64> {
        let want = Ecosystem::parse(ecosystem).canonical();
        Ok(self.ecosystem_counts()?.iter().filter(|e| want.covers(&e.ecosystem)).map(|e| e.advisories).sum())
    }

    /// The ids of the records that carry `alias` (their own id or an alias), sorted.
    pub fn ids_for(&self, alias: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT a.osv_id FROM aliases x JOIN advisories a ON a.id = x.advisory
                 WHERE x.alias = ?1 ORDER BY a.osv_id",
            )
            .map_err(self.err())?;
        let ids = stmt.query_map([alias], |r| r.get(0)).map_err(self.err())?;
        ids.collect::<rusqlite::Result<Vec<String>>>().map_err(self.err())
    }

    /// The full OSV record with this id.
    pub fn record(&self, id: &str) -> Result<Option<Record>> {
        let raw: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT r.record FROM advisories a JOIN records r ON r.advisory = a.id WHERE a.osv_id=?1",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.err())?;
        Ok(raw.and_then(|raw| serde_json::from_slice(&raw).ok()))
    }

    /// The KEV entry of the first of `ids` that CISA lists.
    pub fn kev(&self, ids: &[String]) -> Result<Option<KevEntry>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT cve, date_added, due_date, ransomware, vendor, product, name, action FROM kev WHERE cve=?1",
            )
            .map_err(self.err())?;
        for id in ids.iter().filter(|i| i.starts_with("CVE-")) {
            let hit = stmt
                .query_row([id], |r| {
                    Ok(KevEntry {
                        cve_id: r.get(0)?,
                        date_added: r.get(1)?,
                        due_date: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        known_ransomware_campaign_use: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                        vendor_project: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                        product: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                        vulnerability_name: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                        required_action: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    })
                })
                .optional()
                .map_err(self.err())?;
            if hit.is_some() {
                return Ok(hit);
            }
        }
        Ok(None)
    }

    /// The highest EPSS score among the CVEs in `ids`.
    pub fn epss(&self, ids: &[String]) -> Result<Option<EpssScore>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT score, percentile FROM epss WHERE cve=?1").map_err(self.err())?;
        let mut best: Option<EpssScore> = None;
        for id in ids.iter().filter(|i| i.starts_with("CVE-")) {
            let hit: Option<(f64, f64)> =
                stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(self.err())?;
            if let Some((score, percentile)) = hit
                && best.as_ref().is_none_or(|b| score > b.score)
            {
                best = Some(EpssScore { cve: id.clone(), score, percentile });
            }
        }
        Ok(best)
    }

    /// What the database holds and where it came from.
    pub fn status(&self) -> Result<Status> {
        let count = |sql: &str| -> Result<u64> {
            self.conn.query_row(sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64).map_err(self.err())
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT kind, name, location, records, skipped, withdrawn, duplicates, git_ranges, detail
                 FROM sources ORDER BY id",
            )
            .map_err(self.err())?;
        let sources = stmt
            .query_map([], |r| {
                Ok(SourceStatus {
                    kind: r.get(0)?,
                    name: r.get(1)?,
                    location: r.get(2)?,
                    counts: SourceCounts {
                        records: r.get::<_, i64>(3)? as u64,
                        skipped: r.get::<_, i64>(4)? as u64,
                        withdrawn: r.get::<_, i64>(5)? as u64,
                        duplicates: r.get::<_, i64>(6)? as u64,
                        git_ranges: r.get::<_, i64>(7)? as u64,
                    },
                    detail: r.get(8)?,
                })
            })
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        let ecosystems = self.ecosystem_counts()?;
        let mut os_releases: Vec<String> = ecosystems
            .iter()
            .map(|e| Ecosystem::parse(&e.ecosystem))
            .filter(|e| e.release().is_some())
            .filter(|e| matches!(e.scheme(), Some(Scheme::Dpkg | Scheme::Rpm | Scheme::Apk)))
            .map(|e| e.as_str().to_owned())
            .collect();
        os_releases.sort_by_key(|e| release_order(e));
        let mut stmt = self.conn.prepare("SELECT file, field, message FROM problems LIMIT 50").map_err(self.err())?;
        let problems = stmt
            .query_map([], |r| Ok(Problem { file: r.get(0)?, field: r.get(1)?, message: r.get(2)? }))
            .map_err(self.err())?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.err())?;
        let built = self.built_at()?;
        Ok(Status {
            path: self.path.display().to_string(),
            schema_version: crate::store::SCHEMA_VERSION,
            built_at: rfc3339(built),
            age_secs: self.age_secs()?,
            built_by: self.meta("vigil_version")?,
            advisories: count("SELECT COUNT(*) FROM advisories")?,
            kev_entries: count("SELECT COUNT(*) FROM kev")?,
            epss_scores: count("SELECT COUNT(*) FROM epss")?,
            epss_score_date: self.meta("epss_score_date")?,
            sources,
            ecosystems,
            os_releases,
            problems,
        })
    }
}
