//! Findings a scanner works out itself, which the server tracks as they
//! come: web checks (`web`), configuration and compliance checks
//! (`config`) and leaked credentials (`secret`). Package findings are not
//! among them: the server matches inventories itself.
//!
//! A result's identity is (source, rule, location, key): the key tells two
//! results of one rule at one location apart (a parameter, a secret's
//! fingerprint), and the line is not part of it, so an edit that moves a
//! line keeps the finding.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use vigil_store::findings::Observed;
use vigil_store::model::SEVERITIES;

use crate::identity::observed_hash;
use crate::{Error, Result};

/// The sources results may come from.
pub const RESULT_SOURCES: &[&str] = &["web", "config", "secret"];

/// One result of a web, configuration or secret check.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
pub struct CheckResult {
    /// `web`, `config` or `secret`.
    pub source: String,
    /// The check's stable id (`VGW-XSS-REFLECTED`, `DOCKER-ROOT-USER`, `aws-access-key`).
    pub rule: String,
    /// What is wrong, in a line.
    pub title: String,
    /// `critical`, `high`, `medium`, `low`, `none` or `unknown`.
    pub severity: String,
    /// Where: a file path inside the target, or a method and URL.
    pub location: String,
    /// What tells two results of one rule at one location apart (a parameter, a fingerprint).
    #[serde(default)]
    pub key: Option<String>,
    /// The line, for files.
    #[serde(default)]
    pub line: Option<u32>,
    /// The image layer the file came from.
    #[serde(default)]
    pub layer: Option<String>,
    /// CWE id (`CWE-79`).
    #[serde(default)]
    pub cwe: Option<String>,
    /// CVSS base score, when the check gives one.
    #[serde(default)]
    pub cvss: Option<f64>,
    /// How to fix it.
    #[serde(default)]
    pub remediation: Option<String>,
    /// What proves it: request and response excerpts, the masked value, the offending setting.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub evidence: Option<serde_json::Value>,
    /// Further reading.
    #[serde(default)]
    pub references: Vec<String>,
}

/// Largest evidence kept per result, serialized.
const MAX_EVIDENCE: usize = 64 << 10;

fn check(field: &str, value: &str, required: bool) -> Result<()> {
    if required && value.trim().is_empty() {
        return Err(Error::Invalid(format!("{field}: must not be empty")));
    }
    if value.len() > 4096 || value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Error::Invalid(format!("{field}: longer than 4096 bytes or holds control characters")));
    }
    Ok(())
}

/// Checks results before anything is stored.
pub fn validate(results: &[CheckResult], max: usize) -> Result<()> {
    if results.len() > max {
        return Err(Error::TooLarge(format!("results: {} results, more than {max}", results.len())));
    }
    for (i, r) in results.iter().enumerate() {
        let field = |name: &str| format!("results[{i}].{name}");
        if !RESULT_SOURCES.contains(&r.source.as_str()) {
            return Err(Error::Invalid(format!(
                "{}: `{}` is not one of {}",
                field("source"),
                r.source,
                RESULT_SOURCES.join(", ")
            )));
        }
        if !SEVERITIES.contains(&r.severity.to_ascii_lowercase().as_str()) {
            return Err(Error::Invalid(format!(
                "{}: `{}` is not one of {}",
                field("severity"),
                r.severity,
                SEVERITIES.join(", ")
            )));
        }
        check(&field("rule"), &r.rule, true)?;
        check(&field("title"), &r.title, true)?;
        check(&field("location"), &r.location, true)?;
        for (name, value) in [("key", &r.key), ("layer", &r.layer), ("cwe", &r.cwe)] {
            check(&field(name), value.as_deref().unwrap_or_default(), false)?;
        }
        if r.rule.contains(char::is_whitespace) {
            return Err(Error::Invalid(format!("{}: no spaces in a rule id", field("rule"))));
        }
        if r.cvss.is_some_and(|c| !(0.0..=10.0).contains(&c)) {
            return Err(Error::Invalid(format!("{}: a CVSS score is between 0 and 10", field("cvss"))));
        }
        let evidence = r.evidence.as_ref().map_or(0, |e| e.to_string().len());
        if evidence > MAX_EVIDENCE {
            return Err(Error::TooLarge(format!("{}: more than {MAX_EVIDENCE} bytes", field("evidence"))));
        }
    }
    Ok(())
}

