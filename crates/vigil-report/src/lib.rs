//! Vigil's output formats. For now: an inventory as an SBOM, in
//! CycloneDX 1.6 JSON, SPDX 2.3 JSON or Vigil's own JSON. Each format is
//! one module under `sbom/`, chosen by one `match` on [`SbomFormat`].
//!
//! This crate renders; it scans and matches nothing.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod sbom;

pub use sbom::{SbomFormat, write_sbom};
