//! Cross-check with cargo-audit: on a lockfile of real crate versions with
//! known advisories, and the same RustSec advisories on both sides (the
//! advisory-db in its native layout for cargo-audit, the same advisories
//! as OSV for Vigil), Vigil's vulnerabilities equal cargo-audit's
//! vulnerabilities and its informational findings equal cargo-audit's
//! warnings (unmaintained, unsound, notice; yanked-crate checks need the
//! network and are off).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::harness::{json, stderr, vigil};

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cargo-audit").join(path)
}

/// Copies the advisory-db fixture into a git repository, as cargo-audit wants.
fn advisory_db(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("advisory-db");
    let status = Command::new("cp").arg("-r").arg(fixture("advisory-db")).arg(&db).status().unwrap();
    assert!(status.success());
    for args in [
        vec!["init", "-q"],
        vec!["add", "-A"],
        vec!["-c", "user.email=ci@vigil.invalid", "-c", "user.name=ci", "commit", "-qm", "advisories"],
    ] {
        let out = Command::new("git").args(&args).current_dir(&db).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    db
}

#[test]
fn vigil_agrees_with_cargo_audit() {
    if !Command::new("cargo").args(["audit", "--version"]).output().is_ok_and(|o| o.status.success()) {
        let msg = "cargo-audit is not installed (scripts/test.sh installs it: cargo install cargo-audit --locked)";
        assert!(std::env::var_os("VIGIL_REQUIRE_ORACLES").is_none(), "{msg}");
        // Written past the test harness's output capture, so a skip is seen even when the test passes.
        let _ =
            std::io::Write::write_all(&mut std::io::stderr(), format!("\n!!!!! SKIPPED: {msg} !!!!!\n\n").as_bytes());
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let db = advisory_db(work.path());
    let lock = fixture("Cargo.lock");
    let out = Command::new("cargo")
        .args(["audit", "--no-fetch", "--stale", "--no-yanked", "--json", "--db"])
        .arg(&db)
        .arg("--file")
        .arg(&lock)
        .output()
        .unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("cargo audit output is not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let key = |v: &serde_json::Value| {
        (v["advisory"]["id"].as_str().unwrap().to_owned(), v["package"]["name"].as_str().unwrap().to_owned())
    };
    let audit_vulns: BTreeSet<(String, String)> =
        audit["vulnerabilities"]["list"].as_array().unwrap().iter().map(key).collect();
    let audit_warnings: BTreeSet<(String, String)> = audit["warnings"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(kind, _)| *kind != "yanked")
        .flat_map(|(_, list)| list.as_array().unwrap().iter().map(key))
        .collect();

    let vdb = tempfile::tempdir().unwrap();
    let o = vigil(vdb.path(), &["db", "import", fixture("osv").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = json(&vigil(vdb.path(), &["scan", lock.to_str().unwrap(), "--format", "json"]));
    let of_kind = |kind: &str| -> BTreeSet<(String, String)> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == kind)
            .map(|f| (f["id"].as_str().unwrap().to_owned(), f["package"]["name"].as_str().unwrap().to_owned()))
            .collect()
    };
    assert!(audit_vulns.len() >= 20, "the fixture must exercise many advisories: {audit_vulns:?}");
    assert_eq!(of_kind("vulnerability"), audit_vulns);
    assert!(audit_warnings.len() >= 10, "{audit_warnings:?}");
    assert_eq!(of_kind("informational"), audit_warnings);
}
