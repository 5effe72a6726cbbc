//! `vigil diff OLD NEW`: two scans compared. Each side is a Vigil JSON
//! report, or a target (image, directory, lockfile, SBOM) scanned now.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use vigil_report::ScanReport;
use vigil_report::baseline::Side;
use vigil_report::diff::{Diff, DiffFormat};

use crate::cli::{DiffArgs, DiffFormatArg};
use crate::config::Config;

/// The largest report read back, in bytes.
const MAX_REPORT_BYTES: u64 = 2 << 30;

/// Whether `path` opens as a Vigil JSON report: the report writes
/// `schema_version` first and `database_built_at` soon after, so the first
/// few KiB tell, without reading a large lockfile whole.
fn looks_like_report(path: &Path) -> bool {
    let mut head = Vec::with_capacity(8192);
    let Ok(file) = std::fs::File::open(path) else { return false };
    if file.take(8192).read_to_end(&mut head).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&head);
    text.trim_start().starts_with('{') && text.contains("\"schema_version\"") && text.contains("\"database_built_at\"")
}

/// Reads a Vigil JSON report written by `vigil scan --format json`.
pub fn read_report(path: &Path) -> Result<Side> {
    let shown = path.display().to_string();
    let size = std::fs::metadata(path).with_context(|| format!("reading the report {shown}"))?.len();
    anyhow::ensure!(size <= MAX_REPORT_BYTES, "{shown}: over {} GiB, too large for a report", MAX_REPORT_BYTES >> 30);
    let bytes = std::fs::read(path).with_context(|| format!("reading the report {shown}"))?;
    Ok(Side::from_report(&bytes, &shown)?)
}

/// One side: a report read back, or a target scanned now.
fn side(config: &Config, db: &Path, operand: &str, args: &DiffArgs, quiet: bool) -> Result<Side> {
    let path = Path::new(operand);
    if path.is_file() && looks_like_report(path) {
        return read_report(path);
    }
    let matched = super::scan::match_target(config, db, operand, &args.image, args.offline, quiet)?;
    let scanned_at = vigil_core::time::rfc3339(vigil_core::time::now_unix());
    let report = ScanReport::new(matched.inventory, scanned_at, matched.built_at, matched.findings);
    Ok(Side::of_report(&report, &format!("{operand}, scanned now")))
}

/// `vigil diff`.
pub fn diff(config: &Config, db: &Path, args: &DiffArgs, quiet: bool) -> Result<()> {
    let old = side(config, db, &args.old, args, quiet)?;
    let new = side(config, db, &args.new, args, quiet)?;
    let diff = Diff::new(&old, new);
    let format = match args.format {
        DiffFormatArg::Table => DiffFormat::Table,
        DiffFormatArg::Json => DiffFormat::Json,
        DiffFormatArg::Markdown => DiffFormat::Markdown,
        DiffFormatArg::Sarif => DiffFormat::Sarif,
    };
    match &args.output {
        None => vigil_report::diff::write_diff(&diff, format, &mut std::io::stdout().lock())?,
        Some(path) => super::scan::write_atomically(path, |file| vigil_report::diff::write_diff(&diff, format, file))?,
    }
    Ok(())
}
