//! The table for people: one line per finding, then what was not tested.

use std::io::Write;

use crate::Report;

/// Writes the table.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let rows: Vec<[String; 4]> = report
        .findings
        .iter()
        .map(|f| {
            [
                f.severity.as_str().to_uppercase(),
                f.rule.to_string(),
                f.location.clone(),
                f.parameter.as_ref().map(|p| p.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["SEVERITY", "RULE", "LOCATION", "WHERE"];
    let widths: Vec<usize> =
        (0..4).map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0)).collect();
    let line = |cells: [&str; 4]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 3 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    if !rows.is_empty() {
        writeln!(out, "{}", line(header))?;
        for r in &rows {
            writeln!(out, "{}", line([r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()]))?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{}: {} findings; {} requests crawled, {} requests sent in {:.1} s; checks: {}",
        report.target,
        report.findings.len(),
        report.crawled.len(),
        report.requests,
        report.duration_secs,
        report.checks.join(", ")
    )?;
    let not_tested = report.untested.iter().filter(|u| u.check != "crawl").count();
    if not_tested > 0 {
        writeln!(out, "NOT TESTED: {not_tested} check runs were cut by the time limit (see --format json)")?;
    }
    Ok(())
}
