//! Scores an OSV record's severity: CVSS vectors first (v3.x preferred, as
//! most gating thresholds are written for it, then v4.0, then v2), parsed
//! and scored; otherwise the source's own rating word (`Ubuntu` severity
//! entries, `database_specific.severity` as GHSA writes it, Ubuntu's
//! `database_specific.priority`). The result names where it came from.

use serde::Serialize;
use serde_json::Value;
use vigil_core::osv::{Record, SeverityEntry};
use vigil_core::severity::Severity;

/// A record's severity and its provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Qualitative severity.
    pub severity: Severity,
    /// CVSS base score, when scored from a vector.
    pub score: Option<f64>,
    /// The vector scored, when any.
    pub vector: Option<String>,
    /// Where it came from: `CVSS_V3`, `CVSS_V4`, `CVSS_V2`, or the rating's
    /// field (`database_specific.severity`, `Ubuntu`, ...).
    pub source: String,
}

/// Preference of a severity entry type; lower is preferred.
fn preference(kind: &str) -> Option<u8> {
    match kind {
        "CVSS_V3" => Some(0),
        "CVSS_V4" => Some(1),
        "CVSS_V2" => Some(2),
        _ => None,
    }
}

/// Parses and scores one CVSS vector; `None` when it is malformed.
pub fn score_vector(vector: &str) -> Option<f64> {
    let parsed: cvss::Cvss = vector.trim().parse().ok()?;
    let score = parsed.score();
    score.is_finite().then_some(score)
}

/// Scores a record. Record-level entries and every affected entry's entries
/// are considered; the preferred CVSS version wins, the highest score within it.
pub fn score_record(record: &Record) -> Option<Scored> {
    let entries: Vec<&SeverityEntry> =
        record.severity.iter().chain(record.affected.iter().flat_map(|a| a.severity.iter())).collect();
    let mut best: Option<(u8, f64, &SeverityEntry)> = None;
    for entry in &entries {
        let Some(pref) = preference(&entry.kind) else {
            continue;
        };
        let Some(score) = score_vector(&entry.score) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((p, s, _)) => pref < p || (pref == p && score > s),
        };
        if better {
            best = Some((pref, score, entry));
        }
    }
    if let Some((_, score, entry)) = best {
        return Some(Scored {
            severity: Severity::from_score(score),
            score: Some(score),
            vector: Some(entry.score.clone()),
            source: entry.kind.clone(),
        });
    }
    // Rating words.
    for entry in &entries {
        if let Some(severity) = Severity::from_rating(&entry.score) {
            return Some(Scored { severity, score: None, vector: None, source: entry.kind.clone() });
        }
    }
    let specific = record.database_specific.as_ref();
    for field in ["severity", "priority"] {
        if let Some(severity) =
            specific.and_then(|d| d.get(field)).and_then(Value::as_str).and_then(Severity::from_rating)
        {
            return Some(Scored { severity, score: None, vector: None, source: format!("database_specific.{field}") });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_every_cvss_version() {
        assert_eq!(score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), Some(9.8));
        assert_eq!(score_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
        let v4 = score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert!((v4 - 9.3).abs() < 1e-9, "{v4}");
        assert_eq!(score_vector("CVSS:3.1/garbage"), None);
    }

    #[test]
    fn prefers_v3_then_falls_back_to_ratings() {
        let r: Record = serde_json::from_str(
            r#"{"id":"A","severity":[{"type":"CVSS_V2","score":"AV:N/AC:L/Au:N/C:C/I:C/A:C"},
                {"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"}]}"#,
        )
        .unwrap();
        let s = score_record(&r).unwrap();
        assert_eq!((s.source.as_str(), s.severity), ("CVSS_V3", Severity::Low));
        let r: Record = serde_json::from_str(r#"{"id":"B","database_specific":{"priority":"negligible"}}"#).unwrap();
        let s = score_record(&r).unwrap();
        assert_eq!((s.source.as_str(), s.severity), ("database_specific.priority", Severity::Low));
    }
}
