//! `vigil fix-plan`: scan the target exactly as `vigil scan` does (same
//! targets, filters, ignore file, VEX, baseline and gate), then plan the
//! fewest package upgrades that pass the gate. Exit code 0 when the plan
//! passes the gate, 1 when the gate would still fail after it (no fix
//! available, configuration issues, missing data), 2 on error.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use vigil_core::severity::Severity;
use vigil_match::fixplan::Planner;
use vigil_report::fixplan::{FixPlanReport, write_fix_plan};

use crate::cli::{FixPlanArgs, Format, ScannerArg};
use crate::cli_platform::UploadArgs;
use crate::config::Config;

use super::scan::{Scanned, evaluate, write_atomically};

/// Plans the upgrades for `args.input.target`.
pub fn fix_plan(config: &Config, db: &Path, args: &FixPlanArgs, quiet: bool) -> Result<ExitCode> {
    if !args.input.scanners.contains(&ScannerArg::Vuln) {
        bail!("a fix plan upgrades packages: --scanners must include vuln");
    }
    // Only what `--baseline server` reads: fix-plan never uploads.
    let server = UploadArgs {
        upload: None,
        token: args.token.clone(),
        asset: args.asset.clone(),
        asset_kind: None,
        team: None,
        tags: Vec::new(),
        labels: Vec::new(),
        partial: false,
    };
    let Scanned { report, database, mut gate } = evaluate(config, db, &args.input, &server, quiet)?;
    let database = database.context("no advisory database was opened")?;
    if !gate.is_set() {
        // Without a gate, plan to clear every vulnerability with a severity, and those without one.
        gate.fail_on = Some(Severity::Low);
        gate.fail_on_unknown = true;
    }
    let plan = Planner::new(&database).plan(&report.findings, &|f| gate.counts(f))?;
    let planned = FixPlanReport::new(report, &gate, plan);
    let json = args.format.format == Format::Json;
    match &args.output {
        None => write_fix_plan(&planned, json, &mut std::io::stdout().lock())?,
        Some(path) => write_atomically(path, |file| write_fix_plan(&planned, json, file))?,
    }
    if planned.passes_after() {
        return Ok(ExitCode::SUCCESS);
    }
    if !quiet {
        eprintln!("policy fails even after the plan: {}", planned.failures_after.join("; "));
    }
    Ok(ExitCode::from(1))
}
