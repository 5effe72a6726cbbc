//! `vigil fix-plan` on the cargo-audit lockfile (real crate versions, real
//! RustSec advisories) and on a Debian image: the versions chosen are
//! checked with Vigil's own matcher by scanning the upgraded target again.

use std::path::Path;

use crate::harness::{fixtures, json, stderr, stdout, vigil};

/// A database of the cargo-audit fixture's RustSec advisories.
fn rustsec(dir: &Path) {
    let osv = fixtures().join("cargo-audit/osv");
    let o = vigil(dir, &["db", "import", osv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The plan's steps as (package, from, to).
fn steps(plan: &serde_json::Value) -> Vec<(String, String, String)> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap().to_owned();
            (text("package"), text("from"), text("to"))
        })
        .collect()
}

/// `lock` with each step's package moved to its planned version.
fn upgraded_lockfile(lock: &str, steps: &[(String, String, String)]) -> String {
    let mut text = lock.to_owned();
    for (name, from, to) in steps {
        let old = format!("name = \"{name}\"\nversion = \"{from}\"");
        assert!(text.contains(&old), "{name} {from} not in the lockfile");
        text = text.replace(&old, &format!("name = \"{name}\"\nversion = \"{to}\""));
    }
    text
}

fn vulnerabilities(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "vulnerability")
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["package"]["name"].as_str().unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_lockfile_plan_passes_the_gate_when_scanned_again() {
    let db = tempfile::tempdir().unwrap();
    rustsec(db.path());
    let lock = fixtures().join("cargo-audit/Cargo.lock");
    let o = vigil(db.path(), &["fix-plan", lock.to_str().unwrap(), "--fail-on", "high", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "the plan passes the gate: {}", stderr(&o));
    let plan = json(&o);
    assert_eq!(plan["schema_version"], 1);
    assert_eq!(plan["before"]["gate_findings"], 4);
    assert_eq!(plan["after"]["gate_findings"], 0);
    assert_eq!(plan["failures_after"].as_array().unwrap().len(), 0);
    // Ordered by gate findings removed, then findings removed: hyper's upgrade also removes a medium one.
    let got = steps(&plan);
    let want = [
        ("hyper", "0.14.9", "0.14.10"),
        ("smallvec", "1.6.0", "1.6.1"),
        ("regex", "1.5.4", "1.5.5"),
        ("rustls", "0.20.0", "0.21.11"),
    ];
    assert_eq!(got, want.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned())));
    assert_eq!(plan["steps"][0]["removes"].as_array().unwrap().len(), 2);
    assert_eq!(plan["steps"][0]["severities"]["critical"], 1);
    assert!(plan["optional"].as_array().unwrap().iter().any(|u| u["package"] == "tokio"));

    // Scanning the upgraded lockfile with the same gate passes.
    let dir = tempfile::tempdir().unwrap();
    let upgraded = dir.path().join("Cargo.lock");
    std::fs::write(&upgraded, upgraded_lockfile(&std::fs::read_to_string(&lock).unwrap(), &got)).unwrap();
    let o = vigil(db.path(), &["scan", upgraded.to_str().unwrap(), "--fail-on", "high", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let left = vulnerabilities(&json(&o));
    assert!(!left.iter().any(|(_, p)| ["hyper", "smallvec", "regex", "rustls"].contains(&p.as_str())), "{left:?}");
}

/// Every vulnerability counted (no gate option): tokio's lowest clearing
/// version is 1.18.4, not 1.8.1, the first fix of RUSTSEC-2021-0072 (1.8.1
/// and 1.8.4 are still in RUSTSEC-2021-0124's or RUSTSEC-2023-0001's
/// ranges); owning_ref has no fixed version, so the plan cannot pass the
/// gate and says so with exit code 1.
#[test]
fn the_lowest_clearing_version_is_not_the_first_fix_and_no_fix_is_reported() {
    let db = tempfile::tempdir().unwrap();
    rustsec(db.path());
    let lock = fixtures().join("cargo-audit/Cargo.lock");
    let o = vigil(db.path(), &["fix-plan", lock.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("even after the plan"), "{}", stderr(&o));
    let plan: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let tokio = plan["steps"].as_array().unwrap().iter().find(|s| s["package"] == "tokio").unwrap();
    assert_eq!(tokio["to"], "1.18.4");
    assert_eq!(tokio["skipped"][0]["version"], "1.8.1");
    assert_eq!(tokio["skipped"][0]["fixes"], serde_json::json!(["RUSTSEC-2021-0072"]));
    assert_eq!(tokio["skipped"][0]["still_affected_by"], serde_json::json!(["RUSTSEC-2021-0124", "RUSTSEC-2023-0001"]));
    let removed: Vec<&str> = tokio["removes"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(removed, ["RUSTSEC-2021-0072", "RUSTSEC-2021-0124", "RUSTSEC-2023-0001"]);
    let no_fix = plan["no_fix"].as_array().unwrap();
    assert_eq!(no_fix.len(), 1);
    assert_eq!(no_fix[0]["package"], "owning_ref");
    assert_eq!(no_fix[0]["to"], serde_json::Value::Null);
    assert_eq!(plan["after"]["findings"], 1);

    // Every step applied: the only vulnerability left is the one with no fix.
    let dir = tempfile::tempdir().unwrap();
    let upgraded = dir.path().join("Cargo.lock");
    let text = upgraded_lockfile(&std::fs::read_to_string(&lock).unwrap(), &steps(&plan));
    std::fs::write(&upgraded, text).unwrap();
    let o = vigil(db.path(), &["scan", upgraded.to_str().unwrap(), "--fail-on", "low", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(vulnerabilities(&json(&o)), [("RUSTSEC-2022-0040".to_owned(), "owning_ref".to_owned())]);

    // The table says the same for people.
    let o = vigil(db.path(), &["fix-plan", lock.to_str().unwrap()]);
    let table = stdout(&o);
    assert!(table.contains("tokio (crates.io)"), "{table}");
    assert!(
        table.contains(
            "1.8.1 (fix of RUSTSEC-2021-0072) skipped, still affected by RUSTSEC-2021-0124, RUSTSEC-2023-0001"
        ),
        "{table}"
    );
    assert!(table.contains("No fix available"), "{table}");
    assert!(table.contains("The gate still fails"), "{table}");
}

/// A Debian image: one upgrade of the source package `sudo` moves both of
/// its binary packages; the image rebuilt with them scans clean.
#[test]
fn an_image_plan_upgrades_the_source_package() {
    let db = tempfile::tempdir().unwrap();
    crate::scan::database(db.path());
    let image = |dir: &Path, version: &str| {
        let sudo = format!("Package: sudo\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n");
        let ldap = format!(
            "Package: sudo-ldap\nStatus: install ok installed\nArchitecture: amd64\nSource: sudo\nVersion: {version}\n"
        );
        crate::baseline::image(dir, &format!("{version}.tar"), &[&sudo, &ldap])
    };
    let dir = tempfile::tempdir().unwrap();
    let before = image(dir.path(), "1.8.27-1+deb10u2");
    let o = vigil(db.path(), &["fix-plan", before.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let plan = json(&o);
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{plan}");
    assert_eq!(steps[0]["ecosystem"], "Debian:10");
    assert_eq!(steps[0]["package"], "sudo");
    assert_eq!(steps[0]["from"], "1.8.27-1+deb10u2");
    assert_eq!(steps[0]["to"], "1.8.27-1+deb10u3");
    assert_eq!(steps[0]["installed"], serde_json::json!(["sudo", "sudo-ldap"]));
    assert_eq!(steps[0]["gate_findings"], 2);

    let after = image(dir.path(), steps[0]["to"].as_str().unwrap());
    let o = vigil(
        db.path(),
        &["scan", after.to_str().unwrap(), "--fail-on", "low", "--fail-on-unknown", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(vulnerabilities(&json(&o)).is_empty());
}

#[test]
fn a_plan_needs_the_vulnerability_scanner() {
    let db = tempfile::tempdir().unwrap();
    let lock = fixtures().join("cargo-audit/Cargo.lock");
    let o = vigil(db.path(), &["fix-plan", lock.to_str().unwrap(), "--scanners", "secret", "--offline"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--scanners must include vuln"), "{}", stderr(&o));
}
