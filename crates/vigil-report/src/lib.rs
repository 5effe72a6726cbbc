//! Vigil's output formats: an inventory as an SBOM (CycloneDX 1.6 JSON,
//! SPDX 2.3 JSON or Vigil's own JSON; one module under `sbom/` each, chosen
//! by one `match` on [`SbomFormat`]) and scan results (a table or the
//! versioned JSON report; one module under `scan/` each, chosen by
//! [`ScanFormat`]), and the team's decisions that take findings out of a
//! report: the ignore file and OpenVEX ([`policy`]), and what changed since
//! an earlier scan ([`baseline`], rendered by [`diff`]).
//!
//! Configuration, compliance and secret results render through [`checks`],
//! alone (`vigil comply`) or as the `config` section of a scan report.
//!
//! Fix plans (`vigil fix-plan`) render through [`fixplan`], which also asks
//! the gate what it would say once the plan is applied.
//!
//! This crate renders; it scans and matches nothing.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod baseline;
pub mod checks;
pub mod diff;
pub mod fixplan;
pub mod gate;
pub mod policy;
mod sbom;
mod scan;

pub use sbom::{SbomFormat, write_sbom};
pub(crate) use sbom::{Stamp, cyclonedx, write_json};
pub use scan::{SCAN_SCHEMA_VERSION, ScanFormat, ScanReport, Summary, write_scan};
