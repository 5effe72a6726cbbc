//! The JSON report: [`super::ScanReport`] serialised, versioned by
//! `schema_version` (documented in `docs/scan-json.md`).

use std::io::Write;

use super::ScanReport;

pub(super) fn write(report: &ScanReport, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(|e| match e.io_error_kind() {
        Some(kind) => std::io::Error::new(kind, e),
        None => std::io::Error::other(e),
    })?;
    writeln!(out)
}