/// The identity of a result.
fn identity(r: &CheckResult) -> String {
    let text = format!("{}\n{}\n{}\n{}", r.source, r.rule, r.location, r.key.as_deref().unwrap_or_default());
    Sha256::digest(text.as_bytes())[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Results of one source as observations.
pub fn observe(results: &[CheckResult], source: &str) -> Vec<Observed> {
    let mut out: Vec<Observed> = Vec::new();
    for r in results.iter().filter(|r| r.source == source) {
        let severity = SEVERITIES.iter().position(|s| s.eq_ignore_ascii_case(&r.severity)).unwrap_or(0) as i64;
        let mut ids = vec![r.rule.clone()];
        ids.extend(r.cwe.iter().cloned());
        let details = serde_json::json!({
            "key": r.key, "line": r.line, "cwe": r.cwe, "remediation": r.remediation, "evidence": r.evidence,
            "references": r.references,
        });
        let impact = r.cvss.unwrap_or(match severity {
            5 => 9.5,
            4 => 8.0,
            3 => 5.5,
            2 => 2.0,
            1 => 0.0,
            _ => 5.0,
        });
        let mut observed = Observed {
            identity: identity(r),
            source: r.source.clone(),
            vuln_key: r.rule.clone(),
            vuln_ids: ids,
            title: Some(r.title.clone()),
            package: None,
            location: r.location.clone(),
            layer: r.layer.clone(),
            severity,
            severity_source: Some("scanner".into()),
            cvss: r.cvss,
            cvss_vector: None,
            epss: None,
            kev: false,
            kev_added: None,
            fix: if r.remediation.is_some() { "available".into() } else { "none".into() },
            fixed_versions: Vec::new(),
            risk: impact * 0.01,
            details: Some(details.to_string()),
            observed_hash: String::new(),
        };
        observed.observed_hash = observed_hash(&observed);
        // The same result twice in one upload is one finding.
        if !out.iter().any(|o| o.identity == observed.identity) {
            out.push(observed);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rule: &str, key: Option<&str>, line: Option<u32>) -> CheckResult {
        CheckResult {
            source: "config".into(),
            rule: rule.into(),
            title: "t".into(),
            severity: "HIGH".into(),
            location: "/app/Dockerfile".into(),
            key: key.map(str::to_string),
            line,
            layer: None,
            cwe: Some("CWE-250".into()),
            cvss: None,
            remediation: Some("add USER".into()),
            evidence: None,
            references: vec![],
        }
    }

    #[test]
    fn identity_ignores_the_line_but_not_the_key() {
        let a = observe(&[result("R", None, Some(3))], "config");
        let b = observe(&[result("R", None, Some(9))], "config");
        assert_eq!(a[0].identity, b[0].identity);
        assert_ne!(a[0].observed_hash, b[0].observed_hash);
        let c = observe(&[result("R", Some("x"), Some(3))], "config");
        assert_ne!(a[0].identity, c[0].identity);
        assert_eq!((a[0].severity, a[0].vuln_ids.clone()), (4, vec!["R".to_string(), "CWE-250".to_string()]));
        assert!(observe(&[result("R", None, None)], "secret").is_empty());
    }

    #[test]
    fn bad_results_are_refused_with_their_field() {
        let mut bad = result("R", None, None);
        bad.severity = "severe".into();
        assert!(validate(&[bad], 10).unwrap_err().to_string().starts_with("results[0].severity"));
        let mut bad = result("R", None, None);
        bad.source = "package".into();
        assert!(validate(&[bad], 10).is_err());
        assert!(validate(&[result("R", None, None)], 10).is_ok());
    }
}
