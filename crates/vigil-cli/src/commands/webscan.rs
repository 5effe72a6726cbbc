//! `vigil webscan`: turns the flags into scan options, runs the web
//! scanner, writes the reports, uploads, and applies the CI gate.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use vigil_dast::report::{self, Format};
use vigil_dast::{Options, Severity, Strength};

use crate::cli::SeverityArg;
use crate::cli_web::{StrengthArg, WebOutput, WebscanArgs};

/// Runs `vigil webscan`.
pub fn webscan(args: &WebscanArgs, quiet: bool) -> Result<ExitCode> {
    if args.list_checks {
        for check in vigil_dast::CHECKS {
            println!("{:<14} {}{}", check.id, check.name, if check.default { "" } else { " (not run by default)" });
        }
        return Ok(ExitCode::SUCCESS);
    }
    let url = args.url.as_deref().unwrap_or_default();
    let start =
        url::Url::parse(url).with_context(|| format!("{url}: not a URL (write it as http://127.0.0.1:8080/)"))?;
    let mut options = Options::new(start);
    options.hosts = args.scope_hosts.clone();
    options.prefixes = args.include.clone();
    options.excludes = args.exclude.clone();
    options.allow_remote = args.allow_remote;
    options.rate = args.rate;
    options.concurrency = args.concurrency.max(1);
    options.max_duration = args.max_duration.map(Duration::from_secs);
    options.max_depth = args.max_depth;
    options.max_pages = args.max_pages;
    options.timeout = Duration::from_secs(args.timeout.max(1));
    options.checks = args.checks.clone();
    options.openapi = args.openapi.clone();
    options.strength = match args.strength {
        StrengthArg::Low => Strength::Low,
        StrengthArg::Medium => Strength::Medium,
        StrengthArg::High => Strength::High,
    };
    for header in &args.headers {
        let (name, value) =
            header.split_once(':').with_context(|| format!("--header {header}: write it as 'Name: value'"))?;
        options.headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    for cookie in &args.cookies {
        let (name, value) =
            cookie.split_once('=').with_context(|| format!("--cookie {cookie}: write it as name=value"))?;
        options.cookies.push((name.trim().to_string(), value.trim().to_string()));
    }
    let outputs = if args.format.is_empty() {
        vec![WebOutput { format: Format::Table, file: None }]
    } else {
        args.format.clone()
    };
    if outputs.iter().filter(|o| o.file.is_none()).count() > 1 {
        bail!("only one --format can go to standard output; give the others a file (--format sarif=web.sarif)");
    }
    let tty = std::io::stderr().is_terminal();
    let progress = |message: &str| {
        if !quiet && tty {
            eprintln!("{message}");
        }
    };
    let report = vigil_dast::scan(&options, &progress)?;
    for output in &outputs {
        match output.file.as_ref().or(args.output.as_ref()) {
            None => report::write(&report, output.format, &mut std::io::stdout().lock())?,
            Some(path) => super::scan::write_atomically(path, |file| report::write(&report, output.format, file))?,
        }
    }
    if args.upload.upload.is_some() {
        // Web results of a `webapp` asset; what a later full scan does not find is fixed.
        let results: Vec<serde_json::Value> = report.findings.iter().map(|f| f.to_result()).collect();
        let mut upload = args.upload.clone();
        upload.asset_kind.get_or_insert_with(|| "webapp".into());
        let inventory = vigil_core::inventory::Inventory { target: report.target.clone(), ..Default::default() };
        super::client::upload(&upload, &inventory, &[], &results, Some(&["web".to_string()]), quiet)?;
    }
    let mut failures = Vec::new();
    if let Some(threshold) = args.fail_on {
        let threshold = match threshold {
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        };
        let n = report.findings.iter().filter(|f| f.severity >= threshold).count();
        if n > 0 {
            failures.push(format!("{n} findings at or above {}", threshold.as_str()));
        }
    }
    let untested = report.untested.iter().filter(|u| u.check != "crawl").count();
    if args.fail_on_untested && untested > 0 {
        failures.push(format!("{untested} check runs not done within the time limit"));
    }
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !quiet {
        eprintln!("policy failed: {}", failures.join("; "));
    }
    Ok(ExitCode::from(1))
}
