//! The JSON report: the whole [`Report`] plus a schema version and, per
//! finding, the `result` the server's uploads take.

use std::io::Write;

use crate::Report;

/// Writes the JSON report.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut value = serde_json::to_value(report)?;
    value["schema_version"] = super::SCHEMA_VERSION.into();
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}
