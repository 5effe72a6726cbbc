//! SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning and
//! others): one rule per advisory (help text, CVSS as
//! `security-severity`), one result per finding located at the file the
//! package came from, with a stable fingerprint so re-uploads update the
//! same alert. Informational advisories are `note`s. Next to a baseline,
//! each result carries its `baselineState` (`new`, `unchanged`, `updated`);
//! findings the baseline had and the scan no longer finds are left out
//! (dashboards would open them as alerts), the other formats list them.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value, json};
use vigil_core::severity::Severity;
use vigil_match::Kind;

use super::ScanReport;
use crate::baseline::Record;

fn level(f: &Record) -> &'static str {
    if f.kind == Kind::Informational {
        return "note";
    }
    match f.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

/// The numeric severity GitHub reads from `security-severity`.
fn security_severity(f: &Record) -> f64 {
    f.cvss_score.unwrap_or(match f.severity {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::None | Severity::Unknown => 0.0,
    })
}

/// A path relative to the scanned target, as SARIF artifact locations want.
fn uri(path: &str) -> String {
    path.trim_start_matches('/').to_owned()
}

fn rule(f: &Record) -> Value {
    let summary = f.summary.clone().unwrap_or_else(|| f.id.clone());
    json!({
        "id": f.id,
        "name": f.id.replace(['-', ':'], "_"),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": format!("{summary} (aliases: {})", if f.aliases.is_empty() { "none".to_owned() } else { f.aliases.join(", ") })},
        "helpUri": format!("https://osv.dev/vulnerability/{}", f.id),
        "help": {"text": format!("{}\nFixed in: {}", summary, if f.fixed.is_empty() { "no fix yet".to_owned() } else { f.fixed.join(", ") })},
        "properties": {
            "security-severity": format!("{:.1}", security_severity(f)),
            "tags": ["security", "vulnerability", f.severity.as_str()],
        },
    })
}

fn result(f: &Record) -> Value {
    let fixed = if f.fixed.is_empty() { "no fix yet".to_owned() } else { format!("fixed in {}", f.fixed.join(", ")) };
    let mut message = format!(
        "{} {} is affected by {} ({}); {fixed}",
        f.package.name,
        f.package.version,
        f.id,
        super::severity_text(f.severity, f.severity_from.as_ref())
    );
    if let Some(source) = &f.package.version_source {
        message.push_str(&format!("; installed version read from {source}"));
    }
    if let Some(k) = &f.kev {
        message.push_str(&format!("; known exploited (CISA KEV, added {})", k.date_added));
    }
    let mut result = json!({
        "ruleId": f.id,
        "level": level(f),
        "message": {"text": message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(&f.package.location.path)}, "region": {"startLine": 1}}}],
        "partialFingerprints": {"vigil/v1": format!("{}:{}:{}", f.id, f.package.purl, f.package.location.path)},
        "properties": {"purl": f.package.purl, "installedVersion": f.package.version, "fixedVersions": f.fixed,
            "severity": f.severity.as_str(), "severitySource": f.severity_source, "severityFrom": f.severity_from.as_ref().map(|s| &s.id)},
    });
    if let Some(state) = f.baseline {
        result["baselineState"] = json!(state.as_str());
    }
    result
}

/// A SARIF document of `findings`, with `notifications` for the invocation.
pub(crate) fn document<'a>(findings: impl Iterator<Item = &'a Record>, notifications: Vec<Value>) -> Value {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for f in findings {
        rules.entry(&f.id).or_insert_with(|| rule(f));
        results.push(result(f));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "vigil",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://osv.dev",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}

pub(super) fn write(report: &ScanReport, out: &mut dyn Write) -> std::io::Result<()> {
    let records: Vec<Record> = report.findings.iter().map(Record::from).collect();
    // What the database could check: a warning for each ecosystem it could not.
    let notifications = report
        .coverage
        .iter()
        .map(|c| {
            json!({
                "level": if c.is_gap() { "warning" } else { "note" },
                "message": {"text": c.describe()},
                "descriptor": {"id": "vigil/coverage"},
                "properties": {"ecosystem": c.ecosystem, "status": c.status, "packages": c.packages, "advisories": c.advisories},
            })
        })
        .collect();
    let mut doc = document(records.iter(), notifications);
    if let (Some(config), Some(runs)) = (&report.config, doc["runs"].as_array_mut()) {
        runs.push(crate::checks::sarif_run(config));
    }
    crate::write_json(&doc, out)
}
