//! Markdown for pull-request comments: a summary line and one table of
//! vulnerabilities in priority order, informational advisories apart. Next
//! to a baseline, each row says whether it is new, and the baseline's
//! findings no longer found are listed as fixed.

use std::io::Write;

use vigil_match::{FixStatus, Kind};

use super::ScanReport;
use crate::baseline::Record;

/// Escapes table-breaking characters.
pub(crate) fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn fix(f: &Record) -> String {
    match f.fix_status {
        FixStatus::FixAvailable => f.fixed.join(", "),
        FixStatus::NoFixYet => "no fix yet".to_owned(),
        FixStatus::WillNotFix => "will not fix".to_owned(),
    }
}

/// The installed version, and where it was read when not from the package's own record.
fn installed(f: &Record) -> String {
    match &f.package.version_source {
        Some(source) => format!("{} (from {source})", f.package.version),
        None => f.package.version.clone(),
    }
}

/// A table of vulnerabilities; with `change`, a first column saying what
/// each is next to the baseline.
pub(crate) fn vulnerability_table(out: &mut dyn Write, records: &[Record], change: bool) -> std::io::Result<()> {
    let (head, rule) = if change { ("| Change ", "|---") } else { ("", "") };
    writeln!(out, "{head}| Severity | Advisory | Package | Installed | Fixed in | Exploited | Found in |")?;
    writeln!(out, "{rule}|---|---|---|---|---|---|---|")?;
    for f in records {
        let exploited = f.kev.as_ref().map(|k| format!("KEV {}", k.date_added)).unwrap_or_default();
        if change {
            let state = match f.baseline {
                Some(vigil_match::BaselineState::New) => "**new**",
                Some(s) => s.as_str(),
                None => "",
            };
            write!(out, "| {state} ")?;
        }
        writeln!(
            out,
            "| {} | [{}](https://osv.dev/vulnerability/{}) | {} | {} | {} | {} | `{}` |",
            cell(&super::severity_text(f.severity, f.severity_from.as_ref())),
            cell(&f.id),
            cell(&f.id),
            cell(&f.package.name),
            cell(&installed(f)),
            cell(&fix(f)),
            exploited,
            cell(&f.package.location.path)
        )?;
    }
    Ok(())
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
    if let Some(b) = &report.baseline {
        writeln!(out)?;
        writeln!(
            out,
            "Since the baseline ({}): **{} new**, {} unchanged, {} at another version, **{} fixed**.",
            cell(&b.source),
            b.new,
            b.unchanged,
            b.updated,
            b.fixed.iter().filter(|f| f.kind == Kind::Vulnerability).count()
        )?;
    }
    if report.gaps().next().is_some() {
        writeln!(out)?;
        writeln!(out, "**Not checked** ({} packages):", s.not_checked)?;
        writeln!(out)?;
        for gap in report.gaps() {
            writeln!(out, "- {}", cell(&gap.describe()))?;
        }
    }
    let vulns: Vec<Record> =
        report.findings.iter().filter(|f| f.kind == Kind::Vulnerability).map(Record::from).collect();
    if !vulns.is_empty() {
        writeln!(out)?;
        vulnerability_table(out, &vulns, report.baseline.is_some())?;
    }
    if let Some(b) = &report.baseline {
        let fixed: Vec<Record> = b.fixed.iter().filter(|f| f.kind == Kind::Vulnerability).cloned().collect();
        if !fixed.is_empty() {
            writeln!(out)?;
            writeln!(out, "Fixed since the baseline:")?;
            writeln!(out)?;
            vulnerability_table(out, &fixed, false)?;
        }
    }
    let info: Vec<_> = report.findings.iter().filter(|f| f.kind == Kind::Informational).collect();
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
