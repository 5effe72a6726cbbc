//! Scan results: the report model every findings format renders, and one
//! module per format (`table`, `json`, `sarif`, `junit`, `markdown`,
//! `cyclonedx`).

mod cyclonedx;
mod json;
mod junit;
pub(crate) use junit::xml;
pub(crate) mod markdown;
pub(crate) mod sarif;
pub(crate) mod table;

use std::io::Write;

use serde::Serialize;
use vigil_core::inventory::{Inventory, OsInfo};
use vigil_core::severity::Severity;
use vigil_match::{Coverage, Finding, FixStatus, Kind, SeverityFrom};

/// Version of the JSON report layout (`docs/scan-json.md`).
pub const SCAN_SCHEMA_VERSION: u32 = 3;

/// Findings formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    /// A table for people, grouped by where packages were found; `color`
    /// paints severities with ANSI colours (for a terminal only).
    Table {
        /// Whether to colour.
        color: bool,
    },
    /// The versioned JSON report.
    Json,
    /// SARIF 2.1.0 (code-scanning dashboards).
    Sarif,
    /// JUnit XML (CI test dashboards).
    Junit,
    /// Markdown (pull-request comments).
    Markdown,
    /// CycloneDX 1.6 JSON: the inventory with its vulnerabilities.
    CycloneDx,
}

/// Counts per severity, vulnerabilities only.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Critical.
    pub critical: usize,
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
    /// No severity known (or none).
    pub unknown: usize,
    /// Vulnerabilities in total.
    pub vulnerabilities: usize,
    /// Of which known exploited (KEV).
    pub exploited: usize,
    /// Of which with a fix available.
    pub fixable: usize,
    /// Informational advisories.
    pub informational: usize,
    /// Packages in the inventory.
    pub packages: usize,
    /// Of which not checked: the database holds no advisories for their
    /// ecosystem, or Vigil cannot match it (see the report's `coverage`).
    pub not_checked: usize,
}

/// A scan's results, as every format sees them.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// Layout version of the JSON form.
    pub schema_version: u32,
    /// What was scanned.
    pub target: String,
    /// What the image was, when the target is a container image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<vigil_core::inventory::ImageMeta>,
    /// The OS found, if any.
    pub os: Option<OsInfo>,
    /// When the scan ran (RFC 3339).
    pub scanned_at: String,
    /// When the advisory database was built (RFC 3339).
    pub database_built_at: String,
    /// Counts.
    pub summary: Summary,
    /// Findings, in priority order.
    pub findings: Vec<Finding>,
    /// Findings taken out by the ignore file or OpenVEX, with the reason.
    pub suppressed: Vec<crate::policy::Suppression>,
    /// For every ecosystem of the inventory, whether the database could check it.
    pub coverage: Vec<Coverage>,
    /// Problems met while building the inventory.
    pub warnings: Vec<String>,
    /// Configuration, compliance and secret results, when those scanners ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<crate::checks::ChecksReport>,
    /// The baseline this scan was compared with (`--baseline`): counts, the
    /// baseline findings no longer found, and the packages changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::BaselineInfo>,
    /// The whole inventory; the JSON report lists its packages (as
    /// `packages`), which later comparisons read back.
    #[serde(rename = "packages", serialize_with = "packages_of")]
    pub inventory: Inventory,
}

/// Serializes an inventory's packages, one at a time.
fn packages_of<S: serde::Serializer>(inventory: &Inventory, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(&inventory.packages)
}

/// A finding's severity word, naming the record it was taken from when its
/// own record has none: `high (from UBUNTU-CVE-2017-18367, via CVE-2017-18367)`.
pub(crate) fn severity_text(severity: Severity, from: Option<&SeverityFrom>) -> String {
    match from {
        Some(from) => format!("{severity} (from {}, via {})", from.id, from.alias),
        None => severity.to_string(),
    }
}

/// One line naming an image target: how it was read, its manifest digest and platform.
pub(crate) fn image_line(image: &vigil_core::inventory::ImageMeta) -> String {
    let mut parts = vec![image.format.clone()];
    parts.extend(image.manifest_digest.iter().map(|d| format!("manifest {d}")));
    parts.extend(image.platform.clone());
    let layers = image.layers.len();
    parts.push(format!("{layers} layer{}", if layers == 1 { "" } else { "s" }));
    parts.join(", ")
}

impl ScanReport {
    /// Builds the report and its summary.
    pub fn new(
        inventory: Inventory,
        scanned_at: String,
        database_built_at: String,
        findings: Vec<Finding>,
    ) -> ScanReport {
        let mut summary = Summary { packages: inventory.packages.len(), ..Summary::default() };
        for f in &findings {
            if f.kind == Kind::Informational {
                summary.informational += 1;
                continue;
            }
            summary.vulnerabilities += 1;
            summary.exploited += usize::from(f.kev.is_some());
            summary.fixable += usize::from(f.fix_status == FixStatus::FixAvailable);
            match f.severity {
                Severity::Critical => summary.critical += 1,
                Severity::High => summary.high += 1,
                Severity::Medium => summary.medium += 1,
                Severity::Low => summary.low += 1,
                Severity::None | Severity::Unknown => summary.unknown += 1,
            }
        }
        ScanReport {
            schema_version: SCAN_SCHEMA_VERSION,
            target: inventory.target.clone(),
            image: inventory.image.clone(),
            os: inventory.os.clone(),
            scanned_at,
            database_built_at,
            summary,
            findings,
            suppressed: Vec::new(),
            coverage: Vec::new(),
            warnings: inventory.warnings.clone(),
            config: None,
            baseline: None,
            inventory,
        }
    }
}

impl ScanReport {
    /// Records what the database could check, and counts the packages it could not.
    pub fn with_coverage(mut self, coverage: Vec<Coverage>) -> ScanReport {
        self.summary.not_checked = coverage.iter().filter(|c| c.is_gap()).map(|c| c.packages).sum();
        self.coverage = coverage;
        self
    }

    /// The ecosystems whose packages went unchecked.
    pub fn gaps(&self) -> impl Iterator<Item = &Coverage> {
        self.coverage.iter().filter(|c| c.is_gap())
    }
}

/// Writes `report` in `format`.
pub fn write_scan(report: &ScanReport, format: ScanFormat, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        ScanFormat::Table { color } => {
            table::write(report, out, color)?;
            match &report.config {
                Some(config) => {
                    writeln!(out)?;
                    crate::checks::table(config, out)
                }
                None => Ok(()),
            }
        }
        ScanFormat::Json => json::write(report, out),
        ScanFormat::Sarif => sarif::write(report, out),
        ScanFormat::Junit => junit::write(report, out),
        ScanFormat::Markdown => {
            markdown::write(report, out)?;
            report.config.as_ref().map_or(Ok(()), |config| crate::checks::markdown(config, out))
        }
        ScanFormat::CycloneDx => cyclonedx::write(report, out),
    }
}
