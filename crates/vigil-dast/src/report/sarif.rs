//! SARIF 2.1.0: a rule per check rule, a result per finding whose location
//! is the URL (SARIF's `artifactLocation.uri`), with the parameter, payload
//! and evidence in the message and properties.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;

use crate::Report;
use crate::finding::Severity;

/// Writes the SARIF log.
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let mut rules = BTreeMap::new();
    for f in &report.findings {
        rules.entry(f.rule).or_insert_with(|| {
            json!({
                "id": f.rule,
                "shortDescription": {"text": f.title.split(" in ").next().unwrap_or(&f.title)},
                "help": {"text": f.remediation},
                "helpUri": f.references.first(),
                "properties": {"tags": ["security", format!("external/cwe/cwe-{}", f.cwe)]},
            })
        });
    }
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                _ => "note",
            };
            json!({
                "ruleId": f.rule,
                "level": level,
                "message": {"text": format!("{}. {}", f.title, f.evidence)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.url}}}],
                "partialFingerprints": {"vigilWeb/v1": format!("{}|{}|{}", f.rule, f.location, f.key().unwrap_or_default())},
                "properties": {
                    "security-severity": match f.severity {
                        Severity::Critical => "9.5",
                        Severity::High => "8.0",
                        Severity::Medium => "5.5",
                        Severity::Low => "3.0",
                        Severity::Info => "0.0",
                    },
                    "confidence": f.confidence,
                    "method": f.method,
                    "parameter": f.parameter.as_ref().map(|p| p.to_string()),
                    "payload": f.payload,
                    "curl": f.curl,
                },
            })
        })
        .collect();
    let log = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "vigil-webscan",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/vigil",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}
