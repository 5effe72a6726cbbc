//! The OSV record model (schema 1.x) as Vigil reads it.
//!
//! Lists that feeds write as `null` read as empty. Unknown range types are
//! kept as [`RangeKind::Unknown`] so they can be reported instead of
//! silently dropped. Everything ecosystem- or database-specific is kept as
//! raw JSON for later filtering (unfixed states, RustSec categories).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Reads a list that may be `null` or absent as empty.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// One OSV vulnerability record.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Record {
    /// The record's identifier (`GHSA-...`, `DSA-...`, `RUSTSEC-...`).
    pub id: String,
    /// The schema version the record claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Last modification time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Publication time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Set when the record was withdrawn; such records match nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Other identifiers of the same vulnerability (CVE, GHSA, ...).
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Upstream identifiers this record derives from (OSV 1.6+).
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    /// Related but distinct records.
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Longer description (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Severity vectors or ratings for the whole record.
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    /// The affected packages.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub affected: Vec<Affected>,
    /// Links.
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// Source-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// One affected package with its ranges.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Affected {
    /// The package, when the entry names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageRef>,
    /// Severity specific to this package.
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityEntry>,
    /// Version ranges.
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Enumerated affected versions (an OR with the ranges).
    #[serde(default, deserialize_with = "null_as_empty", skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Ecosystem-specific data (Ubuntu `status`, RustSec `affects`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<Value>,
    /// Database-specific data (RustSec `informational`, Debian urgency, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// The package an affected entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct PackageRef {
    /// OSV ecosystem, with release (`Debian:11`).
    pub ecosystem: String,
    /// Package name as the ecosystem spells it.
    pub name: String,
    /// Package URL, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// The kind of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// Versions ordered by the ecosystem's own scheme.
    Ecosystem,
    /// SemVer 2.0 versions.
    Semver,
    /// Git commits: not evaluable against package versions.
    Git,
    /// A type this version of Vigil does not know.
    #[serde(other)]
    Unknown,
}

/// One range of an affected entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Range {
    /// ECOSYSTEM, SEMVER or GIT.
    #[serde(rename = "type")]
    pub kind: RangeKind,
    /// Repository of a GIT range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The events, in any order.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub events: Vec<Event>,
    /// Source-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<Value>,
}

/// One range event: `introduced`, `fixed` (exclusive), `last_affected`
/// (inclusive) or `limit`; the type range evaluation works on.
pub use vigil_version::Event;

/// A severity vector or rating.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SeverityEntry {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector string or rating word.
    pub score: String,
}

/// A link.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `FIX`, `PACKAGE`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The address.
    pub url: String,
}

impl Affected {
    /// The fix status a source attached to this entry, if any: Ubuntu's
    /// `needed`/`deferred`/`needs-triage`/..., Debian's `no-dsa`/`postponed`,
    /// read from `ecosystem_specific.status` or `database_specific.status`.
    pub fn status(&self) -> Option<&str> {
        [&self.ecosystem_specific, &self.database_specific]
            .into_iter()
            .flatten()
            .find_map(|v| v.get("status").and_then(Value::as_str))
            .filter(|s| !s.is_empty())
    }

    /// RustSec's informational category (`unmaintained`, `unsound`,
    /// `notice`), when this entry is informational rather than a
    /// vulnerability.
    pub fn informational(&self) -> Option<&str> {
        self.database_specific.as_ref()?.get("informational")?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nulls_and_unknown_range_types() {
        let r: Record = serde_json::from_str(
            r#"{"id":"X-1","aliases":null,"affected":[{"package":{"ecosystem":"npm","name":"a"},
            "ranges":[{"type":"WEIRD","events":[{"introduced":"0"}]},{"type":"SEMVER","events":[{"introduced":"0"},{"last_affected":"1.0.0"}]}],
            "ecosystem_specific":{"status":"needed"}}]}"#,
        )
        .unwrap();
        assert!(r.aliases.is_empty());
        assert_eq!(r.affected[0].ranges[0].kind, RangeKind::Unknown);
        assert_eq!(r.affected[0].ranges[1].events[1], Event::LastAffected("1.0.0".into()));
        assert_eq!(r.affected[0].status(), Some("needed"));
    }
}
