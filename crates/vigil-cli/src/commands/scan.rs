//! `vigil scan`: inventory a target, match it against the advisory
//! database, report, and gate.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use vigil_match::{FixStatus, Kind};
use vigil_report::gate::Gate;
use vigil_report::policy::{self, Suppression};
use vigil_report::{ScanFormat, ScanReport};
use vigil_vulndb::Database;

use crate::cli::{ScanArgs, ScanFormatArg, ScanInput, ScanOutput, ScannerArg};
use crate::cli_platform::UploadArgs;
use crate::config::Config;
use crate::progress::Bars;

/// Opens the database, fetching one first when there is none (unless offline).
fn database(config: &Config, path: &Path, offline: bool, quiet: bool) -> Result<Database> {
    match Database::open(path) {
        Err(vigil_vulndb::Error::Missing(_)) if offline => bail!(
            "no advisory database at {}; offline, build one from local files with `vigil db import PATH...`",
            path.display()
        ),
        Err(vigil_vulndb::Error::Missing(_)) => {
            if !quiet {
                eprintln!("no advisory database at {}: fetching one (as `vigil db update`)", path.display());
            }
            let plan = super::db::default_plan(config)?;
            vigil_vulndb::update(&plan, path, &Bars::new(quiet)).context(
                "could not fetch an advisory database; offline, build one from local files with `vigil db import PATH...`",
            )?;
            Ok(Database::open(path)?)
        }
        other => Ok(other?),
    }
}

/// Writes a file through a temporary sibling renamed into place.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    // A device, pipe or socket (`--output /dev/null`, `/dev/stdout`, a FIFO) is written to, never
    // replaced: renaming a file over /dev/null as root turns it into a regular file holding the
    // report, and every later reader of /dev/null gets the report (in CI, cargo's rustc probes,
    // whose input is /dev/null, then fail on it).
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        write(&mut file).with_context(|| format!("writing {}", path.display()))?;
        file.flush()?;
        return Ok(());
    }
    let tmp = path.with_extension("tmp-vigil");
    let mut file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    write(&mut file).with_context(|| format!("writing {}", tmp.display()))?;
    file.flush()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The ignore file given, else `.vigilignore.yaml` in the current directory when present.
fn ignore_path(given: Option<&Path>) -> Option<&Path> {
    let default = Path::new(".vigilignore.yaml");
    given.or_else(|| default.is_file().then_some(default))
}

/// The rules of an ignore file (none without one).
pub fn ignore_rules(path: Option<&Path>) -> Result<Vec<policy::IgnoreRule>> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            policy::parse_ignore_file(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        None => Ok(Vec::new()),
    }
}

/// Applies the ignore file and OpenVEX documents.
fn apply_policy(
    args: &ScanInput,
    findings: &mut Vec<vigil_match::Finding>,
    subject: &policy::Subject,
) -> Result<(Vec<Suppression>, Vec<String>)> {
    let rules = ignore_rules(ignore_path(args.ignore_file.as_deref()))?;
    let mut vex = Vec::new();
    for path in &args.vex {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        vex.extend(policy::parse_openvex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?);
    }
    let today = &vigil_core::time::rfc3339(vigil_core::time::now_unix())[..10];
    Ok(policy::apply(findings, &rules, &vex, subject, today))
}

/// A target inventoried and matched, before filters and policy.
pub struct Matched {
    /// The inventory.
    pub inventory: vigil_core::inventory::Inventory,
    /// Every finding.
    pub findings: Vec<vigil_match::Finding>,
    /// What the database could check.
    pub coverage: Vec<vigil_match::Coverage>,
    /// When the database was built (RFC 3339); empty when nothing was matched.
    pub built_at: String,
    /// The database matched against, when vulnerabilities were looked for.
    pub database: Option<Database>,
}

/// Inventories `target` and matches it, saying on standard error what went unchecked.
pub fn match_target(
    config: &Config,
    db: &Path,
    target: &str,
    image: &crate::cli::ImageArgs,
    offline: bool,
    quiet: bool,
) -> Result<Matched> {
    matched(config, db, super::inventory(target, image, quiet)?, offline, quiet, true)
}

/// Matches `inventory` against the advisory database when `vulns`.
fn matched(
    config: &Config,
    db: &Path,
    inventory: vigil_core::inventory::Inventory,
    offline: bool,
    quiet: bool,
    vulns: bool,
) -> Result<Matched> {
    if !quiet {
        for w in &inventory.warnings {
            eprintln!("warning: {w}");
        }
    }
    let database = if vulns { Some(database(config, db, offline, quiet)?) } else { None };
    if !quiet
        && let Some(database) = &database
        && let Some(warning) = database.staleness_warning(config.max_age_days())?
    {
        eprintln!("warning: {warning}");
    }
    let (findings, coverage) = match &database {
        Some(database) => {
            (vigil_match::match_inventory(database, &inventory)?, vigil_match::coverage(database, &inventory)?)
        }
        None => (Vec::new(), Vec::new()),
    };
    if !quiet {
        for gap in coverage.iter().filter(|c| c.is_gap()) {
            eprintln!("warning: {}", gap.describe());
        }
    }
    let built_at = match &database {
        Some(database) => vigil_core::time::rfc3339(database.built_at()?),
        None => String::new(),
    };
    Ok(Matched { inventory, findings, coverage, built_at, database })
}

