//! Severity borrowed from another record about the same CVE, for records
//! that carry none (`Database::borrowed_severity`): the order of
//! preference between record kinds, scores before rating words, and
//! bundles of several CVEs left alone. The records are synthetic, shaped as
//! each source writes them.

use serde_json::json;
use vigil_core::severity::Severity;
use vigil_vulndb::{Database, Limits, NoProgress, import};

/// A database of `records`, each `(id, aliases, severity entries, database_specific)`.
fn database(dir: &std::path::Path, records: &[serde_json::Value]) -> Database {
    let input = dir.join("records");
    std::fs::create_dir_all(&input).unwrap();
    for r in records {
        std::fs::write(input.join(format!("{}.json", r["id"].as_str().unwrap())), r.to_string()).unwrap();
    }
    let db = dir.join("db/vigil.db");
    import(&[input], &db, Limits::default(), &NoProgress).unwrap();
    Database::open(&db).unwrap()
}

fn record(id: &str, aliases: &[&str], severity: serde_json::Value, specific: serde_json::Value) -> serde_json::Value {
    json!({"id": id, "modified": "2024-01-01T00:00:00Z", "aliases": aliases, "severity": severity,
           "database_specific": specific,
           "affected": [{"package": {"ecosystem": "PyPI", "name": id.to_ascii_lowercase()}, "versions": ["1.0"]}]})
}

#[test]
fn the_order_of_preference() {
    let dir = tempfile::tempdir().unwrap();
    let v3 = |vector: &str| json!([{"type": "CVSS_V3", "score": vector}]);
    let critical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"; // 9.8
    let medium = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"; // 4.8
    let db = database(
        dir.path(),
        &[
            record("PYSEC-2020-1", &["CVE-2020-0001"], json!([]), json!({})),
            record("GHSA-aaaa-bbbb-cccc", &["CVE-2020-0001"], v3(medium), json!({})),
            record("UBUNTU-CVE-2020-0001", &["CVE-2020-0001"], v3(critical), json!({})),
            // A second record without a severity, for which only a distribution's rating word exists.
            record("PYSEC-2020-2", &["CVE-2020-0002"], json!([]), json!({})),
            record("UBUNTU-CVE-2020-0002", &["CVE-2020-0002"], json!([]), json!({"priority": "high"})),
            // A bundle naming several CVEs is never used; its rating is that of the worst of them.
            record("PYSEC-2020-3", &["CVE-2020-0003"], json!([]), json!({})),
            record("DSA-9999-1", &["CVE-2020-0003", "CVE-2020-0004"], v3(critical), json!({})),
        ],
    );
    let borrowed = |id: &str, alias: &str| db.borrowed_severity(id, &[alias.to_owned()]).unwrap();
    // GHSA wins over a distribution's record, even one rating it higher.
    let b = borrowed("PYSEC-2020-1", "CVE-2020-0001").unwrap();
    assert_eq!(
        (b.id.as_str(), b.alias.as_str(), b.severity),
        ("GHSA-aaaa-bbbb-cccc", "CVE-2020-0001", Severity::Medium)
    );
    assert_eq!((b.cvss_score, b.source.as_deref()), (Some(4.8), Some("CVSS_V3")));
    let b = borrowed("PYSEC-2020-2", "CVE-2020-0002").unwrap();
    assert_eq!(
        (b.id.as_str(), b.severity, b.source.as_deref()),
        ("UBUNTU-CVE-2020-0002", Severity::High, Some("database_specific.priority"))
    );
    assert_eq!(borrowed("PYSEC-2020-3", "CVE-2020-0003"), None);
    // A record never lends to itself.
    assert_eq!(borrowed("GHSA-aaaa-bbbb-cccc", "CVE-2020-0001").unwrap().id, "UBUNTU-CVE-2020-0001");
}
