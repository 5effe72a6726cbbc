//! Configuration, compliance and secret results ([`vigil_comply::Report`])
//! in every findings format: on their own for `vigil comply`
//! ([`write_checks`]), and as a section of `vigil scan`'s report (its
//! `config` field: the JSON report carries it, SARIF adds a run, JUnit adds
//! test suites, the table and Markdown add a section). The ignore file takes
//! issues out by rule id and path, with the same expiry as for advisories.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;
use serde_json::{Value, json};
use vigil_comply::policy::Status;
use vigil_comply::{Issue, Report};
use vigil_core::inventory::OsInfo;
use vigil_core::severity::Severity;

use crate::policy::IgnoreRule;
use crate::scan::xml;

/// Version of the JSON layout of `vigil comply` (`docs/compliance.md`).
pub const CHECKS_SCHEMA_VERSION: u32 = 1;

/// Counts of check outcomes and issues.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChecksSummary {
    /// Checks that hold.
    pub pass: usize,
    /// Checks that do not.
    pub fail: usize,
    /// Checks that do not apply to the target.
    pub not_applicable: usize,
    /// Checks that could not be decided.
    pub error: usize,
    /// Issues per severity (failed checks, misconfigurations and secrets).
    pub issues: BTreeMap<Severity, usize>,
    /// Of which secrets.
    pub secrets: usize,
}

/// An issue the ignore file took out.
#[derive(Debug, Clone, Serialize)]
pub struct IssueSuppression {
    /// The rule or check id.
    pub rule: String,
    /// Where it was.
    pub location: String,
    /// Always `ignore file`.
    pub by: String,
    /// The reason given.
    pub reason: String,
}

/// Check results as reports carry them.
#[derive(Debug, Clone, Serialize)]
pub struct ChecksReport {
    /// Which scanners ran (`config`, `secret`).
    pub scanners: Vec<String>,
    /// Counts.
    pub summary: ChecksSummary,
    /// Every compliance check evaluated.
    pub checks: Vec<vigil_comply::policy::CheckResult>,
    /// Failed checks, misconfigurations and secrets (secrets masked).
    pub issues: Vec<Issue>,
    /// Issues the ignore file took out.
    pub suppressed: Vec<IssueSuppression>,
    /// Files that could not be read, and why.
    pub warnings: Vec<String>,
}

impl ChecksReport {
    /// Applies the ignore file (`today` is YYYY-MM-DD) and counts. Returns
    /// the report and notices about expired entries.
    pub fn new(
        scanners: Vec<String>,
        report: Report,
        ignore: &[IgnoreRule],
        today: &str,
    ) -> (ChecksReport, Vec<String>) {
        let Report { checks, mut issues, warnings } = report;
        let mut suppressed = Vec::new();
        let mut notices = Vec::new();
        for rule in ignore {
            let expired = rule.expires.as_deref().is_some_and(|e| e < today);
            let matches =
                |i: &Issue| i.rule == rule.id && rule.path.as_deref().is_none_or(|p| i.location.starts_with(p));
            if expired {
                if issues.iter().any(matches) {
                    notices.push(format!(
                        "ignore entry for {} expired on {}; reporting it again",
                        rule.id,
                        rule.expires.as_deref().unwrap_or("")
                    ));
                }
                continue;
            }
            issues.retain(|i| {
                if !matches(i) {
                    return true;
                }
                suppressed.push(IssueSuppression {
                    rule: i.rule.clone(),
                    location: i.location.clone(),
                    by: "ignore file".into(),
                    reason: rule.reason.clone(),
                });
                false
            });
        }
        let mut summary = ChecksSummary::default();
        for c in &checks {
            match c.status {
                Status::Pass => summary.pass += 1,
                Status::Fail => summary.fail += 1,
                Status::NotApplicable => summary.not_applicable += 1,
                Status::Error => summary.error += 1,
            }
        }
        for i in &issues {
            *summary.issues.entry(i.severity).or_default() += 1;
            summary.secrets += usize::from(i.source == vigil_comply::Source::Secret);
        }
        (ChecksReport { scanners, summary, checks, issues, suppressed, warnings }, notices)
    }

    /// Issues at or above `threshold` (unknown severities never count).
    pub fn at_least(&self, threshold: Severity) -> usize {
        self.issues.iter().filter(|i| i.severity >= threshold && i.severity != Severity::Unknown).count()
    }
}

/// Formats of `vigil comply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksFormat {
    /// A table for people.
    Table,
    /// The versioned JSON report.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML: a test case per check and per issue.
    Junit,
    /// Markdown.
    Markdown,
}

/// The JSON document of `vigil comply`.
#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    target: &'a str,
    os: Option<&'a OsInfo>,
    scanned_at: &'a str,
    #[serde(flatten)]
    report: &'a ChecksReport,
}

