//! `vigil comply`, and the configuration and secret scanners of `vigil scan
//! --scanners`: read the target once (an image keeps the files the checks
//! read), pick the policies, run the checks, apply the ignore file, report and gate.

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use vigil_core::inventory::Inventory;
use vigil_core::severity::Severity;
use vigil_report::checks::{ChecksFormat, ChecksReport};

use crate::cli::{ChecksArgs, ComplyArgs, ComplyFormatArg, ImageArgs, ScannerArg, SeverityArg};

/// Reads a file for a policy `extends` or `--policy`, naming it in errors.
fn read_policy(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| {
        let names: Vec<&str> = vigil_comply::policy::BUILTIN.iter().map(|(n, _)| *n).collect();
        format!("{path}: {e} (built-in policies: {})", names.join(", "))
    })
}

/// The inventory of `target` and what the configuration and secret scanners found in it.
pub fn run(
    target: &str,
    image: &ImageArgs,
    checks: &ChecksArgs,
    scanners: &[ScannerArg],
    ignore_file: Option<&Path>,
    quiet: bool,
) -> Result<(Inventory, ChecksReport)> {
    let config = scanners.contains(&ScannerArg::Config);
    let secrets = match (scanners.contains(&ScannerArg::Secret), &checks.secret_config) {
        (false, _) => None,
        (true, None) => Some(vigil_comply::secrets::Config::default()),
        (true, Some(path)) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Some(vigil_comply::secrets::Config::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
    };
    // The policies a run may use decide what an image keeps; the target's OS picks among them once known.
    let candidates = if !config {
        Vec::new()
    } else if checks.policies.is_empty() {
        vigil_comply::policy::BUILTIN
            .iter()
            .map(|(name, _)| vigil_comply::policy::load(name, &read_policy))
            .collect::<Result<Vec<_>, _>>()
            .map_err(anyhow::Error::msg)?
    } else {
        vigil_comply::policy::select(&checks.policies, None, &read_policy).map_err(anyhow::Error::msg)?
    };
    let limits = vigil_comply::Limits {
        max_file_bytes: checks.max_check_file_mib.saturating_mul(1 << 20),
        ..Default::default()
    };
    let mut options = vigil_comply::Options { policies: candidates, misconfig: config, secrets, limits };
    let view = Arc::new(Mutex::new(None));
    let wanted_options = Arc::new(options.clone());
    let policy_ids: Vec<&str> = options.policies.iter().map(|p| p.policy.id.as_str()).collect();
    let extra = vigil_inventory::Extra {
        id: format!(
            "vigil-comply {} policies {} misconfig {} secrets {} max {}",
            env!("CARGO_PKG_VERSION"),
            policy_ids.join(","),
            options.misconfig,
            options.secrets.is_some(),
            limits.max_file_bytes
        ),
        wanted: Arc::new(move |path: &str| vigil_comply::wants(&wanted_options, path)),
        view: Arc::clone(&view),
    };
    let inventory = super::inventory_with(target, image, quiet, Some(extra))?;
    let fs = view.lock().ok().and_then(|mut v| v.take()).with_context(|| {
        format!(
            "{target}: configuration and secret checks read images, root filesystems and directories, not single files"
        )
    })?;
    if config && checks.policies.is_empty() {
        options.policies.retain(|p| p.applies_to(inventory.os.as_ref()));
        if options.policies.is_empty() && !quiet {
            let os = inventory.os.as_ref().map_or("no OS".to_owned(), |o| o.id.clone());
            eprintln!("note: no built-in compliance policy for {os}; name one with --policy to run it anyway");
        }
    }
    let report = vigil_comply::scan(&fs, &inventory, &options);
    let rules = super::scan::ignore_rules(ignore_file)?;
    let today = &vigil_core::time::rfc3339(vigil_core::time::now_unix())[..10];
    let names: Vec<String> = scanners.iter().filter(|s| **s != ScannerArg::Vuln).map(|s| s.name().to_owned()).collect();
    let (report, notices) = ChecksReport::new(names, report, &rules, today);
    if !quiet {
        for w in report.warnings.iter().chain(&notices) {
            eprintln!("warning: {w}");
        }
    }
    Ok((inventory, report))
}

/// The severity of a `--fail-on`.
pub fn threshold(arg: SeverityArg) -> Severity {
    match arg {
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

/// The results of an upload: issues in the shape the server takes, and the sources they cover.
pub fn results(report: &ChecksReport) -> (Vec<serde_json::Value>, Vec<String>) {
    let results = report.issues.iter().filter_map(|i| serde_json::to_value(i).ok()).collect();
    (results, report.scanners.clone())
}

/// `vigil comply`: exit code 1 when `--fail-on` is reached.
pub fn comply(args: &ComplyArgs, quiet: bool) -> Result<ExitCode> {
    if args.scanners.contains(&ScannerArg::Vuln) {
        bail!(
            "vigil comply runs config and secret checks; for vulnerabilities too, use vigil scan --scanners vuln,config,secret"
        );
    }
    let default = Path::new(".vigilignore.yaml");
    let ignore = args.ignore_file.as_deref().or_else(|| default.is_file().then_some(default));
    let (inventory, report) = run(&args.target, &args.image, &args.checks, &args.scanners, ignore, quiet)?;
    let scanned_at = vigil_core::time::rfc3339(vigil_core::time::now_unix());
    let outputs = if args.format.is_empty() {
        vec![crate::cli::ComplyOutput { format: ComplyFormatArg::Table, file: None }]
    } else {
        args.format.clone()
    };
    if outputs.iter().filter(|o| o.file.is_none()).count() > 1 {
        bail!("only one --format can go to standard output; give the others a file (--format sarif=vigil.sarif)");
    }
    for output in &outputs {
        let format = match output.format {
            ComplyFormatArg::Table => ChecksFormat::Table,
            ComplyFormatArg::Json => ChecksFormat::Json,
            ComplyFormatArg::Sarif => ChecksFormat::Sarif,
            ComplyFormatArg::Junit => ChecksFormat::Junit,
            ComplyFormatArg::Markdown => ChecksFormat::Markdown,
        };
        let write = |out: &mut dyn std::io::Write| {
            vigil_report::checks::write_checks(
                &inventory.target,
                inventory.os.as_ref(),
                &scanned_at,
                &report,
                format,
                out,
            )
        };
        match output.file.as_ref().or(args.output.as_ref()) {
            None => write(&mut std::io::stdout().lock())?,
            Some(path) => super::scan::write_atomically(path, write)?,
        }
    }
    if args.upload.upload.is_some() {
        let (results, covers) = results(&report);
        super::client::upload(&args.upload, &inventory, &[], &results, Some(&covers), quiet)?;
    }
    if let Some(threshold) = args.fail_on.map(threshold) {
        let n = report.at_least(threshold);
        if n > 0 {
            if !quiet {
                eprintln!("policy failed: {n} issues at or above {threshold}");
            }
            return Ok(ExitCode::from(1));
        }
    }
    if !quiet && report.summary.error > 0 {
        eprintln!("note: {} checks could not be decided; see their evidence", report.summary.error);
    }
    Ok(ExitCode::SUCCESS)
}
