//! JUnit XML for CI test views: one test case per check that ran, failed
//! once per finding of that check.

use std::io::Write;

use super::escape;
use crate::Report;

/// Writes the JUnit XML.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let failures = report.findings.len();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="vigil webscan" tests="{}" failures="{failures}" time="{:.3}">"#,
        report.checks.len().max(failures),
        report.duration_secs
    )?;
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{failures}">"#,
        escape(&report.target),
        report.checks.len().max(failures)
    )?;
    for check in &report.checks {
        let found: Vec<_> = report.findings.iter().filter(|f| crate::checks::rule_check(f.rule) == *check).collect();
        if found.is_empty() {
            writeln!(out, r#"    <testcase classname="{check}" name="{check}"/>"#)?;
        }
        for f in found {
            let name = format!("{} {}", f.location, f.parameter.as_ref().map(|p| p.to_string()).unwrap_or_default());
            writeln!(out, r#"    <testcase classname="{check}" name="{}">"#, escape(name.trim()))?;
            writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                f.rule,
                escape(&f.title),
                escape(&format!("{}\n\n{}\n\nreproduce: {}", f.evidence, f.request, f.curl))
            )?;
            writeln!(out, "    </testcase>")?;
        }
    }
    writeln!(out, "  </testsuite>\n</testsuites>")
}
