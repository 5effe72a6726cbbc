//! The table for people: one block per location (lockfile, package
//! database), vulnerabilities in priority order with their fix, then the
//! informational advisories, then a summary of counts per severity.

use std::collections::BTreeMap;
use std::io::Write;

use vigil_match::{Finding, FixStatus, Kind};

use super::ScanReport;

fn fixed(f: &Finding) -> String {
    match f.fix_status {
        FixStatus::FixAvailable => f.fixed.join(", "),
        FixStatus::NoFixYet => {
            format!("no fix yet{}", f.status.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())
        }
        FixStatus::WillNotFix => {
            format!("will not fix{}", f.status.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())
        }
    }
}

fn exploitation(f: &Finding) -> String {
    let mut parts = Vec::new();
    if let Some(k) = &f.kev {
        parts.push(format!("KEV {}", k.date_added));
    }
    if let Some(e) = &f.epss {
        parts.push(format!("EPSS {:.1}%", e.score * 100.0));
    }
    parts.join(" ")
}

/// The ANSI colour of a severity word, when painting.
fn paint(cell: &str, padded: String) -> String {
    let code = match cell.split(' ').next().unwrap_or_default() {
        "CRITICAL" => "1;31",
        "HIGH" => "31",
        "MEDIUM" => "33",
        "LOW" => "34",
        _ => return padded,
    };
    format!("\x1b[{code}m{padded}\x1b[0m")
}

/// Writes rows with columns padded to the widest cell; with `color`, the
/// `SEVERITY` column is painted (after padding, so columns stay aligned).
pub(crate) fn rows(out: &mut dyn Write, header: &[&str], body: &[Vec<String>], color: bool) -> std::io::Result<()> {
    let severity_column = header.iter().position(|h| *h == "SEVERITY").filter(|_| color);
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: Vec<&str>, painted: bool| -> std::io::Result<()> {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                let cell = format!("{c:<w$}");
                if painted && Some(i) == severity_column { paint(c, cell) } else { cell }
            })
            .collect();
        writeln!(out, "  {}", padded.join("  ").trim_end())
    };
    line(out, header.to_vec(), false)?;
    for row in body {
        line(out, row.iter().map(String::as_str).collect(), true)?;
    }
    Ok(())
}

pub(super) fn write(report: &ScanReport, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
    let os = report.os.as_ref().and_then(|o| o.pretty_name.clone().or_else(|| Some(o.id.clone())));
    writeln!(out, "{}{}", report.target, os.map(|o| format!(" ({o})")).unwrap_or_default())?;
    if let Some(image) = &report.image {
        writeln!(out, "image: {}", super::image_line(image))?;
    }
    let mut by_location: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_location.entry(f.package.location.path.as_str()).or_default().push(f);
    }
    for (location, findings) in &by_location {
        let vulns: Vec<Vec<String>> = findings
            .iter()
            .filter(|f| f.kind == Kind::Vulnerability)
            .map(|f| {
                let mut row = Vec::with_capacity(7);
                if report.baseline.is_some() {
                    row.push(f.baseline.map(|s| s.as_str().to_uppercase()).unwrap_or_default());
                }
                row.extend([
                    f.package.name.clone(),
                    f.package.version.clone(),
                    f.id.clone(),
                    match &f.severity_from {
                        Some(from) => format!("{} (from {})", f.severity.as_str().to_uppercase(), from.id),
                        None => f.severity.as_str().to_uppercase(),
                    },
                    fixed(f),
                    exploitation(f),
                ]);
                row
            })
            .collect();
        let info: Vec<Vec<String>> = findings
            .iter()
            .filter(|f| f.kind == Kind::Informational)
            .map(|f| {
                vec![
                    f.package.name.clone(),
                    f.package.version.clone(),
                    f.id.clone(),
                    f.informational.clone().unwrap_or_default(),
                    f.summary.clone().unwrap_or_default(),
                ]
            })
            .collect();
        writeln!(out)?;
        match findings.first().and_then(|f| f.package.location.layer.as_deref()) {
            // Image targets: the layer that put the file there, by its short digest.
            Some(layer) => {
                let short = layer.split_once(':').map_or(layer, |(_, hex)| hex.get(..12).unwrap_or(hex));
                writeln!(out, "{location}  (layer {short})")?;
            }
            None => writeln!(out, "{location}")?,
        }
        if !vulns.is_empty() {
            let header = ["CHANGE", "PACKAGE", "INSTALLED", "ADVISORY", "SEVERITY", "FIXED IN", "EXPLOITED"];
            let header = if report.baseline.is_some() { &header[..] } else { &header[1..] };
            rows(out, header, &vulns, color)?;
        }
        let mut noted = std::collections::BTreeSet::new();
        for p in findings.iter().map(|f| &f.package) {
            if let Some(source) = &p.version_source
                && noted.insert((&p.name, &p.version))
            {
                writeln!(out, "  {} {}: version read from {source}", p.name, p.version)?;
            }
        }
        if !info.is_empty() {
            writeln!(out, "  informational (not vulnerabilities):")?;
            rows(out, &["PACKAGE", "INSTALLED", "ADVISORY", "KIND", "SUMMARY"], &info, color)?;
        }
    }
    let s = &report.summary;
    if let Some(b) = &report.baseline {
        let fixed: Vec<Vec<String>> = b
            .fixed
            .iter()
            .filter(|f| f.kind == Kind::Vulnerability)
            .map(|f| {
                vec![
                    f.package.name.clone(),
                    f.package.version.clone(),
                    f.id.clone(),
                    f.severity.as_str().to_uppercase(),
                    f.package.location.path.clone(),
                ]
            })
            .collect();
        writeln!(out)?;
        let when = b.scanned_at.as_deref().map(|t| format!(", scanned {t}")).unwrap_or_default();
        writeln!(
            out,
            "since the baseline ({}{when}): {} new, {} unchanged, {} at another version, {} fixed",
            b.source,
            b.new,
            b.unchanged,
            b.updated,
            fixed.len()
        )?;
        if !fixed.is_empty() {
            writeln!(out, "fixed since the baseline:")?;
            rows(out, &["PACKAGE", "WAS", "ADVISORY", "SEVERITY", "FOUND IN"], &fixed, color)?;
        }
    }
    if !report.suppressed.is_empty() {
        writeln!(out)?;
        writeln!(out, "suppressed:")?;
        for x in &report.suppressed {
            writeln!(out, "  {} in {}: {}: {}", x.id, x.package, x.by, x.reason)?;
        }
    }
    if report.gaps().next().is_some() {
        writeln!(out)?;
        writeln!(out, "not checked:")?;
        for gap in report.gaps() {
            writeln!(out, "  {}", gap.describe())?;
        }
    }
    writeln!(out)?;
    let not_checked = match s.not_checked {
        0 => String::new(),
        n => format!("; {n} packages not checked (above)"),
    };
    writeln!(
        out,
        "{} vulnerabilities in {} packages (critical {}, high {}, medium {}, low {}, unknown {}); {} with a fix, {} known exploited; {} informational{not_checked}",
        s.vulnerabilities,
        s.packages,
        s.critical,
        s.high,
        s.medium,
        s.low,
        s.unknown,
        s.fixable,
        s.exploited,
        s.informational
    )?;
    Ok(())
}