/// Writes the results of `vigil comply` over `target`.
pub fn write_checks(
    target: &str,
    os: Option<&OsInfo>,
    scanned_at: &str,
    report: &ChecksReport,
    format: ChecksFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        ChecksFormat::Table => table(report, out),
        ChecksFormat::Json => {
            crate::write_json(&Document { schema_version: CHECKS_SCHEMA_VERSION, target, os, scanned_at, report }, out)
        }
        ChecksFormat::Sarif => {
            let doc = json!({
                "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                "version": "2.1.0",
                "runs": [sarif_run(report)],
            });
            crate::write_json(&doc, out)
        }
        ChecksFormat::Junit => {
            writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
            let tests = report.checks.len() + report.issues.iter().filter(|i| !is_check(report, i)).count();
            let failures = report.summary.fail + report.issues.iter().filter(|i| !is_check(report, i)).count();
            writeln!(
                out,
                "<testsuites name=\"vigil comply {}\" tests=\"{tests}\" failures=\"{failures}\">",
                xml(target)
            )?;
            junit_suites(report, out)?;
            writeln!(out, "</testsuites>")
        }
        ChecksFormat::Markdown => markdown(report, out),
    }
}

/// Whether an issue is a failed compliance check (rather than a misconfiguration or secret).
fn is_check(report: &ChecksReport, issue: &Issue) -> bool {
    report.checks.iter().any(|c| c.id == issue.rule)
}

/// Where an issue is, as `path:line`.
fn place(i: &Issue) -> String {
    match i.line {
        Some(line) => format!("{}:{line}", i.location),
        None => i.location.clone(),
    }
}

/// The evidence of an issue in one line (the masked secret, the offending setting).
fn shown(i: &Issue) -> String {
    let Some(e) = &i.evidence else { return String::new() };
    if let Some(secret) = e.get("secret").and_then(Value::as_str) {
        return format!("secret {secret}");
    }
    if let Some(setting) = e.get("setting").and_then(Value::as_str) {
        return setting.to_owned();
    }
    e.as_array()
        .and_then(|list| list.first())
        .map(|first| {
            let value = first.get("value").and_then(Value::as_str).map(|v| format!("{v}: ")).unwrap_or_default();
            format!("{value}{}", first.get("message").and_then(Value::as_str).unwrap_or_default())
        })
        .unwrap_or_default()
}

/// The table section.
pub fn table(report: &ChecksReport, out: &mut dyn Write) -> std::io::Result<()> {
    let s = &report.summary;
    if !report.checks.is_empty() {
        writeln!(
            out,
            "Compliance: {} checks, {} pass, {} fail, {} not applicable, {} error",
            report.checks.len(),
            s.pass,
            s.fail,
            s.not_applicable,
            s.error
        )?;
        for c in report.checks.iter().filter(|c| matches!(c.status, Status::Fail | Status::Error)) {
            let why = c.evidence.first().map(|e| {
                let place =
                    e.file.as_deref().map(|f| format!("{f}{}: ", e.line.map(|l| format!(":{l}")).unwrap_or_default()));
                format!("{}{}", place.unwrap_or_default(), e.message)
            });
            writeln!(
                out,
                "  {:<5} {:<9} {:<40} {}",
                c.status.as_str().to_uppercase(),
                c.severity.as_str().to_uppercase(),
                c.id,
                c.title
            )?;
            if let Some(why) = why {
                writeln!(out, "        {why}")?;
            }
        }
        writeln!(out)?;
    }
    let others: Vec<&Issue> = report.issues.iter().filter(|i| !is_check(report, i)).collect();
    if report.scanners.iter().any(|s| s == "config" || s == "secret") {
        writeln!(out, "Misconfigurations and secrets: {}", others.len())?;
        for i in others {
            writeln!(out, "  {:<9} {:<32} {}", i.severity.as_str().to_uppercase(), i.rule, place(i))?;
            let key = i
                .key
                .as_deref()
                .filter(|_| i.source != vigil_comply::Source::Secret)
                .map(|k| format!(" [{k}]"))
                .unwrap_or_default();
            writeln!(out, "            {}{key}: {}", i.title, shown(i))?;
        }
    }
    if !report.suppressed.is_empty() {
        writeln!(out, "Suppressed by the ignore file: {}", report.suppressed.len())?;
    }
    Ok(())
}

