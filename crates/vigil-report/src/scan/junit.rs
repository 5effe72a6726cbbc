//! JUnit XML for CI test dashboards: one test suite per location (package
//! database or lockfile), one failing test case per vulnerability, the
//! informational advisories as skipped cases.

use std::collections::BTreeMap;
use std::io::Write;

use vigil_match::{Finding, Kind};

use super::ScanReport;

/// Escapes text for XML attributes and content.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

pub(super) fn write(report: &ScanReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut suites: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        suites.entry(f.package.location.path.as_str()).or_default().push(f);
    }
    let failures = report.findings.iter().filter(|f| f.kind == Kind::Vulnerability).count();
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"vigil scan {}\" tests=\"{}\" failures=\"{failures}\">",
        xml(&report.target),
        report.findings.len() + report.coverage.len()
    )?;
    if !report.coverage.is_empty() {
        // What the database could check: an ecosystem it has no advisories for is a skipped case.
        let gaps = report.gaps().count();
        writeln!(
            out,
            "  <testsuite name=\"advisory coverage\" tests=\"{}\" failures=\"0\" skipped=\"{gaps}\">",
            report.coverage.len()
        )?;
        writeln!(out, "    <properties>")?;
        for c in &report.coverage {
            writeln!(
                out,
                "      <property name=\"vigil:coverage:{}\" value=\"{}\"/>",
                xml(&c.ecosystem),
                xml(c.status.as_str())
            )?;
        }
        writeln!(out, "    </properties>")?;
        for c in &report.coverage {
            let name = format!("{} packages are checked", c.ecosystem);
            writeln!(out, "    <testcase classname=\"coverage\" name=\"{}\">", xml(&name))?;
            if c.is_gap() {
                writeln!(out, "      <skipped message=\"{}\"/>", xml(&c.describe()))?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    for (location, findings) in suites {
        let fails = findings.iter().filter(|f| f.kind == Kind::Vulnerability).count();
        let skipped = findings.len() - fails;
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" skipped=\"{skipped}\">",
            xml(location),
            findings.len()
        )?;
        for f in findings {
            let name = format!("{} {} {}", f.package.name, f.package.version, f.id);
            writeln!(out, "    <testcase classname=\"{}\" name=\"{}\">", xml(&f.package.name), xml(&name))?;
            let fixed = if f.fixed.is_empty() { "no fix yet".to_owned() } else { f.fixed.join(", ") };
            let summary = f.summary.clone().unwrap_or_default();
            if f.kind == Kind::Vulnerability {
                let mut lines = vec![summary.clone(), format!("fixed in: {fixed}")];
                if let Some(source) = &f.package.version_source {
                    lines.push(format!("installed version {} read from {source}", f.package.version));
                }
                let body: Vec<String> = lines.iter().map(|l| xml(l)).collect();
                writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                    xml(f.severity.as_str()),
                    xml(&format!("{} ({})", f.id, super::severity_text(f.severity, f.severity_from.as_ref()))),
                    body.join("&#10;")
                )?;
            } else {
                writeln!(
                    out,
                    "      <skipped message=\"{}\"/>",
                    xml(&format!("informational: {} {}", f.informational.as_deref().unwrap_or(""), summary))
                )?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    if let Some(config) = &report.config {
        crate::checks::junit_suites(config, out)?;
    }
    writeln!(out, "</testsuites>")
}
