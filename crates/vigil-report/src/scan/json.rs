//! The JSON report: [`super::ScanReport`] serialised, versioned by
//! `schema_version` (documented in `docs/scan-json.md`).

use std::io::Write;

use super::ScanReport;

pub(super) fn write(report: &ScanReport, out: &mut dyn Write) -> std::io::Result<()> {
    // Serialized straight to the (buffered) output, finding by finding.
    crate::write_json(report, out)
}
