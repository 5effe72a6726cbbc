//! CycloneDX 1.6 JSON with vulnerabilities: the inventory as components
//! (the same document `vigil sbom` writes) plus one vulnerability per
//! advisory, with its ratings, fixed versions as the recommendation, the
//! components it affects, and KEV/EPSS as properties. Suppressed findings
//! stay out, as in every other format.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value, json};
use vigil_core::severity::Severity;
use vigil_match::Finding;

use super::ScanReport;

/// CycloneDX's name for the CVSS version of a vector.
fn method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4.0") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.0") {
        "CVSSv3"
    } else {
        "CVSSv2"
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::None => "none",
        Severity::Unknown => "unknown",
    }
}

pub(super) fn write(report: &ScanReport, out: &mut dyn Write) -> std::io::Result<()> {
    // Components are keyed by purl (a repeated purl gets `#2`, ...): the first one is the reference.
    let mut by_advisory: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_advisory.entry(f.id.as_str()).or_default().push(f);
    }
    let mut vulnerabilities = Vec::new();
    for (id, findings) in by_advisory {
        let f = findings[0];
        let mut rating = json!({"severity": severity(f.severity)});
        // The record the rating is from: the advisory's own, or the one it was taken from.
        let rated_by = f.severity_from.as_ref().map_or(id, |from| from.id.as_str());
        rating["source"] = json!({"name": rated_by, "url": format!("https://osv.dev/vulnerability/{rated_by}")});
        match (&f.cvss_vector, f.cvss_score) {
            (Some(v), Some(score)) => {
                rating["score"] = json!(score);
                rating["vector"] = json!(v);
                rating["method"] = json!(method(v));
            }
            _ => rating["method"] = json!("other"),
        }
        let affects: Vec<Value> = findings
            .iter()
            .map(|f| json!({"ref": f.package.purl, "versions": [{"version": f.package.version, "status": "affected"}]}))
            .collect();
        let mut fixes: Vec<String> = findings.iter().flat_map(|f| f.fixed.iter().cloned()).collect();
        fixes.sort();
        fixes.dedup();
        let mut v = json!({
            "bom-ref": format!("vuln:{id}"),
            "id": id,
            "source": {"name": "OSV", "url": format!("https://osv.dev/vulnerability/{id}")},
            "ratings": [rating],
            "affects": affects,
        });
        if !f.aliases.is_empty() {
            v["references"] =
                json!(f.aliases.iter().map(|a| json!({"id": a, "source": {"name": "OSV"}})).collect::<Vec<_>>());
        }
        if let Some(s) = &f.summary {
            v["description"] = json!(s);
        }
        v["recommendation"] = json!(if fixes.is_empty() {
            "No fix yet".to_owned()
        } else {
            format!("Upgrade to a fixed version: {}", fixes.join(", "))
        });
        let mut properties = vec![json!({"name": "vigil:kind", "value": format!("{:?}", f.kind).to_lowercase()})];
        if let Some(k) = &f.kev {
            properties.push(json!({"name": "vigil:kev:date_added", "value": k.date_added}));
        }
        if let Some(e) = &f.epss {
            properties.push(json!({"name": "vigil:epss:score", "value": format!("{}", e.score)}));
            properties.push(json!({"name": "vigil:epss:percentile", "value": format!("{}", e.percentile)}));
        }
        v["properties"] = json!(properties);
        vulnerabilities.push(v);
    }
    // What the database could check, one property per ecosystem of the inventory.
    let properties = report
        .coverage
        .iter()
        .map(|c| json!({"name": format!("vigil:coverage:{}", c.ecosystem), "value": c.describe()}))
        .collect();
    let stamp = crate::Stamp::of(&report.inventory, &report.scanned_at)?;
    let bom = crate::cyclonedx::Bom {
        inventory: &report.inventory,
        stamp: &stamp,
        properties,
        vulnerabilities: Some(vulnerabilities),
    };
    crate::write_json(&bom, out)
}
