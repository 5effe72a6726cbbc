//! Markdown for pull-request comments: a summary line and one table of
//! vulnerabilities in priority order, informational advisories apart.

use std::io::Write;

use vigil_match::{Finding, FixStatus, Kind};

use super::ScanReport;

/// Escapes table-breaking characters.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn fix(f: &Finding) -> String {
    match f.fix_status {
        FixStatus::FixAvailable => f.fixed.join(", "),
        FixStatus::NoFixYet => "no fix yet".to_owned(),
        FixStatus::WillNotFix => "will not fix".to_owned(),
    }
}

/// The installed version, and where it was read when not from the package's own record.
fn installed(f: &Finding) -> String {
    match &f.package.version_source {
        Some(source) => format!("{} (from {source})", f.package.version),
        None => f.package.version.clone(),
    }
}

pub(super) fn write(report: &ScanReport, out: &mut dyn Write) -> std::io::Result<()> {
    let s = &report.summary;
    writeln!(out, "### Vigil: {}", cell(&report.target))?;
    writeln!(out)?;
    if let Some(image) = &report.image {
        writeln!(out, "Image: {}", cell(&super::image_line(image)))?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "**{} vulnerabilities** in {} packages: {} critical, {} high, {} medium, {} low, {} unknown; {} fixable; {} known exploited.",
        s.vulnerabilities, s.packages, s.critical, s.high, s.medium, s.low, s.unknown, s.fixable, s.exploited
    )?;
    if report.gaps().next().is_some() {
        writeln!(out)?;
        writeln!(out, "**Not checked** ({} packages):", s.not_checked)?;
        writeln!(out)?;
        for gap in report.gaps() {
            writeln!(out, "- {}", cell(&gap.describe()))?;
        }
    }
    let vulns: Vec<&Finding> = report.findings.iter().filter(|f| f.kind == Kind::Vulnerability).collect();
    if !vulns.is_empty() {
        writeln!(out)?;
        writeln!(out, "| Severity | Advisory | Package | Installed | Fixed in | Exploited | Found in |")?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        for f in vulns {
            let exploited = f.kev.as_ref().map(|k| format!("KEV {}", k.date_added)).unwrap_or_default();
            writeln!(
                out,
                "| {} | [{}](https://osv.dev/vulnerability/{}) | {} | {} | {} | {} | `{}` |",
                cell(&super::severity_text(f)),
                cell(&f.id),
                cell(&f.id),
                cell(&f.package.name),
                cell(&installed(f)),
                cell(&fix(f)),
                exploited,
                cell(&f.package.location.path)
            )?;
        }
    }
    let info: Vec<&Finding> = report.findings.iter().filter(|f| f.kind == Kind::Informational).collect();
    if !info.is_empty() {
        writeln!(out)?;
        writeln!(out, "Informational (not vulnerabilities):")?;
        writeln!(out)?;
        for f in info {
            writeln!(
                out,
                "- {} {}: {} ({})",
                cell(&f.package.name),
                cell(&f.package.version),
                cell(&f.id),
                f.informational.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}