/// The Markdown section.
pub fn markdown(report: &ChecksReport, out: &mut dyn Write) -> std::io::Result<()> {
    let s = &report.summary;
    let cell = |t: &str| t.replace('|', "\\|").replace('\n', " ");
    if !report.checks.is_empty() {
        writeln!(out, "## Compliance\n")?;
        writeln!(out, "{} pass, {} fail, {} not applicable, {} error\n", s.pass, s.fail, s.not_applicable, s.error)?;
        writeln!(out, "| Status | Severity | Check | Title | Evidence |\n|---|---|---|---|---|")?;
        for c in report.checks.iter().filter(|c| matches!(c.status, Status::Fail | Status::Error)) {
            let ev = c
                .evidence
                .first()
                .map(|e| format!("{} {}", e.file.as_deref().unwrap_or(""), e.message))
                .unwrap_or_default();
            writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                c.status.as_str(),
                c.severity,
                c.id,
                cell(&c.title),
                cell(ev.trim())
            )?;
        }
        writeln!(out)?;
    }
    let others: Vec<&Issue> = report.issues.iter().filter(|i| !is_check(report, i)).collect();
    if !others.is_empty() {
        writeln!(out, "## Misconfigurations and secrets\n")?;
        writeln!(out, "| Severity | Rule | Where | Title | Evidence |\n|---|---|---|---|---|")?;
        for i in others {
            writeln!(
                out,
                "| {} | `{}` | `{}` | {} | {} |",
                i.severity,
                i.rule,
                cell(&place(i)),
                cell(&i.title),
                cell(&shown(i))
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

/// One SARIF run with a rule per check or rule id and a result per issue, located at its file and line.
pub fn sarif_run(report: &ChecksReport) -> Value {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for i in &report.issues {
        rules.entry(&i.rule).or_insert_with(|| {
            json!({
                "id": i.rule,
                "shortDescription": {"text": i.title},
                "help": {"text": i.remediation.clone().unwrap_or_else(|| i.title.clone())},
                "properties": {
                    "security-severity": format!("{:.1}", match i.severity {
                        Severity::Critical => 9.5, Severity::High => 8.0, Severity::Medium => 5.5, Severity::Low => 2.0,
                        _ => 0.0,
                    }),
                    "tags": ["security", i.source.as_str(), i.severity.as_str()],
                },
            })
        });
        let mut location =
            json!({"physicalLocation": {"artifactLocation": {"uri": i.location.trim_start_matches('/')}}});
        if let Some(line) = i.line {
            location["physicalLocation"]["region"] = json!({"startLine": line});
        }
        let mut message = i.title.clone();
        let evidence = shown(i);
        if !evidence.is_empty() {
            message.push_str(&format!(": {evidence}"));
        }
        results.push(json!({
            "ruleId": i.rule,
            "level": level(i.severity),
            "message": {"text": message},
            "locations": [location],
            "partialFingerprints": {"vigil/v1": format!("{}:{}:{}", i.rule, i.location, i.key.as_deref().unwrap_or(""))},
            "properties": {"source": i.source.as_str(), "severity": i.severity.as_str(), "layer": i.layer},
        }));
    }
    json!({
        "tool": {"driver": {
            "name": "vigil-comply",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules.into_values().collect::<Vec<_>>(),
        }},
        "results": results,
    })
}

/// JUnit test suites: one per policy (a case per check: failed, skipped
/// when not applicable, errored), and one per scanner with a failing case per issue.
pub fn junit_suites(report: &ChecksReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut policies: BTreeMap<&str, Vec<&vigil_comply::policy::CheckResult>> = BTreeMap::new();
    for c in &report.checks {
        policies.entry(&c.policy).or_default().push(c);
    }
    for (policy, checks) in policies {
        let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
        writeln!(
            out,
            "  <testsuite name=\"policy {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
            xml(policy),
            checks.len(),
            count(Status::Fail),
            count(Status::Error),
            count(Status::NotApplicable)
        )?;
        for c in checks {
            writeln!(out, "    <testcase classname=\"{}\" name=\"{}: {}\">", xml(policy), xml(&c.id), xml(&c.title))?;
            let why: Vec<String> = c
                .evidence
                .iter()
                .map(|e| {
                    format!(
                        "{}{} {}",
                        e.file.as_deref().unwrap_or(""),
                        e.line.map(|l| format!(":{l}")).unwrap_or_default(),
                        e.message
                    )
                })
                .collect();
            let why = xml(&why.join("\n")).replace('\n', "&#10;");
            match c.status {
                Status::Pass => {}
                Status::Fail => writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}\">{why}</failure>",
                    c.severity,
                    xml(&c.title)
                )?,
                Status::Error => writeln!(out, "      <error message=\"{why}\"/>")?,
                Status::NotApplicable => writeln!(out, "      <skipped message=\"{why}\"/>")?,
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    for source in [vigil_comply::Source::Config, vigil_comply::Source::Secret] {
        let issues: Vec<&Issue> = report.issues.iter().filter(|i| i.source == source && !is_check(report, i)).collect();
        if !report.scanners.iter().any(|s| s == source.as_str()) {
            continue;
        }
        let name = if source == vigil_comply::Source::Secret { "secrets" } else { "misconfigurations" };
        writeln!(out, "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\">", issues.len(), issues.len())?;
        for i in issues {
            writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{} {}\">",
                xml(&i.location),
                xml(&i.rule),
                xml(&place(i))
            )?;
            writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                i.severity,
                xml(&i.title),
                xml(&shown(i))
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    Ok(())
}