/// The baseline of `--baseline`: a report file, or the asset's last scan on a server.
fn baseline(
    args: &ScanInput,
    upload: &UploadArgs,
    target: &str,
    quiet: bool,
) -> Result<Option<vigil_report::baseline::Side>> {
    let Some(baseline) = &args.baseline else { return Ok(None) };
    let side = if baseline == "server" && !Path::new(baseline).exists() {
        let server = args
            .server
            .as_deref()
            .or(upload.upload.as_deref())
            .context("--baseline server needs the server's URL: --server URL (or VIGIL_SERVER), or --upload URL")?;
        let token = upload.token.as_deref().context("--baseline server needs --token (or VIGIL_TOKEN)")?;
        let asset = super::client::asset_name(upload, target);
        super::client::baseline(server, token, &asset)?
    } else {
        super::diff::read_report(Path::new(baseline))?
    };
    if !quiet {
        let when = side.scanned_at.as_deref().map(|t| format!(", scanned {t}")).unwrap_or_default();
        eprintln!("baseline: {} ({} findings{when})", side.source, side.findings.len());
    }
    Ok(Some(side))
}

/// A target scanned, before any output: the report, the database its
/// packages were matched against, and the gate its options set.
pub struct Scanned {
    /// The report, after filters and suppressions.
    pub report: ScanReport,
    /// The advisory database, when vulnerabilities were looked for.
    pub database: Option<Database>,
    /// What fails the scan.
    pub gate: Gate,
}

/// Inventories, matches, filters and applies the team's decisions as
/// `vigil scan` does; `upload` names the server and token of `--baseline server`.
pub fn evaluate(config: &Config, db: &Path, args: &ScanInput, upload: &UploadArgs, quiet: bool) -> Result<Scanned> {
    let vulns = args.scanners.contains(&ScannerArg::Vuln);
    let (inventory, checks) = if args.scanners.iter().any(|s| *s != ScannerArg::Vuln) {
        let ignore = ignore_path(args.ignore_file.as_deref());
        let (inventory, checks) =
            super::comply::run(&args.target, &args.image, &args.checks, &args.scanners, ignore, quiet)?;
        (inventory, Some(checks))
    } else {
        (super::inventory(&args.target, &args.image, quiet)?, None)
    };
    let Matched { inventory, mut findings, coverage, built_at, database } =
        matched(config, db, inventory, args.offline, quiet, vulns)?;
    // Read before anything is uploaded: the server's last scan must not be this one.
    let baseline = baseline(args, upload, &inventory.target, quiet)?;
    let compared = baseline.map(|side| vigil_report::baseline::mark(&mut findings, &inventory, &side));
    if args.ignore_unfixed {
        findings.retain(|f| f.kind != Kind::Vulnerability || f.fix_status == FixStatus::FixAvailable);
    }
    if args.exploited_only {
        findings.retain(|f| f.kind == Kind::Vulnerability && f.kev.is_some());
    }
    let (suppressed, notices) = apply_policy(args, &mut findings, &policy::Subject::of(&inventory))?;
    if !quiet {
        for n in &notices {
            eprintln!("warning: {n}");
        }
    }
    let scanned_at = vigil_core::time::rfc3339(vigil_core::time::now_unix());
    let mut report = ScanReport::new(inventory, scanned_at, built_at, findings).with_coverage(coverage);
    report.suppressed = suppressed;
    report.config = checks;
    if let Some(compared) = compared {
        report = report.with_baseline(compared);
    }
    let gate = Gate {
        fail_on: args.fail_on.map(super::comply::threshold),
        fail_on_unknown: args.fail_on_unknown,
        fail_on_missing_data: args.fail_on_missing_data,
        fail_on_new: args.fail_on_new,
    };
    Ok(Scanned { report, database, gate })
}

/// Scans the target; exit code 1 when `--fail-on` is reached.
pub fn scan(config: &Config, db: &Path, args: &ScanArgs, quiet: bool) -> Result<ExitCode> {
    let Scanned { report, gate, .. } = evaluate(config, db, &args.input, &args.upload, quiet)?;
    let vulns = args.input.scanners.contains(&ScannerArg::Vuln);
    let outputs = if args.format.is_empty() {
        vec![ScanOutput { format: ScanFormatArg::Table, file: None }]
    } else {
        args.format.clone()
    };
    if outputs.iter().filter(|o| o.file.is_none()).count() > 1 {
        bail!("only one --format can go to standard output; give the others a file (--format sarif=vigil.sarif)");
    }
    for output in &outputs {
        let format = match output.format {
            ScanFormatArg::Table => ScanFormat::Table {
                // Colour only on a terminal, and never when NO_COLOR is set.
                color: output.file.is_none()
                    && args.output.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            },
            ScanFormatArg::Json => ScanFormat::Json,
            ScanFormatArg::Sarif => ScanFormat::Sarif,
            ScanFormatArg::Junit => ScanFormat::Junit,
            ScanFormatArg::Markdown => ScanFormat::Markdown,
            ScanFormatArg::Cyclonedx => ScanFormat::CycloneDx,
        };
        match output.file.as_ref().or(args.output.as_ref()) {
            None => vigil_report::write_scan(&report, format, &mut std::io::stdout().lock())?,
            Some(path) => write_atomically(path, |file| vigil_report::write_scan(&report, format, file))?,
        }
    }
    if args.upload.upload.is_some() {
        let findings: Vec<serde_json::Value> =
            report.findings.iter().filter_map(|f| serde_json::to_value(f).ok()).collect();
        let (results, mut covers) = report.config.as_ref().map(super::comply::results).unwrap_or_default();
        if vulns {
            covers.push("package".into());
        }
        super::client::upload(&args.upload, &report.inventory, &findings, &results, Some(&covers), quiet)?;
    }
    let failures = gate.failures(&report);
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !quiet {
        eprintln!("policy failed: {}", failures.join("; "));
    }
    Ok(ExitCode::from(1))
}
